"""RLE helpers in ``masks.rle``: the compressed-string checker (C kernel and numpy fallback)
and polygon rasterisation, against pycocotools."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from benchmark_eval.masks import (
    check_compressed_rles,
    has_kernels,
    pair_mask_iou,
    polygons_to_rles,
)
from benchmark_eval.masks.rle import check_compressed_rles_numpy

# pycocotools 2.0.11 ``mask.decode`` trips a numpy 2 deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CHECKERS = {"c": check_compressed_rles, "numpy": check_compressed_rles_numpy}


def _encode_values(values: list[int]) -> bytes:
    """Compressed-RLE characters of raw (already delta-coded) signed values.

    Each value is cut into 5-bit groups, least significant first; a char is group + 48, with
    0x20 set when more groups follow. Writing stops once the remaining bits are pure sign
    extension of the last group's bit 0x10 (so -1 is the single group 0x1f -> 'O').
    """
    out = bytearray()
    for value in values:
        while True:
            group = value & 0x1F
            value >>= 5
            done = value == (-1 if group & 0x10 else 0)
            out.append(group + 48 + (0 if done else 0x20))
            if done:
                break
    return bytes(out)


def _encode_runs(runs: list[int]) -> bytes:
    """Compressed string of run lengths: runs from the fourth on are stored minus run i-2."""
    return _encode_values([r - runs[i - 2] if i > 2 else r for i, r in enumerate(runs)])


def _random_masks(rng: np.random.Generator, n: int,
                  size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """Noise, rectangles, empty and full masks; random sizes unless ``size`` is given."""
    masks = []
    for _ in range(n):
        h, w = size or (int(v) for v in rng.integers(1, 120, size=2))
        kind = rng.integers(0, 4)
        if kind == 0:  # noise: many short runs
            m = rng.random((h, w)) < rng.uniform(0.05, 0.95)
        elif kind == 1:  # one rectangle: few long runs
            m = np.zeros((h, w), dtype=bool)
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            m[y : y + int(rng.integers(1, h + 1)), x : x + int(rng.integers(1, w + 1))] = True
        elif kind == 2:  # empty
            m = np.zeros((h, w), dtype=bool)
        else:  # full
            m = np.ones((h, w), dtype=bool)
        masks.append(m)
    return masks


def _compressed(masks: list[np.ndarray]) -> tuple[list[bytes], np.ndarray, np.ndarray, list]:
    rles = [mask_utils.encode(np.asfortranarray(m.astype(np.uint8))) for m in masks]
    heights = np.array([m.shape[0] for m in masks], dtype=np.int64)
    widths = np.array([m.shape[1] for m in masks], dtype=np.int64)
    return [r["counts"] for r in rles], heights, widths, rles


def test_c_kernel_is_built() -> None:
    # The tests below compare the C kernel with the numpy fallback; make sure they really
    # exercise two implementations.
    assert has_kernels()


def test_hand_encoder_matches_pycocotools() -> None:
    # Guard for the hand-made strings below: our encoder reproduces pycocotools' strings.
    rng = np.random.default_rng(0)
    for m in _random_masks(rng, 30):
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        runs = mask_utils.decode(rle).ravel(order="F")
        edges = np.flatnonzero(np.diff(runs)) + 1
        counts = np.diff(np.r_[0, edges, runs.size]).tolist()
        counts = [0, *counts] if runs[0] else counts
        assert _encode_runs(counts) == rle["counts"]


@pytest.mark.parametrize("seed", range(4))
def test_valid_masks_agree_with_pycocotools_area(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts, heights, widths, rles = _compressed(_random_masks(rng, 200))
    expected = np.array([mask_utils.area(r) for r in rles], dtype=np.float64)
    for name, check in CHECKERS.items():
        got = check(counts, heights, widths)
        assert got.ok.all(), name
        assert got.reason == [""] * len(counts), name
        assert np.array_equal(got.area, expected), name


def test_long_values_up_to_six_groups() -> None:
    # A 2000 x 2000 mask with one foreground pixel at the end: runs 3999999 and 1. The first
    # value needs 5 groups (22 bits + sign), still inside the 6-group limit.
    runs = [3_999_999, 1]
    s = _encode_runs(runs)
    assert len(s) == 6  # 5 groups for the long run, 1 for the short one
    h = w = np.array([2000])
    for name, check in CHECKERS.items():
        got = check([s], h, w)
        assert got.ok.tolist() == [True], name
        assert got.area.tolist() == [1.0], name
    assert mask_utils.area({"size": [2000, 2000], "counts": s}) == 1


BAD_STRINGS = {
    # name: (counts, h, w, substring of the C kernel's reason)
    "space": (b"52 2", 3, 3, "characters outside"),
    "tilde": (b"5~", 3, 3, "characters outside"),
    "below-zero-char": (b"5/", 3, 3, "characters outside"),
    # 'h' = 56 + 48: group 24 with the "more" bit 0x20 set, and nothing follows
    "truncated-mid-value": (b"5h", 3, 3, "truncated"),
    # seven groups with the "more" bit: longer than maskApi.c's int can hold
    "overlong-value": (b"PPPPPP0", 3, 3, "truncated or has an overlong value"),
    "empty": (b"", 3, 3, "cover 0 pixels"),
    # 'O' = 31 + 48: one group 0x1f with the sign bit -> -1; then 10: runs sum to 9 = 3 * 3,
    # so only the negative-run check catches it
    "negative-first-run": (b"O:", 3, 3, "negative run"),
    # runs 2, 3, 1 then value -5 stored as delta to run 2 (3) -> run -2; total 2+3+1-2+5 = 9
    "negative-delta-run": (_encode_values([2, 3, 1, -5, 5]), 3, 3, "negative run"),
    # valid string of a 3x3 mask checked against 3x4
    "wrong-size": (_encode_runs([4, 5]), 3, 4, "cover 9 pixels"),
}


@pytest.mark.parametrize("name", list(BAD_STRINGS))
def test_bad_strings_are_flagged_by_both(name: str) -> None:
    counts, h, w, reason = BAD_STRINGS[name]
    heights, widths = np.array([h]), np.array([w])
    c_result = check_compressed_rles([counts], heights, widths)
    np_result = check_compressed_rles_numpy([counts], heights, widths)
    assert c_result.ok.tolist() == [False]
    assert np_result.ok.tolist() == [False]
    assert reason in c_result.reason[0]
    assert np_result.reason[0]


def test_every_proper_prefix_is_flagged() -> None:
    # A truncated string either ends inside a value or covers fewer than h*w pixels.
    m = np.zeros((20, 30), dtype=bool)
    m[3:15, 4:25] = True
    m[5, 7] = False
    counts, heights, widths, _ = _compressed([m])
    full = counts[0]
    prefixes = [full[:k] for k in range(len(full))]
    n = len(prefixes)
    for name, check in CHECKERS.items():
        got = check(prefixes, np.repeat(heights, n), np.repeat(widths, n))
        assert not got.ok.any(), name
        assert all(got.reason), name


@pytest.mark.parametrize("seed", range(3))
def test_bad_strings_among_good_ones_are_pinpointed(seed: int) -> None:
    # The numpy checker decodes all strings in one flat pass: a broken string must not leak
    # into its neighbours, and both implementations must flag exactly the same entries.
    rng = np.random.default_rng(50 + seed)
    counts, heights, widths, rles = _compressed(_random_masks(rng, 60))
    area = np.array([mask_utils.area(r) for r in rles], dtype=np.float64)
    bad = sorted(rng.choice(len(counts), size=12, replace=False).tolist())
    corrupt = list(BAD_STRINGS.values())
    for j, i in enumerate(bad):
        s, h, w, _ = corrupt[j % len(corrupt)]
        counts[i], heights[i], widths[i] = s, h, w
    results = {name: check(counts, heights, widths) for name, check in CHECKERS.items()}
    for name, got in results.items():
        assert np.flatnonzero(~got.ok).tolist() == bad, name
        good = got.ok
        assert np.array_equal(got.area[good], area[good]), name
    assert np.array_equal(results["c"].ok, results["numpy"].ok)


def test_empty_batch() -> None:
    for check in CHECKERS.values():
        got = check([], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        assert got.ok.shape == (0,)
        assert got.reason == []


# ------------------------------------------------------------------------ decoded runs, IoU


def _runs_of(mask: np.ndarray) -> list[int]:
    flat = mask.ravel(order="F")
    edges = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    counts = np.diff(np.r_[0, edges, flat.size]).tolist()
    return [0, *counts] if flat.size and flat[0] else counts


def test_decoded_runs_areas_and_boxes_match_pycocotools() -> None:
    rng = np.random.default_rng(7)
    masks = _random_masks(rng, 80)
    counts, heights, widths, rles = _compressed(masks)
    got = check_compressed_rles(counts, heights, widths)
    assert got.runs is not None
    assert len(got.runs) == len(masks)
    for i, m in enumerate(masks):
        lo, hi = got.runs.offsets[i], got.runs.offsets[i + 1]
        assert got.runs.runs[lo:hi].tolist() == _runs_of(m), i
    assert np.array_equal(got.runs.areas, [mask_utils.area(r) for r in rles])
    assert np.array_equal(got.runs.boxes, mask_utils.toBbox(rles))


@pytest.mark.parametrize("seed", range(3))
def test_pair_mask_iou_bit_identical_to_pycocotools(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(5, 60, size=2))
    masks = _random_masks(rng, 40, size=(h, w))
    det, gt = masks[:25], masks[25:]
    d_counts, d_h, d_w, d_rles = _compressed(det)
    g_counts, g_h, g_w, g_rles = _compressed(gt)
    d_runs = check_compressed_rles(d_counts, d_h, d_w).runs
    g_runs = check_compressed_rles(g_counts, g_h, g_w).runs
    assert d_runs is not None
    assert g_runs is not None
    crowd = rng.random(len(gt)) < 0.4
    pd, pg = (a.ravel() for a in np.meshgrid(np.arange(len(det)), np.arange(len(gt)),
                                             indexing="ij"))
    ours = pair_mask_iou(d_runs, g_runs, pd, pg, crowd[pg])
    official = np.asarray(mask_utils.iou(d_rles, g_rles, crowd.astype(np.uint8)))
    assert np.array_equal(ours, official.reshape(len(det), len(gt))[pd, pg])
    assert (ours > 0).any()
    assert (ours == 0).any()


# ------------------------------------------------------------------------------ polygons


def _official_polygon_rle(parts: list[list[float]], h: int, w: int) -> dict:
    return mask_utils.merge(mask_utils.frPyObjects(parts, h, w))


def _random_polygon(rng: np.random.Generator, h: int, w: int) -> list[float]:
    n = int(rng.integers(3, 9))
    pts = np.c_[rng.uniform(-3, w + 3, n), rng.uniform(-3, h + 3, n)]  # may leave the image
    return [float(v) for v in pts.ravel()]


@pytest.mark.parametrize("seed", range(4))
def test_polygons_to_rles_bit_identical_to_annToRLE(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(5, 90, size=2))
    objects = [
        [_random_polygon(rng, h, w) for _ in range(int(rng.integers(1, 4)))]  # multi-part
        for _ in range(12)
    ]
    ours = polygons_to_rles(objects, h, w)
    assert len(ours) == len(objects)
    for obj, rle in zip(objects, ours, strict=True):
        official = _official_polygon_rle(obj, h, w)
        assert rle["size"] == [h, w]
        assert np.array_equal(mask_utils.decode(rle), mask_utils.decode(official))
    assert any(mask_utils.area(r) > 0 for r in ours)


def test_polygons_to_rles_of_nothing() -> None:
    assert polygons_to_rles([], 10, 10) == []
