"""Workflows ``coco-keypoints`` (COCO keypoints JSON in, ``COCOeval(iouType="keypoints")``
numbers out) and ``crowdpose`` (the CrowdPose evaluation of faster-coco-eval's
``keypoints_crowd``).

Data flow: files -> ``io.coco_keypoints`` (checked once) ->
``protocols.coco_keypoints.prepare_keypoints`` -> a
:class:`~benchmark_eval.workflows.pool.Plan` of image shards (``keypoints_shard``: the COCO
engine with OKS) -> merged ``CocoState`` -> ``compute_keypoints`` ->
``report.coco_keypoints.KeypointsResult``.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS"]

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, cast

from benchmark_eval.errors import Notice, Problem
from benchmark_eval.io.coco_keypoints import (
    RawKeypointResults,
    attach_keypoint_results,
    check_crowdpose_ground_truth,
    check_keypoint_results,
    check_keypoints_ground_truth,
    load_crowdpose_ground_truth,
    load_keypoints_ground_truth,
    read_keypoint_results,
)
from benchmark_eval.io.jsonfile import Source
from benchmark_eval.protocols.coco import CocoMetrics
from benchmark_eval.protocols.coco_keypoints import (
    KEYPOINT_METRIC_KEYS,
    KeypointsTask,
    compute_keypoints,
    keypoints_counts,
    keypoints_notices,
    keypoints_shard,
    prepare_keypoints,
)
from benchmark_eval.protocols.coco_keypoints_params import CrowdPoseParams, KeypointsParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.crowdpose import (
    CROWDPOSE_METRIC_KEYS,
    compute_crowdpose,
    crowdpose_notices,
    prepare_crowdpose,
)
from benchmark_eval.report.coco_keypoints import CrowdPoseResult, KeypointsResult
from benchmark_eval.schema import InstanceDataset, KeypointDataset, Keypoints, Predictions
from benchmark_eval.workflows.coco import SHARD_SIZE, json_workflow
from benchmark_eval.workflows.pool import Plan, read_both

PROTOCOL = "coco-keypoints"
CROWDPOSE = "crowdpose"


def _result(kind: type[KeypointsResult], protocol: str,
            compute: Callable[[CocoState, Any], CocoMetrics], params: KeypointsParams,
            dataset: InstanceDataset, notices: list[Notice], counts: dict[str, int],
            state: CocoState) -> KeypointsResult:
    return cast(KeypointsResult, kind.build(protocol, state, compute(state, params), params,
                                            dataset=dataset, notices=notices, counts=counts))


def _plan(params: KeypointsParams, *, gt: Source, pred: Source, workers: int = 1
          ) -> Plan[KeypointsTask, CocoState, KeypointsResult]:
    """Read and check both files (the GT in a child process when ``workers != 1``),
    prepare the instances and their keypoints, and plan the image shards."""
    (kgt, gt_notices), raw = read_both(partial(load_keypoints_ground_truth, gt),
                                       partial(read_keypoint_results, pred), workers=workers)
    preds, pred_kp, notices = _attach(raw, kgt, gt_notices)
    task = prepare_keypoints(kgt, preds, pred_kp, params)
    finish = partial(_result, KeypointsResult, PROTOCOL, compute_keypoints, params,
                     kgt.dataset, notices, keypoints_counts(kgt, preds, task.prepared))
    return _shards(task, finish)


def _crowdpose_plan(params: CrowdPoseParams, *, gt: Source, pred: Source, workers: int = 1
                    ) -> Plan[KeypointsTask, CocoState, KeypointsResult]:
    """As :func:`_plan`, with the CrowdPose GT (``crowdIndex``) and its split ranges."""
    (kgt, crowd_index, gt_notices), raw = read_both(
        partial(load_crowdpose_ground_truth, gt), partial(read_keypoint_results, pred),
        workers=workers)
    preds, pred_kp, notices = _attach(raw, kgt, gt_notices)
    notices += crowdpose_notices(kgt, crowd_index, params)
    task = prepare_crowdpose(kgt, crowd_index, preds, pred_kp, params)
    finish = partial(_result, CrowdPoseResult, CROWDPOSE, compute_crowdpose, params,
                     kgt.dataset, notices, keypoints_counts(kgt, preds, task.prepared))
    return _shards(task, finish)


def _attach(raw: RawKeypointResults, kgt: KeypointDataset, gt_notices: list[Notice]
            ) -> tuple[Predictions, Keypoints, list[Notice]]:
    preds, pred_kp, problems, pred_notices = attach_keypoint_results(raw, kgt)
    if problems or preds is None or pred_kp is None:
        raise problems.error()
    return preds, pred_kp, keypoints_notices(gt_notices, pred_notices, preds)


def _shards(task: KeypointsTask, finish: Callable[[CocoState], KeypointsResult]
            ) -> Plan[KeypointsTask, CocoState, KeypointsResult]:
    return Plan(task=keypoints_shard, context=task, n_items=task.n_images, empty=task.empty(),
                finish=finish, shard_size=SHARD_SIZE)


def _check(params: KeypointsParams, *, gt: Source, pred: Source, workers: int = 1,
           crowdpose: bool = False) -> list[Problem]:
    """Every problem of a keypoints ground truth and results file; empty when clean."""
    kgt, problems = (check_crowdpose_ground_truth if crowdpose
                     else check_keypoints_ground_truth)(gt)
    if kgt is None:
        where = str(pred) if isinstance(pred, (str, Path)) else "<pred>"
        return [*problems, Problem(where, "not checked: the ground truth has problems")]
    return problems + check_keypoint_results(pred, kgt)


WORKFLOWS = (
    json_workflow(
        PROTOCOL, params_model=KeypointsParams, plan=_plan, check=_check,
        gt_help="COCO keypoints ground truth (person_keypoints_*.json)",
        pred_help="COCO results file: a JSON list of detections with 'keypoints'",
        metric_keys=KEYPOINT_METRIC_KEYS),
    json_workflow(
        CROWDPOSE, params_model=CrowdPoseParams, plan=_crowdpose_plan,
        check=partial(_check, crowdpose=True),
        gt_help="CrowdPose ground truth (crowdpose_test.json, images with crowdIndex)",
        pred_help="results file: a JSON list of detections with 14 'keypoints'",
        metric_keys=CROWDPOSE_METRIC_KEYS),
)
