"""``lvis-bbox`` / ``lvis-segm`` on the command line, run in-process
(``benchmark_eval.cli.main(argv, stdout=, stderr=)``), checked live against lvis-api 0.5.3.

The inputs are the tiny LVIS sample in ``data_samples/lvis`` (made by
``data_samples/make_lvis_samples.py``, re-made here byte for byte). Exit codes: 0 success,
1 the inputs failed checks, 2 usage or configuration error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import assert_help_lists, sample_script
from helpers import run_cli as run
from official_lvis import run_lvis_api

from benchmark_eval.protocols.lvis import LVIS_METRIC_KEYS

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data_samples" / "lvis"
GT = SAMPLE / "annotations.json"
PRED = {"bbox": SAMPLE / "results_bbox.json", "segm": SAMPLE / "results_segm.json"}
REPORT_KEYS = {"protocol", "metrics", "per_class", "warnings", "params", "counts", "versions"}
IOU_TYPES = pytest.mark.parametrize("iou_type", ["bbox", "segm"])


make_lvis_samples = sample_script("make_lvis_samples")


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def _live(iou_type: str, gt: dict[str, Any], results: list[dict[str, Any]],
          max_dets: int = 300) -> tuple[dict[str, float], list[str]]:
    """lvis-api's results and printed lines (``max_dets``: the LVISResults cap and
    ``Params.max_dets``, which only names and prints)."""
    live = run_lvis_api(gt, results, iou_type, max_dets)
    return live.results, live.printed


# ---------------------------------------------------------------------------------- sample


def test_sample_is_what_the_script_writes(tmp_path: Path) -> None:
    written = make_lvis_samples.make(tmp_path)
    assert [p.name for p in written] == ["annotations.json", "results_segm.json",
                                         "results_bbox.json"]
    for path in written:
        assert path.read_bytes() == (SAMPLE / path.name).read_bytes(), path.name
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 100_000


def test_help_lists_the_lvis_protocols() -> None:
    assert_help_lists(("lvis-bbox", "lvis-segm"), ["evaluate", "lvis-segm"],
                      ("--gt", "--pred", "--config", "--out", "--workers"))


# -------------------------------------------------------------------------------- evaluate


@IOU_TYPES
def test_evaluate_prints_lvis_api_lines_and_writes_report(iou_type: str,
                                                          tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    code, out, err = run(["evaluate", f"lvis-{iou_type}", "--gt", GT, "--pred", PRED[iou_type],
                          "--out", report_path, "--workers", "1"])
    assert code == 0, err
    live_results, live_lines = _live(iou_type, _json(GT), _json(PRED[iou_type]))
    lines = out.splitlines()
    assert len(live_lines) == 13
    assert lines[:13] == live_lines
    assert lines[13] == ""
    assert lines[14].split() == ["id", "category", "AP", "AP50", "AP75"]
    assert set(lines[15]) == {"-"}
    # a row per category with a defined AP: gondola (8) is never annotated
    assert [int(row.split()[0]) for row in lines[16:]] == [1, 2, 3, 4, 5, 6, 7]
    assert "warning: [score-ties]" in err
    assert "Traceback" not in err

    report = _json(report_path)
    assert set(report) == REPORT_KEYS
    assert report["protocol"] == f"lvis-{iou_type}"
    assert list(report["metrics"]) == list(LVIS_METRIC_KEYS)
    for key, value in live_results.items():
        assert report["metrics"][key] == (None if value == -1 else pytest.approx(value,
                                                                                  abs=1e-12))
    assert set(report["per_class"]) == {str(c) for c in range(1, 9)}
    assert report["per_class"]["8"] == {"AP": None, "AP50": None, "AP75": None}
    assert report["params"]["max_dets"] == 300
    assert len(report["params"]["iou_thresholds"]) == 10
    assert [w["code"] for w in report["warnings"]] == ["score-ties"]
    # the sample's design (make_lvis_samples.py): 14 GT, one ignored; image 6 has 305
    # detections, so 5 are beyond the cap
    counts = report["counts"]
    assert counts["images"] == 6
    assert counts["gt_instances"] == 14
    assert counts["gt_ignored"] == 1
    assert counts["detections"] == len(_json(PRED[iou_type]))
    assert counts["detections_beyond_max_dets"] == 5
    assert counts["detections_not_federated"] > 0
    assert counts["detections"] == (counts["detections_beyond_max_dets"]
                                    + counts["detections_not_federated"]
                                    + counts["detections_evaluated"])
    assert "pycocotools" in report["versions"]


def test_no_per_class_prints_exactly_print_results() -> None:
    code, out, _ = run(["evaluate", "lvis-segm", "--gt", GT, "--pred", PRED["segm"],
                        "--no-per-class", "--quiet", "--workers", "1"])
    assert code == 0
    assert out.splitlines() == _live("segm", _json(GT), _json(PRED["segm"]))[1]


def test_two_workers_print_the_same() -> None:
    argv = ["evaluate", "lvis-bbox", "--gt", GT, "--pred", PRED["bbox"]]
    one, two = run([*argv, "--workers", "1"]), run([*argv, "--workers", "2"])
    assert one[0] == two[0] == 0
    assert one[1] == two[1]


def test_nulls_in_report_where_lvis_api_gives_minus_one(tmp_path: Path) -> None:
    gt = _json(GT)
    for cat in gt["categories"]:  # no rare category any more: APr is -1
        cat["frequency"] = "c" if cat["frequency"] == "r" else cat["frequency"]
    live_results, live_lines = _live("bbox", gt, _json(PRED["bbox"]))
    assert live_results["APr"] == -1
    path = _write(tmp_path / "gt.json", gt)
    report_path = tmp_path / "report.json"
    code, out, _ = run(["evaluate", "lvis-bbox", "--gt", path, "--pred", PRED["bbox"],
                        "--out", report_path, "--workers", "1", "--no-per-class"])
    assert code == 0
    assert out.splitlines() == live_lines
    assert live_lines[6].endswith("catIds=  r] = -1.000")
    text = report_path.read_text()
    assert json.loads(text)["metrics"]["APr"] is None
    assert "-1" not in text.replace("-1e", "")  # no -1 sentinel anywhere in the report


# ------------------------------------------------------------------------------- --config


def test_config_lvis_json_is_the_default() -> None:
    argv = ["evaluate", "lvis-bbox", "--gt", GT, "--pred", PRED["bbox"], "--workers", "1"]
    preset = REPO / "benchmark_eval" / "presets" / "lvis.json"
    code, with_config, _ = run([*argv, "--config", preset])
    assert code == 0
    assert with_config == run(argv)[1]


def test_config_with_another_max_dets_matches_lvis_api(tmp_path: Path) -> None:
    config = _json(REPO / "benchmark_eval" / "presets" / "lvis.json")
    config["max_dets"] = 100
    path = _write(tmp_path / "lvis100.json", config)
    report_path = tmp_path / "report.json"
    code, out, err = run(["evaluate", "lvis-bbox", "--gt", GT, "--pred", PRED["bbox"],
                          "--config", path, "--no-per-class", "--workers", "1",
                          "--out", report_path])
    assert code == 0, err
    live_results, live_lines = _live("bbox", _json(GT), _json(PRED["bbox"]), max_dets=100)
    assert out.splitlines() == live_lines
    assert "maxDets=100" in live_lines[0]
    report = _json(report_path)
    assert list(report["metrics"])[-4:] == ["AR@100", "ARs@100", "ARm@100", "ARl@100"]
    assert list(live_results) == list(report["metrics"])
    for key, value in live_results.items():
        assert report["metrics"][key] == (None if value == -1 else pytest.approx(value,
                                                                                  abs=1e-12))
    assert report["params"]["max_dets"] == 100
    assert report["counts"]["detections_beyond_max_dets"] == 205  # 305 on image 6, 100 kept


@pytest.mark.parametrize(("content", "message"), [
    ('{"max_dets": 0}', "invalid parameters"),
    ('{"max_detections": [100]}', "invalid parameters"),
    ("[1, 2]", "expected a JSON object of parameters"),
    ("{not json", "cannot use --config"),
])
def test_bad_config_exits_2(content: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    path.write_text(content)
    code, out, err = run(["evaluate", "lvis-bbox", "--gt", GT, "--pred", PRED["bbox"],
                          "--config", path, "--workers", "1"])
    assert code == 2
    assert err.startswith("error: ")
    assert message in err
    assert out == ""


# ------------------------------------------------------------------------------- validate


@IOU_TYPES
def test_validate_clean_sample_exits_0(iou_type: str, tmp_path: Path) -> None:
    problems_path = tmp_path / "problems.json"
    code, out, _ = run(["validate", f"lvis-{iou_type}", "--gt", GT, "--pred", PRED[iou_type],
                        "--out", problems_path])
    assert code == 0
    assert out.strip() == f"OK: the predictions are a valid lvis-{iou_type} submission"
    assert _json(problems_path) == []


def test_validate_lists_ground_truth_problems_exits_1(tmp_path: Path) -> None:
    gt = _json(GT)
    del gt["images"][2]["neg_category_ids"]
    gt["categories"][4]["frequency"] = "frequent"
    path = _write(tmp_path / "gt.json", gt)
    problems_path = tmp_path / "problems.json"
    code, out, _ = run(["validate", "lvis-bbox", "--gt", path, "--pred", PRED["bbox"],
                        "--out", problems_path])
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "3 problem(s) found:"
    assert f"  {path}: categories[4]: 'frequency' must be one of 'r', 'c', 'f' (LVIS" \
           " frequency groups), got 'frequent'" in lines
    assert f"  {path}: images[2]: missing 'neg_category_ids' (LVIS federated evaluation" \
           " needs it on every image)" in lines
    assert f"  {PRED['bbox']}: not checked: the ground truth has problems" in lines
    problems = _json(problems_path)
    assert {(p["file"], p["field"], p["record"]) for p in problems} == {
        (str(path), "categories", 4), (str(path), "images", 2), (str(PRED["bbox"]), None, None)}


def test_validate_lists_results_problems_exits_1(tmp_path: Path) -> None:
    results = _json(PRED["segm"])
    results[3]["image_id"] = 999
    results[7]["score"] = "high"
    path = _write(tmp_path / "segm.json", results)
    code, out, _ = run(["validate", "lvis-segm", "--gt", GT, "--pred", path])
    assert code == 1
    assert out.splitlines()[0] == "2 problem(s) found:"
    assert f"{path}: results[3]:" in out
    assert f"{path}: results[7]:" in out


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("workers", ["1", "2"])
def test_evaluate_bad_ground_truth_exits_1_with_file_and_record(workers: str,
                                                                tmp_path: Path) -> None:
    gt = _json(GT)
    gt["annotations"][5]["ignore"] = 2
    path = _write(tmp_path / "gt.json", gt)
    code, out, err = run(["evaluate", "lvis-segm", "--gt", path, "--pred", PRED["segm"],
                          "--workers", workers])
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "error: 1 problem(s) in the input:",
        f"  {path}: annotations[5]: 'ignore' must be 0 or 1, got 2"]


def test_evaluate_bad_results_exits_1_with_file_and_record(tmp_path: Path) -> None:
    results = _json(PRED["bbox"])
    results[10]["category_id"] = 42
    path = _write(tmp_path / "bbox.json", results)
    code, out, err = run(["evaluate", "lvis-bbox", "--gt", GT, "--pred", path,
                          "--workers", "1", "--strict"])
    assert code == 1
    assert out == ""
    assert err.splitlines()[0] == "error: 1 problem(s) in the input:"
    assert f"{path}: results[10]: [result-category-unknown]" in err


def test_evaluate_missing_file_exits_2(tmp_path: Path) -> None:
    # a missing --gt is a usage error, as a missing --config is (issue 16)
    missing = tmp_path / "nope.json"
    code, out, err = run(["evaluate", "lvis-bbox", "--gt", missing, "--pred", PRED["bbox"]])
    assert code == 2
    assert out == ""
    assert str(missing) in err
