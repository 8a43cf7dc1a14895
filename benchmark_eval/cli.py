"""Command line: ``benchmark-eval evaluate | validate PROTOCOL [options]`` and
``benchmark-eval convert CONVERSION [options]``.

Exit codes: 0 success, 1 the inputs failed checks, 2 usage or configuration error.
The CLI only parses arguments, calls the protocol's workflow and prints.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from benchmark_eval.convert_cityscapes import CLI_CONVERSIONS as CITYSCAPES_CONVERSIONS
from benchmark_eval.convert_cityscapes import add_cli_parsers as add_cityscapes_parsers
from benchmark_eval.convert_cityscapes import run_cli as run_cityscapes_conversion
from benchmark_eval.errors import BenchmarkEvalError, ConfigError, InputError, Problem
from benchmark_eval.io.jsonfile import write_json
from benchmark_eval.workflows import WORKFLOWS, LegacyWorkflow, Workflow

# Conversions of ``benchmark-eval convert``: name -> one-line help
_CONVERSIONS = {
    "instances-to-panoptic": "COCO instances (+ stuff) -> COCO panoptic JSON + PNGs",
    "panoptic-to-instances": "COCO panoptic -> COCO instances with RLE masks",
    "panoptic-to-semantic": "COCO panoptic -> semantic label PNGs (category id per pixel)",
    **CITYSCAPES_CONVERSIONS,
}

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
_MAX_SHOWN = 50


def _description() -> str:
    width = max(len(n) for n in WORKFLOWS)
    protocols = "\n".join(f"  {w.name:<{width}}  {w.summary}" for w in WORKFLOWS.values())
    examples = "\n".join(f"  benchmark-eval evaluate {w.name} {w.example}"
                         for w in WORKFLOWS.values() if w.example)
    return f"""\
Score detection and segmentation results with the official tools' numbers.

protocols:
{protocols}

examples:
{examples}
  benchmark-eval evaluate coco-bbox --gt gt.json --pred bbox.json --out report.json
  benchmark-eval validate coco-segm --gt gt.json --pred submission.json
  benchmark-eval evaluate PROTOCOL --help     (the protocol's own options)

exit codes: 0 success, 1 the inputs failed checks, 2 usage error
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmark-eval", description=_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ev = sub.add_parser(
        "evaluate", help="score predictions against ground truth",
        description="Score predictions and print the official summary, then a per-class"
                    " table. Stops at the first invalid input with exit code 1.")
    va = sub.add_parser(
        "validate", help="check a submission without scoring it",
        description="List every problem in the ground truth and the predictions (unknown"
                    " ids, bad scores, malformed masks, wrong sizes...). Exit 0 when clean,"
                    " 1 when problems were found.")
    for command, evaluate in ((ev, True), (va, False)):
        protocols = command.add_subparsers(dest="protocol", required=True, metavar="PROTOCOL",
                                           help=", ".join(WORKFLOWS))
        for w in WORKFLOWS.values():
            p = protocols.add_parser(w.name, help=w.summary, description=w.summary)
            w.add_arguments(p, evaluate)
            _common_arguments(p, evaluate, isinstance(w, Workflow))
    _convert_parser(sub)
    return parser


def _convert_parser(sub: argparse._SubParsersAction) -> None:
    from benchmark_eval.convert import OVERLAP_RULES

    cv = sub.add_parser("convert", help="convert between COCO instances, COCO panoptic and"
                                        " semantic label PNGs",
                        description="Convert annotations or predictions between formats."
                                    " Exit 0 on success, 1 when the inputs failed checks.")
    kinds = cv.add_subparsers(dest="conversion", required=True, metavar="CONVERSION",
                              help=", ".join(_CONVERSIONS))
    a = kinds.add_parser("instances-to-panoptic", help=_CONVERSIONS["instances-to-panoptic"],
                         description=_CONVERSIONS["instances-to-panoptic"] + ". Instance"
                         " categories become things, stuff categories stuff (unless the"
                         " records carry 'isthing'); segment ids are 1, 2, ... per image.")
    a.add_argument("--instances", required=True, type=Path, metavar="INSTANCES.json",
                   help="COCO instances dataset, or a results list (then give --images)")
    a.add_argument("--stuff", type=Path, metavar="STUFF.json",
                   help="COCO-format stuff annotations on the same images")
    a.add_argument("--images", type=Path, metavar="GT.json",
                   help="for a results list: the COCO dataset it refers to (images,"
                        " categories)")
    a.add_argument("--overlap", choices=OVERLAP_RULES, default="error",
                   help="pixels claimed by several masks: 'error' (default) lists them;"
                        " 'first-wins' keeps the first listed; 'higher-score-wins' the"
                        " higher score (results); 'smaller-wins' the smaller mask")
    a.add_argument("--out", required=True, type=Path, metavar="PANOPTIC.json")
    a.add_argument("--out-dir", type=Path, metavar="DIR",
                   help="PNG folder (default: PANOPTIC.json without .json)")
    b = kinds.add_parser("panoptic-to-instances", help=_CONVERSIONS["panoptic-to-instances"],
                         description=_CONVERSIONS["panoptic-to-instances"] + ": one"
                         " annotation per segment, crowd flags and JSON areas kept.")
    c = kinds.add_parser("panoptic-to-semantic", help=_CONVERSIONS["panoptic-to-semantic"],
                         description=_CONVERSIONS["panoptic-to-semantic"] + "; one PNG per"
                         " image, named like the panoptic PNG (8-bit, or 16-bit when an id"
                         " exceeds 255).")
    for p in (b, c):
        p.add_argument("--panoptic", required=True, type=Path, metavar="PANOPTIC.json")
        p.add_argument("--panoptic-dir", type=Path, metavar="DIR",
                       help="PNG folder (default: PANOPTIC.json without .json)")
    b.add_argument("--out", required=True, type=Path, metavar="INSTANCES.json")
    b.add_argument("--things-only", action="store_true", help="leave stuff segments out")
    c.add_argument("--out-dir", required=True, type=Path, metavar="DIR")
    c.add_argument("--void", type=int, default=0, metavar="VALUE",
                   help="label of VOID pixels (default 0, as panopticapi's converter)")
    add_cityscapes_parsers(kinds)


def _convert(args: argparse.Namespace, out: TextIO) -> int:
    from benchmark_eval import convert

    if args.conversion in CITYSCAPES_CONVERSIONS:
        run_cityscapes_conversion(args, out)
        return EXIT_OK
    if args.conversion == "instances-to-panoptic":
        done = convert.convert_instances_to_panoptic(
            args.instances, args.out, out_dir=args.out_dir, stuff=args.stuff,
            images=args.images, overlap=args.overlap)
        print(f"wrote {args.out}: {done['images']} images, {done['segments']} segments;"
              f" PNGs in {done['png_dir']}" + (f"; {done['dropped']} masks lost every pixel"
                                               if done["dropped"] else ""), file=out)
    elif args.conversion == "panoptic-to-instances":
        done = convert.convert_panoptic_to_instances(
            args.panoptic, args.out, panoptic_dir=args.panoptic_dir,
            things_only=args.things_only)
        print(f"wrote {args.out}: {done['images']} images, {done['annotations']} annotations",
              file=out)
    else:
        done = convert.convert_panoptic_to_semantic(
            args.panoptic, args.out_dir, panoptic_dir=args.panoptic_dir, void=args.void)
        print(f"wrote {done['images']} label PNGs to {done['out_dir']}", file=out)
    return EXIT_OK


def _common_arguments(p: argparse.ArgumentParser, evaluate: bool, contract: bool) -> None:
    if contract:  # the options layer: every protocol takes a preset and a worker count
        p.add_argument("--config", metavar="PRESET",
                       help="parameters: a bundled preset's name or a JSON file; the"
                            " official preset by default")
        p.add_argument("--workers", type=int, default=0, metavar="N",
                       help="processes to use (default 0: all cores)")
    if evaluate:
        p.add_argument("--out", type=Path, metavar="REPORT.json",
                       help="also write the JSON report (fractions, null where undefined)")
        if not contract:
            p.add_argument("--workers", type=int, default=0, metavar="N",
                           help="processes to use (default 0: all cores)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--no-per-class", action="store_true", help="omit per-class tables")
    else:
        p.add_argument("--out", type=Path, metavar="PROBLEMS.json",
                       help="also write the problems as JSON")


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
    for p in list(problems)[:_MAX_SHOWN]:
        print(f"  {p}", file=stream)
    if len(problems) > _MAX_SHOWN:
        print(f"  ... and {len(problems) - _MAX_SHOWN} more", file=stream)


def _contract_options(w: Workflow | LegacyWorkflow, args: argparse.Namespace,
                      evaluate: bool) -> dict[str, Any]:
    options = w.cli_options(args, evaluate)
    if isinstance(w, Workflow):
        if args.config is not None:
            options["params"] = args.config
        if not evaluate:
            options["workers"] = args.workers
    return options


def _evaluate(w: Workflow | LegacyWorkflow, args: argparse.Namespace, out: TextIO,
              err: TextIO) -> int:
    options = _contract_options(w, args, True)
    bar = None if args.quiet or not err.isatty() else _ProgressBar(err, w.name)
    try:
        result = w.evaluate(workers=args.workers, progress=bar, **options)
    finally:
        if bar is not None:
            bar.close()
    print(result.render(per_class=not args.no_per_class), file=out)
    for warning in result.warnings:
        print(f"warning: {warning}", file=err)
    if args.out is not None:
        write_json(args.out, result.to_report())
    return EXIT_OK


def _validate(w: Workflow | LegacyWorkflow, args: argparse.Namespace, out: TextIO) -> int:
    problems = w.validate(**_contract_options(w, args, False))
    if args.out is not None:
        write_json(args.out, [
            {"file": p.file, "field": p.field, "record": p.record, "message": p.message}
            for p in problems
        ])
    if not problems:
        print(f"OK: the predictions are a valid {w.name} submission", file=out)
        return EXIT_OK
    print(f"{len(problems)} problem(s) found:", file=out)
    _print_problems(problems, out)
    return EXIT_INPUT


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 bad input, 2 usage)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:  # argparse prints help and usage errors itself: send them to our streams
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help exits 0, usage errors exit 2
        return int(exc.code or 0)
    try:
        if args.command == "convert":
            return _convert(args, out)
        w = WORKFLOWS[args.protocol]
        if args.command == "evaluate":
            return _evaluate(w, args, out, err)
        return _validate(w, args, out)
    except InputError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input:", file=err)
        _print_problems(exc.problems, err)
        return EXIT_INPUT
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except BenchmarkEvalError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
