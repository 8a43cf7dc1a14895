"""Workflows ``lvis-bbox`` and ``lvis-segm``: LVIS JSON in, LVISEval numbers out."""

from __future__ import annotations

__all__ = ["WORKFLOWS", "evaluate_lvis", "validate_lvis"]

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError, Notice, Problem
from benchmark_eval.io.coco import (
    RawResults,
    Source,
    attach_coco_results,
    check_coco_results,
    decode_result_masks,
    open_source,
    read_coco_results,
)
from benchmark_eval.io.lvis import check_lvis_ground_truth, load_lvis_ground_truth
from benchmark_eval.protocols.coco import evaluate_coco_state, score_ties
from benchmark_eval.protocols.coco_match import IouType
from benchmark_eval.protocols.lvis import (
    LvisParams,
    compute_lvis,
    lvis_survivors,
    prepare_lvis,
)
from benchmark_eval.report.lvis import LvisResult
from benchmark_eval.workflows.base import LegacyWorkflow, Progress, json_inputs, read_both
from benchmark_eval.workflows.pool import fork_map


def _params(params: LvisParams | dict[str, Any] | None) -> LvisParams:
    if params is None or isinstance(params, LvisParams):
        return params or LvisParams()
    try:
        return LvisParams(**params)
    except ValueError as exc:
        raise ConfigError(f"invalid parameters for LVIS: {exc}") from exc


def evaluate_lvis(
    iou_type: IouType, *, gt: Source, pred: Source,
    params: LvisParams | dict[str, Any] | None = None, workers: int = 1,
    progress: Progress | None = None,
) -> LvisResult:
    """Evaluate results against an LVIS ground truth (lvis-api 0.5.3 ``LVISEval``).

    Args:
        iou_type: ``"bbox"`` or ``"segm"``.
        gt: LVIS GT JSON path or loaded dict.
        pred: Results JSON path or loaded list (COCO results format).
        params: :class:`LvisParams` (or a dict of its fields); lvis-api's defaults if None.
        workers: Processes for matching; 0 = all cores.
        progress: Called with (images done, images total).
    """
    p = _params(params)
    boxes, masks = iou_type == "bbox", iou_type == "segm"
    (dataset, fed, ignore, notices), raw = read_both(
        partial(load_lvis_ground_truth, gt, boxes=boxes, masks=masks),
        partial(_read_results, pred, boxes=boxes, masks=masks), workers=workers)
    survivors = None
    if raw.image_ids is not None and raw.category_ids is not None and raw.scores is not None:
        survivors = lvis_survivors(dataset, fed, raw.image_ids, raw.category_ids, raw.scores,
                                   p.max_dets)
    if raw.masks is not None:
        # decode every mask (all are checked) but keep the runs of those the per-image cap
        # and the federated filter let through: typically under half of LVIS' detections
        decode_result_masks(raw, None if survivors is None else survivors[0] & survivors[1])
    preds, problems, pred_notices = attach_coco_results(raw, dataset, boxes=boxes, masks=masks)
    if problems or preds is None:
        raise problems.error()
    lp = prepare_lvis(dataset, fed, ignore, preds, p, iou_type, survivors=survivors)
    engine = p.engine_params()
    state = evaluate_coco_state(lp.prepared, engine, iou_type,
                                mapper=partial(fork_map, workers=workers), progress=progress)
    frequency = fed.frequency[np.argsort(dataset.categories.ids)]  # K axis: sorted ids
    counts = {
        "gt_instances": len(dataset.instances),
        "gt_ignored": int(ignore.sum()),
        "detections": len(preds),
        "detections_beyond_max_dets": lp.beyond_max_dets,
        "detections_not_federated": lp.not_federated,
        "detections_zero_area": lp.zero_area,
        "gt_zero_area": lp.zero_area_gt,
        "detections_evaluated": len(lp.prepared.det_score),
    }
    ties = score_ties(preds)
    if ties:
        notices = [*notices, Notice(
            "score-ties",
            f"{ties} detection(s) share their score with another detection of the same"
            " category; lvis-api breaks such ties by image id, then results-file order"
            " (also at the 300-per-image cut), so AP can depend on file order. Reproduced.")]
    return LvisResult.build(f"lvis-{iou_type}", state, compute_lvis(state, p, frequency), p,
                            dataset=dataset, notices=notices + pred_notices, counts=counts)


def _read_results(pred: Source, *, boxes: bool, masks: bool) -> RawResults:
    return read_coco_results(*open_source(pred, "<pred>"), boxes=boxes, masks=masks,
                             decode=False)


def validate_lvis(iou_type: IouType, *, gt: Source, pred: Source) -> list[Problem]:
    """Every problem of an LVIS ground truth and results file; empty when clean."""
    boxes, masks = iou_type == "bbox", iou_type == "segm"
    dataset, _, problems = check_lvis_ground_truth(gt, boxes=boxes, masks=masks)
    if dataset is None:
        where = str(pred) if isinstance(pred, (str, Path)) else "<pred>"
        return [*problems, Problem(where, "not checked: the ground truth has problems")]
    return problems + check_coco_results(pred, dataset, boxes=boxes, masks=masks)


_ADD_ARGUMENTS, _CLI_OPTIONS = json_inputs(
    gt_help="LVIS ground truth (lvis_v1_val.json)",
    pred_help="results file: a JSON list of detections (COCO format)",
    config_help="parameters (thresholds, max_dets, area ranges; see configs/lvis.json);"
                " lvis-api's defaults otherwise",
    params_model=LvisParams,
)


def _workflow(iou_type: IouType) -> LegacyWorkflow:
    kind = "box" if iou_type == "bbox" else "mask"
    return LegacyWorkflow(
        name=f"lvis-{iou_type}",
        summary=f"LVIS federated {kind} AP/AR, APr/APc/APf (lvis-api 0.5.3 LVISEval)",
        evaluate=partial(evaluate_lvis, iou_type),
        validate=partial(validate_lvis, iou_type),
        add_arguments=_ADD_ARGUMENTS,
        cli_options=_CLI_OPTIONS,
        example=f"--gt lvis_v1_val.json --pred {iou_type}_results.json",
    )


WORKFLOWS = (_workflow("bbox"), _workflow("segm"))
