"""``benchmark-eval evaluate|validate coco-panoptic`` and ``benchmark-eval convert``, in
process: exit codes 0 (ok), 1 (inputs failed checks), 2 (usage), and what is printed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_help_lists
from helpers import run_cli as run
from PIL import Image
from synth_panoptic import make_case, write_case

import benchmark_eval

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "panopticapi_sample"
KEYS = ("PQ", "SQ", "RQ", "N", "PQ_th", "SQ_th", "RQ_th", "N_th", "PQ_st", "SQ_st", "RQ_st",
        "N_st")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write_case(make_case("crowd") + make_case("void_bleed") + make_case("random", 2),
                      tmp_path)


def test_help_lists_the_protocol_and_convert() -> None:
    assert_help_lists(("coco-panoptic", "convert"), ["evaluate", "coco-panoptic"],
                      ("--gt", "--gt-dir", "--pred", "--pred-dir", "--out", "--workers"))
    code, out, _ = run(["convert", "--help"])
    assert code == 0
    for name in ("instances-to-panoptic", "panoptic-to-instances", "panoptic-to-semantic"):
        assert name in out


def test_evaluate_prints_panopticapi_table_and_writes_the_report(
        files: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = files
    report = tmp_path / "report.json"
    code, out, err = run(["evaluate", "coco-panoptic", "--gt", gt, "--pred", pred,
                          "--out", report, "--workers", "2"])
    assert code == 0, err
    api = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    lines = out.splitlines()
    assert lines[0] == "          |    PQ     SQ     RQ     N"
    m = api.metrics
    assert lines[2] == (f"All       | {100 * m['PQ']:5.1f}  {100 * m['SQ']:5.1f}  "
                        f"{100 * m['RQ']:5.1f} {m['N']:5d}")
    assert lines[3].startswith("Things    |")
    assert lines[4].startswith("Stuff     |")
    assert "category" in lines[6]  # the per-class table follows
    assert "person" in out
    doc = json.loads(report.read_text())
    assert doc["protocol"] == "coco-panoptic"
    assert tuple(doc["metrics"]) == KEYS
    assert doc["metrics"]["PQ"] == pytest.approx(m["PQ"], abs=1e-12)
    assert set(doc["per_class"]) == {str(c) for c in api.category_ids}
    assert set(doc["per_class"]["1"]) == {"PQ", "SQ", "RQ"}
    assert doc["counts"]["images"] == 8


def test_no_per_class(files: tuple[Path, Path]) -> None:
    gt, pred = files
    code, out, _ = run(["evaluate", "coco-panoptic", "--gt", gt, "--pred", pred,
                        "--no-per-class", "--workers", "1"])
    assert code == 0
    assert len(out.strip().splitlines()) == 5


def test_real_sample_with_explicit_folders() -> None:
    gt = SAMPLE / "panoptic_examples.json"
    code, out, _ = run(["evaluate", "coco-panoptic", "--gt", gt, "--pred", gt,
                        "--pred-dir", SAMPLE / "panoptic_examples"])
    assert code == 0
    # categories present: 1, 37, 184, 187, 193 (first image) and 1, 8, 19, 125 (second)
    assert out.splitlines()[2] == "All       | 100.0  100.0  100.0     8"


def test_validate_clean_and_broken(files: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = files
    code, out, _ = run(["validate", "coco-panoptic", "--gt", gt, "--pred", pred])
    assert (code, out.strip()) == (0, "OK: the predictions are a valid coco-panoptic submission")
    doc = json.loads(pred.read_text())
    doc["annotations"][0]["segments_info"].pop(0)
    doc["annotations"][1]["segments_info"][0]["category_id"] = 4040
    pred.write_text(json.dumps(doc))
    code, out, _ = run(["validate", "coco-panoptic", "--gt", gt, "--pred", pred,
                        "--out", tmp_path / "problems.json"])
    assert code == 1
    assert "1 problem(s) found" in out  # JSON problems first: PNGs are not read then
    assert "category_id 4040" in out
    doc["annotations"][1]["segments_info"][0]["category_id"] = 1
    pred.write_text(json.dumps(doc))
    code, out, _ = run(["validate", "coco-panoptic", "--gt", gt, "--pred", pred])
    assert code == 1
    assert "is in the PNG" in out
    problems = json.loads((tmp_path / "problems.json").read_text())
    assert problems[0]["field"] == "annotations[1].segments_info"


def test_evaluate_stops_with_exit_1_on_a_bad_png(files: tuple[Path, Path]) -> None:
    gt, pred = files
    name = json.loads(pred.read_text())["annotations"][2]["file_name"]
    path = pred.with_suffix("") / name
    Image.fromarray(np.asarray(Image.open(path))).convert("P").save(path)
    code, out, err = run(["evaluate", "coco-panoptic", "--gt", gt, "--pred", pred])
    assert code == 1
    assert out == ""
    assert f"{path}: is a palette PNG (8-bit), expected 8-bit RGB" in err


def test_usage_errors_exit_2(files: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = files
    plain = tmp_path / "gt_without_suffix"
    plain.write_text(gt.read_text())
    code, _, err = run(["evaluate", "coco-panoptic", "--gt", plain, "--pred", pred])
    assert code == 2
    assert "does not end in .json" in err
    code, _, _ = run(["evaluate", "coco-panoptic", "--pred", pred])
    assert code == 2
    code, _, _ = run(["convert", "instances-to-panoptic", "--instances", gt, "--out", "x.json",
                      "--overlap", "coin-flip"])
    assert code == 2


def test_missing_folder_exit_1(files: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = files
    code, _, err = run(["evaluate", "coco-panoptic", "--gt", gt, "--pred", pred,
                        "--pred-dir", tmp_path / "nowhere"])
    assert code == 1
    assert "PNG folder not found" in err


def test_convert_commands(tmp_path: Path) -> None:
    pan = SAMPLE / "panoptic_examples.json"
    code, out, err = run(["convert", "panoptic-to-instances", "--panoptic", pan,
                          "--out", tmp_path / "inst.json"])
    assert code == 0, err
    assert out.strip() == f"wrote {tmp_path / 'inst.json'}: 2 images, 50 annotations"
    code, out, _ = run(["convert", "instances-to-panoptic", "--instances",
                        tmp_path / "inst.json", "--out", tmp_path / "pan.json"])
    assert code == 0
    assert "2 images, 50 segments" in out
    assert (tmp_path / "pan" / "000000142238.png").exists()
    code, out, _ = run(["convert", "panoptic-to-semantic", "--panoptic", tmp_path / "pan.json",
                        "--out-dir", tmp_path / "sem", "--void", "255"])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "sem").iterdir()) == [
        "000000142238.png", "000000439180.png"]
    label = np.asarray(Image.open(tmp_path / "sem" / "000000439180.png"))
    assert set(np.unique(label).tolist()) == {1, 8, 19, 125, 184, 187, 193, 255}


def test_convert_overlap_error_exit_1(tmp_path: Path) -> None:
    inst = json.loads((ROOT / "data_samples" / "coco" / "instances.json").read_text())
    first = inst["annotations"][0]
    inst["annotations"].append(dict(first, id=999))  # a copy: overlaps itself everywhere
    (tmp_path / "inst.json").write_text(json.dumps(inst))
    code, _, err = run(["convert", "instances-to-panoptic", "--instances",
                        tmp_path / "inst.json", "--out", tmp_path / "pan.json"])
    assert code == 1
    assert f"annotation id 999 overlaps annotation id {first['id']}" in err
    code, out, _ = run(["convert", "instances-to-panoptic", "--instances",
                        tmp_path / "inst.json", "--out", tmp_path / "pan.json",
                        "--overlap", "first-wins"])
    assert code == 0
    assert "1 masks lost every pixel" in out
