"""Runs of equal ``(gt, pred)`` label pairs in C order: voxel counts and bounding boxes of
two 8-bit label volumes from one pass.

Label volumes are piecewise constant, so ``gt * 256 + pred`` is run-length encoded once (one
comparison pass) and everything else works on the runs: the voxel count of every value pair
(:meth:`PairRuns.pair_counts`) and the bounding box of any set of labels on either side
(:meth:`PairRuns.box`), instead of a full pass per label (``scipy.ndimage.find_objects``
costs about as much as the run pass, per volume).
"""

from __future__ import annotations

__all__ = ["PairRuns"]

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[slice, ...]
PAIR_BINS = 1 << 16  # (gt, pred) pairs of 8-bit values


@dataclass(frozen=True)
class PairRuns:
    """The runs of ``gt * 256 + pred`` over two same-shape uint8 volumes.

    Attributes:
        shape: The shape walked (the volumes', reversed with ``reversed_axes``).
        values: ``(R,)`` uint16 packed value of each run.
        starts: ``(R,)`` intp flat index of each run's first voxel.
        ends: ``(R,)`` intp flat index of each run's last voxel.
        reversed_axes: The runs follow the transposed volumes (Fortran order); boxes are
            given in the volumes' own axis order.
    """

    shape: tuple[int, ...]
    values: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    reversed_axes: bool = False

    @classmethod
    def of(cls, gt: np.ndarray, pred: np.ndarray) -> PairRuns:
        """Encode two uint8 volumes of the same shape (one pass, in memory order: NIfTI
        arrays are Fortran-ordered and are walked as their C-ordered transpose, no copy)."""
        if gt.ndim > 1 and gt.flags.f_contiguous and not gt.flags.c_contiguous and (
                pred.flags.f_contiguous):
            runs = cls.of(gt.T, pred.T)
            return cls(runs.shape, runs.values, runs.starts, runs.ends, reversed_axes=True)
        packed = np.left_shift(gt.reshape(-1), 8, dtype=np.uint16)
        packed |= pred.reshape(-1)
        n = packed.size
        if n == 0:
            empty = np.zeros(0, dtype=np.intp)
            return cls(gt.shape, packed, empty, empty)
        starts = np.flatnonzero(packed[1:] != packed[:-1])
        ends = np.append(starts, n - 1)
        starts = np.concatenate([[0], starts + 1])
        return cls(tuple(gt.shape), packed[starts], starts, ends)

    def pair_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(gt values, pred values, voxel counts)`` of every pair present."""
        hist = np.bincount(self.values, weights=self.ends - self.starts + 1,
                           minlength=PAIR_BINS)
        nz = np.flatnonzero(hist)
        return nz >> 8, nz & 0xFF, hist[nz].astype(np.int64)

    def box(self, labels: Sequence[int], side: str) -> Box | None:
        """Bounding box (a superset, exact for runs within one row) of the voxels whose
        ``side`` (``"gt"`` or ``"pred"``) value is in ``labels``; None if there are none."""
        vals = self.values >> 8 if side == "gt" else self.values & 0xFF
        sel = np.isin(vals, np.asarray(labels))
        if not sel.any():
            return None
        first = np.unravel_index(self.starts[sel], self.shape)
        last = np.unravel_index(self.ends[sel], self.shape)
        box = []
        same_row = np.ones(int(sel.sum()), dtype=bool)  # runs whose outer indices agree
        for d, size in enumerate(self.shape):
            lo = np.where(same_row, first[d], 0)  # a run crossing rows spans whole axes
            hi = np.where(same_row, last[d], size - 1)
            box.append(slice(int(lo.min()), int(hi.max()) + 1))
            same_row &= first[d] == last[d]
        return tuple(box[::-1]) if self.reversed_axes else tuple(box)
