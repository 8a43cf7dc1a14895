"""Mask boundaries for Boundary IoU (Cheng et al., CVPR 2021).

Reproduces boundary-iou-api ``boundary_iou/utils/boundary_utils.py`` ``mask_to_boundary``:
``d = int(round(ratio * sqrt(h² + w²)))``, at least 1, from the image size ``(h, w)``; the mask
is padded by one background pixel and eroded ``d`` times by a 3×3 square (``cv2.erode``); the
boundary is the mask minus that erosion. Equivalently: the mask pixels within Chebyshev
distance ``d`` of a background pixel or of the outside of the image (so a mask touching the
image border has a boundary along it).

:func:`mask_boundaries` works on decoded runs (:class:`~benchmark_eval.schema.MaskRuns`) with a
C kernel (``_boundary.c``: separable erosion on per-column row intervals); without it, and
for RLE dicts (:func:`rle_boundaries`), :func:`boundary_bitmap` runs on the decoded bitmap.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_DILATION_RATIO",
    "boundary_bitmap",
    "boundary_dilation",
    "has_boundary_kernel",
    "mask_boundaries",
    "mask_boundaries_numpy",
    "rle_boundaries",
]

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from pycocotools import mask as _mask

from benchmark_eval.schema import MaskRuns

try:
    from benchmark_eval.masks import _boundary  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: the numpy version runs
    _boundary = None

DEFAULT_DILATION_RATIO = 0.02  # boundary-iou-api's default ``dilation_ratio``


def has_boundary_kernel() -> bool:
    """Whether the C boundary kernel was built (else :func:`mask_boundaries_numpy` runs)."""
    return _boundary is not None


def boundary_dilation(heights: np.ndarray, widths: np.ndarray, ratio: float) -> np.ndarray:
    """Band width ``d`` per image: ``max(1, round(ratio * sqrt(h² + w²)))``, int64.

    ``round`` is Python's / numpy's round-half-to-even, as in boundary-iou-api
    (``round(dilation_ratio * np.sqrt(h ** 2 + w ** 2))``): a 45×60 image (diagonal 75) has
    ``d = round(1.5) = 2``.

    >>> boundary_dilation(np.array([480, 45, 3]), np.array([640, 60, 4]), 0.02).tolist()
    [16, 2, 1]
    """
    h = np.asarray(heights, dtype=np.int64)
    w = np.asarray(widths, dtype=np.int64)
    diagonal = np.sqrt((h * h + w * w).astype(np.float64))
    return np.maximum(np.rint(ratio * diagonal), 1).astype(np.int64)


def _all_in_window(a: np.ndarray, d: int, axis: int) -> np.ndarray:
    """``a[y - d .. y + d]`` all true along ``axis``, outside the array counting as false."""
    pad = [(0, 0), (0, 0)]
    pad[axis] = (d + 1, d)  # d + 1 leading zeros: one of them is the cumulative sum's base
    c = np.cumsum(np.pad(a, pad).astype(np.int32), axis=axis)
    n = a.shape[axis]
    upper = np.take(c, np.arange(2 * d + 1, 2 * d + 1 + n), axis=axis)
    lower = np.take(c, np.arange(n), axis=axis)
    return np.asarray((upper - lower) == 2 * d + 1)


def boundary_bitmap(mask: np.ndarray, d: int) -> np.ndarray:
    """Boundary of one ``(h, w)`` mask: the mask minus its erosion by a ``(2d+1)²`` square,
    pixels outside the image counting as background (separable: rows, then columns)."""
    m = np.asarray(mask, dtype=bool)
    eroded = _all_in_window(_all_in_window(m, d, 0), d, 1)
    return m & ~eroded


def _runs_of(flat: np.ndarray) -> np.ndarray:
    """Column-major runs (background first, no trailing zero run) of a flat boolean mask."""
    if flat.size == 0:
        return np.zeros(0, dtype=np.uint32)
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], edges, [flat.size])))
    if flat[0]:
        runs = np.concatenate(([0], runs))
    return runs.astype(np.uint32)


def _box_of(mask: np.ndarray) -> list[float]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1),
            float(rows[-1] - rows[0] + 1)]


def mask_boundaries_numpy(masks: MaskRuns, rows: np.ndarray, heights: np.ndarray,
                          widths: np.ndarray, dilation: np.ndarray) -> MaskRuns:
    """:func:`mask_boundaries` on decoded bitmaps, one mask at a time (the fallback)."""
    parts, areas, boxes = [], [], []
    for row, h, w, d in zip(rows.tolist(), heights.tolist(), widths.tolist(),
                            dilation.tolist(), strict=True):
        runs = masks.runs[masks.offsets[row] : masks.offsets[row + 1]].astype(np.int64)
        values = np.arange(len(runs)) % 2 == 1
        flat = np.repeat(values, runs)
        if flat.size != h * w:
            raise ValueError(f"boundaries: the runs of mask {row} do not cover h * w")
        band = boundary_bitmap(flat.reshape(w, h).T, d)
        parts.append(_runs_of(band.T.ravel()))
        areas.append(int(band.sum()))
        boxes.append(_box_of(band))
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    return MaskRuns(
        runs=np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32), offsets=offsets,
        areas=np.asarray(areas, dtype=np.int64),
        boxes=np.asarray(boxes, dtype=np.float64).reshape(-1, 4))


def mask_boundaries(masks: MaskRuns, rows: np.ndarray, heights: np.ndarray,
                    widths: np.ndarray, dilation: np.ndarray) -> MaskRuns:
    """Boundary bands of some decoded masks, as decoded runs.

    Args:
        masks: Decoded masks.
        rows: Which masks, shape ``(R,)``.
        heights: Image height of each, shape ``(R,)``.
        widths: Image width of each, shape ``(R,)``.
        dilation: Band width ``d >= 1`` of each (:func:`boundary_dilation`), shape ``(R,)``.

    Returns:
        ``R`` boundary masks (canonical runs, tight boxes), in the order of ``rows``.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    h = np.ascontiguousarray(heights, dtype=np.int64)
    w = np.ascontiguousarray(widths, dtype=np.int64)
    d = np.ascontiguousarray(dilation, dtype=np.int64)
    if _boundary is None:
        return mask_boundaries_numpy(masks, rows, h, w, d)
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    areas = np.zeros(len(rows), dtype=np.int64)
    boxes = np.zeros((len(rows), 4), dtype=np.int32)
    raw = _boundary.boundaries(np.ascontiguousarray(masks.runs, dtype=np.uint32),
                               np.ascontiguousarray(masks.offsets, dtype=np.int64), rows, h, w,
                               d, offsets, areas, boxes)
    return MaskRuns(runs=np.frombuffer(raw, dtype=np.uint32), offsets=offsets, areas=areas,
                    boxes=boxes.astype(np.float64))


def rle_boundaries(rles: Sequence[dict[str, Any]], dilation: np.ndarray) -> list[dict[str, Any]]:
    """Boundary bands of compressed-RLE dicts (the path without any C kernel).

    Args:
        rles: pycocotools compressed RLEs ``{"size": [h, w], "counts": bytes}``.
        dilation: Band width ``d >= 1`` of each, shape ``(N,)``.
    """
    out = []
    for rle, d in zip(rles, np.asarray(dilation).tolist(), strict=True):
        with warnings.catch_warnings():
            # pycocotools 2.0.11 under numpy 2 warns that its decode passes copy=False to
            # __array__; the decoded mask is right
            warnings.simplefilter("ignore", DeprecationWarning)
            bitmap = _mask.decode(rle)
        band = boundary_bitmap(bitmap, int(d))
        out.append(_mask.encode(np.asfortranarray(band, dtype=np.uint8)))
    return out
