"""Results of ``cityscapes-semantic`` and ``cityscapes-instance``: JSON report and the
official text layout (fractions with 3 decimals, ``nan`` where undefined)."""

from __future__ import annotations

__all__ = ["CityscapesInstanceResult", "CityscapesSemanticResult"]

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols import cityscapes_instance as inst
from benchmark_eval.protocols import cityscapes_semantic as sem
from benchmark_eval.report.common import package_versions
from benchmark_eval.report.fields import ResultFields
from benchmark_eval.report.fields import none_if_nan as _value
from benchmark_eval.schema.cityscapes import CATEGORIES, INSTANCE_CLASSES, LABEL_BY_NAME


def _fmt(v: float | None) -> str:
    return f"{math.nan if v is None else v:>5.3f}"


@dataclass(frozen=True)
class CityscapesSemanticResult(ResultFields):
    """Outcome of ``cityscapes-semantic``.

    Attributes:
        protocol: ``"cityscapes-semantic"``.
        metrics: ``IoU_class``, ``iIoU_class``, ``IoU_category``, ``iIoU_category``
            (``None`` when nothing could be averaged).
        per_class: The 19 evaluated labels -> ``{"IoU", "iIoU"}``; ``None`` where undefined
            (iIoU of classes without instances; a class neither in the GT nor predicted).
        per_category: The 7 categories with evaluated labels -> ``{"IoU", "iIoU"}``.
        confusion: ``(34, 34)`` int64 label-id confusion matrix (rows GT, columns prediction).
        computed: Every array behind the numbers (per label id, per category).
        state: The merged statistics.
        params: Options used.
        warnings: Notices.
        counts: Images, pixels, GT instances.
    """

    per_category: dict[str, dict[str, float | None]]
    confusion: np.ndarray
    computed: sem.CityscapesSemanticMetrics
    state: sem.CityscapesSemanticState
    params: sem.CityscapesSemanticParams

    @classmethod
    def build(cls, state: sem.CityscapesSemanticState, computed: sem.CityscapesSemanticMetrics,
              params: sem.CityscapesSemanticParams, *, notices: list[Notice] | None = None
              ) -> CityscapesSemanticResult:
        """Assemble the result of a computed state."""
        per_class = {name: {"IoU": _value(computed.iou[LABEL_BY_NAME[name].id]),
                            "iIoU": _value(computed.iiou[LABEL_BY_NAME[name].id])}
                     for name in sem.EVALUATED_LABELS}
        per_category = {c: {"IoU": _value(computed.category_iou[CATEGORIES.index(c)]),
                            "iIoU": _value(computed.category_iiou[CATEGORIES.index(c)])}
                        for c in sem.EVALUATED_CATEGORIES}
        conf = state.confusion
        counts = {"images": len(state.image_names), "pixels": int(conf.sum()),
                  "gt_instances": len(state.inst_id)}
        return cls(protocol="cityscapes-semantic",
                   metrics={k: _value(v) for k, v in computed.metrics.items()},
                   per_class=per_class, per_category=per_category, confusion=conf.copy(),
                   computed=computed, state=state, params=params,
                   warnings=list(notices or []), counts=counts,
                   versions=package_versions("deflate"))

    def report_extra(self) -> dict[str, Any]:
        """Protocol-specific report keys."""
        return {"per_category": self.per_category,
                "confusion_matrix": self.confusion.tolist()}

    def render(self, *, per_class: bool = True) -> str:
        """The official tables: classes, then categories (IoU and nIoU, 3 decimals)."""
        m = self.metrics
        blocks = []
        for what, rows, iou, iiou in (
                ("classes", self.per_class, m["IoU_class"], m["iIoU_class"]),
                ("categories", self.per_category, m["IoU_category"], m["iIoU_category"])):
            lines = [f"{what:<17}IoU      nIoU", "-" * 32]
            if per_class:
                lines += [f"{name:<14}: {_fmt(v['IoU'])}    {_fmt(v['iIoU'])}"
                          for name, v in rows.items()]
                lines.append("-" * 32)
            lines += [f"Score Average : {_fmt(iou)}    {_fmt(iiou)}", "-" * 32]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def __str__(self) -> str:
        return self.render(per_class=False)


@dataclass(frozen=True)
class CityscapesInstanceResult(ResultFields):
    """Outcome of ``cityscapes-instance``.

    Attributes:
        protocol: ``"cityscapes-instance"``.
        metrics: ``AP`` and ``AP50`` (``None`` when no class has a GT instance).
        per_class: The 8 classes -> ``{"AP", "AP50"}``; ``None`` for a class without GT
            instances (NaN officially).
        ap: ``(8, 10)`` AP per class and IoU threshold (NaN where undefined).
        iou_thresholds: The 10 thresholds.
        state: The merged statistics.
        params: Options used (none).
        warnings: Notices (skipped lines, reproduced quirks, deviations).
        counts: Images, targets, predictions.
    """

    ap: np.ndarray
    iou_thresholds: np.ndarray
    state: inst.CityscapesInstanceState
    params: inst.CityscapesInstanceParams

    @classmethod
    def build(cls, state: inst.CityscapesInstanceState, computed: inst.CityscapesInstanceMetrics,
              *, notices: list[Notice] | None = None) -> CityscapesInstanceResult:
        """Assemble the result of a computed state."""
        per_class = {name: {"AP": _value(computed.per_class_ap[k]),
                            "AP50": _value(computed.per_class_ap50[k])}
                     for k, name in enumerate(INSTANCE_CLASSES)}
        return cls(protocol="cityscapes-instance",
                   metrics={k: _value(v) for k, v in computed.metrics.items()},
                   per_class=per_class, ap=computed.ap,
                   iou_thresholds=inst.IOU_THRESHOLDS.copy(), state=state,
                   params=inst.CityscapesInstanceParams(), warnings=list(notices or []),
                   counts={"images": state.n_images, "gt_instances": int(state.gt_count.sum()),
                           "predictions": int(state.pred_count.sum()),
                           "skipped_predictions": state.skipped},
                   versions=package_versions("deflate"))

    def report_extra(self) -> dict[str, Any]:
        """Protocol-specific report keys."""
        return {"iou_thresholds": self.iou_thresholds.tolist(),
                "ap_per_threshold": {name: [_value(v) for v in self.ap[k].tolist()]
                                     for k, name in enumerate(INSTANCE_CLASSES)}}

    def render(self, *, per_class: bool = True) -> str:
        """The official table: AP and AP_50% per class, then the average."""
        def row(name: str, ap: float | None, ap50: float | None) -> str:
            cells = "".join(f"{math.nan if v is None else v:>15.3f}" for v in (ap, ap50))
            return f"{name:<15}:{cells}"

        lines = ["#" * 50, f"{'what':<15}:{'AP':>15}{'AP_50%':>15}", "#" * 50]
        if per_class:
            lines += [row(n, v["AP"], v["AP50"]) for n, v in self.per_class.items()]
            lines.append("-" * 50)
        lines.append(row("average", self.metrics["AP"], self.metrics["AP50"]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render(per_class=False)
