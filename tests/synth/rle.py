"""COCO run-length encoding of 2-D boolean masks (column-major runs, alternating 0s and 1s,
starting with 0s): the uncompressed counts, the compressed string written in pure Python, and
the pycocotools 2.0.11 round trips the generators use to rasterise polygons."""

from __future__ import annotations

__all__ = [
    "compressed_rle",
    "decode_rle",
    "encode_mask",
    "polygons_mask",
    "rle_areas",
    "rle_string",
    "uncompressed_counts",
    "uncompressed_rle",
]

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np


def uncompressed_counts(mask: np.ndarray) -> list[int]:
    """COCO uncompressed run lengths of a 2-D mask (``[]`` for an empty array)."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return []
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = [int(r) for r in np.diff(np.concatenate(([0], edges, [flat.size])))]
    return [0, *runs] if flat[0] else runs


def rle_string(counts: Sequence[int]) -> str:
    """The compressed COCO string of run lengths (5-bit groups, deltas from i-2 for i > 2)."""
    chars: list[str] = []
    for i, count in enumerate(counts):
        value = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            group = value & 0x1F
            value >>= 5
            more = value != -1 if group & 0x10 else value != 0
            if more:
                group |= 0x20
            chars.append(chr(group + 48))
    return "".join(chars)


def uncompressed_rle(mask: np.ndarray) -> dict[str, Any]:
    """``{"size": [h, w], "counts": [...]}`` (uncompressed counts)."""
    height, width = mask.shape
    return {"size": [int(height), int(width)], "counts": uncompressed_counts(mask)}


def compressed_rle(mask: np.ndarray) -> dict[str, Any]:
    """``{"size": [h, w], "counts": "..."}`` encoded here, without pycocotools."""
    height, width = mask.shape
    return {"size": [int(height), int(width)], "counts": rle_string(uncompressed_counts(mask))}


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """Compressed RLE by ``pycocotools.mask.encode``, ``counts`` as a str (JSON-ready)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(x) for x in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode_rle(rle: Any) -> np.ndarray:
    """``pycocotools.mask.decode`` as a boolean mask."""
    from pycocotools import mask as mask_utils

    with warnings.catch_warnings():  # pycocotools 2.0.11 decode under numpy 2: not ours
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle).astype(bool)


def polygons_mask(parts: list[list[float]], height: int, width: int) -> np.ndarray:
    """The mask pycocotools rasterises for polygon parts (``frPyObjects`` + ``merge``)."""
    from pycocotools import mask as mask_utils

    return decode_rle(mask_utils.merge(mask_utils.frPyObjects(parts, height, width)))


def rle_areas(rles: Sequence[dict[str, Any]]) -> np.ndarray:
    """``mask.area`` in chunks: pycocotools 2.0.11 overflows on lists of 256+ RLEs."""
    from pycocotools import mask as mask_utils

    chunks = [mask_utils.area(list(rles[i:i + 255])) for i in range(0, len(rles), 255)]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.uint32)
