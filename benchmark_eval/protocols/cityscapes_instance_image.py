"""One image of ``cityscapes-instance``: GT segments, mask overlaps and the matching.

The per-image half of :mod:`benchmark_eval.protocols.cityscapes_instance` (cityscapesScripts
2.3.0 ``evaluation/evalInstanceLevelSemanticLabeling.py``: ``instances2dict``,
``assignGt2Preds``); see that module for the rules. :func:`instance_image_stats` is the one
per-image function: arrays in (masks given as arrays or loaders), records out.
"""

from __future__ import annotations

__all__ = [
    "FP",
    "IGNORED",
    "IOU_THRESHOLDS",
    "MIN_REGION_SIZE",
    "TP",
    "Box",
    "GtSegments",
    "ImageInstances",
    "MaskSource",
    "gt_segments",
    "instance_image_stats",
    "mask_overlaps",
    "match_image",
]

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from benchmark_eval.masks.cityscapes import KernelScratch, value_counts
from benchmark_eval.masks.cityscapes import mask_overlaps as kernel_overlaps
from benchmark_eval.schema.cityscapes import (
    INSTANCE_CLASSES,
    LABEL_BY_NAME,
    NUM_LABEL_IDS,
    VOID_LABEL_IDS,
)

IOU_THRESHOLDS = np.arange(0.5, 1.0, 0.05)
"""The official ``args.overlaps`` (``np.arange`` values, e.g. 0.6000000000000001, kept)."""
MIN_REGION_SIZE = 100
"""GT instances with fewer pixels are not targets (``args.minRegionSizes[0]``)."""

# Outcome codes per prediction and IoU threshold.
IGNORED = 0  # on a group / small instance / mostly void: no record
TP = 1
FP = 2

Box = tuple[int, int, int, int]
"""First row, last row + 1, first column, last column + 1 of a mask's non-zero pixels."""
MaskSource = np.ndarray | Callable[[], tuple[np.ndarray, Box | None]]
"""A predicted mask: an ``(H, W)`` array, or a loader returning the mask and its box (None
if unknown), called once, when the prediction is counted."""

_K = len(INSTANCE_CLASSES)
_CLASS_OF_LABEL = np.full(NUM_LABEL_IDS, -1, dtype=np.int64)
for _k, _name in enumerate(INSTANCE_CLASSES):
    _CLASS_OF_LABEL[LABEL_BY_NAME[_name].id] = _k
_VOID = np.array(sorted(v for v in VOID_LABEL_IDS if v >= 0), dtype=np.int64)
_LUT_LIMIT = 1 << 17  # instance maps with larger values use searchsorted, not a table


@dataclass(frozen=True)
class GtSegments:
    """The segments of one GT instance-id map.

    Attributes:
        values: Every value present, ascending, ``(G,)`` int64.
        areas: Pixels of each, int64.
        labels: Label id of each (``v`` or ``v // 1000``), int64.
        void: The value is an ignored label id (the official void mask).
        lut: Value -> segment index table, or None for very large values.
    """

    values: np.ndarray
    areas: np.ndarray
    labels: np.ndarray
    void: np.ndarray
    lut: np.ndarray | None

    def index(self, values: np.ndarray) -> np.ndarray:
        """Segment index of each of ``values`` (which must be present)."""
        if self.lut is not None:
            return self.lut[values]
        return np.searchsorted(self.values, values)


def gt_segments(instances: np.ndarray, scratch: KernelScratch | None = None
                ) -> GtSegments | str:
    """The segments of a GT instance-id map, or what is wrong with its values.

    Counted on the map's runs of equal values (C kernel for uint16 maps, else numpy), not
    on every pixel.

    Args:
        instances: ``(H, W)`` instance ids.
        scratch: The kernel's accumulators, reused from image to image.
    """
    flat = instances.reshape(-1)
    if not flat.size:
        z = np.zeros(0, dtype=np.int64)
        return GtSegments(z, z, z, np.zeros(0, dtype=bool), np.zeros(1, dtype=np.intp))
    counted = value_counts(instances, scratch or KernelScratch())
    if counted is not None:
        values, areas = counted
    else:
        starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        run_values = np.r_[flat[:1], flat[starts]].astype(np.int64)
        run_lengths = np.diff(np.r_[0, starts, flat.size])
        order = np.argsort(run_values, kind="stable")
        sorted_values = run_values[order]
        first = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
        values = sorted_values[first]
        areas = np.add.reduceat(run_lengths[order], first)
    low, top = int(values[0]), int(values[-1])
    if low < 0:
        return f"negative instance ids (min {low})"
    values = values.astype(np.int64)
    labels = np.where(values < 1000, values, values // 1000)
    bad = labels >= NUM_LABEL_IDS
    if bad.any():
        shown = ", ".join(str(v) for v in values[bad][:10].tolist())
        return (f"instance ids whose label (id, or id // 1000) is not in the Cityscapes label"
                f" table: {shown}")
    lut = None
    if top < _LUT_LIMIT:
        lut = np.zeros(top + 1, dtype=np.intp)
        lut[values] = np.arange(len(values))
    return GtSegments(values, areas.astype(np.int64), labels, np.isin(values, _VOID), lut)


def _nonzero_span(flags: np.ndarray) -> tuple[int, int] | None:
    nz = np.flatnonzero(flags)
    return None if not len(nz) else (int(nz[0]), int(nz[-1]) + 1)


def mask_overlaps(segments: GtSegments, instances: np.ndarray, mask: np.ndarray,
                  box: Box | None = None) -> tuple[int, np.ndarray]:
    """Area of a predicted mask (non-zero pixels) and its pixels on every GT segment.

    Only the box of the mask's non-zero pixels is visited: ``box`` (first row, last row + 1,
    first column, last column + 1; the decoder finds it) or one pass that finds it.

    Returns:
        ``(area, counts)``: ``counts`` ``(G,)`` int64 in the order of ``segments.values``.
    """
    m = mask.view(np.uint8) if mask.dtype == np.bool_ else mask
    if box is None:
        box = _box(m)
    r0, r1, c0, c1 = box
    if r0 < 0:
        return 0, np.zeros(len(segments.values), dtype=np.int64)
    if segments.lut is not None:
        counted = kernel_overlaps(m, instances, box, segments.lut, len(segments.values))
        if counted is not None:
            return counted
    inside = m[r0:r1, c0:c1] != 0
    under = instances[r0:r1, c0:c1][inside]
    counts = np.bincount(segments.index(under), minlength=len(segments.values))
    return len(under), counts.astype(np.int64)


def _box(m: np.ndarray) -> Box:
    """Rows and columns holding non-zero pixels (all -1 if none)."""
    h, w = m.shape
    rows: np.ndarray
    if m.dtype == np.uint8 and m.flags.c_contiguous and w % 8 == 0 and w:
        rows = np.asarray(m.view(np.uint64).reshape(h, w // 8).any(axis=1))
    else:
        rows = np.asarray(m.any(axis=1)) if m.size else np.zeros(h, dtype=bool)
    span = _nonzero_span(rows)
    if span is None:
        return -1, -1, -1, -1
    r0, r1 = span
    c0, c1 = _nonzero_span(np.asarray(m[r0:r1].any(axis=0))) or (0, w)
    return r0, r1, c0, c1


@dataclass(frozen=True)
class ImageInstances:
    """Records of one image (the unit :class:`CityscapesInstanceState` is built from).

    Attributes:
        pred_class: Class index (into ``INSTANCE_CLASSES``) per kept prediction.
        pred_score: Its confidence.
        pred_outcome: ``(P, T)`` uint8 :data:`TP` / :data:`FP` / :data:`IGNORED`.
        gt_count: ``(8,)`` targets per class.
        pred_count: ``(8,)`` non-empty predicted masks per class.
        skipped: Predictions of labels without instance-level evaluation (skipped).
        empty: Predicted masks without a pixel (skipped).
    """

    pred_class: np.ndarray
    pred_score: np.ndarray
    pred_outcome: np.ndarray
    gt_count: np.ndarray
    pred_count: np.ndarray
    skipped: int = 0
    empty: int = 0


def _outcomes(scores: np.ndarray, areas: np.ndarray, ignore_px: np.ndarray,
              inter: np.ndarray, gt_areas: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(P, T)`` outcomes of one class's predictions against its GT segments, every
    threshold at once."""
    thr = IOU_THRESHOLDS
    union = gt_areas[None, :] + areas[:, None] - inter
    iou = np.where(inter > 0, inter.astype(np.float64) / np.maximum(union, 1), 0.0)
    hit = iou[None, :, :] > thr[:, None, None]  # (T, P, G)
    on_target = hit[:, :, target]
    out = np.full((len(thr), len(scores)), IGNORED, dtype=np.uint8)
    out[on_target.any(axis=2)] = FP  # above t on a target: FP unless the best below
    best = np.argmax(np.where(on_target, scores[None, :, None], -np.inf), axis=1)
    t_idx, g_idx = np.nonzero(on_target.any(axis=1))
    out[t_idx, best[t_idx, g_idx]] = TP
    proportion = ignore_px.astype(np.float64) / areas
    out[~hit.any(axis=2) & (proportion[None, :] <= thr[:, None])] = FP
    return out.T


def match_image(segments: GtSegments, labels: np.ndarray, scores: np.ndarray,
                areas: np.ndarray, counts: np.ndarray) -> ImageInstances:
    """Match one image's predictions (all of instance classes, non-empty masks).

    Args:
        segments: The image's GT segments.
        labels: ``(P,)`` label id of each prediction.
        scores: ``(P,)`` confidence.
        areas: ``(P,)`` mask pixels (> 0).
        counts: ``(P, G)`` mask pixels on each GT segment.
    """
    seg_class = _CLASS_OF_LABEL[segments.labels]
    target = (segments.values >= 1000) & (segments.areas >= MIN_REGION_SIZE)
    gt_count = np.bincount(seg_class[target & (seg_class >= 0)], minlength=_K)
    pred_class = _CLASS_OF_LABEL[labels]
    outcome = np.zeros((len(labels), len(IOU_THRESHOLDS)), dtype=np.uint8)
    # pixels that can make an unmatched prediction ignored: void (any class), groups and
    # small instances of its own class (a small group twice, as the official sum does)
    weight = (segments.values < 1000).astype(np.int64) + (segments.areas < MIN_REGION_SIZE)
    void_px = counts[:, segments.void].sum(axis=1) if len(counts) else np.zeros(0, np.int64)
    for k in np.unique(pred_class).tolist():
        rows = np.flatnonzero(pred_class == k)
        cols = np.flatnonzero(seg_class == k)
        inter = counts[np.ix_(rows, cols)]
        ignore_px = void_px[rows] + inter @ weight[cols]
        outcome[rows] = _outcomes(scores[rows], areas[rows], ignore_px, inter,
                                  segments.areas[cols], target[cols])
    return ImageInstances(pred_class=pred_class, pred_score=scores.astype(np.float64),
                          pred_outcome=outcome, gt_count=gt_count,
                          pred_count=np.bincount(pred_class, minlength=_K))


def instance_image_stats(instances: np.ndarray,
                         predictions: Iterable[tuple[int, float, MaskSource]], *,
                         segments: GtSegments | None = None) -> ImageInstances:
    """Records of one image.

    Predictions of labels without instance-level evaluation are skipped before their mask
    is loaded, and empty masks after, as officially; both are counted.

    Args:
        instances: ``(H, W)`` GT instance-id map.
        predictions: ``(label_id, score, mask)``; masks ``(H, W)``, non-zero = instance.
        segments: ``gt_segments(instances)`` when already computed (e.g. with reused kernel
            scratch, or to report invalid ids before reading the predictions).

    Raises:
        ValueError: Invalid instance ids, or a mask of another size.
    """
    if segments is None:
        found = gt_segments(instances)
        if isinstance(found, str):
            raise ValueError(found)
        segments = found
    rows = []
    skipped = empty = 0
    for label, score, source in predictions:
        if not 0 <= label < NUM_LABEL_IDS or _CLASS_OF_LABEL[label] < 0:
            skipped += 1
            continue
        mask, box = source() if callable(source) else (source, None)
        if mask.shape != instances.shape:
            raise ValueError(f"mask of shape {mask.shape}, GT {instances.shape}")
        area, counts = mask_overlaps(segments, instances, mask, box)
        if not area:
            empty += 1
            continue
        rows.append((label, score, area, counts))
    image = match_image(segments, *_columns(rows, len(segments.values)))
    return replace(image, skipped=skipped, empty=empty)


def _columns(rows: list[tuple[int, float, int, np.ndarray]], g: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.float64),
            np.array([r[2] for r in rows], dtype=np.int64),
            np.array([r[3] for r in rows], dtype=np.int64).reshape(len(rows), g))
