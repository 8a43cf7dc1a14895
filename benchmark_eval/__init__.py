"""benchmark_eval: the official tools' numbers for segmentation and detection benchmarks.

Example:
    >>> import benchmark_eval
    >>> r = benchmark_eval.evaluate("coco-segm", gt="gt.json", pred="res.json")  # doctest: +SKIP
"""

from benchmark_eval.api import PROTOCOLS, evaluate, validate
from benchmark_eval.errors import BenchmarkEvalError, InputError
from benchmark_eval.protocols.coco_params import AreaRange, BoundaryParams, CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.lvis import LvisParams
from benchmark_eval.report.coco import CocoResult
from benchmark_eval.report.lvis import LvisResult

__all__ = [
    "PROTOCOLS",
    "AreaRange",
    "BenchmarkEvalError",
    "BoundaryParams",
    "CocoParams",
    "CocoResult",
    "CocoState",
    "InputError",
    "LvisParams",
    "LvisResult",
    "evaluate",
    "validate",
]
__version__ = "0.1.0"
