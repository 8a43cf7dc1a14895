"""Run-length-encoded masks: the single wrapper over ``pycocotools.mask``.

Masks travel as pycocotools' compressed RLE dicts ``{"size": [h, w], "counts": bytes}``.
Polygons are rasterised by pycocotools itself so masks are bit-identical to the official
tool's. :func:`check_compressed_rles` decodes the compressed strings with numpy (all masks
at once) to catch malformed input that pycocotools would silently turn into a number.
"""

from __future__ import annotations

__all__ = [
    "RleCheck",
    "can_rasterize",
    "check_compressed_rles",
    "check_compressed_rles_numpy",
    "combine_runs",
    "compress_uncompressed",
    "decode_masks",
    "has_kernels",
    "mask_iou",
    "pair_mask_iou",
    "polygons_to_rles",
    "rasterize_polygons",
    "rle_areas",
    "rle_boxes",
]

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools import _mask as _mask_ext
from pycocotools import mask as _mask

from benchmark_eval.schema import MaskRuns

try:
    from benchmark_eval.masks import _rle  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: the numpy / pycocotools fallbacks run
    _rle = None

Rle = dict[str, Any]

# pycocotools' compressed RLE (maskApi.c rleToString): 6-bit groups offset by 48, 0x20 marks
# "more groups follow", 0x10 in the last group is the sign bit; counts after the third are
# stored as differences to the count two places back.
_CHAR_OFFSET = 48
_MORE = 0x20
_SIGN = 0x10
_MAX_GROUPS = 6  # maskApi.c shifts an int by 5 bits per group: longer values overflow it
_AREA_CHUNK = 255


def polygons_to_rles(polygons: Sequence[Sequence[Sequence[float]]], h: int, w: int) -> list[Rle]:
    """Rasterise multi-part polygons of one image size, one merged RLE per object.

    Matches pycocotools ``COCO.annToRLE`` (``frPyObjects`` then ``merge``), batched: all
    parts go through one ``frPyObjects`` call; single-part objects skip the (identity) merge.

    Args:
        polygons: Per object, a list of parts, each ``[x1, y1, x2, y2, ...]`` (>= 6 numbers).
        h: Image height in pixels.
        w: Image width in pixels.
    """
    parts = [p for obj in polygons for p in obj]
    if not parts:
        return []
    rles = _mask.frPyObjects(parts, h, w)
    out: list[Rle] = []
    i = 0
    for obj in polygons:
        n = len(obj)
        out.append(rles[i] if n == 1 else _mask.merge(rles[i : i + n]))
        i += n
    return out


def compress_uncompressed(rles: Sequence[Rle], h: int, w: int) -> list[Rle]:
    """Uncompressed RLE (``counts`` a list of ints) to compressed RLE, as ``annToRLE`` does."""
    if not rles:
        return []
    return list(_mask.frPyObjects(list(rles), h, w))


def decode_masks(rles: Sequence[Rle]) -> np.ndarray:
    """Dense masks ``(H, W, N)`` uint8 of compressed RLE of one size (``mask.decode``)."""
    with warnings.catch_warnings():
        # pycocotools 2.0.11 under numpy 2 warns that decode passes copy=False to __array__
        warnings.simplefilter("ignore", DeprecationWarning)
        return np.asarray(_mask.decode(list(rles)), dtype=np.uint8)


def rle_areas(rles: Sequence[Rle]) -> np.ndarray:
    """Foreground pixel count per mask, float64, shape ``(N,)`` (``pycocotools.mask.area``)."""
    # pycocotools 2.0.11 ``area`` overflows on lists longer than 255 under numpy 2 (its
    # output shape is built with a uint8), so call it in chunks.
    out = np.zeros(len(rles), dtype=np.float64)
    for start in range(0, len(rles), _AREA_CHUNK):
        out[start : start + _AREA_CHUNK] = _mask.area(list(rles[start : start + _AREA_CHUNK]))
    return out


def rle_boxes(rles: Sequence[Rle]) -> np.ndarray:
    """Tight ``[x, y, w, h]`` box per mask, float64, shape ``(N, 4)`` (``mask.toBbox``)."""
    if not rles:
        return np.zeros((0, 4), dtype=np.float64)
    return np.asarray(_mask.toBbox(list(rles)), dtype=np.float64).reshape(-1, 4)


def mask_iou(dt: Sequence[Rle], gt: Sequence[Rle], crowd: np.ndarray) -> np.ndarray:
    """IoU matrix ``(len(dt), len(gt))`` from pycocotools ``maskApi.c rleIou``.

    For crowd GT the union is the detection's area. Sizes must already be checked equal:
    pycocotools returns -1 for mismatched sizes instead of failing.
    """
    if not dt or not gt:
        return np.zeros((len(dt), len(gt)), dtype=np.float64)
    iscrowd = np.ascontiguousarray(crowd, dtype=np.uint8)
    out = _mask.iou(list(dt), list(gt), iscrowd)
    return np.asarray(out, dtype=np.float64).reshape(len(dt), len(gt))


@dataclass(frozen=True)
class RleCheck:
    """Result of :func:`check_compressed_rles`, one entry per mask.

    Attributes:
        ok: The string decodes to non-negative counts summing to ``h * w``.
        reason: Empty when ``ok``, else what is wrong.
        area: Foreground pixels (sum of odd-position counts), float64.
        runs: The decoded masks (``None`` without the C kernel).
    """

    ok: np.ndarray
    reason: list[str]
    area: np.ndarray
    runs: MaskRuns | None = None


_STATUS_REASON = {
    1: "RLE counts string has characters outside '0'..'o'",
    2: "RLE counts string is truncated or has an overlong value",
    3: "RLE counts string decodes to a negative run length",
}


def check_compressed_rles(
    counts: Sequence[bytes | str], heights: np.ndarray, widths: np.ndarray,
    store: np.ndarray | None = None,
) -> RleCheck:
    """Decode compressed RLE strings and check them against their mask size.

    Uses the C kernel when it was built (and then also returns the decoded runs), else
    :func:`check_compressed_rles_numpy`. pycocotools checks none of this; a mask whose runs
    do not cover ``h * w`` pixels makes its ``rleIou`` loop forever.

    Args:
        counts: The ``counts`` strings (str or bytes), one per mask.
        heights: Mask heights, shape ``(N,)``.
        widths: Mask widths, shape ``(N,)``.
        store: Keep the runs of these masks only (bool, ``(N,)``); every mask is still
            decoded and checked. All when None.
    """
    if _rle is None:
        as_bytes = [c.encode("utf-8") if isinstance(c, str) else c for c in counts]
        return check_compressed_rles_numpy(as_bytes, heights, widths)
    n = len(counts)
    data, lengths = _join_ascii(counts)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    h = np.ascontiguousarray(heights, dtype=np.int64)
    w = np.ascontiguousarray(widths, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    area = np.zeros(n, dtype=np.int64)
    total = np.zeros(n, dtype=np.int64)
    boxes = np.zeros((n, 4), dtype=np.int32)
    run_offsets = np.zeros(n + 1, dtype=np.int64)
    keep = b"" if store is None else np.ascontiguousarray(store, dtype=np.uint8)
    raw = _rle.decode(data, offsets, h, w, keep, status, area, total, boxes, run_offsets)
    reasons = [""] * n
    for i in np.flatnonzero(status).tolist():
        reasons[i] = _STATUS_REASON.get(int(status[i])) or (
            f"RLE runs cover {int(total[i])} pixels but size [h, w] = "
            f"[{int(h[i])}, {int(w[i])}] has {int(h[i] * w[i])}"
        )
    decoded = MaskRuns(runs=np.frombuffer(raw, dtype=np.uint32), offsets=run_offsets,
                       areas=area, boxes=boxes.astype(np.float64))
    return RleCheck(ok=status == 0, reason=reasons, area=area.astype(np.float64), runs=decoded)


def _join_ascii(counts: Sequence[bytes | str]) -> tuple[bytes, np.ndarray]:
    """All strings as one bytes object and their byte lengths. JSON gives ``str``: one
    join and one ASCII encode; a non-ASCII string (never valid RLE) is encoded as UTF-8 so
    the decoder sees (and reports) its bytes >= 0x80."""
    if set(map(type, counts)) == {str}:
        joined = "".join(counts)  # type: ignore[arg-type]
        if joined.isascii():
            return joined.encode("ascii"), np.fromiter(map(len, counts), np.int64, len(counts))
    parts = [c.encode("utf-8") if isinstance(c, str) else c for c in counts]
    return b"".join(parts), np.fromiter(map(len, parts), np.int64, len(parts))


def pair_mask_iou(det: MaskRuns, gt: MaskRuns, pair_det: np.ndarray, pair_gt: np.ndarray,
                  crowd: np.ndarray) -> np.ndarray:
    """Mask IoU of (detection, GT) pairs, bit-identical to pycocotools ``rleIou``.

    Args:
        det: Decoded detection masks.
        gt: Decoded GT masks (same sizes as the detections they are paired with).
        pair_det: Detection index per pair, shape ``(P,)``.
        pair_gt: GT index per pair, shape ``(P,)``.
        crowd: Whether each pair's GT is crowd (union = detection area), shape ``(P,)``.

    Returns:
        IoU per pair, float64.
    """
    assert _rle is not None
    out = np.zeros(len(pair_det), dtype=np.float64)
    if len(out):
        _rle.pair_iou(det.runs, det.offsets, det.areas, gt.runs, gt.offsets, gt.areas,
                      np.ascontiguousarray(pair_det, dtype=np.int64),
                      np.ascontiguousarray(pair_gt, dtype=np.int64),
                      np.ascontiguousarray(crowd, dtype=np.uint8), out)
    return out


def has_kernels() -> bool:
    """Whether the C kernels were built (else slower pure-Python/numpy fallbacks run)."""
    return _rle is not None


_BOUND: bool | None = None


def can_rasterize() -> bool:
    """Whether :func:`rasterize_polygons` can call pycocotools' rasteriser in place (the C
    kernels are built and pycocotools' extension exports ``rleFrPoly``/``rleMerge``)."""
    global _BOUND
    if _BOUND is None:
        _BOUND = _rle is not None and bool(_rle.bind(_mask_ext.__file__))
    return _BOUND


def rasterize_polygons(coords: np.ndarray, part_lengths: np.ndarray, parts_per_object:
                       np.ndarray, heights: np.ndarray, widths: np.ndarray) -> MaskRuns:
    """Rasterise multi-part polygons with pycocotools' own ``rleFrPoly`` + ``rleMerge``.

    Same masks as :func:`polygons_to_rles` (``COCO.annToRLE``), for many images at once.

    Args:
        coords: All polygon coordinates ``x0, y0, x1, y1, ...``, float64, concatenated.
        part_lengths: Numbers per part (even, >= 6), shape ``(P,)``.
        parts_per_object: Parts per object (>= 1), shape ``(N,)``.
        heights: Image height per object, shape ``(N,)``.
        widths: Image width per object, shape ``(N,)``.
    """
    assert _rle is not None
    n = len(parts_per_object)
    part_ptr = np.zeros(len(part_lengths) + 1, dtype=np.int64)
    np.cumsum(part_lengths, out=part_ptr[1:])
    obj_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(parts_per_object, out=obj_ptr[1:])
    run_offsets = np.zeros(n + 1, dtype=np.int64)
    areas = np.zeros(n, dtype=np.int64)
    boxes = np.zeros((n, 4), dtype=np.int32)
    raw = _rle.rasterize(np.ascontiguousarray(coords, dtype=np.float64), part_ptr, obj_ptr,
                         np.ascontiguousarray(heights, dtype=np.int64),
                         np.ascontiguousarray(widths, dtype=np.int64), run_offsets, areas,
                         boxes)
    return MaskRuns(runs=np.frombuffer(raw, dtype=np.uint32), offsets=run_offsets,
                    areas=areas, boxes=boxes.astype(np.float64))


def combine_runs(parts: Sequence[tuple[np.ndarray, MaskRuns]], n: int) -> MaskRuns:
    """One :class:`MaskRuns` of ``n`` rows from pieces covering disjoint row subsets.

    Args:
        parts: ``(rows, runs)`` pairs; ``runs`` holds the masks of ``rows``, in that order.
        n: Total rows; every row must be covered exactly once.
    """
    lengths = np.zeros(n, dtype=np.int64)
    src_start = np.zeros(n, dtype=np.int64)
    areas = np.zeros(n, dtype=np.int64)
    boxes = np.zeros((n, 4), dtype=np.float64)
    buffers, base = [], 0
    for rows, r in parts:
        lengths[rows] = np.diff(r.offsets)
        src_start[rows] = r.offsets[:-1] + base
        areas[rows] = r.areas
        boxes[rows] = r.boxes
        buffers.append(r.runs)
        base += len(r.runs)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    gather = np.arange(offsets[-1]) + np.repeat(src_start - offsets[:-1], lengths)
    data = np.concatenate(buffers) if buffers else np.zeros(0, dtype=np.uint32)
    return MaskRuns(runs=data[gather], offsets=offsets, areas=areas, boxes=boxes)


def check_compressed_rles_numpy(
    counts: Sequence[bytes], heights: np.ndarray, widths: np.ndarray
) -> RleCheck:
    """Pure-numpy version of :func:`check_compressed_rles` (fallback without the C kernel).

    Reproduces maskApi.c ``rleFrString`` for every mask at once. A string is valid when all
    characters are in ``'0'..'o'``, it ends on a complete value, no run is negative and the
    runs cover exactly ``h * w`` pixels. pycocotools checks none of this; a mask whose runs
    do not cover ``h * w`` pixels makes its ``rleIou`` loop forever.

    Args:
        counts: The ``counts`` strings as bytes, one per mask.
        heights: Mask heights, shape ``(N,)``.
        widths: Mask widths, shape ``(N,)``.
    """
    n = len(counts)
    lengths = np.fromiter(map(len, counts), dtype=np.int64, count=n)
    string_end = np.cumsum(lengths)
    string_start = string_end - lengths
    code = np.frombuffer(b"".join(counts), dtype=np.uint8) - np.uint8(_CHAR_OFFSET)
    n_chars = len(code)
    broken = np.zeros(n, dtype=bool)
    bad_char = code > 63  # below '0' wraps around to > 63 as well
    if bad_char.any():
        broken[np.searchsorted(string_end, np.flatnonzero(bad_char), side="right")] = True
    last_group = (code & _MORE) == 0
    # A value starts after a char without the "more" bit, and at the start of each string.
    value_start = np.empty(n_chars, dtype=bool)
    value_start[:1] = True
    value_start[1:] = last_group[:-1]
    nonempty = lengths > 0
    value_start[string_start[nonempty]] = True
    start = np.flatnonzero(value_start)
    n_values = len(start)
    total: np.ndarray = np.zeros(n)
    area: np.ndarray = np.zeros(n)
    if n_values:
        value_len = np.diff(start, append=n_chars)
        last = start + value_len - 1
        per_mask = np.zeros(n, dtype=np.int64)
        per_mask[nonempty] = np.add.reduceat(value_start, string_start[nonempty])
        value_mask = np.repeat(np.arange(n), per_mask)
        unfinished = ~last_group[last] | (value_len > _MAX_GROUPS)
        if unfinished.any():
            broken[value_mask[unfinished]] = True
        values = _values(code, value_start, start, last, value_len)
        first_value = np.cumsum(per_mask) - per_mask
        j = np.arange(n_values, dtype=np.int64) - np.repeat(first_value, per_mask)
        runs = _undelta(values, j, per_mask, first_value)
        negative = runs < 0
        if negative.any():
            broken[value_mask[negative]] = True
        total = np.bincount(value_mask, weights=runs, minlength=n)
        area = np.bincount(value_mask, weights=np.where((j & 1) == 1, runs, 0), minlength=n)
    pixels = heights.astype(np.float64) * widths.astype(np.float64)
    problems = broken | (total != pixels)
    reasons: list[str] = [""] * n
    for i in np.flatnonzero(problems):
        if broken[i]:
            reasons[i] = "RLE counts string is corrupt (bad characters, truncated or negative runs)"
        else:
            reasons[i] = (
                f"RLE runs cover {int(total[i])} pixels but size [h, w] = "
                f"[{int(heights[i])}, {int(widths[i])}] has {int(pixels[i])}"
            )
    return RleCheck(ok=~problems, reason=reasons, area=area)


def _values(code: np.ndarray, value_start: np.ndarray, start: np.ndarray, last: np.ndarray,
            value_len: np.ndarray) -> np.ndarray:
    """Signed integers from 5-bit groups, least significant group first (``rleFrString``)."""
    pos = np.arange(len(code), dtype=np.int32)
    first = np.where(value_start, pos, np.int32(0))
    np.maximum.accumulate(first, out=first)
    k = pos - first  # index of each char within its value
    np.minimum(k, _MAX_GROUPS - 1, out=k)
    contrib = (code & np.uint8(0x1F)).astype(np.int64) << (5 * k).astype(np.int64)
    values = np.add.reduceat(contrib, start)
    signed = (code[last] & _SIGN) != 0
    values[signed] -= np.int64(1) << (5 * np.minimum(value_len[signed], _MAX_GROUPS))
    return values


def _undelta(
    values: np.ndarray, j: np.ndarray, per_mask: np.ndarray, first_value: np.ndarray
) -> np.ndarray:
    """Undo the delta coding: ``run[j] = value[j] + run[j - 2]`` for ``j > 2`` in each mask.

    Runs 1, 3, 5... and runs 2, 4, 6... are two running sums, each restarted per mask.
    """
    runs = values.copy()
    odd = (j & 1) == 1
    for chain in (odd, ~odd & (j >= 2)):
        c = np.cumsum(np.where(chain, values, 0))
        before = np.concatenate(([0], c))[first_value]
        np.subtract(c, np.repeat(before, per_mask), out=runs, where=chain)
    return runs
