"""Surface voxels and surface distances of binary 3-D (or 2-D) masks, in physical units.

The definitions are MedPy 0.5.2's (``medpy/metric/binary.py``, ``__surface_distances``), which
MONAI 1.6 shares (``monai/metrics/utils.py``: ``get_mask_edges``,
``get_surface_distance``):

* the **surface** of a mask is the mask minus its binary erosion by the 6-neighbourhood cross
  (``generate_binary_structure(ndim, 1)``), with everything outside the array counted as
  background, so objects touching the array border have surface voxels on it;
* the **directed distances** from surface A to surface B are, for every voxel of A in C order,
  the Euclidean distance (``sampling=spacing``) to the nearest voxel of B.

Speed: both masks are cropped to the bounding box of their union plus a one-voxel margin
(:func:`union_box`, MONAI's ``CropForeground(margin=1)``) before eroding and running
``scipy.ndimage.distance_transform_edt``. Cropping changes nothing: voxels outside the box
are background in both masks, and every nearest surface voxel lies inside it. SciPy is
imported on first use, so ``import benchmark_eval`` does not load it.
"""

from __future__ import annotations

__all__ = ["EMPTY", "SurfaceStats", "cropped_surface_stats", "directed_distances",
           "label_boxes", "surface", "surface_stats", "union_box"]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Box = tuple[slice, ...]
_MARGIN = 1  # voxels of background kept around the union's bounding box (MONAI's margin=1)
HD_PERCENTILE = 95.0  # HD95: numpy's default "linear" percentile method, as MedPy and torch


def _ndimage() -> Any:
    from scipy import ndimage  # lazy: SciPy is the optional [medical] extra

    return ndimage


def label_boxes(volume: np.ndarray, max_label: int) -> list[Box | None]:
    """Bounding box of each value ``1 .. max_label`` of an integer volume, one C pass
    (``scipy.ndimage.find_objects``); ``None`` for absent values. Negative values are
    ignored."""
    if volume.dtype.kind == "b":
        volume = volume.view(np.uint8)
    if volume.dtype.kind == "i" and volume.size and int(volume.min()) < 0:
        volume = np.where(volume < 0, 0, volume)
    return list(_ndimage().find_objects(volume, max_label=max_label))


def union_box(boxes: Sequence[Box | None], shape: tuple[int, ...],
              margin: int = _MARGIN) -> Box | None:
    """The smallest box holding every box of ``boxes``, grown by ``margin`` voxels and
    clipped to ``shape``; ``None`` if all are ``None`` (both masks empty)."""
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    return tuple(slice(max(0, min(b[d].start for b in present) - margin),
                       min(shape[d], max(b[d].stop for b in present) + margin))
                 for d in range(len(shape)))


def surface(mask: np.ndarray) -> np.ndarray:
    """The voxels of ``mask`` with at least one 6-neighbour (4 in 2-D) outside it or
    outside the array: ``mask ^ binary_erosion(mask, cross)`` (MedPy's ``connectivity=1``)."""
    nd = _ndimage()
    cross = nd.generate_binary_structure(mask.ndim, 1)
    return mask ^ nd.binary_erosion(mask, structure=cross, iterations=1, border_value=0)


def directed_distances(from_surface: np.ndarray, to_surface: np.ndarray,
                       spacing: Sequence[float]) -> np.ndarray:
    """Distance from each voxel of ``from_surface`` (C order) to the nearest voxel of
    ``to_surface``, float64, in the units of ``spacing`` (one value per axis).

    The nearest voxels come from SciPy's feature transform (``distance_transform_edt``,
    ``return_indices=True``); the distances are then computed at ``from_surface`` only, with
    the arithmetic ``distance_transform_edt`` applies to every voxel (``(index delta *
    sampling)²`` summed over axes in order, then ``sqrt``), so they equal MedPy's bit for bit.
    ``to_surface`` must hold at least one voxel.
    """
    sampling = np.asarray(spacing, dtype=np.float64)
    nearest = _ndimage().distance_transform_edt(~to_surface, sampling=sampling,
                                                return_distances=False, return_indices=True)
    where = np.nonzero(from_surface)
    delta = np.stack([nearest[d][where] - where[d] for d in range(from_surface.ndim)])
    delta = delta.astype(np.float64)
    for d in range(len(delta)):
        delta[d] *= sampling[d]
    np.multiply(delta, delta, out=delta)
    return np.asarray(np.sqrt(np.add.reduce(delta, axis=0)), dtype=np.float64)


@dataclass(frozen=True)
class SurfaceStats:
    """Surface metrics of one (prediction, reference) mask pair; distances in mm.

    Attributes:
        hd: Hausdorff distance, max of both directed maxima (MedPy ``hd``); NaN if a side
            is empty (MedPy raises there).
        hd95: 95th percentile of both directions' distances pooled (MedPy ``hd95``).
        hd95_directed: max of each direction's 95th percentile (MONAI
            ``HausdorffDistanceMetric(percentile=95)``).
        assd: mean of both directions' distances pooled (MedPy ``assd``, MONAI
            ``SurfaceDistanceMetric(symmetric=True)``).
        n_surface_pred: Surface voxels of the prediction.
        n_surface_ref: Surface voxels of the reference.
        close_pred: Prediction surface voxels within the tolerance of the reference surface.
        close_ref: Reference surface voxels within the tolerance of the prediction surface.
    """

    hd: float
    hd95: float
    hd95_directed: float
    assd: float
    n_surface_pred: int
    n_surface_ref: int
    close_pred: int
    close_ref: int


EMPTY = SurfaceStats(*(float("nan"),) * 4, 0, 0, 0, 0)  # both masks empty


def surface_stats(pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float],
                  tolerance: float) -> SurfaceStats:
    """Surface metrics of two boolean masks of the same shape, cropped to their union.

    Args:
        pred: Predicted mask (bool, any number of axes).
        ref: Reference (ground-truth) mask.
        spacing: Voxel size per axis, in mm.
        tolerance: NSD tolerance τ in mm: a surface voxel is "close" at distance <= τ
            (MONAI ``SurfaceDiceMetric``).
    """
    box = union_box([_box(pred), _box(ref)], pred.shape)
    if box is None:
        return EMPTY
    return cropped_surface_stats(pred[box], ref[box], spacing, tolerance)


def cropped_surface_stats(pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float],
                          tolerance: float) -> SurfaceStats:
    """:func:`surface_stats` of masks already cropped by the caller to a box holding both
    with one voxel of margin (or touching the array border): see :func:`union_box`."""
    nan = float("nan")
    sp, sr = surface(pred), surface(ref)
    n_p, n_r = int(np.count_nonzero(sp)), int(np.count_nonzero(sr))
    if n_p == 0 or n_r == 0:
        return SurfaceStats(nan, nan, nan, nan, n_p, n_r, 0, 0)
    d_pr = directed_distances(sp, sr, spacing)
    d_rp = directed_distances(sr, sp, spacing)
    pooled = np.concatenate([d_pr, d_rp])  # MedPy's order: result -> reference first
    return SurfaceStats(
        hd=float(max(d_pr.max(), d_rp.max())),
        hd95=float(np.percentile(pooled, HD_PERCENTILE)),
        hd95_directed=float(max(np.percentile(d_pr, HD_PERCENTILE),
                                np.percentile(d_rp, HD_PERCENTILE))),
        assd=float(pooled.mean()),
        n_surface_pred=n_p, n_surface_ref=n_r,
        close_pred=int(np.count_nonzero(d_pr <= tolerance)),
        close_ref=int(np.count_nonzero(d_rp <= tolerance)))


def _box(mask: np.ndarray) -> Box | None:
    return label_boxes(mask, 1)[0]
