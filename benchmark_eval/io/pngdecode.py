"""A fast decoder for the PNGs the evaluations read: 8- and 16-bit grayscale (Cityscapes)
and 8-bit RGB(A) (panoptic segment ids).

Label-id maps, instance-id maps and binary masks are non-interlaced grayscale PNGs. Their
decoding time is almost all inflation (zlib); libdeflate (the ``deflate`` package) inflates
3-5x faster than the zlib inside Pillow and pyspng, and a small C kernel
(``_pngfilter.c``) reverses the row filters. The pixels are those Pillow gives (tested on
every filter type). Anything else — other colour types and bit depths, interlaced files,
unknown critical chunks, corrupt data, or an install without ``deflate`` or the C kernel —
returns ``None`` so the caller falls back to pyspng / Pillow (which also word the errors).
"""

from __future__ import annotations

__all__ = ["Allocate", "OutputBuffers", "available", "decode_grayscale", "decode_rgb8"]

import sys
from collections.abc import Callable
from types import ModuleType

import numpy as np

from benchmark_eval.io.safe import MAX_PIXELS

deflate: ModuleType | None
try:
    import deflate
except ImportError:  # pragma: no cover - a runtime dependency; the fallback still works
    deflate = None
try:
    from benchmark_eval.io import _pngfilter  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: pyspng / Pillow decode instead
    _pngfilter = None

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Allocate = Callable[[tuple[int, int], type], np.ndarray]
"""Gives the C-contiguous output array of a ``(H, W)`` shape and dtype."""
_KNOWN_CRITICAL = {b"IHDR", b"IDAT", b"IEND", b"PLTE"}


def available() -> bool:
    """Whether the fast path can run (``deflate`` installed and the C kernel built)."""
    return deflate is not None and _pngfilter is not None


def _idat(data: bytes) -> bytes | None:
    """The concatenated IDAT payloads, or None on anything unexpected."""
    pos, parts = 8, []
    n = len(data)
    while pos + 8 <= n:
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if pos + 12 + length > n:
            return None  # truncated
        if kind == b"IDAT":
            parts.append(data[pos + 8:pos + 8 + length])
        elif kind == b"IEND":
            return b"".join(parts)
        elif kind[0] < 97 and kind not in _KNOWN_CRITICAL:  # unknown critical chunk
            return None
        pos += 12 + length
    return None


def _inflate(data: bytes, kinds: dict[tuple[int, int], int]
             ) -> tuple[bytes, int, int, int] | None:
    """``(filtered rows, height, width, bytes per pixel)`` of a non-interlaced PNG whose
    (colour type, bit depth) is a key of ``kinds`` (value: bytes per pixel), inflated by
    libdeflate; None when the file is anything else or the fast path is unavailable."""
    if (deflate is None or _pngfilter is None or len(data) < 33 or data[:8] != _SIGNATURE
            or data[12:16] != b"IHDR"):
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    depth, color, compression, filtering, interlace = data[24:29]
    bpp = kinds.get((color, depth))
    if bpp is None or (compression, filtering, interlace) != (0, 0, 0):
        return None
    if width == 0 or height == 0 or height * width > MAX_PIXELS:
        return None  # the callers refuse sizes over the limit before decoding (io.png)
    idat = _idat(data)
    if idat is None:
        return None
    size = height * (width * bpp + 1)
    try:  # the buffer is the declared size: a stream inflating beyond it stops there
        raw = deflate.zlib_decompress(idat, size)
    except deflate.DeflateError:
        return None
    return (raw, height, width, bpp) if len(raw) == size else None


class OutputBuffers:
    """Output arrays reused from image to image, one per role (``"labels"``, ``"mask"``...).

    A 2048x1024 map is a fresh multi-megabyte array per file otherwise, and its page faults
    cost as much as a third of the decoding. An array handed out for a role is overwritten by
    the next decode for that role: use it before reading the next file.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def allocator(self, role: str) -> Allocate:
        """The :data:`Allocate` function of ``role``."""

        def allocate(shape: tuple[int, int], dtype: type) -> np.ndarray:
            arr = self._arrays.get(role)
            if arr is None or arr.shape != shape or arr.dtype != dtype:
                arr = self._arrays[role] = np.empty(shape, dtype=dtype)
            return arr

        return allocate


def decode_grayscale(data: bytes, *, box: np.ndarray | None = None,
                     allocate: Allocate | None = None) -> np.ndarray | None:
    """``(H, W)`` uint8 or uint16 of an 8- or 16-bit non-interlaced grayscale PNG, or None
    when the file is anything else (or the fast path is unavailable).

    Args:
        data: The PNG file's bytes.
        box: For 8-bit files, an int64 array of 4 filled with the box of the non-zero pixels:
            first row, last row + 1, first column, last column + 1 (all -1 if there is none),
            found during decoding; left untouched when None is returned or for 16-bit files.
        allocate: Gives the output array (e.g. :meth:`OutputBuffers.allocator`); default: a
            new array.
    """
    inflated = _inflate(data, {(0, 8): 1, (0, 16): 2})
    if inflated is None:
        return None
    raw, height, width, bpp = inflated
    rowbytes = width * bpp
    dtype = np.uint8 if bpp == 1 else np.uint16
    out = (allocate or np.empty)((height, width), dtype)
    try:
        _pngfilter.unfilter(raw, out, height, rowbytes, bpp,
                            int(bpp == 2 and sys.byteorder == "little"),
                            box if bpp == 1 else None)
    except ValueError:
        return None
    return out


def decode_rgb8(data: bytes) -> np.ndarray | None:
    """``(H, W, 3)`` or ``(H, W, 4)`` uint8 of an 8-bit non-interlaced RGB or RGBA PNG (the
    panoptic segment-id maps), or None when the file is anything else or the fast path is
    unavailable; the same libdeflate + row-unfilter path as :func:`decode_grayscale`."""
    inflated = _inflate(data, {(2, 8): 3, (6, 8): 4})  # RGB, RGBA
    if inflated is None:
        return None
    raw, height, width, channels = inflated
    rowbytes = width * channels
    out = np.empty((height, width, channels), dtype=np.uint8)
    try:
        _pngfilter.unfilter(raw, out, height, rowbytes, channels, 0, None)
    except ValueError:
        return None
    return out
