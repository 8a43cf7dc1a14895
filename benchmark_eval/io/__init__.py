"""Adapters: the only code that reads or writes files.

The names below are imported from their module on first use (PEP 562): importing one
adapter (e.g. :mod:`~benchmark_eval.io.jsonfile`) does not import the COCO ones.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "check_coco_ground_truth",
    "check_coco_results",
    "load_coco_ground_truth",
    "load_coco_results",
    "read_json",
    "write_json",
]

_LAZY = {"check_coco_ground_truth": "coco_gt", "load_coco_ground_truth": "coco_gt",
         "check_coco_results": "coco_results", "load_coco_results": "coco_results",
         "read_json": "jsonfile", "write_json": "jsonfile"}

if TYPE_CHECKING:  # the type checker sees plain imports (and no module __getattr__)
    from benchmark_eval.io.coco_gt import check_coco_ground_truth, load_coco_ground_truth
    from benchmark_eval.io.coco_results import check_coco_results, load_coco_results
    from benchmark_eval.io.jsonfile import read_json, write_json
else:
    def __getattr__(name: str) -> Any:
        """The adapters of :data:`__all__`, imported on first use."""
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(import_module(f"benchmark_eval.io.{_LAZY[name]}"), name)
