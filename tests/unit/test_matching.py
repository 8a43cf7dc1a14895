"""``matching.group_pairs`` and ``matching.greedy_match`` on hand-worked cases, and the greedy
matcher against a plain loop that restates pycocotools' ``evaluateImg`` rules."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark_eval.matching import greedy_match, group_pairs
from benchmark_eval.protocols.coco_params import official_iou_thresholds

# ------------------------------------------------------------------------------ group_pairs


def test_group_pairs_hand_case() -> None:
    det_group = np.array([0, 0, 2, 5, 5])
    gt_group = np.array([0, 1, 1, 5, 5, 5, 7])
    d, g = group_pairs(det_group, gt_group)
    # dets 0 and 1 (group 0) pair with gt 0; det 2 (group 2) has no GT; dets 3 and 4
    # (group 5) pair with gts 3, 4, 5; gts 1, 2 (group 1) and 6 (group 7) have no detection.
    assert d.tolist() == [0, 1, 3, 3, 3, 4, 4, 4]
    assert g.tolist() == [0, 0, 3, 4, 5, 3, 4, 5]


@pytest.mark.parametrize(
    ("det_group", "gt_group"),
    [([], []), ([1, 2], []), ([], [1, 2]), ([1, 1], [2, 2]), ([3], [3])],
)
def test_group_pairs_degenerate(det_group: list[int], gt_group: list[int]) -> None:
    dg = np.array(det_group, dtype=np.int64)
    gg = np.array(gt_group, dtype=np.int64)
    d, g = group_pairs(dg, gg)
    expected = [(i, j) for i, a in enumerate(det_group) for j, b in enumerate(gt_group) if a == b]
    assert list(zip(d.tolist(), g.tolist(), strict=True)) == expected


def test_group_pairs_random_against_double_loop() -> None:
    rng = np.random.default_rng(3)
    dg = np.sort(rng.integers(0, 8, 40))
    gg = np.sort(rng.integers(0, 8, 30))
    d, g = group_pairs(dg, gg)
    expected = [(i, j) for i in range(len(dg)) for j in range(len(gg)) if dg[i] == gg[j]]
    assert list(zip(d.tolist(), g.tolist(), strict=True)) == expected


# ----------------------------------------------------------------------------- greedy_match


def _dense(n_det: int, matched: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """greedy_match's compact output as ``(n_det, T, A)`` with -1 for unmatched."""
    dets, match = matched
    out = np.full((n_det, *match.shape[1:]), -1, dtype=np.int64)
    out[dets] = match
    return out


def _match_one_group(
    ious: list[list[float]], thresholds: list[float], *, ignore: list[bool] | None = None,
    crowd: list[bool] | None = None,
) -> np.ndarray:
    """greedy_match on one image/category; ``ious[d][g]`` with detections in score order.

    Returns the matched GT per detection and threshold, shape ``(D, T)``, -1 if unmatched.
    """
    iou = np.array(ious, dtype=np.float64)
    n_det, n_gt = iou.shape
    pair_det, pair_gt = np.nonzero(iou > 0)  # sorted by detection, then GT
    has = np.unique(pair_det)
    wave = np.searchsorted(has, pair_det)
    gt_ignore = np.array(ignore or [False] * n_gt, dtype=bool)[:, None]
    gt_crowd = np.array(crowd or [False] * n_gt, dtype=bool)
    out = _dense(n_det, greedy_match(pair_det, pair_gt, iou[pair_det, pair_gt], wave,
                                     gt_ignore, gt_crowd, np.array(thresholds)))
    assert out.shape == (n_det, len(thresholds), 1)
    return out[:, :, 0]


def test_later_gt_wins_an_iou_tie() -> None:
    # One detection overlaps gt0 and gt1 equally (0.6). pycocotools scans GT in annotation
    # order and replaces its best candidate when iou >= best, so the LAST one wins: gt1.
    got = _match_one_group([[0.6, 0.6]], [0.5])
    assert got.tolist() == [[1]]


def test_tie_on_three_gts_and_a_better_one_first() -> None:
    # gt0 has the best IoU 0.8; gt1..gt3 tie at 0.7. det0 takes gt0 (highest IoU); det1 then
    # takes the last of the tied ones, gt3; det2 takes gt2 (the last still free).
    got = _match_one_group([[0.8, 0.7, 0.7, 0.7]] * 3, [0.5])
    assert got[:, 0].tolist() == [0, 3, 2]


def test_non_ignored_gt_beats_higher_iou_ignored_gt() -> None:
    # gt0 is ignored (e.g. outside the area range) with IoU 0.9; gt1 is a regular GT with
    # IoU 0.6. pycocotools sorts ignored GT last and stops at the first ignored GT once it
    # holds a regular match: det0 -> gt1 at t = 0.5 and 0.55, 0.6.
    # From t = 0.65 on, gt1 no longer qualifies, so the ignored gt0 (0.9) is taken up to
    # t = 0.9 and nothing from t = 0.95.
    thr = list(official_iou_thresholds())  # 0.5, 0.55, ..., 0.95
    got = _match_one_group([[0.9, 0.6]], thr, ignore=[True, False])
    assert got[0].tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, -1]


def test_crowd_gt_absorbs_several_detections() -> None:
    # A crowd GT is never used up: all three detections match it. A regular GT with the
    # same overlaps is taken by the first detection only.
    crowd = _match_one_group([[0.7], [0.8], [0.6]], [0.5], ignore=[True], crowd=[True])
    assert crowd[:, 0].tolist() == [0, 0, 0]
    regular = _match_one_group([[0.7], [0.8], [0.6]], [0.5])
    assert regular[:, 0].tolist() == [0, -1, -1]


def test_regular_gt_is_preferred_over_crowd_then_crowd_takes_the_rest() -> None:
    # gt0 crowd (ignored) IoU 0.9 with both dets; gt1 regular IoU 0.55 with both.
    # det0 -> gt1 (regular first); det1: gt1 taken -> crowd gt0.
    got = _match_one_group([[0.9, 0.55], [0.9, 0.55]], [0.5], ignore=[True, False],
                           crowd=[True, False])
    assert got[:, 0].tolist() == [1, 0]


def test_iou_equal_to_threshold_matches() -> None:
    # The test is iou >= t: with the linspace thresholds themselves as IoUs, a detection
    # with IoU thr[k] matches at thresholds 0..k and not above.
    thr = official_iou_thresholds()
    for k, t in enumerate(thr):
        got = _match_one_group([[t]], list(thr))
        assert got[0].tolist() == [0] * (k + 1) + [-1] * (len(thr) - k - 1)


def test_iou_one_at_threshold_one() -> None:
    # pycocotools uses min(t, 1 - 1e-10) as the bar, so t = 1.0 is reachable: IoU 1.0 and
    # IoU 1 - 1e-11 match; IoU 1 - 1e-9 does not.
    got = _match_one_group([[1.0], [1 - 1e-11], [1 - 1e-9]], [1.0], crowd=[True],
                           ignore=[True])
    assert got[:, 0].tolist() == [0, 0, -1]


def test_taken_gt_is_per_threshold() -> None:
    # det0 (higher score) IoU 0.6, det1 IoU 0.95 with the same GT.
    # t = 0.5: det0 takes the GT, det1 is unmatched. t = 0.9: det0 fails, det1 takes it.
    got = _match_one_group([[0.6], [0.95]], [0.5, 0.9])
    assert got.tolist() == [[0, -1], [-1, 0]]


def test_ignore_is_per_area_range() -> None:
    # Two area ranges: gt0 is ignored only in range 1. With IoUs 0.9 (gt0) and 0.6 (gt1):
    # range 0 -> gt0 (both regular, highest IoU); range 1 -> gt1 (regular beats ignored).
    iou = np.array([[0.9, 0.6]])
    out = _dense(1, greedy_match(np.array([0, 0]), np.array([0, 1]), iou[0], np.array([0, 0]),
                                 np.array([[False, True], [False, False]]),
                                 np.array([False, False]), np.array([0.5])))
    assert out[0, 0].tolist() == [0, 1]


def test_no_pairs() -> None:
    out = _dense(4, greedy_match(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                 np.zeros(0), np.zeros(0, dtype=np.int64),
                                 np.zeros((2, 3), dtype=bool), np.zeros(2, dtype=bool),
                                 np.array([0.5, 0.75])))
    assert out.shape == (4, 2, 3)
    assert (out == -1).all()


def _loop_reference(iou: np.ndarray, ignore: np.ndarray, crowd: np.ndarray,
                     thresholds: np.ndarray) -> np.ndarray:
    """The evaluateImg rules as a plain loop, for one group: ``(D, T, A)`` matched GT."""
    n_det, n_gt = iou.shape
    n_area = ignore.shape[1]
    out = np.full((n_det, len(thresholds), n_area), -1)
    for a in range(n_area):
        order = np.argsort(ignore[:, a], kind="stable")  # regular GT first, stable
        for ti, t in enumerate(thresholds):
            taken = np.zeros(n_gt, dtype=bool)
            for d in range(n_det):
                bar, best = min(t, 1 - 1e-10), -1
                for g in order:
                    if taken[g] and not crowd[g]:
                        continue
                    if best >= 0 and not ignore[best, a] and ignore[g, a]:
                        break
                    if iou[d, g] < bar:
                        continue
                    bar, best = iou[d, g], g
                if best >= 0:
                    taken[best] = True
                    out[d, ti, a] = best
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_groups_against_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    thr = np.array(official_iou_thresholds())
    levels = np.r_[thr, 0.52, 0.77, 0.99, 1.0, 0.3]  # exact thresholds, in-between, 1.0
    n_groups = 5
    det_group = np.sort(rng.integers(0, n_groups, 30))
    gt_group = np.sort(rng.integers(0, n_groups, 25))
    n_area = 3
    ignore = rng.random((len(gt_group), n_area)) < 0.3
    crowd = rng.random(len(gt_group)) < 0.2
    ignore |= crowd[:, None]
    pd, pg = group_pairs(det_group, gt_group)
    piou = rng.choice(levels, len(pd))
    piou[rng.random(len(pd)) < 0.3] = 0.0
    keep = piou >= thr.min()  # as the protocol does: drop pairs below every threshold
    pd, pg, piou = pd[keep], pg[keep], piou[keep]
    # wave: rank of each pair's detection among the detections of its group with pairs
    has = np.unique(pd)
    first_in_group = np.searchsorted(det_group[has], det_group[has], side="left")
    wave = (np.arange(len(has)) - first_in_group)[np.searchsorted(has, pd)]
    got = _dense(len(det_group), greedy_match(pd, pg, piou, wave, ignore, crowd, thr))
    for grp in range(n_groups):
        d_idx, g_idx = np.flatnonzero(det_group == grp), np.flatnonzero(gt_group == grp)
        dense = np.zeros((len(d_idx), len(g_idx)))
        for d, g, v in zip(pd, pg, piou, strict=True):
            if det_group[d] == grp:
                dense[d - d_idx[0], g - g_idx[0]] = v
        ref = _loop_reference(dense, ignore[g_idx], crowd[g_idx], thr)
        expected = np.where(ref >= 0, ref + (g_idx[0] if len(g_idx) else 0), -1)
        assert np.array_equal(got[d_idx], expected), f"group {grp}"
    assert (got >= 0).any()
