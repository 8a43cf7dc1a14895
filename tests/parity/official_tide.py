"""Run tidecv 1.0.1 live, the way its README does: files through ``datasets.COCO`` /
``datasets.COCOResult``, ``TIDE(mode=...).evaluate``, then the main and special errors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TidecvResult:
    ap: float
    main: dict[str, float]
    special: dict[str, float]
    counts: dict[str, int]


def run_tidecv(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
               folder: Path, gt_format: str = "coco") -> TidecvResult:
    """tidecv's breakdown of ``gt`` / ``results`` written as JSON files into ``folder``,
    read by its ``datasets.COCO`` / ``COCOResult`` or ``datasets.LVIS`` / ``LVISResult``."""
    from tidecv import TIDE, FalsePositiveError, datasets

    gt_path, res_path = folder / "gt.json", folder / "results.json"
    gt_path.write_text(json.dumps(gt))
    res_path.write_text(json.dumps(results))
    if gt_format == "lvis":
        truth, preds = datasets.LVIS(str(gt_path)), datasets.LVISResult(str(res_path))
    else:
        truth, preds = datasets.COCO(str(gt_path)), datasets.COCOResult(str(res_path))
    tide = TIDE(mode=TIDE.BOX if iou_type == "bbox" else TIDE.MASK)
    run = tide.evaluate(truth, preds)
    counts = {err.short_name: n for err, n in run.count_errors().items()}
    try:
        main = tide.get_main_errors()[preds.name]
        special = tide.get_special_errors()[preds.name]
    except ZeroDivisionError:  # some fix leaves no class to average: NaN for that one
        main = {err.short_name: _or_nan(lambda e=err: run.fix_main_errors(error_types=[e])[e])
                for err in TIDE._error_types}
        special = {
            "FalsePos": _or_nan(lambda: run.fix_errors(
                transform=FalsePositiveError.fix).get_mAP() - run.ap),
            "FalseNeg": _or_nan(lambda: run.fix_errors(
                false_neg_dict=run.false_negatives).get_mAP() - run.ap),
        }
    return TidecvResult(ap=run.ap, main=main, special=special, counts=counts)


def _or_nan(value: Callable[[], float]) -> float:
    try:
        return value()
    except ZeroDivisionError:
        return math.nan
