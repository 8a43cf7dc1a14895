"""``benchmark-eval evaluate | validate semantic[-binary]`` in-process: exit codes, tables,
the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli as run

from benchmark_eval.io.png import write_png

REPO = Path(__file__).resolve().parents[2]
REPORT_KEYS = {"protocol", "metrics", "per_class", "confusion_matrix", "warnings", "params",
               "counts", "versions"}


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    # one 2x3 image, classes 0..2, C = 4 (class 3 absent everywhere)
    #   GT [[0, 0, 1], [2, 2, 255]]  pred [[0, 1, 1], [2, 0, 0]]
    #   pixels: (0,0) (0,1) (1,1) (2,2) (2,0); ignored (255, 0)
    #   IoU: 0 -> 1/(2+2-1) = 1/3, 1 -> 1/(1+2-1) = 1/2, 2 -> 1/(2+1-1) = 1/2, 3 -> nan
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    write_png(gt / "a.png", np.array([[0, 0, 1], [2, 2, 255]], np.uint8))
    write_png(pred / "a.png", np.array([[0, 1, 1], [2, 0, 0]], np.uint8))
    return gt, pred


def test_evaluate_prints_tables_and_writes_report(dirs: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    gt, pred = dirs
    out_file = tmp_path / "report.json"
    code, out, err = run(["evaluate", "semantic", "--gt", gt, "--pred", pred, "--num-classes",
                          4, "--out", out_file, "--workers", 1])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["mIoU", "mAcc", "mDice", "aAcc", "fwIoU"]
    assert lines[1].split()[0] == f"{100 * (1 / 3 + 1 / 2 + 1 / 2) / 3:.2f}"
    assert lines[3].split() == ["class", "IoU", "Acc", "Dice", "Precision"]
    assert lines[5].split()[:2] == ["0", "33.33"]
    assert lines[8].split() == ["3", "-", "-", "-", "-"]
    assert "warning: [undefined-classes]" in err
    report = json.loads(out_file.read_text())
    assert set(report) == REPORT_KEYS
    assert report["protocol"] == "semantic"
    assert report["metrics"]["mIoU"] == pytest.approx((1 / 3 + 1 / 2 + 1 / 2) / 3, abs=1e-15)
    assert report["per_class"]["3"] == {"IoU": None, "Acc": None, "Dice": None,
                                        "Precision": None}
    assert report["confusion_matrix"] == [[1, 1, 0, 0, 0], [0, 1, 0, 0, 0], [1, 0, 1, 0, 0],
                                          [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]]
    assert report["params"]["rule"] == "mmseg"
    assert report["counts"] == {"images": 1, "pixels": 6, "pixels_ignored": 1,
                                "pixels_no_class_predicted": 0, "classes_with_gt": 3}


def test_detectron2_rule_and_config_with_overrides(dirs: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    gt, pred = dirs
    config = tmp_path / "params.json"
    config.write_text(json.dumps({"protocol": "semantic", "num_classes": 4,
                                  "class_names": ["a", "b", "c", "d"], "rule": "mmseg"}))
    out_file = tmp_path / "r.json"
    code, out, _ = run(["evaluate", "semantic", "--gt", gt, "--pred", pred, "--config", config,
                        "--rule", "detectron2", "--out", out_file, "--quiet", "--workers", 1,
                        "--no-per-class"])
    assert code == 0
    assert len(out.splitlines()) == 2
    report = json.loads(out_file.read_text())
    assert report["params"]["rule"] == "detectron2"
    assert list(report["per_class"]) == ["a", "b", "c", "d"]


def test_validate_lists_problems_and_exits_1(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = dirs
    write_png(gt / "b.png", np.zeros((2, 2), np.uint8))
    write_png(pred / "b.png", np.zeros((3, 2), np.uint8))
    write_png(gt / "c.png", np.zeros((2, 2), np.uint8))
    write_png(gt / "d.png", np.full((2, 2), 9, np.uint8))
    write_png(pred / "d.png", np.zeros((2, 2), np.uint8))
    problems_file = tmp_path / "problems.json"
    code, out, _ = run(["validate", "semantic", "--gt", gt, "--pred", pred, "--num-classes", 4,
                        "--out", problems_file, "--workers", 1])
    assert code == 1
    assert out.splitlines()[0] == "3 problem(s) found:"
    assert f"{gt / 'c.png'}: no prediction named 'c'" in out
    assert f"{pred / 'b.png'}: prediction is 2x3 (WxH) but the ground truth is 2x2" in out
    assert f"{gt / 'd.png'}: labels outside [0, 4): 9 (4 px)" in out
    assert len(json.loads(problems_file.read_text())) == 3
    code, out, _ = run(["validate", "semantic", "--gt", gt, "--pred", pred, "--num-classes", 4,
                        "--list", _list(tmp_path, "a\n")])
    assert code == 0
    assert out.startswith("OK")


def _list(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.txt"
    path.write_text(text)
    return path


def test_evaluate_stops_on_bad_input_with_exit_1(dirs: tuple[Path, Path]) -> None:
    gt, pred = dirs
    write_png(pred / "a.png", np.full((2, 3), 7, np.uint8))
    code, out, err = run(["evaluate", "semantic", "--gt", gt, "--pred", pred, "--num-classes",
                          4, "--workers", 1])
    assert code == 1
    assert out == ""
    assert f"{pred / 'a.png'}: predicted labels outside [0, 4): 7 (6 px)" in err
    code, _, _ = run(["evaluate", "semantic", "--gt", gt, "--pred", pred, "--num-classes", 4,
                      "--out-of-range", "no-class", "--workers", 1])
    assert code == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--rule", "voc"], "invalid choice: 'voc'"),
    (["--ignore-index", "x"], "expected an integer or 'none'"),
    ([], "--num-classes is required"),
    (["--num-classes", "4", "--ignore-index", "2"], "ignore_index 2 is a class index"),
])
def test_usage_and_config_errors_exit_2(dirs: tuple[Path, Path], argv: list[str],
                                        message: str, capsys: pytest.CaptureFixture) -> None:
    gt, pred = dirs
    code, _, err = run(["evaluate", "semantic", "--gt", gt, "--pred", pred, *argv])
    assert code == 2
    assert message in err + capsys.readouterr().err


def test_binary_protocol_on_the_sample(tmp_path: Path) -> None:
    sample = REPO / "data_samples" / "semantic"
    out_file = tmp_path / "r.json"
    code, out, _ = run(["evaluate", "semantic-binary", "--gt", sample / "binary_gt", "--pred",
                        sample / "binary_pred", "--dice-averaging", "per-image", "--out",
                        out_file, "--workers", 2])
    assert code == 0
    assert out.splitlines()[0].split()[:2] == ["IoU", "Dice"]
    report = json.loads(out_file.read_text())
    assert report["protocol"] == "semantic-binary"
    assert list(report["per_class"]) == ["background", "foreground"]
    assert report["metrics"]["Dice"] == report["per_class"]["foreground"]["Dice"]
    assert report["params"]["ignore_index"] is None


def test_semantic_sample_with_its_config_validates_and_evaluates() -> None:
    sample = REPO / "data_samples" / "semantic"
    argv = ["--gt", sample / "gt", "--pred", sample / "pred", "--config",
            sample / "params.json"]
    assert run(["validate", "semantic", *argv])[0] == 0
    code, out, _ = run(["evaluate", "semantic", *argv, "--workers", 1])
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[5:]] == [
        "road", "building", "vegetation", "sky", "car"]
