"""Run cityscapesScripts 2.3.0 ``evalPixelLevelSemanticLabeling`` live on label-id maps.

The maps are written as PNGs under a caller-given folder and scored with the module's own
``evaluateImgLists`` (which calls ``evaluatePair``, ``getIouScoreForLabel`` and
``getScoreAverage``) on a private copy of its argument object: quiet, no JSON export, no
instance-level score (iIoU needs ``*_instanceIds.png`` files and belongs to the Cityscapes
protocol), no pixel accuracy. Those two switches are also the only code paths that use
``np.in1d`` (removed in numpy 2.4), so no alias is needed. Its maths is used as shipped.
"""

from __future__ import annotations

__all__ = ["CityscapesPixelResult", "run_cityscapes_pixel_eval"]

import copy
import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

_ENV = ("CITYSCAPES_DATASET", "CITYSCAPES_RESULTS", "CITYSCAPES_EXPORT_DIR")


@dataclass(frozen=True)
class CityscapesPixelResult:
    """What the official evaluation returned.

    Attributes:
        class_scores: Label name -> IoU (NaN for ignored or undefined classes).
        average: ``averageScoreClasses``.
        confusion: The ``(34, 34)`` label-id confusion matrix (rows GT, columns prediction).
    """

    class_scores: dict[str, float]
    average: float
    confusion: np.ndarray


def _module() -> ModuleType:
    # the module reads CITYSCAPES_* at import (and raises on a bad export dir): import it
    # with those unset, so the machine's environment cannot change what is run
    saved = {k: os.environ.pop(k) for k in _ENV if k in os.environ}
    try:
        return importlib.import_module(
            "cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")
    finally:
        os.environ.update(saved)


def run_cityscapes_pixel_eval(pairs: list[tuple[str, np.ndarray, np.ndarray]],
                              folder: Path) -> CityscapesPixelResult:
    """Score ``(name, gt_ids, pred_ids)`` maps with the official pixel-level evaluation."""
    ev = _module()
    args = copy.copy(ev.args)
    args.quiet = True
    args.JSONOutput = False
    args.evalInstLevelScore = False
    args.evalPixelAccuracy = False
    args.exportFile = str(folder / "resultPixelLevelSemanticLabeling.json")
    gt_files, pred_files = [], []
    (folder / "gt").mkdir(parents=True, exist_ok=True)
    (folder / "pred").mkdir(parents=True, exist_ok=True)
    for name, gt, pred in pairs:
        gt_file = folder / "gt" / f"{name}_gtFine_labelIds.png"
        pred_file = folder / "pred" / f"{name}_pred.png"
        Image.fromarray(gt).save(gt_file)
        Image.fromarray(pred).save(pred_file)
        gt_files.append(str(gt_file))
        pred_files.append(str(pred_file))
    result = ev.evaluateImgLists(pred_files, gt_files, args)
    return CityscapesPixelResult(class_scores=dict(result["classScores"]),
                                 average=float(result["averageScoreClasses"]),
                                 confusion=np.array(result["confMatrix"], dtype=np.int64))
