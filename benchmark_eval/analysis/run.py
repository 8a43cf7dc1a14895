"""Running the analyses on the data an evaluation already loaded.

The COCO / LVIS plans take an ``analyses`` option: a callable that their finish step hands
the result and an :class:`InstanceInputs` (the loaded dataset and detections), so nothing
is read or parsed twice. :func:`instance_analyses` computes every analysis of an instance
result, :func:`pixel_analyses` the most-confused pairs of a semantic / Cityscapes result.
"""

from __future__ import annotations

__all__ = [
    "Analyses",
    "InstanceInputs",
    "finish_with",
    "instance_analyses",
    "non_ignored_gt_images",
    "pixel_analyses",
]

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark_eval.analysis.calibration import Calibration, calibration
from benchmark_eval.analysis.confusion import DetectionConfusion, detection_confusion, most_confused
from benchmark_eval.analysis.curves import ClassCurve, pr_curves
from benchmark_eval.analysis.diagnostics import ImageDiagnostics, image_diagnostics
from benchmark_eval.analysis.tide import TideResult, tide_breakdown
from benchmark_eval.schema import InstanceDataset, Predictions


@dataclass(frozen=True)
class InstanceInputs:
    """What a COCO / LVIS plan loaded, handed to the analyses.

    Attributes:
        dataset: The ground truth.
        preds: The detections.
        iou_type: ``"bbox"``, ``"segm"`` or ``"boundary"``.
        gt_images: Image id of every GT the evaluation does not ignore (area "all").
        federated: LVIS' federated labels (``io.lvis``), ``None`` for COCO.
        images: Every evaluated image id (default: those with GT or detections).
    """

    dataset: InstanceDataset
    preds: Predictions
    iou_type: str
    gt_images: np.ndarray
    federated: Any = None
    images: np.ndarray | None = None


def non_ignored_gt_images(prepared: Any, area_range: Any) -> np.ndarray:
    """Image ids of a ``PreparedInstances``' GT not ignored in ``area_range`` (an
    ``AreaRange``; pycocotools: ``ignore`` or area outside ``[lo, hi]``)."""
    lo, hi = area_range.lo, area_range.hi
    keep = ~prepared.gt_ignore_flag & (prepared.gt_area >= lo) & (prepared.gt_area <= hi)
    return np.asarray(prepared.image_ids[prepared.gt_image[keep]], dtype=np.int64)


def finish_with(finish: Callable[[Any], Any], analyses: Callable[[Any, InstanceInputs], None],
                inputs: InstanceInputs, state: Any) -> Any:
    """``finish(state)``, then ``analyses(result, inputs)``; returns the result."""
    result = finish(state)
    analyses(result, inputs)
    return result


@dataclass
class Analyses:
    """Every analysis computed for one result (``None``: not asked for / not applicable).

    Attributes:
        tide: TIDE breakdown (``--tide``).
        confusion: Detection confusion matrix and P / R / F1.
        calibration: ECE / MCE and reliability bins.
        diagnostics: Per-image errors.
        curves: PR curves per class at IoU 0.5.
        most_confused: Semantic / Cityscapes most-confused pairs.
    """

    tide: TideResult | None = None
    confusion: DetectionConfusion | None = None
    calibration: Calibration | None = None
    diagnostics: ImageDiagnostics | None = None
    curves: list[ClassCurve] = field(default_factory=list)
    most_confused: list[dict[str, Any]] | None = None

    def to_report(self) -> dict[str, Any]:
        """Report keys: ``"tide"`` (tidecv's units) and ``"analysis"`` (see
        ``docs/analysis.md``)."""
        out: dict[str, Any] = {}
        if self.tide is not None:
            out["tide"] = self.tide.to_report()
        extra: dict[str, Any] = {}
        if self.confusion is not None:
            extra["confusion"] = self.confusion.to_report()
        if self.calibration is not None:
            extra["calibration"] = self.calibration.to_report()
        if self.diagnostics is not None:
            extra["diagnostics"] = self.diagnostics.to_report()
        if self.curves:
            extra["pr_curves"] = {str(c.category_id): c.to_report() for c in self.curves}
        if self.most_confused is not None:
            extra["most_confused"] = self.most_confused
        if extra:
            out["analysis"] = extra
        return out


def instance_analyses(result: Any, inputs: InstanceInputs, *, tide: bool = False,
                      others: bool = True) -> Analyses:
    """The analyses of a ``CocoResult`` / ``LvisResult``.

    TIDE and the confusion matrix match boxes or masks (``boundary`` has neither: skipped);
    curves, calibration and diagnostics read the result's state at IoU 0.5 (skipped when
    0.5 is not one of its thresholds).

    Args:
        tide: Compute the TIDE breakdown (tidecv's COCO or LVIS emulation).
        others: Compute the confusion matrix, curves, calibration and diagnostics.
    """
    out = Analyses()
    matchable = inputs.iou_type in ("bbox", "segm")
    lvis = inputs.federated is not None
    if tide and matchable:
        from benchmark_eval.analysis.tide_lvis import LVIS_MAX_DETS, lvis_class_regions

        if lvis:
            out.tide = tide_breakdown(
                inputs.dataset, inputs.preds, iou_type=inputs.iou_type,  # type: ignore[arg-type]
                max_dets=LVIS_MAX_DETS, crowd_regions=False,
                class_regions=lvis_class_regions(inputs.dataset, inputs.federated,
                                                 inputs.preds))
        else:
            out.tide = tide_breakdown(inputs.dataset, inputs.preds,
                                      iou_type=inputs.iou_type)  # type: ignore[arg-type]
    if not others:
        return out
    engine = result.params.engine_params() if lvis else result.params
    if matchable:
        out.confusion = detection_confusion(inputs.dataset, inputs.preds,
                                            iou_type=inputs.iou_type,
                                            max_dets=int(engine.max_detections[-1]))
    if np.isclose(np.asarray(engine.iou_thresholds), 0.5, rtol=0, atol=1e-9).any():
        out.curves = pr_curves(result)
        out.calibration = calibration(result)
        out.diagnostics = image_diagnostics(result, inputs.gt_images, images=inputs.images)
    return out


def pixel_analyses(result: Any, *, top: int = 10) -> Analyses:
    """Most-confused pairs of a semantic (``(C+1, C+1)``, the ignored row and no-class
    column left out) or Cityscapes semantic (``(34, 34)`` label ids, the 19 evaluated
    labels) result; empty :class:`Analyses` for other results."""
    conf = getattr(result, "confusion", None)
    if conf is None:
        return Analyses()
    names = getattr(result, "class_names", None)
    if names is not None:
        c = len(names)
        return Analyses(most_confused=most_confused(conf[:c, :c], names, top=top))
    from benchmark_eval.schema.cityscapes import LABEL_BY_NAME

    evaluated = list(result.per_class)
    ids = [LABEL_BY_NAME[n].id for n in evaluated]
    label_names = [""] * len(conf)
    for n, i in zip(evaluated, ids, strict=True):
        label_names[i] = n
    return Analyses(most_confused=most_confused(conf, label_names, top=top, classes=ids))
