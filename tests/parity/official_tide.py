"""Run tidecv 1.0.1 live, the way its README does: files through ``datasets.COCO`` /
``datasets.COCOResult``, ``TIDE(mode=...).evaluate``, then the main and special errors."""

from __future__ import annotations

import json
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
               folder: Path) -> TidecvResult:
    """tidecv's breakdown of ``gt`` / ``results`` written as JSON files into ``folder``."""
    from tidecv import TIDE, datasets

    gt_path, res_path = folder / "gt.json", folder / "results.json"
    gt_path.write_text(json.dumps(gt))
    res_path.write_text(json.dumps(results))
    truth, preds = datasets.COCO(str(gt_path)), datasets.COCOResult(str(res_path))
    tide = TIDE(mode=TIDE.BOX if iou_type == "bbox" else TIDE.MASK)
    run = tide.evaluate(truth, preds)
    return TidecvResult(
        ap=run.ap,
        main=tide.get_main_errors()[preds.name],
        special=tide.get_special_errors()[preds.name],
        counts={err.short_name: n for err, n in run.count_errors().items()},
    )
