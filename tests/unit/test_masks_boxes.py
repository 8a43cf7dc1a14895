"""``masks.boxes.box_iou_pairs`` must give the very doubles of pycocotools ``mask.iou``."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from benchmark_eval.masks import box_iou_pairs


def _all_pairs(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """Our IoU for every (dt, gt) pair laid out as pycocotools' (D, G) matrix."""
    d_idx, g_idx = np.meshgrid(np.arange(len(dt)), np.arange(len(gt)), indexing="ij")
    d_idx, g_idx = d_idx.ravel(), g_idx.ravel()
    return box_iou_pairs(dt[d_idx], gt[g_idx], crowd[g_idx]).reshape(len(dt), len(gt))


def _official(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    out = mask_utils.iou(dt, gt, crowd.astype(np.uint8))
    return np.asarray(out, dtype=np.float64).reshape(len(dt), len(gt))


@pytest.mark.parametrize("seed", range(5))
def test_random_float_boxes_match_pycocotools_exactly(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dt = np.c_[rng.uniform(0, 50, (40, 2)), rng.uniform(0, 30, (40, 2))]
    gt = np.c_[rng.uniform(0, 50, (30, 2)), rng.uniform(0, 30, (30, 2))]
    crowd = rng.random(30) < 0.3
    ours, official = _all_pairs(dt, gt, crowd), _official(dt, gt, crowd)
    assert (official > 0).sum() > 100  # the draw really overlaps
    assert np.array_equal(ours, official)


@pytest.mark.parametrize("seed", range(5))
def test_grid_boxes_with_touching_and_zero_size_match_pycocotools(seed: int) -> None:
    # Integer coordinates on a small grid: many boxes share an edge (intersection width
    # exactly 0), contain each other, coincide, or have zero width or height.
    rng = np.random.default_rng(100 + seed)
    dt = rng.integers(0, 6, (60, 4)).astype(np.float64)
    gt = rng.integers(0, 6, (50, 4)).astype(np.float64)
    crowd = rng.random(50) < 0.4
    ours, official = _all_pairs(dt, gt, crowd), _official(dt, gt, crowd)
    assert ((dt[:, 2] == 0) | (dt[:, 3] == 0)).any()
    assert (official == 1.0).any()
    assert np.array_equal(ours, official)


def test_hand_cases() -> None:
    dt = np.array([
        [0.0, 0.0, 10.0, 10.0],  # half-covers gt0 (see below)
        [10.0, 0.0, 5.0, 10.0],  # touches gt0's right edge x = 10: no overlap
        [0.0, 0.0, 0.0, 10.0],  # zero width
        [2.0, 2.0, 4.0, 4.0],  # inside gt1 (crowd)
    ])
    gt = np.array([
        [5.0, 0.0, 5.0, 10.0],
        [0.0, 0.0, 10.0, 10.0],
    ])
    crowd = np.array([False, True])
    ours = _all_pairs(dt, gt, crowd)
    # dt0 vs gt0: intersection 5x10 = 50, union 100 + 50 - 50 = 100 -> 0.5
    # dt0 vs gt1 (crowd): intersection 100 / dt area 100 -> 1.0
    # dt1 vs gt0 and gt1: intersection width min(15, 10) - max(10, .) = 0 -> 0
    # dt2 has zero area: width min(0, .) - max(0, .) <= 0 -> 0 everywhere
    # dt3 vs gt0: x 2..6 and 5..10 overlap 1, y 2..6 inside 0..10 -> intersection 4,
    #   union 16 + 50 - 4 = 62 -> 4 / 62
    # dt3 vs gt1 (crowd): intersection 16 / dt area 16 -> 1.0, although gt1 is much larger
    expected = np.array([[0.5, 1.0], [0.0, 0.0], [0.0, 0.0], [4.0 / 62.0, 1.0]])
    assert np.array_equal(ours, expected)
    assert np.array_equal(ours, _official(dt, gt, crowd))


def test_empty_input_gives_empty_output() -> None:
    z = np.zeros((0, 4))
    out = box_iou_pairs(z, z, np.zeros(0, dtype=bool))
    assert out.shape == (0,)
    assert out.dtype == np.float64
