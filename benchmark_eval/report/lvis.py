"""Result of the LVIS protocols, its JSON report and its text rendering."""

from __future__ import annotations

__all__ = ["LvisResult", "lvis_summary_lines"]

from dataclasses import dataclass, field

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.lvis import LvisMetrics, LvisParams
from benchmark_eval.report.common import (
    ReportMixin,
    category_axis,
    none_if_undefined,
    package_versions,
    per_class_table,
)
from benchmark_eval.schema import InstanceDataset

PER_CLASS_KEYS = ("AP", "AP50", "AP75")


@dataclass(frozen=True)
class LvisResult(ReportMixin):
    """Outcome of ``lvis-bbox`` / ``lvis-segm``.

    Attributes:
        protocol: Protocol name.
        results: lvis-api's ``LVISEval.results`` (``AP`` ... ``ARl@300``), -1 where
            undefined.
        metrics: The same as fractions, ``None`` where lvis-api reports -1.
        per_class: Category id -> ``{"AP", "AP50", "AP75"}`` (``None`` if undefined).
        precision: ``(T, R, K, A)`` as ``LVISEval.eval["precision"]``.
        recall: ``(T, K, A)``.
        category_ids, category_names: The K axis.
        params, state, warnings, counts, versions: As for the COCO result.
    """

    protocol: str
    results: dict[str, float]
    metrics: dict[str, float | None]
    per_class: dict[int, dict[str, float | None]]
    precision: np.ndarray
    recall: np.ndarray
    category_ids: list[int]
    category_names: list[str]
    params: LvisParams
    state: CocoState = field(repr=False, compare=False)
    warnings: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, protocol: str, state: CocoState, computed: LvisMetrics,
              params: LvisParams, *, dataset: InstanceDataset, notices: list[Notice],
              counts: dict[str, int]) -> LvisResult:
        """Assemble the result of a computed state."""
        cat_ids, names = category_axis(state.category_ids, dataset.categories)
        acc = computed.accumulated
        return cls(
            protocol=protocol, results=computed.results,
            metrics={k: none_if_undefined(v) for k, v in computed.results.items()},
            per_class={c: {k: none_if_undefined(v) for k, v in d.items()}
                       for c, d in zip(cat_ids, computed.per_class, strict=True)},
            precision=acc.precision[..., 0], recall=acc.recall[..., 0], category_ids=cat_ids,
            category_names=names, params=params, state=state, warnings=list(notices),
            counts=dict(counts, images=state.n_images),
            versions=package_versions("pycocotools"),
        )

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
