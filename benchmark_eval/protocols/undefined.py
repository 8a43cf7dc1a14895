"""Undefined values: the official tools' -1, and ``None`` (``null`` in JSON) in our results.

pycocotools and lvis-api write -1 where a mean has nothing to average (no GT in an area
range, a category absent from the images); the JSON report writes ``null`` instead.
"""

from __future__ import annotations

__all__ = ["UNDEFINED", "mean_defined", "none_if_undefined"]

import numpy as np

UNDEFINED = -1.0  # COCOeval / LVISEval's value for "nothing to average"


def mean_defined(values: np.ndarray) -> float:
    """Mean of the entries above -1, or :data:`UNDEFINED` when there are none
    (``COCOeval.summarize``: ``np.mean(s[s > -1])``, -1 if empty)."""
    valid = values[values > -1]
    return UNDEFINED if len(valid) == 0 else float(np.mean(valid))


def none_if_undefined(value: float) -> float | None:
    """The official tools' -1 for "undefined" as ``None`` (``null`` in JSON)."""
    return None if value == UNDEFINED else float(value)
