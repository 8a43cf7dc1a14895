"""Writers on hostile names and careless outputs (issue 16): nothing is written outside the
output folder, an input is never overwritten, an existing output only with ``--force``, and
``--out`` is checked before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SAMPLES, run_cli
from hostile_cases import copy_sample, refused, write_json

from benchmark_eval.workflows.base import Workflow


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_panoptic_to_semantic_never_writes_where_file_name_points(tmp_path: Path) -> None:
    sample = copy_sample("coco-panoptic", tmp_path)
    data = sample.json("gt")
    data["annotations"][0]["file_name"] = "../../evil.png"
    write_json(sample.gt, data)
    before = _files(tmp_path)
    refused(["convert", "panoptic-to-semantic", "--panoptic", sample.gt, "--out-dir",
             tmp_path / "sem"], str(sample.gt), "leads outside its folder")
    assert not (tmp_path.parent / "evil.png").exists()
    assert _files(tmp_path) == before


@pytest.mark.parametrize("force", [False, True])
def test_converters_never_overwrite_their_inputs(tmp_path: Path, force: bool) -> None:
    sample = copy_sample("coco-panoptic", tmp_path)
    extra = ["--force"] if force else []
    gt_bytes = sample.gt.read_bytes()
    refused(["convert", "panoptic-to-instances", "--panoptic", sample.gt, "--out", sample.gt,
             *extra], str(sample.gt), "it is an input", code=2)
    pngs = {p: p.read_bytes() for p in sample.folder("gt").iterdir()}
    refused(["convert", "panoptic-to-semantic", "--panoptic", sample.gt, "--out-dir",
             sample.folder("gt"), *extra], "it is an input", code=2)
    refused(["convert", "panoptic-to-semantic", "--panoptic", sample.gt, "--out-dir",
             tmp_path, *extra], "holds the input", code=2)
    refused(["convert", "instances-to-panoptic", "--instances", SAMPLES / "coco" /
             "instances.json", "--out", sample.pred, "--out-dir", tmp_path / "p", *extra],
            "refusing to overwrite" if not force else "wrote", code=2 if not force else 0)
    assert sample.gt.read_bytes() == gt_bytes
    assert {p: p.read_bytes() for p in sample.folder("gt").iterdir()} == pngs


def test_an_existing_output_needs_force(tmp_path: Path) -> None:
    sample = copy_sample("coco-panoptic", tmp_path)
    out = tmp_path / "instances.json"
    out.write_text("{}")
    argv = ["convert", "panoptic-to-instances", "--panoptic", sample.gt, "--out", out]
    refused(argv, str(out), "use --force", code=2)
    assert out.read_text() == "{}"
    code, _, err = run_cli([*argv, "--force"])
    assert code == 0, err
    assert json.loads(out.read_text())["annotations"]
    sem = tmp_path / "sem"
    code, _, err = run_cli(["convert", "panoptic-to-semantic", "--panoptic", sample.gt,
                            "--out-dir", sem])
    assert code == 0, err
    refused(["convert", "panoptic-to-semantic", "--panoptic", sample.gt, "--out-dir", sem],
            "not empty (use --force)", code=2)
    polygons = ["convert", "cityscapes-polygons", "--gt", SAMPLES / "cityscapes" / "gtFine",
                "--out-dir", tmp_path / "maps"]
    assert run_cli(polygons)[0] == 0
    refused(polygons, "refusing to overwrite", "use --force", code=2)
    assert run_cli([*polygons, "--force"])[0] == 0


@pytest.mark.parametrize("command", ["evaluate", "validate"])
def test_out_is_checked_before_any_work(tmp_path: Path, command: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sample = copy_sample("coco-panoptic", tmp_path)

    def no_work(*_: object, **__: object) -> None:
        raise AssertionError("the inputs were read before --out was checked")

    monkeypatch.setattr(Workflow, command, no_work)
    gt_bytes = sample.gt.read_bytes()
    cases = [(tmp_path / "no" / "r.json", "does not exist"),
             (tmp_path, "it is a folder"),
             (sample.gt, "it is an input"),
             (sample.folder("gt") / "r.json", "it is an input")]
    for out, message in cases:
        refused(sample.args(command, "--out", out), message, code=2)
        refused(sample.args(command, "--out", out, "--force"), message, code=2)
    # the PNG folder implied by a JSON (not named on the command line) is an input too
    png = sorted(sample.folder("pred").glob("*.png"))[0]
    refused([command, "coco-panoptic", "--gt", sample.gt, "--pred", sample.pred, "--out",
             png, "--force"], "it is an input", code=2)
    existing = tmp_path / "old.json"
    existing.write_text("old")
    refused(sample.args(command, "--out", existing), "use --force", code=2)
    assert existing.read_text() == "old"
    assert sample.gt.read_bytes() == gt_bytes


def test_out_is_written_atomically_with_force(tmp_path: Path) -> None:
    sample = copy_sample("coco-panoptic", tmp_path)
    out = tmp_path / "report.json"
    out.write_text("old")
    code, _, err = run_cli(sample.args("evaluate", "--out", out, "--force"))
    assert code == 0, err
    assert "PQ" in json.loads(out.read_text())["metrics"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panoptic", "report.json"]
