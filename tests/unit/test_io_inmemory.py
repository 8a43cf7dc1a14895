"""What pycocotools users hold in memory is accepted by the main API with the same numbers:
``COCO`` objects, an ``N x 7`` array, bytes ``counts``, numpy / tuple ``bbox``, numpy scalar
scores, dense bool masks."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from synth_coco import Case, make_case

import benchmark_eval


def _coco(gt: dict) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO()
        c.dataset = copy.deepcopy(gt)
        c.createIndex()
    return c


@pytest.fixture(scope="module")
def case() -> Case:
    return make_case(6)


def test_coco_objects_as_gt_and_pred(case: Case) -> None:
    ref = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"))
    gt = _coco(case.gt)
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(copy.deepcopy(case.results("bbox")))
    got = benchmark_eval.evaluate("coco-bbox", gt=gt, pred=dt)
    np.testing.assert_array_equal(got.stats, ref.stats)
    np.testing.assert_array_equal(got.precision, ref.precision)


def test_numpy_and_tuple_boxes_and_scores(case: Case) -> None:
    results = case.results("bbox")
    ref = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=results)
    odd = [{**r, "bbox": np.asarray(r["bbox"]) if i % 2 else tuple(r["bbox"]),
            "score": np.float32(r["score"]) if i % 3 else np.float64(r["score"]),
            "image_id": np.int64(r["image_id"])} for i, r in enumerate(results)]
    got = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=odd)
    exact = [{**r, "score": float(np.float32(r["score"])) if i % 3 else r["score"]}
             for i, r in enumerate(results)]
    np.testing.assert_array_equal(
        got.stats, benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=exact).stats)
    assert got.stats.shape == ref.stats.shape
    array = np.array([[r["image_id"], *r["bbox"], r["score"], r["category_id"]]
                      for r in results])
    np.testing.assert_array_equal(
        benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=array).stats, ref.stats)


def test_bytes_counts_and_dense_masks(case: Case) -> None:
    results = case.results("segm")
    ref = benchmark_eval.evaluate("coco-segm", gt=case.gt, pred=results)
    as_bytes = [{**r, "segmentation": {**r["segmentation"],
                                       "counts": r["segmentation"]["counts"].encode()}}
                for r in results]
    got = benchmark_eval.evaluate("coco-segm", gt=case.gt, pred=as_bytes)
    np.testing.assert_array_equal(got.stats, ref.stats)
    dense = [{**r, "segmentation": mask_utils.decode(r["segmentation"]).astype(bool)}
             for r in results]
    got = benchmark_eval.evaluate("coco-segm", gt=case.gt, pred=dense)
    np.testing.assert_array_equal(got.stats, ref.stats)
    assert isinstance(results[0]["segmentation"]["counts"], str)  # the caller's untouched
