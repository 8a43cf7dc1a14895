"""``benchmark-eval evaluate|validate coco-panoptic-boundary``, in process."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from helpers import run_cli as run

import benchmark_eval

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data_samples" / "panoptic"
evaluate_panoptic_boundary = partial(benchmark_eval.evaluate, "coco-panoptic-boundary")


def test_help_lists_the_protocol_and_its_option() -> None:
    code, out, _ = run(["--help"])
    assert code == 0
    assert "coco-panoptic-boundary" in out
    code, out, _ = run(["evaluate", "coco-panoptic-boundary", "--help"])
    assert code == 0
    for option in ("--gt", "--gt-dir", "--pred", "--pred-dir", "--dilation-ratio"):
        assert option in out


def test_evaluate_writes_the_report(tmp_path: Path) -> None:
    gt, pred = SAMPLES / "gt.json", SAMPLES / "pred.json"
    report = tmp_path / "report.json"
    code, out, err = run(["evaluate", "coco-panoptic-boundary", "--gt", gt, "--pred", pred,
                          "--out", report, "--dilation-ratio", "0.05"])
    assert code == 0, err
    assert out.splitlines()[0] == "          |    PQ     SQ     RQ     N"
    data = json.loads(report.read_text())
    assert data["protocol"] == "coco-panoptic-boundary"
    api = evaluate_panoptic_boundary(gt=gt, pred=pred,
                                     params={"boundary_dilation_ratio": 0.05})
    assert data["metrics"] == api.metrics
    default = evaluate_panoptic_boundary(gt=gt, pred=pred)
    assert default.metrics != api.metrics  # the option is used


def test_bad_ratio_is_a_usage_error() -> None:
    gt, pred = SAMPLES / "gt.json", SAMPLES / "pred.json"
    code, _, err = run(["evaluate", "coco-panoptic-boundary", "--gt", gt, "--pred", pred,
                        "--dilation-ratio", "-1"])
    assert code != 0
    assert "dilation" in err


def test_validate_clean_samples() -> None:
    code, _, err = run(["validate", "coco-panoptic-boundary", "--gt", SAMPLES / "gt.json",
                        "--pred", SAMPLES / "pred.json"])
    assert code == 0, err
