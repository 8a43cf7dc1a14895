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
]

import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from benchmark_eval.masks.cityscapes import KernelScratch, value_counts
from benchmark_eval.masks.cityscapes import mask_overlaps as kernel_overlaps
from benchmark_eval.schema.cityscapes import (
    INSTANCE_CLASSES,
    LABEL_BY_NAME,
    NUM_LABEL_IDS,
    VOID_LABEL_IDS,
)

METRIC_KEYS = ("AP", "AP50")
IOU_THRESHOLDS = np.arange(0.5, 1.0, 0.05)
"""The official ``args.overlaps`` (``np.arange`` values, e.g. 0.6000000000000001, kept)."""
MIN_REGION_SIZE = 100
"""GT instances with fewer pixels are not targets (``args.minRegionSizes[0]``)."""

# Outcome codes per prediction and IoU threshold.
IGNORED = 0  # on a group / small instance / mostly void: no record
TP = 1
FP = 2

_K = len(INSTANCE_CLASSES)
_CLASS_OF_LABEL = np.full(NUM_LABEL_IDS, -1, dtype=np.int64)
for _k, _name in enumerate(INSTANCE_CLASSES):
    _CLASS_OF_LABEL[LABEL_BY_NAME[_name].id] = _k
_VOID = np.array(sorted(v for v in VOID_LABEL_IDS if v >= 0), dtype=np.int64)
_LUT_LIMIT = 1 << 17  # instance maps with larger values use searchsorted, not a table


# ------------------------------------------------------------------------------ one image


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
                  box: tuple[int, int, int, int] | None = None) -> tuple[int, np.ndarray]:
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


def _box(m: np.ndarray) -> tuple[int, int, int, int]:
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
    """

    pred_class: np.ndarray
    pred_score: np.ndarray
    pred_outcome: np.ndarray
    gt_count: np.ndarray
    pred_count: np.ndarray


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
                         predictions: Sequence[tuple[int, float, np.ndarray]]
                         ) -> ImageInstances:
    """Records of one image from arrays.

    Args:
        instances: ``(H, W)`` GT instance-id map.
        predictions: ``(label_id, score, mask)``; masks ``(H, W)``, non-zero = instance.
            Predictions of other labels and empty masks are skipped, as officially.

    Raises:
        ValueError: Invalid instance ids, or a mask of another size.
    """
    segments = gt_segments(instances)
    if isinstance(segments, str):
        raise ValueError(segments)
    rows = []
    for label, score, mask in predictions:
        if not 0 <= label < NUM_LABEL_IDS or _CLASS_OF_LABEL[label] < 0:
            continue
        if mask.shape != instances.shape:
            raise ValueError(f"mask of shape {mask.shape}, GT {instances.shape}")
        area, counts = mask_overlaps(segments, instances, mask)
        if area:
            rows.append((label, score, area, counts))
    return match_image(segments, *_columns(rows, len(segments.values)))


def _columns(rows: list[tuple[int, float, int, np.ndarray]], g: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.float64),
            np.array([r[2] for r in rows], dtype=np.int64),
            np.array([r[3] for r in rows], dtype=np.int64).reshape(len(rows), g))


class CityscapesInstanceParams(BaseModel):
    """Options of ``cityscapes-instance`` (none: the official protocol has no variants)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------------------------- state


@dataclass(frozen=True)
class CityscapesInstanceState:
    """Sufficient statistics of ``cityscapes-instance`` over some images.

    Attributes:
        pred_class: ``(N,)`` int64 class index per prediction.
        pred_score: ``(N,)`` float64.
        pred_outcome: ``(N, T)`` uint8 outcome per IoU threshold.
        gt_count: ``(8,)`` int64 targets per class.
        pred_count: ``(8,)`` int64 non-empty predictions per class.
        n_images: Images counted.
    """

    pred_class: np.ndarray
    pred_score: np.ndarray
    pred_outcome: np.ndarray
    gt_count: np.ndarray
    pred_count: np.ndarray
    n_images: int

    @classmethod
    def empty(cls) -> CityscapesInstanceState:
        """The identity of :meth:`merge`."""
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros((0, len(IOU_THRESHOLDS)),
                   np.uint8), np.zeros(_K, np.int64), np.zeros(_K, np.int64), 0)

    @classmethod
    def of_image(cls, image: ImageInstances) -> CityscapesInstanceState:
        """The state of one image."""
        return cls(image.pred_class, image.pred_score, image.pred_outcome,
                   image.gt_count.astype(np.int64), image.pred_count.astype(np.int64), 1)

    def merge(self, other: CityscapesInstanceState) -> CityscapesInstanceState:
        """Combine two disjoint image sets (associative, commutative)."""
        return CityscapesInstanceState(
            np.concatenate([self.pred_class, other.pred_class]),
            np.concatenate([self.pred_score, other.pred_score]),
            np.concatenate([self.pred_outcome, other.pred_outcome]),
            self.gt_count + other.gt_count, self.pred_count + other.pred_count,
            self.n_images + other.n_images)

    def save(self, path: str | Path) -> None:
        """Write the state to an ``.npz`` file."""
        buf = io.BytesIO()
        np.savez_compressed(buf, pred_class=self.pred_class, pred_score=self.pred_score,
                            pred_outcome=self.pred_outcome, gt_count=self.gt_count,
                            pred_count=self.pred_count, n_images=np.int64(self.n_images))
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> CityscapesInstanceState:
        """Read a state written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls(z["pred_class"], z["pred_score"], z["pred_outcome"], z["gt_count"],
                       z["pred_count"], int(z["n_images"]))


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
