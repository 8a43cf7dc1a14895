"""Confidence calibration of a detector: ECE, MCE and the reliability bins.

Definition (Küppers et al., *Multivariate Confidence Calibration for Object Detection*,
CVPR Workshops 2020, the detection ECE "D-ECE" binned on confidence alone; the same as
hotcoco 1.3.0 ``COCOeval.calibration``, ``eval/calibration.rs``):

- a detection's **confidence** is its score; it is **correct** when it is a true positive
  at IoU 0.5 in the evaluation itself (pycocotools' matching, area range "all", the last
  ``max_detections``); detections the evaluation ignores (matched to a crowd / ignored GT,
  or LVIS' not-exhaustive / unlisted categories) are left out;
- ``n_bins`` equal-width bins over [0, 1], bin ``min(floor(score * n_bins), n_bins - 1)``;
- per bin the mean confidence and the fraction correct (the bin's precision);
- ``ECE = sum_b |B_b| / N * |precision_b - confidence_b|``, ``MCE = max_b`` of the gap over
  non-empty bins; 0 without detections (hotcoco's convention); per class the ECE of its
  own detections.
"""

from __future__ import annotations

__all__ = ["Calibration", "calibration"]

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.analysis.curves import result_records


@dataclass(frozen=True)
class Calibration:
    """ECE / MCE and the reliability diagram's bins.

    Attributes:
        ece: Expected calibration error, in [0, 1].
        mce: Maximum calibration error over non-empty bins.
        bin_edges: ``(n_bins + 1,)``.
        count: Detections per bin, int64.
        confidence: Mean score per bin (NaN for an empty bin).
        accuracy: Fraction of true positives per bin (NaN for an empty bin).
        per_class_ece: Category id -> ECE of its detections (classes with detections).
        iou_threshold: IoU that makes a detection correct.
    """

    ece: float
    mce: float
    bin_edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    per_class_ece: dict[int, float]
    iou_threshold: float

    def to_report(self) -> dict[str, Any]:
        """The report's ``"calibration"`` entry."""
        def fin(a: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in a]

        return {"iou_threshold": self.iou_threshold, "ece": self.ece, "mce": self.mce,
                "bin_edges": self.bin_edges.tolist(), "count": self.count.tolist(),
                "confidence": fin(self.confidence), "accuracy": fin(self.accuracy),
                "per_class_ece": {str(k): v for k, v in self.per_class_ece.items()}}


def _bins(score: np.ndarray, correct: np.ndarray, group: np.ndarray, n_groups: int,
          n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (group, bin): count, summed confidence, summed correct; shape ``(G, n_bins)``."""
    b = np.minimum((score * n_bins).astype(np.int64), n_bins - 1)
    at = group * n_bins + b
    size = n_groups * n_bins
    shape = (n_groups, n_bins)
    return (np.bincount(at, minlength=size).reshape(shape),
            np.bincount(at, weights=score, minlength=size).reshape(shape),
            np.bincount(at, weights=correct.astype(np.float64), minlength=size).reshape(shape))


def _ece(count: np.ndarray, conf: np.ndarray, hits: np.ndarray) -> tuple[np.ndarray, ...]:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf, acc = conf / count, hits / count
    gap = np.where(count > 0, np.abs(acc - mean_conf), 0.0)
    total = count.sum(axis=-1)
    ece = np.where(total > 0, (count * gap).sum(axis=-1) / np.maximum(total, 1), 0.0)
    return ece, gap.max(axis=-1), mean_conf, acc


def calibration(result: Any, *, n_bins: int = 10, iou: float = 0.5) -> Calibration:
    """Calibration of a ``CocoResult`` / ``LvisResult`` from its merged state (no matching).

    Args:
        result: An instance result (``state``, ``params``, ``category_ids``).
        n_bins: Equal-width confidence bins (hotcoco's default 10).
        iou: The IoU threshold (one of the evaluation's) a true positive needs.
    """
    rec = result_records(result, iou)[0]
    score = np.clip(rec.score, 0.0, 1.0)
    k = len(result.category_ids)
    count, conf, hits = _bins(score, rec.tp, np.zeros(len(score), dtype=np.int64), 1, n_bins)
    ece, mce, mean_conf, acc = _ece(count, conf, hits)
    c_count, c_conf, c_hits = _bins(score, rec.tp, rec.category, k, n_bins)
    c_ece = _ece(c_count, c_conf, c_hits)[0]
    has = c_count.sum(axis=1) > 0
    return Calibration(
        ece=float(ece[0]), mce=float(mce[0]), bin_edges=np.linspace(0, 1, n_bins + 1),
        count=count[0], confidence=mean_conf[0], accuracy=acc[0],
        per_class_ece={int(result.category_ids[i]): float(c_ece[i])
                       for i in np.flatnonzero(has)},
        iou_threshold=float(iou))
