"""``benchmark-eval evaluate | validate medical`` in-process on ``data_samples/medical``: exit
codes, the table, the JSON report, nnU-Net's summary.json, options and presets."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from benchmark_eval.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples" / "medical"
GT, PRED = SAMPLES / "gt", SAMPLES / "pred"
PER_CASE_KEYS = {"Dice", "IoU", "HD", "HD95", "ASSD", "NSD", "TP", "FP", "FN"}


def run(argv: list[object]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_evaluate_samples_table_and_report(tmp_path: Path) -> None:
    code, out, err = run(["evaluate", "medical", "--gt", GT, "--pred", PRED, "--labels", "1,2",
                          "--out", tmp_path / "r.json", "--workers", 1])
    assert code == 0, err
    assert "medical: 5 cases, empty-case rule 'nnunet'" in out
    assert out.splitlines()[1].split() == ["label", "Dice", "IoU", "HD", "HD95", "ASSD", "NSD"]
    assert "foreground" in out
    assert "[empty-cases] 1 case/label pairs have an empty reference" in err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["protocol"] == "medical"
    assert report["empty_rule"] == "nnunet"
    assert set(report["metrics"]) == {"1", "2"}
    assert set(report["metrics"]["1"]) == {"Dice", "IoU", "HD", "HD95", "ASSD", "NSD"}
    assert set(report["by_rule"]) == {"nnunet", "monai", "empty_is_one"}
    cases = report["per_case"]
    assert sorted(cases) == [f"case_{i:03d}" for i in range(5)]
    assert all(set(row) == PER_CASE_KEYS for c in cases.values() for row in c.values())
    both_empty = cases["case_004"]["2"]
    assert both_empty["Dice"] is None  # nnU-Net: NaN when TP + FP + FN == 0
    assert both_empty["HD"] is None
    assert (both_empty["TP"], both_empty["FP"], both_empty["FN"]) == (0, 0, 0)
    empty_ref = cases["case_002"]["2"]
    assert (empty_ref["Dice"], empty_ref["NSD"], empty_ref["HD95"]) == (0.0, 0.0, None)


def test_rule_and_tolerance_options(tmp_path: Path) -> None:
    code, out, _ = run(["evaluate", "medical", "--gt", GT, "--pred", PRED, "--labels", "1,2",
                        "--empty-rule", "empty_is_one", "--nsd-tolerance", "2,3",
                        "--out", tmp_path / "r.json", "--no-per-class"])
    assert code == 0
    assert "(median)" not in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["params"]["nsd_tolerance"] == [2.0, 3.0]
    assert report["per_case"]["case_004"]["2"]["Dice"] == 1.0


def test_config_file_with_overrides(tmp_path: Path) -> None:
    config = tmp_path / "medical.json"
    config.write_text(json.dumps({"protocol": "medical", "labels": [1, 2],
                                  "empty_rule": "monai"}))
    code, out, err = run(["evaluate", "medical", "--gt", GT, "--pred", PRED,
                          "--config", config, "--nsd-tolerance", "2", "--out",
                          tmp_path / "r.json"])
    assert code == 0, err
    assert "empty-case rule 'monai'" in out
    assert "HD95 MONAI directed" in out
    assert json.loads((tmp_path / "r.json").read_text())["params"]["nsd_tolerance"] == [2.0]


def test_nnunet_summary_output(tmp_path: Path) -> None:
    out_file = tmp_path / "summary.json"
    code, _, err = run(["evaluate", "medical", "--gt", GT, "--pred", PRED, "--labels", "1,2",
                        "--nnunet-summary", out_file])
    assert code == 0, err
    summary = json.loads(out_file.read_text())
    assert list(summary) == ["foreground_mean", "mean", "metric_per_case"]
    first = summary["metric_per_case"][0]
    assert sorted(first) == ["metrics", "prediction_file", "reference_file"]
    assert sorted(first["metrics"]["1"]) == sorted(
        ["Dice", "IoU", "FP", "TP", "FN", "TN", "n_pred", "n_ref"])
    assert "NaN" in out_file.read_text()  # nnU-Net writes NaN where Dice is undefined


def test_validate_exit_codes(tmp_path: Path) -> None:
    code, out, _ = run(["validate", "medical", "--gt", GT, "--pred", PRED, "--labels", "1,2"])
    assert (code, out.strip()) == (0, "OK: the predictions are a valid medical submission")
    pred = tmp_path / "pred"
    shutil.copytree(PRED, pred)
    (pred / "case_001.nii.gz").write_bytes(b"\x1f\x8b\x08\x00 truncated")
    (pred / "case_003.nii.gz").unlink()
    code, out, _ = run(["validate", "medical", "--gt", GT, "--pred", pred, "--labels", "1,2"])
    assert code == 1
    assert "case 'case_003' has no prediction" in out
    code, _, err = run(["evaluate", "medical", "--gt", GT, "--pred", pred, "--labels", "1,2"])
    assert code == 1
    assert "case_003" in err


def test_usage_errors_exit_2() -> None:
    code, _, err = run(["evaluate", "medical", "--gt", GT, "--pred", PRED])
    assert code == 2
    assert "medical needs the labels" in err
    code, _, err = run(["evaluate", "medical", "--gt", GT, "--pred", PRED, "--labels", "a,b"])
    assert code == 2
    code, _, err = run(["evaluate", "medical", "--gt", GT, "--pred", PRED, "--labels", "1,2",
                        "--nsd-tolerance", "1,2,3"])
    assert (code, "nsd_tolerance" in err) == (2, True)
