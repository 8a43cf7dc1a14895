"""Run pycocotools 2.0.11 ``COCOeval`` live on in-memory data, for comparison in tests.

pycocotools mutates its inputs (``loadRes`` adds ids and areas, ``evaluate`` rewrites
segmentations), so every run works on deep copies. It prints progress; that output is
captured here, and the 12 summary lines it prints are returned for format comparisons.
"""

from __future__ import annotations

__all__ = ["Live", "run_pycocotools"]

import contextlib
import copy
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from benchmark_eval import CocoParams


@dataclass(frozen=True)
class Live:
    """What pycocotools computed.

    Attributes:
        stats: ``COCOeval.stats``, shape ``(12,)``.
        precision: ``eval["precision"]``, ``(T, R, K, A, M)``.
        recall: ``eval["recall"]``, ``(T, K, A, M)``.
        scores: ``eval["scores"]``, ``(T, R, K, A, M)``.
        category_ids: The K axis.
        lines: The 12 lines ``summarize()`` printed.
    """

    stats: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    category_ids: list[int]
    lines: list[str]


def run_pycocotools(
    gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
    params: CocoParams | None = None,
) -> Live:
    """Evaluate ``results`` against ``gt`` with pycocotools (``iou_type`` "bbox" or "segm")."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        if params is not None:
            ev.params.iouThrs = np.asarray(params.iou_thresholds, dtype=np.float64)
            ev.params.recThrs = np.asarray(params.recall_thresholds, dtype=np.float64)
            ev.params.maxDets = list(params.max_detections)
            ev.params.areaRng = [[a.lo, a.hi] for a in params.area_ranges]
            ev.params.areaRngLbl = [a.label for a in params.area_ranges]
            ev.params.useCats = 0 if params.class_agnostic else 1
        ev.evaluate()
        ev.accumulate()
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        ev.summarize()
    return Live(
        stats=np.asarray(ev.stats, dtype=np.float64),
        precision=ev.eval["precision"], recall=ev.eval["recall"], scores=ev.eval["scores"],
        category_ids=list(ev.params.catIds), lines=summary.getvalue().splitlines(),
    )
