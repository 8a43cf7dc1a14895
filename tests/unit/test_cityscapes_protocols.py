"""``cityscapes-semantic`` and ``cityscapes-instance`` on hand-worked examples, and their
states (merge, save / load)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from synth_cityscapes import write_tree

import benchmark_eval
from benchmark_eval.protocols import cityscapes_instance as inst
from benchmark_eval.protocols import cityscapes_semantic as sem
from benchmark_eval.report.cityscapes import CityscapesSemanticResult

CAR_SIZE = sem.AVERAGE_INSTANCE_SIZE["car"]

# ------------------------------------------------------------------------------- semantic

# GT labels        GT instances               prediction
# 7  7 26 26       7     7 26000 26000        7 8 26 27
# 0 24 24 26       0 24000 24000 26000        7 24 0 26
LABELS = np.array([[7, 7, 26, 26], [0, 24, 24, 26]], np.uint8)
INSTANCES = np.array([[7, 7, 26000, 26000], [0, 24000, 24000, 26000]], np.uint16)
PRED = np.array([[7, 8, 26, 27], [7, 24, 0, 26]], np.uint8)


@pytest.fixture
def semantic_result(tmp_path: Path) -> CityscapesSemanticResult:
    tree = write_tree(tmp_path, {"a_000000_000001": (LABELS, INSTANCES)},
                      sem={"a_000000_000001": PRED})
    return benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)


def test_semantic_class_iou_by_hand(semantic_result: CityscapesSemanticResult) -> None:
    c = semantic_result.per_class
    # road: tp 1, fn 1 (predicted sidewalk); the void pixel predicted road is no FP -> 1/2
    assert c["road"]["IoU"] == 0.5
    # sidewalk only predicted: tp 0, fp 1 -> 0, and it counts in the average
    assert c["sidewalk"]["IoU"] == 0.0
    # car: tp 2, fn 1 (predicted truck) -> 2/3; truck only predicted -> 0
    assert c["car"]["IoU"] == pytest.approx(2 / 3, abs=1e-15)
    assert c["truck"]["IoU"] == 0.0
    # person: tp 1, fn 1 (predicted the void id 0: a miss) -> 1/2
    assert c["person"]["IoU"] == 0.5
    assert c["building"] == {"IoU": None, "iIoU": None}
    # mean over road, sidewalk, person, car, truck (id order): (0.5 + 0 + 0.5 + 2/3 + 0) / 5
    assert semantic_result.metrics["IoU_class"] == pytest.approx((5 / 3) / 5, abs=1e-15)


def test_semantic_iiou_and_categories_by_hand(semantic_result: CityscapesSemanticResult
                                              ) -> None:
    c, k, m = semantic_result.per_class, semantic_result.per_category, semantic_result.metrics
    # one car instance of 3 px, 2 predicted car: TP and FN both weighted -> 2/3; person 1/2
    assert c["car"]["iIoU"] == pytest.approx(2 / 3, abs=1e-15)
    assert c["person"]["iIoU"] == 0.5
    assert c["truck"]["iIoU"] == 0.0  # no instance, 1 FP pixel: 0 / (0 + 1 + 0)
    assert c["road"]["iIoU"] is None
    assert c["rider"]["iIoU"] is None
    assert m["iIoU_class"] == pytest.approx((0.5 + 2 / 3 + 0.0) / 3, abs=1e-15)
    # flat: road + sidewalk block holds both road pixels -> 1; human 1/2; vehicle 3/3
    assert k["flat"]["IoU"] == 1.0
    assert k["human"]["IoU"] == 0.5
    assert k["vehicle"]["IoU"] == 1.0
    assert m["IoU_category"] == pytest.approx(2.5 / 3, abs=1e-15)
    # category iIoU: the car pixel predicted truck is a vehicle TP -> 1; person 1/2
    assert k["vehicle"]["iIoU"] == 1.0
    assert k["human"]["iIoU"] == 0.5
    assert k["flat"]["iIoU"] is None
    assert m["iIoU_category"] == 0.75
    assert "void" not in k
    assert semantic_result.confusion[0, 7] == 1
    assert semantic_result.confusion[24, 0] == 1


def test_iiou_weights_instances_by_their_size(tmp_path: Path) -> None:
    # car A: 4 px all predicted car; car B: 1 px predicted road; 1 road px predicted car.
    # weights S/4 and S/1 (S = 12794.02...): tp 4 S/4 = S, fn 1 S = S, fp 1
    # iIoU = S / (S + 1 + S); the plain IoU is 4 / (4 + 1 + 1)
    labels = np.array([[26, 26, 26, 26, 26, 7, 7]], np.uint8)
    instances = np.array([[26000] * 4 + [26001, 7, 7]], np.uint16)
    pred = np.array([[26, 26, 26, 26, 7, 26, 7]], np.uint8)
    tree = write_tree(tmp_path, {"b_000000_000001": (labels, instances)},
                      sem={"b_000000_000001": pred})
    r = benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    assert r.per_class["car"]["IoU"] == pytest.approx(4 / 6, abs=1e-15)
    assert r.per_class["car"]["iIoU"] == pytest.approx(CAR_SIZE / (2 * CAR_SIZE + 1),
                                                        abs=1e-15)


def test_semantic_state_merges_saves_and_loads(tmp_path: Path) -> None:
    counter = sem.SemanticImageCounter()
    assert counter.add("a", LABELS, INSTANCES, PRED) == []
    one = counter.state()
    other = sem.SemanticImageCounter()
    assert other.add("b", LABELS, INSTANCES, LABELS) == []
    merged = one.merge(other.state())
    assert merged.confusion.sum() == 16
    assert merged.image_names == ("a", "b")
    assert merged.inst_image.tolist() == [0, 0, 1, 1]
    assert sem.CityscapesSemanticState.empty().merge(one).confusion.tolist() == (
        one.confusion.tolist())
    merged.save(tmp_path / "s.npz")
    back = sem.CityscapesSemanticState.load(tmp_path / "s.npz")
    assert back.image_names == merged.image_names
    assert np.array_equal(back.confusion, merged.confusion)
    assert sem.compute(back).metrics == sem.compute(merged).metrics


def test_semantic_counter_reports_values_outside_the_table() -> None:
    counter = sem.SemanticImageCounter()
    bad_pred = PRED.copy()
    bad_pred[0, 0] = 40
    problems = counter.add("a", LABELS, INSTANCES, bad_pred)
    assert problems == [("pred", "predicted label ids not in the Cityscapes label table"
                                 " (ids 0..33): 40 (1 px)")]
    bad_instances = INSTANCES.copy()
    bad_instances[0, 0] = 7001  # road has no instances (the official script: KeyError)
    (side, message), = counter.add("a", LABELS, bad_instances, PRED)
    assert side == "gt_instances"
    assert "7001 (road)" in message
    assert counter.state().confusion.sum() == 0  # nothing counted


# ------------------------------------------------------------------------------- instance

# 12 x 20 GT: road (7); car A 26000 rows 0-9 cols 0-9 (100 px, a target); car B 26001
# rows 0-3 cols 10-14 (20 px: too small); a car group (26) rows 10-11 cols 0-4 (10 px);
# void (0) rows 10-11 cols 10-19 (20 px).
GT = np.full((12, 20), 7, np.uint16)
GT[0:10, 0:10] = 26000
GT[0:4, 10:15] = 26001
GT[10:12, 0:5] = 26
GT[10:12, 10:20] = 0


def _mask(*boxes: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros(GT.shape, bool)
    for r0, r1, c0, c1 in boxes:
        m[r0:r1, c0:c1] = True
    return m


PREDICTIONS = [
    (26, 0.9, _mask((0, 10, 0, 10))),  # p1: A exactly, IoU 1
    (26, 0.95, _mask((0, 8, 0, 10))),  # p2: 80 px of A, IoU 0.8
    (26, 0.7, _mask((0, 4, 10, 15))),  # p3: B exactly (small GT): ignored
    (26, 0.4, _mask((10, 12, 10, 15))),  # p4: all void: ignored
    (26, 0.6, _mask((10, 12, 17, 20), (8, 10, 18, 20))),  # p5: 6 void of 10 px
    (26, 0.5, _mask((10, 12, 0, 5))),  # p6: the group exactly: ignored
    (7, 0.99, _mask((11, 12, 5, 10))),  # road: not evaluated, skipped
]


def test_instance_outcomes_by_hand() -> None:
    image = inst.instance_image_stats(GT, PREDICTIONS)
    t = inst.IOU_THRESHOLDS
    assert t[6] == 0.8000000000000003  # np.arange: IoU 0.8 is not above the 7th threshold
    o = image.pred_outcome
    assert image.pred_class.tolist() == [2] * 6
    assert image.gt_count.tolist()[2] == 1
    # t < 0.8: A's best-scoring match (p2, 0.95) is the TP, p1 an FP; from 0.8 p1 is the TP
    assert o[0].tolist() == [inst.FP] * 6 + [inst.TP] * 4
    assert o[1].tolist() == [inst.TP] * 6 + [inst.FP] * 4  # then unmatched, on no void
    assert o[2].tolist() == [inst.IGNORED] * 10  # above t on a small instance
    assert o[3].tolist() == [inst.IGNORED] * 10  # 100 % void
    # 60 % void: ignored while 0.6 > t, a false positive from t = 0.6000000000000001
    assert o[4].tolist() == [inst.IGNORED] * 2 + [inst.FP] * 8
    assert o[5].tolist() == [inst.IGNORED] * 10  # above t on a group region


def test_instance_ap_by_hand(tmp_path: Path) -> None:
    # t = 0.5, 0.55: TP 0.95, FP 0.9 -> points (p 1/2, r 1), (p 1, r 1), (1, 0): AP 1
    # t = 0.6 .. 0.75: also FP 0.6 -> (1/3, 1), (1/2, 1), (1, 1), (1, 0): AP 1
    # t >= 0.8: TP 0.9, FP 0.95, FP 0.6 -> (1/3, 1), (1/2, 1), (0, 0), (1, 0): widths
    #   0, 1/2, 1/2, 0 -> AP 1/2 * 1/2 = 0.25
    labels = np.where(GT < 1000, GT, GT // 1000).astype(np.uint8)
    tree = write_tree(tmp_path, {"c_000000_000001": (labels, GT)},
                      inst={"c_000000_000001": PREDICTIONS})
    r = benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst)
    car = list(r.per_class).index("car")
    assert r.ap[car].tolist() == [1.0] * 6 + [0.25] * 4
    assert r.per_class["car"] == {"AP": pytest.approx(0.7, abs=1e-15), "AP50": 1.0}
    assert r.per_class["person"] == {"AP": None, "AP50": None}
    assert r.metrics == {"AP": pytest.approx(0.7, abs=1e-15), "AP50": 1.0}
    assert r.counts["skipped_predictions"] == 1
    assert [w.code for w in r.warnings] == ["skipped-labels"]


def test_average_precision_edge_cases() -> None:
    # a single TP: (p 1, r 1) then (1, 0): widths 1/2, 1/2 -> 1
    assert inst.average_precision(np.array([0.3]), np.array([True]), 0) == 1.0
    # ties: two records at one score count as one point: (1/2, 1/2), (1, 0) -> widths
    # 1/4, 1/4: 1/8 + 1/4
    assert inst.average_precision(np.array([0.5, 0.5]), np.array([True, False]), 1) == 0.375
    # no record at all (the official script raises IndexError): 0
    assert inst.average_precision(np.zeros(0), np.zeros(0, bool), 3) == 0.0


def test_class_without_predictions_is_zero_and_without_gt_is_nan() -> None:
    state = inst.CityscapesInstanceState.of_image(inst.instance_image_stats(GT, []))
    computed = inst.compute(state)
    car = inst.INSTANCE_CLASSES.index("car")
    assert computed.ap[car].tolist() == [0.0] * 10
    assert np.isnan(np.delete(computed.ap, car, axis=0)).all()
    assert computed.metrics == {"AP": 0.0, "AP50": 0.0}
    nothing = inst.compute(inst.CityscapesInstanceState.empty())
    assert math.isnan(nothing.metrics["AP"])
    assert math.isnan(nothing.metrics["AP50"])


def test_instance_state_merges_saves_and_loads(tmp_path: Path) -> None:
    a = inst.CityscapesInstanceState.of_image(inst.instance_image_stats(GT, PREDICTIONS))
    b = inst.CityscapesInstanceState.of_image(inst.instance_image_stats(GT, PREDICTIONS[:2]))
    ab, ba = a.merge(b), b.merge(a)
    assert ab.n_images == 2
    assert ab.gt_count.tolist() == [0, 0, 2, 0, 0, 0, 0, 0]
    assert np.array_equal(inst.compute(ab).ap, inst.compute(ba).ap, equal_nan=True)
    ab.save(tmp_path / "i.npz")
    back = inst.CityscapesInstanceState.load(tmp_path / "i.npz")
    assert np.array_equal(inst.compute(back).ap, inst.compute(ab).ap, equal_nan=True)


def test_gt_segments_rejects_unknown_labels() -> None:
    assert inst.gt_segments(np.array([[7, 40000]], np.uint16)) == (
        "instance ids whose label (id, or id // 1000) is not in the Cityscapes label table:"
        " 40000")
    seg = inst.gt_segments(GT)
    assert not isinstance(seg, str)
    assert seg.values.tolist() == [0, 7, 26, 26000, 26001]
    assert seg.areas.tolist() == [20, 90, 10, 100, 20]
    assert seg.void.tolist() == [True, False, False, False, False]


# --------------------------------------------------------------- C kernels = numpy paths


def _random_maps(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = 37, 53  # not multiples of 8: the kernels' tails
    ids = np.repeat(rng.choice([7, 26, 24, 29000, 26000, 26001, 24000, 40001, 1000, 1001],
                               size=(h, 7)), 8, axis=1)[:, :w].astype(np.uint16)
    labels = np.where(ids < 1000, ids, np.minimum(ids // 1000, 33)).astype(np.uint8)
    pred = labels.copy()
    noise = rng.random((h, w)) < 0.2
    pred[noise] = rng.choice([0, 7, 24, 25, 26, 27, 29], size=int(noise.sum()))
    return labels, pred, ids


@pytest.mark.parametrize("seed", range(3))
def test_counting_kernel_equals_numpy(seed: int) -> None:
    from benchmark_eval.masks.cityscapes import has_kernel

    assert has_kernel()
    labels, pred, ids = _random_maps(seed)
    kernel = sem.SemanticImageCounter()
    numpy_path = sem.SemanticImageCounter()  # int32 instance ids: the numpy path
    (side, message), = kernel.add("a", labels, ids, pred)  # 40001: label 40 is unknown
    assert side == "gt_instances"
    assert "40001" in message
    ids[ids == 40001] = 26002
    assert kernel.add("a", labels, ids, pred) == []
    assert numpy_path.add("a", labels, ids.astype(np.int32), pred) == []
    a, b = kernel.state(), numpy_path.state()
    assert np.array_equal(a.confusion, b.confusion)
    for k in ("inst_id", "inst_size", "inst_tp", "inst_cat_tp"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert a.inst_id.tolist() == [24000, 26000, 26001, 26002]  # 1001, 29000: ignored classes


@pytest.mark.parametrize("seed", range(3))
def test_segment_and_overlap_kernels_equal_numpy(seed: int) -> None:
    _, _, ids = _random_maps(seed)
    assert isinstance(inst.gt_segments(ids), str)  # 40001 (both paths refuse it)
    assert isinstance(inst.gt_segments(ids.astype(np.int32)), str)
    ids[ids == 40001] = 26002
    fast, slow = inst.gt_segments(ids), inst.gt_segments(ids.astype(np.int32))
    assert not isinstance(fast, str)
    assert not isinstance(slow, str)
    assert np.array_equal(fast.values, slow.values)
    assert np.array_equal(fast.areas, slow.areas)
    rng = np.random.default_rng(seed)
    mask = (rng.random(ids.shape) < 0.3).astype(np.uint8)
    mask[:5] = 0
    area, counts = inst.mask_overlaps(fast, ids, mask)  # the kernel
    slow_area, slow_counts = inst.mask_overlaps(slow, ids.astype(np.int32), mask)  # numpy
    assert area == slow_area == int(mask.sum())
    assert np.array_equal(counts, slow_counts)
