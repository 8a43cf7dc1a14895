"""Counting kernels of the Cityscapes protocols (``_cityscapes.c``).

* :func:`count_pixels`: one pass over the three maps of an image counts the (GT label id,
  predicted label id) pairs and, for every GT instance (instance-map value > 1000), its
  pixels, those predicted as its label and those predicted as a label of its category.
* :func:`value_counts`: the pixels of every value of a uint16 instance map.
* :func:`mask_overlaps`: a mask's pixels inside its box, counted per GT segment.

The first two compare 8 pixels at a time to skip the runs of piecewise-constant maps. Each
returns None without the kernel (or for maps that are not uint16 / uint8), and the caller
takes its numpy path (tested equal).
"""

from __future__ import annotations

__all__ = ["KernelScratch", "count_pixels", "has_kernel", "mask_overlaps", "value_counts"]

import numpy as np

try:
    from benchmark_eval.masks import _cityscapes  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: numpy counts instead
    _cityscapes = None

_IDS = 1 << 16


def has_kernel() -> bool:
    """Whether the C kernel was built."""
    return _cityscapes is not None


class KernelScratch:
    """The kernel's per-instance accumulators (kept all zero between calls) and id list."""

    def __init__(self) -> None:
        self.accumulators = np.zeros(3 * _IDS, dtype=np.int64)
        self.touched = np.zeros(_IDS, dtype=np.uint16)


def count_pixels(labels: np.ndarray, pred: np.ndarray, instances: np.ndarray,
                 pairs: np.ndarray, same_category: np.ndarray, scratch: KernelScratch
                 ) -> np.ndarray | None:
    """Count one image, or None if the kernel cannot (the caller counts with numpy).

    Args:
        labels: ``(H, W)`` uint8 GT label ids.
        pred: ``(H, W)`` uint8 predicted label ids.
        instances: ``(H, W)`` uint16 GT instance ids.
        pairs: ``(65536,)`` int64, ``gt * 256 + pred`` pair counts, added to.
        same_category: ``(66, 256)`` uint8, 1 where a predicted value is in the category of
            an instance's label (``value // 1000``).
        scratch: Reused accumulators.

    Returns:
        ``(M, 4)`` int64 rows ``(id, size, tp, cat_tp)`` of the instances, ascending id.
    """
    if (_cityscapes is None or instances.dtype != np.uint16 or labels.dtype != np.uint8
            or pred.dtype != np.uint8 or not all(a.flags.c_contiguous
                                                 for a in (labels, pred, instances))):
        return None
    rows = _cityscapes.count(labels, pred, instances, pairs, same_category,
                             scratch.accumulators, scratch.touched)
    return np.frombuffer(rows, dtype=np.int64).reshape(-1, 4)


def value_counts(instances: np.ndarray, scratch: KernelScratch
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """Every value of a uint16 map (ascending) and its pixel count, or None (numpy then)."""
    if (_cityscapes is None or instances.dtype != np.uint16
            or not instances.flags.c_contiguous):
        return None
    rows = np.frombuffer(_cityscapes.value_counts(instances, scratch.accumulators,
                                                  scratch.touched), dtype=np.int64)
    return rows[0::2].copy(), rows[1::2].copy()


def mask_overlaps(mask: np.ndarray, instances: np.ndarray, box: tuple[int, int, int, int],
                  lut: np.ndarray, n_segments: int) -> tuple[int, np.ndarray] | None:
    """Non-zero pixels of ``mask`` inside ``box`` (rows ``r0:r1``, columns ``c0:c1``) and
    their count per GT segment (``lut``: the segment index of every value), or None."""
    if (_cityscapes is None or mask.dtype != np.uint8 or instances.dtype != np.uint16
            or lut.dtype != np.intp or mask.shape != instances.shape
            or not (mask.flags.c_contiguous and instances.flags.c_contiguous)):
        return None
    counts = np.zeros(n_segments, dtype=np.int64)
    r0, r1, c0, c1 = box
    area = _cityscapes.overlaps(mask, instances, mask.shape[1], r0, r1, c0, c1, lut, counts)
    return int(area), counts
