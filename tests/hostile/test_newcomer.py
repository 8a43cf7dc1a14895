"""The newcomer's list of issue 16: the kernels are never missing silently, exit codes
agree, ``validate`` counts every problem and writes them all, the benchmark README runs
anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SAMPLES, run_cli
from hostile_cases import refused, write_json

from benchmark_eval.masks import KERNELS, compiled_kernels

_COCO = ["--gt", SAMPLES / "coco" / "instances.json", "--pred",
         SAMPLES / "coco" / "results_bbox.json", "--workers", 1]


def test_the_report_says_which_kernels_are_compiled(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _, err = run_cli(["evaluate", "coco-bbox", *_COCO, "--out", out])
    assert code == 0, err
    built = [k for k, ok in compiled_kernels().items() if ok]
    assert json.loads(out.read_text())["versions"]["kernels"] == (", ".join(built) or "none")
    assert set(compiled_kernels()) == set(KERNELS)


def test_missing_kernels_are_not_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmark_eval.masks  # the CLI looks the kernels up there, when it runs

    monkeypatch.setattr(benchmark_eval.masks, "missing_kernels", lambda: ["rle", "pngfilter"])
    code, _, err = run_cli(["evaluate", "coco-bbox", *_COCO])
    assert code == 0
    assert "warning: C kernels not compiled (rle, pngfilter)" in err


def test_a_missing_gt_and_a_missing_config_both_exit_2(tmp_path: Path) -> None:
    for argv in (["evaluate", "coco-bbox", "--gt", tmp_path / "nope.json", *_COCO[2:]],
                 ["validate", "coco-bbox", "--gt", tmp_path / "nope.json", *_COCO[2:]],
                 ["evaluate", "coco-bbox", *_COCO, "--config", tmp_path / "nope.json"],
                 ["validate", "coco-bbox", *_COCO, "--config", tmp_path / "nope.json"]):
        refused(argv, "nope.json", code=2)


def test_validate_counts_every_problem_and_writes_them_all(tmp_path: Path) -> None:
    results = json.loads((SAMPLES / "coco" / "results_bbox.json").read_text())
    n = 25  # more than one kind lists: 20, then a line counting the other 5
    pred = write_json(tmp_path / "bad.json", [dict(results[0], image_id=99999)] * n + results)
    out = tmp_path / "problems.json"
    code, text, _ = run_cli(["validate", "coco-bbox", *_COCO[:2], "--pred", pred,
                             "--out", out])
    assert code == 1
    assert text.splitlines()[0] == f"{n} problem(s) found:"
    listed = json.loads(out.read_text())
    assert sum(max(p.get("hidden", 0), 1) for p in listed) == n
    assert listed[-1]["hidden"] == n - 20


def test_the_benchmark_readme_runs_anywhere() -> None:
    text = (Path(__file__).resolve().parents[2] / "benchmarks" / "README.md").read_text()
    assert "/work/" not in text
    assert "/venv/bin/python" not in text
