"""``coco-keypoints``: OKS on hand-worked values, the parameters, and the adapter's checks
(every problem names the file, the record and the field)."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

import benchmark_eval
from benchmark_eval.errors import ConfigError, ConsistencyError, FormatError
from benchmark_eval.io.coco_keypoints import keypoint_areas, load_keypoints_ground_truth
from benchmark_eval.matching.oks import object_keypoint_similarity
from benchmark_eval.protocols.coco_keypoints_params import COCO_OKS_SIGMAS, KeypointsParams
from benchmark_eval.schema import Keypoints

EPS = np.spacing(1)


def _oks(det: list[tuple[float, float]], gt: list[tuple[float, float, int]],
         sigmas: list[float], area: float, box: tuple[float, ...] = (0, 0, 1, 1)) -> float:
    j = len(gt)
    g = np.array(gt, dtype=np.float64)
    return float(object_keypoint_similarity(
        np.array([det], dtype=np.float64), g[None, :, :2], g[None, :, 2] > 0,
        np.array([j]), np.array([box], dtype=np.float64), np.array([area]),
        ((np.array(sigmas) * 2) ** 2)[None, :])[0])


def test_oks_one_keypoint() -> None:
    # σ = 0.5: (2σ)² = 1; d² = 1² + 1² = 2; area 1: e = 2 / 1 / (1 + eps) / 2 = 1 / (1 + eps)
    # OKS = exp(-1 / (1 + eps)), i.e. exp(-1) to 1e-15
    got = _oks([(11.0, 21.0)], [(10.0, 20.0, 2)], [0.5], area=1.0)
    assert got == math.exp(-(2.0 / 1.0 / (1.0 + EPS) / 2))
    assert got == pytest.approx(math.exp(-1.0), rel=1e-15)


def test_oks_averages_over_labelled_keypoints_only() -> None:
    # keypoint 0 exact: exp(0) = 1; keypoint 1 (v=1, hidden but labelled) off by
    # dx = sqrt(2 ln 2): e = 2 ln 2 / 1 / 1 / 2 = ln 2, exp(-ln 2) = 1/2; keypoint 2 has v=0
    # and is ignored however far off: OKS = (1 + 1/2) / 2 = 0.75
    dx = math.sqrt(2 * math.log(2))
    got = _oks([(5.0, 5.0), (5.0 + dx, 9.0), (500.0, 500.0)],
               [(5.0, 5.0, 2), (5.0, 9.0, 1), (0.0, 0.0, 0)], [0.5, 0.5, 0.5], area=1.0)
    assert got == pytest.approx(0.75, rel=1e-14)


def test_oks_without_labelled_keypoints_measures_to_the_doubled_box() -> None:
    # GT box [10, 10, 10, 10] doubled: x in [0, 30], y in [0, 30]. Keypoint 0 at (15, 15) is
    # inside: distance 0, exp(0) = 1. Keypoint 1 at (35, 15): dx = 35 - 30 = 5, dy = 0;
    # σ = 0.5, area 50: e = 25 / 1 / 50 / 2 = 0.25. Both keypoints count: (1 + e^-0.25) / 2
    got = _oks([(15.0, 15.0), (35.0, 15.0)], [(0.0, 0.0, 0), (0.0, 0.0, 0)], [0.5, 0.5],
               area=50.0, box=(10, 10, 10, 10))
    assert got == pytest.approx((1 + math.exp(-0.25)) / 2, rel=1e-15)
    # left of and above the box: dx = 0 - (-4) = 4, dy = 0 - (-3) = 3, d² = 25 again
    got = _oks([(-4.0, -3.0), (15.0, 15.0)], [(0.0, 0.0, 0), (0.0, 0.0, 0)], [0.5, 0.5],
               area=50.0, box=(10, 10, 10, 10))
    assert got == pytest.approx((math.exp(-0.25) + 1) / 2, rel=1e-15)


def test_oks_of_a_zero_area_gt() -> None:
    # area 0 + eps: an exact keypoint gives e = 0 (1); any error gives e ~ 1e16 (0)
    got = _oks([(3.0, 4.0), (3.5, 4.0)], [(3.0, 4.0, 2), (3.0, 4.0, 2)], [0.1, 0.1], area=0.0)
    assert got == 0.5


def test_oks_of_no_pairs_is_empty() -> None:
    z2, z3 = np.zeros((0, 17, 2)), np.zeros((0, 17), dtype=bool)
    out = object_keypoint_similarity(z2, z2, z3, np.zeros(0, int), np.zeros((0, 4)),
                                     np.zeros(0), np.ones((0, 17)))
    assert out.shape == (0,)


def test_keypoint_areas_are_the_extent_of_all_keypoints() -> None:
    # loadRes without bbox: (max x - min x) * (max y - min y) over every triplet, whatever v
    kp = Keypoints(xy=np.array([[[1.0, 2.0], [4.0, 8.0], [2.0, 3.0]]]),
                   flags=np.zeros((1, 3)), counts=np.array([3]))
    assert keypoint_areas(kp).tolist() == [(4 - 1) * (8 - 2)]


def test_default_params_are_pycocotools_keypoint_params() -> None:
    from pycocotools.cocoeval import Params

    official = Params("keypoints")
    p = KeypointsParams()
    assert np.array_equal(np.array(COCO_OKS_SIGMAS), official.kpt_oks_sigmas)
    assert list(p.max_detections) == official.maxDets
    assert [[a.lo, a.hi] for a in p.area_ranges] == official.areaRng
    assert [a.label for a in p.area_ranges] == official.areaRngLbl
    assert np.array_equal(p.iou_array, official.iouThrs)
    assert np.array_equal(p.recall_array, official.recThrs)


def test_sigmas_per_category() -> None:
    p = KeypointsParams(kpt_oks_sigmas={"3": [0.1, 0.2]})
    assert p.sigmas_for(3) == (0.1, 0.2)
    assert p.sigmas_for(1) == COCO_OKS_SIGMAS
    with pytest.raises(ValueError, match="non-empty"):
        KeypointsParams(kpt_oks_sigmas={})
    with pytest.raises(ValueError, match="greater than 0"):
        KeypointsParams(kpt_oks_sigmas=[0.1, 0.0])


# ------------------------------------------------------------------------------ adapter


def _gt() -> dict[str, Any]:
    kps = [10.0, 10.0, 2, 20.0, 10.0, 1, 0, 0, 0]
    return {
        "images": [{"id": 1, "height": 50, "width": 50}],
        "categories": [{"id": 1, "name": "person", "keypoints": ["a", "b", "c"]}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 20, 20], "area": 200.0,
             "iscrowd": 0, "keypoints": kps, "num_keypoints": 2},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [5, 5, 20, 20], "area": 200.0,
             "iscrowd": 0, "keypoints": list(kps), "num_keypoints": 2},
        ],
    }


def _pred() -> list[dict[str, Any]]:
    return [{"image_id": 1, "category_id": 1, "score": 0.9,
             "keypoints": [10.0, 10.0, 0.3, 20.0, 11.0, 0.9, 15.0, 15.0, 0.1]}]


SIGMAS3 = {"kpt_oks_sigmas": [0.05, 0.05, 0.05]}


def _problems(gt: dict[str, Any], pred: list[dict[str, Any]]) -> list[str]:
    return [str(p) for p in benchmark_eval.validate("coco-keypoints", gt=gt, pred=pred,
                                                      params=SIGMAS3)]


def test_clean_inputs_have_no_problems_and_score() -> None:
    assert _problems(_gt(), _pred()) == []
    r = benchmark_eval.evaluate("coco-keypoints", gt=_gt(), pred=_pred(), params=SIGMAS3)
    assert r.counts["gt_instances"] == 2
    assert list(r.metrics) == ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75",
                               "ARm", "ARl"]
    assert r.stats.shape == (10,)


def test_wrong_length_names_record_field_and_expectation() -> None:
    gt = _gt()
    gt["annotations"][1]["keypoints"] = [1.0, 2.0, 2, 3.0, 4.0, 2]
    msg, not_checked = _problems(gt, _pred())
    assert not_checked == "<pred>: not checked: the ground truth has problems"
    assert "annotations[1]" in msg
    assert "'keypoints' has 6 values; category 1 ('person') has 3 keypoints" in msg
    pred = _pred()
    pred[0]["keypoints"] = pred[0]["keypoints"] + [1.0, 1.0, 1.0]
    (msg,) = _problems(_gt(), pred)
    assert "results[0]" in msg
    assert "3 x 3 = 9 are expected" in msg
    with pytest.raises(ConsistencyError):
        benchmark_eval.evaluate("coco-keypoints", gt=_gt(), pred=pred, params=SIGMAS3)


def test_not_triplets_flags_and_non_finite_coordinates() -> None:
    gt = _gt()
    gt["annotations"][0]["keypoints"] = [1.0, 2.0]
    assert any("annotations[0]" in p and "triplets" in p for p in _problems(gt, _pred()))
    gt = _gt()
    gt["annotations"][1]["keypoints"][2] = 3
    assert any("annotations[1]" in p and "must be 0, 1 or 2, got 3.0" in p
               for p in _problems(gt, _pred()))
    gt = _gt()
    gt["annotations"][1]["keypoints"][3] = float("nan")
    msg, _ = _problems(gt, _pred())
    assert "annotations[1]" in msg
    assert "non-finite coordinate at keypoint 1" in msg
    pred = _pred()
    pred[0]["keypoints"][1] = float("inf")
    with pytest.raises(FormatError, match=r"results\[0\].*non-finite coordinate at keypoint 0"):
        benchmark_eval.evaluate("coco-keypoints", gt=_gt(), pred=pred, params=SIGMAS3)


def test_missing_fields() -> None:
    gt = _gt()
    del gt["annotations"][0]["num_keypoints"]
    del gt["annotations"][1]["keypoints"]
    problems = _problems(gt, _pred())
    assert any("annotations[0]" in p and "'num_keypoints'" in p for p in problems)
    assert any("annotations[1]" in p and "'keypoints'" in p for p in problems)
    pred = _pred()
    del pred[0]["keypoints"]
    assert any("results[0]" in p and "'keypoints'" in p for p in _problems(_gt(), pred))


def test_detection_flags_are_not_read() -> None:
    pred = _pred()
    pred[0]["keypoints"][2::3] = [7.5, -3.0, 0.0]  # keypoint scores, not flags
    assert _problems(_gt(), pred) == []


def test_sigma_count_must_match_the_category() -> None:
    with pytest.raises(ConfigError, match=r"17 values for category 1 \('person'\), which has 3"):
        benchmark_eval.evaluate("coco-keypoints", gt=_gt(), pred=_pred())


def test_undeclared_keypoint_count_comes_from_the_annotations() -> None:
    gt = _gt()
    del gt["categories"][0]["keypoints"]
    kgt, _ = load_keypoints_ground_truth(copy.deepcopy(gt))
    assert kgt.category_counts.tolist() == [3]
    gt["annotations"][1]["keypoints"] = [1.0, 1.0, 1]
    assert any("has 3 keypoints" in p for p in _problems(gt, _pred()))


def test_num_keypoints_mismatch_is_a_notice_and_ignores_the_gt() -> None:
    gt = _gt()
    gt["annotations"][0]["num_keypoints"] = 0  # labelled keypoints, but pycocotools ignores it
    r = benchmark_eval.evaluate("coco-keypoints", gt=gt, pred=_pred(), params=SIGMAS3)
    assert "num-keypoints-mismatch" in [w.code for w in r.warnings]
    assert r.counts["gt_without_keypoints"] == 1


def test_segmentation_without_bbox_in_record_zero_is_refused() -> None:
    pred = _pred()
    pred[0]["segmentation"] = {"size": [50, 50], "counts": "PPYo1"}
    assert any("'segmentation' but no 'bbox'" in p for p in _problems(_gt(), pred))
