"""Workflows ``coco-bbox``, ``coco-segm`` and ``coco-boundary``: COCO instance JSON in,
COCOeval numbers out (``coco-boundary``: boundary-iou-api's ``iouType='boundary'``).

Data flow: files -> ``io.coco`` (checked once) -> ``protocols.coco_match.prepare`` ->
per-image-shard matching -> merged ``CocoState`` -> ``protocols.coco.compute`` ->
``report.coco.CocoResult``.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS", "evaluate_coco", "validate_coco"]

from functools import partial
from pathlib import Path
from typing import Any

from benchmark_eval.errors import ConfigError, Notice, Problem
from benchmark_eval.io.coco import (
    RawResults,
    Source,
    attach_coco_results,
    check_coco_ground_truth,
    check_coco_results,
    load_coco_ground_truth,
    open_source,
    read_coco_results,
)
from benchmark_eval.protocols.coco import compute, evaluate_coco_state, tie_notice
from benchmark_eval.protocols.coco_match import IouType, prepare
from benchmark_eval.protocols.coco_params import BoundaryParams, CocoParams
from benchmark_eval.report.coco import CocoResult
from benchmark_eval.schema import InstanceDataset
from benchmark_eval.workflows.base import LegacyWorkflow, Progress, json_inputs, read_both
from benchmark_eval.workflows.pool import fork_map


def _params_model(iou_type: IouType) -> type[CocoParams]:
    return BoundaryParams if iou_type == "boundary" else CocoParams


def _params(params: CocoParams | dict[str, Any] | None,
            model: type[CocoParams] = CocoParams) -> CocoParams:
    """``params`` as ``model`` (``CocoParams`` given to ``coco-boundary`` get the default
    dilation ratio; ``BoundaryParams`` given to ``coco-bbox``/``coco-segm`` are refused)."""
    if params is None:
        return model()
    if type(params) is model:
        return params
    try:
        return model(**(params.model_dump() if isinstance(params, CocoParams) else params))
    except ValueError as exc:
        raise ConfigError(f"invalid parameters for COCO: {exc}") from exc


def _load_gt(gt: Source, iou_type: IouType) -> tuple[InstanceDataset, list[Notice]]:
    return load_coco_ground_truth(gt, boxes=iou_type == "bbox", masks=iou_type != "bbox")


def evaluate_coco(
    iou_type: IouType, *, gt: Source, pred: Source,
    params: CocoParams | dict[str, Any] | None = None, workers: int = 1,
    progress: Progress | None = None,
) -> CocoResult:
    """Evaluate COCO results against COCO instance ground truth (pycocotools COCOeval).

    Args:
        iou_type: ``"bbox"``, ``"segm"`` or ``"boundary"``.
        gt: Ground-truth JSON path or loaded dict.
        pred: Results JSON path or loaded list.
        params: :class:`CocoParams` (``"boundary"``: :class:`BoundaryParams`), or a dict of
            its fields; the official preset if None.
        workers: Processes; 0 = all cores. With more than one, the GT is read in a child
            process while the results are parsed, and matching runs in a pool.
        progress: Called with (images done, images total).
    """
    p = _params(params, _params_model(iou_type))
    boxes, masks = iou_type == "bbox", iou_type != "bbox"
    # with workers != 1 the (larger) results are read and decoded here while a child
    # process reads the GT
    (dataset, notices), raw = read_both(
        partial(_load_gt, gt, iou_type),
        partial(_read_results, pred, boxes=boxes, masks=masks), workers=workers)
    preds, problems, pred_notices = attach_coco_results(raw, dataset, boxes=boxes, masks=masks)
    if problems or preds is None:
        raise problems.error()
    gt_ignore = None
    if iou_type == "boundary" and dataset.instances.ignore is not None:
        # boundary-iou-api's _prepare keeps the file's flag: ignore = ignore or iscrowd
        # (pycocotools, and faster-coco-eval after it, replace it by iscrowd)
        gt_ignore = dataset.instances.ignore | dataset.instances.iscrowd
        notices = [n for n in notices if n.code != "ignore-overridden"]
    prepared = prepare(dataset, preds, p, iou_type, gt_ignore=gt_ignore)
    state = evaluate_coco_state(prepared, p, iou_type, mapper=partial(fork_map, workers=workers),
                                progress=progress)
    inst = dataset.instances
    counts = {
        "gt_instances": len(inst),
        "gt_crowd": int(inst.iscrowd.sum()),
        "detections": len(preds),
        "detections_evaluated": len(prepared.det_score),
        "detections_beyond_max_dets": prepared.n_dropped,
    }
    return CocoResult.build(f"coco-{iou_type}", state, compute(state, p), p, dataset=dataset,
                            notices=notices + pred_notices + tie_notice(preds), counts=counts)


def _read_results(pred: Source, *, boxes: bool, masks: bool) -> RawResults:
    return read_coco_results(*open_source(pred, "<pred>"), boxes=boxes, masks=masks)


def validate_coco(iou_type: IouType, *, gt: Source, pred: Source) -> list[Problem]:
    """Every problem of a COCO ground truth and results file; empty when clean."""
    boxes, masks = iou_type == "bbox", iou_type != "bbox"
    dataset, problems = check_coco_ground_truth(gt, boxes=boxes, masks=masks)
    if dataset is None:
        where = str(pred) if isinstance(pred, (str, Path)) else "<pred>"
        return [*problems, Problem(where, "not checked: the ground truth has problems")]
    return problems + check_coco_results(pred, dataset, boxes=boxes, masks=masks)


_SUMMARIES = {
    "bbox": "COCO box AP/AR (pycocotools 2.0.11 COCOeval, iouType='bbox')",
    "segm": "COCO mask AP/AR (pycocotools 2.0.11 COCOeval, iouType='segm')",
    "boundary": "COCO Boundary AP/AR (boundary-iou-api COCOeval, iouType='boundary')",
}


def _workflow(iou_type: IouType) -> LegacyWorkflow:
    add_arguments, cli_options = json_inputs(
        gt_help="COCO instance ground truth (instances_*.json)",
        pred_help="COCO results file: a JSON list of detections"
                  + (" with segmentation masks" if iou_type == "boundary" else ""),
        config_help="parameters (IoU/recall thresholds, maxDets, area ranges, class_agnostic"
                    + (", boundary_dilation_ratio" if iou_type == "boundary" else "")
                    + "; see configs/); official preset by default",
        params_model=_params_model(iou_type),
    )
    pred = "segm" if iou_type == "boundary" else iou_type
    return LegacyWorkflow(
        name=f"coco-{iou_type}",
        summary=_SUMMARIES[iou_type],
        evaluate=partial(evaluate_coco, iou_type),
        validate=partial(validate_coco, iou_type),
        add_arguments=add_arguments,
        cli_options=cli_options,
        example=f"--gt instances_val2017.json --pred {pred}_results.json",
    )


WORKFLOWS = (_workflow("bbox"), _workflow("segm"), _workflow("boundary"))
