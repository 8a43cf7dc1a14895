"""The policy of issue 9, against live pycocotools 2.0.11: every input that pycocotools scores
while silently dropping or reinterpreting part of it gets pycocotools' number (stats and the
whole precision / recall / scores arrays), a notice naming the first record, a problem in
``validate``, and an error with ``strict=True``.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from coco_generators import make_case
from official_coco import OfficialResult, ParamSpec, run_pycocotools
from pycocotools import mask as mask_utils
from test_coco_parity import parity_problems

import benchmark_eval
from benchmark_eval import CocoParams

Gt = dict[str, Any]
Results = list[dict[str, Any]]
Transform = Callable[[Gt, Results], None]


def _unknown_gt_category(gt: Gt, res: Results) -> None:
    for ann in gt["annotations"][3::4]:
        ann["category_id"] = 999


def _scores_outside(gt: Gt, res: Results) -> None:
    for r in res:
        r["score"] = r["score"] * 6.0 - 2.5  # logits: only the order matters


def _no_image_sizes(gt: Gt, res: Results) -> None:
    for img in gt["images"]:
        del img["height"], img["width"]


def _duplicate_annotation_id(gt: Gt, res: Results) -> None:
    anns = gt["annotations"]
    anns[1]["id"] = anns[6]["id"]
    anns[4]["id"] = anns[9]["id"]


def _duplicate_image_id(gt: Gt, res: Results) -> None:
    gt["images"].insert(0, {**gt["images"][2], "file_name": "copy.jpg"})


def _duplicate_category_id(gt: Gt, res: Results) -> None:
    gt["categories"].insert(0, {**gt["categories"][1], "name": "renamed"})


def _polygon_results(gt: Gt, res: Results) -> None:
    """Every other result's mask as polygons (every result has a ``bbox``)."""
    for r in res:
        r.setdefault("bbox", [float(v) for v in mask_utils.toBbox(r["segmentation"])])
    for r in res[1::2]:
        x, y, w, h = (float(v) for v in mask_utils.toBbox(r["segmentation"]))
        r["segmentation"] = [[x, y, x + w, y, x + w / 2, y + h],
                             [x, y + h / 2, x + w / 3, y + h / 2, x, y + h]]


def _box_only_results(gt: Gt, res: Results) -> None:
    for r in res:
        r.setdefault("bbox", [float(v) for v in mask_utils.toBbox(r["segmentation"])])
        del r["segmentation"]


def _unknown_result_category(gt: Gt, res: Results) -> None:
    for r in res[2::5]:
        r["category_id"] = 4242


# name: (iou types, transform, notice code, field of the first record)
CASES: dict[str, tuple[tuple[str, ...], Transform, str, str]] = {
    "gt category not in categories": (("bbox", "segm"), _unknown_gt_category,
                                      "gt-category-unknown", "annotations"),
    "result category not in the GT": (("bbox", "segm"), _unknown_result_category,
                                      "result-category-unknown", "results"),
    "scores outside [0, 1]": (("bbox", "segm"), _scores_outside, "score-outside-unit",
                              "results"),
    "bbox GT without image sizes": (("bbox",), _no_image_sizes, "image-size-missing",
                                    "images"),
    "duplicate annotation ids": (("bbox", "segm"), _duplicate_annotation_id,
                                 "duplicate-annotation-id", "annotations"),
    "duplicate image ids": (("bbox", "segm"), _duplicate_image_id, "duplicate-image-id",
                            "images"),
    "duplicate category ids": (("bbox", "segm"), _duplicate_category_id,
                               "duplicate-category-id", "categories"),
    "polygon results under the bbox branch": (("segm",), _polygon_results, "result-polygons",
                                              "results"),
    "box-only results for segm": (("segm",), _box_only_results, "box-results-for-segm",
                                  "results"),
}
SCENARIOS = [pytest.param(name, t, seed, id=f"{name}-{t}-{seed}")
             for name, (types, _, _, _) in CASES.items() for t in types for seed in (0, 1)]


def _inputs(name: str, iou_type: str, seed: int) -> tuple[Gt, Results]:
    gt, res = make_case("mixed", iou_type, seed)
    gt, res = copy.deepcopy(gt), copy.deepcopy(res)
    CASES[name][1](gt, res)
    return gt, res


@pytest.mark.parametrize(("name", "iou_type", "seed"), SCENARIOS)
def test_warned_input_matches_pycocotools(name: str, iou_type: str, seed: int) -> None:
    gt, res = _inputs(name, iou_type, seed)
    off = run_pycocotools(gt, res, iou_type)
    result = benchmark_eval.evaluate(f"coco-{iou_type}", gt=copy.deepcopy(gt),
                                     pred=copy.deepcopy(res), workers=1)
    problems = parity_problems(result, off)
    assert not problems, "\n".join(problems)
    code, field = CASES[name][2], CASES[name][3]
    notice = next(w for w in result.warnings if w.code == code)
    assert notice.strict
    assert notice.field == field
    assert notice.record is not None
    assert notice.count >= 1


@pytest.mark.parametrize(("name", "iou_type", "seed"), [s for s in SCENARIOS if s.values[2] == 0])
def test_warned_input_is_refused_when_strict(name: str, iou_type: str, seed: int) -> None:
    gt, res = _inputs(name, iou_type, seed)
    code = CASES[name][2]
    with pytest.raises(benchmark_eval.InputError, match=code) as info:
        benchmark_eval.evaluate(f"coco-{iou_type}", gt=gt, pred=res, workers=1, strict=True)
    assert info.value.problems[0].record is not None
    listed = benchmark_eval.validate(f"coco-{iou_type}", gt=gt, pred=res)
    assert any(f"[{code}]" in p.message and p.record is not None for p in listed)


def _pycocotools_on_empty_results(iou_type: str, gt: Gt) -> OfficialResult:
    """pycocotools as if ``loadRes`` accepted ``[]`` (it fails on ``anns[0]``): a results
    COCO with the GT's images and categories and no annotations."""
    from official_coco import _collect
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = COCO()
        coco_dt.dataset = {"images": gt["images"], "categories": gt["categories"],
                           "annotations": []}
        coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        ev.evaluate()
        ev.accumulate()
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        ev.summarize()
    return _collect(ev, 12, summary.getvalue().splitlines())


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_empty_results_score_zero_as_pycocotools_would(iou_type: str) -> None:
    gt, _ = make_case("mixed", iou_type, 0)
    off = _pycocotools_on_empty_results(iou_type, gt)
    result = benchmark_eval.evaluate(f"coco-{iou_type}", gt=copy.deepcopy(gt), pred=[])
    problems = parity_problems(result, off)
    assert not problems, "\n".join(problems)
    assert result.metrics["AP"] == 0.0
    assert "empty-results" in [w.code for w in result.warnings]
    with pytest.raises(benchmark_eval.InputError, match="empty-results"):
        benchmark_eval.evaluate(f"coco-{iou_type}", gt=gt, pred=[], strict=True)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("spec", [ParamSpec(recall_thresholds=()), ParamSpec(area_ranges=())],
                         ids=["no recall thresholds", "no area ranges"])
def test_empty_parameter_lists_match_pycocotools(iou_type: str, spec: ParamSpec) -> None:
    gt, res = make_case("mixed", iou_type, 0)
    off = run_pycocotools(gt, res, iou_type, spec)
    params = CocoParams(**{k: v for k, v in (("recall_thresholds", spec.recall_thresholds),
                                             ("area_ranges", spec.area_ranges))
                           if v is not None})
    result = benchmark_eval.evaluate(f"coco-{iou_type}", gt=copy.deepcopy(gt),
                                     pred=copy.deepcopy(res), params=params)
    np.testing.assert_array_equal(result.stats, off.stats)
    np.testing.assert_array_equal(result.precision, off.precision)
    np.testing.assert_array_equal(result.recall, off.recall)
