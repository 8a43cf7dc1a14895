"""``report.medical`` and ``data_samples/medical``: the sample is reproducible, the report
has the documented layout (null where undefined, every rule named), rendering marks inf."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import orjson

import benchmark_eval
from benchmark_eval.report.medical import MedicalResult

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
MEDICAL = SAMPLES / "medical"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_medical_samples",
                                                  SAMPLES / "make_medical_samples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sample(**params: object) -> MedicalResult:
    r = benchmark_eval.evaluate("medical", gt=MEDICAL / "gt", pred=MEDICAL / "pred",
                                labels=(1, 2), **params)
    assert isinstance(r, MedicalResult)
    return r


def test_samples_are_small_and_byte_identical(tmp_path: Path) -> None:
    written = _script().make(tmp_path)
    assert len(written) == 10
    for path in written:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (MEDICAL / rel).read_bytes(), rel
    assert sum(p.stat().st_size for p in MEDICAL.rglob("*.nii.gz")) < 50_000


def test_report_layout_and_nulls() -> None:
    r = _sample()
    report = r.to_report()
    text = orjson.dumps(report).decode()
    assert "NaN" not in text
    assert "Infinity" not in text
    assert list(report["metrics"]) == ["1", "2"]
    assert report["foreground_mean"]["Dice"] == (
        report["metrics"]["1"]["Dice"] + report["metrics"]["2"]["Dice"]) / 2
    assert report["per_case"]["case_003"]["2"]["FN"] > 0  # the missed lesion
    assert report["per_case"]["case_003"]["2"]["HD"] is None
    assert report["counts"] == {"cases": 5, "labels": 2}
    assert r.state.case_names == r.computed.case_names
    assert "state" not in report


def test_rules_are_named_and_disagreements_noticed() -> None:
    r = _sample(empty_rule="monai")
    codes = [w.code for w in r.warnings]
    assert codes == ["empty-cases", "rules-disagree"]
    assert "nnunet" in r.warnings[1].message
    assert "monai" in r.warnings[1].message
    # MONAI: an empty reference makes HD infinite; the mean is inf, shown as null / "inf"
    assert math.isinf(r.computed.chosen.mean["HD"][1])
    assert r.metrics["2"]["HD"] is None
    assert "inf" in r.render()
    by_rule = r.to_report()["by_rule"]
    assert by_rule["nnunet"]["mean"]["2"]["HD"] is not None


def test_nnunet_summary_is_json_with_nan() -> None:
    summary = _sample().nnunet_summary()
    text = json.dumps(summary)
    assert "NaN" in text  # case_004 label 2: both empty
    case = summary["metric_per_case"][4]
    assert case["reference_file"] == "case_004"
    assert math.isnan(case["metrics"]["2"]["Dice"])
    assert case["metrics"]["2"]["n_ref"] == 0
