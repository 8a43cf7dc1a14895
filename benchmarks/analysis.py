"""Cost of the error analyses at COCO val scale (``--analysis`` / ``--plots`` / ``--report``).

Generates (or reuses) the synthetic set of ``coco_data.py``, evaluates it once with the
``analyses`` hook (so the analyses get the loaded data, as on the CLI), then times each
analysis on its own, the plots and the HTML page. Numbers are printed, never asserted; the
last measurement is in ``docs/analysis.md``.

Usage: ``python benchmarks/analysis.py [--images 5000] [--seed 0] [--det-scale 0.4]
[--iou-type bbox|segm|both]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from coco_data import ensure_dataset  # noqa: E402

from benchmark_eval import evaluate  # noqa: E402
from benchmark_eval.analysis import (  # noqa: E402
    calibration,
    detection_confusion,
    image_diagnostics,
    pr_curves,
    tide_breakdown,
)
from benchmark_eval.analysis.run import instance_analyses  # noqa: E402


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    out = fn()
    print(f"  {label:<28} {time.perf_counter() - start:6.2f} s", flush=True)
    return out


def run(iou_type: str, gt: Path, pred: Path) -> None:
    """Evaluate once (inputs captured by the hook), then time every analysis."""
    got: dict[str, Any] = {}
    print(f"coco-{iou_type}")
    result = _timed("evaluate (read, match)", lambda: evaluate(
        f"coco-{iou_type}", gt=gt, pred=pred, workers=1,
        analyses=lambda r, inputs: got.setdefault("inputs", inputs)))
    inputs = got["inputs"]
    _timed("TIDE breakdown", lambda: tide_breakdown(inputs.dataset, inputs.preds,
                                                    iou_type=iou_type))
    _timed("confusion matrix + P/R/F1", lambda: detection_confusion(
        inputs.dataset, inputs.preds, iou_type=iou_type))
    _timed("PR curves", lambda: pr_curves(result))
    _timed("calibration", lambda: calibration(result))
    _timed("per-image diagnostics", lambda: image_diagnostics(result, inputs.gt_images))
    analyses = instance_analyses(result, inputs, tide=True)
    from benchmark_eval.report import plots
    from benchmark_eval.report.html import render_html

    _, svgs = _timed("plots (PNG + SVG)", lambda: plots.rendered(result, analyses))
    _timed("HTML page", lambda: render_html(result, analyses, svgs=svgs))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--det-scale", type=float, default=0.4)
    ap.add_argument("--iou-type", choices=("bbox", "segm", "both"), default="both")
    args = ap.parse_args(argv)
    paths = ensure_dataset(args.images, args.seed, det_scale=args.det_scale)
    for iou_type in (("bbox", "segm") if args.iou_type == "both" else (args.iou_type,)):
        run(iou_type, paths.gt, paths.segm if iou_type == "segm" else paths.bbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
