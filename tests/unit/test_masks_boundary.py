"""Boundary extraction (``benchmark_eval.masks.boundary``): the C kernel, the numpy fallback and
a direct transcription of boundary-iou-api's ``mask_to_boundary`` agree pixel for pixel.

The reference below does literally what boundary-iou-api does with OpenCV: pad the mask with
one background pixel, erode ``d`` times with a 3x3 square (``cv2.erode`` treats pixels beyond
the padded image as neutral), crop, subtract.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmark_eval.masks import boundary
from benchmark_eval.masks.boundary import (
    boundary_bitmap,
    boundary_dilation,
    mask_boundaries,
    mask_boundaries_numpy,
    rle_boundaries,
)
from benchmark_eval.schema import MaskRuns


def reference_boundary(mask: np.ndarray, d: int) -> np.ndarray:
    """boundary-iou-api ``mask_to_boundary`` with numpy: 1-pixel zero pad, ``d`` 3x3 erosions."""
    h, w = mask.shape
    m = np.pad(mask.astype(bool), 1, constant_values=False)
    for _ in range(d):
        p = np.pad(m, 1, constant_values=True)  # outside the padded image: neutral for min
        m = np.logical_and.reduce(
            [p[1 + dy : 1 + dy + h + 2, 1 + dx : 1 + dx + w + 2]
             for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    return mask.astype(bool) & ~m[1 : h + 1, 1 : w + 1]


def runs_of(mask: np.ndarray) -> np.ndarray:
    """Canonical column-major runs (background first) of a 2-D mask."""
    flat = mask.T.ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], edges, [flat.size])))
    return np.concatenate(([0], runs) if flat[0] else (runs,)).astype(np.uint32)


def pack(masks: list[np.ndarray]) -> MaskRuns:
    parts = [runs_of(m) for m in masks]
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    return MaskRuns(runs=np.concatenate(parts), offsets=offsets,
                    areas=np.array([int(m.sum()) for m in masks], dtype=np.int64),
                    boxes=np.zeros((len(masks), 4)))


def unpack(runs: MaskRuns, i: int, h: int, w: int) -> np.ndarray:
    r = runs.runs[runs.offsets[i] : runs.offsets[i + 1]].astype(np.int64)
    return np.repeat(np.arange(len(r)) % 2 == 1, r).reshape(w, h).T


def tight_box(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1)]


def nasty_masks(rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    """(mask, d) pairs: noise, rectangles, thin bars (< 2d wide), frames touching every
    border, 1x1 and 2x2 objects, empty and full images, 1-row and 1-column images."""
    out = []
    for _ in range(150):
        h, w = (int(v) for v in rng.integers(1, 36, size=2))
        d = int(rng.integers(1, 7))
        kind = int(rng.integers(0, 8))
        m = np.zeros((h, w), dtype=bool)
        if kind == 0:
            m = rng.random((h, w)) < rng.uniform(0.2, 0.9)
        elif kind == 1:
            for _ in range(int(rng.integers(1, 5))):
                y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
                m[y : y + int(rng.integers(1, h + 1)), x : x + int(rng.integers(1, w + 1))] = True
        elif kind == 2:  # thin bars, thinner than 2d
            m[:, int(rng.integers(0, w)) : int(rng.integers(0, w)) + 2 * d - 1] = True
            m[int(rng.integers(0, h)), :] = True
        elif kind == 3:  # a frame touching every border, and the full image
            m[:] = True
            m[d + 1 : h - d - 1, d + 1 : w - d - 1] = rng.random() < 0.5
        elif kind == 4:  # 1x1 and 2x2 objects
            for size in (1, 2):
                y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
                m[y : y + size, x : x + size] = True
        elif kind == 5:  # a disk
            yy, xx = np.ogrid[:h, :w]
            m = (yy - h / 2) ** 2 + (xx - w / 3) ** 2 <= rng.uniform(1, max(h, w)) ** 2
        # kind 6: empty; kind 7: full
        elif kind == 7:
            m[:] = True
        out.append((m, d))
    return out


@pytest.fixture(scope="module")
def cases() -> list[tuple[np.ndarray, int]]:
    return nasty_masks(np.random.default_rng(7))


def test_numpy_matches_the_reference(cases: list[tuple[np.ndarray, int]]) -> None:
    for m, d in cases:
        np.testing.assert_array_equal(boundary_bitmap(m, d), reference_boundary(m, d))


@pytest.mark.parametrize("implementation", ["c", "numpy"])
def test_runs_match_the_reference(implementation: str,
                                  cases: list[tuple[np.ndarray, int]]) -> None:
    """All masks in one call (different sizes and d), processed in reverse order."""
    assert boundary.has_boundary_kernel()
    masks = [m for m, _ in cases]
    rows = np.arange(len(cases))[::-1].copy()
    h = np.array([m.shape[0] for m in masks])[rows]
    w = np.array([m.shape[1] for m in masks])[rows]
    d = np.array([k for _, k in cases])[rows]
    fn = mask_boundaries if implementation == "c" else mask_boundaries_numpy
    out = fn(pack(masks), rows, h, w, d)
    assert len(out) == len(cases)
    for q, row in enumerate(rows.tolist()):
        expected = reference_boundary(masks[row], int(d[q]))
        got = out.runs[out.offsets[q] : out.offsets[q + 1]]
        np.testing.assert_array_equal(got, runs_of(expected))  # canonical runs
        assert out.areas[q] == expected.sum()
        assert out.boxes[q].tolist() == tight_box(expected)


# pycocotools 2.0.11's decode warns under numpy 2 (copy=False passed to __array__)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_rle_dicts_match_the_reference(cases: list[tuple[np.ndarray, int]]) -> None:
    from pycocotools import mask as mask_utils

    subset = cases[:40]
    rles = [mask_utils.encode(np.asfortranarray(m, dtype=np.uint8)) for m, _ in subset]
    out = rle_boundaries(rles, np.array([d for _, d in subset]))
    for (m, d), rle in zip(subset, out, strict=True):
        np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool),
                                      reference_boundary(m, d))


def test_c_kernel_on_noncanonical_runs() -> None:
    """Zero-length runs inside the counts (valid for pycocotools) split no interval: runs
    [2, 3, 0, 4, 1] in a 10x1 image are rows 2..8 foreground. With d = 2 the vertical
    erosion keeps no row (the image is 1 column wide, so the horizontal window always
    leaves it): the boundary is the whole object, runs [2, 7, 1]."""
    masks = MaskRuns(runs=np.array([2, 3, 0, 4, 1], dtype=np.uint32),
                     offsets=np.array([0, 5]), areas=np.array([7]), boxes=np.zeros((1, 4)))
    out = mask_boundaries(masks, np.array([0]), np.array([10]), np.array([1]), np.array([2]))
    assert out.runs.tolist() == [2, 7, 1]
    # 10 rows x 5 columns, rows 0..9 of columns 0..4 split into runs with zero gaps:
    # a full image; d = 1 erodes to rows 1..8 of columns 1..3 (24 px): 50 - 24 = 26 px band
    full = MaskRuns(runs=np.array([0, 10, 0, 15, 0, 25], dtype=np.uint32),
                    offsets=np.array([0, 6]), areas=np.array([50]), boxes=np.zeros((1, 4)))
    band = mask_boundaries(full, np.array([0]), np.array([10]), np.array([5]), np.array([1]))
    assert band.areas.tolist() == [26]
    np.testing.assert_array_equal(unpack(band, 0, 10, 5),
                                  reference_boundary(np.ones((10, 5), dtype=bool), 1))


def test_hand_worked_bands() -> None:
    # 5x5 full image, d = 1: the erosion keeps rows 1..3 x cols 1..3 (9 px, the image
    # border counts as background), so the band is the 16-pixel frame.
    assert boundary_bitmap(np.ones((5, 5), dtype=bool), 1).sum() == 16
    # 4x6 full image: d = 1 keeps rows 1..2 x cols 1..4 (8 px) -> band 24 - 8 = 16 px;
    # d = 2 keeps nothing (row 2 is 1 from the bottom edge) -> band = all 24 px.
    assert boundary_bitmap(np.ones((4, 6), dtype=bool), 1).sum() == 16
    assert boundary_bitmap(np.ones((4, 6), dtype=bool), 2).sum() == 24
    # 10x10 square (rows/cols 3..12) in a 20x20 image, d = 2: the erosion keeps rows/cols
    # 5..10 (6x6 = 36 px), band 100 - 36 = 64 px.
    square = np.zeros((20, 20), dtype=bool)
    square[3:13, 3:13] = True
    assert boundary_bitmap(square, 2).sum() == 64
    # a bar 3 px wide (< 2d + 1 = 5) is all boundary at d = 2: 8 rows x 3 cols = 24 px
    bar = np.zeros((12, 12), dtype=bool)
    bar[2:10, 4:7] = True
    np.testing.assert_array_equal(boundary_bitmap(bar, 2), bar)
    # 2x2 and 1x1 objects are all boundary: every pixel touches the background
    dots = np.zeros((6, 6), dtype=bool)
    dots[1:3, 1:3] = True
    dots[4, 4] = True
    np.testing.assert_array_equal(boundary_bitmap(dots, 1), dots)
    # empty stays empty
    assert not boundary_bitmap(np.zeros((3, 3), dtype=bool), 1).any()


def test_empty_and_full_runs() -> None:
    # empty 3x4 mask: runs [12] -> band runs [12]; full: runs [0, 12], d = 1 keeps rows 1..1
    # x cols 1..2 (2 px) -> band of 10 px: column 0 all (3), col 1 rows 0 and 2, col 2 the
    # same, col 3 all: runs [0, 4, 1, 2, 1, 4]
    masks = MaskRuns(runs=np.array([12, 0, 12], dtype=np.uint32), offsets=np.array([0, 1, 3]),
                     areas=np.array([0, 12]), boxes=np.zeros((2, 4)))
    out = mask_boundaries(masks, np.array([0, 1]), np.array([3, 3]), np.array([4, 4]),
                          np.array([1, 1]))
    assert out.runs[: out.offsets[1]].tolist() == [12]
    assert out.runs[out.offsets[1] :].tolist() == [0, 4, 1, 2, 1, 4]
    assert out.areas.tolist() == [0, 10]
    assert out.boxes.tolist() == [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 4.0, 3.0]]


def test_runs_not_covering_the_image_are_refused() -> None:
    masks = MaskRuns(runs=np.array([3, 4], dtype=np.uint32), offsets=np.array([0, 2]),
                     areas=np.array([4]), boxes=np.zeros((1, 4)))
    with pytest.raises(ValueError, match="do not cover"):
        mask_boundaries(masks, np.array([0]), np.array([3]), np.array([3]), np.array([1]))
    with pytest.raises(ValueError, match="do not cover"):
        mask_boundaries_numpy(masks, np.array([0]), np.array([3]), np.array([3]), np.array([1]))
    with pytest.raises(ValueError, match="out of range"):
        mask_boundaries(masks, np.array([1]), np.array([1]), np.array([7]), np.array([1]))


def test_dilation_width() -> None:
    # 480x640: diagonal 800, 0.02 * 800 = 16. 45x60: diagonal 75, 1.5 rounds half to even
    # to 2 (Python's round in boundary-iou-api; faster-coco-eval gets 1). 75x100: 2.5 -> 2.
    # 3x4: 0.1 -> 0 -> at least 1. 1x1: 0.028 -> 1.
    got = boundary_dilation(np.array([480, 45, 75, 3, 1]), np.array([640, 60, 100, 4, 1]), 0.02)
    assert got.tolist() == [16, 2, 2, 1, 1]
    assert boundary_dilation(np.array([480]), np.array([640]), 0.0).tolist() == [1]
    # 0.005 * 800 = 4
    assert boundary_dilation(np.array([480]), np.array([640]), 0.005).tolist() == [4]
