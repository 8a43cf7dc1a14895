"""Workflows ``lvis-bbox`` and ``lvis-segm``: LVIS JSON in, lvis-api 0.5.3 LVISEval numbers
out, through the COCO matching engine's shard plan (``workflows.coco.coco_plan``)."""

from __future__ import annotations

__all__ = ["WORKFLOWS"]

from functools import partial

import numpy as np

from benchmark_eval.errors import Notice, Problem
from benchmark_eval.io.coco_results import (
    attach_or_raise,
    check_results_against,
    decode_result_masks,
    read_results_source,
)
from benchmark_eval.io.jsonfile import Source
from benchmark_eval.io.lvis import check_lvis_ground_truth, load_lvis_ground_truth
from benchmark_eval.protocols.coco import CocoTask
from benchmark_eval.protocols.coco_match import IouType
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.lvis import (
    LVIS_METRIC_KEYS,
    LvisParams,
    compute_lvis,
    lvis_counts,
    lvis_notices,
    lvis_survivors,
    prepare_lvis,
)
from benchmark_eval.report.lvis import LvisResult
from benchmark_eval.schema import InstanceDataset
from benchmark_eval.workflows.base import Workflow
from benchmark_eval.workflows.coco import coco_plan, json_workflow
from benchmark_eval.workflows.pool import Plan, read_both


def _result(protocol: str, params: LvisParams, dataset: InstanceDataset,
            frequency: np.ndarray, notices: list[Notice], counts: dict[str, int],
            state: CocoState) -> LvisResult:
    return LvisResult.build(protocol, state, compute_lvis(state, params, frequency), params,
                            dataset=dataset, notices=notices, counts=counts)


def _plan(iou_type: IouType, params: LvisParams, *, gt: Source, pred: Source,
          workers: int = 1) -> Plan[CocoTask, CocoState, LvisResult]:
    """Read and check both files (the GT in a child process when ``workers != 1``), apply
    LVIS' cap and federated rules and plan the image shards."""
    boxes, masks = iou_type == "bbox", iou_type == "segm"
    (dataset, fed, ignore, gt_notices), raw = read_both(
        partial(load_lvis_ground_truth, gt, boxes=boxes, masks=masks),
        partial(read_results_source, pred, boxes=boxes, masks=masks, decode=False),
        workers=workers)
    survivors = None
    if raw.image_ids is not None and raw.category_ids is not None and raw.scores is not None:
        survivors = lvis_survivors(dataset, fed, raw.image_ids, raw.category_ids, raw.scores,
                                   params.max_dets)
    if raw.masks is not None:
        # decode every mask (all are checked) but keep the runs of those the per-image cap
        # and the federated filter let through: typically under half of LVIS' detections
        decode_result_masks(raw, None if survivors is None else survivors[0] & survivors[1])
    preds, pred_notices = attach_or_raise(raw, dataset, boxes=boxes, masks=masks)
    lp = prepare_lvis(dataset, fed, ignore, preds, params, iou_type, survivors=survivors)
    frequency = fed.frequency[np.argsort(dataset.categories.ids)]  # K axis: sorted ids
    finish = partial(_result, f"lvis-{iou_type}", params, dataset, frequency,
                     lvis_notices(gt_notices, pred_notices, preds),
                     lvis_counts(dataset, ignore, preds, lp))
    return coco_plan(lp.prepared, params.engine_params(), iou_type, finish)


def _check(iou_type: IouType, params: LvisParams, *, gt: Source, pred: Source,
           workers: int = 1) -> list[Problem]:
    """Every problem of an LVIS ground truth and results file; empty when clean."""
    boxes, masks = iou_type == "bbox", iou_type == "segm"
    dataset, _, problems = check_lvis_ground_truth(gt, boxes=boxes, masks=masks)
    return check_results_against(dataset, problems, pred, boxes=boxes, masks=masks)


def _workflow(iou_type: IouType) -> Workflow:
    return json_workflow(
        f"lvis-{iou_type}", params_model=LvisParams, plan=partial(_plan, iou_type),
        check=partial(_check, iou_type), gt_help="LVIS ground truth (lvis_v1_val.json)",
        pred_help="results file: a JSON list of detections (COCO format)",
        metric_keys=LVIS_METRIC_KEYS)


WORKFLOWS = (_workflow("bbox"), _workflow("segm"))
