"""Precision-recall curves per class, from a COCO / LVIS evaluation's own arrays and state.

Two curves per class (first area range, "all"; the last ``max_detections``):

- **interpolated**: the official precision array (``COCOeval.eval["precision"]``, our
  ``CocoResult.precision``) at one IoU threshold, against the recall thresholds — the
  envelope AP averages;
- **raw**: every detection of the class in pycocotools' order (score descending, ties by
  image id, then rank), ignored ones left out, with precision ``TP / (TP + FP)`` and recall
  ``TP / #GT`` after it — the curve before the envelope (faster-coco-eval's ``Curves`` and
  hotcoco's plots draw the interpolated one).

Nothing is re-matched: the records are the merged state's (``CocoState.det_outcome``).
"""

from __future__ import annotations

__all__ = ["ClassCurve", "Records", "iou_index", "pr_curves", "result_records", "scored_records"]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols.coco_state import IGNORED, TP, CocoState


def iou_index(thresholds: Sequence[float] | np.ndarray, iou: float) -> int:
    """Index of ``iou`` among an evaluation's IoU thresholds.

    Raises:
        ConfigError: ``iou`` is not one of them.
    """
    thr = np.asarray(thresholds, dtype=np.float64)
    hits = np.flatnonzero(np.isclose(thr, iou, rtol=0, atol=1e-9))
    if not len(hits):
        raise ConfigError(f"IoU {iou} is not one of the evaluation's thresholds"
                          f" {[round(float(t), 4) for t in thr]}")
    return int(hits[0])


@dataclass(frozen=True)
class Records:
    """Non-ignored detections at one IoU threshold, in pycocotools' accumulate order
    (category, score descending, image id, rank).

    Attributes:
        category: Index into the state's ``category_ids``, int64.
        image: Image id, int64.
        score: float64.
        tp: Matched to a non-ignored GT, bool.
    """

    category: np.ndarray
    image: np.ndarray
    score: np.ndarray
    tp: np.ndarray


def scored_records(state: CocoState, t: int, max_det: int) -> Records:
    """The detections of ``state`` at IoU index ``t``, area range 0, rank < ``max_det``."""
    keep = (state.det_rank < max_det) & (state.det_outcome[:, 0, t] != IGNORED)
    rows = np.flatnonzero(keep)
    order = rows[np.lexsort((state.det_rank[rows], state.det_image[rows],
                             -state.det_score[rows], state.det_category[rows]))]
    return Records(category=state.det_category[order], image=state.det_image[order],
                   score=state.det_score[order], tp=state.det_outcome[order, 0, t] == TP)


def result_records(result: Any, iou: float) -> tuple[Records, Any, int]:
    """A ``CocoResult`` / ``LvisResult``'s records at IoU ``iou`` (last ``max_detections``),
    its engine parameters (``CocoParams``; LVIS' ``engine_params()``) and the IoU index."""
    params = result.params
    engine = params.engine_params() if hasattr(params, "engine_params") else params
    t = iou_index(engine.iou_thresholds, iou)
    return scored_records(result.state, t, int(engine.max_detections[-1])), engine, t


@dataclass(frozen=True)
class ClassCurve:
    """The two PR curves of one class.

    Attributes:
        category_id: The class.
        recall_thresholds: ``(R,)``, the interpolated curve's x.
        precision: ``(R,)``, interpolated precision; -1 where undefined (no GT).
        raw_recall: ``(N,)``, recall after each of the class's N detections.
        raw_precision: ``(N,)``, precision after each.
        raw_score: ``(N,)``, each detection's score.
    """

    category_id: int
    recall_thresholds: np.ndarray
    precision: np.ndarray
    raw_recall: np.ndarray
    raw_precision: np.ndarray
    raw_score: np.ndarray

    def to_report(self, points: int = 101) -> dict[str, Any]:
        """JSON-ready curves; the raw one thinned to at most ``points`` points."""
        n = len(self.raw_recall)
        at = np.unique(np.linspace(0, n - 1, min(n, points)).astype(np.int64))
        p = self.precision
        return {"recall": self.recall_thresholds.tolist(),
                "precision": [None if v < 0 else float(v) for v in p],
                "raw_recall": self.raw_recall[at].tolist(),
                "raw_precision": self.raw_precision[at].tolist(),
                "raw_score": self.raw_score[at].tolist()}


def pr_curves(result: Any, *, iou: float = 0.5) -> list[ClassCurve]:
    """Per-class PR curves of a ``CocoResult`` / ``LvisResult`` at IoU ``iou``.

    Args:
        result: An instance result (``precision``, ``state``, ``params``, ``category_ids``).
        iou: One of the evaluation's IoU thresholds.
    """
    rec, engine, t = result_records(result, iou)
    rec_thr = np.asarray(engine.recall_thresholds, dtype=np.float64)
    gt = result.state.gt_count[:, 0]
    cat = rec.category
    bounds = np.searchsorted(cat, np.arange(len(gt) + 1))
    tp = np.cumsum(rec.tp)
    tp_before = np.r_[0, tp][bounds[:-1]]
    out = []
    for k, cid in enumerate(result.category_ids):
        lo, hi = bounds[k], bounds[k + 1]
        tps = (tp[lo:hi] - tp_before[k]).astype(np.float64)
        n = np.arange(1, hi - lo + 1, dtype=np.float64)
        recall = tps / gt[k] if gt[k] > 0 else np.full(hi - lo, np.nan)
        prec = result.precision[t, :, k, 0]
        out.append(ClassCurve(category_id=int(cid), recall_thresholds=rec_thr,
                              precision=prec[..., -1] if prec.ndim > 1 else prec,
                              raw_recall=recall, raw_precision=tps / n,
                              raw_score=rec.score[lo:hi]))
    return out
