"""Result of the COCO instance protocols, its JSON report and its text rendering."""

from __future__ import annotations

__all__ = ["METRIC_KEYS", "CocoResult", "InstanceResult", "coco_per_class_table",
           "coco_summary_lines", "summary_line", "summary_lines"]

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.coco import METRIC_KEYS, CocoMetrics
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.report.common import (
    ReportMixin,
    category_axis,
    package_versions,
    per_class_table,
)
from benchmark_eval.schema import InstanceDataset

PER_CLASS_KEYS = ("AP", "AP50", "AP75", "AR100")


@dataclass(frozen=True, kw_only=True)
class InstanceResult(ReportMixin):
    """What the COCO and LVIS results share.

    Attributes:
        protocol: Protocol name.
        metrics: The summary by name, fractions in [0, 1], ``None`` where the official tool
            reports -1.
        per_class: Category id -> per-class values (``None`` if undefined).
        precision: As the official tool's ``eval["precision"]``, -1 where undefined.
        recall: As its ``eval["recall"]``.
        category_ids: The K axis.
        category_names: Name per entry of ``category_ids``.
        state: The merged state the result was computed from.
        warnings: Reproduced quirks worth knowing about.
        counts: What was evaluated and what the protocol excluded.
        versions: Package versions.
    """

    protocol: str
    metrics: dict[str, float | None]
    per_class: dict[int, dict[str, float | None]]
    precision: np.ndarray
    recall: np.ndarray
    category_ids: list[int]
    category_names: list[str]
    state: CocoState = field(repr=False, compare=False)
    warnings: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def shared_fields(protocol: str, state: CocoState, dataset: InstanceDataset | None,
                      notices: list[Notice] | None, counts: dict[str, int] | None
                      ) -> dict[str, Any]:
        """The fields every instance result takes from its state and inputs (category
        names from the dataset if given)."""
        ids, names = category_axis(state.category_ids,
                                   None if dataset is None else dataset.categories)
        return {"protocol": protocol, "category_ids": ids, "category_names": names,
                "state": state, "warnings": list(notices or []),
                "counts": dict(counts or {}, images=state.n_images),
                "versions": package_versions("pycocotools")}


@dataclass(frozen=True, kw_only=True)
class CocoResult(InstanceResult):
    """Outcome of ``coco-bbox`` / ``coco-segm`` / ``coco-boundary``: :class:`InstanceResult`
    (``metrics`` by :data:`METRIC_KEYS`, ``AP`` taken at the last ``max_detections``;
    ``per_class``: ``{"AP", "AP50", "AP75", "AR100"}``; ``precision`` ``(T, R, K, A, M)`` and
    ``recall`` ``(T, K, A, M)`` as ``COCOeval.eval``) and

    Attributes:
        stats: The 12 numbers of pycocotools ``COCOeval.stats``, -1 where undefined.
        scores: ``(T, R, K, A, M)``.
        params: Parameters used.
    """

    stats: np.ndarray
    scores: np.ndarray
    params: CocoParams

    @classmethod
    def build(cls, protocol: str, state: CocoState, computed: CocoMetrics, params: CocoParams,
              *, dataset: InstanceDataset | None = None, notices: list[Notice] | None = None,
              counts: dict[str, int] | None = None) -> CocoResult:
        """Assemble the result of a computed state."""
        shared = cls.shared_fields(protocol, state, dataset, notices, counts)
        acc = computed.accumulated
        return cls(**shared, stats=computed.stats, metrics=computed.metrics,
                   per_class=dict(zip(shared["category_ids"], computed.per_class, strict=True)),
                   precision=acc.precision, recall=acc.recall, scores=acc.scores, params=params)

    def summary_lines(self) -> list[str]:
        """pycocotools' 12 summary lines."""
        return coco_summary_lines(self)

    def per_class_lines(self) -> list[str]:
        """The per-class table."""
        return coco_per_class_table(self)


def _fmt_value(v: float) -> str:
    return f"{v:0.3f}"


def coco_summary_lines(result: CocoResult) -> list[str]:
    """The 12 lines pycocotools ``summarize`` prints, in its exact format."""
    return summary_lines(result.params, result.stats)


def summary_lines(p: CocoParams, stats: np.ndarray) -> list[str]:
    """pycocotools' 12 ``summarize`` lines of ``stats`` computed with ``p``."""
    md = p.max_detections
    last = md[2] if len(md) >= 3 else md[-1]
    rows = [
        (True, None, "all", 100), (True, 0.5, "all", last), (True, 0.75, "all", last),
        (True, None, "small", last), (True, None, "medium", last), (True, None, "large", last),
        (False, None, "all", md[0]), (False, None, "all", md[1] if len(md) > 1 else last),
        (False, None, "all", last), (False, None, "small", last),
        (False, None, "medium", last), (False, None, "large", last),
    ]
    return [summary_line(ap, iou, area, max_det, float(value), p.iou_thresholds)
            for (ap, iou, area, max_det), value in zip(rows, stats, strict=True)]


def summary_line(ap: bool, iou: float | None, area: str, max_det: int, value: float,
                 thresholds: tuple[float, ...]) -> str:
    """One line of pycocotools ``summarize`` (its ``iStr`` format)."""
    title = "Average Precision" if ap else "Average Recall"
    kind = "(AP)" if ap else "(AR)"
    iou_s = f"{thresholds[0]:0.2f}:{thresholds[-1]:0.2f}" if iou is None else f"{iou:0.2f}"
    return (f" {title:<18} {kind} @[ IoU={iou_s:<9} | area={area:>6s} | maxDets={max_det:>3d} ]"
            f" = {_fmt_value(value)}")


def coco_per_class_table(result: CocoResult) -> list[str]:
    """A per-category table (AP, AP50, AP75, AR100 ×100), one row per category."""
    return per_class_table(result.category_ids, result.category_names, result.per_class,
                           PER_CLASS_KEYS)
