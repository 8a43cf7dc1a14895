"""PNG reading for label maps and panoptic id maps, with errors that name the file.

Label maps are decoded by Pillow. RGB images (panoptic segment-id PNGs) are decoded by
libspng through pyspng when it is installed (about 1.5x faster than Pillow on panoptic PNGs,
same pixels; see ``docs/dependencies.md``), else by Pillow. The colour type is read from the
PNG header first, so palette and grayscale PNGs are refused with a clear error whichever
decoder runs. Only ``read_*`` / ``decode_*`` functions here touch PNG bytes.
"""

from __future__ import annotations

__all__ = ["PNG_DECODER", "PngHeader", "bad_crc_chunks", "check_png", "decode_gray",
           "decode_rgb", "pillow_image", "png_header", "read_gray", "read_label_map",
           "read_png_bytes", "read_rgb", "write_png"]

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from benchmark_eval.errors import FormatError, Problem
from benchmark_eval.io.pngdecode import decode_grayscale, decode_rgb8
from benchmark_eval.io.safe import MAX_PIXELS, check_pixels, read_regular

try:
    import pyspng
except ImportError:  # pragma: no cover - pyspng is a runtime dependency; Pillow still works
    pyspng = None

PNG_DECODER = "pyspng" if pyspng is not None else "pillow"
"""The decoder :func:`decode_rgb` uses by default."""

# Pillow modes that hold one value per pixel, and what they mean.
_SINGLE_CHANNEL = {
    "1": "1-bit",
    "L": "8-bit grayscale",
    "P": "palette indices",
    "I;16": "16-bit grayscale",
    "I;16B": "16-bit grayscale",
    "I": "32-bit integer",
}
_CHANNELS = {"LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4, "YCbCr": 3}


def pillow_image(data: bytes, path: str | Path) -> Image.Image:
    """PNG bytes decoded by Pillow (its decompression-bomb check a :class:`FormatError`)."""
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Image.DecompressionBombError as exc:
        raise FormatError(Problem(str(path), f"refused by Pillow as a decompression bomb:"
                                             f" {exc}")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise FormatError(Problem(str(path), f"not a readable PNG: {exc}")) from exc
    return img


def _spng(data: bytes, path: str | Path) -> np.ndarray:
    """PNG bytes decoded by libspng (pyspng must be installed)."""
    try:
        return np.asarray(pyspng.load(data))
    except RuntimeError as exc:
        raise FormatError(Problem(str(path), f"not a readable PNG: {exc}")) from exc


def read_label_map(path: str | Path) -> np.ndarray:
    """A single-channel label map as a 2-D integer array ``(H, W)``.

    Palette PNGs (e.g. Pascal VOC) give their palette indices, 16-bit PNGs their 16-bit
    values. Multi-channel images are refused: a colour-coded label map must be converted
    to label ids first.

    Raises:
        FormatError: Unreadable file, or more than one channel.
    """
    return decode_gray(read_png_bytes(path), path, decoder="pillow")


def _label_values(img: Image.Image, path: str | Path) -> np.ndarray:
    """The values of a decoded single-channel image (1-bit as 0/1 uint8)."""
    if img.mode not in _SINGLE_CHANNEL:
        n = _CHANNELS.get(img.mode, "several")
        raise FormatError(Problem(str(path), f"has {n} channels ({img.mode}), expected a"
                                             " single-channel label map"))
    arr = np.asarray(img)
    return arr.astype(np.uint8) if arr.dtype == bool else arr


_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {0: "grayscale", 2: "RGB", 3: "palette", 4: "grayscale+alpha", 6: "RGBA"}


@dataclass(frozen=True)
class PngHeader:
    """The IHDR fields of a PNG file.

    Attributes:
        width: Pixels per row.
        height: Rows.
        bit_depth: Bits per sample (1, 2, 4, 8 or 16).
        color_type: 0 grayscale, 2 RGB, 3 palette, 4 grayscale+alpha, 6 RGBA.
    """

    width: int
    height: int
    bit_depth: int
    color_type: int

    @property
    def kind(self) -> str:
        """Human-readable type, e.g. ``"palette PNG (8-bit)"``."""
        color = _COLOR_TYPES.get(self.color_type, f"colour type {self.color_type}")
        return f"{color} PNG ({self.bit_depth}-bit)"


def png_header(data: bytes, path: str | Path) -> PngHeader:
    """Read the IHDR chunk of PNG bytes.

    Raises:
        FormatError: Not a PNG file, or its header is truncated.
    """
    if data[:8] != _SIGNATURE:
        raise FormatError(Problem(str(path), "not a PNG file (wrong signature)"))
    if len(data) < 29 or data[12:16] != b"IHDR":
        raise FormatError(Problem(str(path), "not a readable PNG: truncated header"))
    return PngHeader(width=int.from_bytes(data[16:20], "big"),
                     height=int.from_bytes(data[20:24], "big"),
                     bit_depth=data[24], color_type=data[25])


def bad_crc_chunks(data: bytes) -> list[str]:
    """The types of the chunks whose CRC is wrong (a truncated file ends the walk).

    Pillow (panopticapi's decoder) skips the CRC of IDAT chunks and reads the pixels, and so
    do libspng and our libdeflate path: ``evaluate`` scores such a file as panopticapi does;
    ``validate`` reports it.
    """
    bad, pos = [], 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        end = pos + 8 + length
        if end + 4 > len(data):
            break
        if zlib.crc32(data[pos + 4:end]) != int.from_bytes(data[end:end + 4], "big"):
            bad.append(data[pos + 4:pos + 8].decode("latin-1"))
        if data[pos + 4:pos + 8] == b"IEND":
            break
        pos = end + 4
    return bad


def read_png_bytes(path: str | Path) -> bytes:
    """The bytes of a regular file under the size cap (:func:`io.safe.read_regular`), with
    :class:`FormatError` naming it when it cannot be read."""
    return read_regular(path, where=str(path))


def check_png(data: bytes, path: str | Path, *, expected: tuple[int, int] | None = None,
              max_pixels: int = MAX_PIXELS) -> PngHeader:
    """The header of PNG bytes, its size checked against ``expected`` ``(H, W)`` and
    ``max_pixels`` before anything is inflated (a 1 KB file may declare 10^10 pixels).

    Raises:
        FormatError: Not a PNG, or a size that differs or is over the limit.
    """
    header = png_header(data, path)
    check_pixels((header.height, header.width), where=str(path), expected=expected,
                 max_pixels=max_pixels)
    return header


def decode_rgb(data: bytes, path: str | Path, *, decoder: str | None = None,
               expected: tuple[int, int] | None = None) -> np.ndarray:
    """Decode an 8-bit RGB or RGBA PNG to ``(H, W, 3)`` or ``(H, W, 4)`` uint8.

    Args:
        data: The PNG file's bytes.
        path: The file, named in errors.
        expected: The ``(H, W)`` it must have, checked on the header before decoding
            (always: the pixel limit of :func:`check_png`).
        decoder: ``"pyspng"`` or ``"pillow"`` to force one; default: libdeflate with our row
            unfilter when available (:mod:`benchmark_eval.io.pngdecode`), then
            :data:`PNG_DECODER`. All give the same pixels.

    Raises:
        FormatError: Not a PNG, not 8-bit RGB(A) (palette and grayscale PNGs cannot encode
            panoptic segment ids), corrupt, or of another size than ``expected``.
    """
    header = check_png(data, path, expected=expected)
    if header.color_type not in (2, 6) or header.bit_depth != 8:
        raise FormatError(Problem(str(path), f"is a {header.kind}, expected 8-bit RGB"))
    if decoder is None:
        fast = decode_rgb8(data)  # libdeflate + our unfilter; None: not handled
        if fast is not None:
            return fast
    if (decoder or PNG_DECODER) == "pyspng" and pyspng is not None:
        arr = _spng(data, path)
    else:
        arr = np.asarray(pillow_image(data, path))
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.dtype != np.uint8:
        raise FormatError(Problem(str(path), f"decoded to shape {arr.shape} {arr.dtype},"
                                             " expected 8-bit RGB"))
    return arr


def read_rgb(path: str | Path, *, decoder: str | None = None) -> np.ndarray:
    """An RGB PNG as ``(H, W, 3)`` uint8 (an alpha channel is dropped, as
    ``np.array(Image.open(...))[..., :3]`` in panopticapi's ``rgb2id`` ignores it).

    Raises:
        FormatError: Unreadable file, or not an 8-bit RGB(A) PNG (grayscale and palette
            PNGs cannot encode panoptic segment ids).
    """
    arr = decode_rgb(read_png_bytes(path), path, decoder=decoder)
    return arr[..., :3] if arr.shape[-1] == 4 else arr


def write_png(path: str | Path, array: np.ndarray) -> None:
    """Write a ``(H, W)`` uint8/uint16 label map or an ``(H, W, 3)`` uint8 RGB image."""
    array = np.ascontiguousarray(array)
    if (array.ndim == 3 and array.shape[2] == 3 and array.dtype == np.uint8) or (
            array.ndim == 2 and array.dtype in (np.uint8, np.uint16)):
        Image.fromarray(array).save(path)  # RGB, L or I;16 from the dtype and shape
    else:
        raise ValueError(f"cannot write an array of shape {array.shape} and dtype {array.dtype}")


def decode_gray(data: bytes, path: str | Path, *, decoder: str | None = None,
                expected: tuple[int, int] | None = None) -> np.ndarray:
    """Decode a single-channel PNG (grayscale or palette) to ``(H, W)`` integers.

    The values are those of :func:`read_label_map` (palette indices, 16-bit values, 0/1 for
    1-bit). 8- and 16-bit grayscale go through :mod:`benchmark_eval.io.pngdecode`
    (libdeflate, 3-5x faster than Pillow, same pixels) when it can, else 8-bit grayscale
    through pyspng when installed; every other kind through Pillow (pyspng expands 1-bit
    and 16-bit grayscale to wider formats and is slower there).

    Args:
        data: The PNG file's bytes.
        path: The file, named in errors.
        decoder: ``"pyspng"`` or ``"pillow"`` to force one for 8-bit grayscale; default: the
            fast decoder, then :data:`PNG_DECODER`.
        expected: The ``(H, W)`` it must have (see :func:`decode_rgb`).

    Raises:
        FormatError: Not a PNG, corrupt, more than one channel, or of another size than
            ``expected``.
    """
    header = check_png(data, path, expected=expected)
    if header.color_type == 0 and header.bit_depth in (8, 16) and decoder is None:
        fast = decode_grayscale(data)  # libdeflate + our unfilter; None: not handled
        if fast is not None:
            return fast
    if (header.color_type == 0 and header.bit_depth == 8 and pyspng is not None
            and (decoder or PNG_DECODER) == "pyspng"):
        arr = _spng(data, path)
        if arr.ndim == 2:
            return arr
    return _label_values(pillow_image(data, path), path)


def read_gray(path: str | Path, *, decoder: str | None = None) -> np.ndarray:
    """:func:`decode_gray` of a file (the values of :func:`read_label_map`, decoded faster
    when pyspng is installed).

    Raises:
        FormatError: Unreadable file, not a PNG, or more than one channel.
    """
    return decode_gray(read_png_bytes(path), path, decoder=decoder)
