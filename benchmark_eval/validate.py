"""Submission checks without scoring: every problem, with file, record and expectation.

``evaluate`` runs the same checks and stops with the first problems it finds; ``validate``
keeps going so a leaderboard can show a submitter everything to fix at once.
"""

from __future__ import annotations

__all__ = ["validate"]

from pathlib import Path

from benchmark_eval.errors import ConfigError, Problem
from benchmark_eval.io.coco import Source, check_coco_ground_truth, check_coco_results

_IOU_TYPE = {"coco-bbox": "bbox", "coco-segm": "segm"}


def validate(protocol: str, *, gt: Source, pred: Source) -> list[Problem]:
    """Check a ground truth and a submission for ``protocol``; an empty list means clean.

    Args:
        protocol: ``"coco-bbox"`` or ``"coco-segm"``.
        gt: Ground-truth file path or loaded JSON.
        pred: Predictions file path or loaded JSON.

    Raises:
        ConfigError: Unknown protocol.
    """
    iou_type = _IOU_TYPE.get(protocol)
    if iou_type is None:
        raise ConfigError(f"unknown protocol {protocol!r}; choose one of {', '.join(_IOU_TYPE)}")
    boxes, masks = iou_type == "bbox", iou_type == "segm"
    dataset, problems = check_coco_ground_truth(gt, boxes=boxes, masks=masks)
    if dataset is None:
        where = str(pred) if isinstance(pred, (str, Path)) else "<pred>"
        return [*problems, Problem(where, "not checked: the ground truth has problems")]
    return problems + check_coco_results(pred, dataset, boxes=boxes, masks=masks)
