"""Dense masks -> compressed RLE (``pycocotools.mask.encode``), for in-memory inputs."""

from __future__ import annotations

__all__ = ["encode_mask"]

from typing import Any

import numpy as np
from pycocotools import _mask


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """A 2-D mask (bool or 0/1 integers, ``(H, W)``) as compressed RLE with ``str`` counts,
    as ``pycocotools.mask.encode`` gives it (then decoded to ``str``, as in a JSON file)."""
    arr = np.asfortranarray(np.asarray(mask, dtype=np.uint8)[:, :, None])
    rle = _mask.encode(arr)[0]
    counts = rle["counts"]
    return {"size": [int(x) for x in rle["size"]],
            "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts}
