"""``masks.panoptic``, ``protocols.panoptic``, ``PanopticState`` and ``report.panoptic`` on
small hand-worked inputs (every expected number is worked out in a comment)."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_api

from benchmark_eval.masks import panoptic as mp
from benchmark_eval.masks.rle import decode_masks
from benchmark_eval.protocols.panoptic import (
    METRIC_KEYS,
    accumulate,
    compute,
    frame_stats,
    image_stats,
)
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.report.panoptic import PanopticResult
from benchmark_eval.schema.panoptic import PanopticCategories, PanopticFrame, Segments

CATS = np.array([1, 2, 100])  # person, car (things), sky (stuff)


def _frame(id_map: list[list[int]], ids: list[int], cats: list[int],
           crowd: list[int] | None = None, areas: list[float] | None = None) -> PanopticFrame:
    m = np.array(id_map, dtype=np.int64)
    if areas is None:
        areas = [float((m == i).sum()) for i in ids]
    return PanopticFrame(0, m, Segments.build(ids, cats, crowd, areas))


# ----------------------------------------------------------------------- masks.panoptic


def test_rgb_and_ids_round_trip_with_24_bit_ids() -> None:
    ids = np.array([[0, 1, 255, 256], [65535, 65536, 256**3 - 1, 123456]])
    rgb = mp.ids_to_rgb(ids)
    assert rgb.dtype == np.uint8
    assert rgb[1, 2].tolist() == [255, 255, 255]
    assert rgb[0, 3].tolist() == [0, 1, 0]
    assert np.array_equal(mp.rgb_to_ids(rgb), ids)
    rgba = np.concatenate([rgb, np.full((2, 4, 1), 200, np.uint8)], axis=2)
    assert np.array_equal(mp.rgb_to_ids(rgba), ids)  # alpha ignored


@pytest.mark.parametrize("kernel", [True, False])
def test_segment_pairs_kernel_matches_numpy(kernel: bool, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    if not kernel:
        monkeypatch.setattr(mp, "_panoptic", None)
    assert mp.has_pair_kernel() is kernel
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (7, 13), (64, 48)]:
        palette = np.array([0, 1, 255, 65535, 65536, 256**3 - 1, 4242])
        gt = rng.choice(palette, size=shape)
        pred = rng.choice(palette[::-1], size=shape)
        gt[: shape[0] // 2] = gt[0, 0]  # long runs too
        want = mp.segment_pairs(gt, pred)
        for channels in (3, 4):
            g, p = mp.ids_to_rgb(gt), mp.ids_to_rgb(pred)
            if channels == 4:
                g = np.concatenate([g, np.full((*shape, 1), 9, np.uint8)], axis=2)
            got = mp.segment_pairs_rgb(g, p)
            assert np.array_equal(got.gt_ids, want.gt_ids)
            assert np.array_equal(got.pred_ids, want.pred_ids)
            assert np.array_equal(got.counts, want.counts)
        assert int(want.counts.sum()) == gt.size
        keys = want.gt_ids * mp.OFFSET + want.pred_ids
        assert np.all(np.diff(keys) > 0)  # sorted, as np.unique's order


def test_segment_pairs_areas() -> None:
    p = mp.segment_pairs(np.array([[5, 5, 0, 7]]), np.array([[9, 0, 0, 9]]))
    assert [a.tolist() for a in p.gt_areas()] == [[0, 5, 7], [1, 2, 1]]
    assert [a.tolist() for a in p.pred_areas()] == [[0, 9], [2, 2]]
    with pytest.raises(ValueError, match="differ"):
        mp.segment_pairs_rgb(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 3, 3), np.uint8))


def test_id_map_rles_are_pycocotools_masks() -> None:
    rng = np.random.default_rng(1)
    id_map = rng.choice([0, 3, 70000], size=(9, 11))
    id_map[2:5] = 3
    rles = mp.id_map_rles(id_map, [3, 70000, 12])
    for sid, rle in zip([3, 70000, 12], rles, strict=True):
        assert np.array_equal(decode_masks([rle])[:, :, 0], (id_map == sid).astype(np.uint8))
    assert mask_api.area([rles[2]]).tolist() == [0]


def test_runs_to_pixels_and_box_and_area() -> None:
    m = np.zeros((4, 5), dtype=np.int64)
    m[1:3, 2:5] = 8
    rle = mask_api.encode(np.asfortranarray((m == 8).astype(np.uint8)))
    # column-major: columns 0-1 and row 0 of column 2 are background (9), then per column
    # 2 foreground, 2 background (row 3 and the next column's row 0), ...
    runs = np.array([9, 2, 2, 2, 2, 2, 1])
    assert np.array_equal(mp.runs_to_pixels(runs), np.flatnonzero((m == 8).T))
    assert mask_api.area([rle]).tolist() == [6]
    areas, boxes = mp.box_and_area(m, [8, 0, 5])
    assert areas.tolist() == [6, 14, 0]
    assert boxes.tolist() == [[2, 1, 3, 2], [0, 0, 5, 4], [0, 0, 0, 0]]


# ------------------------------------------------------------------------- image_stats


def test_iou_strictly_above_half_and_void_out_of_the_union() -> None:
    # GT person 1 = 4 px; prediction 11 covers 2 of them + 2 VOID px: I=2,
    # U = 4 + 4 - 2 - 2 = 4 -> IoU 0.5, not a match: FP? 2/4 on VOID is not > 0.5 -> FP.
    gt = _frame([[1, 1, 1, 1], [0, 0, 0, 0]], [1], [1])
    pred = _frame([[11, 11, 0, 0], [11, 11, 0, 0]], [11], [1])
    s = frame_stats(gt, pred, CATS)
    assert (s.tp_category.tolist(), s.fp_category.tolist(), s.fn_category.tolist()) == (
        [], [0], [0])
    # one more person pixel: I=3, U = 4 + 5 - 3 - 2 = 4 -> 0.75, a match
    pred = _frame([[11, 11, 11, 0], [11, 11, 0, 0]], [11], [1])
    s = frame_stats(gt, pred, CATS)
    assert s.tp_category.tolist() == [0]
    assert s.tp_iou.tolist() == [0.75]
    assert (s.fp_category.tolist(), s.fn_category.tolist()) == ([], [])


def test_crowd_rules() -> None:
    # GT: crowd of persons (id 5, 4 px), a car (id 6, 2 px).
    gt = _frame([[5, 5, 6, 6], [5, 5, 0, 0]], [5, 6], [1, 2], crowd=[1, 0])
    # person pred 21 on 3 crowd px + 1 car px: 3/4 > 0.5 on its own class's crowd -> ignored
    # car pred 22 on 1 crowd px + 1 car px + 2 VOID px: IoU with car = 1/(4+2-1-2)=1/3 no
    #   match; ignored share = VOID 2 (the person crowd is another class) = 2/4 -> FP
    pred = _frame([[21, 21, 21, 22], [21, 22, 22, 22]], [21, 22], [1, 2])
    s = frame_stats(gt, pred, CATS)
    assert s.tp_category.tolist() == []
    assert s.fp_category.tolist() == [1]  # the car
    assert s.fn_category.tolist() == [1]  # the car GT; the crowd is never a FN


def test_last_listed_crowd_of_a_category_is_the_one_kept() -> None:
    gt = _frame([[5, 5, 7, 7]], [5, 7], [1, 1], crowd=[1, 1])
    pred = _frame([[30, 30, 31, 31]], [30, 31], [1, 1])
    s = frame_stats(gt, pred, CATS)
    assert s.fp_category.tolist() == [0]  # 30 lies on crowd 5, which the dict forgot
    gt_flipped = PanopticFrame(0, gt.id_map, gt.segments[np.array([1, 0])])
    s = frame_stats(gt_flipped, pred, CATS)
    assert s.fp_category.tolist() == [0]  # now 31 is the one counted
    assert len(s.fn_category) == 0


def test_json_area_is_used_for_ground_truth_and_png_area_for_predictions() -> None:
    # GT sky: 4 px in the PNG but area 8 in the JSON; pred covers the 4 px: I=4,
    # U = 4 + 8 - 4 = 8 -> 0.5, no match (with the PNG area it would be 1.0)
    gt = _frame([[3, 3, 3, 3]], [3], [100], areas=[8.0])
    pred = _frame([[4, 4, 4, 4]], [4], [100])
    s = frame_stats(gt, pred, CATS)
    assert (len(s.tp_category), s.fp_category.tolist(), s.fn_category.tolist()) == (
        0, [2], [2])


def test_image_stats_accept_unlisted_ids_as_unmatched() -> None:
    pairs = mp.segment_pairs(np.array([[1, 1]]), np.array([[2, 2]]))
    s = image_stats(pairs, Segments.build([1], [1], [0], [2.0]), Segments.build([2], [1]),
                    CATS)
    assert s.tp_iou.tolist() == [1.0]


# --------------------------------------------------------------------- state and compute


def _state(iou: list[float], tp: list[int], fp: list[int], fn: list[int]) -> PanopticState:
    return PanopticState(CATS, np.array(iou), np.array(tp), np.array(fp), np.array(fn),
                         n_images=3)


def test_compute_per_class_and_groups() -> None:
    # person: iou 1.8 over tp 2, fp 1, fn 1 -> PQ 1.8/3 = 0.6, SQ 0.9, RQ 2/3
    # car: nothing at all -> undefined, out of N
    # sky: tp 0, fp 2 -> PQ 0, SQ 0 (official: 0 when tp = 0), RQ 0
    m = compute(_state([1.8, 0, 0], [2, 0, 0], [1, 0, 2], [1, 0, 0]),
                np.array([True, True, False]))
    assert m.pq[0] == pytest.approx(0.6)
    assert m.sq[0] == pytest.approx(0.9)
    assert m.rq[0] == pytest.approx(2 / 3)
    assert np.isnan(m.pq[1])
    assert (m.pq[2], m.sq[2], m.rq[2]) == (0.0, 0.0, 0.0)
    assert m.metrics["N"] == 2
    assert m.metrics["PQ"] == pytest.approx(0.3)
    assert (m.metrics["N_th"], m.metrics["N_st"]) == (1, 1)
    assert m.metrics["SQ_th"] == pytest.approx(0.9)
    assert m.metrics["PQ_st"] == 0.0
    assert list(m.metrics) == list(METRIC_KEYS)
    assert m.notices == []


def test_state_merge_save_load(tmp_path: pytest.TempPathFactory) -> None:
    a = _state([0.5, 0.0, 0.7], [1, 0, 1], [0, 1, 0], [2, 0, 0])
    b = _state([0.25, 0.9, 0.0], [1, 1, 0], [1, 0, 3], [0, 0, 1])
    ab = a.merge(b)
    assert ab.tp.tolist() == [2, 1, 1]
    assert ab.iou.tolist() == [0.75, 0.9, 0.7]
    assert ab.n_images == 6
    assert ab == b.merge(a)
    assert PanopticState.empty(CATS).merge(a) == a
    path = tmp_path / "state.npz"  # type: ignore[operator]
    ab.save(path)
    assert PanopticState.load(path) == ab
    with pytest.raises(Exception, match="category lists"):
        a.merge(PanopticState.empty(np.array([1, 2])))


def test_accumulate_adds_in_order() -> None:
    gt = _frame([[1, 1, 0, 3]], [1, 3], [1, 100])
    pred = _frame([[9, 9, 9, 0]], [9], [1])
    s = frame_stats(gt, pred, CATS)  # person: I=2, U=2+3-2-1=2 -> 1.0; sky FN
    state = accumulate(CATS, [s, s])
    assert state.tp.tolist() == [2, 0, 0]
    assert state.iou.tolist() == [2.0, 0.0, 0.0]
    assert state.fn.tolist() == [0, 0, 2]
    assert state.n_images == 2


# --------------------------------------------------------------------------------- report


def test_report_and_render() -> None:
    state = _state([1.8, 0, 0], [2, 0, 0], [1, 0, 2], [1, 0, 0])
    cats = PanopticCategories(CATS, ("person", "car", "sky"), np.array([True, True, False]))
    r = PanopticResult.build(state, compute(state, cats.isthing), cats)
    report = r.to_report()
    assert report["protocol"] == "coco-panoptic"
    assert set(report["metrics"]) == set(METRIC_KEYS)
    assert report["per_class"]["2"] == {"PQ": None, "SQ": None, "RQ": None}
    assert report["per_class"]["1"]["SQ"] == pytest.approx(0.9)
    lines = r.render().splitlines()
    assert lines[0] == "          |    PQ     SQ     RQ     N"
    assert lines[1] == "-" * 38
    assert lines[2] == "All       |  30.0   45.0   33.3     2"  # (60 + 0) / 2 ...
    assert lines[3] == "Things    |  60.0   90.0   66.7     1"
    assert lines[4] == "Stuff     |   0.0    0.0    0.0     1"
    assert any(line.split()[:3] == ["2", "car", "thing"] and "-" in line for line in lines)
    assert str(r) == "\n".join(lines[:5])


def test_empty_groups_render_as_dashes() -> None:
    state = PanopticState.empty(CATS)
    cats = PanopticCategories(CATS, ("person", "car", "sky"), np.array([True, True, False]))
    r = PanopticResult.build(state, compute(state, cats.isthing), cats)
    assert r.metrics["PQ"] is None
    assert r.render(per_class=False).splitlines()[2] == "All       |     -      -      -     0"
    assert [w.code for w in r.warnings] == ["empty-group"] * 3
