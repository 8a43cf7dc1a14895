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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols.coco import METRIC_KEYS
from benchmark_eval.protocols.coco_accumulate import min_count, summary_spec
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import IGNORED, TP, CocoState
from benchmark_eval.protocols.lvis import LvisParams, lvis_spec
from benchmark_eval.stats.replicates import Replicates, Units

try:  # the C kernel (pyproject.toml ext-modules); numpy below without a compiler
    from benchmark_eval.stats import _bootstrap  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the build
    _bootstrap = None

_EPS = np.spacing(1)  # pycocotools' precision denominator
_CELLS = 8_000_000  # (detections x replicates) per block: bounds the scratch memory
_CURVE_CELLS = 10_000_000  # (replicates x T x K x A x M) per block of curves


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
    """The images with a detection or a GT instance (the others contribute nothing).

    Raises:
        ConfigError: A state saved without its per-GT split (before it existed).
    """
    if state.gt_count.any() and not len(state.gt_image):
        raise ConfigError("this COCO state has no per-image GT split (saved by an older"
                          " version); evaluate again to resample its images")
    return Units(np.unique(np.concatenate([state.det_image, state.gt_image])),
                 state.n_images)


def _gt_counts(state: CocoState, unit: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Weighted non-ignored GT per replicate, category and area range, ``(B, K, A)``."""
    n_cat, n_area = state.gt_count.shape
    bits = ((state.gt_counted[:, None] >> np.arange(n_area)) & 1).astype(np.float64)
    order = np.lexsort((unit, state.gt_category))
    cat, u, bits = state.gt_category[order], unit[order], bits[order]
    # one row per (category, image): its non-ignored GT per area range
    first = np.flatnonzero(np.r_[True, (cat[1:] != cat[:-1]) | (u[1:] != u[:-1])]) if len(
        cat) else np.zeros(0, dtype=np.intp)
    per_row = np.add.reduceat(bits, first, axis=0) if len(cat) else bits
    cat, u = cat[first], u[first]
    bounds = np.searchsorted(cat, np.arange(n_cat + 1))
    out = np.zeros((len(counts), n_cat, n_area))
    weights = counts.astype(np.float64)
    for k in np.flatnonzero(np.diff(bounds)).tolist():
        rows = slice(bounds[k], bounds[k + 1])
        out[:, k] = weights[:, u[rows]] @ per_row[rows]
    return out


def _need(npig: np.ndarray, rec_thr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`min_count` of every weighted GT count: a table over the distinct counts
    ``(V, R)`` and each count's row ``(B, K, A)`` (replicates share few distinct counts)."""
    values, inverse = np.unique(np.maximum(npig, 1.0), return_inverse=True)
    return min_count(values, rec_thr), inverse.reshape(npig.shape)


def _precision_means(tp: np.ndarray, seen: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Mean over recall thresholds of the interpolated precision, per replicate.

    Args:
        tp: ``(b, P)`` weighted TP count at each TP of the column, in order.
        seen: ``(b, P)`` weighted non-ignored detections up to each TP (TP + FP).
        need: ``(b, R)`` int64, smallest TP count reaching each recall threshold.
    """
    b, n = tp.shape
    # pycocotools: tp / (fp + tp + eps) on float counts; fp + tp is ``seen`` exactly
    precision = tp / (seen.astype(np.float64) + _EPS)
    span = int(tp[:, -1].max()) + int(need.max()) + 1
    shift = (np.arange(b, dtype=np.int64) * span)[:, None]
    pos = np.searchsorted((tp + shift).ravel(), (need + shift).ravel(), side="left")
    pos = pos.reshape(need.shape) - np.arange(b)[:, None] * n
    best = np.zeros((b, n + 1))  # suffix maxima; 0 past the last TP
    best[:, :-1] = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    means: np.ndarray = np.take_along_axis(best, np.minimum(pos, n), axis=1).mean(axis=1)
    return means


@dataclass(frozen=True)
class _Column:
    """What one (category, area range, threshold) column needs, whatever the weights:
    its TP positions, where they fall in the area's base set, and the corrections."""

    at: np.ndarray  # TP positions (canonical order, within the category's detections)
    in_base: np.ndarray  # base members up to each TP (index into the padded cumsum)
    diff: np.ndarray  # positions counted differently from the base, up to the last TP
    sign: np.ndarray  # +1 counted here but not in the base, -1 the other way round
    in_diff: np.ndarray  # corrections up to each TP


def _columns(code: np.ndarray) -> tuple[np.ndarray, list[_Column | None]]:
    """The base set (non-ignored at the first threshold, up to the last TP of any
    threshold) and the columns of one category and area range; ``code`` is ``(n, T)``.
    The other thresholds differ from the base only at matched detections."""
    counted = code != IGNORED
    tps = [np.flatnonzero(code[:, t] == TP) for t in range(code.shape[1])]
    last = max((int(at[-1]) for at in tps if len(at)), default=-1)
    base = np.flatnonzero(counted[: last + 1, 0])
    cols: list[_Column | None] = []
    for t, at in enumerate(tps):
        if not len(at):
            cols.append(None)
            continue
        diff = np.flatnonzero(counted[: at[-1] + 1, t] != counted[: at[-1] + 1, 0])
        cols.append(_Column(at, np.searchsorted(base, at, side="right"), diff,
                            np.where(counted[diff, t], 1, -1).astype(np.int32),
                            np.searchsorted(diff, at, side="right")))
    return base, cols


def _padded_cumsum(w: np.ndarray) -> np.ndarray:
    out = np.zeros((w.shape[0], w.shape[1] + 1), dtype=np.int64)
    np.cumsum(w, axis=1, out=out[:, 1:])
    return out


def _area_precision(w: np.ndarray, base: np.ndarray, cols: list[_Column | None],
                    need: np.ndarray) -> np.ndarray:
    """Mean interpolated precision ``(b, T)`` of one category and area range for a block
    of replicates; ``w`` ``(b, n)`` weighs the category's detections."""
    q = np.zeros((w.shape[0], len(cols)))
    base_cum = _padded_cumsum(w[:, base])
    for t, col in enumerate(cols):
        if col is None:
            continue
        tp = np.cumsum(w[:, col.at], axis=1, dtype=np.int64)
        seen = base_cum[:, col.in_base]
        if len(col.diff):
            seen = seen + _padded_cumsum(w[:, col.diff] * col.sign)[:, col.in_diff]
        q[:, t] = _precision_means(tp, seen, need)
    return q


def _kernel_precision(weights: np.ndarray, unit: np.ndarray, code: np.ndarray,
                      need: np.ndarray) -> np.ndarray:
    """:func:`_area_precision` of every replicate at once, by the C kernel: per replicate,
    one prefix sum over the base and one pass over each column's TPs and corrections."""
    base, cols = _columns(code)
    present = [c for c in cols if c is not None]

    def offsets(sizes: list[int]) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate([np.zeros(0, np.int64), *parts]),
                                    dtype=np.int64)

    sizes = [0 if c is None else len(c.at) for c in cols]
    diffs = [0 if c is None else len(c.diff) for c in cols]
    out = np.zeros((len(weights), len(cols)))
    _bootstrap.area_precision(
        weights, weights.shape[1], joined([unit[base]]), offsets(sizes),
        joined([unit[c.at] for c in present]), joined([c.in_base for c in present]),
        joined([c.in_diff for c in present]), offsets(diffs),
        joined([unit[c.diff] for c in present]), joined([c.sign for c in present]),
        np.ascontiguousarray(need, dtype=np.int64), need.shape[1], out)
    return out


def _hits_per_image(unit: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images with a TP among some detections and their TP count per (area,
    threshold): ``(U,)`` image positions and ``(U, A * T)``."""
    hit = (code == TP).any(axis=(1, 2))
    unit, code = unit[hit], code[hit]
    order = np.argsort(unit, kind="stable")
    sorted_unit = unit[order]
    starts = np.flatnonzero(np.r_[True, sorted_unit[1:] != sorted_unit[:-1]]) if len(
        unit) else np.zeros(0, dtype=np.intp)
    flat = (code[order] == TP).reshape(len(code), code.shape[1] * code.shape[2])
    hits = np.add.reduceat(flat.astype(np.float64), starts, axis=0) if len(unit) else (
        np.zeros((0, flat.shape[1])))
    return sorted_unit[starts], hits


def weighted_curves(state: CocoState, params: CocoParams, units: Units,
                    counts: np.ndarray) -> WeightedCurves:
    """What ``COCOeval.accumulate`` gives on each replicate's multiset of images.

    Precision is computed at the ``maxDets`` the summaries read it at (the last, and 100);
    recall at every ``maxDets``.

    Args:
        state: Merged state (with its per-GT split).
        params: The parameters it was computed with.
        units: :func:`units_of` the state, or a superset (paired comparisons).
        counts: ``(B, len(units.keys))`` times each image is drawn.
    """
    n_cat, n_area = state.gt_count.shape
    n_thr, max_dets = len(params.iou_thresholds), params.max_detections
    shape = (len(counts), n_thr, n_cat, n_area, len(max_dets))
    precision, recall = np.full(shape, np.nan), np.full(shape, np.nan)
    npig = _gt_counts(state, units.index(state.gt_image), counts)
    need_table, need_row = _need(npig, params.recall_array)
    order = np.lexsort((state.det_rank, state.det_image, -state.det_score, state.det_category))
    seg = np.searchsorted(state.det_category[order], np.arange(n_cat + 1))
    det_unit = units.index(state.det_image)[order]
    outcome, ranks = state.det_outcome[order], state.det_rank[order]
    weights = np.ascontiguousarray(counts, dtype=np.int32)
    weights_f = counts.astype(np.float64)
    with_precision = {len(max_dets) - 1} | {m for m, d in enumerate(max_dets) if d == 100}
    for k in range(n_cat):
        dets = slice(seg[k], seg[k + 1])
        areas = np.flatnonzero((npig[:, k] > 0).any(axis=0)).tolist()
        for m, max_det in enumerate(max_dets):
            sel = ranks[dets] < max_det
            unit, code = det_unit[dets][sel], outcome[dets][sel]
            images, hits = _hits_per_image(unit, code)
            final = (weights_f[:, images] @ hits).reshape(len(counts), n_area, n_thr)
            recall[:, :, k, :, m] = (final / np.maximum(npig[:, k], 1)[:, :, None]
                                     ).transpose(0, 2, 1)
            if m not in with_precision:
                continue
            if _bootstrap is not None:
                for a in areas:
                    precision[:, :, k, a, m] = _kernel_precision(
                        weights, unit, code[:, a], need_table[need_row[:, k, a]])
                continue
            prepared = {a: _columns(code[:, a]) for a in areas}
            step = max(1, _CELLS // max(len(unit), 1))
            for lo in range(0, len(counts), step):
                w = np.take(weights[lo:lo + step], unit, axis=1)  # (b, n)
                for a, (base, cols) in prepared.items():
                    precision[lo:lo + step, :, k, a, m] = _area_precision(
                        w, base, cols, need_table[need_row[lo:lo + step, k, a]])
    undefined = np.broadcast_to((npig == 0)[:, None, :, :, None], shape)
    precision[undefined] = np.nan
    recall[undefined] = np.nan
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


def _in_blocks(state: CocoState, params: CocoParams, units: Units, counts: np.ndarray,
               summarize: Callable[[WeightedCurves], Replicates]) -> Replicates:
    """``summarize(weighted_curves(...))`` over blocks of replicates, so the ``(B, T, K,
    A, M)`` curves stay small (LVIS has 1,203 categories)."""
    n_thr, (n_cat, n_area) = len(params.iou_thresholds), state.gt_count.shape
    cells = n_thr * n_cat * n_area * len(params.max_detections)
    step = max(1, _CURVE_CELLS // max(cells, 1))
    parts = [summarize(weighted_curves(state, params, units, counts[lo:lo + step]))
             for lo in range(0, len(counts), step)]
    return Replicates(
        {k: np.concatenate([p.metrics[k] for p in parts]) for k in parts[0].metrics},
        {c: {k: np.concatenate([p.per_class[c][k] for p in parts]) for k in vals}
         for c, vals in parts[0].per_class.items()})


def coco_replicates(state: CocoState, params: CocoParams, units: Units, counts: np.ndarray,
                    class_keys: list[Any]) -> Replicates:
    """``metrics`` (the 12 of ``COCOeval.stats``, ``AP`` at the last ``maxDets``) and
    per-class values of each replicate."""

    def summarize(c: WeightedCurves) -> Replicates:
        metrics = {key: _slice(c, params, *spec, None)
                   for key, spec in zip(METRIC_KEYS, summary_spec(params), strict=True)}
        metrics["AP"] = _slice(c, params, True, None, "all", params.max_detections[-1], None)
        return Replicates(metrics, _per_class(c, params, class_keys, ("AP", "AP50", "AP75",
                                                                         "AR100")))

    return _in_blocks(state, params, units, counts, summarize)


def lvis_replicates(state: CocoState, params: LvisParams, frequency: np.ndarray,
                    units: Units, counts: np.ndarray, class_keys: list[Any]) -> Replicates:
    """lvis-api's ``results`` and per-class AP / AP50 / AP75 of each replicate."""
    engine = params.engine_params()
    spec = lvis_spec(params, frequency)

    def summarize(c: WeightedCurves) -> Replicates:
        metrics = {key: _slice(c, engine, ap, iou, area, None, cats)
                   for key, (ap, iou, area, cats) in spec.items()}
        return Replicates(metrics, _per_class(c, engine, class_keys, ("AP", "AP50", "AP75")))

    return _in_blocks(state, engine, units, counts, summarize)


def keypoints_replicates(state: CocoState, params: CocoParams, units: Units,
                         counts: np.ndarray, class_keys: list[Any]) -> Replicates:
    """``coco-keypoints``: the 10 numbers of pycocotools' ``_summarizeKps`` (at the last
    ``maxDets``) and per-class ``AP`` / ``AP50`` / ``AP75`` / ``AR`` of each replicate."""
    from benchmark_eval.protocols.coco_keypoints import KEYPOINT_METRIC_KEYS, KEYPOINT_SUMMARY

    last = params.max_detections[-1]

    def summarize(c: WeightedCurves) -> Replicates:
        metrics = {key: _slice(c, params, ap, iou, area, last, None)
                   for key, (ap, iou, area) in zip(KEYPOINT_METRIC_KEYS, KEYPOINT_SUMMARY,
                                                   strict=True)}
        per_class = _per_class(c, params, class_keys, ("AP", "AP50", "AP75", "AR100"))
        return Replicates(metrics, {k: {("AR" if n == "AR100" else n): v for n, v in d.items()}
                                    for k, d in per_class.items()})

    return _in_blocks(state, params, units, counts, summarize)
