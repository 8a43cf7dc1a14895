"""Protocols ``coco-bbox`` and ``coco-segm``: pycocotools 2.0.11 ``COCOeval`` numbers; and
``coco-boundary``: boundary-iou-api ``COCOeval(iouType="boundary")``, the same evaluation with
the boundary similarity of ``coco_match`` (``docs/protocols/boundary.md``).

Pure computation on the common schema: :func:`prepare_coco` (evaluation order, ``maxDets``)
-> :func:`coco_shard` per image shard (overlaps + greedy matching; the runner may run the
shards in other processes) -> :meth:`CocoState.merge` -> :func:`compute` (accumulate +
summarize). :func:`coco_notices` and :func:`coco_counts` describe the run.
"""

from __future__ import annotations

__all__ = [
    "METRIC_KEYS",
    "CocoMetrics",
    "CocoTask",
    "coco_counts",
    "coco_notices",
    "coco_shard",
    "compute",
    "per_class_values",
    "prepare_coco",
    "score_ties",
    "tie_notice",
]

from dataclasses import dataclass

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.coco_accumulate import (
    Accumulated,
    accumulate,
    summarize,
    summary_value,
)
from benchmark_eval.protocols.coco_match import (
    IouType,
    PreparedInstances,
    evaluate_images,
    fingerprint,
    prepare,
)
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.undefined import mean_defined, none_if_undefined
from benchmark_eval.schema import InstanceDataset, Predictions

# Keys of ``metrics``, in pycocotools' ``stats`` order.
METRIC_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl",
               "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


@dataclass(frozen=True)
class CocoMetrics:
    """Everything :func:`compute` derives from a merged state.

    Attributes:
        accumulated: precision / recall / scores arrays (``COCOeval.eval`` layout).
        stats: The 12 numbers of ``COCOeval.stats``, -1 where undefined.
        metrics: ``stats`` by name, ``None`` for -1; ``AP`` at the last ``max_detections``.
        per_class: Per K index: ``AP``, ``AP50``, ``AP75``, ``AR100`` (first area range,
            last ``max_detections``), ``None`` where undefined.
    """

    accumulated: Accumulated
    stats: np.ndarray
    metrics: dict[str, float | None]
    per_class: list[dict[str, float | None]]


@dataclass(frozen=True)
class CocoTask:
    """What every image shard needs (COCO and LVIS): prepared instances and parameters."""

    prepared: PreparedInstances
    params: CocoParams
    iou_type: IouType

    @property
    def n_images(self) -> int:
        """Images to evaluate."""
        return len(self.prepared.image_ids)

    def empty(self) -> CocoState:
        """The state of no images, with this run's axes and fingerprint."""
        return CocoState.empty(self.prepared.category_ids, len(self.params.area_ranges),
                               len(self.params.iou_thresholds),
                               fingerprint(self.params, self.iou_type))


def coco_shard(task: CocoTask, start: int, stop: int) -> CocoState:
    """The state of image ranks ``start:stop`` (``COCOeval.evaluateImg`` on them)."""
    return evaluate_images(task.prepared, task.params, task.iou_type, start, stop)


def prepare_coco(dataset: InstanceDataset, preds: Predictions, params: CocoParams,
                 iou_type: IouType) -> PreparedInstances:
    """:func:`~benchmark_eval.protocols.coco_match.prepare` with the GT ``ignore`` rule of
    each tool: pycocotools replaces ``ignore`` by ``iscrowd``; boundary-iou-api's
    ``_prepare`` keeps the file's flag, ``ignore = ignore or iscrowd``."""
    inst = dataset.instances
    gt_ignore = None
    if iou_type == "boundary" and inst.ignore is not None:
        gt_ignore = inst.ignore | inst.iscrowd
    return prepare(dataset, preds, params, iou_type, gt_ignore=gt_ignore)


def coco_notices(iou_type: IouType, gt_notices: list[Notice], pred_notices: list[Notice],
                 preds: Predictions) -> list[Notice]:
    """The notices of a run: the files' (boundary-iou-api honours ``ignore``, so the
    ``ignore-overridden`` notice does not apply to ``coco-boundary``) and score ties."""
    if iou_type == "boundary":
        gt_notices = [n for n in gt_notices if n.code != "ignore-overridden"]
    return [*gt_notices, *pred_notices, *tie_notice(preds)]


def coco_counts(dataset: InstanceDataset, preds: Predictions,
                prepared: PreparedInstances) -> dict[str, int]:
    """What was evaluated and what ``maxDets`` left out."""
    inst = dataset.instances
    return {
        "gt_instances": len(inst),
        "gt_crowd": int(inst.iscrowd.sum()),
        "detections": len(preds),
        "detections_evaluated": len(prepared.det_score),
        "detections_beyond_max_dets": prepared.n_dropped,
    }


def compute(state: CocoState, params: CocoParams) -> CocoMetrics:
    """Accumulate and summarise a merged state (``COCOeval.accumulate`` + ``summarize``)."""
    acc = accumulate(state, params)
    stats = summarize(acc, params)
    metrics = {k: none_if_undefined(v) for k, v in zip(METRIC_KEYS, stats, strict=True)}
    # AP at the last maxDets (pycocotools' summary looks up maxDets=100, -1 if absent)
    last = params.max_detections[-1]
    metrics["AP"] = none_if_undefined(summary_value(acc, params, True, None, "all", last))
    return CocoMetrics(accumulated=acc, stats=stats, metrics=metrics,
                       per_class=per_class_values(acc, params))


def per_class_values(acc: Accumulated, params: CocoParams) -> list[dict[str, float | None]]:
    """Per K index: mean defined precision over IoU thresholds and recall points (``AP``),
    at IoU 0.5 / 0.75 (``AP50`` / ``AP75``, None if not a threshold) and mean defined final
    recall (``AR100``); first area range, last ``max_detections``."""
    thr = params.iou_array
    t50, t75 = np.flatnonzero(thr == 0.5), np.flatnonzero(thr == 0.75)
    out: list[dict[str, float | None]] = []
    if not params.area_ranges:  # pycocotools accepts areaRng=[]: nothing is defined
        return [dict.fromkeys(("AP", "AP50", "AP75", "AR100")) for _ in acc.recall[0]]
    for k in range(acc.precision.shape[2]):
        p = acc.precision[:, :, k, 0, -1]  # (T, R)
        r = acc.recall[:, k, 0, -1]
        out.append({
            "AP": none_if_undefined(mean_defined(p)),
            "AP50": none_if_undefined(mean_defined(p[t50])) if len(t50) else None,
            "AP75": none_if_undefined(mean_defined(p[t75])) if len(t75) else None,
            "AR100": none_if_undefined(mean_defined(r)),
        })
    return out


def score_ties(preds: Predictions) -> int:
    """Number of detections whose score equals another's of the same category."""
    order = np.lexsort((preds.scores, preds.category_ids))
    s, c = preds.scores[order], preds.category_ids[order]
    return int(((s[1:] == s[:-1]) & (c[1:] == c[:-1])).sum())


def tie_notice(preds: Predictions, *, tool: str = "pycocotools", also: str = ""
               ) -> list[Notice]:
    """Equal scores within a category make AP depend on image and file order.

    Args:
        tool: The official tool whose tie-breaking is reproduced.
        also: Where else the tool breaks ties the same way (after "file order").
    """
    n = score_ties(preds)
    if not n:
        return []
    return [Notice(
        "score-ties",
        f"{n} detection(s) share their score with another detection of the same category;"
        f" {tool} breaks such ties by image id, then results-file order{also}, so AP can"
        " depend on file order. Reproduced.",
    )]
