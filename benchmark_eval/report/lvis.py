"""Result of the LVIS protocols, its JSON report and its text rendering."""

from __future__ import annotations

__all__ = ["LvisResult", "lvis_summary_lines"]

from dataclasses import dataclass, field

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.lvis import LvisMetrics, LvisParams
from benchmark_eval.report.coco import InstanceResult
from benchmark_eval.report.common import none_if_undefined, per_class_table
from benchmark_eval.schema import InstanceDataset

PER_CLASS_KEYS = ("AP", "AP50", "AP75")


@dataclass(frozen=True, kw_only=True)
class LvisResult(InstanceResult):
    """Outcome of ``lvis-bbox`` / ``lvis-segm``: :class:`~benchmark_eval.report.coco.
    InstanceResult` (``per_class``: ``{"AP", "AP50", "AP75"}``; ``precision`` ``(T, R, K, A)``
    and ``recall`` ``(T, K, A)`` as ``LVISEval.eval``) and

    Attributes:
        results: lvis-api's ``LVISEval.results`` (``AP`` ... ``ARl@300``), -1 where
            undefined; ``metrics`` holds the same as fractions, ``None`` for -1.
        params: Parameters used.
        frequency: Frequency group (0 rare, 1 common, 2 frequent) per K index.
    """

    results: dict[str, float]
    params: LvisParams
    frequency: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False,
                                  compare=False)

    @classmethod
    def build(cls, protocol: str, state: CocoState, computed: LvisMetrics,
              params: LvisParams, *, dataset: InstanceDataset, notices: list[Notice],
              counts: dict[str, int], frequency: np.ndarray | None = None) -> LvisResult:
        """Assemble the result of a computed state."""
        shared = cls.shared_fields(protocol, state, dataset, notices, counts)
        acc = computed.accumulated
        return cls(
            **shared, results=computed.results,
            metrics={k: none_if_undefined(v) for k, v in computed.results.items()},
            per_class={c: {k: none_if_undefined(v) for k, v in d.items()}
                       for c, d in zip(shared["category_ids"], computed.per_class, strict=True)},
            precision=acc.precision[..., 0], recall=acc.recall[..., 0], params=params,
            frequency=np.zeros(0, np.int64) if frequency is None else frequency)

    def summary_lines(self) -> list[str]:
        """lvis-api's ``print_results`` lines."""
        return lvis_summary_lines(self)

    def per_class_lines(self) -> list[str]:
        """A per-class table of the categories that occur in these images."""
        return per_class_table(self.category_ids, self.category_names, self.per_class,
                               PER_CLASS_KEYS, skip_undefined=True)


def lvis_summary_lines(result: LvisResult) -> list[str]:
    """The lines of lvis-api ``LVISEval.print_results``, in its exact format.

    As in lvis-api, the area column shows the key's third letter (``s``, ``m``, ``l``) and
    the category-group column the frequency letter (``r``, ``c``, ``f``) or ``all``.
    """
    max_dets = result.params.max_dets
    thr = result.params.iou_thresholds
    lines = []
    for key, value in result.results.items():
        title, kind = ("Average Precision", "(AP)") if "AP" in key else (
            "Average Recall", "(AR)")
        third = key[2] if len(key) > 2 else ""
        iou = (f"{float(key[2:]) / 100:0.2f}" if third.isdigit()
               else f"{thr[0]:0.2f}:{thr[-1]:0.2f}")
        group = third if third in ("r", "c", "f") else "all"
        area = third if third in ("s", "m", "l") else "all"
        lines.append(f" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6s} | "
                     f"maxDets={max_dets:>3d} catIds={group:>3s}] = {value:0.3f}")
    return lines
