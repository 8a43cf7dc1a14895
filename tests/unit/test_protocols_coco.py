"""``protocols.coco_state.CocoState`` (merge, empty, save/load) and ``CocoParams`` validation."""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from pycocotools.cocoeval import Params
from pydantic import ValidationError
from synth_coco import make_case

import benchmark_eval
from benchmark_eval import AreaRange, CocoParams, CocoState
from benchmark_eval.errors import ConfigError
from benchmark_eval.io import load_coco_ground_truth, load_coco_results
from benchmark_eval.protocols.coco_accumulate import accumulate, summarize
from benchmark_eval.protocols.coco_match import evaluate_images, fingerprint, prepare
from benchmark_eval.protocols.coco_state import FP, IGNORED, TP

FIELDS = [f.name for f in dataclasses.fields(CocoState)]


def assert_states_equal(a: CocoState, b: CocoState) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, name
            assert x.shape == y.shape, name
            assert np.array_equal(x, y), name
        else:
            assert x == y, name


def _hand_state(seed: int, n: int, n_images: int = 2, fp: str = "bbox:x") -> CocoState:
    rng = np.random.default_rng(seed)
    return CocoState(
        category_ids=np.array([1, 4, 9], dtype=np.int64),
        det_category=rng.integers(0, 3, n).astype(np.int64),
        det_image=rng.integers(100 * seed, 100 * seed + n_images, n).astype(np.int64),
        det_rank=rng.integers(0, 5, n).astype(np.int64),
        det_score=rng.random(n),
        det_outcome=rng.choice(np.array([FP, TP, IGNORED], dtype=np.uint8), (n, 2, 3)),
        gt_count=rng.integers(0, 4, (3, 2)).astype(np.int64),
        n_images=n_images, fingerprint=fp,
    )


def _empty(fp: str = "bbox:x") -> CocoState:
    return CocoState.empty(np.array([1, 4, 9]), 2, 3, fp)


def _real_states(iou_type: str = "bbox") -> tuple[list[CocoState], CocoParams]:
    case = make_case(11)
    params = CocoParams()
    modes = {"boxes": iou_type == "bbox", "masks": iou_type == "segm"}
    dataset, _ = load_coco_ground_truth(case.gt, **modes)
    preds, _ = load_coco_results(case.results(iou_type), dataset, **modes)
    p = prepare(dataset, preds, params, iou_type)
    n = len(p.image_ids)
    cuts = [0, 2, 4, n]
    return [evaluate_images(p, params, iou_type, a, b) for a, b in pairwise(cuts)], params


def test_empty_state_shapes() -> None:
    e = _empty()
    assert e.det_outcome.shape == (0, 2, 3)
    assert e.gt_count.shape == (3, 2)
    assert e.n_images == 0


def test_empty_is_the_identity_of_merge() -> None:
    s = _hand_state(1, 7)
    assert_states_equal(_empty().merge(s), s)
    assert_states_equal(s.merge(_empty()), s)
    assert_states_equal(_empty().merge(_empty()), _empty())


def test_merge_is_associative() -> None:
    a, b, c = _hand_state(1, 5), _hand_state(2, 0), _hand_state(3, 9)
    left = a.merge(b).merge(c)
    right = a.merge(b.merge(c))
    assert_states_equal(left, right)
    assert len(left.det_score) == 14
    assert left.n_images == 6
    assert np.array_equal(left.gt_count, a.gt_count + b.gt_count + c.gt_count)


def test_merge_of_real_states_is_associative_and_order_free_after_accumulate() -> None:
    (a, b, c), params = _real_states()
    assert_states_equal(a.merge(b).merge(c), a.merge(b.merge(c)))
    one = accumulate(a.merge(b).merge(c), params)
    other = accumulate(c.merge(a).merge(b), params)
    assert np.array_equal(one.precision, other.precision)
    assert np.array_equal(one.recall, other.recall)
    assert np.array_equal(one.scores, other.scores)


def test_merge_refuses_different_parameters() -> None:
    with pytest.raises(ConfigError, match="different parameters"):
        _hand_state(1, 3, fp="bbox:a").merge(_hand_state(2, 3, fp="bbox:b"))
    p1, p2 = CocoParams(), CocoParams(max_detections=(1, 10, 50))
    assert fingerprint(p1, "bbox") != fingerprint(p2, "bbox")
    assert fingerprint(p1, "bbox") != fingerprint(p1, "segm")
    s1 = CocoState.empty(np.array([1, 2]), 4, 10, fingerprint(p1, "bbox"))
    s2 = CocoState.empty(np.array([1, 2]), 4, 10, fingerprint(p2, "bbox"))
    with pytest.raises(ConfigError):
        s1.merge(s2)


def test_merge_refuses_different_categories() -> None:
    other = dataclasses.replace(_empty(), category_ids=np.array([1, 4, 8]),)
    with pytest.raises(ConfigError, match="category"):
        _hand_state(1, 3).merge(other)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_save_load_round_trip(tmp_path: Path, iou_type: str) -> None:
    states, params = _real_states(iou_type)
    state = states[0].merge(states[1]).merge(states[2])
    path = tmp_path / "state.npz"
    state.save(path)
    loaded = CocoState.load(path)
    assert_states_equal(loaded, state)
    assert np.array_equal(accumulate(loaded, params).precision,
                          accumulate(state, params).precision)


def test_save_load_round_trip_of_empty_state(tmp_path: Path) -> None:
    path = tmp_path / "empty.npz"
    _empty().save(path)
    assert_states_equal(CocoState.load(path), _empty())


def test_accumulate_of_empty_state_is_undefined_everywhere() -> None:
    params = CocoParams()
    state = CocoState.empty(np.array([1, 2]), 4, 10, fingerprint(params, "bbox"))
    acc = accumulate(state, params)
    assert acc.precision.shape == (10, 101, 2, 4, 3)
    assert acc.recall.shape == (10, 2, 4, 3)
    assert (acc.precision == -1).all()
    assert (summarize(acc, params) == -1).all()


# ------------------------------------------------------------------------------- params


def test_default_params_are_pycocotools_defaults() -> None:
    official = Params(iouType="bbox")
    p = CocoParams()
    assert np.array_equal(p.iou_array, official.iouThrs)
    assert np.array_equal(p.recall_array, official.recThrs)
    assert list(p.max_detections) == official.maxDets
    assert p.area_array.tolist() == official.areaRng
    assert [a.label for a in p.area_ranges] == official.areaRngLbl
    assert p.class_agnostic is (official.useCats == 0)


def test_max_detections_are_sorted() -> None:
    # pycocotools' evaluate() sorts maxDets as well.
    assert CocoParams(max_detections=(100, 1, 10)).max_detections == (1, 10, 100)
    assert CocoParams(max_detections=[50, 5]).max_detections == (5, 50)


@pytest.mark.parametrize("kwargs", [
    {"iou_thresholds": (0.5, 1.5)},
    {"iou_thresholds": (-0.1,)},
    {"iou_thresholds": (float("nan"),)},
    {"iou_thresholds": ()},
    {"recall_thresholds": (0.0, 1.01)},
    {"max_detections": (0, 10)},
    {"max_detections": (-5,)},
    {"max_detections": ()},
    {"area_ranges": (AreaRange(label="all", lo=0, hi=1e10),
                     AreaRange(label="all", lo=0, hi=100))},
    {"maxDets": (1, 10, 100)},  # pycocotools' name is not a field
])
def test_invalid_params_are_refused(kwargs: dict) -> None:
    # empty recall_thresholds / area_ranges are accepted as pycocotools accepts them
    # (tests/parity/test_coco_policy_parity.py)
    with pytest.raises(ValidationError):
        CocoParams(**kwargs)


def test_params_are_frozen() -> None:
    p = CocoParams()
    with pytest.raises(ValidationError):
        p.max_detections = (1,)  # type: ignore[misc]


def test_duplicate_area_labels_message_names_them() -> None:
    with pytest.raises(ValidationError, match="area range labels must be unique"):
        CocoParams(area_ranges=(AreaRange(label="s", lo=0, hi=1), AreaRange(label="s", lo=1,
                                                                            hi=2)))


def test_evaluate_turns_bad_params_into_config_error() -> None:
    case = make_case(0)
    with pytest.raises(ConfigError, match="invalid parameters"):
        benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"),
                                params={"iou_thresholds": [2.0]})
    with pytest.raises(ConfigError, match="unknown protocol"):
        benchmark_eval.evaluate("coco-captions", gt=case.gt, pred=case.results("bbox"))


def test_params_from_a_preset_name_or_file_and_the_result_state() -> None:
    case = make_case(0)
    default = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"))
    preset = Path(benchmark_eval.__file__).parent / "presets" / "coco-bbox.json"
    for params in ("coco-bbox", preset, str(preset)):
        r = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"),
                                    params=params)
        assert r.params == CocoParams()
        assert np.array_equal(r.precision, default.precision)
    # the result keeps the merged state it was computed from, outside the report
    assert r.state.n_images == r.counts["images"]
    assert np.array_equal(accumulate(r.state, r.params).precision, r.precision)
    assert "state" not in r.to_report()
    agnostic = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"),
                                       params="coco-class-agnostic")
    assert agnostic.params.class_agnostic
    assert agnostic.category_ids == [-1]
