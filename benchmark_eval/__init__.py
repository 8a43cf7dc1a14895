"""benchmark_eval: the official tools' numbers for segmentation and detection benchmarks.

Example:
    >>> import benchmark_eval
    >>> r = benchmark_eval.evaluate("coco-segm", gt="gt.json", pred="res.json")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from benchmark_eval.errors import (
    BenchmarkEvalError,
    ConfigError,
    ConsistencyError,
    FormatError,
    InputError,
    MissingPredictionError,
    Notice,
    Problem,
)

# Public names -> the module defining them, imported on first use (PEP 562), so that
# ``import benchmark_eval`` does not import numpy, pydantic or any protocol family.
_LAZY = {
    "PROTOCOLS": "api", "compare": "api", "evaluate": "api", "validate": "api",
    "Evaluator": "evaluator",
    "CrowdPoseParams": "protocols.coco_keypoints_params",
    "KeypointsParams": "protocols.coco_keypoints_params",
    "CrowdPoseResult": "report.coco_keypoints", "KeypointsResult": "report.coco_keypoints",
    "AreaRange": "protocols.coco_params", "BoundaryParams": "protocols.coco_params",
    "CocoParams": "protocols.coco_params", "CocoState": "protocols.coco_state",
    "LvisParams": "protocols.lvis", "PanopticBoundaryParams": "protocols.panoptic",
    "PanopticState": "protocols.panoptic_state", "SemanticParams": "protocols.semantic_params",
    "SemanticState": "protocols.semantic_state",
    "CityscapesInstanceResult": "report.cityscapes",
    "CityscapesSemanticResult": "report.cityscapes", "CocoResult": "report.coco",
    "LvisResult": "report.lvis", "PanopticResult": "report.panoptic",
    "SemanticResult": "report.semantic",
}

if TYPE_CHECKING:
    from benchmark_eval.api import PROTOCOLS, compare, evaluate, validate
    from benchmark_eval.evaluator import Evaluator
    from benchmark_eval.protocols.coco_keypoints_params import CrowdPoseParams, KeypointsParams
    from benchmark_eval.protocols.coco_params import AreaRange, BoundaryParams, CocoParams
    from benchmark_eval.protocols.coco_state import CocoState
    from benchmark_eval.protocols.lvis import LvisParams
    from benchmark_eval.protocols.panoptic import PanopticBoundaryParams
    from benchmark_eval.protocols.panoptic_state import PanopticState
    from benchmark_eval.protocols.semantic_params import SemanticParams
    from benchmark_eval.protocols.semantic_state import SemanticState
    from benchmark_eval.report.cityscapes import (
        CityscapesInstanceResult,
        CityscapesSemanticResult,
    )
    from benchmark_eval.report.coco import CocoResult
    from benchmark_eval.report.coco_keypoints import CrowdPoseResult, KeypointsResult
    from benchmark_eval.report.lvis import LvisResult
    from benchmark_eval.report.panoptic import PanopticResult
    from benchmark_eval.report.semantic import SemanticResult

__all__ = [
    "PROTOCOLS",
    "AreaRange",
    "BenchmarkEvalError",
    "BoundaryParams",
    "CityscapesInstanceResult",
    "CityscapesSemanticResult",
    "CocoParams",
    "CocoResult",
    "CocoState",
    "ConfigError",
    "ConsistencyError",
    "CrowdPoseParams",
    "CrowdPoseResult",
    "Evaluator",
    "FormatError",
    "InputError",
    "KeypointsParams",
    "KeypointsResult",
    "LvisParams",
    "LvisResult",
    "MissingPredictionError",
    "Notice",
    "PanopticBoundaryParams",
    "PanopticResult",
    "PanopticState",
    "Problem",
    "SemanticParams",
    "SemanticResult",
    "SemanticState",
    "compare",
    "evaluate",
    "validate",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """The public names of :data:`_LAZY`, imported from their module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"benchmark_eval.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
