"""Properties of the COCO protocols on seeded synthetic data (``synth_coco``).

* image order in the GT file and detection order across images do not matter; the order of
  tied scores WITHIN an image does (as in pycocotools, whose stable sorts keep file order);
* k disjoint image shards evaluated separately and merged equal one run, also through
  ``workers=2``; merging is associative;
* a perfect prediction gives what pycocotools gives (1.0, or 1 - 2**-52, see below);
* relabelling the categories consistently only permutes the per-class values;
* a ``CocoState`` survives pickling.
"""

from __future__ import annotations

import copy
import pickle
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from official_coco import run_pycocotools
from synth_coco import Case, make_case, perfect_results

import benchmark_eval
from benchmark_eval import CocoParams, CocoResult, CocoState
from benchmark_eval.io import load_coco_ground_truth, load_coco_results
from benchmark_eval.protocols.coco_accumulate import accumulate
from benchmark_eval.protocols.coco_match import PreparedInstances, evaluate_images, prepare
from benchmark_eval.workflows import coco as coco_workflow

IOU_TYPES = ["bbox", "segm"]
SEEDS = [0, 3, 5, 7]


def _ours(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
          params: CocoParams | None = None, workers: int = 1) -> CocoResult:
    return benchmark_eval.evaluate(f"coco-{iou_type}", gt=gt, pred=results, params=params,
                                   workers=workers)


def _assert_same_numbers(a: Any, b: Any) -> None:
    """Equal stats, precision, recall and scores (a, b: CocoResult or live Live)."""
    assert np.array_equal(a.stats, b.stats)
    assert np.array_equal(a.precision, b.precision)
    assert np.array_equal(a.recall, b.recall)
    assert np.array_equal(a.scores, b.scores)


def _interleave(items: list[dict[str, Any]], rng: np.random.Generator) -> list[dict[str, Any]]:
    """A random order of ``items`` that keeps the relative order within each image."""
    queues: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        queues.setdefault(item["image_id"], []).append(item)
    out = []
    while queues:
        image = list(queues)[int(rng.integers(len(queues)))]
        out.append(queues[image].pop(0))
        if not queues[image]:
            del queues[image]
    return out


def _prepared(case: Case, iou_type: str, params: CocoParams) -> PreparedInstances:
    modes = {"boxes": iou_type == "bbox", "masks": iou_type == "segm"}
    dataset, _ = load_coco_ground_truth(case.gt, **modes)
    preds, _ = load_coco_results(case.results(iou_type), dataset, **modes)
    return prepare(dataset, preds, params, iou_type)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_generator_cases_match_pycocotools(seed: int, iou_type: str) -> None:
    # Anchor for the properties below: on these cases we reproduce pycocotools exactly.
    case = make_case(seed)
    live = run_pycocotools(case.gt, case.results(iou_type), iou_type)
    assert (live.stats[:3] > 0).all()  # the cases are not trivial
    _assert_same_numbers(_ours(case.gt, case.results(iou_type), iou_type), live)


# --------------------------------------------------------------------------------- order


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_image_order_in_ground_truth_does_not_matter(seed: int, iou_type: str) -> None:
    case = make_case(seed)
    base = _ours(case.gt, case.results(iou_type), iou_type)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        gt = copy.deepcopy(case.gt)
        gt["images"] = [gt["images"][i] for i in rng.permutation(len(gt["images"]))]
        # annotations may move between images, not within one (GT order breaks IoU ties)
        gt["annotations"] = _interleave(gt["annotations"], rng)
        _assert_same_numbers(_ours(gt, case.results(iou_type), iou_type), base)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_detection_order_across_images_does_not_matter(seed: int, iou_type: str) -> None:
    case = make_case(seed, ties=True)  # tied scores across images included
    base = _ours(case.gt, case.results(iou_type), iou_type)
    rng = np.random.default_rng(100 + seed)
    for _ in range(3):
        results = _interleave(case.results(iou_type), rng)
        _assert_same_numbers(_ours(case.gt, results, iou_type), base)


def test_order_of_tied_scores_within_an_image_matters_as_in_pycocotools() -> None:
    # One GT box [0, 0, 10, 10] (area 100) and two detections with the same score:
    #   A = [0, 0, 10, 9]: IoU 90 / 100 = 0.9;  B = [0, 0, 10, 6]: IoU 60 / 100 = 0.6.
    # pycocotools sorts detections with a stable sort, so file order decides among ties.
    # At t = 0.65 .. 0.9 only A can match:
    #   order A, B: A is TP, then B FP -> recall 1 reached at the first detection with
    #     precision 1 / (1 + spacing(1)) = 1 - 2**-52, which is sampled at every recall point;
    #   order B, A: B is FP, then A TP -> recall 1 reached at the second detection with
    #     precision 1 / (2 + spacing(1)) = 0.5 (2 + 2**-52 rounds to 2).
    # At t <= 0.6 the first detection matches either way (TP, FP); at 0.95 neither does.
    gt = {
        "images": [{"id": 1, "height": 20, "width": 20}],
        "categories": [{"id": 1, "name": "box"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                         "area": 100.0, "bbox": [0.0, 0.0, 10.0, 10.0],
                         "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]}],
    }
    det_a = {"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0.0, 0.0, 10.0, 9.0]}
    det_b = {"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0.0, 0.0, 10.0, 6.0]}
    live_ab = run_pycocotools(gt, [det_a, det_b], "bbox")
    live_ba = run_pycocotools(gt, [det_b, det_a], "bbox")
    ours_ab = _ours(gt, [det_a, det_b], "bbox")
    ours_ba = _ours(gt, [det_b, det_a], "bbox")
    _assert_same_numbers(ours_ab, live_ab)
    _assert_same_numbers(ours_ba, live_ba)
    # thresholds 0.65..0.9 are indices 3..8 of the 10; 0.95 (index 9) gives 0
    t = slice(3, 9)
    assert (ours_ab.precision[t, :, 0, 0, 2] == 1 / (1 + np.spacing(1))).all()
    assert (ours_ba.precision[t, :, 0, 0, 2] == 0.5).all()
    assert ours_ab.stats[0] > ours_ba.stats[0]


# ------------------------------------------------------------------------------ sharding


def _split_points(n: int, rng: np.random.Generator) -> list[list[int]]:
    random_cuts = sorted(rng.choice(np.arange(1, n), size=min(2, n - 1), replace=False))
    return [
        [0, n],
        [0, 1, n],
        [0, n - 1, n],
        list(range(n + 1)),  # one image per shard
        [0, *(int(c) for c in random_cuts), n],
    ]


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_shards_merged_equal_one_run(seed: int, iou_type: str) -> None:
    params = CocoParams()
    case = make_case(seed, n_images=7)
    prepared = _prepared(case, iou_type, params)
    n = len(prepared.image_ids)
    whole = accumulate(evaluate_images(prepared, params, iou_type), params)
    rng = np.random.default_rng(seed)
    for cuts in _split_points(n, rng):
        parts = [evaluate_images(prepared, params, iou_type, a, b)
                 for a, b in pairwise(cuts)]
        assert sum(p.n_images for p in parts) == n
        for order in (range(len(parts)), rng.permutation(len(parts))):
            state = parts[0].empty(prepared.category_ids, len(params.area_ranges),
                                   len(params.iou_thresholds), parts[0].fingerprint)
            for i in order:
                state = state.merge(parts[i])
            acc = accumulate(state, params)
            assert np.array_equal(acc.precision, whole.precision), cuts
            assert np.array_equal(acc.recall, whole.recall), cuts
            assert np.array_equal(acc.scores, whole.scores), cuts


@pytest.mark.parametrize("iou_type", IOU_TYPES)
def test_workers_two_equals_one_process(iou_type: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small shards so that 7 images make 4 units of work and the process pool really runs.
    monkeypatch.setattr(coco_workflow, "SHARD_SIZE", 2)
    case = make_case(9, n_images=7)
    calls: list[tuple[int, int]] = []
    parallel = benchmark_eval.evaluate(f"coco-{iou_type}", gt=case.gt,
                                       pred=case.results(iou_type), workers=2,
                                       progress=lambda done, total: calls.append((done, total)))
    serial = _ours(case.gt, case.results(iou_type), iou_type, workers=1)
    _assert_same_numbers(parallel, serial)
    _assert_same_numbers(parallel, run_pycocotools(case.gt, case.results(iou_type), iou_type))
    assert calls == [(2, 7), (4, 7), (6, 7), (7, 7)]
    assert parallel.per_class == serial.per_class


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_is_associative_on_real_states(seed: int) -> None:
    params = CocoParams()
    prepared = _prepared(make_case(seed, n_images=6), "segm", params)
    a, b, c = (evaluate_images(prepared, params, "segm", lo, hi)
               for lo, hi in ((0, 2), (2, 3), (3, 6)))
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    for name in ("det_category", "det_image", "det_rank", "det_score", "det_outcome",
                 "gt_count"):
        assert np.array_equal(getattr(left, name), getattr(right, name)), name
    assert left.n_images == right.n_images == 6
    assert np.array_equal(accumulate(left, params).precision,
                          accumulate(c.merge(b).merge(a), params).precision)


# ------------------------------------------------------------------------------- perfect

_ONE_MINUS_ULP = 1 / (1 + np.spacing(1))  # 1 - 2**-52


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_perfect_prediction(seed: int, iou_type: str) -> None:
    # Detections equal to the GT (mask or box), score 1. Every detection matches its own GT,
    # so precision after i true positives is i / (i + spacing(1)): exactly 1.0 for i >= 2
    # (i + 2**-52 rounds back to i) but 1 / (1 + 2**-52) = 1 - 2**-52 for i = 1. A category
    # (in an area range) with a single GT therefore has AP 0.9999999999999998 in
    # pycocotools, and we must give the same; all other defined AP values are exactly 1.0.
    # Recall is n / n = 1.0 exactly.
    case = make_case(seed)
    results = perfect_results(case.gt, iou_type)
    live = run_pycocotools(case.gt, results, iou_type)
    ours = _ours(case.gt, results, iou_type)
    _assert_same_numbers(ours, live)
    at_100 = ours.precision[..., -1]  # maxDets 100 keeps every detection
    defined_ap = at_100[at_100 > -1]
    assert set(np.unique(defined_ap).tolist()) <= {1.0, _ONE_MINUS_ULP}
    assert ours.stats[0] == live.stats[0] == 1.0  # these cases have >= 2 GT per category
    for i in (0, 1, 2, 3, 4, 5, 8, 9, 10, 11):  # AP and AR at maxDets 100
        if live.stats[i] != -1:
            assert _ONE_MINUS_ULP <= ours.stats[i] <= 1.0
    for i in (8, 9, 10, 11):
        assert ours.stats[i] in (1.0, -1.0)


# ---------------------------------------------------------------------------- relabelling


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_relabelling_categories_permutes_per_class_values(seed: int, iou_type: str) -> None:
    mapping = {1: 50, 3: 2, 7: 11, 9: 4}
    case = make_case(seed)
    gt = copy.deepcopy(case.gt)
    for cat in gt["categories"]:
        cat["id"] = mapping[cat["id"]]
    for ann in gt["annotations"]:
        ann["category_id"] = mapping[ann["category_id"]]
    results = case.results(iou_type)
    for det in results:
        det["category_id"] = mapping[det["category_id"]]
    base = _ours(case.gt, case.results(iou_type), iou_type)
    moved = _ours(gt, results, iou_type)
    for cid, values in base.per_class.items():
        assert moved.per_class[mapping[cid]] == values
    perm = [moved.category_ids.index(mapping[c]) for c in base.category_ids]
    assert np.array_equal(moved.precision[:, :, perm], base.precision)
    assert np.array_equal(moved.recall[:, perm], base.recall)
    # The 12 stats average the same values in another category order: equal up to rounding.
    assert moved.stats == pytest.approx(base.stats, rel=1e-12, abs=1e-15)


# -------------------------------------------------------------------------------- pickling


def test_state_pickle_round_trip() -> None:
    params = CocoParams()
    prepared = _prepared(make_case(3), "segm", params)
    state = evaluate_images(prepared, params, "segm")
    back = pickle.loads(pickle.dumps(state))
    assert isinstance(back, CocoState)
    assert back.fingerprint == state.fingerprint
    assert back.n_images == state.n_images
    for name in ("category_ids", "det_category", "det_image", "det_rank", "det_score",
                 "det_outcome", "gt_count"):
        assert np.array_equal(getattr(back, name), getattr(state, name)), name
        assert getattr(back, name).dtype == getattr(state, name).dtype, name
    assert np.array_equal(accumulate(back, params).precision,
                          accumulate(state, params).precision)


def test_result_pickle_round_trip() -> None:
    case = make_case(0)
    result = _ours(case.gt, case.results("bbox"), "bbox")
    back = pickle.loads(pickle.dumps(result))
    _assert_same_numbers(back, result)
    assert back.to_report() == result.to_report()


@pytest.mark.parametrize("iou_type", IOU_TYPES)
def test_evaluate_leaves_its_inputs_alone(iou_type: str) -> None:
    case = make_case(2)
    gt, results = copy.deepcopy(case.gt), case.results(iou_type)
    before = (copy.deepcopy(gt), copy.deepcopy(results))
    _ours(gt, results, iou_type)
    assert (gt, results) == before
