"""``protocols.semantic_params`` / ``semantic``: value tables, counting, rules, Dice modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from benchmark_eval.protocols.semantic import class_mean, compute
from benchmark_eval.protocols.semantic_count import PairCounter, pair_histogram, shape_problem
from benchmark_eval.protocols.semantic_params import SemanticParams, build_tables
from benchmark_eval.protocols.semantic_state import SemanticState


def _count(params: SemanticParams, *pairs: tuple[np.ndarray, np.ndarray]
           ) -> tuple[SemanticState, list[tuple[str, str]]]:
    counter = PairCounter(build_tables(params), params.counting_fingerprint(),
                          per_image=params.dice_averaging == "per-image")
    problems = []
    for i, (gt, pred) in enumerate(pairs):
        problems += counter.add(f"im{i}", np.asarray(gt), np.asarray(pred))
    return counter.state(), problems


# ------------------------------------------------------------------------------ params


@pytest.mark.parametrize(("fields", "message"), [
    ({"num_classes": 0}, "greater than or equal to 1"),
    ({"num_classes": 3, "class_names": ["a", "b"]}, "2 names, expected num_classes=3"),
    ({"num_classes": 2, "class_names": ["a", "a"]}, "duplicate"),
    ({"num_classes": 10, "ignore_index": 3}, "ignore_index 3 is a class index"),
    ({"num_classes": 3, "ignore_index": None, "reduce_zero_label": True}, "set ignore_index"),
    ({"num_classes": 3, "encoding": "binary"}, "needs num_classes=2"),
    ({"num_classes": 3, "rule": "voc"}, "mmseg"),
    ({"num_classes": 3, "colour": True}, "Extra inputs"),
])
def test_invalid_params(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SemanticParams(**fields)


def test_fingerprint_ignores_the_rule_but_not_the_counting() -> None:
    base = SemanticParams(num_classes=4)
    assert base.counting_fingerprint() == base.model_copy(
        update={"rule": "detectron2"}).counting_fingerprint()
    assert base.counting_fingerprint() != SemanticParams(
        num_classes=4, ignore_index=254).counting_fingerprint()


def test_tables_reduce_zero_label_like_mmseg() -> None:
    # mmseg LoadAnnotations: 0 -> 255, v -> v - 1, 255 stays ignored; predictions untouched
    t = build_tables(SemanticParams(num_classes=150, reduce_zero_label=True))
    assert t.gt_rows[[0, 1, 150, 151, 255]].tolist() == [150, 0, 149, 151, 150]
    assert t.pred_cols[[0, 149, 150, 255]].tolist() == [0, 149, 151, 150]


@pytest.mark.parametrize("rule", ["detectron2", "cityscapes"])
def test_tables_label_map_applies_to_both_sides(rule: str) -> None:
    t = build_tables(SemanticParams(num_classes=2, label_map={7: 0, 8: 1, 0: 255}, rule=rule))
    assert t.gt_rows[[7, 8, 0, 1, 2]].tolist() == [0, 1, 2, 1, 3]
    assert t.pred_cols[[7, 8, 0, 1, 2]].tolist() == [0, 1, 2, 1, 3]


def test_tables_mmseg_label_map_maps_the_gt_only() -> None:
    # mmseg's LoadAnnotations maps the annotation; predictions are class indices already
    t = build_tables(SemanticParams(num_classes=2, label_map={7: 0, 8: 1, 0: 255}))
    assert t.gt_rows[[7, 8, 0, 1, 2]].tolist() == [0, 1, 2, 1, 3]
    assert t.pred_cols[[7, 8, 0, 1, 2]].tolist() == [3, 3, 0, 1, 3]


def test_tables_binary_encoding() -> None:
    t = build_tables(SemanticParams(num_classes=2, encoding="binary", ignore_index=None))
    assert t.gt_rows[[0, 1, 2, 255]].tolist() == [0, 1, 1, 1]
    t = build_tables(SemanticParams(num_classes=2, encoding="binary", ignore_index=255))
    assert t.gt_rows[[0, 1, 255]].tolist() == [0, 1, 2]
    assert t.pred_cols[[0, 1, 255]].tolist() == [0, 1, 2]


def test_tables_out_of_range_predictions() -> None:
    strict = build_tables(SemanticParams(num_classes=3))
    lenient = build_tables(SemanticParams(num_classes=3, out_of_range="no-class"))
    assert strict.pred_cols[[3, 7]].tolist() == [4, 4]  # problem column
    assert lenient.pred_cols[[3, 7]].tolist() == [3, 3]  # no class
    assert lenient.gt_rows[[3, 7]].tolist() == [4, 4]  # out-of-range GT: always a problem


# ---------------------------------------------------------------------------- counting


def test_shape_problems() -> None:
    a = np.zeros((4, 5), np.uint8)
    assert shape_problem(a, a) is None
    assert shape_problem(a, np.zeros((5, 4), np.uint8)) == (
        "pred", "prediction is 4x5 (WxH) but the ground truth is 5x4")
    assert shape_problem(a, np.zeros((4, 5, 3), np.uint8)) == (
        "pred", "array of shape (4, 5, 3) (3 channels?), expected a 2-D (H, W) label map")
    assert shape_problem(a.astype(np.float32), a) == (
        "gt", "has dtype float32, expected integer labels")


def test_counting_8bit_and_wide_paths_agree() -> None:
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 6, (30, 20)).astype(np.uint8)
    gt[:3] = 255
    pred = rng.integers(0, 6, (30, 20)).astype(np.uint8)
    params = SemanticParams(num_classes=6, dice_averaging="per-image")
    narrow, _ = _count(params, (gt, pred))
    wide, _ = _count(params, (gt.astype(np.int64), pred.astype(np.uint16) + 0))
    assert np.array_equal(narrow.confusion, wide.confusion)
    assert np.array_equal(narrow.image_stats, wide.image_stats)
    # brute force: count every pixel
    expected = np.zeros((7, 7), np.int64)
    for g, p in zip(gt.ravel().tolist(), pred.ravel().tolist(), strict=True):
        expected[6 if g == 255 else g, 6 if p == 255 else p] += 1
    assert np.array_equal(narrow.confusion, expected)


def test_wide_values_and_negative_ignore() -> None:
    gt = np.array([[-1, 0, 1000]], np.int32)
    pred = np.array([[0, 0, 70000]], np.int32)
    params = SemanticParams(num_classes=2, ignore_index=-1, label_map={1000: 1, 70000: 1},
                            rule="cityscapes")  # a rule that maps predictions too
    state, problems = _count(params, (gt, pred))
    assert problems == []
    assert state.confusion.tolist() == [[1, 0, 0], [0, 1, 0], [1, 0, 0]]


def test_out_of_range_values_are_named_with_pixel_counts() -> None:
    gt = np.array([[0, 1, 9, 9], [200, 255, 1, 0]], np.uint8)
    pred = np.array([[0, 3, 1, 1], [1, 1, 1, 0]], np.uint8)
    state, problems = _count(SemanticParams(num_classes=3), (gt, pred))
    assert problems == [
        ("gt", "labels outside [0, 3): 9 (2 px), 200 (1 px); expected class indices or the"
               " ignore index 255"),
        ("pred", "predicted labels outside [0, 3): 3 (1 px); expected class indices or the"
                 " ignore index 255 (out_of_range='no-class' counts them as wrong)"),
    ]
    assert state.n_images == 0
    assert state.confusion.sum() == 0  # nothing counted from a bad image


def test_out_of_range_message_on_wide_maps_mentions_the_mapping() -> None:
    gt = np.array([[0, 300, 300]], np.uint16)
    params = SemanticParams(num_classes=2, reduce_zero_label=True)
    _, problems = _count(params, (gt, np.zeros_like(gt)))
    assert problems == [("gt", "labels outside [0, 2) after reduce_zero_label: 300 (2 px);"
                               " expected class indices or the ignore index 255")]


def test_bool_masks_count_as_0_and_1() -> None:
    gt = np.array([[True, False]])
    state, problems = _count(SemanticParams(num_classes=2), (gt, gt))
    assert problems == []
    assert state.confusion[:2, :2].tolist() == [[1, 0], [0, 1]]
    wide = np.array([[1, 300]], np.int32)  # a bool GT next to a wide prediction
    state, problems = _count(SemanticParams(num_classes=2, out_of_range="no-class"), (gt, wide))
    assert problems == []
    assert state.confusion.tolist() == [[0, 0, 1], [0, 1, 0], [0, 0, 0]]


# ------------------------------------------------------------------------------- rules


def test_class_mean_conventions() -> None:
    values = np.array([0.1, np.nan, 0.2, 0.7])
    assert class_mean(values, "mmseg") == np.nanmean(values)
    assert class_mean(values, "detectron2") == np.sum(values[[0, 2, 3]]) / 3
    assert class_mean(values, "cityscapes") == ((0.1 + 0.2) + 0.7) / 3
    assert math.isnan(class_mean(np.array([np.nan]), "mmseg"))


# C = 3, two images, per-image Dice (the medical convention: per case, then the mean):
#   image 0 (2x2)  GT [[0, 0], [1, 1]]  pred [[0, 1], [1, 1]]
#       class 0: tp 1, gt 2, pred 1 -> Dice 2/3;  class 1: tp 2, gt 2, pred 3 -> 4/5
#       class 2: absent from both -> undefined (left out)
#   image 1 (1x3)  GT [[1, 1, 1]]  pred [[1, 2, 2]]
#       class 0: absent -> undefined;  class 1: tp 1, gt 3, pred 1 -> 2/4
#       class 2: tp 0, gt 0, pred 2 -> 0 (mmseg rule); undefined under detectron2 (no GT)
#   mmseg      per class: [2/3, (4/5 + 1/2) / 2 = 13/20, 0]        mDice = (2/3 + 13/20) / 3
#   detectron2 per class: [2/3, 13/20, nan]                     mDice = (2/3 + 13/20) / 2
#   dataset-level (mmseg): tp [1, 3, 0], gt [2, 5, 0], pred [1, 4, 2]
#       Dice [2/3, 6/9, 0]                                       mDice = (2/3 + 2/3) / 3
PER_IMAGE = [(np.array([[0, 0], [1, 1]], np.uint8), np.array([[0, 1], [1, 1]], np.uint8)),
             (np.array([[1, 1, 1]], np.uint8), np.array([[1, 2, 2]], np.uint8))]


@pytest.mark.parametrize(("rule", "dice", "mdice"), [
    ("mmseg", [2 / 3, 13 / 20, 0.0], (2 / 3 + 13 / 20 + 0) / 3),
    ("detectron2", [2 / 3, 13 / 20, np.nan], (2 / 3 + 13 / 20) / 2),
])
def test_per_image_dice_hand_worked(rule: str, dice: list[float], mdice: float) -> None:
    params = SemanticParams(num_classes=3, rule=rule, dice_averaging="per-image")
    state, _ = _count(params, *PER_IMAGE)
    m = compute(state, params)
    assert np.allclose(m.dice, dice, rtol=0, atol=1e-15, equal_nan=True)
    assert m.metrics["mDice"] == pytest.approx(mdice, abs=1e-15)
    assert m.image_names == ("im0", "im1")
    assert m.per_image_dice is not None
    assert np.allclose(m.per_image_dice[0], [2 / 3, 4 / 5, np.nan], equal_nan=True)


def test_dataset_dice_hand_worked() -> None:
    params = SemanticParams(num_classes=3)
    state, _ = _count(params, *PER_IMAGE)
    m = compute(state, params)
    assert np.allclose(m.dice, [2 / 3, 6 / 9, 0.0], rtol=0, atol=1e-15)
    assert m.metrics["mDice"] == pytest.approx(4 / 9, abs=1e-15)
    assert m.per_image_dice is None


# binary masks, foreground = any non-zero value (0/255 masks):
#   GT [[0, 255, 255, 255]]  pred [[255, 255, 0, 255]]
#   foreground: tp 2, gt 3, pred 3 -> IoU 2/4 = 1/2, Dice 4/6 = 2/3
#   background: tp 0, gt 1, pred 1 -> IoU 0, Dice 0
def test_binary_foreground_metrics() -> None:
    params = SemanticParams(num_classes=2, encoding="binary", ignore_index=None)
    gt = np.array([[0, 255, 255, 255]], np.uint8)
    pred = np.array([[255, 255, 0, 255]], np.uint8)
    state, problems = _count(params, (gt, pred))
    assert problems == []
    m = compute(state, params)
    assert m.metrics["IoU"] == 0.5
    assert m.metrics["Dice"] == pytest.approx(2 / 3, abs=1e-15)
    assert m.metrics["mIoU"] == 0.25
    assert m.iou.tolist() == [0.0, 0.5]


def test_empty_state_is_undefined_not_an_error() -> None:
    params = SemanticParams(num_classes=3)
    m = compute(SemanticState.empty(3, params.counting_fingerprint()), params)
    assert all(math.isnan(v) for v in m.metrics.values())
    assert np.isnan(m.iou).all()


@pytest.mark.parametrize("kind", ["smooth", "noisy", "tiny"])
def test_pair_histogram_equals_bincount(kind: str) -> None:
    rng = np.random.default_rng(1)
    shape = (3, 5) if kind == "tiny" else (96, 80)
    if kind == "noisy":  # many short runs: the plain bincount route
        gt = rng.integers(0, 256, shape).astype(np.uint8)
    else:  # long runs: the run-length route
        gt = np.repeat(rng.integers(0, 256, (shape[0], 4)), -(-shape[1] // 4), axis=1)
        gt = gt[:, : shape[1]].astype(np.uint8)
    pred = gt.copy()
    pred[rng.random(shape) < 0.01] = 7
    expected = np.bincount((gt.astype(np.int64) * 256 + pred).ravel(), minlength=1 << 16)
    assert np.array_equal(pair_histogram(gt, pred), expected)
