"""Result of the COCO instance protocols, its JSON report and its text rendering."""

from __future__ import annotations

__all__ = ["METRIC_KEYS", "CocoResult", "coco_per_class_table", "coco_summary_lines"]

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class CocoResult(ReportMixin):
    """Outcome of ``coco-bbox`` / ``coco-segm``.

    Attributes:
        protocol: Protocol name.
        stats: The 12 numbers of pycocotools ``COCOeval.stats``, -1 where undefined.
        metrics: ``stats`` by name (:data:`METRIC_KEYS`), fractions in [0, 1], ``None``
            where pycocotools reports -1. ``AP`` is taken at the last ``max_detections``.
        per_class: Category id -> ``{"AP", "AP50", "AP75", "AR100"}`` (``None`` if undefined).
        precision: ``(T, R, K, A, M)``, as ``COCOeval.eval["precision"]``.
        recall: ``(T, K, A, M)``.
        scores: ``(T, R, K, A, M)``.
        category_ids: The K axis.
        category_names: Name per entry of ``category_ids``.
        params: Parameters used.
        state: The merged state the result was computed from.
        warnings: Reproduced quirks worth knowing about.
        counts: What was evaluated and what the protocol excluded.
    """

    protocol: str
    stats: np.ndarray
    metrics: dict[str, float | None]
    per_class: dict[int, dict[str, float | None]]
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    category_ids: list[int]
    category_names: list[str]
    params: CocoParams
    state: CocoState = field(repr=False, compare=False)
    warnings: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, protocol: str, state: CocoState, computed: CocoMetrics, params: CocoParams,
              *, dataset: InstanceDataset | None = None, notices: list[Notice] | None = None,
              counts: dict[str, int] | None = None) -> CocoResult:
        """Assemble the result of a computed state (names from the dataset if given)."""
        cat_ids, names = category_axis(state.category_ids,
                                       None if dataset is None else dataset.categories)
        acc = computed.accumulated
        return cls(
            protocol=protocol, stats=computed.stats, metrics=computed.metrics,
            per_class=dict(zip(cat_ids, computed.per_class, strict=True)),
            precision=acc.precision, recall=acc.recall, scores=acc.scores,
            category_ids=cat_ids, category_names=names, params=params, state=state,
            warnings=list(notices or []), counts=dict(counts or {}, images=state.n_images),
            versions=package_versions("pycocotools"),
        )

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
    p = result.params
    md = p.max_detections
    last = md[2] if len(md) >= 3 else md[-1]
    rows = [
        (True, None, "all", 100), (True, 0.5, "all", last), (True, 0.75, "all", last),
        (True, None, "small", last), (True, None, "medium", last), (True, None, "large", last),
        (False, None, "all", md[0]), (False, None, "all", md[1] if len(md) > 1 else last),
        (False, None, "all", last), (False, None, "small", last),
        (False, None, "medium", last), (False, None, "large", last),
    ]
    thr = p.iou_thresholds
    lines = []
    for (ap, iou, area, max_det), value in zip(rows, result.stats, strict=True):
        title = "Average Precision" if ap else "Average Recall"
        kind = "(AP)" if ap else "(AR)"
        iou_s = f"{thr[0]:0.2f}:{thr[-1]:0.2f}" if iou is None else f"{iou:0.2f}"
        lines.append(
            f" {title:<18} {kind} @[ IoU={iou_s:<9} | area={area:>6s} | maxDets={max_det:>3d} ]"
            f" = {_fmt_value(float(value))}"
        )
    return lines


def coco_per_class_table(result: CocoResult) -> list[str]:
    """A per-category table (AP, AP50, AP75, AR100 ×100), one row per category."""
    return per_class_table(result.category_ids, result.category_names, result.per_class,
                           PER_CLASS_KEYS)
