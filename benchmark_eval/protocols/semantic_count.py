"""Counting label-map pairs into a :class:`SemanticState` (protocol ``semantic``).

One pass per image pair: two 8-bit maps are packed into ``gt * 256 + pred`` and counted by
runs (:func:`pair_counts`; label maps are piecewise constant); the counts of the 65,536
possible value pairs are folded into the ``(C+2, C+2)`` matrix through a lookup table once per
shard. Every value mapping, the ignore index and the range checks live in that table, so no
pixel is visited in Python. Wider maps go through per-value lookup tables and one
``np.bincount`` over ``row * (C+2) + column``.
"""

from __future__ import annotations

__all__ = ["PairCounter", "pair_counts", "pair_histogram", "shape_problem"]

from collections.abc import Callable

import numpy as np

from benchmark_eval.protocols.semantic_params import ValueTables
from benchmark_eval.protocols.semantic_state import SemanticState

_PAIR_BINS = 1 << 16  # histogram bins of (gt, pred) pairs of 8-bit values
_RLE_MIN_PIXELS = 4096  # smaller maps: plain bincount
_RLE_MAX_RUN_FRACTION = 8  # more runs than pixels / 8: plain bincount
_MAX_VALUES_LISTED = 10  # out-of-range values named per message


def shape_problem(gt: np.ndarray, pred: np.ndarray) -> tuple[str, str] | None:
    """``(side, message)`` if the maps are not two same-size 2-D integer arrays."""
    for side, a in (("gt", gt), ("pred", pred)):
        if a.ndim != 2:
            extra = f" ({a.shape[-1]} channels?)" if a.ndim == 3 else ""
            return side, f"array of shape {a.shape}{extra}, expected a 2-D (H, W) label map"
        if a.dtype.kind not in "biu":
            return side, f"has dtype {a.dtype}, expected integer labels"
    if gt.shape != pred.shape:
        return "pred", (f"prediction is {_size(pred)} (WxH) but the ground truth is"
                        f" {_size(gt)}")
    return None


def _size(a: np.ndarray) -> str:
    """``"WxH"`` of a 2-D array."""
    return f"{a.shape[1]}x{a.shape[0]}"


def _as_uint8(a: np.ndarray) -> np.ndarray | None:
    if a.dtype == np.uint8:
        return a
    if a.size == 0 or (int(a.min()) >= 0 and int(a.max()) < 256):
        return a.astype(np.uint8)
    return None


def _lookup(a: np.ndarray, table: np.ndarray, one: Callable[[int], int]) -> np.ndarray:
    """Matrix index of every value of ``a`` via ``table``; values outside it via ``one``."""
    size = len(table)
    lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
    if lo >= 0 and hi < size:
        return table[a]
    outside = (a < 0) | (a >= size)
    out = table[np.where(outside, 0, a)]
    values, inverse = np.unique(a[outside], return_inverse=True)
    out[outside] = np.array([one(int(v)) for v in values], dtype=np.intp)[inverse]
    return out


class PairCounter:
    """Counts image pairs into a :class:`SemanticState`.

    Args:
        tables: From :func:`~benchmark_eval.protocols.semantic_params.build_tables`.
        fingerprint: The state's fingerprint.
        per_image: Also keep per-image counts (for per-image Dice).
    """

    def __init__(self, tables: ValueTables, fingerprint: str, *, per_image: bool) -> None:
        self.tables = tables
        self.fingerprint = fingerprint
        self.per_image = per_image
        w = tables.width
        self._matrix = np.zeros(w * w, dtype=np.int64)
        self._pairs = np.zeros(_PAIR_BINS, dtype=np.int64)
        self._bad_gt = tables.gt_rows[:256] == w - 1
        self._bad_pred = tables.pred_cols[:256] == w - 1
        self._buffers = _Buffers()
        self._names: list[str] = []
        self._stats: list[np.ndarray] = []
        self.n_images = 0

    def add(self, name: str, gt: np.ndarray, pred: np.ndarray) -> list[tuple[str, str]]:
        """Count one pair; returns ``(side, message)`` problems instead (nothing counted).

        Both maps must have passed :func:`shape_problem`.
        """
        gt, pred = (a.view(np.uint8) if a.dtype == np.bool_ else a for a in (gt, pred))
        g8, p8 = _as_uint8(gt), _as_uint8(pred)
        if g8 is not None and p8 is not None:
            values, counts = pair_counts(g8, p8, self._buffers)
            problems = self._pair_problems(values, counts)
            if problems:
                return problems
            np.add.at(self._pairs, values, counts)
            matrix = None
            if self.per_image:
                matrix = np.zeros(self.tables.width ** 2, dtype=np.int64)
                np.add.at(matrix, self.tables.fold[values], counts)
        else:
            t = self.tables
            rows = _lookup(gt, t.gt_rows, t.gt_row)
            cols = _lookup(pred, t.pred_cols, t.pred_col)
            rows *= t.width
            rows += cols
            matrix = np.bincount(rows.reshape(-1), minlength=t.width * t.width)
            problems = self._matrix_problems(matrix, gt, pred, rows, cols)
            if problems:
                return problems
            self._matrix += matrix
        self.n_images += 1
        if self.per_image:
            assert matrix is not None
            self._names.append(name)
            self._stats.append(_image_stats(matrix, self.tables.num_classes))
        return []

    def state(self) -> SemanticState:
        """The counts so far."""
        c = self.tables.num_classes
        folded = np.zeros(self.tables.width ** 2, dtype=np.int64)
        nz = np.flatnonzero(self._pairs)
        np.add.at(folded, self.tables.fold[nz], self._pairs[nz])
        full = (self._matrix + folded).reshape(c + 2, c + 2)
        stats = (np.stack(self._stats) if self._stats
                 else np.zeros((0, 4, c), dtype=np.int64))
        return SemanticState(confusion=np.ascontiguousarray(full[: c + 1, : c + 1]),
                             n_images=self.n_images, image_names=tuple(self._names),
                             image_stats=stats, fingerprint=self.fingerprint)

    def _pair_problems(self, values: np.ndarray, counts: np.ndarray) -> list[tuple[str, str]]:
        problems = []
        for side, per_value, bad in (("gt", values >> 8, self._bad_gt),
                                     ("pred", values & 0xFF, self._bad_pred)):
            hit = bad[per_value]
            if hit.any():  # slow path, only on a bad image
                hist = np.bincount(per_value[hit], weights=counts[hit], minlength=256)
                found = np.flatnonzero(hist)
                problems.append((side, self._range_message(side, found,
                                                           hist[found].astype(np.int64))))
        return problems

    def _matrix_problems(self, matrix: np.ndarray, gt: np.ndarray, pred: np.ndarray,
                         rows: np.ndarray, cols: np.ndarray) -> list[tuple[str, str]]:
        w = self.tables.width
        m = matrix.reshape(w, w)
        problems = []
        if m[w - 1].any():  # slow path, only on a bad image
            values, counts = np.unique(gt[(rows // w) == w - 1], return_counts=True)
            problems.append(("gt", self._range_message("gt", values, counts)))
        if m[:, w - 1].any():
            values, counts = np.unique(pred[cols == w - 1], return_counts=True)
            problems.append(("pred", self._range_message("pred", values, counts)))
        return problems

    def _range_message(self, side: str, values: np.ndarray, counts: np.ndarray) -> str:
        p = self.tables.params
        shown = ", ".join(f"{int(v)} ({int(n)} px)" for v, n in zip(
            values[:_MAX_VALUES_LISTED], counts[:_MAX_VALUES_LISTED], strict=True))
        more = f" and {len(values) - _MAX_VALUES_LISTED} more" if len(
            values) > _MAX_VALUES_LISTED else ""
        mapped = bool(p.label_map) and (side == "gt" or p.rule != "mmseg")
        steps = [s for s, on in (("reduce_zero_label", side == "gt" and p.reduce_zero_label),
                                 ("label_map", mapped)) if on]
        after = f" after {' and '.join(steps)}" if steps else ""
        ignore = "" if p.ignore_index is None else f" or the ignore index {p.ignore_index}"
        what = "labels" if side == "gt" else "predicted labels"
        hint = " (out_of_range='no-class' counts them as wrong)" if side == "pred" else ""
        if side == "pred" and p.label_map and p.rule == "mmseg":
            hint += "; the mmseg rule applies label_map to the GT only, as mmseg does"
        return (f"{what} outside [0, {p.num_classes}){after}: {shown}{more}; expected class"
                f" indices{ignore}{hint}")


class _Buffers:
    """Scratch arrays reused from image to image (fresh large arrays cost page faults)."""

    def __init__(self) -> None:
        self.packed = np.empty(0, dtype=np.uint16)
        self.starts = np.empty(0, dtype=bool)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.packed) < n:
            self.packed = np.empty(n, dtype=np.uint16)
            self.starts = np.empty(n, dtype=bool)
        return self.packed[:n], self.starts[:n]


def pair_counts(gt: np.ndarray, pred: np.ndarray, buffers: _Buffers | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel counts of the ``gt * 256 + pred`` values of two uint8 maps.

    Label maps are piecewise constant, so the packed pixels are run-length encoded (one
    comparison pass) and the runs counted, not the pixels: about half the time of
    ``np.bincount`` over every pixel on ADE20K-like maps. Maps with many short runs (noise)
    take the plain ``np.bincount``.

    Returns:
        ``(values, counts)``: intp packed values (may repeat) and int64 pixel counts.
    """
    packed, starts = (buffers or _Buffers()).get(gt.size)
    np.left_shift(gt.reshape(-1), 8, out=packed, dtype=np.uint16)
    np.bitwise_or(packed, pred.reshape(-1), out=packed)
    n = packed.size
    if n >= _RLE_MIN_PIXELS:
        starts[0] = True
        np.not_equal(packed[1:], packed[:-1], out=starts[1:])
        if np.count_nonzero(starts) <= n // _RLE_MAX_RUN_FRACTION:
            first = np.flatnonzero(starts)
            return packed[first].astype(np.intp), np.diff(first, append=n)
    hist = np.bincount(packed, minlength=_PAIR_BINS)
    values = np.flatnonzero(hist)
    return values, hist[values]


def pair_histogram(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Counts of every ``gt * 256 + pred`` value of two uint8 maps, ``(65536,)`` int64."""
    values, counts = pair_counts(gt, pred)
    hist = np.zeros(_PAIR_BINS, dtype=np.int64)
    np.add.at(hist, values, counts)
    return hist


def _image_stats(matrix: np.ndarray, c: int) -> np.ndarray:
    m = matrix.reshape(c + 2, c + 2)
    inner = m[:c, :c]
    return np.stack([np.diagonal(inner).copy(), inner.sum(axis=1), m[:c, c],
                     inner.sum(axis=0)]).astype(np.int64)
