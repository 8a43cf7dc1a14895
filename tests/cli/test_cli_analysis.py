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


def test_cityscapes_semantic_most_confused_from_its_matrix(tmp_path: Path) -> None:
    from benchmark_eval import evaluate
    from benchmark_eval.analysis import most_confused
    from benchmark_eval.schema.cityscapes import LABEL_BY_NAME

    gt = REPO / "data_samples" / "cityscapes" / "gtFine"
    pred = REPO / "data_samples" / "cityscapes" / "results" / "semantic"
    out = tmp_path / "r.json"
    code, _, err = run(["evaluate", "cityscapes-semantic", "--gt", gt, "--pred", pred,
                        "--analysis", "--out", out, "--workers", 1])
    assert code == 0, err
    pairs = _json(out)["analysis"]["most_confused"]
    # the same cells read straight from the 34 x 34 label-id matrix, evaluated labels only
    result = evaluate("cityscapes-semantic", gt=gt, pred=pred)
    m = result.confusion  # type: ignore[attr-defined]
    for p in pairs:
        assert p["count"] == m[LABEL_BY_NAME[p["gt"]].id, LABEL_BY_NAME[p["pred"]].id]
    assert {p["gt"] for p in pairs} <= set(result.per_class)  # type: ignore[attr-defined]
    assert [p["count"] for p in pairs] == sorted((p["count"] for p in pairs), reverse=True)
    assert most_confused(m, [""] * 34, classes=[]) == []


def test_boundary_and_panoptic_get_what_applies(tmp_path: Path) -> None:
    coco = REPO / "data_samples" / "coco"
    out = tmp_path / "b.json"
    code, _, err = run(["evaluate", "coco-boundary", "--gt", coco / "instances.json",
                        "--pred", coco / "results_segm.json", "--analysis", "--out", out,
                        "--workers", 1])
    assert code == 0, err
    assert set(_json(out)["analysis"]) == {"calibration", "diagnostics", "pr_curves"}
    pan = REPO / "data_samples" / "panoptic"
    page, folder = tmp_path / "p.html", tmp_path / "p"
    code, _, err = run(["evaluate", "coco-panoptic", "--gt", pan / "gt.json", "--pred",
                        pan / "pred.json", "--report", page, "--plots", folder,
                        "--workers", 1])
    assert code == 0, err
    assert {p.name for p in folder.iterdir()} == {"per_class.png", "per_class.svg"}
    assert "<h2>Per class" in page.read_text()


def test_analyses_reuse_the_loaded_data(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    import benchmark_eval.workflows.coco as wc

    calls = {"gt": 0, "pred": 0}

    def counted(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            calls[name] += 1
            return fn(*a, **k)
        return wrapper

    monkeypatch.setattr(wc, "load_coco_ground_truth", counted("gt", wc.load_coco_ground_truth))
    monkeypatch.setattr(wc, "read_results_source", counted("pred", wc.read_results_source))
    code, _, err = run(["evaluate", "coco-bbox", "--gt", GT, "--pred", PRED["bbox"], "--tide",
                        "--analysis", "--out", tmp_path / "r.json", "--workers", 1])
    assert code == 0, err
    assert calls == {"gt": 1, "pred": 1}
