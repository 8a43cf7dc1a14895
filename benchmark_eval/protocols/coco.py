"""Protocols ``coco-bbox`` and ``coco-segm``: pycocotools 2.0.11 ``COCOeval`` numbers; and
``coco-boundary``: boundary-iou-api ``COCOeval(iouType="boundary")``, the same evaluation with
the boundary similarity of ``coco_match`` (``docs/protocols/boundary.md``).

Pure computation on the common schema: :func:`prepare` (evaluation order, ``maxDets``) ->
per-image-shard :func:`evaluate_images` (overlaps + greedy matching; the caller may run
the shards in parallel processes) -> :meth:`CocoState.merge` -> :func:`compute`
(accumulate + summarize).
"""

from __future__ import annotations

__all__ = ["CocoMetrics", "compute", "evaluate_coco_state", "score_ties", "tie_notice"]

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

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
)
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.schema import Predictions

Progress = Callable[[int, int], None]
ShardMapper = Callable[[Callable[[Any, int, int], CocoState], Any, list[tuple[int, int]]],
                       Iterable[CocoState]]
_SHARD_IMAGES = 250  # images per unit of work (progress granularity, load balance)
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


def _shard(context: tuple[PreparedInstances, CocoParams, IouType], start: int,
           stop: int) -> CocoState:
    prepared, params, iou_type = context
    return evaluate_images(prepared, params, iou_type, start, stop)


def evaluate_coco_state(
    prepared: PreparedInstances, params: CocoParams, iou_type: IouType, *,
    mapper: ShardMapper | None = None, progress: Progress | None = None,
) -> CocoState:
    """Per-image stage over all images, in shards of :data:`_SHARD_IMAGES` images.

    Args:
        mapper: Runs ``task(context, start, stop)`` for each shard and yields the results in
            shard order (the workflows pass a process pool); in this process if None.
        progress: Called with (images done, images total) after each shard.
    """
    n = len(prepared.image_ids)
    shards = list(itertools.pairwise([*range(0, n, _SHARD_IMAGES), n]))
    state = CocoState.empty(prepared.category_ids, len(params.area_ranges),
                            len(params.iou_thresholds), fingerprint(params, iou_type))
    run = mapper or _serial
    for (_, stop), part in zip(shards, run(_shard, (prepared, params, iou_type), shards),
                               strict=True):
        state = state.merge(part)
        if progress is not None:
            progress(stop, n)
    return state


def _serial(task: Callable[[Any, int, int], CocoState], context: Any,
            shards: list[tuple[int, int]]) -> Iterator[CocoState]:
    return (task(context, a, b) for a, b in shards)


def _none_if_undefined(v: float) -> float | None:
    return None if v == -1 else float(v)


def compute(state: CocoState, params: CocoParams) -> CocoMetrics:
    """Accumulate and summarise a merged state (``COCOeval.accumulate`` + ``summarize``)."""
    acc = accumulate(state, params)
    stats = summarize(acc, params)
    metrics = {k: _none_if_undefined(v) for k, v in zip(METRIC_KEYS, stats, strict=True)}
    # AP at the last maxDets (pycocotools' summary looks up maxDets=100, -1 if absent)
    last = params.max_detections[-1]
    metrics["AP"] = _none_if_undefined(summary_value(acc, params, True, None, "all", last))
    return CocoMetrics(accumulated=acc, stats=stats, metrics=metrics,
                       per_class=per_class_values(acc, params))


def per_class_values(acc: Accumulated, params: CocoParams) -> list[dict[str, float | None]]:
    """Per K index: mean defined precision over IoU thresholds and recall points (``AP``),
    at IoU 0.5 / 0.75 (``AP50`` / ``AP75``, None if not a threshold) and mean defined final
    recall (``AR100``); first area range, last ``max_detections``."""
    thr = params.iou_array
    t50, t75 = np.flatnonzero(thr == 0.5), np.flatnonzero(thr == 0.75)
    out = []
    for k in range(acc.precision.shape[2]):
        p = acc.precision[:, :, k, 0, -1]  # (T, R)
        r = acc.recall[:, k, 0, -1]
        out.append({
            "AP": _mean_defined(p),
            "AP50": _mean_defined(p[t50]) if len(t50) else None,
            "AP75": _mean_defined(p[t75]) if len(t75) else None,
            "AR100": _mean_defined(r),
        })
    return out


def _mean_defined(s: np.ndarray) -> float | None:
    valid = s[s > -1]
    return None if len(valid) == 0 else float(np.mean(valid))


def score_ties(preds: Predictions) -> int:
    """Number of detections whose score equals another's of the same category."""
    order = np.lexsort((preds.scores, preds.category_ids))
    s, c = preds.scores[order], preds.category_ids[order]
    return int(((s[1:] == s[:-1]) & (c[1:] == c[:-1])).sum())


def tie_notice(preds: Predictions) -> list[Notice]:
    """Equal scores within a category make AP depend on image and file order."""
    n = score_ties(preds)
    if not n:
        return []
    return [Notice(
        "score-ties",
        f"{n} detection(s) share their score with another detection of the same category;"
        " pycocotools breaks such ties by image id, then results-file order, so AP can depend"
        " on file order. Reproduced.",
    )]
