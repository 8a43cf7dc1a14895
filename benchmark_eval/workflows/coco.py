"""Workflows ``coco-bbox``, ``coco-segm`` and ``coco-boundary``: COCO instance JSON in,
COCOeval numbers out (``coco-boundary``: boundary-iou-api's ``iouType='boundary'``).

Data flow: files -> ``io.coco_gt`` / ``io.coco_results`` (checked once) ->
``protocols.coco.prepare_coco`` -> a :class:`~benchmark_eval.workflows.pool.Plan` of image
shards (``protocols.coco.coco_shard``) -> merged ``CocoState`` -> ``protocols.coco.compute``
-> ``report.coco.CocoResult``.
"""

from __future__ import annotations

__all__ = ["SHARD_SIZE", "WORKFLOWS", "Analysis", "coco_plan", "json_arguments", "json_options",
           "json_workflow"]

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from benchmark_eval.errors import Notice, Problem
from benchmark_eval.io.coco_gt import check_coco_ground_truth, load_coco_ground_truth
from benchmark_eval.io.coco_results import (
    attach_or_raise,
    check_results_against,
    read_results_source,
)
from benchmark_eval.io.inmemory import instance_subsets
from benchmark_eval.io.jsonfile import Source
from benchmark_eval.protocols.coco import (
    METRIC_KEYS,
    CocoTask,
    coco_counts,
    coco_notices,
    coco_shard,
    compute,
    prepare_coco,
)
from benchmark_eval.protocols.coco_match import IouType, PreparedInstances
from benchmark_eval.protocols.coco_params import BoundaryParams, CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.report.coco import CocoResult
from benchmark_eval.schema import InstanceDataset
from benchmark_eval.workflows.base import Workflow
from benchmark_eval.workflows.catalog import entry
from benchmark_eval.workflows.pool import Plan, read_both

if TYPE_CHECKING:  # the analyses are imported when asked for
    from benchmark_eval.analysis.run import InstanceInputs

ResultT = TypeVar("ResultT")
Analysis = Callable[[Any, "InstanceInputs"], None]
SHARD_SIZE = 250  # images per shard of COCO / LVIS matching (progress, load balance)


def coco_plan(prepared: PreparedInstances, params: CocoParams, iou_type: IouType,
              finish: Callable[[CocoState], ResultT]) -> Plan[CocoTask, CocoState, ResultT]:
    """The shard plan of the COCO matching engine (shared by ``coco-*`` and ``lvis-*``)."""
    task = CocoTask(prepared=prepared, params=params, iou_type=iou_type)
    return Plan(task=coco_shard, context=task, n_items=task.n_images, empty=task.empty(),
                finish=finish, shard_size=SHARD_SIZE)


def _load_gt(gt: Source, iou_type: IouType) -> tuple[InstanceDataset, list[Notice]]:
    return load_coco_ground_truth(gt, boxes=iou_type == "bbox", masks=iou_type != "bbox")


def _result(protocol: str, params: CocoParams, dataset: InstanceDataset,
            notices: list[Notice], counts: dict[str, int], state: CocoState) -> CocoResult:
    return CocoResult.build(protocol, state, compute(state, params), params, dataset=dataset,
                            notices=notices, counts=counts)


def _plan(iou_type: IouType, params: CocoParams, *, gt: Source, pred: Source,
          workers: int = 1, analyses: Analysis | None = None
          ) -> Plan[CocoTask, CocoState, CocoResult]:
    """Read and check both files, prepare the instances and plan the image shards.

    With ``workers != 1`` the (larger) results are read and decoded in this process while a
    child process reads the GT. ``analyses(result, inputs)`` is called after the finish
    with the loaded data (``analysis.run``).
    """
    boxes, masks = iou_type == "bbox", iou_type != "bbox"
    (dataset, gt_notices), raw = read_both(
        partial(_load_gt, gt, iou_type),
        partial(read_results_source, pred, boxes=boxes, masks=masks), workers=workers)
    preds, pred_notices = attach_or_raise(raw, dataset, boxes=boxes, masks=masks)
    prepared = prepare_coco(dataset, preds, params, iou_type)
    finish = partial(_result, f"coco-{iou_type}", params, dataset,
                     coco_notices(iou_type, gt_notices, pred_notices, preds),
                     coco_counts(dataset, preds, prepared))
    if analyses is not None:
        from benchmark_eval.analysis.run import (
            InstanceInputs,
            finish_with,
            non_ignored_gt_images,
        )

        inputs = InstanceInputs(dataset, preds, iou_type,
                                non_ignored_gt_images(prepared, params.area_ranges[0]),
                                images=prepared.image_ids)
        finish = partial(finish_with, finish, analyses, inputs)
    return coco_plan(prepared, params, iou_type, finish)


def _check(iou_type: IouType, params: CocoParams, *, gt: Source, pred: Source,
           workers: int = 1) -> list[Problem]:
    """Every problem of a COCO ground truth and results file; empty when clean."""
    boxes, masks = iou_type == "bbox", iou_type != "bbox"
    dataset, problems = check_coco_ground_truth(gt, boxes=boxes, masks=masks)
    return check_results_against(dataset, problems, pred, boxes=boxes, masks=masks)


def json_arguments(gt_help: str, pred_help: str, params_model: type[BaseModel]
                   ) -> Callable[[argparse.ArgumentParser, bool], None]:
    """``--gt GT.json`` and ``--pred RESULTS.json``, and the parameter fields a
    ``--config`` file may set (the CLI adds ``--config`` and ``--workers``)."""
    fields = ", ".join(params_model.model_fields)

    def add_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
        parser.epilog = f"--config parameters: {fields}; the official preset by default"
        parser.add_argument("--gt", required=True, type=Path, metavar="GT.json", help=gt_help)
        parser.add_argument("--pred", required=True, type=Path, metavar="RESULTS.json",
                            help=pred_help)

    return add_arguments


def json_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    """The ``--gt`` and ``--pred`` paths as keyword arguments."""
    return {"gt": args.gt, "pred": args.pred}


def json_workflow(name: str, *, params_model: type[BaseModel], plan: Callable[..., Any],
                  check: Callable[..., list[Problem]], gt_help: str, pred_help: str,
                  metric_keys: tuple[str, ...], batch_gt: Callable[..., Any] | None = None
                  ) -> Workflow:
    """A protocol reading a ground-truth JSON and a results JSON (``--gt``, ``--pred``),
    with a :class:`CocoState`; summary and example from the catalogue."""
    described = entry(name)
    return Workflow(
        name=name, summary=described.summary, params_model=params_model, plan=plan,
        check=check, add_arguments=json_arguments(gt_help, pred_help, params_model),
        cli_options=json_options, state_type=CocoState, metric_keys=metric_keys,
        example=described.example, batch_gt=batch_gt)


def _workflow(iou_type: IouType) -> Workflow:
    return json_workflow(
        f"coco-{iou_type}", params_model=BoundaryParams if iou_type == "boundary" else CocoParams,
        plan=partial(_plan, iou_type), check=partial(_check, iou_type),
        gt_help="COCO instance ground truth (instances_*.json)",
        pred_help="COCO results file: a JSON list of detections"
                  + (" with segmentation masks" if iou_type == "boundary" else ""),
        metric_keys=METRIC_KEYS, batch_gt=instance_subsets)


WORKFLOWS = (_workflow("bbox"), _workflow("segm"), _workflow("boundary"))
