"""Command line: ``benchmark-eval evaluate | validate``.

Exit codes: 0 success, 1 the inputs failed checks, 2 usage or configuration error.
The CLI only parses arguments, calls the API and prints; it holds no metric code.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from benchmark_eval.api import PROTOCOLS, evaluate
from benchmark_eval.errors import BenchmarkEvalError, ConfigError, InputError
from benchmark_eval.io.jsonfile import read_json, write_json
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.report.coco import coco_per_class_table, coco_summary_lines
from benchmark_eval.validate import validate

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
_MAX_SHOWN = 50

_DESCRIPTION = """\
Score detection and segmentation results with the official tools' numbers.

protocols:
  coco-bbox   COCO box AP/AR (pycocotools COCOeval, iouType='bbox')
  coco-segm   COCO mask AP/AR (pycocotools COCOeval, iouType='segm')

examples:
  benchmark-eval evaluate coco-segm --gt instances_val2017.json --pred segm.json
  benchmark-eval evaluate coco-bbox --gt gt.json --pred bbox.json --out report.json
  benchmark-eval validate coco-segm --gt gt.json --pred submission.json

exit codes: 0 success, 1 the inputs failed checks, 2 usage error
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmark-eval", description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ev = sub.add_parser(
        "evaluate", help="score predictions against ground truth",
        description="Score predictions and print pycocotools' 12-line summary, then a"
                    " per-class table. Stops at the first invalid input with exit code 1.")
    va = sub.add_parser(
        "validate", help="check a submission without scoring it",
        description="List every problem in the ground truth and the predictions (unknown"
                    " ids, bad scores, malformed masks, wrong sizes...). Exit 0 when clean,"
                    " 1 when problems were found.")
    for p in (ev, va):
        p.add_argument("protocol", choices=PROTOCOLS, help="evaluation protocol")
        p.add_argument("--gt", required=True, type=Path, metavar="GT.json",
                       help="COCO instance ground truth")
        p.add_argument("--pred", required=True, type=Path, metavar="RESULTS.json",
                       help="COCO results file (a JSON list of detections)")
    ev.add_argument("--out", type=Path, metavar="REPORT.json",
                    help="also write the JSON report here (fractions, null where undefined)")
    ev.add_argument("--config", type=Path, metavar="PARAMS.json",
                    help="protocol parameters (see configs/); the official preset by default")
    ev.add_argument("--workers", type=int, default=0, metavar="N",
                    help="processes for matching (default 0: all cores)")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.add_argument("--no-per-class", action="store_true", help="omit the per-class table")
    va.add_argument("--out", type=Path, metavar="PROBLEMS.json",
                    help="also write the problems as JSON")
    return parser


class _ProgressBar:
    """A one-line progress bar on a terminal stream; silent when not a terminal."""

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


def _print_problems(problems: Sequence[object], stream: TextIO) -> None:
    for p in list(problems)[:_MAX_SHOWN]:
        print(f"  {p}", file=stream)
    if len(problems) > _MAX_SHOWN:
        print(f"  ... and {len(problems) - _MAX_SHOWN} more", file=stream)


def _load_params(path: Path | None) -> CocoParams | None:
    if path is None:
        return None
    try:
        data = read_json(path)
    except InputError as exc:
        raise ConfigError(f"cannot use --config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object of parameters")
    data = {k: v for k, v in data.items() if k not in ("protocol", "description")}
    try:
        return CocoParams(**data)
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid parameters: {exc}") from exc


def _evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    params = _load_params(args.config)
    bar = None if args.quiet or not err.isatty() else _ProgressBar(err, args.protocol)
    try:
        result = evaluate(args.protocol, gt=args.gt, pred=args.pred, params=params,
                          workers=args.workers, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    print("\n".join(coco_summary_lines(result)), file=out)
    if not args.no_per_class:
        print("", file=out)
        print("\n".join(coco_per_class_table(result)), file=out)
    for w in result.warnings:
        print(f"warning: {w}", file=err)
    if args.out is not None:
        write_json(args.out, result.to_report())
    return EXIT_OK


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    problems = validate(args.protocol, gt=args.gt, pred=args.pred)
    if args.out is not None:
        write_json(args.out, [
            {"file": p.file, "field": p.field, "record": p.record, "message": p.message}
            for p in problems
        ])
    if not problems:
        print(f"OK: {args.pred} is a valid {args.protocol} submission for {args.gt}", file=out)
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
        if args.command == "evaluate":
            return _evaluate(args, out, err)
        return _validate(args, out, err)
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
