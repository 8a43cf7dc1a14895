"""``report.coco``: the JSON report and the text rendering, against live pycocotools."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from official_coco import run_pycocotools
from synth_coco import make_case

import benchmark_eval
from benchmark_eval import AreaRange, CocoParams
from benchmark_eval.io import write_json
from benchmark_eval.report.coco import (
    PER_CLASS_KEYS,
    coco_per_class_table,
    coco_summary_lines,
)

# The documented metric keys, in pycocotools' stats order.
METRIC_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl",
               "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
REPORT_KEYS = {"protocol", "metrics", "per_class", "warnings", "params", "counts", "versions"}

PARAM_SETS = {
    "default": CocoParams(),
    "maxDets 1 10 50": CocoParams(max_detections=(1, 10, 50)),
    "maxDets 1 5 20 100": CocoParams(max_detections=(1, 5, 20, 100)),
    "two thresholds": CocoParams(iou_thresholds=(0.5, 0.75)),
    "no 0.75 threshold": CocoParams(iou_thresholds=(0.3, 0.5, 0.9)),
    "areas without large": CocoParams(area_ranges=(
        AreaRange(label="all", lo=0, hi=1e10), AreaRange(label="small", lo=0, hi=400),
        AreaRange(label="medium", lo=400, hi=1e10))),
}


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("name", list(PARAM_SETS))
def test_summary_lines_are_what_pycocotools_prints(iou_type: str, name: str) -> None:
    params = PARAM_SETS[name]
    case = make_case(5)
    live = run_pycocotools(case.gt, case.results(iou_type), iou_type, params)
    result = benchmark_eval.evaluate(f"coco-{iou_type}", gt=case.gt,
                                     pred=case.results(iou_type), params=params)
    assert len(live.lines) == 12
    assert coco_summary_lines(result) == live.lines
    assert str(result) == "\n".join(live.lines)


def test_report_keys_and_nulls(tmp_path: Path) -> None:
    case = make_case(1)  # has no GT in the 'medium' and 'large' ranges, category 9 no GT
    live = run_pycocotools(case.gt, case.results("segm"), "segm")
    assert live.stats[5] == -1  # precondition: pycocotools has undefined entries here
    result = benchmark_eval.evaluate("coco-segm", gt=case.gt, pred=case.results("segm"))
    report = result.to_report()
    assert set(report) == REPORT_KEYS
    assert report["protocol"] == "coco-segm"
    assert list(report["metrics"]) == list(METRIC_KEYS)
    for key, official in zip(METRIC_KEYS, live.stats, strict=True):
        value = report["metrics"][key]
        if official == -1:
            assert value is None, key
        else:
            assert value == official, key
    assert set(report["per_class"]) == {"1", "3", "7", "9"}
    assert report["per_class"]["9"] == dict.fromkeys(PER_CLASS_KEYS)  # no GT: all null
    assert report["params"]["max_detections"] == [1, 10, 100]
    assert report["counts"]["images"] == len(case.gt["images"])
    assert report["counts"]["detections"] == len(case.segm)
    assert set(report["versions"]) >= {"benchmark-eval", "numpy", "pycocotools"}
    path = tmp_path / "report.json"
    write_json(path, report)
    assert orjson.loads(path.read_bytes()) == orjson.loads(orjson.dumps(report))


def test_per_class_values_come_from_the_precision_array() -> None:
    case = make_case(4)
    live = run_pycocotools(case.gt, case.results("bbox"), "bbox")
    result = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"))
    assert result.category_ids == live.category_ids
    for k, cid in enumerate(live.category_ids):
        p = live.precision[:, :, k, 0, -1]
        defined = p[p > -1]
        expected = float(np.mean(defined)) if defined.size else None
        assert result.per_class[cid]["AP"] == expected
        r = live.recall[:, k, 0, -1]
        expected_ar = float(np.mean(r[r > -1])) if (r > -1).any() else None
        assert result.per_class[cid]["AR100"] == expected_ar


def test_per_class_values_at_missing_thresholds_are_null() -> None:
    case = make_case(4)
    params = CocoParams(iou_thresholds=(0.3, 0.5, 0.9))
    result = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"),
                                     params=params)
    live = run_pycocotools(case.gt, case.results("bbox"), "bbox", params)
    for k, cid in enumerate(result.category_ids):
        assert result.per_class[cid]["AP75"] is None  # 0.75 is not a threshold
        p50 = live.precision[1, :, k, 0, -1]
        assert result.per_class[cid]["AP50"] == (float(np.mean(p50)) if (p50 > -1).any()
                                                 else None)
    assert result.metrics["AP75"] is None


def test_score_ties_are_reported_as_a_warning() -> None:
    ties = make_case(2, ties=True)
    result = benchmark_eval.evaluate("coco-bbox", gt=ties.gt, pred=ties.results("bbox"))
    assert "score-ties" in [w["code"] for w in result.to_report()["warnings"]]
    distinct = make_case(2, ties=False)
    result = benchmark_eval.evaluate("coco-bbox", gt=distinct.gt, pred=distinct.results("bbox"))
    assert "score-ties" not in [w.code for w in result.warnings]


def test_per_class_table() -> None:
    case = make_case(1)
    result = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"))
    lines = coco_per_class_table(result)
    assert len(lines) == 2 + len(result.category_ids)
    assert lines[0].split() == ["id", "category", *PER_CLASS_KEYS]
    assert set(lines[1]) == {"-"}
    for cid, line in zip(result.category_ids, lines[2:], strict=True):
        cells = line.split()
        assert cells[0] == str(cid)
        assert cells[1] == f"cat{cid}"
        for key, cell in zip(PER_CLASS_KEYS, cells[2:], strict=True):
            value = result.per_class[cid][key]
            assert cell == ("-" if value is None else f"{100 * value:.1f}")
