"""The package is lint-clean (ruff) and type-checks (mypy): part of the test command."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed next to {sys.executable}; install the test extra"
    return found


def test_ruff_clean() -> None:
    run = subprocess.run([_tool("ruff"), "check", "benchmark_eval", "tests", "benchmarks",
                          "data_samples"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_clean() -> None:
    run = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_c_kernels_are_built() -> None:
    # the install must have compiled benchmark_eval/masks/_rle.c; without it everything
    # still works (fallbacks, tested in tests/parity/test_coco_fallback.py) but slowly
    from benchmark_eval.masks import has_kernels

    assert has_kernels(), "the C extension benchmark_eval.masks._rle was not built"
