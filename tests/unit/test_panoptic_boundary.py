"""Boundary PQ (``coco-panoptic-boundary``): band id maps and ``image_stats`` with
``boundary_pairs``, on hand-worked frames (every expected number worked out in a comment) and
against a literal numpy transcription of boundary-iou-api
``coco_panoptic_api/evaluation.py`` ``pq_compute_single_core(iou_type="boundary")``."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import benchmark_eval
from benchmark_eval.errors import ConfigError
from benchmark_eval.masks.panoptic import segment_pairs
from benchmark_eval.masks.panoptic_boundary import band_id_map, boundary_pairs, interior
from benchmark_eval.protocols.panoptic import (
    PanopticBoundaryParams,
    accumulate,
    frame_stats,
)
from benchmark_eval.schema.panoptic import PanopticFrame, Segments

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data_samples" / "panoptic"
CATS = np.array([1, 2, 100])  # person, car (things), sky (stuff)
evaluate_panoptic = partial(benchmark_eval.evaluate, "coco-panoptic")
evaluate_panoptic_boundary = partial(benchmark_eval.evaluate, "coco-panoptic-boundary")


def _frame(m: np.ndarray, ids: list[int], cats: list[int],
           crowd: list[int] | None = None) -> PanopticFrame:
    m = np.asarray(m, dtype=np.int64)
    return PanopticFrame(0, m, Segments.build(ids, cats, crowd,
                                              [float((m == i).sum()) for i in ids]))


def _box(h: int, w: int, *boxes: tuple[int, int, int, int, int], fill: int = 0
         ) -> np.ndarray:
    """``(h, w)`` id map, ``fill`` (default VOID) outside the ``(id, top, left, bottom,
    right)`` boxes (inclusive), later boxes on top."""
    m = np.full((h, w), fill, dtype=np.int64)
    for i, top, left, bottom, right in boxes:
        m[top:bottom + 1, left:right + 1] = i
    return m


def _stats(gt: PanopticFrame, pred: PanopticFrame, ratio: float | None = 0.02
           ) -> tuple[list[int], list[float], list[int], list[int]]:
    s = frame_stats(gt, pred, CATS, dilation_ratio=ratio)
    return (CATS[s.tp_category].tolist(), s.tp_iou.tolist(), CATS[s.fp_category].tolist(),
            CATS[s.fn_category].tolist())


# ------------------------------------------------- the reference: boundary-iou-api, literally


def _mask_to_boundary(mask: np.ndarray, ratio: float) -> np.ndarray:
    """boundary_utils.mask_to_boundary: pad by one background pixel, 3×3 erosion d times."""
    h, w = mask.shape
    d = max(1, round(float(ratio * np.sqrt(h**2 + w**2))))
    padded = np.pad(mask.astype(bool), 1)
    eroded = padded.copy()
    for _ in range(d):
        e = np.pad(eroded, 1)
        eroded = np.logical_and.reduce([e[1 + dy:1 + dy + h + 2, 1 + dx:1 + dx + w + 2]
                                        for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    return mask.astype(bool) & ~eroded[1:h + 1, 1:w + 1]


def _official_bands(pan: np.ndarray, segms: dict[int, dict], boundary_id: int,
                    ratio: float) -> np.ndarray:
    """The boundary id map: each segment in turn (binary mask of the map as modified so
    far), interiors set to ``boundary_id``; ``boundary_area`` stored in ``segms``."""
    b = pan.copy()
    for el in segms.values():
        binary = b == el["id"]
        band = _mask_to_boundary(binary, ratio)
        b[binary] = boundary_id
        b[band] = el["id"]
        el["boundary_area"] = int(band.sum())
    return b


def _official_unmatched(stat: dict[int, list[float]], gt_segms: dict[int, dict],
                        pred_segms: dict[int, dict], gp: dict[tuple[int, int], int],
                        gt_matched: set[int], pred_matched: set[int]) -> None:
    """FN and FP counts, on the masks (unchanged from panopticapi)."""
    crowd = {}
    for g, info in gt_segms.items():
        if g in gt_matched:
            continue
        if info["iscrowd"] == 1:
            crowd[info["category_id"]] = g
            continue
        stat[info["category_id"]][3] += 1
    for p, info in pred_segms.items():
        if p in pred_matched:
            continue
        inter = gp.get((0, p), 0)
        if info["category_id"] in crowd:
            inter += gp.get((crowd[info["category_id"]], p), 0)
        if inter / info["area"] > 0.5:
            continue
        stat[info["category_id"]][2] += 1


def _official(gt_map: np.ndarray, gt_info: list[dict], pred_map: np.ndarray,
              pred_info: list[dict], categories: list[int], ratio: float
              ) -> dict[int, list[float]]:
    """pq_compute_single_core(iou_type="boundary") on one image: {cat: [iou, tp, fp, fn]}."""
    stat: dict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    boundary_id = max(categories) + 1
    gt_segms = {el["id"]: dict(el) for el in gt_info}
    pred_segms = {el["id"]: dict(el) for el in pred_info}
    labels, cnt = np.unique(pred_map, return_counts=True)
    for label, c in zip(labels.tolist(), cnt.tolist(), strict=True):
        if label:
            pred_segms[label]["area"] = c
    maps = [_official_bands(gt_map, gt_segms, boundary_id, ratio),
            _official_bands(pred_map, pred_segms, boundary_id, ratio)]

    def confusion(g: np.ndarray, p: np.ndarray) -> dict[tuple[int, int], int]:
        keys, counts = np.unique(g.astype(np.uint64) * 256**3 + p.astype(np.uint64),
                                 return_counts=True)
        return {(int(k) // 256**3, int(k) % 256**3): int(c)
                for k, c in zip(keys, counts, strict=True)}

    gp, gpb = confusion(gt_map, pred_map), confusion(*maps)
    gt_matched, pred_matched = set(), set()
    for (g, p), inter in gp.items():
        if g not in gt_segms or p not in pred_segms or gt_segms[g]["iscrowd"] == 1:
            continue
        if gt_segms[g]["category_id"] != pred_segms[p]["category_id"]:
            continue
        union = pred_segms[p]["area"] + gt_segms[g]["area"] - inter - gp.get((0, p), 0)
        iou = inter / union
        b_inter = gpb.get((g, p), 0)
        b_union = (pred_segms[p]["boundary_area"] + gt_segms[g]["boundary_area"] - b_inter
                   - gpb.get((0, p), 0))
        iou = min(iou, b_inter / b_union)
        if iou > 0.5:
            stat[gt_segms[g]["category_id"]][0] += iou
            stat[gt_segms[g]["category_id"]][1] += 1
            gt_matched.add(g)
            pred_matched.add(p)
    _official_unmatched(stat, gt_segms, pred_segms, gp, gt_matched, pred_matched)
    return dict(stat)


# -------------------------------------------------------------------------------- bands


def test_interior_matches_per_segment_erosion_on_random_maps() -> None:
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (2, 2), (3, 5), (9, 7), (40, 33), (64, 80)]:
        for ratio in (0.02, 0.05, 0.1, 10.0):
            m = rng.integers(0, 4, size=shape)
            m[: shape[0] // 2, : shape[1] // 2] = 5  # large blobs
            m[shape[0] // 2 :, shape[1] // 3 :] = 6
            h, w = shape
            d = max(1, round(float(ratio * np.sqrt(h * h + w * w))))
            want = np.zeros(shape, dtype=bool)
            for i in np.unique(m).tolist():
                seg = m == i
                want |= seg & ~_mask_to_boundary(seg, ratio)
            assert np.array_equal(interior(m, d), want), (shape, ratio)


def test_band_map_by_hand() -> None:
    # 5×6 map, d = 1: segment 1 fills rows 0-3 cols 0-4; segment 2 is column 5; row 4 VOID
    m = np.zeros((5, 6), dtype=np.int64)
    m[:4, :5] = 1
    m[:4, 5] = 2
    # segment 1's interior: its pixels whose 3×3 window is inside the image and all 1:
    # rows 1-2 (row 0 touches the border, row 3 the VOID row), cols 1-3 (col 4 touches 2);
    # segment 2 (one pixel wide, on the border) is all band; VOID stays VOID
    want = m.copy()
    want[1:3, 1:4] = 9
    assert np.array_equal(band_id_map(m, 1, 9), want)
    # a 2×2 object is all band, even inside another segment
    m = np.full((8, 8), 3, dtype=np.int64)
    m[3:5, 3:5] = 4
    out = band_id_map(m, 1, 9)
    assert (out[3:5, 3:5] == 4).all()
    # 3's interior: rows/cols 1-6 minus the 4×4 ring around the object (rows/cols 2-5)
    want_interior = np.zeros((8, 8), dtype=bool)
    want_interior[1:7, 1:7] = True
    want_interior[2:6, 2:6] = False
    assert np.array_equal(out == 9, want_interior)


def test_boundary_pairs_rows() -> None:
    gt = _box(10, 10, (1, 0, 0, 9, 9))  # one full-image segment, d = round(0.28) -> 1
    pred = _box(10, 10, (7, 0, 0, 9, 4))  # left half; right half VOID
    b = boundary_pairs(gt, pred, 0.02)
    got = dict(zip(zip(b.gt_ids.tolist(), b.pred_ids.tolist(), strict=True),
                   b.counts.tolist(), strict=True))
    # GT band: the frame of width 1, 36 px; pred band: 10×5 minus its 8×3 interior = 26 px
    # (rows 0, 9, cols 0, 4). Shared: rows 0 and 9 cols 0-4 (10) + col 0 rows 1-8 (8) = 18;
    # pred band on GT interior (marker 2, the smallest id unused by the GT): col 4 rows 1-8
    assert got[(1, 7)] == 18
    assert got[(2, 7)] == 8
    assert sum(c for (g, _), c in got.items() if g == 1) == 36
    assert sum(c for (_, p), c in got.items() if p == 7) == 26


# ------------------------------------------------------------------- hand-worked matches


def test_2x2_objects_are_all_band() -> None:
    # 20×20 image: d = max(1, round(0.02 · 28.3)) = 1. GT person 2×2 (cols 5-6) next to a
    # GT car 2×2 (cols 7-8); pred person 2×3 (cols 5-7), pred car 2×1 (col 8).
    # person: mask IoU = 4 / (6 + 4 - 4) = 4 / 6; every pixel is band on both sides, so
    # boundary IoU = 4 / 6 too. car: 2 / (2 + 4 - 2) = 0.5, not > 0.5: FN + FP
    gt = _frame(_box(20, 20, (1, 5, 5, 6, 6), (2, 5, 7, 6, 8)), [1, 2], [1, 2])
    pred = _frame(_box(20, 20, (1, 5, 5, 6, 7), (2, 5, 8, 6, 8)), [1, 2], [1, 2])
    assert _stats(gt, pred) == ([1], [4 / 6], [2], [2])
    assert _stats(gt, pred, None) == ([1], [4 / 6], [2], [2])


def test_wider_prediction_lowers_the_iou_to_the_boundary_iou() -> None:
    # (in these tests the GT has a sky background, an FN: no prediction falls on VOID)
    # 20×20, d = 1. GT 8×8 (rows/cols 2-9, 64 px), pred 8×9 (cols 2-10, 72 px):
    # mask IoU = 64 / 72. GT band = 64 - 6·6 = 28; pred band = 72 - 6·7 = 30; shared: rows 2
    # and 9 cols 2-9 (16) + col 2 rows 3-8 (6) = 22 (GT's col 9 is inside the prediction);
    # boundary IoU = 22 / (28 + 30 - 22) = 22 / 36 -> TP with IoU 22 / 36
    gt = _frame(_box(20, 20, (1, 2, 2, 9, 9), fill=9), [1, 9], [1, 100])
    pred = _frame(_box(20, 20, (1, 2, 2, 9, 10)), [1], [1])
    assert _stats(gt, pred, None) == ([1], [64 / 72], [], [100])
    assert _stats(gt, pred) == ([1], [22 / 36], [], [100])


def test_shift_by_one_pixel_fails_boundary_iou() -> None:
    # 20×20, d = 1. GT 8×8 cols 2-9, pred 8×8 cols 3-10: mask IoU = 56 / 72 (a TP for PQ).
    # Bands 28 each; shared: rows 2 and 9 cols 3-9 = 14 (GT col 9 and pred col 3 are the
    # other one's interior); boundary IoU = 14 / (28 + 28 - 14) = 1/3 -> FN + FP
    gt = _frame(_box(20, 20, (1, 2, 2, 9, 9), fill=9), [1, 9], [1, 100])
    pred = _frame(_box(20, 20, (1, 2, 3, 9, 10)), [1], [1])
    assert _stats(gt, pred, None) == ([1], [56 / 72], [], [100])
    assert _stats(gt, pred) == ([], [], [1], [1, 100])


def test_thin_objects_are_all_band() -> None:
    # 100×100 image: d = round(0.02 · 141.4) = round(2.83) = 3. A car 5 px high (thinner
    # than 2d + 1 = 7: no interior), 50 long; the prediction one row lower: both all band,
    # boundary IoU = mask IoU = 200 / 300
    gt = _frame(_box(100, 100, (3, 10, 10, 14, 59), fill=9), [3, 9], [2, 100])
    pred = _frame(_box(100, 100, (8, 11, 10, 15, 59)), [8], [2])
    assert _stats(gt, pred) == ([2], [200 / 300], [], [100])
    # 7 px high (= 2d + 1): one interior row of 50 - 6 = 44 px in each: bands 350 - 44 = 306;
    # shared: 300 px overlap minus the GT interior (row 13, cols 13-56) minus the pred
    # interior (row 14, cols 13-56), both inside the overlap: 300 - 88 = 212 of union
    # 306 + 306 - 212 = 400; mask IoU 300 / 400 = 0.75; boundary IoU 212 / 400 = 0.53
    gt = _frame(_box(100, 100, (3, 10, 10, 16, 59), fill=9), [3, 9], [2, 100])
    pred = _frame(_box(100, 100, (8, 11, 10, 17, 59)), [8], [2])
    assert _stats(gt, pred, None) == ([2], [300 / 400], [], [100])
    assert _stats(gt, pred) == ([2], [212 / 400], [], [100])


def test_border_touching_stuff_and_prediction_on_void() -> None:
    # 20×20, d = 1. GT sky = rows 0-9 (200 px), rows 10-19 VOID; predicted sky = rows 0-10
    # (220 px): mask IoU = 200 / (220 + 200 - 200 - 20 on VOID) = 1.
    # GT band: row 0 (the image border), row 9 (next to VOID), cols 0 and 19 rows 1-8:
    # 20 + 20 + 16 = 56. Pred band: rows 0 and 10, cols 0 and 19 rows 1-9: 58. Shared: row 0
    # (20) + cols 0, 19 rows 1-9 (18) = 38 (GT's row 9 is pred interior but for its ends).
    # Pred band on GT VOID: row 10 (20) leaves the union:
    # boundary IoU = 38 / (58 + 56 - 38 - 20) = 38 / 56
    gt = _frame(_box(20, 20, (1, 0, 0, 9, 19)), [1], [100])
    pred = _frame(_box(20, 20, (2, 0, 0, 10, 19)), [2], [100])
    assert _stats(gt, pred, None) == ([100], [1.0], [], [])
    assert _stats(gt, pred) == ([100], [38 / 56], [], [])
    # without the VOID removal the union would be 76: 38 / 76 = 0.5, not a match


def test_crowd_and_void_ignore_rule_stays_on_masks() -> None:
    # 20×20, d = 1. GT: crowd person region rows 0-9; prediction: person rows 0-11, 240 px
    # of which 200 on the crowd region: unmatched (crowd GT never match) but ignored
    # (200 / 240 > 0.5) -- as in PQ; the boundary does not enter the rule
    gt = _frame(_box(20, 20, (1, 0, 0, 9, 19), (2, 10, 0, 19, 19)), [1, 2], [1, 100],
                crowd=[1, 0])
    pred = _frame(_box(20, 20, (5, 0, 0, 11, 19), (6, 12, 0, 19, 19)), [5, 6], [1, 100])
    # the sky: GT rows 10-19 (200 px), pred rows 12-19 (160): mask IoU 160 / 200 = 0.8.
    # GT band: row 10 (next to the crowd segment), row 19 (border), cols 0, 19 rows 11-18:
    # 56; pred band: rows 12, 19, cols 0, 19 rows 13-18: 52; shared: row 19 (20) + cols 0,
    # 19 rows 12-18 (14) = 34 (pred row 12 cols 1-18 is GT interior);
    # boundary IoU = 34 / (56 + 52 - 34) = 34 / 74 < 0.5: sky FN + FP
    assert _stats(gt, pred, None) == ([100], [0.8], [], [])
    assert _stats(gt, pred) == ([], [], [100], [100])


def test_huge_ratio_gives_pq() -> None:
    # a band wider than the image: every pixel is band, boundary IoU = mask IoU
    # (the GT areas are pixel counts here)
    rng = np.random.default_rng(5)
    for _ in range(20):
        gt_map = rng.integers(0, 5, size=(12, 15))
        pred_map = gt_map.copy()
        pred_map[rng.random(gt_map.shape) < 0.2] = rng.integers(0, 5)
        gt = _frame(gt_map, [1, 2, 3, 4], [1, 2, 100, 1])
        pred = _frame(pred_map, [i for i in (1, 2, 3, 4) if (pred_map == i).any()],
                      [c for i, c in zip((1, 2, 3, 4), (1, 2, 100, 1), strict=True)
                       if (pred_map == i).any()])
        assert _stats(gt, pred, 1e6) == _stats(gt, pred, None)


@pytest.mark.parametrize("ratio", [0.02, 0.05, 0.1])
def test_matches_literal_boundary_iou_api_on_random_frames(ratio: float) -> None:
    rng = np.random.default_rng(int(ratio * 100))
    cats = [1, 2, 100]
    for trial in range(30):
        h, w = rng.integers(8, 60, size=2).tolist()
        # a few rectangles over a stuff background, VOID holes; ids avoid 101 (the official
        # marker of band-less pixels, max category id + 1)
        maps: list[np.ndarray] = []
        infos: list[list[dict]] = []
        for side in range(2):
            m = np.full((h, w), 7, dtype=np.int64)
            info = [{"id": 7, "category_id": 100, "iscrowd": 0}]
            for k in range(int(rng.integers(1, 6))):
                i = 10 + k
                top, left = rng.integers(0, h), rng.integers(0, w)
                m[top:top + int(rng.integers(1, h)), left:left + int(rng.integers(1, w))] = i
                info.append({"id": i, "category_id": int(rng.choice([1, 2])),
                             "iscrowd": int(side == 0 and rng.random() < 0.2)})
            m[rng.random((h, w)) < 0.03] = 0
            if side == 1:  # a prediction looks like the GT, shifted
                m = np.roll(maps[0], int(rng.integers(-2, 3)), axis=int(rng.integers(0, 2)))
                info = [dict(el, iscrowd=0) for el in infos[0]]
            present = set(np.unique(m).tolist())
            info = [el for el in info if el["id"] in present]
            for el in info:
                el["area"] = int((m == el["id"]).sum())
            maps.append(m)
            infos.append(info)
        frames = [PanopticFrame(0, m, Segments.build(
            [el["id"] for el in info], [el["category_id"] for el in info],
            [el["iscrowd"] for el in info], [float(el["area"]) for el in info]))
            for m, info in zip(maps, infos, strict=True)]
        want = _official(maps[0], infos[0], maps[1], infos[1], cats, ratio)
        s = accumulate(CATS, [frame_stats(frames[0], frames[1], CATS, dilation_ratio=ratio)])
        for k, c in enumerate(CATS.tolist()):
            iou, tp, fp, fn = want.get(c, [0.0, 0, 0, 0])
            assert (s.tp[k], s.fp[k], s.fn[k]) == (tp, fp, fn), (trial, c)
            assert s.iou[k] == iou, (trial, c)


# ---------------------------------------------------------------------------- workflow


def test_samples_boundary_pq_runs_and_is_at_most_pq() -> None:
    gt, pred = SAMPLES / "gt.json", SAMPLES / "pred.json"
    pq = evaluate_panoptic(gt=gt, pred=pred)
    bpq = evaluate_panoptic_boundary(gt=gt, pred=pred)
    assert bpq.protocol == "coco-panoptic-boundary"
    for key in ("PQ", "PQ_th", "PQ_st"):  # per category: a lower IoU or a TP -> FN + FP
        assert float(bpq.metrics[key] or 0) <= float(pq.metrics[key] or 0)
    assert float(bpq.metrics["PQ"] or 0) < float(pq.metrics["PQ"] or 0)
    two = evaluate_panoptic_boundary(gt=gt, pred=pred, workers=2)
    for key, v in bpq.metrics.items():
        assert two.metrics[key] == pytest.approx(v, abs=1e-12)
    # a band wider than any image: Boundary PQ = PQ (the sample's GT areas are pixel counts)
    huge = evaluate_panoptic_boundary(gt=gt, pred=pred,
                                   params={"boundary_dilation_ratio": 1e6})
    assert huge.metrics == pq.metrics
    assert json.loads(json.dumps(bpq.to_report()))["protocol"] == "coco-panoptic-boundary"


def test_params_checked() -> None:
    gt, pred = SAMPLES / "gt.json", SAMPLES / "pred.json"
    with pytest.raises(ConfigError):
        evaluate_panoptic_boundary(gt=gt, pred=pred,
                                params={"boundary_dilation_ratio": -1})
    with pytest.raises(ConfigError):
        evaluate_panoptic_boundary(gt=gt, pred=pred,
                                params={"dilation": 0.1})
    assert PanopticBoundaryParams().boundary_dilation_ratio == 0.02
    half = evaluate_panoptic_boundary(gt=gt, pred=pred,
                                   params=PanopticBoundaryParams(boundary_dilation_ratio=0.05))
    assert half.metrics["PQ"] is not None


def test_band_pairs_equal_segment_pairs_of_band_maps() -> None:
    rng = np.random.default_rng(9)
    gt = rng.integers(0, 3, size=(10, 10))
    pred = rng.integers(0, 3, size=(10, 10))
    b = boundary_pairs(gt, pred, 0.02)
    want = segment_pairs(band_id_map(gt, 1, 3), band_id_map(pred, 1, 0))
    assert np.array_equal(b.counts, want.counts)
