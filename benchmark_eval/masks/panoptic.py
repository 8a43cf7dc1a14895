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
    "has_pair_kernel",
    "id_map_rles",
    "ids_to_rgb",
    "paint_runs",
    "rgb_to_ids",
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
_RGB_WEIGHTS = np.array([1, 256, 256**2], dtype=np.int64)


def rgb_to_ids(rgb: np.ndarray) -> np.ndarray:
    """Segment ids of an ``(H, W, 3)`` (or ``(H, W, 4)``, alpha ignored) uint8 image.

    Returns:
        ``(H, W)`` int64: ``R + 256 G + 256² B``.

    Example:
        >>> int(rgb_to_ids(np.array([[[1, 2, 3]]], dtype=np.uint8))[0, 0])
        197121
    """
    out = rgb[..., 2].astype(np.int64)
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
    start = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
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
    ids are computed with :func:`rgb_to_ids` and counted with ``np.unique``. Same result.
    """
    if gt_rgb.shape[:2] != pred_rgb.shape[:2]:
        raise ValueError(f"images differ in size: {gt_rgb.shape[:2]} vs {pred_rgb.shape[:2]}")
    if _panoptic is None:
        return segment_pairs(rgb_to_ids(gt_rgb), rgb_to_ids(pred_rgb))
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


def paint_runs(canvas: np.ndarray, runs: np.ndarray, value: int, *,
               only_free: bool = False) -> int:
    """Write ``value`` where a run-length mask is set, into a column-major flat canvas.

    Args:
        canvas: ``(H * W,)`` int64 map in column-major (pycocotools) pixel order.
        runs: Alternating background / foreground run lengths, starting with background.
        value: Id to paint.
        only_free: Only paint pixels that are 0.

    Returns:
        Pixels of the mask that were already non-zero before painting.
    """
    ends = np.cumsum(runs, dtype=np.int64)
    starts = ends - runs
    fg_start, fg_len = starts[1::2], np.asarray(runs[1::2], dtype=np.int64)
    total = int(fg_len.sum())
    if total == 0:
        return 0
    idx = np.repeat(fg_start - np.r_[0, np.cumsum(fg_len)[:-1]], fg_len)
    idx += np.arange(total)
    taken = canvas[idx] != 0
    n_taken = int(taken.sum())
    canvas[idx[~taken] if only_free else idx] = value
    return n_taken
