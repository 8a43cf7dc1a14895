"""The protocol catalogue and the lazy registry: ``import benchmark_eval`` and
``benchmark-eval --help`` list every protocol without importing the heavy modules."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

import benchmark_eval
from benchmark_eval.workflows import WORKFLOWS
from benchmark_eval.workflows.catalog import CATALOG

HEAVY = ("numpy", "pydantic", "PIL", "pycocotools", "orjson", "deflate",
         "benchmark_eval.protocols", "benchmark_eval.io.coco_gt", "benchmark_eval.workflows.base")


def _imported_after(code: str) -> set[str]:
    """Top-level names of the modules ``code`` imports, run in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    return set(out)


@pytest.mark.parametrize("code", [
    "import benchmark_eval",
    "import benchmark_eval; benchmark_eval.PROTOCOLS",
    "from benchmark_eval.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
    "    pass",
])
def test_listing_protocols_imports_nothing_heavy(code: str) -> None:
    modules = _imported_after(code)
    assert not {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}


def test_every_catalogue_entry_is_its_family_workflow() -> None:
    assert list(WORKFLOWS) == list(CATALOG) == list(benchmark_eval.PROTOCOLS)
    families = {e.module for e in CATALOG.values()}
    for module in families:
        mod = import_module(f"benchmark_eval.workflows.{module}")
        found = getattr(mod, "WORKFLOWS", None) or (mod.WORKFLOW,)
        assert {w.name for w in found} == {e.name for e in CATALOG.values()
                                           if e.module == module}
    for name, e in CATALOG.items():
        w = WORKFLOWS[name]
        assert (w.name, w.summary, w.example) == (name, e.summary, e.example)


def test_lazy_public_names_resolve() -> None:
    for name in benchmark_eval.__all__:
        assert getattr(benchmark_eval, name) is not None
    assert set(benchmark_eval.__all__) <= set(dir(benchmark_eval))
    with pytest.raises(AttributeError):
        benchmark_eval.no_such_name  # noqa: B018
    with pytest.raises(KeyError):
        WORKFLOWS["no-such-protocol"]
