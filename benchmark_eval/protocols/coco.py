"""Protocols ``coco-bbox`` and ``coco-segm``: pycocotools 2.0.11 ``COCOeval`` numbers.

Pipeline: adapter (``io.coco``) -> :func:`prepare` (evaluation order, ``maxDets``) ->
per-image-shard :func:`evaluate_images` (overlaps + greedy matching, parallel) ->
:meth:`CocoState.merge` -> :func:`accumulate` -> :func:`summarize` -> :class:`CocoResult`.
"""

from __future__ import annotations

__all__ = ["evaluate_coco", "evaluate_coco_state", "result_from_state"]

import itertools
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.io.coco import Source, load_coco_ground_truth, load_coco_results
from benchmark_eval.protocols.coco_accumulate import accumulate, summarize, summary_value
from benchmark_eval.protocols.coco_match import (
    IouType,
    PreparedInstances,
    evaluate_images,
    fingerprint,
    prepare,
)
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.report.coco import METRIC_KEYS, CocoResult
from benchmark_eval.schema import InstanceDataset, Predictions

Progress = Callable[[int, int], None]
_SHARD_IMAGES = 250  # images per unit of work (progress granularity, load balance)


def evaluate_coco(
    iou_type: IouType, gt: Source, pred: Source, *, params: CocoParams | None = None,
    workers: int = 1, progress: Progress | None = None,
) -> CocoResult:
    """Evaluate COCO results against COCO ground truth.

    Args:
        iou_type: ``"bbox"`` or ``"segm"``.
        gt: Ground-truth JSON path or loaded dict.
        pred: Results JSON path or loaded list.
        params: Parameters; the official preset when None.
        workers: Processes for the per-image stage (0 = all cores).
        progress: Called with (images done, images total).
    """
    params = params or CocoParams()
    dataset, notices = load_coco_ground_truth(gt, boxes=iou_type == "bbox",
                                              masks=iou_type == "segm")
    preds, pred_notices = load_coco_results(pred, dataset, boxes=iou_type == "bbox",
                                            masks=iou_type == "segm")
    notices = notices + pred_notices
    prepared = prepare(dataset, preds, params, iou_type)
    state = evaluate_coco_state(prepared, params, iou_type, workers=workers, progress=progress)
    notices += _tie_notice(preds)
    counts = _counts(dataset, preds, prepared)
    return result_from_state(state, params, iou_type, dataset=dataset, notices=notices,
                             counts=counts)


def evaluate_coco_state(
    prepared: PreparedInstances, params: CocoParams, iou_type: IouType, *, workers: int = 1,
    progress: Progress | None = None,
) -> CocoState:
    """Per-image stage over all images, in shards, optionally in parallel processes."""
    n = len(prepared.image_ids)
    shards = list(itertools.pairwise([*range(0, n, _SHARD_IMAGES), n]))
    workers = (os.cpu_count() or 1) if workers <= 0 else workers
    state = CocoState.empty(prepared.category_ids, len(params.area_ranges),
                            len(params.iou_thresholds), fingerprint(params, iou_type))
    done = 0
    if workers == 1 or len(shards) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        results: Any = (evaluate_images(prepared, params, iou_type, a, b) for a, b in shards)
        pool = None
    else:
        global _WORK
        _WORK = (prepared, params, iou_type)
        pool = multiprocessing.get_context("fork").Pool(min(workers, len(shards)))
        results = pool.imap(_run_shard, shards)
    try:
        for (a, b), part in zip(shards, results, strict=True):
            state = state.merge(part)
            done += b - a
            if progress is not None:
                progress(done, n)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
            _WORK = None
    return state


_WORK: tuple[PreparedInstances, CocoParams, IouType] | None = None


def _run_shard(bounds: tuple[int, int]) -> CocoState:
    assert _WORK is not None
    prepared, params, iou_type = _WORK
    return evaluate_images(prepared, params, iou_type, *bounds)


def result_from_state(
    state: CocoState, params: CocoParams, iou_type: IouType, *,
    dataset: InstanceDataset | None = None, notices: list[Notice] | None = None,
    counts: dict[str, int] | None = None,
) -> CocoResult:
    """Accumulate and summarise a (merged) state into a :class:`CocoResult`."""
    acc = accumulate(state, params)
    stats = summarize(acc, params)
    metrics: dict[str, float | None] = {
        k: (None if v == -1 else float(v)) for k, v in zip(METRIC_KEYS, stats, strict=True)
    }
    # the rule: AP at the last maxDets (pycocotools looks up 100, -1 if absent)
    last = params.max_detections[-1]
    ap_last = summary_value(acc, params, True, None, "all", last)
    metrics["AP"] = None if ap_last == -1 else ap_last
    cat_ids = [int(c) for c in state.category_ids]
    names = _names(dataset, cat_ids)
    per_class = {}
    area = params.area_ranges[0].label  # per-class metrics use the first area range
    for k, cid in enumerate(cat_ids):
        vals = {
            "AP": summary_value(acc, params, True, None, area, last, category=k),
            "AP50": summary_value(acc, params, True, 0.5, area, last, category=k),
            "AP75": summary_value(acc, params, True, 0.75, area, last, category=k),
            "AR100": summary_value(acc, params, False, None, area, last, category=k),
        }
        per_class[cid] = {key: (None if v == -1 else v) for key, v in vals.items()}
    return CocoResult(
        protocol=f"coco-{iou_type}", stats=stats, metrics=metrics, per_class=per_class,
        precision=acc.precision, recall=acc.recall, scores=acc.scores,
        category_ids=cat_ids, category_names=names, params=params,
        warnings=list(notices or []), counts=dict(counts or {}, images=state.n_images),
        versions=_versions(),
    )


def _names(dataset: InstanceDataset | None, cat_ids: list[int]) -> list[str]:
    if dataset is None:
        return [""] * len(cat_ids)
    table = dict(zip(dataset.categories.ids.tolist(), dataset.categories.names, strict=True))
    return [table.get(c, "all" if c == -1 else "") for c in cat_ids]


def _tie_notice(preds: Predictions) -> list[Notice]:
    """Equal scores within a category make AP depend on image and file order."""
    order = np.lexsort((preds.scores, preds.category_ids))
    s, c = preds.scores[order], preds.category_ids[order]
    tied = (s[1:] == s[:-1]) & (c[1:] == c[:-1])
    n = int(tied.sum())
    if not n:
        return []
    return [Notice(
        "score-ties",
        f"{n} detection(s) share their score with another detection of the same category;"
        " pycocotools breaks such ties by image id, then results-file order, so AP can depend"
        " on file order. Reproduced.",
    )]


def _counts(dataset: InstanceDataset, preds: Predictions,
            prepared: PreparedInstances) -> dict[str, int]:
    inst = dataset.instances
    return {
        "gt_instances": len(inst),
        "gt_crowd": int(inst.iscrowd.sum()),
        "detections": len(preds),
        "detections_evaluated": len(prepared.det_score),
        "detections_beyond_max_dets": prepared.n_dropped,
    }


def _versions() -> dict[str, str]:
    from importlib import metadata

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {pkg: version(pkg) for pkg in ("benchmark-eval", "numpy", "pycocotools")}
