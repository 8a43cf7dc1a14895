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
from benchmark_eval.io.inmemory import instance_subsets
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
from benchmark_eval.workflows.coco import Analysis, coco_plan, json_workflow
from benchmark_eval.workflows.pool import Plan, read_both


def _result(protocol: str, params: LvisParams, dataset: InstanceDataset,
            frequency: np.ndarray, notices: list[Notice], counts: dict[str, int],
            state: CocoState) -> LvisResult:
    return LvisResult.build(protocol, state, compute_lvis(state, params, frequency), params,
                            dataset=dataset, notices=notices, counts=counts,
                            frequency=frequency)


def _plan(iou_type: IouType, params: LvisParams, *, gt: Source, pred: Source,
          workers: int = 1, analyses: Analysis | None = None
          ) -> Plan[CocoTask, CocoState, LvisResult]:
    """Read and check both files (the GT in a child process when ``workers != 1``), apply
    LVIS' cap and federated rules and plan the image shards; ``analyses`` as in
    ``workflows.coco`` (every mask is then kept decoded: TIDE and the confusion matrix
    match detections the federated filter drops)."""
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
        keep = None if survivors is None or analyses else survivors[0] & survivors[1]
        decode_result_masks(raw, keep)
    preds, pred_notices = attach_or_raise(raw, dataset, boxes=boxes, masks=masks)
    lp = prepare_lvis(dataset, fed, ignore, preds, params, iou_type, survivors=survivors)
    frequency = fed.frequency[np.argsort(dataset.categories.ids)]  # K axis: sorted ids
    finish = partial(_result, f"lvis-{iou_type}", params, dataset, frequency,
                     lvis_notices(gt_notices, pred_notices, preds),
                     lvis_counts(dataset, ignore, preds, lp))
    if analyses is not None:
        from benchmark_eval.analysis.run import (
            InstanceInputs,
            finish_with,
            non_ignored_gt_images,
        )

        inputs = InstanceInputs(dataset, preds, iou_type, non_ignored_gt_images(
            lp.prepared, params.area_ranges[0]), federated=fed, images=lp.prepared.image_ids)
        finish = partial(finish_with, finish, analyses, inputs)
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
        metric_keys=LVIS_METRIC_KEYS, batch_gt=instance_subsets)


WORKFLOWS = (_workflow("bbox"), _workflow("segm"))
