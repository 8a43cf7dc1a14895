"""Error analysis beyond the score: what costs a detector its AP.

:func:`tide` reproduces tidecv 1.0.1's TIDE breakdown (``docs/analysis.md``).
"""

from benchmark_eval.analysis.tide import (
    MAIN_ERRORS,
    SPECIAL_ERRORS,
    TideResult,
    tide,
    tide_breakdown,
)

__all__ = ["MAIN_ERRORS", "SPECIAL_ERRORS", "TideResult", "tide", "tide_breakdown"]
