"""``evaluate --tide / --analysis / --plots / --report`` in-process: the JSON keys equal the
analysis functions' own output, the plots are real PNG / SVG files, and the analyses use the
data the evaluation loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import run_cli as run

from benchmark_eval.analysis import tide
from benchmark_eval.io.png import write_png

REPO = Path(__file__).resolve().parents[2]
COCO = REPO / "tests" / "data" / "coco_val2014_100"
GT = COCO / "instances_val2014_100.json"
PRED = {"bbox": COCO / "instances_val2014_fakebbox100_results.json",
        "segm": COCO / "instances_val2014_fakesegm100_results.json"}
LVIS = REPO / "data_samples" / "lvis"
PLOTS = {"pr_curves", "tide", "confusion", "per_class", "reliability"}


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_tide_key_equals_tide(iou_type: str, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, text, err = run(["evaluate", f"coco-{iou_type}", "--gt", GT, "--pred",
                           PRED[iou_type], "--tide", "--out", out, "--workers", 1])
    assert code == 0, err
    report = _json(out)
    assert report["tide"] == tide(GT, PRED[iou_type], iou_type=iou_type).to_report()
    assert "analysis" not in report
    assert "Main Errors" in text


def test_lvis_tide_and_analysis(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    gt, pred = LVIS / "annotations.json", LVIS / "results_segm.json"
    code, _, err = run(["evaluate", "lvis-segm", "--gt", gt, "--pred", pred, "--tide",
                        "--analysis", "--out", out, "--workers", 1])
    assert code == 0, err
    report = _json(out)
    assert report["tide"] == tide(gt, pred, iou_type="segm", gt_format="lvis").to_report()
    assert set(report["analysis"]) == {"confusion", "calibration", "diagnostics",
                                       "pr_curves"}


def test_analysis_keys_and_shapes(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _, err = run(["evaluate", "coco-bbox", "--gt", GT, "--pred", PRED["bbox"],
                        "--analysis", "--out", out, "--workers", 1])
    assert code == 0, err
    a = _json(out)["analysis"]
    k = len(a["confusion"]["category_ids"])
    assert np.asarray(a["confusion"]["matrix"]).shape == (k + 1, k + 1)
    assert 0 <= a["calibration"]["ece"] <= a["calibration"]["mce"] <= 1
    assert sum(a["calibration"]["count"]) > 0
    worst = a["diagnostics"]["worst"]
    errors = [w["fp"] + w["fn"] for w in worst]
    assert errors == sorted(errors, reverse=True)
    assert len(a["pr_curves"]["1"]["recall"]) == 101


def test_plots_are_png_and_svg(tmp_path: Path) -> None:
    folder = tmp_path / "plots"
    code, _, err = run(["evaluate", "coco-bbox", "--gt", GT, "--pred", PRED["bbox"],
                        "--tide", "--plots", folder, "--workers", 1])
    assert code == 0, err
    for name in PLOTS:
        png, svg = folder / f"{name}.png", folder / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 5_000, name
        assert b"<svg" in svg.read_bytes()[:2_000], name


def test_semantic_plots_report_and_most_confused(tmp_path: Path) -> None:
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    # GT [[0, 0, 1], [2, 2, 255]], pred [[0, 1, 1], [2, 0, 0]]: 0 -> 1 once, 2 -> 0 once
    write_png(gt / "a.png", np.array([[0, 0, 1], [2, 2, 255]], np.uint8))
    write_png(pred / "a.png", np.array([[0, 1, 1], [2, 0, 0]], np.uint8))
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    code, _, err = run(["evaluate", "semantic", "--gt", gt, "--pred", pred, "--num-classes",
                        3, "--analysis", "--out", out, "--plots", tmp_path / "p",
                        "--report", page, "--workers", 1])
    assert code == 0, err
    assert _json(out)["analysis"]["most_confused"] == [
        {"gt": "0", "pred": "1", "count": 1, "fraction": 0.5},
        {"gt": "2", "pred": "0", "count": 1, "fraction": 0.5}]
    assert {p.stem for p in (tmp_path / "p").iterdir()} == {"confusion", "per_class"}
    assert "<svg" in page.read_text()


def test_tide_is_only_offered_where_it_applies() -> None:
    code, _, err = run(["evaluate", "semantic", "--gt", "a", "--pred", "b", "--tide"])
    assert code == 2
    assert "--tide" in err
