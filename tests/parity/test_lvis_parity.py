"""Parity of ``lvis-bbox`` / ``lvis-segm`` with lvis-api 0.5.3, run live.

Every case is evaluated by lvis-api and by benchmark_eval; all 13 results, the full
``precision`` / ``recall`` arrays and the printed lines are compared (abs diff <= 1e-12, the
same -1 positions). Nothing expected is written down here.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import numpy as np
import pytest
from lvis_generators import LVIS_CASES, make_lvis_case
from official_lvis import LvisOfficial, run_lvis_api

import benchmark_eval
from benchmark_eval.errors import InputError

TOL = 1e-12
DATA = Path(__file__).resolve().parents[1] / "data" / "lvis_val_100" / "lvis_val_100.json"
SEEDS = (0, 1, 2)


@functools.cache
def _cached(name: str, iou_type: str, seed: int) -> tuple[dict, list]:
    return make_lvis_case(name, iou_type, seed)


def _case(name: str, iou_type: str, seed: int) -> tuple[dict, list]:
    """A fresh copy (tests may edit it) of a generated case."""
    return copy.deepcopy(_cached(name, iou_type, seed))


def _compare(result: benchmark_eval.LvisResult, official: LvisOfficial) -> None:
    assert list(result.results) == list(official.results)
    for key, value in official.results.items():
        assert abs(result.results[key] - value) <= TOL, (key, result.results[key], value)
        assert result.metrics[key] == (None if value == -1 else pytest.approx(value, abs=TOL))
    for ours, theirs in ((result.precision, official.precision),
                         (result.recall, official.recall)):
        assert ours.shape == theirs.shape
        assert np.array_equal(ours == -1, theirs == -1)
        assert np.abs(ours - theirs).max(initial=0.0) <= TOL
    assert result.render(per_class=False).splitlines() == official.printed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", LVIS_CASES)
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_lvis_matches_lvis_api(iou_type: str, name: str, seed: int) -> None:
    gt, results = _case(name, iou_type, seed)
    official = run_lvis_api(gt, results, iou_type)
    ours = benchmark_eval.evaluate(f"lvis-{iou_type}", gt=copy.deepcopy(gt),
                                   pred=copy.deepcopy(results))
    _compare(ours, official)


def test_over_cap_case_really_crosses_the_cap() -> None:
    for seed, kept in ((0, True), (1, False)):
        gt, results = _case("over_cap", "bbox", seed)
        image = gt["images"][0]["id"]
        assert sum(r["image_id"] == image for r in results) > 300
        r = benchmark_eval.evaluate("lvis-bbox", gt=copy.deepcopy(gt), pred=copy.deepcopy(results))
        assert r.counts["detections_beyond_max_dets"] > 0
        # the only GT; its true positive is the 300th detection (kept) or the 301st (cut)
        assert r.counts["gt_instances"] == 1
        assert r.metrics["AR@300"] == (1.0 if kept else 0.0)


def test_empty_frequency_group_is_undefined() -> None:
    gt, results = _case("empty_frequency_group", "bbox", 0)
    r = benchmark_eval.evaluate("lvis-bbox", gt=copy.deepcopy(gt), pred=copy.deepcopy(results))
    assert r.results["APr"] == -1
    assert r.metrics["APr"] is None


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_real_lvis_subset(iou_type: str) -> None:
    """The shared 100-image LVIS v0.5 val subset, with detections made from its GT."""
    gt = json.loads(DATA.read_text())
    rng = np.random.default_rng(7)
    cats = [c["id"] for c in gt["categories"]]
    results = []
    from pycocotools import mask as mask_utils

    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    for a in gt["annotations"]:
        for _ in range(int(rng.integers(0, 3))):
            x, y, w, h = a["bbox"]
            box = [x + rng.normal(0, 2), y + rng.normal(0, 2), w * rng.uniform(0.8, 1.2),
                   h * rng.uniform(0.8, 1.2)]
            rec = {"image_id": a["image_id"], "score": float(np.round(rng.random(), 2)),
                   "category_id": a["category_id"] if rng.random() < 0.8 else int(
                       rng.choice(cats))}
            if iou_type == "bbox":
                rec["bbox"] = [float(v) for v in box]
            else:
                hh, ww = sizes[a["image_id"]]
                rle = mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], hh, ww))
                rec["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
            results.append(rec)
    official = run_lvis_api(gt, results, iou_type)
    ours = benchmark_eval.evaluate(f"lvis-{iou_type}", gt=gt, pred=results)
    _compare(ours, official)


@pytest.mark.parametrize("field", ["neg_category_ids", "not_exhaustive_category_ids"])
def test_missing_federated_field_is_an_error(field: str) -> None:
    gt, results = _case("mixed", "bbox", 0)
    del gt["images"][1][field]
    with pytest.raises(InputError) as info:
        benchmark_eval.evaluate("lvis-bbox", gt=gt, pred=results)
    assert any(p.record == 1 and field in p.message for p in info.value.problems)


def test_missing_frequency_is_an_error() -> None:
    gt, results = _case("mixed", "bbox", 0)
    del gt["categories"][0]["frequency"]
    problems = benchmark_eval.validate("lvis-bbox", gt=gt, pred=results)
    assert any(p.field == "categories" and p.record == 0 and "frequency" in p.message
               for p in problems)
