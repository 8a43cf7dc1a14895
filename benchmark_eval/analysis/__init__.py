"""Error analysis beyond the score: what costs a detector its AP.

:func:`tide` reproduces tidecv 1.0.1's TIDE breakdown; :func:`detection_confusion` builds
hotcoco's / faster-coco-eval's detection confusion matrix with P / R / F1 per class;
:func:`pr_curves`, :func:`calibration` and :func:`image_diagnostics` read an evaluation's
merged state; :func:`most_confused` ranks any confusion matrix's off-diagonal cells
(``docs/analysis.md``).
"""

from benchmark_eval.analysis.calibration import Calibration, calibration
from benchmark_eval.analysis.confusion import DetectionConfusion, detection_confusion, most_confused
from benchmark_eval.analysis.curves import ClassCurve, pr_curves
from benchmark_eval.analysis.diagnostics import ImageDiagnostics, image_diagnostics
from benchmark_eval.analysis.tide import (
    MAIN_ERRORS,
    SPECIAL_ERRORS,
    TideResult,
    tide,
    tide_breakdown,
)

__all__ = [
    "MAIN_ERRORS",
    "SPECIAL_ERRORS",
    "Calibration",
    "ClassCurve",
    "DetectionConfusion",
    "ImageDiagnostics",
    "TideResult",
    "calibration",
    "detection_confusion",
    "image_diagnostics",
    "most_confused",
    "pr_curves",
    "tide",
    "tide_breakdown",
]
