"""Result of the ``semantic`` protocols, its JSON report and its text rendering."""

from __future__ import annotations

__all__ = ["SemanticResult", "semantic_per_class_table", "semantic_summary_table"]

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols import semantic as sp
from benchmark_eval.protocols.semantic_params import SemanticParams
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.report.common import package_versions
from benchmark_eval.report.fields import ResultFields, none_if_nan

PER_CLASS_KEYS = sp.PER_CLASS_KEYS


@dataclass(frozen=True)
class SemanticResult(ResultFields):
    """Outcome of ``semantic`` / ``semantic-binary``.

    Attributes:
        protocol: Protocol name.
        metrics: ``mIoU``, ``mAcc``, ``mDice``, ``aAcc``, ``fwIoU`` as fractions (and the
            foreground ``IoU`` and ``Dice`` for binary masks); ``None`` where undefined (no
            class, or no pixel, to average over).
        per_class: Class name -> ``{"IoU", "Acc", "Dice", "Precision"}``, ``None`` where the
            rule leaves the class undefined.
        confusion: ``(C+1, C+1)`` int64: rows GT classes then "ignored", columns predicted
            classes then "no class".
        class_names: The per-class keys, in class-index order.
        computed: The arrays behind ``metrics`` (per-class ratios, per-image Dice...).
        params: Parameters used.
        state: The merged statistics the result was computed from.
        warnings: What the rule did with no-class predictions and absent classes.
        counts: Images and pixels counted.
    """

    confusion: np.ndarray
    class_names: list[str]
    computed: sp.SemanticMetrics
    params: SemanticParams
    state: SemanticState

    @classmethod
    def build(cls, protocol: str, state: SemanticState, computed: sp.SemanticMetrics,
              params: SemanticParams, *, notices: list[Notice] | None = None
              ) -> SemanticResult:
        """Assemble the result of a computed state."""
        c = params.num_classes
        names = params.names()
        arrays = dict(zip(PER_CLASS_KEYS, (computed.iou, computed.acc, computed.dice,
                                           computed.precision), strict=True))
        per_class = {name: {k: none_if_nan(float(arrays[k][i])) for k in PER_CLASS_KEYS}
                     for i, name in enumerate(names)}
        conf = state.confusion
        counts = {
            "images": state.n_images,
            "pixels": int(conf.sum()),
            "pixels_ignored": int(conf[c].sum()),
            "pixels_no_class_predicted": int(conf[:c, c].sum()),
            "classes_with_gt": int((conf[:c].sum(axis=1) > 0).sum()),
        }
        return cls(protocol=protocol,
                   metrics={k: none_if_nan(v) for k, v in computed.metrics.items()},
                   per_class=per_class, confusion=conf, class_names=names, computed=computed,
                   params=params, state=state, warnings=list(notices or []), counts=counts,
                   versions=package_versions("Pillow"))

    def report_extra(self) -> dict[str, Any]:
        """Protocol-specific report keys."""
        return {"confusion_matrix": self.confusion.tolist()}

    def summary_lines(self) -> list[str]:
        """:func:`semantic_summary_table` (values ×100)."""
        return semantic_summary_table(self)

    def per_class_lines(self) -> list[str]:
        """:func:`semantic_per_class_table` (values ×100)."""
        return semantic_per_class_table(self)


def _cell(v: float | None, width: int) -> str:
    return f"{'-':>{width}}" if v is None else f"{100 * v:{width}.2f}"


def semantic_summary_table(result: SemanticResult) -> list[str]:
    """One header line and one line of values (×100, ``-`` where undefined)."""
    keys = [k for k in (*sp.BINARY_KEYS, *sp.METRIC_KEYS) if k in result.metrics]
    width = 7
    return ["  ".join(f"{k:>{width}}" for k in keys),
            "  ".join(_cell(result.metrics[k], width) for k in keys)]


def semantic_per_class_table(result: SemanticResult) -> list[str]:
    """One row per class: IoU, Acc, Dice, Precision ×100 (``-`` where undefined)."""
    width = max([5, *(len(n) for n in result.class_names)])
    head = f"{'class':<{width}}  " + "  ".join(f"{k:>9}" for k in PER_CLASS_KEYS)
    lines = [head, "-" * len(head)]
    for name in result.class_names:
        values = result.per_class[name]
        lines.append(f"{name:<{width}}  " + "  ".join(_cell(values[k], 9)
                                                       for k in PER_CLASS_KEYS))
    return lines
