"""``benchmark-eval evaluate | validate cityscapes-*`` and ``convert cityscapes-*`` in-process:
exit codes, the official tables, reports, and that nothing else is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from helpers import run_cli as run
from PIL import Image

import benchmark_eval

SAMPLE = Path(__file__).resolve().parents[2] / "data_samples" / "cityscapes"
GT, RESULTS = SAMPLE / "gtFine", SAMPLE / "results"


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_help_lists_the_protocols_and_conversions() -> None:
    code, out, _ = run(["--help"])
    assert code == 0
    for name in ("cityscapes-semantic", "cityscapes-instance", "cityscapes-panoptic"):
        assert name in out
    code, out, _ = run(["convert", "--help"])
    for name in ("cityscapes-to-panoptic", "cityscapes-to-instances", "cityscapes-polygons"):
        assert name in out
    code, out, _ = run(["evaluate", "cityscapes-semantic", "--help"])
    assert "--pred-ids" in out


def test_semantic_table_report_and_no_other_file(tmp_path: Path) -> None:
    before = _files(SAMPLE)
    report = tmp_path / "r.json"
    code, out, err = run(["evaluate", "cityscapes-semantic", "--gt", GT, "--pred",
                          RESULTS / "semantic", "--out", report, "--workers", "2"])
    assert code == 0, err
    api = benchmark_eval.evaluate("cityscapes-semantic", gt=GT, pred=RESULTS / "semantic")
    lines = out.splitlines()
    assert lines[0] == "classes          IoU      nIoU"
    assert f"Score Average : {api.metrics['IoU_class']:5.3f}    " \
           f"{api.metrics['iIoU_class']:5.3f}" in lines
    assert "warning: [void-predictions]" in err
    doc = json.loads(report.read_text())
    assert doc["metrics"] == api.metrics
    assert doc["per_category"]["vehicle"] == api.per_category["vehicle"]
    assert _files(SAMPLE) == before  # no cache, no export next to the data
    assert _files(tmp_path) == {report}


def test_instance_and_panoptic_tables() -> None:
    code, out, _ = run(["evaluate", "cityscapes-instance", "--gt", GT, "--pred",
                        RESULTS / "instance", "--no-per-class"])
    assert code == 0
    api = benchmark_eval.evaluate("cityscapes-instance", gt=GT, pred=RESULTS / "instance")
    assert out.splitlines()[-1] == (f"{'average':<15}:{api.metrics['AP']:>15.3f}"
                                    f"{api.metrics['AP50']:>15.3f}")
    code, out, _ = run(["evaluate", "cityscapes-panoptic", "--gt",
                        GT / "cityscapes_panoptic_val.json", "--pred",
                        RESULTS / "panoptic.json", "--no-per-class"])
    assert code == 0
    assert out.splitlines()[0] == "          |    PQ     SQ     RQ     N"


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    code, out, _ = run(["validate", "cityscapes-instance", "--gt", GT, "--pred",
                        RESULTS / "instance"])
    assert (code, out.strip()) == (0, "OK: the predictions are a valid cityscapes-instance"
                                      " submission")
    pred = tmp_path / "pred"
    shutil.copytree(RESULTS / "semantic", pred)
    first, second = sorted(pred.glob("*.png"))[:2]
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(first)
    Image.fromarray(np.full((128, 256), 99, np.uint8)).save(second)
    code, out, _ = run(["validate", "cityscapes-semantic", "--gt", GT, "--pred", pred,
                        "--out", tmp_path / "problems.json"])
    assert code == 1
    assert "2 problem(s) found" in out
    assert "prediction is 5x5 (WxH)" in out
    assert "99 (32768 px)" in out
    problems = json.loads((tmp_path / "problems.json").read_text())
    assert [p["file"] for p in problems] == [str(first), str(second)]
    code, _, err = run(["evaluate", "cityscapes-semantic", "--gt", GT, "--pred", pred])
    assert code == 1
    assert "prediction is 5x5" in err


def test_panoptic_problems_name_the_string_image_id(tmp_path: Path) -> None:
    doc = json.loads((RESULTS / "panoptic.json").read_text())
    doc["annotations"][0]["segments_info"].pop(0)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    files = ["--gt", GT / "cityscapes_panoptic_val.json", "--pred", tmp_path / "p.json",
             "--pred-dir", RESULTS / "panoptic"]
    code, out, _ = run(["validate", "cityscapes-panoptic", *files])
    assert code == 1
    assert "image_id='samplecity_000000_000019'" in out
    doc["annotations"][0]["image_id"] = "elsewhere_000000_000000"
    (tmp_path / "p.json").write_text(json.dumps(doc))
    code, _, err = run(["evaluate", "cityscapes-panoptic", *files])
    assert code == 1
    assert "image_id 'elsewhere_000000_000000' is not in the ground truth" in err


def test_convert_commands(tmp_path: Path) -> None:
    code, out, _ = run(["convert", "cityscapes-polygons", "--gt", GT, "--out-dir",
                        tmp_path / "maps"])
    assert (code, out.strip()) == (0, f"wrote label and instance PNGs of 3 images to"
                                      f" {tmp_path / 'maps'}")
    for png in GT.rglob("*_gtFine_*Ids.png"):
        made = tmp_path / "maps" / png.relative_to(GT)
        assert np.array_equal(np.asarray(Image.open(made)), np.asarray(Image.open(png)))
    code, out, _ = run(["convert", "cityscapes-to-panoptic", "--gt", GT / "val", "--out",
                        tmp_path / "pan.json", "--ids", "trainIds"])
    assert code == 0
    assert out.startswith(f"wrote {tmp_path / 'pan.json'}: 3 images,")
    code, out, _ = run(["convert", "cityscapes-to-instances", "--gt", GT, "--out",
                        tmp_path / "inst.json"])
    assert code == 0
    assert json.loads((tmp_path / "inst.json").read_text())["images"][0]["id"] == 1
    code, _, err = run(["convert", "cityscapes-to-panoptic", "--gt", tmp_path / "none",
                        "--out", tmp_path / "x.json"])
    assert code == 1
    assert "ground-truth folder not found" in err
