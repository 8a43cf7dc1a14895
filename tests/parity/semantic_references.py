"""Reference implementations of the published mmseg and detectron2 semantic metrics.

Written from their source, in their own order of operations, as plain per-image loops (no
shared code with ``benchmark_eval``). Neither library is installed in the test extra (both
pull in torch); these functions stand in for them, and ``test_semantic_parity.py`` checks
them against hand-worked numbers first.
"""

from __future__ import annotations

__all__ = ["D2Result", "MmsegResult", "detectron2_reference", "mmseg_reference"]

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MmsegResult:
    """``total_area_to_metrics`` output (fractions, not rounded ×100)."""

    iou: np.ndarray
    acc: np.ndarray
    dice: np.ndarray
    precision: np.ndarray
    aacc: float
    miou: float
    macc: float
    mdice: float


def _histc(x: np.ndarray, num_classes: int) -> np.ndarray:
    # torch.histc(x.float(), bins=num_classes, min=0, max=num_classes - 1): equal-width
    # bins over [0, C-1], values outside dropped, the right edge in the last bin
    return np.histogram(x.astype(np.float64), bins=num_classes,
                        range=(0, num_classes - 1))[0].astype(np.float64)


def mmseg_reference(pairs: Iterable[tuple[np.ndarray, np.ndarray]], num_classes: int,
                    ignore_index: int = 255) -> MmsegResult:
    """mmseg 1.x ``IoUMetric``: ``intersect_and_union`` per image, areas summed, then
    ``total_area_to_metrics`` with ``['mIoU', 'mDice', 'mFscore']``.

    mmseg keeps the areas in torch float32; float64 here (exact integers).
    """
    areas = np.zeros((4, num_classes))
    for pred_label, label in pairs:  # mmseg's argument order: prediction first
        mask = label != ignore_index
        pred_label, label = pred_label[mask], label[mask]
        intersect = pred_label[pred_label == label]
        area_intersect = _histc(intersect, num_classes)
        area_pred_label = _histc(pred_label, num_classes)
        area_label = _histc(label, num_classes)
        area_union = area_pred_label + area_label - area_intersect
        areas += np.stack([area_intersect, area_union, area_pred_label, area_label])
    inter, union, pred, label = areas
    with np.errstate(divide="ignore", invalid="ignore"):
        all_acc = inter.sum() / label.sum()
        iou = inter / union
        acc = inter / label
        dice = 2 * inter / (pred + label)
        precision = inter / pred
    return MmsegResult(iou=iou, acc=acc, dice=dice, precision=precision, aacc=float(all_acc),
                       miou=float(np.nanmean(iou)), macc=float(np.nanmean(acc)),
                       mdice=float(np.nanmean(dice)))


@dataclass(frozen=True)
class D2Result:
    """``SemSegEvaluator.evaluate`` output (fractions, not ×100)."""

    iou: np.ndarray
    acc: np.ndarray
    miou: float
    fwiou: float
    macc: float
    pacc: float


def detectron2_reference(pairs: Iterable[tuple[np.ndarray, np.ndarray]], num_classes: int,
                         ignore_label: int = 255) -> D2Result:
    """detectron2 ``SemSegEvaluator``: ``process`` per image, then ``evaluate``.

    Predictions must be in ``[0, num_classes]`` (detectron2's argmax gives ``[0, C)``; the
    value ``C`` lands in the ignore row, as in detectron2).
    """
    n = num_classes
    conf = np.zeros((n + 1, n + 1), dtype=np.int64)
    for pred, gt in pairs:
        pred = np.array(pred, dtype=int)
        gt = np.array(gt, dtype=int)
        gt[gt == ignore_label] = n
        conf += np.bincount((n + 1) * pred.reshape(-1) + gt.reshape(-1),
                            minlength=conf.size).reshape(conf.shape)
    acc = np.full(n, np.nan, dtype=float)
    iou = np.full(n, np.nan, dtype=float)
    tp = conf.diagonal()[:-1].astype(float)
    pos_gt = np.sum(conf[:-1, :-1], axis=0).astype(float)
    class_weights = pos_gt / np.sum(pos_gt)
    pos_pred = np.sum(conf[:-1, :-1], axis=1).astype(float)
    acc_valid = pos_gt > 0
    acc[acc_valid] = tp[acc_valid] / pos_gt[acc_valid]
    union = pos_gt + pos_pred - tp
    iou_valid = np.logical_and(acc_valid, union > 0)
    iou[iou_valid] = tp[iou_valid] / union[iou_valid]
    macc = np.sum(acc[acc_valid]) / np.sum(acc_valid)
    miou = np.sum(iou[iou_valid]) / np.sum(iou_valid)
    fiou = np.sum(iou[iou_valid] * class_weights[iou_valid])
    pacc = np.sum(tp) / np.sum(pos_gt)
    return D2Result(iou=iou, acc=acc, miou=float(miou), fwiou=float(fiou), macc=float(macc),
                    pacc=float(pacc))
