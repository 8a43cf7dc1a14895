"""``benchmark-eval evaluate | validate coco-keypoints`` in-process: exit codes, pycocotools'
10-line summary text, the JSON report, presets."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest

from benchmark_eval.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data_samples" / "coco_keypoints"
GT, PRED = SAMPLE / "person_keypoints.json", SAMPLE / "results_keypoints.json"
KEYS = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


def run(argv: list[Any]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _pycocotools_summary() -> tuple[list[str], list[float]]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    text = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(GT))
        ev = COCOeval(gt, gt.loadRes(str(PRED)), "keypoints")
        ev.evaluate()
        ev.accumulate()
    with contextlib.redirect_stdout(text):
        ev.summarize()
    return text.getvalue().splitlines(), [float(v) for v in ev.stats]


def test_evaluate_prints_pycocotools_summary_and_writes_the_report(tmp_path: Path) -> None:
    out_file = tmp_path / "report.json"
    code, out, err = run(["evaluate", "coco-keypoints", "--gt", GT, "--pred", PRED,
                          "--out", out_file, "--workers", 1])
    assert code == 0, err
    lines, stats = _pycocotools_summary()
    assert out.splitlines()[:10] == lines
    assert "score-ties" in err
    report = json.loads(out_file.read_text())
    assert report["protocol"] == "coco-keypoints"
    assert list(report["metrics"]) == KEYS
    assert [report["metrics"][k] for k in KEYS] == pytest.approx(stats, abs=1e-12)
    assert set(report["per_class"]["1"]) == {"AP", "AP50", "AP75", "AR"}
    assert report["params"]["max_detections"] == [20]


def test_preset_and_overrides() -> None:
    code, out, _ = run(["evaluate", "coco-keypoints", "--gt", GT, "--pred", PRED,
                        "--config", "coco-keypoints", "--workers", 1])
    assert code == 0
    assert out.splitlines()[:10] == _pycocotools_summary()[0]


def test_bad_sigmas_are_a_usage_error(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"kpt_oks_sigmas": [0.1, 0.1]}))
    code, _, err = run(["evaluate", "coco-keypoints", "--gt", GT, "--pred", PRED,
                        "--config", cfg])
    assert code == 2
    assert "kpt_oks_sigmas has 2 values for category 1 ('person'), which has 17" in err


def test_validate(tmp_path: Path) -> None:
    code, _, err = run(["validate", "coco-keypoints", "--gt", GT, "--pred", PRED])
    assert code == 0, err
    bad = json.loads(PRED.read_text())
    bad[2]["keypoints"] = bad[2]["keypoints"][:-3]
    bad[4]["keypoints"][0] = None
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    code, out, err = run(["validate", "coco-keypoints", "--gt", GT, "--pred", path])
    assert code == 1
    text = out + err
    assert f"{path}: results[2]: 'keypoints' has 48 values" in text
    assert f"{path}: results[4]: 'keypoints' must be numbers, got None" in text


def test_sample_is_reproducible(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_keypoints_samples", REPO / "data_samples" / "make_keypoints_samples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.make(tmp_path)
    assert [p.name for p in written] == [GT.name, PRED.name]
    for p in written:
        assert p.read_bytes() == (SAMPLE / p.name).read_bytes()


def test_crowdpose_evaluate_and_validate(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(REPO / "tests" / "parity"))  # the seeded keypoint generators
    from keypoints_generators import crowdpose_case

    gt, res = crowdpose_case(0)
    gt_file, pred_file = tmp_path / "crowdpose.json", tmp_path / "res.json"
    gt_file.write_text(json.dumps(gt))
    pred_file.write_text(json.dumps(res))
    code, out, err = run(["evaluate", "crowdpose", "--gt", gt_file, "--pred", pred_file,
                          "--workers", 1])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[6].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95 | type=  easy |")
    assert lines[8].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95 | type=  hard |")
    del gt["images"][1]["crowdIndex"]
    gt_file.write_text(json.dumps(gt))
    code, out, err = run(["validate", "crowdpose", "--gt", gt_file, "--pred", pred_file])
    assert code == 1
    assert f"{gt_file}: images[1]: missing required field 'crowdIndex'" in out + err
