"""Protocol ``coco-panoptic``: PQ, SQ and RQ as panopticapi computes them.

Reproduces cocodataset/panopticapi ``panopticapi/evaluation.py`` (``pq_compute_single_core``
and ``PQStat.pq_average``, unchanged since 2018; the same code ships in cityscapesScripts
2.3.0 ``evaluation/evalPanopticSemanticLabeling.py``). Pure computation on arrays:
:func:`image_stats` (one image's pair overlaps -> matches) -> :func:`accumulate` (per-category
sums, :class:`PanopticState`) -> :func:`compute` (per-class and averaged PQ / SQ / RQ).

Per image, for every (ground-truth segment g, predicted segment p) pair with
``I = |g ∩ p|`` pixels:

* a match needs the same category and a non-crowd g; ``IoU = I / (area_p + area_g - I -
  |p ∩ VOID|)`` with ``area_g`` from the JSON and ``area_p`` from the PNG; TP iff
  ``IoU > 0.5`` (strictly);
* an unmatched non-crowd g is a FN; crowd g never count;
* an unmatched p is a FP unless more than half of its pixels lie on VOID or on the crowd
  region of its own category -- one crowd region per category: the last one listed in
  ``segments_info``, as the official dict keeps it.

Per category: ``PQ = iou_sum / (tp + fp/2 + fn/2)``, ``SQ = iou_sum / tp`` (0 if ``tp = 0``),
``RQ = tp / (tp + fp/2 + fn/2)``. All / Things / Stuff are unweighted means over the
categories of the group with ``tp + fp + fn > 0``.
"""

from __future__ import annotations

__all__ = [
    "GROUPS",
    "IGNORE_FRACTION",
    "IOU_THRESHOLD",
    "METRIC_KEYS",
    "ImageStats",
    "PanopticBoundaryParams",
    "PanopticMetrics",
    "PanopticParams",
    "accumulate",
    "area_notices",
    "compute",
    "frame_stats",
    "image_stats",
    "size_notices",
]

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from benchmark_eval.errors import Notice
from benchmark_eval.masks.boundary import DEFAULT_DILATION_RATIO
from benchmark_eval.masks.panoptic import SegmentPairs, segment_pairs
from benchmark_eval.masks.panoptic_boundary import boundary_pairs
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.schema.instances import lookup_rows
from benchmark_eval.schema.panoptic import VOID, PanopticFrame, Segments

_NO_MISMATCHES = np.zeros((0, 4), dtype=np.float64)  # rows of ImageStats.area_mismatches
_NO_MISMATCHES.setflags(write=False)

IOU_THRESHOLD = 0.5  # TP iff IoU > 0.5, strictly: the match is then unique
IGNORE_FRACTION = 0.5  # an unmatched prediction is ignored iff its VOID + crowd share > 0.5
# (suffix, isthing filter) of the averaged groups: All, Things, Stuff
GROUPS: tuple[tuple[str, bool | None], ...] = (("", None), ("_th", True), ("_st", False))
METRIC_KEYS = tuple(f"{m}{suffix}" for suffix, _ in GROUPS for m in ("PQ", "SQ", "RQ", "N"))
_GROUP_NAMES = {"": ("All", ""), "_th": ("Things", "thing "), "_st": ("Stuff", "stuff ")}


class PanopticParams(BaseModel):
    """Parameters of ``coco-panoptic`` and ``cityscapes-panoptic``: none (panopticapi
    ``pq_compute`` has no options); a model all the same, so presets and ``--config`` work
    as for every protocol."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PanopticBoundaryParams(BaseModel):
    """Parameters of ``coco-panoptic-boundary`` (Boundary PQ).

    Attributes:
        boundary_dilation_ratio: Band width as a fraction of the image diagonal,
            ``d = max(1, round(ratio * sqrt(h² + w²)))`` (boundary-iou-api
            ``pq_compute(dilation_ratio=0.02)``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    boundary_dilation_ratio: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = (
        DEFAULT_DILATION_RATIO)


@dataclass(frozen=True)
class ImageStats:
    """One image's outcome, as indices into the category axis.

    Attributes:
        tp_category: Category index of each true positive, in panopticapi's order (pairs
            sorted by ``gt_id * 256³ + pred_id``), shape ``(T,)``, int64.
        tp_iou: IoU of each true positive, shape ``(T,)``, float64.
        fp_category: Category index of each false positive, int64.
        fn_category: Category index of each false negative, int64.
        area_mismatches: Ground-truth segments whose JSON ``area`` differs from their pixel
            count, rows ``(image id, segment id, JSON area, pixels)``, shape ``(M, 4)``,
            float64 (panopticapi uses the JSON area in the union: a notice, not an error).
    """

    tp_category: np.ndarray
    tp_iou: np.ndarray
    fp_category: np.ndarray
    fn_category: np.ndarray
    area_mismatches: np.ndarray = field(default_factory=lambda: _NO_MISMATCHES)
    image_id: int = 0


def image_stats(pairs: SegmentPairs, gt: Segments, pred: Segments,
                category_ids: np.ndarray, *, boundary_pairs: SegmentPairs | None = None,
                image_id: int = 0) -> ImageStats:
    """Match one image's segments (panopticapi ``pq_compute_single_core``, one iteration).

    Args:
        pairs: Pixel counts of every (GT id, predicted id) pair of the image.
        gt: The image's ground-truth segments (``areas`` from the JSON are used).
        pred: The image's predicted segments (areas are taken from ``pairs``).
        category_ids: The category axis (ids in the ground truth's order).
        boundary_pairs: Boundary PQ (boundary-iou-api ``iou_type="boundary"``): the pixel
            counts of the two band maps
            (:func:`benchmark_eval.masks.panoptic_boundary.boundary_pairs`). Each pair's IoU
            becomes ``min(mask IoU, boundary IoU)``, for the TP test and the IoU sum.
        image_id: Names the image in :attr:`ImageStats.area_mismatches`.

    Inputs must be consistent (every non-VOID id in ``pairs`` listed, every listed
    prediction present, known categories): adapters check that first.
    """
    g_row, p_row = lookup_rows(gt.ids, pairs.gt_ids), lookup_rows(pred.ids, pairs.pred_ids)
    count = pairs.counts
    p_ok = p_row >= 0
    pred_area = np.bincount(p_row[p_ok], weights=count[p_ok], minlength=len(pred))
    on_void = p_ok & (pairs.gt_ids == VOID)
    pred_void = np.zeros(len(pred), dtype=np.int64)
    pred_void[p_row[on_void]] = count[on_void]

    both = (g_row >= 0) & p_ok
    gr, pr, inter = g_row[both], p_row[both], count[both]
    same = ~gt.iscrowd[gr] & (gt.category_ids[gr] == pred.category_ids[pr])
    gr, pr, inter = gr[same], pr[same], inter[same]
    # union without the prediction's VOID pixels; left to right as the official expression
    union = pred_area[pr] + gt.areas[gr] - inter - pred_void[pr]
    iou = inter / union
    if boundary_pairs is not None:
        iou = np.minimum(iou, _boundary_iou(boundary_pairs, gt.ids[gr], pred.ids[pr]))
    tp = iou > IOU_THRESHOLD
    gt_matched = np.zeros(len(gt), dtype=bool)
    gt_matched[gr[tp]] = True
    pred_matched = np.zeros(len(pred), dtype=bool)
    pred_matched[pr[tp]] = True

    fn = ~gt_matched & ~gt.iscrowd
    ignored = _ignored_share(g_row, p_row, count, gt, pred, pred_void) / pred_area
    fp = ~pred_matched & ~(ignored > IGNORE_FRACTION)
    cat = lookup_rows(category_ids, gt.category_ids)
    return ImageStats(tp_category=cat[gr[tp]], tp_iou=iou[tp],
                      fp_category=lookup_rows(category_ids, pred.category_ids[fp]),
                      fn_category=cat[fn],
                      area_mismatches=_area_mismatches(pairs, gt, image_id),
                      image_id=image_id)


def _area_mismatches(pairs: SegmentPairs, gt: Segments, image_id: int) -> np.ndarray:
    """Rows ``(image id, segment id, JSON area, pixels)`` of the GT segments present in
    ``pairs`` whose JSON area differs from their pixel count."""
    ids, pixels = pairs.gt_areas()
    pos = np.searchsorted(ids, gt.ids)
    found = pos < len(ids)
    found[found] = ids[pos[found]] == gt.ids[found]
    counted = np.zeros(len(gt), dtype=np.int64)
    counted[found] = pixels[pos[found]]
    differ = np.flatnonzero(found & (counted != gt.areas))
    if not len(differ):
        return _NO_MISMATCHES
    return np.stack([np.full(len(differ), image_id, dtype=np.float64),
                     gt.ids[differ].astype(np.float64), gt.areas[differ],
                     counted[differ].astype(np.float64)], axis=1)


def _boundary_iou(bands: SegmentPairs, gt_ids: np.ndarray, pred_ids: np.ndarray
                  ) -> np.ndarray:
    """``|B_g ∩ B_p| / (|B_p| + |B_g| - |B_g ∩ B_p| - |B_p ∩ VOID|)`` of each (g, p)
    (boundary-iou-api: the prediction's band pixels on GT VOID leave the union)."""
    band_gt_ids, band_gt_area = bands.gt_areas()
    band_pred_ids, band_pred_area = bands.pred_areas()
    keys = (bands.gt_ids << 24) | bands.pred_ids  # sorted (SegmentPairs order)
    counts = bands.counts

    def lookup(table: np.ndarray, values: np.ndarray, want: np.ndarray) -> np.ndarray:
        at = lookup_rows(table, want)
        return np.where(at >= 0, values[np.maximum(at, 0)], 0)

    inter = lookup(keys, counts, (gt_ids << 24) | pred_ids)
    void = lookup(keys, counts, (np.int64(VOID) << 24) | pred_ids)
    union = (lookup(band_pred_ids, band_pred_area, pred_ids)
             + lookup(band_gt_ids, band_gt_area, gt_ids) - inter - void)
    return np.asarray(inter / union, dtype=np.float64)


def _ignored_share(g_row: np.ndarray, p_row: np.ndarray, count: np.ndarray, gt: Segments,
                   pred: Segments, pred_void: np.ndarray) -> np.ndarray:
    """Pixels of each prediction on VOID or on the crowd region of its own category."""
    crowd_rows = np.flatnonzero(gt.iscrowd)
    # later crowd segments of a category overwrite earlier ones, as in the official dict
    crowd_of = dict(zip(gt.category_ids[crowd_rows].tolist(), crowd_rows.tolist(),
                        strict=True))
    out = pred_void.astype(np.int64)
    if not crowd_of:
        return out
    crowd_row = np.array([crowd_of.get(c, -1) for c in pred.category_ids.tolist()],
                         dtype=np.int64)
    on_crowd = (p_row >= 0) & (g_row >= 0)
    on_crowd[on_crowd] = g_row[on_crowd] == crowd_row[p_row[on_crowd]]
    np.add.at(out, p_row[on_crowd], count[on_crowd])
    return out


def frame_stats(gt: PanopticFrame, pred: PanopticFrame, category_ids: np.ndarray, *,
                dilation_ratio: float | None = None) -> ImageStats:
    """:func:`image_stats` of two in-memory frames (id maps of the same shape); with a
    ``dilation_ratio``, Boundary PQ's (boundary-iou-api ``iou_type="boundary"``)."""
    bands = (None if dilation_ratio is None
             else boundary_pairs(gt.id_map, pred.id_map, dilation_ratio))
    return image_stats(segment_pairs(gt.id_map, pred.id_map), gt.segments, pred.segments,
                       category_ids, boundary_pairs=bands, image_id=gt.image_id)


def accumulate(category_ids: np.ndarray, images: Iterable[ImageStats]) -> PanopticState:
    """Sum image outcomes per category, in order (``PQStat`` ``+=`` over one process).

    IoUs are added one by one in image and pair order, so one process gives exactly the
    official sums; merging states of several shards regroups the float additions.
    """
    k = len(category_ids)
    iou = np.zeros(k, dtype=np.float64)
    tp, fp, fn = (np.zeros(k, dtype=np.int64) for _ in range(3))
    mismatches = [_NO_MISMATCHES]
    ids: list[int] = []
    rows: list[np.ndarray] = []
    for s in images:
        np.add.at(iou, s.tp_category, s.tp_iou)
        image = np.stack([np.bincount(s.tp_category, weights=s.tp_iou, minlength=k),
                          *(np.bincount(c, minlength=k) for c in (
                              s.tp_category, s.fp_category, s.fn_category))], axis=1)
        tp += image[:, 1].astype(np.int64)
        fp += image[:, 2].astype(np.int64)
        fn += image[:, 3].astype(np.int64)
        if len(s.area_mismatches):
            mismatches.append(s.area_mismatches)
        ids.append(s.image_id)
        rows.append(image)
    every = np.concatenate(rows) if rows else np.zeros((0, 4))
    kept = np.flatnonzero(every[:, 1:].any(axis=1))  # rows of categories with a segment
    per_image = np.bincount(kept // k, minlength=len(ids)) if k else np.zeros(len(ids))
    return PanopticState(category_ids=np.asarray(category_ids, dtype=np.int64), iou=iou,
                         tp=tp, fp=fp, fn=fn, n_images=len(ids),
                         area_mismatches=np.concatenate(mismatches),
                         image_ids=np.array(ids, dtype=np.int64),
                         image_rows=per_image.astype(np.int64),
                         row_category=(kept % k).astype(np.int64) if k else kept,
                         row_stats=every[kept])


def area_notices(mismatches: np.ndarray) -> list[Notice]:
    """The ``gt-area-mismatch`` notice of :attr:`PanopticState.area_mismatches`, if any:
    panopticapi takes a GT segment's area from the JSON, not from its PNG, so a wrong
    ``area`` changes the IoU union. Reproduced, and reported."""
    if not len(mismatches):
        return []
    image_id, segment, area, pixels = mismatches[0].tolist()
    return [Notice("gt-area-mismatch", (
        f"{len(mismatches)} ground-truth segment(s) have an 'area' that differs from their"
        f" pixel count in the PNG (first: image_id={int(image_id)}, segment {int(segment)}:"
        f" area {area:g}, {int(pixels)} pixels); panopticapi uses the JSON area in the IoU"
        " union. Reproduced."))]


def size_notices(mismatched: list[str]) -> list[Notice]:
    """The ``images-size`` notice: ground-truth ``images[]`` records whose size differs
    from their PNG (``mismatched``, as the adapter names them). panopticapi never reads
    ``images[]``; the PNG size is used, as here. ``validate`` lists each as a problem."""
    if not mismatched:
        return []
    return [Notice("images-size", (
        f"{len(mismatched)} ground-truth image(s) have an images[] size that differs from"
        f" their PNG (first: image_id={mismatched[0]}); panopticapi does not read images[]:"
        " the PNG size is used. Reproduced."))]


@dataclass(frozen=True)
class PanopticMetrics:
    """What :func:`compute` derives from a merged state.

    Attributes:
        metrics: ``PQ SQ RQ N`` for All, ``_th`` Things and ``_st`` Stuff (:data:`METRIC_KEYS`);
            fractions, ``None`` for a group without any category with ``tp + fp + fn > 0``
            (panopticapi divides by zero there); ``N`` counts those categories.
        pq, sq, rq: Per category (state order), float64, NaN where ``tp + fp + fn = 0``
            (panopticapi reports 0.0 there and leaves the category out of the means).
        notices: A ``gt-area-mismatch`` notice (:func:`area_notices`), then one
            ``empty-group`` notice per group that is ``None``.
    """

    metrics: dict[str, float | int | None]
    pq: np.ndarray
    sq: np.ndarray
    rq: np.ndarray
    notices: list[Notice]


def compute(state: PanopticState, isthing: np.ndarray) -> PanopticMetrics:
    """Per-class and averaged PQ / SQ / RQ (panopticapi ``PQStat.pq_average``).

    Args:
        state: Merged statistics.
        isthing: Thing flag per category of ``state.category_ids``.

    Example:
        >>> s = PanopticState(np.array([1, 2]), iou=np.array([1.5, 0.0]),
        ...                   tp=np.array([2, 0]), fp=np.array([1, 0]), fn=np.array([1, 0]))
        >>> m = compute(s, np.array([True, False]))
        >>> m.metrics["PQ"], m.metrics["SQ"], m.metrics["RQ"], m.metrics["N_st"]
        (0.5, 0.75, 0.6666666666666666, 0)
    """
    tp, fp, fn = state.tp, state.fp, state.fn
    defined = (tp + fp + fn) > 0
    denominator = tp + 0.5 * fp + 0.5 * fn
    with np.errstate(divide="ignore", invalid="ignore"):
        pq = np.where(defined, state.iou / denominator, np.nan)
        sq = np.where(defined, np.where(tp != 0, state.iou / tp, 0.0), np.nan)
        rq = np.where(defined, tp / denominator, np.nan)
    metrics: dict[str, float | int | None] = {}
    notices = area_notices(state.area_mismatches)
    thing = np.asarray(isthing, dtype=bool)
    for suffix, want in GROUPS:
        rows = np.flatnonzero(defined & (True if want is None else thing == want))
        n = len(rows)
        for name, values in (("PQ", pq), ("SQ", sq), ("RQ", rq)):
            total = 0.0
            for v in values[rows].tolist():  # sequential sum in category order, as official
                total += v
            metrics[f"{name}{suffix}"] = total / n if n else None
        metrics[f"N{suffix}"] = n
        if not n:
            group, kind = _GROUP_NAMES[suffix]
            notices.append(Notice("empty-group", f"no {kind}category has any ground-truth or"
                                  f" predicted segment: PQ/SQ/RQ of '{group}' are null"
                                  " (panopticapi raises ZeroDivisionError here)"))
    return PanopticMetrics(metrics={k: metrics[k] for k in METRIC_KEYS}, pq=pq, sq=sq, rq=rq,
                           notices=notices)
