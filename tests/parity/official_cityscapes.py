"""Run cityscapesScripts 2.3.0's evaluations live, through their own functions.

* pixel level: ``evalPixelLevelSemanticLabeling.evaluateImgLists`` (``evaluatePair`` with
  the instance-level score) on a private copy of its argument object: quiet, no JSON export;
* instance level: ``setInstanceLabels``, ``instances2dict``, ``matchGtWithPreds``,
  ``evaluateMatches`` and ``computeAverages`` called one by one, so neither the
  ``gtInstances.json`` cache next to the installed package nor ``matches.json`` (whose
  dump fails on numpy integers under numpy 2) is written;
* panoptic: ``pq_compute_single_core`` then ``average_pq``.

On numpy >= 2.4 ``np.in1d`` no longer exists; :func:`numpy_in1d` restores it as
``np.isin(...).ravel()`` while the official code runs and removes it afterwards. The modules
are imported with every ``CITYSCAPES_*`` variable unset. Nothing of the maths is changed.
"""

from __future__ import annotations

__all__ = ["numpy_in1d", "official_instance", "official_panoptic", "official_pixel"]

import contextlib
import copy
import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

_ENV = ("CITYSCAPES_DATASET", "CITYSCAPES_RESULTS", "CITYSCAPES_EXPORT_DIR")


def _module(name: str) -> ModuleType:
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


def official_pixel(gt_label_files: list[Path], pred_files: list[Path], out: Path
                   ) -> dict[str, Any]:
    """The result dict of ``evaluateImgLists`` (``classScores``, ``classInstScores``,
    ``categoryScores``, ``categoryInstScores``, the four averages, ``confMatrix``)."""
    ev = _module("evalPixelLevelSemanticLabeling")
    args = copy.copy(ev.args)
    args.quiet = True
    args.JSONOutput = False
    args.evalInstLevelScore = True
    args.evalPixelAccuracy = False
    args.exportFile = str(out / "resultPixelLevelSemanticLabeling.json")
    with numpy_in1d():
        return ev.evaluateImgLists([str(p) for p in pred_files],
                                   [str(g) for g in gt_label_files], args)


def official_instance(gt_instance_files: list[Path], pred_txts: list[Path], pred_root: Path
                      ) -> tuple[dict[str, Any], np.ndarray]:
    """``computeAverages`` and the ``(1, 8, 10)`` AP array of ``evaluateMatches``."""
    ev = _module("evalInstanceLevelSemanticLabeling")
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


def official_panoptic(gt_json: dict[str, Any], gt_folder: Path, pred_json: dict[str, Any],
                      pred_folder: Path) -> dict[str, Any]:
    """``average_pq`` of ``pq_compute_single_core`` over the GT annotations, with the
    categories of the GT JSON."""
    ev = _module("evalPanopticSemanticLabeling")
    categories = {c["id"]: c for c in gt_json["categories"]}
    by_image = {a["image_id"]: a for a in pred_json["annotations"]}
    pairs = [(a, by_image[a["image_id"]]) for a in gt_json["annotations"]]
    with contextlib.redirect_stdout(None):
        stat = ev.pq_compute_single_core(0, pairs, str(gt_folder), str(pred_folder),
                                         categories)
    return ev.average_pq(stat, categories)
