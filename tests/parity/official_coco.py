"""Run the reference COCO evaluators (pycocotools 2.0.11, faster-coco-eval 1.8.0) live on
in-memory ground truth and results: the one runner of each for every test folder.

Both take ``(gt, results, iou_type, params)`` in the order of ``COCOeval(cocoGt, cocoDt,
iouType)``; ``params`` is a :class:`ParamSpec` or anything with the same attribute names (a
``benchmark_eval.CocoParams``). Both libraries mutate what they are given (``loadRes`` adds
``id``/``area``/``iscrowd``, ``evaluate`` replaces ``segmentation`` by RLE and sets
``ignore``), so each run works on deep copies. Their printing is captured here and only here
(pycocotools' 12 summary lines are returned). Their maths is used as shipped.
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
from typing import Any, TypeVar

import numpy as np

_P = TypeVar("_P")

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

    def to_params(self, model: type[_P]) -> _P:
        """The same parameters as one of benchmark_eval's params models (``CocoParams``,
        ``BoundaryParams``); ``None`` fields keep the model's defaults."""
        from benchmark_eval import AreaRange

        fields: dict[str, Any] = {"class_agnostic": self.class_agnostic}
        for name in ("iou_thresholds", "recall_thresholds", "max_detections"):
            if getattr(self, name) is not None:
                fields[name] = getattr(self, name)
        if self.area_ranges is not None:
            fields["area_ranges"] = tuple(AreaRange(label=label, lo=lo, hi=hi)
                                          for label, lo, hi in self.area_ranges)
        return model(**fields)


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
        lines: The lines ``summarize()`` printed (pycocotools; empty for faster-coco-eval).
    """

    stats: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    category_ids: list[int]
    iou_thresholds: np.ndarray
    lines: list[str]


def _apply_spec(params: Any, spec: Any) -> None:
    """Set ``Params`` from a :class:`ParamSpec` or a ``CocoParams`` (whose area ranges are
    ``AreaRange(label, lo, hi)`` objects)."""
    if spec.iou_thresholds is not None:
        params.iouThrs = np.asarray(spec.iou_thresholds, dtype=np.float64)
    if spec.recall_thresholds is not None:
        params.recThrs = np.asarray(spec.recall_thresholds, dtype=np.float64)
    if spec.max_detections is not None:
        params.maxDets = list(spec.max_detections)
    if spec.area_ranges is not None:
        ranges = [r if isinstance(r, tuple) else (r.label, r.lo, r.hi)
                  for r in spec.area_ranges]
        params.areaRng = [[lo, hi] for _, lo, hi in ranges]
        params.areaRngLbl = [label for label, _, _ in ranges]
    params.useCats = 0 if spec.class_agnostic else 1


def _collect(evaluator: Any, n_stats: int, lines: list[str]) -> OfficialResult:
    ev = evaluator.eval
    cat_ids = [-1] if not evaluator.params.useCats else [int(c) for c in evaluator.params.catIds]
    return OfficialResult(
        stats=np.asarray(evaluator.stats, dtype=np.float64)[:n_stats].copy(),
        precision=np.asarray(ev["precision"], dtype=np.float64).copy(),
        recall=np.asarray(ev["recall"], dtype=np.float64).copy(),
        scores=np.asarray(ev["scores"], dtype=np.float64).copy(),
        category_ids=cat_ids,
        iou_thresholds=np.asarray(evaluator.params.iouThrs, dtype=np.float64).copy(),
        lines=lines,
    )


def _evaluated(coco_gt: Any, evaluator_type: Any, results: list[dict[str, Any]],
               iou_type: str, spec: Any, **options: Any) -> Any:
    """``loadRes`` on a deep copy, the evaluator with ``spec`` applied, evaluate, accumulate."""
    coco_dt = coco_gt.loadRes(copy.deepcopy(results))
    evaluator = evaluator_type(coco_gt, coco_dt, iou_type, **options)
    _apply_spec(evaluator.params, spec or ParamSpec())
    evaluator.evaluate()
    evaluator.accumulate()
    return evaluator


def run_pycocotools(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
                    spec: Any = None) -> OfficialResult:
    """``COCOeval(iouType)``: evaluate, accumulate, summarize, on deep copies of the inputs."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        evaluator = _evaluated(coco_gt, COCOeval, results, iou_type, spec)
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        evaluator.summarize()
    return _collect(evaluator, 12, summary.getvalue().splitlines())


def run_faster_coco_eval(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
                         spec: Any = None, **options: Any) -> OfficialResult:
    """faster-coco-eval's ``COCOeval_faster`` (C++ matching/accumulation), on deep copies;
    ``options`` go to its constructor (e.g. ``boundary_dilation_ratio``).

    Its ``stats`` has a different layout from pycocotools' unless the area ranges are the
    default ones and there are exactly three ``maxDets``; only the first 12 are returned.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    def quiet(*args: Any, **kwargs: Any) -> None:
        return None

    # faster-coco-eval warns (UserWarning) about annotation id 0; the cases do that on purpose.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coco_gt = COCO(copy.deepcopy(gt))
        coco_gt.print_function = quiet
        evaluator = _evaluated(coco_gt, COCOeval_faster, results, iou_type, spec,
                               print_function=quiet, **options)
        evaluator.summarize()
    return _collect(evaluator, 12, [])
