"""Every protocol, by name: the registry the API and the CLI dispatch through.

:data:`WORKFLOWS` maps each protocol of the catalogue
(:mod:`~benchmark_eval.workflows.catalog`) to its
:class:`~benchmark_eval.workflows.base.Workflow`, importing the family module (its
adapters, numpy, pydantic) when a workflow is first looked up, so that listing the
protocols stays cheap.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS", "Progress", "Result", "Workflow"]

from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

from benchmark_eval.workflows.catalog import CATALOG

if TYPE_CHECKING:
    from benchmark_eval.workflows.base import Progress, Result, Workflow


class _Registry(Mapping[str, "Workflow"]):
    """Protocol name -> workflow, in catalogue order; a family is imported on first use."""

    def __getitem__(self, name: str) -> Workflow:
        module = import_module(f"benchmark_eval.workflows.{CATALOG[name].module}")
        found = getattr(module, "WORKFLOWS", None) or (module.WORKFLOW,)
        return next(w for w in found if w.name == name)

    def __iter__(self) -> Iterator[str]:
        return iter(CATALOG)

    def __len__(self) -> int:
        return len(CATALOG)


WORKFLOWS: Mapping[str, Workflow] = _Registry()


def __getattr__(name: str) -> Any:
    """``Progress``, ``Result`` and ``Workflow`` from :mod:`~benchmark_eval.workflows.base`,
    imported on first use."""
    if name in ("Progress", "Result", "Workflow"):
        return getattr(import_module("benchmark_eval.workflows.base"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
