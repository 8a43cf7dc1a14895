"""benchmark_eval: the official tools' numbers for segmentation and detection benchmarks.

Example:
    >>> import benchmark_eval
    >>> r = benchmark_eval.evaluate("coco-segm", gt="gt.json", pred="res.json")  # doctest: +SKIP
"""

from benchmark_eval.api import PROTOCOLS, compare, evaluate, validate
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
from benchmark_eval.evaluator import Evaluator
from benchmark_eval.protocols.coco_keypoints_params import CrowdPoseParams, KeypointsParams
from benchmark_eval.protocols.coco_params import AreaRange, BoundaryParams, CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.lvis import LvisParams
from benchmark_eval.protocols.panoptic import PanopticBoundaryParams
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.protocols.semantic_params import SemanticParams
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.report.cityscapes import CityscapesInstanceResult, CityscapesSemanticResult
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
