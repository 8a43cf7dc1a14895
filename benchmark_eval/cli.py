"""Command line: ``benchmark-eval evaluate | validate | compare PROTOCOL [options]`` and
``benchmark-eval convert CONVERSION [options]`` (``compare`` and ``--ci``:
:mod:`benchmark_eval.cli_stats`).

Exit codes: 0 success, 1 the inputs failed checks, 2 usage or configuration error (an input
named on the command line that does not exist, an output that cannot or must not be
written), 130 interrupted (Ctrl-C). Outputs are checked before any work
(:func:`~benchmark_eval.io.safe.check_output`) and written atomically.
The CLI only parses arguments, dispatches through the registries (the protocol's workflow in
:data:`~benchmark_eval.workflows.WORKFLOWS`, the converter in
:data:`~benchmark_eval.converters.CONVERTERS`) and prints.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import contextlib
import difflib
import sys
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from benchmark_eval.errors import (
    BenchmarkEvalError,
    ConfigError,
    InputError,
    Problem,
    count_problems,
    cut_problems,
)
from benchmark_eval.workflows import WORKFLOWS
from benchmark_eval.workflows.catalog import CATALOG

if TYPE_CHECKING:
    from benchmark_eval.cli_analysis import AnalysisSession
    from benchmark_eval.workflows import Workflow

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# argument dests naming outputs; every other path given is an input (converters check their
# own out_json / out_dir; evaluate's and validate's files are checked here)
_CHECKED_FILES = ("out", "report", "nnunet_summary")
_OUTPUTS = (*_CHECKED_FILES, "out_json", "out_dir", "plots")


def _description() -> str:
    width = max(len(n) for n in CATALOG)
    protocols = "\n".join(f"  {e.name:<{width}}  {e.summary}" for e in CATALOG.values())
    examples = "\n".join(f"  benchmark-eval evaluate {e.name} {e.example}"
                         for e in CATALOG.values() if e.example)
    return f"""\
Score detection and segmentation results with the official tools' numbers.

protocols:
{protocols}

examples:
{examples}
  benchmark-eval evaluate coco-bbox --gt gt.json --pred bbox.json --out report.json
  benchmark-eval validate coco-segm --gt gt.json --pred submission.json
  benchmark-eval evaluate coco-bbox --gt gt.json --pred bbox.json --ci 0.95
  benchmark-eval compare coco-bbox --gt gt.json --pred a.json --pred b.json
  benchmark-eval evaluate PROTOCOL --help     (the protocol's own options)

exit codes: 0 success, 1 the inputs failed checks, 2 usage error (including inputs not
found and outputs that must not be written), 130 interrupted
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with a "did you mean ...?" for a mistyped protocol, conversion or choice."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is not None and value not in choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
            if close:
                listed = ", ".join(repr(c) for c in choices)
                raise argparse.ArgumentError(action, f"invalid choice: {value!r}; did you mean"
                                                     f" {close[0]!r}? (choose from {listed})")
        super()._check_value(action, value)


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show program's version number and exit", **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from importlib import metadata

        try:
            version = metadata.version("benchmark-eval")
        except metadata.PackageNotFoundError:  # a source tree that is not installed
            from benchmark_eval import __version__ as version
        print(f"{parser.prog} {version}", file=sys.stdout)  # as argparse's "version" action
        parser.exit()


_COMPARE_HELP = "is B better than A? paired bootstrap over the same images"


def _compare_parser(sub: Any, argv: Collection[str]) -> None:
    """``compare``: listed always, built (stats imported) only when it is the command."""
    if "compare" not in argv:
        sub.add_parser("compare", help=_COMPARE_HELP)
        return
    from benchmark_eval import cli_stats

    cli_stats.add_compare_parser(sub, argv, help=_COMPARE_HELP)


def _parser(argv: Collection[str]) -> argparse.ArgumentParser:
    """The whole command line; only the protocols and conversions named in ``argv`` get
    their own options (and have their family modules imported), so ``--help`` and a run
    of one protocol stay cheap."""
    parser = _Parser(prog="benchmark-eval", description=_description(),
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ev = sub.add_parser(
        "evaluate", help="score predictions against ground truth",
        description="Score predictions and print the official summary, then a per-class"
                    " table. Stops at the first invalid input with exit code 1.")
    va = sub.add_parser(
        "validate", help="check a submission without scoring it",
        description="Check the ground truth and the predictions (unknown ids, bad scores,"
                    " malformed masks, wrong sizes...) and count every problem: the first"
                    " 20 are printed; --out writes them all as JSON (past 20 of one kind, a"
                    " record counts the rest: its 'hidden'). Exit 0 when clean, 1 when"
                    " problems were found.")
    for command, evaluate in ((ev, True), (va, False)):
        if command.prog.split()[-1] not in argv:
            continue
        protocols = command.add_subparsers(dest="protocol", required=True, metavar="PROTOCOL",
                                           help=", ".join(CATALOG))
        for e in CATALOG.values():
            p = protocols.add_parser(e.name, help=e.summary, description=e.summary)
            if e.name in argv:
                from benchmark_eval import cli_stats
                from benchmark_eval.cli_analysis import add_analysis_arguments

                WORKFLOWS[e.name].add_arguments(p, evaluate)
                _common_arguments(p, evaluate)
                add_analysis_arguments(p, e.name, evaluate)
                if evaluate:
                    cli_stats.add_ci_arguments(p)
    _compare_parser(sub, argv)
    cv = sub.add_parser("convert", help="convert between COCO instances, COCO panoptic,"
                                        " semantic label PNGs and Cityscapes gtFine",
                        description="Convert annotations or predictions between formats."
                                    " Exit 0 on success, 1 when the inputs failed checks.")
    if "convert" not in argv:
        return parser
    from benchmark_eval.converters import CONVERTERS

    kinds = cv.add_subparsers(dest="conversion", required=True, metavar="CONVERSION",
                              help=", ".join(CONVERTERS))
    for c in CONVERTERS.values():
        text = f"{c.summary}. {c.details}" if c.details else c.summary
        c.add_arguments(kinds.add_parser(c.name, help=c.summary, description=text))
    return parser


def _common_arguments(p: argparse.ArgumentParser, evaluate: bool) -> None:
    # the options layer: every protocol takes a preset and a worker count
    p.add_argument("--config", metavar="PRESET",
                   help="parameters: a bundled preset's name or a JSON file; the official"
                        " preset by default")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="processes to use (default 0: all cores)")
    p.add_argument("--executor", choices=("local", "dask"), default=None,
                   help="where shards run: this machine's process pool (default) or a Dask"
                        " cluster (needs the [dask] extra)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --executor dask: the scheduler to connect to (default: start a"
                        " LocalCluster on this machine)")
    if evaluate:
        p.add_argument("--out", type=Path, metavar="REPORT.json",
                       help="also write the JSON report (fractions, null where undefined)")
        p.add_argument("--strict", action="store_true",
                       help="refuse (exit 1) what the official tool silently drops or"
                            " reinterprets, instead of a warning: the leaderboard mode")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--no-per-class", action="store_true", help="omit per-class tables")
    else:
        p.add_argument("--out", type=Path, metavar="PROBLEMS.json",
                       help="also write every problem found as JSON")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing --out file (never an input)")


class _ProgressBar:
    """A one-line progress bar on a terminal stream."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label = stream, label
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        frac = done / total if total else 1.0
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        elapsed = time.monotonic() - self.start
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} images {elapsed:5.1f}s")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _print_problems(problems: Sequence[Problem], stream: TextIO) -> None:
    for p in cut_problems(problems, kind="problems"):
        print(f"  {p}", file=stream)


def _contract_options(w: Workflow, args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    options = w.cli_options(args, evaluate)
    if args.config is not None:
        options["params"] = args.config
    if not evaluate:
        options["workers"] = args.workers
    elif args.strict:
        options["strict"] = True
    if args.executor is not None or args.scheduler is not None:
        options["executor"] = args.executor or "dask"
        options["scheduler"] = args.scheduler
    return options


def _check_paths(args: argparse.Namespace) -> None:
    """Before any work: every input path given exists, and ``--out`` can be written (its
    folder exists, it is not a folder nor an input, it does not exist unless ``--force``).

    Raises:
        ConfigError: Exit code 2.
    """
    from benchmark_eval.io.safe import check_output

    given = vars(args)
    inputs = [v for k, v in given.items() if isinstance(v, Path) and k not in _OUTPUTS]
    for path in inputs:
        if not path.exists():
            raise ConfigError(f"{path}: no such file or folder")
    # the PNG folder a panoptic JSON implies (panopticapi's default) is an input too
    inputs += [p.with_suffix("") for p in inputs if p.suffix == ".json"
               and p.with_suffix("").is_dir()]
    force = bool(given.get("force"))
    for name in _CHECKED_FILES:
        if isinstance(given.get(name), Path):
            check_output(given[name], inputs=inputs, force=force)
    if isinstance(given.get("plots"), Path):  # a folder of PNG and SVG files
        check_output(given["plots"], inputs=inputs, force=True, folder=True)


def _evaluate(w: Workflow, args: argparse.Namespace, out: TextIO,
              err: TextIO) -> int:
    from benchmark_eval import cli_stats
    from benchmark_eval.cli_analysis import AnalysisSession
    from benchmark_eval.masks import missing_kernels

    options = _contract_options(w, args, True) | cli_stats.ci_options(args)
    session = AnalysisSession(w.name, args)
    options.update(session.options())
    missing = missing_kernels()
    if missing:
        print(f"warning: C kernels not compiled ({', '.join(missing)}): their numpy"
              " fallbacks give the same numbers, slower", file=err)
    bar = None if args.quiet or not err.isatty() else _ProgressBar(err, w.name)
    try:
        result = w.evaluate(workers=args.workers, progress=bar, **options)
    finally:
        if bar is not None:
            bar.close()
    print(result.render(per_class=not args.no_per_class), file=out)
    for line in getattr(result, "ci_lines", list)():
        print(line, file=out)
    for warning in result.warnings:
        print(f"warning: {warning}", file=err)
    _finish_analyses(session, result, out)
    if args.out is not None:
        from benchmark_eval.io.jsonfile import write_json

        write_json(args.out, {**result.to_report(), **session.report_keys()})
    session.write(result)
    return EXIT_OK


def _finish_analyses(session: AnalysisSession, result: Any, out: TextIO) -> None:
    """The analyses that need only the result; the TIDE tables after the summary."""
    session.after(result)
    if session.analyses.tide is not None:
        print("", file=out)
        print(session.analyses.tide.render(), file=out)


def _validate(w: Workflow, args: argparse.Namespace, out: TextIO) -> int:
    problems = w.validate(**_contract_options(w, args, False))
    if args.out is not None:
        from benchmark_eval.io.jsonfile import write_json

        write_json(args.out, [
            {"file": p.file, "field": p.field, "record": p.record, "message": p.message}
            | ({"hidden": p.hidden} if p.hidden else {})
            for p in problems
        ])
    if not problems:
        print(f"OK: the predictions are a valid {w.name} submission", file=out)
        return EXIT_OK
    print(f"{count_problems(problems)} problem(s) found:", file=out)
    _print_problems(problems, out)
    return EXIT_INPUT


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 bad input, 2 usage)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:  # argparse prints help and usage errors itself: send them to our streams
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            words = sys.argv[1:] if argv is None else argv
            args = _parser(set(words)).parse_args(words)
    except SystemExit as exc:  # --help exits 0, usage errors exit 2
        return int(exc.code or 0)
    try:
        _check_paths(args)
        if args.command == "convert":
            from benchmark_eval.converters import CONVERTERS

            print(CONVERTERS[args.conversion].run(args), file=out)
            return EXIT_OK
        w = WORKFLOWS[args.protocol]
        if args.command == "evaluate":
            return _evaluate(w, args, out, err)
        if args.command == "compare":
            from benchmark_eval import cli_stats

            cli_stats.run_compare(args, out)
            return EXIT_OK
        return _validate(w, args, out)
    except KeyboardInterrupt:  # the pool's workers ignore SIGINT and are terminated
        print("interrupted", file=err)
        return EXIT_INTERRUPTED
    except InputError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input:", file=err)
        _print_problems(exc.problems, err)
        return EXIT_INPUT
    except ConfigError as exc:  # one line, whatever the message (pydantic's span several)
        print("error: " + " ".join(str(exc).split()), file=err)
        return EXIT_USAGE
    except BenchmarkEvalError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INPUT
    except OSError as exc:  # e.g. a disk full while writing: no traceback
        print(f"error: {exc}", file=err)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
