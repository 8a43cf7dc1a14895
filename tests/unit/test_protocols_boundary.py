"""The ``"boundary"`` similarity of ``protocols.coco_match`` and the ``coco-boundary`` params.

One 20x20 image (diagonal 28.28, so d = round(0.02 * 28.28) = round(0.57) = 1), one
detection and two ground truths of the same category with the same 10x10 square mask:

* GT square: rows 5..14, cols 5..14 (100 px); detection: rows 5..14, cols 6..15 (100 px).
* Mask IoU: intersection 10 x 9 = 90, union 110 -> 90/110 = 0.818.
* Boundary bands at d = 1 are the 1-px frames (100 - 8x8 = 36 px each). The frames share
  the top and bottom rows over cols 6..14 (2 x 9 = 18 px); their left / right sides
  (GT cols 5 and 14, detection cols 6 and 15, rows 6..13) never coincide. Boundary IoU =
  18 / (36 + 36 - 18) = 18/54 = 1/3.
* Score: non-crowd GT min(90/110, 18/54) = 18/54; crowd GT: the mask IoU with the
  detection's area as union, 90/100 = 0.9.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pydantic import ValidationError
from synth_coco import make_case

import benchmark_eval
from benchmark_eval import CocoParams
from benchmark_eval.errors import ConfigError
from benchmark_eval.io import load_coco_ground_truth, load_coco_results
from benchmark_eval.protocols import coco_match
from benchmark_eval.protocols.coco_params import BoundaryParams
from benchmark_eval.protocols.coco_state import CocoState

EPS = np.finfo(np.float64).eps


def _rle(rows: slice, cols: slice) -> dict[str, Any]:
    m = np.zeros((20, 20), dtype=np.uint8)
    m[rows, cols] = 1
    rle = mask_utils.encode(np.asfortranarray(m))
    return {"size": [20, 20], "counts": rle["counts"].decode("ascii")}


GT_MASK = _rle(slice(5, 15), slice(5, 15))
DET_MASK = _rle(slice(5, 15), slice(6, 16))


def _gt(crowd: tuple[int, ...]) -> dict[str, Any]:
    return {
        "images": [{"id": 1, "height": 20, "width": 20}],
        "categories": [{"id": 1, "name": "square"}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "category_id": 1, "segmentation": GT_MASK,
             "area": 100.0, "bbox": [5.0, 5.0, 10.0, 10.0], "iscrowd": c}
            for i, c in enumerate(crowd)
        ],
    }


PRED = [{"image_id": 1, "category_id": 1, "segmentation": DET_MASK, "score": 0.9}]


def _pairs(crowd: tuple[int, ...], t_min: float,
           params: CocoParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    dataset, _ = load_coco_ground_truth(_gt(crowd), boxes=False, masks=True)
    preds, _ = load_coco_results(copy.deepcopy(PRED), dataset, boxes=False, masks=True)
    p = coco_match.prepare(dataset, preds, params or BoundaryParams(), "boundary")
    _, pg, score = coco_match._boundary_pairs(p, np.arange(len(p.det_score)),
                                              np.arange(len(p.gt_ids)), t_min)
    return p.gt_ids[pg], score


def test_score_is_min_of_mask_and_boundary_iou_for_non_crowd() -> None:
    gt_ids, score = _pairs((0, 1), 0.0)
    assert gt_ids.tolist() == [1, 2]
    assert score.tolist() == [18 / 54, 90 / 100]  # non-crowd: boundary IoU; crowd: mask IoU


def test_candidates_are_filtered_on_the_combined_score() -> None:
    # the non-crowd pair has mask IoU 0.818 >= 0.5 but score 1/3: not a candidate
    gt_ids, score = _pairs((0, 1), 0.5)
    assert gt_ids.tolist() == [2]
    assert score.tolist() == [0.9]


def test_dilation_ratio_is_used() -> None:
    # ratio 0.1: d = round(2.83) = 3, 3-px bands of 100 - 4x4 = 84 px. Their intersection
    # is the squares' overlap (rows 5..14, cols 6..14, 90 px) minus the union of the two
    # eroded cores (GT cols 8..11, detection cols 9..12, rows 8..11: 5 x 4 = 20 px) = 70;
    # union 84 + 84 - 70 = 98; score min(90/110, 70/98) = 70/98 = 5/7
    _, score = _pairs((0,), 0.0, BoundaryParams(boundary_dilation_ratio=0.1))
    assert score.tolist() == [70 / 98]


def test_boundary_ap_against_segm_ap() -> None:
    """Mask IoU 0.818 reaches 7 of the 10 thresholds (0.50 .. 0.80), so segm AP is
    7/10 of pycocotools' precision 1/(1 + eps); the boundary score 1/3 reaches none (AP 0);
    with ratio 0.1 the score 5/7 = 0.714 reaches 5 thresholds (0.50 .. 0.70)."""
    def ap(protocol: str, params: CocoParams | None = None) -> float:
        r = benchmark_eval.evaluate(protocol, gt=_gt((0,)), pred=copy.deepcopy(PRED),
                                    params=params, workers=1)
        return float(r.stats[0])

    assert ap("coco-segm") == pytest.approx(0.7 / (1 + EPS), abs=1e-15)
    assert ap("coco-boundary") == 0.0
    wide = BoundaryParams(boundary_dilation_ratio=0.1)
    assert ap("coco-boundary", wide) == pytest.approx(0.5 / (1 + EPS), abs=1e-15)


def test_exact_detection_scores_one() -> None:
    pred = [dict(PRED[0], segmentation=GT_MASK)]
    r = benchmark_eval.evaluate("coco-boundary", gt=_gt((0,)), pred=pred, workers=1)
    assert r.stats[0] == 1 / (1 + EPS)
    assert r.protocol == "coco-boundary"
    assert r.params == BoundaryParams()


def test_params() -> None:
    assert BoundaryParams().boundary_dilation_ratio == 0.02
    assert BoundaryParams().iou_thresholds == CocoParams().iou_thresholds
    with pytest.raises(ValidationError):
        BoundaryParams(boundary_dilation_ratio=-0.01)
    with pytest.raises(ValidationError):
        BoundaryParams(boundary_dilation_ratio=float("nan"))
    with pytest.raises(ValidationError):
        CocoParams(boundary_dilation_ratio=0.02)


def test_params_given_to_the_workflows() -> None:
    # CocoParams for coco-boundary: its fields plus the default ratio
    r = benchmark_eval.evaluate("coco-boundary", gt=_gt((0,)), pred=copy.deepcopy(PRED),
                                params=CocoParams(max_detections=(1, 5, 50)), workers=1)
    assert r.params == BoundaryParams(max_detections=(1, 5, 50))
    r = benchmark_eval.evaluate("coco-boundary", gt=_gt((0,)), pred=copy.deepcopy(PRED),
                                params={"boundary_dilation_ratio": 0.1}, workers=1)
    assert r.params == BoundaryParams(boundary_dilation_ratio=0.1)
    with pytest.raises(ConfigError, match="boundary_dilation_ratio"):
        benchmark_eval.evaluate("coco-segm", gt=_gt((0,)), pred=copy.deepcopy(PRED),
                                params=BoundaryParams())
    with pytest.raises(ConfigError, match="boundary_dilation_ratio"):
        benchmark_eval.evaluate("coco-boundary", gt=_gt((0,)), pred=copy.deepcopy(PRED),
                                params={"boundary_dilation_ratio": -1})


def test_shards_merged_equal_one_run() -> None:
    """Bands are extracted per image shard: any split of the images gives the same state."""
    case = make_case(3)
    dataset, _ = load_coco_ground_truth(case.gt, boxes=False, masks=True)
    preds, _ = load_coco_results(case.results("segm"), dataset, boxes=False, masks=True)
    params = BoundaryParams()
    p = coco_match.prepare(dataset, preds, params, "boundary")
    n = len(p.image_ids)
    assert n >= 3
    whole = coco_match.evaluate_images(p, params, "boundary")
    merged = CocoState.empty(p.category_ids, len(params.area_ranges),
                             len(params.iou_thresholds), whole.fingerprint)
    for first, stop in ((n - 1, n), (0, 1), (1, n - 1)):  # out of order on purpose
        merged = merged.merge(coco_match.evaluate_images(p, params, "boundary", first, stop))
    order = np.lexsort((merged.det_rank, merged.det_image))
    expected = np.lexsort((whole.det_rank, whole.det_image))
    # per-GT records (the per-image split of gt_count) follow the shards: image order
    gt_order = np.argsort(merged.gt_image, kind="stable")
    gt_expected = np.argsort(whole.gt_image, kind="stable")
    for field in dataclasses.fields(CocoState):
        a, b = getattr(merged, field.name), getattr(whole, field.name)
        if isinstance(a, np.ndarray) and field.name.startswith("det_"):
            np.testing.assert_array_equal(a[order], b[expected], err_msg=field.name)
        elif isinstance(a, np.ndarray) and field.name in ("gt_image", "gt_category",
                                                          "gt_counted"):
            np.testing.assert_array_equal(a[gt_order], b[gt_expected], err_msg=field.name)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=field.name)
        else:
            assert a == b, field.name
    # and the boundary score really changed some outcome compared with mask IoU
    segm = coco_match.evaluate_images(coco_match.prepare(dataset, preds, CocoParams(), "segm"),
                                      CocoParams(), "segm")
    assert not np.array_equal(segm.det_outcome, whole.det_outcome)
