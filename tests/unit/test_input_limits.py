"""Inputs at the edges of what the official tools survive: clear errors, never a crash.

Each case once crashed (segfault, OverflowError, bare ValueError) or mis-scored; see the
comment on each test.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from pydantic import ValidationError

import benchmark_eval
from benchmark_eval import CocoParams, LvisParams
from benchmark_eval.errors import ConfigError, InputError

SQUARE = [10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]


def _gt(segmentation: object = None, **ann: object) -> dict:
    record = {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 400.0,
              "bbox": [10.0, 10.0, 20.0, 20.0], "segmentation": segmentation or [SQUARE]}
    record.update(ann)
    return {"images": [{"id": 1, "width": 64, "height": 64}],
            "categories": [{"id": 1, "name": "a"}], "annotations": [record]}


def _box_result() -> list[dict]:
    return [{"image_id": 1, "category_id": 1, "bbox": [10.0, 10.0, 20.0, 20.0], "score": 0.9}]


def test_numpy_scalars_in_memory_are_accepted() -> None:
    # in-memory inputs built with numpy (area from a mask sum, ids from an array) score the
    # same as their JSON equivalent
    plain = benchmark_eval.evaluate("coco-bbox", gt=_gt(), pred=_box_result())
    gt = _gt(area=np.float64(400.0), id=np.int64(1))
    pred = _box_result()
    pred[0]["score"] = np.float32(0.9)
    numpy_made = benchmark_eval.evaluate("coco-bbox", gt=gt, pred=pred)
    assert np.array_equal(plain.stats, numpy_made.stats)


def test_recall_thresholds_must_ascend() -> None:
    # unsorted thresholds once gave AP 0.44 where pycocotools gives 0.0: refused instead
    with pytest.raises(ValidationError, match="strictly ascending"):
        CocoParams(recall_thresholds=(0.9, 0.1, 0.5, 0.0, 1.0))
    with pytest.raises(ConfigError, match="strictly ascending"):
        benchmark_eval.evaluate("coco-bbox", gt=_gt(), pred=_box_result(),
                                params={"recall_thresholds": [0.5, 0.1]})


def test_lvis_params_are_checked_like_coco_params() -> None:
    with pytest.raises(ValidationError, match=r"thresholds must lie in \[0, 1\]"):
        LvisParams(iou_thresholds=(0.5, 2.0))


def test_huge_polygon_coordinate_is_an_error_not_a_segfault() -> None:
    # pycocotools' rleFrPoly scales by 5 into a C int: 4e8 overflowed and crashed the process
    gt = _gt(segmentation=[[10.0, 10.0, 4e8, 10.0, 30.0, 30.0]])
    with pytest.raises(InputError) as info:
        benchmark_eval.evaluate("coco-segm", gt=gt, pred=[])
    assert any(p.record == 0 and "rasteriser would overflow" in p.message
               for p in info.value.problems)


def test_uncompressed_run_beyond_uint32_is_an_error() -> None:
    # pycocotools stores runs as uint32: a count of 1e10 raised OverflowError inside it
    gt = _gt()
    results = [{"image_id": 1, "category_id": 1, "score": 0.5,
                "segmentation": {"size": [64, 64], "counts": [10_000_000_000]}}]
    problems = benchmark_eval.validate("coco-segm", gt=gt, pred=results)
    assert any(p.record == 0 and "< 2^32" in p.message for p in problems)


def test_lvis_string_image_id_is_reported() -> None:
    # a string image id once made validate raise a bare ValueError in the federated fields
    gt = _gt()
    gt["images"][0].update(id="1", neg_category_ids=[], not_exhaustive_category_ids=[])
    gt["categories"][0]["frequency"] = "f"
    problems = benchmark_eval.validate("lvis-bbox", gt=copy.deepcopy(gt), pred=_box_result())
    assert any(p.field == "images" and "'id' must be an integer" in p.message
               for p in problems)
