"""Run cityscapesScripts 2.3.0's evaluations live, through their own functions (the one
runner of each for every test folder; panoptic is in ``official_panoptic``).

* pixel level: ``evalPixelLevelSemanticLabeling.evaluateImgLists`` (``evaluatePair``, with
  the instance-level score unless told otherwise) on a private copy of its argument object:
  quiet, no JSON export; :func:`official_pixel_maps` writes label-id maps as PNGs first;
* instance level: ``setInstanceLabels``, ``instances2dict``, ``matchGtWithPreds``,
  ``evaluateMatches`` and ``computeAverages`` called one by one, so neither the
  ``gtInstances.json`` cache next to the installed package nor ``matches.json`` (whose
  dump fails on numpy integers under numpy 2) is written;

On numpy >= 2.4 ``np.in1d`` no longer exists; :func:`numpy_in1d` restores it as
``np.isin(...).ravel()`` while the official code runs and removes it afterwards. The modules
are imported with every ``CITYSCAPES_*`` variable unset. Nothing of the maths is changed.
"""

from __future__ import annotations

__all__ = [
    "CityscapesPixelResult",
    "cityscapes_module",
    "numpy_in1d",
    "official_instance",
    "official_pixel",
    "official_pixel_maps",
]

import contextlib
import copy
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from PIL import Image

_ENV = ("CITYSCAPES_DATASET", "CITYSCAPES_RESULTS", "CITYSCAPES_EXPORT_DIR")


def cityscapes_module(name: str) -> ModuleType:
    """``cityscapesscripts.evaluation.<name>``, imported with every ``CITYSCAPES_*`` variable
    unset (the modules read them at import, and raise on a bad export dir)."""
    saved = {k: os.environ.pop(k) for k in _ENV if k in os.environ}
    try:
        return importlib.import_module(f"cityscapesscripts.evaluation.{name}")
    finally:
        os.environ.update(saved)


@contextlib.contextmanager
def numpy_in1d() -> Iterator[None]:
    """``np.in1d`` (removed in numpy 2.4) while the block runs, when it is missing."""
    if hasattr(np, "in1d"):
        yield
        return

    def in1d(ar1: Any, ar2: Any, assume_unique: bool = False, invert: bool = False) -> Any:
        return np.isin(np.asarray(ar1).ravel(), ar2, assume_unique=assume_unique,
                       invert=invert)

    setattr(np, "in1d", in1d)  # noqa: B010 - the name is gone from numpy's stubs too
    try:
        yield
    finally:
        delattr(np, "in1d")


def official_pixel(gt_label_files: list[Path], pred_files: list[Path], out: Path, *,
                   instance_level: bool = True) -> dict[str, Any]:
    """The result dict of ``evaluateImgLists`` (``classScores``, ``classInstScores``,
    ``categoryScores``, ``categoryInstScores``, the four averages, ``confMatrix``);
    ``instance_level=False`` skips iIoU (which needs ``*_instanceIds.png`` files)."""
    ev = cityscapes_module("evalPixelLevelSemanticLabeling")
    args = copy.copy(ev.args)
    args.quiet = True
    args.JSONOutput = False
    args.evalInstLevelScore = instance_level
    args.evalPixelAccuracy = False
    args.exportFile = str(out / "resultPixelLevelSemanticLabeling.json")
    with numpy_in1d():
        return ev.evaluateImgLists([str(p) for p in pred_files],
                                   [str(g) for g in gt_label_files], args)


@dataclass(frozen=True)
class CityscapesPixelResult:
    """What the official pixel-level evaluation returned for label-id maps.

    Attributes:
        class_scores: Label name -> IoU (NaN for ignored or undefined classes).
        average: ``averageScoreClasses``.
        confusion: The ``(34, 34)`` label-id confusion matrix (rows GT, columns prediction).
    """

    class_scores: dict[str, float]
    average: float
    confusion: np.ndarray


def official_pixel_maps(pairs: list[tuple[str, np.ndarray, np.ndarray]], folder: Path
                        ) -> CityscapesPixelResult:
    """Score ``(name, gt_ids, pred_ids)`` label-id maps: written as PNGs under ``folder``,
    then :func:`official_pixel` without the instance-level score."""
    gt_files, pred_files = [], []
    (folder / "gt").mkdir(parents=True, exist_ok=True)
    (folder / "pred").mkdir(parents=True, exist_ok=True)
    for name, gt, pred in pairs:
        gt_files.append(folder / "gt" / f"{name}_gtFine_labelIds.png")
        pred_files.append(folder / "pred" / f"{name}_pred.png")
        Image.fromarray(gt).save(gt_files[-1])
        Image.fromarray(pred).save(pred_files[-1])
    result = official_pixel(gt_files, pred_files, folder, instance_level=False)
    return CityscapesPixelResult(class_scores=dict(result["classScores"]),
                                 average=float(result["averageScoreClasses"]),
                                 confusion=np.array(result["confMatrix"], dtype=np.int64))


def official_instance(gt_instance_files: list[Path], pred_txts: list[Path], pred_root: Path
                      ) -> tuple[dict[str, Any], np.ndarray]:
    """``computeAverages`` and the ``(1, 8, 10)`` AP array of ``evaluateMatches``."""
    ev = cityscapes_module("evalInstanceLevelSemanticLabeling")
    args = copy.copy(ev.args)
    args.quiet = True
    args.JSONOutput = False
    args.predictionPath = os.path.abspath(pred_root)
    args.predictionWalk = None
    ev.setInstanceLabels(args)
    gt_files = [str(g) for g in gt_instance_files]
    with numpy_in1d():
        gt_instances = ev.instances2dict(gt_files, False)
        matches = ev.matchGtWithPreds([str(p) for p in pred_txts], gt_files, gt_instances,
                                      args)
        aps = ev.evaluateMatches(matches, args)
    return ev.computeAverages(aps, args), aps
