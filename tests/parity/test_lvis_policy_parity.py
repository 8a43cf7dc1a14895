"""The policy of issue 9 for ``lvis-*``, against live lvis-api 0.5.3: inputs lvis-api scores
while silently dropping or reinterpreting part of them get its numbers, a notice, and an error
with ``strict=True``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from lvis_generators import make_lvis_case
from official_lvis import run_lvis_api
from test_lvis_parity import _compare

import benchmark_eval

Gt = dict[str, Any]
Results = list[dict[str, Any]]


def _unknown_result_category(gt: Gt, res: Results) -> None:
    for r in res[1::7]:
        r["category_id"] = 4242


def _scores_outside(gt: Gt, res: Results) -> None:
    for r in res:
        r["score"] = r["score"] * 8.0 - 3.0


def _duplicate_annotation_id(gt: Gt, res: Results) -> None:
    anns = gt["annotations"]
    anns[0]["id"] = anns[5]["id"]


def _negative_unknown(gt: Gt, res: Results) -> None:
    gt["images"][0]["neg_category_ids"] = [*gt["images"][0]["neg_category_ids"], 4242]


def _negative_annotated(gt: Gt, res: Results) -> None:
    for image in gt["images"]:  # list, as negative, a category annotated in the image
        cats = [a["category_id"] for a in gt["annotations"] if a["image_id"] == image["id"]]
        if cats:
            image["neg_category_ids"] = [*image["neg_category_ids"], cats[0]]
            return


CASES: dict[str, tuple[Callable[[Gt, Results], None], str]] = {
    "neg_category_ids naming an unknown category": (_negative_unknown, "neg-category-unknown"),
    "neg_category_ids naming an annotated category": (_negative_annotated,
                                                      "neg-category-annotated"),
    "result category not in the GT": (_unknown_result_category, "result-category-unknown"),
    "scores outside [0, 1]": (_scores_outside, "score-outside-unit"),
    "duplicate annotation ids": (_duplicate_annotation_id, "duplicate-annotation-id"),
}


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("name", list(CASES))
def test_warned_input_matches_lvis_api(name: str, iou_type: str) -> None:
    gt, res = copy.deepcopy(make_lvis_case("mixed", iou_type, 0))
    transform, code = CASES[name]
    transform(gt, res)
    official = run_lvis_api(gt, res, iou_type)
    ours = benchmark_eval.evaluate(f"lvis-{iou_type}", gt=copy.deepcopy(gt),
                                   pred=copy.deepcopy(res))
    _compare(ours, official)
    assert code in [w.code for w in ours.warnings]
    with pytest.raises(benchmark_eval.InputError, match=code):
        benchmark_eval.evaluate(f"lvis-{iou_type}", gt=gt, pred=res, strict=True)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_empty_results_are_scored(iou_type: str) -> None:
    gt, _ = make_lvis_case("mixed", iou_type, 0)
    ours = benchmark_eval.evaluate(f"lvis-{iou_type}", gt=copy.deepcopy(gt), pred=[])
    assert ours.metrics["AP"] == 0.0
    assert "empty-results" in [w.code for w in ours.warnings]
