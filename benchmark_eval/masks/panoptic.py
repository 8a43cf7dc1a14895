"""Panoptic id encoding and segment overlaps: pure geometry on arrays.

COCO panoptic PNGs store a segment id per pixel as ``R + 256 G + 256² B`` (panopticapi
``utils.rgb2id``), 0 meaning VOID. Ids use up to 24 bits, so everything here is int64.
:func:`segment_pairs` is the one place that counts the pixels every (ground-truth segment,
predicted segment) pair shares, what panopticapi gets from ``np.unique(gt * OFFSET + pred)``.
"""

from __future__ import annotations

__all__ = [
    "OFFSET",
    "SegmentPairs",
    "box_and_area",
    "has_pair_kernel",
    "id_map_rles",
    "ids_to_rgb",
    "rgb_to_ids",
    "runs_to_pixels",
    "segment_pairs",
    "segment_pairs_rgb",
]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.masks.rle import compress_uncompressed

try:
    from benchmark_eval.masks import _panoptic  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: the numpy path below runs
    _panoptic = None

OFFSET = 256**3  # pair key = gt_id * OFFSET + pred_id, as panopticapi's evaluation.py


def rgb_to_ids(rgb: np.ndarray) -> np.ndarray:
    """Segment ids of an ``(H, W, 3)`` (or ``(H, W, 4)``, alpha ignored) uint8 image.

    Returns:
        ``(H, W)`` int64: ``R + 256 G + 256² B``.

    Example:
        >>> int(rgb_to_ids(np.array([[[1, 2, 3]]], dtype=np.uint8))[0, 0])
        197121
    """
    return _pack(rgb, np.int64)


def _pack(rgb: np.ndarray, dtype: type[np.integer]) -> np.ndarray:
    """``R + 256 G + 256² B`` in ``dtype`` (uint32: cheaper passes for the fallback pair
    counter)."""
    out = rgb[..., 2].astype(dtype)
    out <<= 8
    out |= rgb[..., 1]
    out <<= 8
    out |= rgb[..., 0]
    return out


def ids_to_rgb(id_map: np.ndarray) -> np.ndarray:
    """The ``(H, W, 3)`` uint8 image of an ``(H, W)`` map of ids in ``0 .. 256³ - 1``."""
    ids = np.asarray(id_map, dtype=np.int64)
    return ((ids[..., None] >> np.array([0, 8, 16])) & 255).astype(np.uint8)


@dataclass(frozen=True)
class SegmentPairs:
    """Pixels shared by every (ground-truth id, predicted id) pair of one image.

    Rows are sorted by ``gt_ids * OFFSET + pred_ids`` (panopticapi's iteration order) and
    include VOID (id 0) on either side; pairs that share no pixel are absent.

    Attributes:
        gt_ids: Ground-truth segment id, shape ``(M,)``, int64.
        pred_ids: Predicted segment id, shape ``(M,)``, int64.
        counts: Pixels of the pair, shape ``(M,)``, int64.
    """

    gt_ids: np.ndarray
    pred_ids: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)

    @classmethod
    def from_keys(cls, keys: np.ndarray, counts: np.ndarray) -> SegmentPairs:
        """Pairs from sorted keys ``gt * OFFSET + pred`` and their counts."""
        keys = np.asarray(keys, dtype=np.int64)
        return cls(gt_ids=keys >> 24, pred_ids=keys & (OFFSET - 1),
                   counts=np.asarray(counts, dtype=np.int64))

    def gt_areas(self) -> tuple[np.ndarray, np.ndarray]:
        """Ground-truth ids present (ascending, VOID included) and their pixel counts."""
        return _group_sum(self.gt_ids, self.counts)

    def pred_areas(self) -> tuple[np.ndarray, np.ndarray]:
        """Predicted ids present (ascending, VOID included) and their pixel counts."""
        order = np.argsort(self.pred_ids, kind="stable")
        return _group_sum(self.pred_ids[order], self.counts[order])


def _group_sum(sorted_ids: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not len(sorted_ids):
        return sorted_ids, counts
    first = np.empty(len(sorted_ids), dtype=bool)
    first[0] = True
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
    start = np.flatnonzero(first)
    return sorted_ids[start], np.add.reduceat(counts, start)


def segment_pairs(gt_ids: np.ndarray, pred_ids: np.ndarray) -> SegmentPairs:
    """All pair overlaps of two ``(H, W)`` id maps of the same shape, in one ``np.unique``.

    Example:
        >>> p = segment_pairs(np.array([[5, 5, 0]]), np.array([[7, 0, 0]]))
        >>> p.gt_ids.tolist(), p.pred_ids.tolist(), p.counts.tolist()
        ([0, 5, 5], [0, 0, 7], [1, 1, 1])
    """
    if gt_ids.shape != pred_ids.shape:
        raise ValueError(f"id maps differ in shape: {gt_ids.shape} vs {pred_ids.shape}")
    key = np.asarray(gt_ids, dtype=np.int64) << 24
    key |= np.asarray(pred_ids, dtype=np.int64)
    keys, counts = np.unique(key.reshape(-1), return_counts=True)
    return SegmentPairs.from_keys(keys, counts)


def has_pair_kernel() -> bool:
    """Whether the C pair counter (``benchmark_eval.masks._panoptic``) was built."""
    return _panoptic is not None


def segment_pairs_rgb(gt_rgb: np.ndarray, pred_rgb: np.ndarray) -> SegmentPairs:
    """:func:`segment_pairs` straight from two decoded PNGs.

    Args:
        gt_rgb: ``(H, W, 3)`` or ``(H, W, 4)`` uint8 (alpha ignored).
        pred_rgb: The same for the prediction, same ``(H, W)``.

    With the C kernel one pass over both buffers counts runs of equal pairs; without it the
    ids are combined into ``gt * 2^24 + pred`` keys and counted with ``np.unique``. Same
    result.
    """
    if gt_rgb.shape[:2] != pred_rgb.shape[:2]:
        raise ValueError(f"images differ in size: {gt_rgb.shape[:2]} vs {pred_rgb.shape[:2]}")
    if _panoptic is None:  # uint32 ids, one uint64 key per pixel, one np.unique
        key = _pack(gt_rgb, np.uint32).astype(np.uint64)
        key <<= np.uint64(24)
        key |= _pack(pred_rgb, np.uint32)
        keys, counts = np.unique(key.reshape(-1), return_counts=True)
        return SegmentPairs.from_keys(keys, counts)
    g = np.ascontiguousarray(gt_rgb, dtype=np.uint8)
    p = np.ascontiguousarray(pred_rgb, dtype=np.uint8)
    keys, counts = _panoptic.pair_counts(g, g.shape[2], p, p.shape[2])
    return SegmentPairs.from_keys(np.frombuffer(keys, dtype=np.uint64),
                                  np.frombuffer(counts, dtype=np.int64))


# ------------------------------------------------------------------------- masks as runs


def _fortran_runs(id_map: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal ids in column-major order: (values, starts, lengths)."""
    flat = np.asarray(id_map).T.reshape(-1)
    if not len(flat):
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    lengths = np.diff(np.r_[starts, len(flat)])
    return flat[starts].astype(np.int64), starts, lengths


def id_map_rles(id_map: np.ndarray, ids: Sequence[int] | np.ndarray) -> list[dict[str, Any]]:
    """Compressed RLE (pycocotools format) of the mask ``id_map == i`` for each ``i``.

    All masks come from one pass over the map's column-major runs; the strings are
    pycocotools' own encoding of those runs, so ``mask.decode`` gives the masks back.
    """
    h, w = id_map.shape
    values, starts, lengths = _fortran_runs(id_map)
    order = np.argsort(values, kind="stable")
    values, starts, lengths = values[order], starts[order], lengths[order]
    wanted = np.asarray(ids, dtype=np.int64)
    lo = np.searchsorted(values, wanted, side="left")
    hi = np.searchsorted(values, wanted, side="right")
    rles: list[Any] = []
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        s, n = starts[a:b], lengths[a:b]
        gaps = s - np.r_[0, (s + n)[:-1]]  # background before each foreground run
        tail = h * w - (int(s[-1] + n[-1]) if b > a else 0)
        counts = np.empty(2 * (b - a) + 1, dtype=np.int64)
        counts[0:-1:2], counts[1:-1:2], counts[-1] = gaps, n, tail
        rles.append({"size": [h, w], "counts": counts.tolist()})
    return compress_uncompressed(rles, h, w)


def runs_to_pixels(runs: np.ndarray) -> np.ndarray:
    """Column-major flat indices of the foreground of a run-length mask.

    Args:
        runs: Alternating background / foreground run lengths, starting with background
            (pycocotools' RLE convention).

    Example:
        >>> runs_to_pixels(np.array([2, 3, 1, 2])).tolist()
        [2, 3, 4, 6, 7]
    """
    runs = np.asarray(runs, dtype=np.int64)
    starts = np.cumsum(runs) - runs
    fg_start, fg_len = starts[1::2], runs[1::2]
    total = int(fg_len.sum())
    out = np.repeat(fg_start - (np.cumsum(fg_len) - fg_len), fg_len)
    out += np.arange(total)
    return out


def box_and_area(id_map: np.ndarray, ids: Sequence[int] | np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel count and tight ``[x, y, w, h]`` box of each id's pixels (zeros if absent).

    Returns:
        ``areas`` ``(N,)`` int64 and ``boxes`` ``(N, 4)`` int64.
    """
    wanted = np.asarray(ids, dtype=np.int64)
    h, w = id_map.shape
    flat = np.asarray(id_map, dtype=np.int64).reshape(-1)
    present, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    lo_y = np.full(len(present), h)
    hi_y = np.full(len(present), -1)
    lo_x, hi_x = lo_y.copy(), hi_y.copy()
    rows = np.repeat(np.arange(h), w)
    cols = np.tile(np.arange(w), h)
    np.minimum.at(lo_y, inverse, rows)
    np.maximum.at(hi_y, inverse, rows)
    np.minimum.at(lo_x, inverse, cols)
    np.maximum.at(hi_x, inverse, cols)
    pos = np.minimum(np.searchsorted(present, wanted), max(len(present) - 1, 0))
    found = present[pos] == wanted if len(present) else np.zeros(len(wanted), dtype=bool)
    areas = np.where(found, counts[pos], 0)
    boxes = np.stack([lo_x[pos], lo_y[pos], hi_x[pos] - lo_x[pos] + 1,
                      hi_y[pos] - lo_y[pos] + 1], axis=1)
    boxes[~found] = 0
    return areas.astype(np.int64), boxes.astype(np.int64)
