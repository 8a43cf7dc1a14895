"""Shapes for generated objects: polygons as COCO flat ``[x0, y0, x1, y1, ...]`` lists and
boolean masks of an image's size."""

from __future__ import annotations

__all__ = [
    "ellipse_mask",
    "pixel_box",
    "rect_mask",
    "rect_polygon",
    "roll_mask",
    "shift_mask",
    "star_points",
    "star_polygon",
    "tight_bbox",
]

import numpy as np


def rect_polygon(x: float, y: float, w: float, h: float) -> list[float]:
    """The 4 corners of a ``w x h`` rectangle at ``(x, y)``, clockwise from top-left."""
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def star_points(rng: np.random.Generator, cx: float, cy: float, radius: float,
                vertices: int, min_radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertex coordinates ``(xs, ys)`` of a star-shaped polygon around ``(cx, cy)``: sorted
    random angles, radii ``radius * U(min_radius, 1)`` (drawn in that order)."""
    angles = np.sort(rng.uniform(0.0, 2.0 * np.pi, size=vertices))
    radii = radius * rng.uniform(min_radius, 1.0, size=vertices)
    return cx + radii * np.cos(angles), cy + radii * np.sin(angles)


def star_polygon(rng: np.random.Generator, cx: float, cy: float, radius: float,
                 vertices: int, min_radius: float, decimals: int) -> list[float]:
    """:func:`star_points` as a flat polygon, each coordinate ``round``-ed to ``decimals``."""
    xs, ys = star_points(rng, cx, cy, radius, vertices, min_radius)
    return [round(float(v), decimals) for v in np.stack([xs, ys], axis=1).ravel()]


def rect_mask(height: int, width: int, x: int, y: int, w: int, h: int) -> np.ndarray:
    """Pixels ``x <= col < x + w``, ``y <= row < y + h`` (clipped to the image)."""
    mask = np.zeros((height, width), dtype=bool)
    mask[max(y, 0) : max(y + h, 0), max(x, 0) : max(x + w, 0)] = True
    return mask


def ellipse_mask(height: int, width: int, cx: float, cy: float, rx: float, ry: float
                 ) -> np.ndarray:
    """Pixels whose centre lies in the ellipse (radii ``rx``, ``ry``) around ``(cx, cy)``."""
    rows, cols = np.ogrid[0:height, 0:width]
    return ((cols + 0.5 - cx) / rx) ** 2 + ((rows + 0.5 - cy) / ry) ** 2 <= 1.0


def shift_mask(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move a mask by whole pixels; what leaves the image is dropped (no wrap-around)."""
    height, width = mask.shape
    out = np.zeros_like(mask)
    src = mask[max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)]
    out[max(dy, 0) : max(dy, 0) + src.shape[0], max(dx, 0) : max(dx, 0) + src.shape[1]] = src
    return out


def roll_mask(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move a mask by whole pixels, wrapping around the image edges (``np.roll``)."""
    return np.roll(np.roll(mask, dy, axis=0), dx, axis=1)


def pixel_box(mask: np.ndarray) -> list[int]:
    """``[x, y, w, h]`` of the pixels set in ``mask`` (``[0, 0, 0, 0]`` when none)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return [0, 0, 0, 0]
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1),
            int(rows[-1] - rows[0] + 1)]


def tight_bbox(mask: np.ndarray) -> list[float]:
    """:func:`pixel_box` as floats (the COCO ``bbox`` of a mask, as ``mask.toBbox`` gives)."""
    return [float(v) for v in pixel_box(mask)]
