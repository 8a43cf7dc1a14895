"""Boundary bands of every segment of a panoptic id map, for Boundary PQ.

boundary-iou-api (``boundary_iou/coco_panoptic_api/evaluation.py``, ``iou_type="boundary"``)
takes each segment's binary mask (everything else, VOID and the other segments included, is
background), applies ``mask_to_boundary`` (the mask minus its erosion by a ``(2d+1)²``
square, the outside of the image counting as background; see :mod:`benchmark_eval.masks.boundary`)
and writes the bands into a copy of the id map, the interiors replaced by a marker id.

Here the bands of all segments come out of one vectorised pass over the id map: a pixel is
interior iff its ``(2d+1)²`` window lies inside the image and holds only its own id. The
window test is separable and independent of ``d`` (cumulative sums of "same id as the
neighbour" along rows, then along columns).
"""

from __future__ import annotations

__all__ = ["band_id_map", "boundary_pairs", "interior"]

import numpy as np

from benchmark_eval.masks.boundary import boundary_dilation
from benchmark_eval.masks.panoptic import SegmentPairs, segment_pairs
from benchmark_eval.schema.panoptic import VOID


def _window_all(flags: np.ndarray, n: int, d: int, width: int) -> np.ndarray:
    """Along axis 0, for each of ``n`` positions ``i``: ``flags[i - d : i - d + width]`` all
    true; false where the window ``i - d .. i + d`` leaves the array."""
    out = np.zeros((n, *flags.shape[1:]), dtype=bool)
    if n <= 2 * d:
        return out
    c = np.zeros((len(flags) + 1, *flags.shape[1:]), dtype=np.int32)
    np.cumsum(flags, axis=0, out=c[1:])  # c[k] = flags[0] + ... + flags[k - 1]
    out[d:n - d] = (c[width:width + n - 2 * d] - c[:n - 2 * d]) == width
    return out


def _constant_window(ids: np.ndarray, d: int, axis: int) -> np.ndarray:
    """``ids[i - d .. i + d]`` along ``axis`` lies inside the array and holds one value."""
    a = np.moveaxis(ids, axis, 0)
    same = a[1:] == a[:-1]  # same[k]: positions k and k + 1 agree
    return np.moveaxis(_window_all(same, len(a), d, 2 * d), 0, axis)


def _all_in_window(a: np.ndarray, d: int, axis: int) -> np.ndarray:
    """``a[i - d .. i + d]`` along ``axis`` all true, the outside counting as false."""
    b = np.moveaxis(a, axis, 0)
    return np.moveaxis(_window_all(b, len(b), d, 2 * d + 1), 0, axis)


def interior(id_map: np.ndarray, d: int) -> np.ndarray:
    """Pixels whose ``(2d+1)²`` window is inside the image and holds only their own id.

    A pixel of segment ``s`` is in the erosion of ``s``'s binary mask iff this holds; the
    band of ``s`` is its pixels that are not interior.

    >>> m = np.array([[1, 1, 1, 1], [1, 1, 1, 2], [1, 1, 1, 1], [1, 1, 1, 1]])
    >>> interior(m, 1).astype(int).tolist()
    [[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    """
    ids = np.asarray(id_map)
    # rows: the horizontal window of every pixel is constant; then the vertical window of
    # those flags is all true and the vertical window of ids is constant (the same id)
    horizontal = _constant_window(ids, d, 1)
    return _constant_window(ids, d, 0) & _all_in_window(horizontal, d, 0)


def band_id_map(id_map: np.ndarray, d: int, interior_id: int) -> np.ndarray:
    """The id map with every interior pixel (:func:`interior`) replaced by ``interior_id``;
    band pixels keep their segment id, VOID stays VOID."""
    ids = np.asarray(id_map, dtype=np.int64)
    return np.where(interior(ids, d) & (ids != VOID), np.int64(interior_id), ids)


def _unused_id(ids: np.ndarray) -> int:
    """The smallest positive id not in ``ids`` (a marker that meets no real segment)."""
    used = np.unique(ids)
    free = np.setdiff1d(np.arange(1, len(used) + 2, dtype=np.int64), used)
    return int(free[0])


def boundary_pairs(gt_ids: np.ndarray, pred_ids: np.ndarray, ratio: float) -> SegmentPairs:
    """Pixels shared by the bands of every (GT segment, predicted segment) pair.

    Ground-truth interiors get an id used by no ground-truth segment, prediction interiors
    VOID, so that, for a GT id ``g`` and a predicted id ``p != 0``, row ``(g, p)`` is
    ``|B_g ∩ B_p|``, row ``(VOID, p)`` is ``|B_p ∩ GT VOID|``, the rows of ``p`` sum to
    ``|B_p|`` and the rows of ``g`` to ``|B_g|``.

    Args:
        gt_ids: Ground-truth id map ``(H, W)``.
        pred_ids: Predicted id map, same shape.
        ratio: Dilation ratio; ``d = max(1, round(ratio * sqrt(H² + W²)))``.
    """
    if gt_ids.shape != pred_ids.shape:
        raise ValueError(f"id maps differ in shape: {gt_ids.shape} vs {pred_ids.shape}")
    h, w = gt_ids.shape
    d = int(boundary_dilation(np.array([h]), np.array([w]), ratio)[0])
    gt_band = band_id_map(gt_ids, d, _unused_id(gt_ids))
    pred_band = band_id_map(pred_ids, d, VOID)
    return segment_pairs(gt_band, pred_band)
