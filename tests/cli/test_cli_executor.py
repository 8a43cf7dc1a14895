"""``--executor dask`` on the command line: the same table and report as the local run."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli as run

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples" / "coco"
ARGS = ["evaluate", "coco-segm", "--gt", SAMPLES / "instances.json", "--pred",
        SAMPLES / "results_segm.json", "--quiet"]


def test_dask_executor_prints_and_reports_what_the_local_run_does(tmp_path: Path) -> None:
    code, local_out, _ = run([*ARGS, "--workers", "1", "--out", tmp_path / "local.json"])
    assert code == 0
    code, dask_out, _ = run([*ARGS, "--executor", "dask", "--workers", "2", "--out",
                             tmp_path / "dask.json"])
    assert code == 0
    assert dask_out == local_out
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "dask"))
    assert remote["metrics"] == local["metrics"]
    assert remote["per_class"] == local["per_class"]


def test_a_scheduler_with_the_local_executor_is_a_usage_error() -> None:
    code, _, err = run([*ARGS, "--executor", "local", "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    assert "error:" in err
