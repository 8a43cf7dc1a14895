"""Protocol ``semantic``: mIoU, mAcc, mDice, aAcc and fwIoU from one confusion matrix.

Counting is in :mod:`~benchmark_eval.protocols.semantic_count`. :func:`compute` turns a
merged :class:`SemanticState` into ratios under a named rule:

* ``mmseg``: mmsegmentation ``IoUMetric.intersect_and_union`` + ``total_area_to_metrics``
  (mmseg 1.x): GT pixels equal to ``ignore_index`` are removed first; the GT area of a class
  counts all its remaining pixels (also those predicted out of range, which fall outside
  ``torch.histc``'s bins), so they are false negatives. A ratio with a zero denominator is
  NaN and ``np.nanmean`` leaves it out: a class predicted but absent from the GT has IoU 0
  and counts; a class absent from both is NaN.
* ``detectron2``: ``SemSegEvaluator.evaluate`` (``evaluation/sem_seg_evaluation.py``, main
  branch): the matrix is cut to the class rows and columns, so a pixel predicted as no
  class leaves every count (detectron2 puts prediction ``num_classes`` in its ignore row);
  classes without GT pixels get NaN and are excluded from every mean, also when predicted.
* ``cityscapes``: cityscapesScripts 2.3.0 ``evalPixelLevelSemanticLabeling``
  (``getIouScoreForLabel``, ``getScoreAverage``): FN over the full GT row (void predictions
  on a valid pixel are misses), FP over the rows of non-ignored GT, NaN when TP+FP+FN = 0,
  the class average a plain sum of the non-NaN IoUs in class order. With the Cityscapes
  label table as ``label_map`` (the bundled ``semantic-cityscapes`` preset) this is its IoU.

Each formula is written out in ``docs/protocols/semantic.md``.
"""

from __future__ import annotations

__all__ = [
    "BINARY_KEYS",
    "METRIC_KEYS",
    "PER_CLASS_KEYS",
    "SemanticMetrics",
    "class_mean",
    "compute",
    "notices",
]

import math
import warnings
from dataclasses import dataclass

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.semantic_params import SemanticParams
from benchmark_eval.protocols.semantic_state import (
    GT_NONE,
    GT_VALID,
    PRED,
    TP,
    SemanticState,
)

METRIC_KEYS = ("mIoU", "mAcc", "mDice", "aAcc", "fwIoU")
BINARY_KEYS = ("IoU", "Dice")  # of the foreground, with encoding="binary"
PER_CLASS_KEYS = ("IoU", "Acc", "Dice", "Precision")
_MAX_VALUES_LISTED = 10  # classes named per warning


@dataclass(frozen=True)
class SemanticMetrics:
    """Everything :func:`compute` derives from a state (fractions, NaN where undefined).

    Attributes:
        iou: ``(C,)`` per-class IoU.
        acc: ``(C,)`` per-class accuracy (recall).
        dice: ``(C,)`` per-class Dice (F1); the mean over images with per-image averaging.
        precision: ``(C,)`` per-class precision.
        metrics: ``mIoU``, ``mAcc``, ``mDice``, ``aAcc``, ``fwIoU`` (and the foreground
            ``IoU`` and ``Dice`` with the binary encoding).
        per_image_dice: ``(N, C)`` Dice of each image (rows in ``image_names`` order), or
            None with dataset-level averaging.
        image_names: The images of ``per_image_dice``, sorted.
        tp: ``(C,)`` true positives; ``gt``: GT pixels per class as the rule counts them;
            ``pred``: predicted pixels per class on non-ignored GT.
    """

    iou: np.ndarray
    acc: np.ndarray
    dice: np.ndarray
    precision: np.ndarray
    metrics: dict[str, float]
    per_image_dice: np.ndarray | None
    image_names: tuple[str, ...]
    tp: np.ndarray
    gt: np.ndarray
    pred: np.ndarray


def _ratio(num: np.ndarray, den: np.ndarray, defined: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=defined & (den > 0))
    return out


def _class_ratios(tp: np.ndarray, gt: np.ndarray, pred: np.ndarray, rule: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tp, gt, pred = (x.astype(np.float64) for x in (tp, gt, pred))
    # detectron2 defines nothing for a class without GT pixels; mmseg/Cityscapes only
    # need a non-zero denominator
    defined = gt > 0 if rule == "detectron2" else np.ones(tp.shape, dtype=bool)
    iou = _ratio(tp, gt + pred - tp, defined)
    acc = _ratio(tp, gt, defined)
    dice = _ratio(2 * tp, gt + pred, defined)
    precision = _ratio(tp, pred, defined)
    return iou, acc, dice, precision


def class_mean(values: np.ndarray, rule: str) -> float:
    """Mean over the classes where ``values`` is defined (NaN if none), as the rule does.

    mmseg: ``np.nanmean``; detectron2: ``np.sum(x[valid]) / np.sum(valid)``; Cityscapes:
    ``getScoreAverage``, a running Python sum in class order.
    """
    valid = ~np.isnan(values)
    n = int(valid.sum())
    if n == 0:
        return math.nan
    if rule == "detectron2":
        return float(np.sum(values[valid]) / n)
    if rule == "cityscapes":
        total = 0.0
        for v in values[valid].tolist():
            total += v
        return total / n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(values))


def _rule_counts(confusion: np.ndarray, rule: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = confusion.shape[0] - 1
    inner = confusion[:c, :c]
    tp = np.diagonal(inner).copy()
    pred = inner.sum(axis=0)
    # detectron2 keeps only predictions that are classes; the others miss their GT
    gt = inner.sum(axis=1) if rule == "detectron2" else confusion[:c, :].sum(axis=1)
    return tp, gt, pred


def _per_image_dice(stats: np.ndarray, rule: str) -> np.ndarray:
    tp, pred = stats[:, TP], stats[:, PRED]
    gt = stats[:, GT_VALID] + (0 if rule == "detectron2" else stats[:, GT_NONE])
    defined = gt > 0 if rule == "detectron2" else np.ones(tp.shape, dtype=bool)
    return _ratio(2.0 * tp, (gt + pred).astype(np.float64), defined)


def compute(state: SemanticState, params: SemanticParams) -> SemanticMetrics:
    """Per-class ratios and their means under ``params.rule``."""
    rule = params.rule
    tp, gt, pred = _rule_counts(state.confusion, rule)
    iou, acc, dice, precision = _class_ratios(tp, gt, pred, rule)
    per_image: np.ndarray | None = None
    names: tuple[str, ...] = ()
    if params.dice_averaging == "per-image":
        order = sorted(range(len(state.image_names)), key=state.image_names.__getitem__)
        names = tuple(state.image_names[i] for i in order)
        per_image = _per_image_dice(state.image_stats[order], rule)
        dice = np.array([class_mean(col, "mmseg") for col in per_image.T]) if len(
            per_image) else np.full(len(tp), np.nan)
    total = float(gt.sum())
    weights = gt / total if total > 0 else np.zeros(len(gt))
    fw_valid = (gt > 0) & ~np.isnan(iou)
    metrics = {
        "mIoU": class_mean(iou, rule),
        "mAcc": class_mean(acc, rule),
        "mDice": class_mean(dice, rule),
        "aAcc": float(tp.sum() / total) if total > 0 else math.nan,
        "fwIoU": float(np.sum(iou[fw_valid] * weights[fw_valid])) if total > 0 else math.nan,
    }
    if params.encoding == "binary":
        metrics["IoU"], metrics["Dice"] = float(iou[1]), float(dice[1])
    return SemanticMetrics(iou=iou, acc=acc, dice=dice, precision=precision, metrics=metrics,
                           per_image_dice=per_image, image_names=names, tp=tp, gt=gt, pred=pred)


def _listed(names: list[str], idx: np.ndarray) -> str:
    shown = ", ".join(names[i] for i in idx[:_MAX_VALUES_LISTED].tolist())
    return shown + (f" and {len(idx) - _MAX_VALUES_LISTED} more"
                    if len(idx) > _MAX_VALUES_LISTED else "")


def notices(state: SemanticState, params: SemanticParams, computed: SemanticMetrics
            ) -> list[Notice]:
    """What the rule did with no-class predictions and classes without GT pixels."""
    c, rule, names = params.num_classes, params.rule, params.names()
    out = []
    no_class = int(state.confusion[:c, c].sum())
    if no_class:
        fate = ("left out of every count, as detectron2 does with prediction num_classes"
                if rule == "detectron2" else "counted as false negatives of their GT class")
        out.append(Notice("no-class-predictions", f"{no_class} pixels with a GT class are"
                          f" predicted as no class (the ignore index, or out of range): {fate}"))
    seen_gt = state.confusion[:c, :].sum(axis=1) > 0
    predicted = state.confusion[:c, :c].sum(axis=0) > 0
    only_pred = np.flatnonzero(~seen_gt & predicted)
    if len(only_pred):
        fate = ("NaN, left out of the means" if rule == "detectron2"
                else "IoU 0, counted in mIoU")
        out.append(Notice("predicted-only-classes", f"{len(only_pred)} classes are predicted"
                          f" but have no GT pixels ({fate}): {_listed(names, only_pred)}"))
    absent = np.flatnonzero(np.isnan(computed.iou) & ~np.isin(np.arange(c), only_pred))
    if len(absent):
        out.append(Notice("undefined-classes", f"{len(absent)} classes have no counted GT or"
                          f" prediction pixels: IoU undefined (null), left out of mIoU:"
                          f" {_listed(names, absent)}"))
    return out
