"""The COCO / LVIS AP family under image weights, without re-matching.

A bootstrap replicate is the evaluation of a multiset of images: image ``i`` drawn
``w[i]`` times. Its detections then appear ``w[i]`` times each (tied with themselves), its
non-ignored GT ``w[i]`` times. :func:`weighted_curves` computes what
``COCOeval.accumulate`` would give on that multiset straight from the state's per-detection
outcomes: the canonical order (category, score descending, image id, rank) does not
depend on the weights, so each replicate only needs weighted cumulative TP / FP counts.

Two facts make it cheap. Precision only peaks at true positives (an FP lowers it), and the
recall thresholds are always first reached at a true positive, so the interpolated
precision at recall ``r`` is the largest precision over the TPs from the first whose
weighted count reaches ``r``: only TP positions are evaluated, with the weighted count of
non-ignored detections before each. Detections after a column's last TP never matter.
With all weights 1 this is ``accumulate`` exactly (same float operations on the same
integer counts); ``tests/unit/test_stats_coco.py`` checks it.
"""

from __future__ import annotations

__all__ = ["WeightedCurves", "coco_replicates", "lvis_replicates", "weighted_curves"]

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.protocols.coco import METRIC_KEYS
from benchmark_eval.protocols.coco_accumulate import min_count, summary_spec
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import IGNORED, TP, CocoState
from benchmark_eval.protocols.lvis import LvisParams, lvis_spec
from benchmark_eval.stats.replicates import Replicates, Units

_EPS = np.spacing(1)  # pycocotools' precision denominator
_CELLS = 4_000_000  # (replicates x detections) per block: bounds the scratch memory


@dataclass(frozen=True)
class WeightedCurves:
    """Per replicate, what the summaries average (``COCOeval.eval`` reduced over recall).

    Attributes:
        precision: ``(B, T, K, A, M)`` interpolated precision averaged over the recall
            thresholds (``COCOeval.eval["precision"].mean(axis=R)``), NaN where undefined.
        recall: ``(B, T, K, A, M)`` final recall, NaN where undefined (no GT counted).
    """

    precision: np.ndarray
    recall: np.ndarray


def units_of(state: CocoState) -> Units:
    """The images with a detection or a GT instance (the others contribute nothing)."""
    return Units(np.unique(np.concatenate([state.det_image, state.gt_image])),
                 state.n_images)


def _gt_counts(state: CocoState, unit: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Weighted non-ignored GT per replicate, category and area range, ``(B, K, A)``."""
    n_cat, n_area = state.gt_count.shape
    order = np.argsort(state.gt_category, kind="stable")
    cat, u, bits = state.gt_category[order], unit[order], state.gt_counted[order]
    bounds = np.searchsorted(cat, np.arange(n_cat + 1))
    out = np.zeros((len(counts), n_cat, n_area))
    step = max(1, _CELLS // max(len(u), 1))
    for lo in range(0, len(counts), step):
        w = counts[lo:lo + step][:, u].astype(np.float64)  # (b, G)
        for a in range(n_area):
            cum = np.zeros((len(w), len(u) + 1))
            np.cumsum(w * ((bits >> a) & 1), axis=1, out=cum[:, 1:])
            out[lo:lo + step, :, a] = cum[:, bounds[1:]] - cum[:, bounds[:-1]]
    return out


def _column(w: np.ndarray, is_tp: np.ndarray, npig: np.ndarray, rec_thr: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Mean interpolated precision and final recall of one (category, area, threshold,
    maxDets) column for a block of replicates.

    Args:
        w: ``(b, n)`` weights of the column's non-ignored detections up to its last TP.
        is_tp: ``(n,)`` which of them are TPs.
        npig: ``(b,)`` weighted non-ignored GT (> 0 where it matters).
    """
    at = np.flatnonzero(is_tp)
    seen = np.cumsum(w, axis=1)[:, at]  # non-ignored detections up to each TP
    tp = np.cumsum(w[:, at], axis=1)
    precision = tp / ((seen - tp) + tp + _EPS)
    need = min_count(np.maximum(npig, 1.0), rec_thr).astype(np.float64)  # (b, R)
    span = float(tp[:, -1].max() + need.max() + 1.0)
    shift = (np.arange(len(w)) * span)[:, None]
    pos = np.searchsorted((tp + shift).ravel(), (need + shift).ravel(), side="left")
    pos = pos.reshape(need.shape) - np.arange(len(w))[:, None] * len(at)
    best = np.zeros((len(w), len(at) + 1))  # suffix maxima; 0 past the last TP
    best[:, :-1] = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    q = np.take_along_axis(best, np.minimum(pos, len(at)), axis=1)
    return q.mean(axis=1), tp[:, -1] / np.maximum(npig, 1.0)


def weighted_curves(state: CocoState, params: CocoParams, units: Units,
                    counts: np.ndarray) -> WeightedCurves:
    """What ``COCOeval.accumulate`` gives on each replicate's multiset of images.

    Args:
        state: Merged state (with its per-GT split).
        params: The parameters it was computed with.
        units: :func:`units_of` the state, or a superset (paired comparisons).
        counts: ``(B, len(units.keys))`` times each image is drawn.
    """
    n_cat, n_area = state.gt_count.shape
    n_thr, max_dets = len(params.iou_thresholds), params.max_detections
    rec_thr = params.recall_array
    shape = (len(counts), n_thr, n_cat, n_area, len(max_dets))
    precision, recall = np.full(shape, np.nan), np.full(shape, np.nan)
    npig = _gt_counts(state, units.index(state.gt_image), counts)
    order = np.lexsort((state.det_rank, state.det_image, -state.det_score, state.det_category))
    seg = np.searchsorted(state.det_category[order], np.arange(n_cat + 1))
    det_unit = units.index(state.det_image)[order]
    outcome, ranks = state.det_outcome[order], state.det_rank[order]
    for k in range(n_cat):
        for a in np.flatnonzero((npig[:, k] > 0).any(axis=0)).tolist():
            defined = npig[:, k, a] > 0
            precision[defined, :, k, a], recall[defined, :, k, a] = 0.0, 0.0
            for m, max_det in enumerate(max_dets):
                idx = np.arange(seg[k], seg[k + 1])[ranks[seg[k]:seg[k + 1]] < max_det]
                for t in range(n_thr):
                    code = outcome[idx, a, t]
                    tps = np.flatnonzero(code == TP)
                    if not len(tps):
                        continue
                    keep = np.flatnonzero(code[:tps[-1] + 1] != IGNORED)
                    u, is_tp = det_unit[idx[keep]], code[keep] == TP
                    step = max(1, _CELLS // len(keep))
                    for lo in range(0, len(counts), step):
                        rows = np.flatnonzero(defined[lo:lo + step]) + lo
                        if not len(rows):
                            continue
                        q, r = _column(counts[rows][:, u].astype(np.float64), is_tp,
                                       npig[rows, k, a], rec_thr)
                        precision[rows, t, k, a, m], recall[rows, t, k, a, m] = q, r
    return WeightedCurves(precision=precision, recall=recall)


def _mean(values: np.ndarray) -> np.ndarray:
    """Per replicate (axis 0), the mean of the defined entries (NaN if none)."""
    flat = values.reshape(len(values), -1)
    n = (~np.isnan(flat)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(flat, axis=1) / np.maximum(n, 1), np.nan)


def _slice(c: WeightedCurves, params: CocoParams, ap: bool, iou: float | None, area: str,
           max_det: int | None, cats: list[int] | None) -> np.ndarray:
    s = c.precision if ap else c.recall
    t = (np.arange(s.shape[1]) if iou is None
         else np.flatnonzero(params.iou_array == iou))
    a = [i for i, r in enumerate(params.area_ranges) if r.label == area]
    m = [i for i, d in enumerate(params.max_detections) if max_det is None or d == max_det]
    if not len(t) or not a or not m:
        return np.full(len(s), np.nan)
    k = np.arange(s.shape[2]) if cats is None else np.asarray(cats, dtype=np.intp)
    return _mean(s[:, t][:, :, k][:, :, :, a][..., m])


def _per_class(c: WeightedCurves, params: CocoParams, keys: list[Any], names: tuple[str, ...]
               ) -> dict[Any, dict[str, np.ndarray]]:
    """Per category: ``AP`` / ``AP50`` / ``AP75`` / ``AR100`` as ``per_class_values``."""
    out: dict[Any, dict[str, np.ndarray]] = {}
    for k, key in enumerate(keys):
        p, r = c.precision[:, :, [k], 0, -1], c.recall[:, :, [k], 0, -1]
        values = {"AP": _mean(p), "AR100": _mean(r)}
        for name, thr in (("AP50", 0.5), ("AP75", 0.75)):
            t = np.flatnonzero(params.iou_array == thr)
            values[name] = _mean(p[:, t]) if len(t) else np.full(len(p), np.nan)
        out[key] = {n: values[n] for n in names}
    return out


def coco_replicates(state: CocoState, params: CocoParams, units: Units, counts: np.ndarray,
                    class_keys: list[Any]) -> Replicates:
    """``metrics`` (the 12 of ``COCOeval.stats``, ``AP`` at the last ``maxDets``) and
    per-class values of each replicate."""
    c = weighted_curves(state, params, units, counts)
    metrics = {key: _slice(c, params, *spec, None)
               for key, spec in zip(METRIC_KEYS, summary_spec(params), strict=True)}
    metrics["AP"] = _slice(c, params, True, None, "all", params.max_detections[-1], None)
    return Replicates(metrics, _per_class(c, params, class_keys, ("AP", "AP50", "AP75",
                                                                     "AR100")))


def lvis_replicates(state: CocoState, params: LvisParams, frequency: np.ndarray,
                    units: Units, counts: np.ndarray, class_keys: list[Any]) -> Replicates:
    """lvis-api's ``results`` and per-class AP / AP50 / AP75 of each replicate."""
    engine = params.engine_params()
    c = weighted_curves(state, engine, units, counts)
    metrics = {key: _slice(c, engine, ap, iou, area, None, cats)
               for key, (ap, iou, area, cats) in lvis_spec(params, frequency).items()}
    return Replicates(metrics, _per_class(c, engine, class_keys, ("AP", "AP50", "AP75")))
