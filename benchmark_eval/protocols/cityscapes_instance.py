"""Protocol ``cityscapes-instance``: cityscapesScripts 2.3.0 instance-level AP and AP50.

Reproduces ``evaluation/evalInstanceLevelSemanticLabeling.py`` (``instances2dict``,
``assignGt2Preds``, ``evaluateMatches``, ``computeAverages``) without distance
information, for the 8 classes with instances that are evaluated:

* **GT**: every value of the instance-id map is a segment of label ``v`` (``v < 1000``, a
  group or stuff region) or ``v // 1000``. Only individual instances (``v >= 1000``) of at
  least :data:`MIN_REGION_SIZE` pixels are targets; groups and smaller instances are not.
* **Overlaps**: for each predicted mask, its area, its pixels on void GT (a value equal
  to an ignored label id: void labels, group regions of ignored classes) and its pixels
  on every GT segment of its own class: one ``np.bincount`` over the mask's pixels.
* **Matching**, per class and IoU threshold ``t`` of :data:`IOU_THRESHOLDS` (strict ``>``):
  a target with predictions above ``t`` is a TP with the best score among them, the others
  are FP; a target without is a miss. A prediction above ``t`` on no target is skipped when
  it is above ``t`` on a group or a small instance; otherwise it is FP unless its pixels on
  void, groups and small instances (a small group counts twice) exceed ``t`` of its area.
* **AP**: scores sorted, one precision/recall point per unique score (all predictions with
  that score or more), plus ``(recall 0, precision 1)``; no precision envelope; the curve is
  integrated with step widths ``(r[i-1] - r[i+1]) / 2`` (the official convolution). A class
  without targets is NaN, one with targets but no prediction 0.
* **Averages**: ``AP`` = NaN-mean over classes and thresholds, ``AP50`` over classes at 0.5.

The state keeps one record per prediction (class, score, outcome per threshold) and the
target and prediction counts per class: states merge by concatenation and addition, in any
order (the curve depends on the set of scores only, ties included).
"""

from __future__ import annotations

__all__ = [
    "FP",
    "IGNORED",
    "IOU_THRESHOLDS",
    "METRIC_KEYS",
    "MIN_REGION_SIZE",
    "TP",
    "CityscapesInstanceMetrics",
    "CityscapesInstanceParams",
    "CityscapesInstanceState",
    "GtSegments",
    "ImageInstances",
    "average_precision",
    "compute",
    "gt_segments",
    "instance_image_stats",
    "mask_overlaps",
    "match_image",
    "notices",
]

import math
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.cityscapes_instance_image import (
    FP,
    IGNORED,
    IOU_THRESHOLDS,
    MIN_REGION_SIZE,
    TP,
    GtSegments,
    ImageInstances,
    gt_segments,
    instance_image_stats,
    mask_overlaps,
    match_image,
)
from benchmark_eval.protocols.state import MergeableState, concatenated, summed
from benchmark_eval.schema.cityscapes import INSTANCE_CLASSES

METRIC_KEYS = ("AP", "AP50")
_K = len(INSTANCE_CLASSES)


class CityscapesInstanceParams(BaseModel):
    """Options of ``cityscapes-instance`` (none: the official protocol has no variants)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _none(cls, data: Any) -> Any:
        if data:
            raise ValueError("cityscapes-instance has no parameters")
        return data


# ---------------------------------------------------------------------------------- state


@dataclass(frozen=True, eq=False)
class CityscapesInstanceState(MergeableState):
    """Sufficient statistics of ``cityscapes-instance`` over some images.

    ``merge``, ``identity``, ``save`` and ``load`` come from
    :class:`~benchmark_eval.protocols.state.MergeableState`.

    Attributes:
        pred_class: ``(N,)`` int64 class index per prediction.
        pred_score: ``(N,)`` float64.
        pred_outcome: ``(N, T)`` uint8 outcome per IoU threshold.
        gt_count: ``(8,)`` int64 targets per class.
        pred_count: ``(8,)`` int64 non-empty predictions per class.
        n_images: Images counted.
        skipped: Predictions of labels without instance-level evaluation (skipped).
        empty_masks: Predicted masks without a pixel (skipped).
        duplicates: Prediction lines repeating a mask listed before in their file.
        empty_lists: Images without any prediction.
    """

    label: ClassVar[str] = "cityscapes-instance"

    pred_class: np.ndarray = concatenated()
    pred_score: np.ndarray = concatenated()
    pred_outcome: np.ndarray = concatenated()
    gt_count: np.ndarray = summed()
    pred_count: np.ndarray = summed()
    n_images: int = summed()
    skipped: int = summed(default=0)
    empty_masks: int = summed(default=0)
    duplicates: int = summed(default=0)
    empty_lists: int = summed(default=0)

    @classmethod
    def empty(cls) -> CityscapesInstanceState:
        """The identity of :meth:`merge`."""
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros((0, len(IOU_THRESHOLDS)),
                   np.uint8), np.zeros(_K, np.int64), np.zeros(_K, np.int64), 0)

    @classmethod
    def of_image(cls, image: ImageInstances, *, duplicates: int = 0,
                 empty_list: bool = False) -> CityscapesInstanceState:
        """The state of one image (``duplicates``, ``empty_list``: of its prediction file)."""
        return cls(image.pred_class, image.pred_score, image.pred_outcome,
                   image.gt_count.astype(np.int64), image.pred_count.astype(np.int64), 1,
                   skipped=image.skipped, empty_masks=image.empty, duplicates=duplicates,
                   empty_lists=int(empty_list))


# -------------------------------------------------------------------------------- compute


def average_precision(scores: np.ndarray, is_tp: np.ndarray, missed: int) -> float:
    """The official AP of one class at one threshold.

    Args:
        scores: Scores of the TP and FP records.
        is_tp: Which records are TP.
        missed: Targets without a match.

    Example (two TPs at 0.9 and 0.5, one FP at 0.7, one miss; points at the unique scores
    0.5, 0.7, 0.9: recall 2/3, 1/3, 1/3 and precision 2/3, 1/2, 1, then (0, 1); widths
    (2/3 - 1/3)/2, (2/3 - 1/3)/2, (1/3 - 0)/2, (1/3 - 0)/2; AP = 1/9 + 1/12 + 1/6 + 0 + 1/6):
        >>> round(average_precision(np.array([0.9, 0.7, 0.5]), np.array([1, 0, 1]), 1), 6)
        0.527778
    """
    if not len(scores):
        return 0.0  # the official script raises IndexError here; its formula gives 0
    order = np.argsort(scores, kind="stable")
    s = scores[order]
    cum = np.cumsum(is_tp[order].astype(np.float64))
    first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    below = np.r_[0.0, cum][first]  # TPs scored below each threshold
    tp = cum[-1] - below
    fp = (len(s) - first) - tp
    fn = below + missed
    precision = np.r_[tp / (tp + fp), 1.0]
    recall = np.r_[tp / (tp + fn), 0.0]
    padded = np.r_[recall[0], recall, 0.0]
    widths = (padded[:-2] - padded[2:]) * 0.5
    return float(np.dot(precision, widths))


@dataclass(frozen=True)
class CityscapesInstanceMetrics:
    """AP per class and threshold, and the averages (fractions; NaN where undefined).

    Attributes:
        ap: ``(8, T)`` per class of ``INSTANCE_CLASSES`` and IoU threshold.
        per_class_ap: ``(8,)`` mean over thresholds (NaN if the class is NaN).
        per_class_ap50: ``(8,)`` at threshold 0.5.
        metrics: ``AP`` and ``AP50``.
    """

    ap: np.ndarray
    per_class_ap: np.ndarray
    per_class_ap50: np.ndarray
    metrics: dict[str, float]


def compute(state: CityscapesInstanceState) -> CityscapesInstanceMetrics:
    """AP of every class and threshold, then ``computeAverages``."""
    ap = np.zeros((_K, len(IOU_THRESHOLDS)))
    for k in range(_K):
        if state.gt_count[k] == 0:
            ap[k] = math.nan
            continue
        if state.pred_count[k] == 0:
            continue
        mine = state.pred_class == k
        for t in range(len(IOU_THRESHOLDS)):
            outcome = state.pred_outcome[mine, t]
            kept = outcome != IGNORED
            is_tp = outcome[kept] == TP
            ap[k, t] = average_precision(state.pred_score[mine][kept], is_tp,
                                         int(state.gt_count[k] - is_tp.sum()))
    at50 = int(np.flatnonzero(np.isclose(IOU_THRESHOLDS, 0.5))[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN means stay NaN
        metrics = {"AP": float(np.nanmean(ap)), "AP50": float(np.nanmean(ap[:, [at50]]))}
    return CityscapesInstanceMetrics(ap=ap, per_class_ap=ap.mean(axis=1),
                                     per_class_ap50=ap[:, at50].copy(), metrics=metrics)


def notices(state: CityscapesInstanceState) -> list[Notice]:
    """What the official script skips silently, and where its numbers are not defined."""
    out = []
    if state.skipped:
        out.append(Notice("skipped-labels", f"{state.skipped} predictions of labels without"
                          " instance-level evaluation (not one of"
                          f" {', '.join(INSTANCE_CLASSES)}) were skipped, as officially"))
    if state.duplicates:
        out.append(Notice("duplicate-masks", f"{state.duplicates} prediction lines repeat a"
                          " mask listed before in the same file: one prediction per mask is"
                          " kept (first position, last label and confidence), as the"
                          " official script's dict does"))
    if state.empty_masks:
        out.append(Notice("empty-masks", f"{state.empty_masks} predicted masks have no pixel"
                          " and were skipped, as officially"))
    if state.empty_lists:
        out.append(Notice("empty-prediction-files", f"{state.empty_lists} images have no"
                          " predictions"))
    scored = [(state.pred_outcome[state.pred_class == k] != IGNORED).any(axis=0)
              for k in range(_K)]  # (T,) per class: any TP / FP record
    unscored = [n for k, n in enumerate(INSTANCE_CLASSES)
                if state.gt_count[k] > 0 and state.pred_count[k] > 0 and not scored[k].all()]
    if unscored:
        out.append(Notice("no-scored-predictions", "classes with GT instances whose every"
                          " prediction is ignored at some IoU threshold (on void, groups or"
                          " small instances) get AP 0 there; cityscapesScripts raises"
                          f" IndexError instead: {', '.join(unscored)}"))
    no_gt = [n for k, n in enumerate(INSTANCE_CLASSES)
             if state.gt_count[k] == 0 and state.pred_count[k] > 0]
    if no_gt:
        out.append(Notice("classes-without-gt", f"classes predicted but without GT instances"
                          f" (AP undefined: null, left out of the averages): {', '.join(no_gt)}"))
    return out
