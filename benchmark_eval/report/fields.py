"""The fields every result dataclass shares, declared once."""

from __future__ import annotations

__all__ = ["ResultFields", "none_if_nan"]

import math
from dataclasses import dataclass, field
from typing import Any

from benchmark_eval.errors import Notice
from benchmark_eval.report.common import ReportMixin


def none_if_nan(value: float) -> float | None:
    """NaN (undefined, as cityscapesScripts and mmseg leave it) as ``None`` (JSON ``null``)."""
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class ResultFields(ReportMixin):
    """``protocol``, ``metrics`` and ``per_class`` first, then the subclass's own fields;
    ``warnings``, ``counts`` and ``versions`` are keyword-only, so they may come last.

    Attributes:
        protocol: Protocol name.
        metrics: The summary numbers as fractions, ``None`` where undefined.
        per_class: Class -> its numbers, ``None`` where undefined.
        warnings: Reproduced quirks and exclusions worth knowing about.
        counts: What was counted (images, pixels, instances...).
        versions: Versions of the packages involved.
    """

    protocol: str
    metrics: dict[str, float | None]
    per_class: dict[Any, dict[str, float | None]]
    warnings: list[Notice] = field(default_factory=list, kw_only=True)
    counts: dict[str, int] = field(default_factory=dict, kw_only=True)
    versions: dict[str, str] = field(default_factory=dict, kw_only=True)
