"""COCO panoptic building blocks: segment ids near a category colour and the RGB encoding
of id maps (``id = R + 256 G + 256² B``, as panopticapi's ``id2rgb``)."""

from __future__ import annotations

__all__ = ["ColorIds", "ids_to_rgb"]

from collections.abc import Mapping, Sequence

import numpy as np


def ids_to_rgb(id_map: np.ndarray) -> np.ndarray:
    """The ``(H, W, 3)`` uint8 PNG pixels of an ``(H, W)`` map of ids below ``256³``."""
    ids = np.asarray(id_map, dtype=np.int64)
    return ((ids[..., None] >> np.array([0, 8, 16])) & 255).astype(np.uint8)


class ColorIds:
    """Distinct segment ids near each category's colour (like panopticapi's IdGenerator):
    the colour plus a uniform integer offset in ``[-spread, spread]`` per channel, clipped
    to 0..255, redrawn until unused (0 is never handed out)."""

    def __init__(self, rng: np.random.Generator, colors: Mapping[int, Sequence[int]],
                 spread: int) -> None:
        self.rng, self.colors, self.spread, self.taken = rng, colors, spread, {0}

    def new(self, category: int) -> int:
        """A fresh id for a segment of ``category``."""
        base = np.asarray(self.colors[category])
        while True:
            rgb = np.clip(base + self.rng.integers(-self.spread, self.spread + 1, 3), 0, 255)
            sid = int(rgb[0] + 256 * rgb[1] + 65536 * rgb[2])
            if sid not in self.taken:
                self.taken.add(sid)
                return sid
