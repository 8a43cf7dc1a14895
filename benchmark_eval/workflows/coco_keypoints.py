"""Workflow ``coco-keypoints``: COCO keypoints JSON in, ``COCOeval(iouType="keypoints")``
numbers out.

Data flow: files -> ``io.coco_keypoints`` (checked once) ->
``protocols.coco_keypoints.prepare_keypoints`` -> a
:class:`~benchmark_eval.workflows.pool.Plan` of image shards (``keypoints_shard``: the COCO
engine with OKS) -> merged ``CocoState`` -> ``compute_keypoints`` ->
``report.coco_keypoints.KeypointsResult``.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS"]

from functools import partial
from pathlib import Path
from typing import cast

from benchmark_eval.errors import Notice, Problem
from benchmark_eval.io.coco_keypoints import (
    attach_keypoint_results,
    check_keypoint_results,
    check_keypoints_ground_truth,
    load_keypoints_ground_truth,
    read_keypoint_results,
)
from benchmark_eval.io.jsonfile import Source
from benchmark_eval.protocols.coco_keypoints import (
    KEYPOINT_METRIC_KEYS,
    KeypointsTask,
    compute_keypoints,
    keypoints_counts,
    keypoints_notices,
    keypoints_shard,
    prepare_keypoints,
)
from benchmark_eval.protocols.coco_keypoints_params import KeypointsParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.report.coco_keypoints import KeypointsResult
from benchmark_eval.schema import InstanceDataset
from benchmark_eval.workflows.base import Workflow, read_both
from benchmark_eval.workflows.coco import SHARD_SIZE, json_arguments, json_options
from benchmark_eval.workflows.pool import Plan

PROTOCOL = "coco-keypoints"


def _result(params: KeypointsParams, dataset: InstanceDataset, notices: list[Notice],
            counts: dict[str, int], state: CocoState) -> KeypointsResult:
    return cast(KeypointsResult, KeypointsResult.build(
        PROTOCOL, state, compute_keypoints(state, params), params, dataset=dataset,
        notices=notices, counts=counts))


def _plan(params: KeypointsParams, *, gt: Source, pred: Source, workers: int = 1
          ) -> Plan[KeypointsTask, CocoState, KeypointsResult]:
    """Read and check both files (the GT in a child process when ``workers != 1``),
    prepare the instances and their keypoints, and plan the image shards."""
    (kgt, gt_notices), raw = read_both(partial(load_keypoints_ground_truth, gt),
                                       partial(read_keypoint_results, pred), workers=workers)
    preds, pred_kp, problems, pred_notices = attach_keypoint_results(raw, kgt)
    if problems or preds is None or pred_kp is None:
        raise problems.error()
    task = prepare_keypoints(kgt, preds, pred_kp, params)
    finish = partial(_result, params, kgt.dataset,
                     keypoints_notices(gt_notices, pred_notices, preds),
                     keypoints_counts(kgt, preds, task.prepared))
    return Plan(task=keypoints_shard, context=task, n_items=task.n_images, empty=task.empty(),
                finish=finish, shard_size=SHARD_SIZE)


def _check(params: KeypointsParams, *, gt: Source, pred: Source,
           workers: int = 1) -> list[Problem]:
    """Every problem of a keypoints ground truth and results file; empty when clean."""
    kgt, problems = check_keypoints_ground_truth(gt)
    if kgt is None:
        where = str(pred) if isinstance(pred, (str, Path)) else "<pred>"
        return [*problems, Problem(where, "not checked: the ground truth has problems")]
    return problems + check_keypoint_results(pred, kgt)


WORKFLOWS = (Workflow(
    name=PROTOCOL,
    summary="COCO keypoint OKS AP/AR (pycocotools 2.0.11 COCOeval, iouType='keypoints')",
    params_model=KeypointsParams,
    plan=_plan,
    check=_check,
    add_arguments=json_arguments(
        "COCO keypoints ground truth (person_keypoints_*.json)",
        "COCO results file: a JSON list of detections with 'keypoints'", KeypointsParams),
    cli_options=json_options,
    state_type=CocoState,
    metric_keys=KEYPOINT_METRIC_KEYS,
    example="--gt person_keypoints_val2017.json --pred keypoints_results.json",
),)
