"""The drop-in path timed: a pycocotools-style script (COCO -> loadRes -> COCOeval ->
evaluate / accumulate / summarize) on ``benchmark_eval.compat``, against the same script on
pycocotools and against ``benchmark_eval.evaluate``. Each run is in-process, after the data
set exists (``coco_data.py``); the stats of all three are checked equal.

Usage: ``python benchmarks/compat_coco.py [--images 1000] [--iou-type segm|bbox]
[--skip-official]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from coco_data import ensure_dataset


def _script(coco_cls: Any, eval_cls: Any, gt: str, pred: str, iou: str) -> np.ndarray:
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco_cls(gt)
        ev = eval_cls(coco_gt, coco_gt.loadRes(pred), iou)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


def _timed(run: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    tic = time.perf_counter()
    stats = run()
    return time.perf_counter() - tic, stats


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line per path: seconds and the largest stats difference."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--iou-type", choices=("segm", "bbox"), default="segm")
    ap.add_argument("--skip-official", action="store_true")
    args = ap.parse_args(argv)
    paths = ensure_dataset(args.images)
    gt, pred, iou = str(paths.gt), str(paths.pred(args.iou_type)), args.iou_type

    import benchmark_eval
    from benchmark_eval import compat

    runs: dict[str, Callable[[], np.ndarray]] = {
        "benchmark_eval.evaluate, 1 process": lambda: benchmark_eval.evaluate(
            f"coco-{iou}", gt=gt, pred=pred, workers=1).stats,
        "benchmark_eval.compat COCOeval": lambda: _script(compat.COCO, compat.COCOeval, gt,
                                                          pred, iou),
    }
    if not args.skip_official:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        runs["pycocotools"] = lambda: _script(COCO, COCOeval, gt, pred, iou)
    reference = None
    for name, run in runs.items():
        seconds, stats = _timed(run)
        reference = stats if reference is None else reference
        print(f"{iou} {name}: {seconds:.2f} s, max |stats diff| "
              f"{float(np.abs(stats - reference).max()):.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
