"""``benchmark-eval evaluate | validate coco-boundary``, run in-process, against faster-coco-eval
1.8.0 ``iouType="boundary"`` run live (boundary-iou-api's Boundary AP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import run_cli as run
from official_coco import run_faster_coco_eval
from synth_coco import Case, make_case

REPO = Path(__file__).resolve().parents[2]
METRIC_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl",
               "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def faster_boundary_stats(gt: dict[str, Any], results: list[Any], ratio: float) -> np.ndarray:
    return run_faster_coco_eval(gt, results, "boundary", boundary_dilation_ratio=ratio).stats


@pytest.fixture(scope="module")
def case() -> Case:
    return make_case(5)


@pytest.fixture
def files(tmp_path: Path, case: Case) -> dict[str, Path]:
    paths = {"gt": tmp_path / "gt.json", "segm": tmp_path / "segm.json",
             "bbox": tmp_path / "bbox.json"}
    paths["gt"].write_text(json.dumps(case.gt))
    paths["segm"].write_text(json.dumps(case.segm))
    paths["bbox"].write_text(json.dumps(case.bbox))
    return paths


@pytest.mark.parametrize("config", [None, "repository", "ratio 0.05"])
def test_evaluate_matches_faster_coco_eval(config: str | None, case: Case,
                                           files: dict[str, Path], tmp_path: Path) -> None:
    argv: list[Any] = ["evaluate", "coco-boundary", "--gt", files["gt"], "--pred",
                       files["segm"], "--out", tmp_path / "report.json", "--workers", "1"]
    ratio = 0.05 if config == "ratio 0.05" else 0.02
    if config == "repository":
        argv += ["--config", REPO / "benchmark_eval" / "presets" / "coco-boundary.json"]
    elif config is not None:
        (tmp_path / "params.json").write_text(json.dumps({"boundary_dilation_ratio": 0.05}))
        argv += ["--config", tmp_path / "params.json"]
    code, out, err = run(argv)
    assert code == 0, err
    expected = faster_boundary_stats(case.gt, case.segm, ratio)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["protocol"] == "coco-boundary"
    assert report["params"]["boundary_dilation_ratio"] == ratio
    for key, value in zip(METRIC_KEYS, expected, strict=True):
        got = report["metrics"][key]
        assert (got is None) == (value == -1), key
        assert got is None or abs(got - value) <= 1e-12, key
    lines = out.splitlines()
    assert lines[0] == (" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]"
                        f" = {expected[0]:0.3f}")
    assert [line.rsplit("= ", 1)[1] for line in lines[:12]] == [
        f"{v:0.3f}" for v in expected]


def test_boundary_numbers_differ_from_segm(files: dict[str, Path]) -> None:
    common = ["--gt", files["gt"], "--pred", files["segm"], "--no-per-class", "--workers", "1"]
    code_b, boundary_out, _ = run(["evaluate", "coco-boundary", *common])
    code_s, segm_out, _ = run(["evaluate", "coco-segm", *common])
    assert code_b == code_s == 0
    assert boundary_out != segm_out
    assert len(boundary_out.splitlines()) == 12


def test_validate_and_input_errors(files: dict[str, Path], case: Case, tmp_path: Path) -> None:
    code, out, _ = run(["validate", "coco-boundary", "--gt", files["gt"], "--pred",
                        files["segm"]])
    assert code == 0
    assert "valid coco-boundary submission" in out
    # box-only results: loadRes makes each box a rectangle mask (a warning); strict refuses
    code, _, err = run(["evaluate", "coco-boundary", "--gt", files["gt"], "--pred",
                        files["bbox"], "--workers", "1"])
    assert code == 0
    assert "[box-results-for-segm]" in err
    code, _, err = run(["evaluate", "coco-boundary", "--gt", files["gt"], "--pred",
                        files["bbox"], "--workers", "1", "--strict"])
    assert code == 1
    assert "bbox.json" in err
    assert "use coco-bbox" in err
    bad = tmp_path / "bad_params.json"
    bad.write_text(json.dumps({"boundary_dilation_ratio": -0.5}))
    code, _, err = run(["evaluate", "coco-boundary", "--gt", files["gt"], "--pred",
                        files["segm"], "--config", bad])
    assert code == 2
    assert "boundary_dilation_ratio" in err
    # the ratio is not a coco-segm parameter
    code, _, err = run(["evaluate", "coco-segm", "--gt", files["gt"], "--pred", files["segm"],
                        "--config", REPO / "benchmark_eval" / "presets" / "coco-boundary.json"])
    assert code == 2
    assert "boundary_dilation_ratio" in err


def test_help_lists_coco_boundary() -> None:
    code, out, _ = run(["evaluate", "--help"])
    assert code == 0
    assert "coco-boundary" in out
    code, out, _ = run(["evaluate", "coco-boundary", "--help"])
    assert code == 0
    assert "boundary_dilation_ratio" in out
