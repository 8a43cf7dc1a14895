"""The Python API: ``benchmark_eval.evaluate`` and ``benchmark_eval.validate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synth_coco import make_case

import benchmark_eval
from benchmark_eval import validate
from benchmark_eval.errors import ConfigError, InputError


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_public_names() -> None:
    assert set(benchmark_eval.__all__) >= {"PROTOCOLS", "evaluate", "CocoParams", "CocoState",
                                           "CocoResult", "InputError", "BenchmarkEvalError"}
    assert {"coco-bbox", "coco-segm", "lvis-bbox", "lvis-segm"} <= set(benchmark_eval.PROTOCOLS)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_files_and_loaded_objects_give_the_same_result(tmp_path: Path, iou_type: str,
                                                       workers: int) -> None:
    case = make_case(6)
    gt = _write(tmp_path / "gt.json", case.gt)
    pred = _write(tmp_path / "pred.json", case.results(iou_type))
    from_files = benchmark_eval.evaluate(f"coco-{iou_type}", gt=gt, pred=str(pred),
                                         workers=workers)
    in_memory = benchmark_eval.evaluate(f"coco-{iou_type}", gt=case.gt,
                                        pred=case.results(iou_type))
    assert np.array_equal(from_files.precision, in_memory.precision)
    assert np.array_equal(from_files.stats, in_memory.stats)
    assert from_files.per_class == in_memory.per_class


def test_params_as_dict() -> None:
    case = make_case(6)
    as_dict = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=case.results("bbox"),
                                      params={"max_detections": [1, 10, 50]})
    as_model = benchmark_eval.evaluate(
        "coco-bbox", gt=case.gt, pred=case.results("bbox"),
        params=benchmark_eval.CocoParams(max_detections=(1, 10, 50)))
    assert as_dict.params == as_model.params
    assert np.array_equal(as_dict.stats, as_model.stats)


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_results_file_is_named_in_the_error(tmp_path: Path, workers: int) -> None:
    case = make_case(6)
    gt = _write(tmp_path / "gt.json", case.gt)
    results = case.results("bbox")
    results[2]["category_id"] = 404
    pred = _write(tmp_path / "pred.json", results)
    with pytest.raises(InputError) as info:  # dropped by pycocotools: refused when strict
        benchmark_eval.evaluate("coco-bbox", gt=gt, pred=pred, workers=workers, strict=True)
    problem = info.value.problems[0]
    assert (problem.file, problem.record) == (str(pred), 2)


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_ground_truth_file_is_named_in_the_error(tmp_path: Path, workers: int) -> None:
    case = make_case(6)
    data = case.gt
    data["annotations"][4]["id"] = data["annotations"][0]["id"]
    gt = _write(tmp_path / "gt.json", data)
    pred = _write(tmp_path / "pred.json", case.results("segm"))
    with pytest.raises(InputError) as info:  # resolved as pycocotools does unless strict
        benchmark_eval.evaluate("coco-segm", gt=gt, pred=pred, workers=workers, strict=True)
    problem = info.value.problems[0]
    assert (problem.file, problem.record, problem.field) == (str(gt), 0, "annotations")


def test_validate_clean_and_unknown_protocol(tmp_path: Path) -> None:
    case = make_case(6)
    assert validate("coco-segm", gt=case.gt, pred=case.results("segm")) == []
    with pytest.raises(ConfigError, match="unknown protocol"):
        validate("no-such-protocol", gt=case.gt, pred=case.results("segm"))


def test_validate_with_bad_ground_truth_names_the_unchecked_predictions(tmp_path: Path) -> None:
    case = make_case(6)
    data = case.gt
    data["categories"][1]["id"] = data["categories"][0]["id"]
    gt = _write(tmp_path / "gt.json", data)
    pred = _write(tmp_path / "pred.json", case.results("bbox"))
    problems = validate("coco-bbox", gt=gt, pred=pred)
    duplicate = [p for p in problems if p.field == "categories"]
    assert [(p.file, p.record) for p in duplicate] == [(str(gt), 0)]
    assert "[duplicate-category-id]" in duplicate[0].message
    # annotations and detections of the renumbered category now point nowhere: listed too
    codes = [(p.file, p.message.split("]")[0] + "]") for p in problems]
    assert (str(gt), "[gt-category-unknown]") in codes
    assert (str(pred), "[result-category-unknown]") in codes
    data["annotations"][0]["image_id"] = -5
    gt = _write(tmp_path / "gt.json", data)
    problems = validate("coco-bbox", gt=gt, pred=pred)
    assert problems[-1].file == str(pred)
    assert "not checked" in problems[-1].message
