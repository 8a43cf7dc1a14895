"""The command line, run in-process: ``benchmark_eval.cli.main(argv, stdout=, stderr=)``.

Exit codes: 0 success, 1 the inputs failed checks, 2 usage or configuration error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import run_cli as run
from official_coco import run_pycocotools
from synth_coco import Case, make_case

from benchmark_eval import PROTOCOLS, CocoParams
from benchmark_eval.converters import CONVERTERS, Converter
from benchmark_eval.errors import MAX_LISTED

REPO = Path(__file__).resolve().parents[2]
# The documented metric keys, in pycocotools' stats order.
METRIC_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl",
               "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
REPORT_KEYS = {"protocol", "metrics", "per_class", "warnings", "params", "counts", "versions"}


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def case() -> Case:
    return make_case(5)  # has GT in every area range, tied scores, a category without GT


@pytest.fixture
def files(tmp_path: Path, case: Case) -> dict[str, Path]:
    return {
        "gt": _write(tmp_path / "instances.json", case.gt),
        "segm": _write(tmp_path / "results_segm.json", case.segm),
        "bbox": _write(tmp_path / "results_bbox.json", case.bbox),
    }


# ---------------------------------------------------------------------------------- help


def test_help_exits_zero_and_mentions_every_protocol(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["--help"])
    text = out + capsys.readouterr().out
    assert code == 0
    for protocol in PROTOCOLS:
        assert protocol in text
    assert "evaluate" in text
    assert "validate" in text


def test_help_is_written_to_the_given_stdout(capsys: pytest.CaptureFixture) -> None:
    # main(stdout=...) is the in-process contract: --help must not bypass it.
    code, out, _ = run(["--help"])
    leaked = capsys.readouterr().out
    assert code == 0
    assert "coco-segm" in out
    assert leaked == ""


@pytest.mark.parametrize("command", ["evaluate", "validate"])
def test_subcommand_help(command: str, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run([command, "--help"])
    assert code == 0
    assert "coco-bbox" in out
    assert "coco-segm" in out  # the protocols are sub-commands with their own options
    code, out, _ = run([command, "coco-segm", "--help"])
    text = out + capsys.readouterr().out
    assert code == 0
    assert "--gt" in text
    assert "--pred" in text


def test_version() -> None:
    code, out, err = run(["--version"])
    assert (code, out, err) == (0, "benchmark-eval 0.1.0\n", "")


def test_convert_help_lists_every_converter_of_the_registry() -> None:
    code, out, _ = run(["convert", "--help"])
    assert code == 0
    for c in CONVERTERS.values():
        assert c.name in out
        assert c.summary in " ".join(out.split())  # argparse wraps the help column
        code, text, _ = run(["convert", c.name, "--help"])
        assert code == 0
        assert "usage: benchmark-eval convert " + c.name in text


# --------------------------------------------------------------------------- usage errors


USAGE_ERRORS = {
    "no arguments": [],
    "unknown command": ["frobnicate"],
    "no protocol": ["evaluate"],
    "unknown protocol": ["evaluate", "coco-captions", "--gt", "{gt}", "--pred", "{bbox}"],
    "missing --gt": ["evaluate", "coco-bbox", "--pred", "{bbox}"],
    "missing --pred": ["validate", "coco-bbox", "--gt", "{gt}"],
    "workers not a number": ["evaluate", "coco-bbox", "--gt", "{gt}", "--pred", "{bbox}",
                             "--workers", "many"],
}


def _fill(argv: list[str], files: dict[str, Path]) -> list[str]:
    return [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]


@pytest.mark.parametrize("name", list(USAGE_ERRORS))
def test_usage_errors_exit_2(name: str, files: dict[str, Path],
                             capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(_fill(USAGE_ERRORS[name], files))
    text = err + capsys.readouterr().err
    assert code == 2
    assert "usage:" in text
    assert out == ""


def test_validate_takes_the_contract_options(files: dict[str, Path]) -> None:
    # every contract workflow takes --config and --workers in validate too
    code, out, _ = run(["validate", "coco-bbox", "--gt", files["gt"], "--pred", files["bbox"],
                        "--config", "coco-bbox", "--workers", "1"])
    assert code == 0
    assert "valid coco-bbox submission" in out
    code, out, err = run(["validate", "coco-bbox", "--gt", files["gt"], "--pred",
                          files["bbox"], "--config", files["gt"]])
    assert code == 2
    assert "invalid parameters" in err
    assert out == ""


def test_usage_error_is_written_to_the_given_stderr(files: dict[str, Path],
                                                    capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(["evaluate", "coco-captions", "--gt", files["gt"], "--pred",
                        files["bbox"]])
    leaked = capsys.readouterr().err
    assert code == 2
    assert "invalid choice: 'coco-captions'" in err
    assert leaked == ""


@pytest.mark.parametrize(("argv", "suggestion"), [
    (["evaluate", "coco-sgm"], "coco-segm"),
    (["validate", "lvis-box"], "lvis-bbox"),
    (["convert", "panoptic-to-instance"], "panoptic-to-instances"),
    (["convert", "instances-to-panoptic", "--instances", "x.json", "--out", "y.json",
      "--overlap", "first-win"], "first-wins"),
    (["evalute"], "evaluate"),
])
def test_misspelt_name_suggests_the_closest_exit_2(argv: list[str], suggestion: str) -> None:
    code, out, err = run(argv)
    assert code == 2
    assert "usage:" in err
    assert f"invalid choice: '{argv[-1]}'; did you mean '{suggestion}'?" in err
    assert out == ""


MISSING_OPTIONS = [[command, name] for command in ("evaluate", "validate")
                   for name in PROTOCOLS] + [["convert", name] for name in CONVERTERS]


@pytest.mark.parametrize("argv", MISSING_OPTIONS, ids=" ".join)
def test_missing_required_options_exit_2(argv: list[str]) -> None:
    code, out, err = run(argv)
    assert code == 2
    assert "the following arguments are required: " in err
    assert out == ""


@pytest.mark.parametrize("params", [{"iou_thresholds": [0.5, 1.5]}, {"maxDets": [1, 10]}])
def test_config_error_is_one_line(params: dict[str, Any], files: dict[str, Path],
                                  tmp_path: Path) -> None:
    config = _write(tmp_path / "params.json", params)
    code, out, err = run(["evaluate", "coco-bbox", "--gt", files["gt"], "--pred",
                          files["bbox"], "--config", config, "--workers", "1"])
    assert code == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert out == ""


# ------------------------------------------------------------------------------ convert


def test_convert_dispatches_through_the_registry(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    calls = []

    def shout(text: str, times: int = 1) -> dict[str, Any]:
        """Test conversion."""
        calls.append((text, times))
        return {"length": len(text) * times}

    def add_arguments(parser: Any) -> None:
        parser.add_argument("--text", required=True)
        parser.add_argument("--times", type=int, default=1)

    fake = Converter("shout", "repeat a text", shout, add_arguments,
                     lambda done, options: f"{options['text']} x{options['times']}:"
                                           f" {done['length']}")
    monkeypatch.setitem(CONVERTERS, "shout", fake)
    code, out, err = run(["convert", "shout", "--text", "ab", "--times", "3"])
    assert (code, out, err) == (0, "ab x3: 6\n", "")
    assert calls == [("ab", 3)]
    code, out, _ = run(["convert", "--help"])
    assert "repeat a text" in out


def test_convert_into_a_missing_folder_exits_2(tmp_path: Path) -> None:
    # an output that cannot be written is a usage error, found before any work (issue 16)
    code, out, err = run(["convert", "panoptic-to-instances", "--panoptic",
                          REPO / "tests" / "data" / "panopticapi_sample" /
                          "panoptic_examples.json", "--out", tmp_path / "no" / "i.json"])
    assert code == 2
    assert err.startswith("error: ")
    assert str(tmp_path / "no" / "i.json") in err
    assert "Traceback" not in err
    assert out == ""


# ------------------------------------------------------------------------------ evaluate


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_evaluate_prints_pycocotools_summary_and_writes_report(
    iou_type: str, case: Case, files: dict[str, Path], tmp_path: Path
) -> None:
    report_path = tmp_path / "report.json"
    code, out, err = run(["evaluate", f"coco-{iou_type}", "--gt", files["gt"], "--pred",
                          files[iou_type], "--out", report_path, "--workers", "1"])
    assert code == 0, err
    live = run_pycocotools(case.gt, case.results(iou_type), iou_type)
    lines = out.splitlines()
    assert lines[:12] == live.lines
    assert lines[12] == ""
    assert lines[13].split()[:2] == ["id", "category"]
    assert len(lines) == 15 + len(case.gt["categories"])
    assert "Traceback" not in err
    report = json.loads(report_path.read_text())
    assert set(report) == REPORT_KEYS
    assert report["protocol"] == f"coco-{iou_type}"
    for key, official in zip(METRIC_KEYS, live.stats, strict=True):
        assert report["metrics"][key] == (None if official == -1 else official), key
    assert set(report["per_class"]) == {str(c["id"]) for c in case.gt["categories"]}
    assert report["per_class"]["9"] == {"AP": None, "AP50": None, "AP75": None, "AR100": None}
    assert report["params"]["max_detections"] == [1, 10, 100]
    assert report["counts"]["detections"] == len(case.segm)
    assert "pycocotools" in report["versions"]


def test_null_in_report_where_pycocotools_gives_minus_one(tmp_path: Path) -> None:
    small = make_case(1)  # no medium or large objects
    live = run_pycocotools(small.gt, small.results("bbox"), "bbox")
    assert live.stats[5] == -1
    assert live.stats[11] == -1
    gt = _write(tmp_path / "gt.json", small.gt)
    pred = _write(tmp_path / "bbox.json", small.bbox)
    report_path = tmp_path / "report.json"
    code, _, _ = run(["evaluate", "coco-bbox", "--gt", gt, "--pred", pred, "--out",
                      report_path, "--workers", "1"])
    assert code == 0
    text = report_path.read_text()
    metrics = json.loads(text)["metrics"]
    assert metrics["APl"] is None
    assert metrics["ARl"] is None
    assert "-1" not in text.replace("-1e", "")  # no -1 sentinel anywhere in the report


def test_evaluate_without_per_class_table(files: dict[str, Path], case: Case) -> None:
    code, out, _ = run(["evaluate", "coco-segm", "--gt", files["gt"], "--pred", files["segm"],
                        "--no-per-class", "--quiet", "--workers", "1"])
    assert code == 0
    assert out.splitlines() == run_pycocotools(case.gt, case.results("segm"), "segm").lines


def test_evaluate_reports_score_ties_on_stderr(files: dict[str, Path]) -> None:
    code, _, err = run(["evaluate", "coco-bbox", "--gt", files["gt"], "--pred", files["bbox"],
                        "--workers", "1"])
    assert code == 0
    assert "warning: [score-ties]" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_evaluate_bad_results_exits_1_naming_file_and_record(
    files: dict[str, Path], case: Case, tmp_path: Path, workers: str
) -> None:
    data = case.results("bbox")
    data[3]["image_id"] = 123456
    bad = _write(tmp_path / "bad.json", data)
    code, out, err = run(["evaluate", "coco-bbox", "--gt", files["gt"], "--pred", bad,
                          "--workers", workers])
    assert code == 1
    assert f"{bad}: results[3]: image_id 123456 is not in the ground truth" in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_evaluate_bad_ground_truth_exits_1(files: dict[str, Path], tmp_path: Path,
                                          workers: str) -> None:
    gt = json.loads(files["gt"].read_text())
    gt["annotations"][2]["category_id"] = 77
    bad = _write(tmp_path / "bad_gt.json", gt)
    code, out, err = run(["evaluate", "coco-segm", "--gt", bad, "--pred", files["segm"],
                          "--workers", workers])
    assert code == 0  # pycocotools never evaluates it: a warning, refused by --strict
    assert "warning: [gt-category-unknown] 1 annotation(s)" in err
    code, out, err = run(["evaluate", "coco-segm", "--gt", bad, "--pred", files["segm"],
                          "--workers", workers, "--strict"])
    assert code == 1
    assert f"{bad}: annotations[2]: [gt-category-unknown]" in err
    assert out == ""


@pytest.mark.parametrize("content", [None, "{ not json", "[]"])
def test_evaluate_unreadable_results_exits_1(files: dict[str, Path], tmp_path: Path,
                                             content: str | None) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    strict = ["--strict"] if content == "[]" else []  # [] is scored (AP 0) unless strict
    code, out, err = run(["evaluate", "coco-bbox", "--gt", files["gt"], "--pred", path,
                          *strict])
    assert code == (2 if content is None else 1)  # a file named but not there: usage
    assert str(path) in err
    assert "Traceback" not in err
    assert out == ""


def test_evaluate_malformed_uncompressed_result_rle_exits_1(
    files: dict[str, Path], case: Case, tmp_path: Path
) -> None:
    # An uncompressed RLE whose counts do not cover the image must be an input error (exit
    # 1 naming the record), not an uncaught exception.
    data = case.results("segm")
    h, w = data[0]["segmentation"]["size"]
    data[0]["segmentation"] = {"size": [h, w], "counts": [5, 5]}
    bad = _write(tmp_path / "bad.json", data)
    code, _, err = run(["evaluate", "coco-segm", "--gt", files["gt"], "--pred", bad,
                        "--workers", "1"])
    assert code == 1
    assert f"{bad}: results[0]:" in err


# ------------------------------------------------------------------------------ validate


def test_validate_clean_submission(files: dict[str, Path], tmp_path: Path) -> None:
    out_path = tmp_path / "problems.json"
    code, out, _ = run(["validate", "coco-segm", "--gt", files["gt"], "--pred",
                        files["segm"], "--out", out_path])
    assert code == 0
    assert out.startswith("OK: ")
    assert json.loads(out_path.read_text()) == []


def _validate_results(files: dict[str, Path], data: list[dict[str, Any]], tmp_path: Path
                      ) -> tuple[Path, list[str], list[dict[str, Any]]]:
    """``validate coco-bbox`` of results ``data`` (failing): the file, the lines printed
    and the problems written by ``--out``."""
    bad = _write(tmp_path / "bad.json", data)
    out_path = tmp_path / "problems.json"
    code, out, _ = run(["validate", "coco-bbox", "--gt", files["gt"], "--pred", bad,
                        "--out", out_path])
    assert code == 1
    return bad, out.splitlines(), json.loads(out_path.read_text())


def test_validate_lists_every_problem(files: dict[str, Path], case: Case,
                                      tmp_path: Path) -> None:
    data = case.results("bbox")
    data[1]["score"] = 1.5
    data[4]["category_id"] = 1000
    data[6]["bbox"] = [1, 2, 3]
    bad, lines, listed = _validate_results(files, data, tmp_path)
    assert lines[0] == "3 problem(s) found:"
    assert len(lines) == 4
    prefixes = sorted(line.split(": ")[1] for line in lines[1:])
    assert prefixes == ["results[1]", "results[4]", "results[6]"]
    assert all(line.startswith(f"  {bad}: results[") for line in lines[1:])
    problems = sorted(listed, key=lambda p: p["record"])
    assert [p["record"] for p in problems] == [1, 4, 6]
    assert {p["file"] for p in problems} == {str(bad)}
    assert {p["field"] for p in problems} == {"results"}
    assert "outside [0, 1]" in problems[0]["message"]
    assert "[result-category-unknown]" in problems[1]["message"]
    assert "'bbox' must be 4 finite numbers" in problems[2]["message"]


def test_validate_shows_the_first_problems_and_writes_them_all(
        files: dict[str, Path], case: Case, tmp_path: Path) -> None:
    data = case.results("bbox")
    n = 12  # of each of two kinds: more than the screen shows, none cut by validate
    for k in range(n):
        data[k]["score"] = "2.0"
        data[n + k]["image_id"] = 123456
    bad, lines, listed = _validate_results(files, data, tmp_path)
    assert lines[0] == f"{2 * n} problem(s) found:"
    assert len(lines) == 1 + MAX_LISTED + 1
    assert lines[-1] == f"  {bad}: ... and {2 * n - MAX_LISTED} more problems"
    assert len(listed) == 2 * n


def test_validate_bad_ground_truth_does_not_check_predictions(
    files: dict[str, Path], case: Case, tmp_path: Path
) -> None:
    gt = json.loads(files["gt"].read_text())
    gt["annotations"][1]["image_id"] = 123456
    bad = _write(tmp_path / "bad_gt.json", gt)
    code, out, _ = run(["validate", "coco-bbox", "--gt", bad, "--pred", files["bbox"]])
    assert code == 1
    assert f"{bad}: annotations[1]: image_id 123456 is not in 'images'" in out
    assert "not checked" in out


# -------------------------------------------------------------------------------- config


def test_config_with_max_dets_1_10_50(files: dict[str, Path], case: Case,
                                      tmp_path: Path) -> None:
    config = _write(tmp_path / "params.json", {"max_detections": [1, 10, 50]})
    report_path = tmp_path / "report.json"
    code, out, err = run(["evaluate", "coco-bbox", "--gt", files["gt"], "--pred",
                          files["bbox"], "--config", config, "--out", report_path,
                          "--workers", "1"])
    assert code == 0, err
    params = CocoParams(max_detections=(1, 10, 50))
    live = run_pycocotools(case.gt, case.results("bbox"), "bbox", params)
    assert out.splitlines()[:12] == live.lines
    assert live.lines[0].endswith("maxDets=100 ] = -1.000")  # 100 is not in maxDets
    report = json.loads(report_path.read_text())
    assert report["params"]["max_detections"] == [1, 10, 50]
    # Documented deviation: metrics["AP"] is taken at the last maxDets (50), not at 100.
    p = live.precision[:, :, :, 0, 2]
    assert report["metrics"]["AP"] == float(np.mean(p[p > -1]))
    assert report["metrics"]["AP50"] == live.stats[1]


def test_config_preset_files_from_the_repository(files: dict[str, Path], case: Case) -> None:
    code, out, _ = run(["evaluate", "coco-segm", "--gt", files["gt"], "--pred", files["segm"],
                        "--config", REPO / "benchmark_eval" / "presets" / "coco-segm.json",
                        "--workers", "1"])
    assert code == 0
    assert out.splitlines()[:12] == run_pycocotools(case.gt, case.results("segm"),
                                                    "segm").lines


BAD_CONFIGS = {
    "max_detections 0": json.dumps({"max_detections": [0, 10]}),
    "threshold above 1": json.dumps({"iou_thresholds": [0.5, 1.5]}),
    "unknown key": json.dumps({"maxDets": [1, 10, 100]}),
    "not an object": json.dumps([1, 10, 100]),
    "not JSON": "{max_detections: [1]",
    "missing file": None,
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_config_exits_2(name: str, files: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "params.json"
    if BAD_CONFIGS[name] is not None:
        config.write_text(BAD_CONFIGS[name])
    code, out, err = run(["evaluate", "coco-bbox", "--gt", files["gt"], "--pred",
                          files["bbox"], "--config", config, "--workers", "1"])
    assert code == 2
    assert err.startswith("error: ")
    assert str(config) in err
    assert out == ""
