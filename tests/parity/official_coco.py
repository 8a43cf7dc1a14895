"""Run the reference COCO evaluators (pycocotools 2.0.11, faster-coco-eval 1.8.0) on in-memory
ground truth and results, with parameters given as a :class:`ParamSpec`.

Both libraries mutate what they are given (``loadRes`` adds ``id``/``area``/``iscrowd``,
``evaluate`` replaces ``segmentation`` by RLE and sets ``ignore``), so each run works on deep
copies. Their printing is silenced here and only here. Their maths is used as shipped.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_AREA_RANGES",
    "OfficialResult",
    "ParamSpec",
    "run_faster_coco_eval",
    "run_pycocotools",
]

import contextlib
import copy
import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_AREA_RANGES: tuple[tuple[str, float, float], ...] = (
    ("all", 0.0**2, 1e5**2),
    ("small", 0.0**2, 32.0**2),
    ("medium", 32.0**2, 96.0**2),
    ("large", 96.0**2, 1e5**2),
)


@dataclass(frozen=True)
class ParamSpec:
    """Evaluation parameters; ``None`` keeps the library default.

    Attributes:
        iou_thresholds: ``Params.iouThrs``.
        recall_thresholds: ``Params.recThrs``.
        max_detections: ``Params.maxDets``.
        area_ranges: ``(label, lo, hi)`` triples -> ``Params.areaRng`` / ``areaRngLbl``.
        class_agnostic: ``Params.useCats = 0``.
    """

    iou_thresholds: tuple[float, ...] | None = None
    recall_thresholds: tuple[float, ...] | None = None
    max_detections: tuple[int, ...] | None = None
    area_ranges: tuple[tuple[str, float, float], ...] | None = None
    class_agnostic: bool = False


@dataclass(frozen=True)
class OfficialResult:
    """What the reference evaluator produced.

    Attributes:
        stats: ``COCOeval.stats`` (12 values for pycocotools; faster-coco-eval's first 12).
        precision: ``eval['precision']``, shape ``[T, R, K, A, M]``.
        recall: ``eval['recall']``, shape ``[T, K, A, M]``.
        scores: ``eval['scores']``, shape ``[T, R, K, A, M]``.
        category_ids: The K axis (``[-1]`` when class-agnostic).
        iou_thresholds: The thresholds actually used (the T axis).
    """

    stats: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    category_ids: list[int]
    iou_thresholds: np.ndarray


def _apply_spec(params: Any, spec: ParamSpec) -> None:
    if spec.iou_thresholds is not None:
        params.iouThrs = np.asarray(spec.iou_thresholds, dtype=np.float64)
    if spec.recall_thresholds is not None:
        params.recThrs = np.asarray(spec.recall_thresholds, dtype=np.float64)
    if spec.max_detections is not None:
        params.maxDets = list(spec.max_detections)
    if spec.area_ranges is not None:
        params.areaRng = [[lo, hi] for _, lo, hi in spec.area_ranges]
        params.areaRngLbl = [label for label, _, _ in spec.area_ranges]
    params.useCats = 0 if spec.class_agnostic else 1


def _collect(evaluator: Any, n_stats: int) -> OfficialResult:
    ev = evaluator.eval
    cat_ids = [-1] if not evaluator.params.useCats else [int(c) for c in evaluator.params.catIds]
    return OfficialResult(
        stats=np.asarray(evaluator.stats, dtype=np.float64)[:n_stats].copy(),
        precision=np.asarray(ev["precision"], dtype=np.float64).copy(),
        recall=np.asarray(ev["recall"], dtype=np.float64).copy(),
        scores=np.asarray(ev["scores"], dtype=np.float64).copy(),
        category_ids=cat_ids,
        iou_thresholds=np.asarray(evaluator.params.iouThrs, dtype=np.float64).copy(),
    )


def run_pycocotools(
    iou_type: str,
    gt: dict[str, Any],
    results: list[dict[str, Any]],
    spec: ParamSpec | None = None,
) -> OfficialResult:
    """``COCOeval(iouType)``: evaluate, accumulate, summarize, on deep copies of the inputs."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    spec = spec or ParamSpec()
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        evaluator = COCOeval(coco_gt, coco_dt, iou_type)
        _apply_spec(evaluator.params, spec)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return _collect(evaluator, 12)


def run_faster_coco_eval(
    iou_type: str,
    gt: dict[str, Any],
    results: list[dict[str, Any]],
    spec: ParamSpec | None = None,
) -> OfficialResult:
    """faster-coco-eval's ``COCOeval_faster`` (C++ matching/accumulation), on deep copies.

    Its ``stats`` has a different layout from pycocotools' unless the area ranges are the
    default ones and there are exactly three ``maxDets``; only the first 12 are returned.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    spec = spec or ParamSpec()

    def quiet(*args: Any, **kwargs: Any) -> None:
        return None

    # faster-coco-eval warns (UserWarning) about annotation id 0; the cases do that on purpose.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coco_gt = COCO(copy.deepcopy(gt))
        coco_gt.print_function = quiet
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        evaluator = COCOeval_faster(coco_gt, coco_dt, iou_type, print_function=quiet)
        _apply_spec(evaluator.params, spec)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return _collect(evaluator, 12)
