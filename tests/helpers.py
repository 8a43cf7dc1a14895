"""Helpers shared by the test folders: the in-process CLI runner, the ``data_samples/``
scripts, and the ``--help`` check."""

from __future__ import annotations

__all__ = ["SAMPLES", "assert_help_lists", "assert_same_files", "run_cli", "sample_script"]

import importlib.util
import io
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from benchmark_eval.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def run_cli(argv: Iterable[object]) -> tuple[int, str, str]:
    """``benchmark-eval argv`` in this process: ``(exit code, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_help_lists(names: Iterable[str], command: list[str], options: Iterable[str]
                      ) -> None:
    """``--help`` exits 0 and names every one of ``names``; ``command --help`` exits 0 and
    lists every one of ``options``."""
    code, out, _ = run_cli(["--help"])
    assert code == 0
    for name in names:
        assert name in out
    code, out, _ = run_cli([*command, "--help"])
    assert code == 0
    for option in options:
        assert option in out


def sample_script(name: str) -> ModuleType:
    """``data_samples/<name>.py`` imported as a module (its ``make(out)`` writes a sample)."""
    spec = importlib.util.spec_from_file_location(name, SAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same_files(written: Iterable[Path], root: Path, stored: Path) -> int:
    """Every file in ``written`` (under ``root``) is byte-identical to the file at the same
    relative path under ``stored``; returns their total size in bytes."""
    total = 0
    for path in written:
        rel = path.relative_to(root)
        assert path.read_bytes() == (stored / rel).read_bytes(), rel
        total += path.stat().st_size
    return total
