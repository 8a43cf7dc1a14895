"""The Python API: ``evaluate`` by protocol name.

Orchestrates the one-way data flow: files -> adapter (``io``) -> common schema -> per-image
matching and accumulation (``protocols``) -> result (``report``).
"""

from __future__ import annotations

__all__ = ["PROTOCOLS", "evaluate"]

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from benchmark_eval.errors import ConfigError, Notice
from benchmark_eval.io.coco import Source, load_coco_ground_truth, load_coco_results
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.protocols.coco import compute, evaluate_coco_state, tie_notice
from benchmark_eval.protocols.coco_match import IouType, prepare
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.report.coco import CocoResult
from benchmark_eval.schema import InstanceDataset

PROTOCOLS = ("coco-bbox", "coco-segm")
Progress = Callable[[int, int], None]


def evaluate(
    protocol: str, *, gt: Source, pred: Source, params: CocoParams | dict[str, Any] | None = None,
    workers: int = 1, progress: Progress | None = None,
) -> CocoResult:
    """Score predictions against ground truth with a named protocol.

    Args:
        protocol: ``"coco-bbox"`` or ``"coco-segm"``.
        gt: Ground-truth file path, or the already-loaded JSON object.
        pred: Predictions file path, or the already-loaded JSON object.
        params: Protocol parameters (a :class:`CocoParams` or a dict of its fields); the
            official preset when None.
        workers: Processes to use; 0 means all cores. With more than one, the ground truth
            is read in a second process while the predictions are parsed, and matching runs
            in a process pool.
        progress: Called with (images done, images total).

    Raises:
        ConfigError: Unknown protocol or invalid parameters.
        InputError: The inputs failed checks; ``.problems`` lists them.

    Example:
        >>> r = evaluate("coco-bbox", gt="gt.json", pred="results.json")  # doctest: +SKIP
        >>> r.metrics["AP"]  # doctest: +SKIP
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if isinstance(params, dict):
        try:
            params = CocoParams(**params)
        except ValueError as exc:
            raise ConfigError(f"invalid parameters for {protocol}: {exc}") from exc
    iou_type: IouType = "bbox" if protocol == "coco-bbox" else "segm"
    return _evaluate_coco(iou_type, gt, pred, params or CocoParams(), workers, progress)


def _load_gt(gt: Source, iou_type: IouType) -> tuple[InstanceDataset, list[Notice]]:
    return load_coco_ground_truth(gt, boxes=iou_type == "bbox", masks=iou_type == "segm")


def _evaluate_coco(iou_type: IouType, gt: Source, pred: Source, params: CocoParams,
                   workers: int, progress: Progress | None) -> CocoResult:
    parallel = workers != 1 and "fork" in multiprocessing.get_all_start_methods()
    pred_name = str(pred) if isinstance(pred, (str, Path)) else None
    if parallel and pred_name is not None:
        # the two files are independent until the results are checked against the GT:
        # parse the (larger) results file here while a child process reads the GT
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
            future: Future[tuple[InstanceDataset, list[Notice]]] = ex.submit(
                _load_gt, gt, iou_type)
            try:
                pred = read_json(pred_name)
            finally:
                dataset, notices = future.result()  # GT problems are reported first
    else:
        dataset, notices = _load_gt(gt, iou_type)
    preds, pred_notices = load_coco_results(pred, dataset, boxes=iou_type == "bbox",
                                            masks=iou_type == "segm", name=pred_name)
    prepared = prepare(dataset, preds, params, iou_type)
    state = evaluate_coco_state(prepared, params, iou_type, workers=workers, progress=progress)
    inst = dataset.instances
    counts = {
        "gt_instances": len(inst),
        "gt_crowd": int(inst.iscrowd.sum()),
        "detections": len(preds),
        "detections_evaluated": len(prepared.det_score),
        "detections_beyond_max_dets": prepared.n_dropped,
    }
    return CocoResult.build(f"coco-{iou_type}", state, compute(state, params), params,
                            dataset=dataset, notices=notices + pred_notices + tie_notice(preds),
                            counts=counts)
