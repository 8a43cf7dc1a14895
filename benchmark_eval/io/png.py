"""PNG reading for label maps and panoptic id maps, with errors that name the file.

The decoder is Pillow (a runtime dependency). Only ``read_*`` functions here touch PNG
bytes, so a faster decoder can be swapped in behind them.
"""

from __future__ import annotations

__all__ = ["read_label_map", "read_rgb", "write_png"]

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from benchmark_eval.errors import FormatError, Problem

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


def _open(path: Path) -> Image.Image:
    try:
        img = Image.open(path)
        img.load()
    except FileNotFoundError as exc:
        raise FormatError(Problem(str(path), "file not found")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise FormatError(Problem(str(path), f"not a readable PNG: {exc}")) from exc
    return img


def read_label_map(path: str | Path) -> np.ndarray:
    """A single-channel label map as a 2-D integer array ``(H, W)``.

    Palette PNGs (e.g. Pascal VOC) give their palette indices, 16-bit PNGs their 16-bit
    values. Multi-channel images are refused: a colour-coded label map must be converted
    to label ids first.

    Raises:
        FormatError: Unreadable file, or more than one channel.
    """
    path = Path(path)
    img = _open(path)
    if img.mode not in _SINGLE_CHANNEL:
        n = _CHANNELS.get(img.mode, "several")
        raise FormatError(Problem(str(path), f"has {n} channels ({img.mode}), expected a"
                                             " single-channel label map"))
    arr = np.asarray(img)
    return arr.astype(np.uint8) if arr.dtype == bool else arr


def read_rgb(path: str | Path) -> np.ndarray:
    """An RGB image as ``(H, W, 3)`` uint8 (an alpha channel is dropped, as
    ``np.array(Image.open(...))[..., :3]`` in panopticapi's ``rgb2id`` ignores it).

    Raises:
        FormatError: Unreadable file, or not an RGB(A) image (grayscale and palette PNGs
            cannot encode panoptic segment ids).
    """
    path = Path(path)
    img = _open(path)
    if img.mode not in ("RGB", "RGBA"):
        kind = _SINGLE_CHANNEL.get(img.mode, img.mode)
        raise FormatError(Problem(str(path), f"is a {kind} PNG ({img.mode}), expected RGB"))
    arr = np.asarray(img)
    return arr[..., :3] if arr.shape[-1] == 4 else arr


def write_png(path: str | Path, array: np.ndarray) -> None:
    """Write a ``(H, W)`` uint8/uint16 label map or an ``(H, W, 3)`` uint8 RGB image."""
    array = np.ascontiguousarray(array)
    if (array.ndim == 3 and array.shape[2] == 3 and array.dtype == np.uint8) or (
            array.ndim == 2 and array.dtype in (np.uint8, np.uint16)):
        Image.fromarray(array).save(path)  # RGB, L or I;16 from the dtype and shape
    else:
        raise ValueError(f"cannot write an array of shape {array.shape} and dtype {array.dtype}")
