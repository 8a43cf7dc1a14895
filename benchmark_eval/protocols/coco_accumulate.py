"""From merged COCO state to precision / recall arrays and the 12 summary numbers.

Reproduces pycocotools 2.0.11 ``COCOeval.accumulate`` and ``summarize`` with numpy over all
recall thresholds, area ranges and IoU thresholds of a category at once:

* detections of a category are concatenated in image-id order and stably sorted by
  descending score (``np.argsort(-scores, kind="mergesort")``), so ties keep image order;
* ``precision = tp / (fp + tp + np.spacing(1))`` on cumulative float counts;
* the precision envelope (running maximum from the right), sampled at the first detection
  whose recall reaches each recall threshold (``np.searchsorted(rc, recThrs, "left")``),
  0 past the last detection;
* -1 in precision and recall for a category with no non-ignored GT in that area range.
"""

from __future__ import annotations

__all__ = ["Accumulated", "SummarySpec", "accumulate", "min_count", "summarize", "summary_spec"]

from dataclasses import dataclass

import numpy as np

from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import IGNORED, TP, CocoState
from benchmark_eval.protocols.undefined import mean_defined

_EPS = np.spacing(1)  # pycocotools adds this to the precision denominator


@dataclass(frozen=True)
class Accumulated:
    """Arrays with pycocotools' ``COCOeval.eval`` layout.

    Attributes:
        precision: ``(T, R, K, A, M)``, -1 where undefined.
        recall: ``(T, K, A, M)``, -1 where undefined.
        scores: ``(T, R, K, A, M)``, score at each sampled recall point.
    """

    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray


def accumulate(state: CocoState, params: CocoParams) -> Accumulated:
    """Precision/recall arrays from a merged state (``COCOeval.accumulate``)."""
    n_thr, n_rec = len(params.iou_thresholds), len(params.recall_thresholds)
    n_cat, n_area = state.gt_count.shape
    max_dets = params.max_detections
    precision = -np.ones((n_thr, n_rec, n_cat, n_area, len(max_dets)))
    recall = -np.ones((n_thr, n_cat, n_area, len(max_dets)))
    scores = -np.ones((n_thr, n_rec, n_cat, n_area, len(max_dets)))
    rec_thr = params.recall_array
    # canonical order: category, score descending (stable), image id, rank in image
    order = np.lexsort((state.det_rank, state.det_image, -state.det_score, state.det_category))
    cats = state.det_category[order]
    seg = np.searchsorted(cats, np.arange(n_cat + 1))
    # one row per (area range, threshold), detections along the row, in canonical order
    n_cols = n_area * n_thr
    codes = np.ascontiguousarray(state.det_outcome[order].reshape(len(order), n_cols).T)
    ranks, det_scores = state.det_rank[order], state.det_score[order]
    for k in range(n_cat):
        npig = state.gt_count[k]  # (A,)
        valid = npig > 0
        if not valid.any():
            continue
        lo, hi = seg[k], seg[k + 1]
        for m, max_det in enumerate(max_dets):
            sel = ranks[lo:hi] < max_det
            take = slice(lo, hi) if sel.all() else np.flatnonzero(sel) + lo
            q, rc, ss = _curves(codes[:, take], det_scores[take], npig, rec_thr)
            precision[:, :, k, valid, m] = q[valid].transpose(1, 2, 0)
            scores[:, :, k, valid, m] = ss[valid].transpose(1, 2, 0)
            recall[:, k, valid, m] = rc[valid].T
    return Accumulated(precision=precision, recall=recall, scores=scores)


def _curves(codes: np.ndarray, score: np.ndarray, npig: np.ndarray,
            rec_thr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolated precision ``(A, T, R)``, final recall ``(A, T)``, scores ``(A, T, R)``.

    Precision only rises at a true positive (between two, ``tp`` stays and ``fp`` grows),
    so its running maximum from the right, sampled where the recall first reaches each
    threshold (itself a true positive), is a maximum over the true positives only: the
    work is per true positive, not per detection. The values are pycocotools' own
    ``tp / (fp + tp + np.spacing(1))`` on the same integer counts, bit for bit.

    Args:
        codes: ``(A * T, n)`` outcome codes of the category's detections, canonical order.
        score: ``(n,)`` their scores.
        npig: ``(A,)`` non-ignored GT counts (columns with 0 are garbage, masked by caller).
        rec_thr: ``(R,)`` recall thresholds.
    """
    cols, n = codes.shape
    n_area = len(npig)
    n_thr = cols // n_area
    n_rec = len(rec_thr)
    npig_col = np.repeat(np.maximum(npig, 1), n_thr)  # (C,)
    if n == 0:
        z = np.zeros((n_area, n_thr, n_rec))
        return z, np.zeros((n_area, n_thr)), z.copy()
    # the counted detections (TP or FP), row-major; a TP's rank among them is tp + fp
    counted = np.flatnonzero(codes != IGNORED)
    is_tp = codes.ravel()[counted] == TP
    rank = np.flatnonzero(is_tp)  # index of each TP among the counted detections
    tp_flat = counted[rank]
    tp_row, tp_pos = np.divmod(tp_flat, n)
    n_tp = np.bincount(tp_row, minlength=cols)  # (C,) true positives per row
    first_tp = np.concatenate([[0], np.cumsum(n_tp)[:-1]])  # index of a row's first TP
    count = np.arange(1, tp_row.size + 1) - first_tp[tp_row]  # tp at each true positive
    first_counted = np.searchsorted(counted, np.arange(cols) * n)  # (C,)
    fp_count = rank - first_counted[tp_row] + 1 - count
    tpf = count.astype(np.float64)
    pr = tpf / (fp_count.astype(np.float64) + tpf + _EPS)
    rc_final = n_tp.astype(np.float64) / npig_col
    # the k-th true positive (k = smallest count whose recall reaches the threshold) is
    # where pycocotools' searchsorted lands; k <= 0: the first detection; k > n_tp: none
    need = min_count(npig_col, rec_thr)  # (C, R)
    at = np.minimum(np.maximum(need - 1, 0), n_tp[:, None])  # index in the row's TPs
    # each row's precisions followed by one 0 (the value past the last detection)
    base = first_tp + np.arange(cols)
    padded = np.zeros(tp_row.size + cols)
    padded[np.arange(tp_row.size) + tp_row] = pr
    starts = np.concatenate([at, n_tp[:, None]], axis=1) + base[:, None]
    blocks = np.maximum.reduceat(padded, starts.ravel()).reshape(cols, n_rec + 1)
    q = np.maximum.accumulate(blocks[:, :n_rec][:, ::-1], axis=1)[:, ::-1]
    hit = need <= n_tp[:, None]
    first = np.maximum(need, 1) - 1 + first_tp[:, None]
    where = np.where(need <= 0, 0, tp_pos[np.minimum(first, max(tp_row.size - 1, 0))]
                     if tp_row.size else 0)
    ss = np.where(hit, score[where], 0.0)
    return (q.reshape(n_area, n_thr, n_rec), rc_final.reshape(n_area, n_thr),
            ss.reshape(n_area, n_thr, n_rec))


def min_count(npig: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Smallest integer ``c`` with ``float(c) / npig >= x``, shape ``(C, R)`` (``npig``
    of shape ``(C,)``).

    Reproduces the comparison ``rc >= recThrs`` of ``np.searchsorted`` exactly, including
    the rounding of the float division.
    """
    npig_f = npig.astype(np.float64)[:, None]
    guess = np.maximum(np.floor(thresholds[None, :] * npig_f).astype(np.int64) - 2, 0)
    out = np.full(guess.shape, -1, dtype=np.int64)
    for step in range(6):
        c = guess + step
        hit = (out < 0) & (c.astype(np.float64) / npig_f >= thresholds[None, :])
        out[hit] = c[hit]
    return out


SummarySpec = tuple[bool, float | None, str, int]
"""One summary number: (AP rather than AR, IoU threshold or None for all, area label,
``maxDets``)."""


def summary_spec(params: CocoParams) -> list[SummarySpec]:
    """The 12 slices of ``COCOeval.summarize``, in ``stats`` order.

    As in pycocotools, AP is looked up at ``maxDets=100`` for the first entry (-1 when 100
    is not in ``max_detections``) and at the last ``max_detections`` for the others.
    """
    md = params.max_detections
    last = md[2] if len(md) >= 3 else md[-1]  # pycocotools: maxDets[2]
    return [
        (True, None, "all", 100), (True, 0.5, "all", last), (True, 0.75, "all", last),
        (True, None, "small", last), (True, None, "medium", last), (True, None, "large", last),
        (False, None, "all", md[0]), (False, None, "all", md[1] if len(md) > 1 else last),
        (False, None, "all", last), (False, None, "small", last),
        (False, None, "medium", last), (False, None, "large", last),
    ]


def summarize(acc: Accumulated, params: CocoParams) -> np.ndarray:
    """The 12 numbers of ``COCOeval.summarize`` (``stats``, :func:`summary_spec`), -1
    where undefined."""
    return np.array([summary_value(acc, params, *s) for s in summary_spec(params)])


def summary_value(acc: Accumulated, params: CocoParams, ap: bool, iou: float | None,
                  area: str, max_det: int, category: int | None = None) -> float:
    """Mean of the defined entries of one slice (``COCOeval.summarize._summarize``).

    Args:
        category: Restrict to one K index (per-class metrics); all categories if None.
    """
    a = [i for i, r in enumerate(params.area_ranges) if r.label == area]
    m = [i for i, d in enumerate(params.max_detections) if d == max_det]
    s = acc.precision if ap else acc.recall
    if iou is not None:
        s = s[np.where(iou == params.iou_array)[0]]
    if category is not None:
        s = s[:, :, [category]] if ap else s[:, [category]]
    s = s[:, :, :, a, m] if ap else s[:, :, a, m]
    return mean_defined(s)
