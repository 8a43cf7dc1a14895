"""Workflows ``coco-panoptic`` and ``coco-panoptic-boundary``: COCO panoptic JSON + PNG
folders in, panopticapi's PQ out (``coco-panoptic-boundary``: boundary-iou-api's Boundary PQ,
``pq_compute(iou_type="boundary")``: band pair counts from ``masks.panoptic_boundary`` too).

Data flow: JSONs -> ``io.panoptic.load_panoptic`` (checked once) -> per image, in shards of
images, optionally in forked processes: decode both PNGs, count pair overlaps and check ids
against ``segments_info`` (``io.panoptic_png.read_image_pair``), match
(``protocols.panoptic.image_stats``) -> per-shard :class:`PanopticState` merged by addition
in shard order -> ``protocols.panoptic.compute`` -> ``report.panoptic.PanopticResult``. Each
worker holds one image pair at a time. ``cityscapes-panoptic`` reuses all of it with the
Cityscapes adapter (:mod:`benchmark_eval.workflows.cityscapes_panoptic`).
"""

from __future__ import annotations

__all__ = ["SHARD_IMAGES", "WORKFLOWS", "PanopticContext", "panoptic_workflow"]

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from benchmark_eval.errors import InputError, Problem
from benchmark_eval.io.panoptic import (
    Folder,
    PanopticFiles,
    PanopticInputs,
    Source,
    check_panoptic,
    load_panoptic,
)
from benchmark_eval.io.panoptic_png import read_image_pair, summarise_problems
from benchmark_eval.masks.panoptic_boundary import boundary_pairs
from benchmark_eval.protocols.panoptic import (
    METRIC_KEYS,
    ImageStats,
    PanopticBoundaryParams,
    PanopticParams,
    accumulate,
    compute,
    image_stats,
    size_notices,
)
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.report.panoptic import PanopticResult
from benchmark_eval.workflows.base import Workflow
from benchmark_eval.workflows.catalog import entry
from benchmark_eval.workflows.pool import Plan, cores, run_shards

SHARD_IMAGES = 16  # images per shard in a pool (load balance, progress granularity)
FilesOf = Callable[[Source, Source, Folder, Folder], PanopticFiles]


@dataclass(frozen=True)
class PanopticContext:
    """What every shard reads (picklable; inherited through fork).

    Attributes:
        inputs: Both sides, checked, with the prediction row of every GT image.
        decoder: ``"pyspng"``, ``"pillow"`` or None (pyspng when installed).
        dilation_ratio: Boundary PQ's band width ratio; None for PQ.
    """

    inputs: PanopticInputs
    decoder: str | None = None
    dilation_ratio: float | None = None


def _image(ctx: PanopticContext, i: int) -> ImageStats:
    gt, pred = ctx.inputs.gt, ctx.inputs.pred
    j = int(ctx.inputs.pred_rows[i])
    pair = read_image_pair(gt, i, pred, j, decoder=ctx.decoder,
                           keep_id_maps=ctx.dilation_ratio is not None)
    if pair.problems or pair.pairs is None:
        raise pair.error()
    bands = None
    if ctx.dilation_ratio is not None and pair.id_maps is not None:
        bands = boundary_pairs(*pair.id_maps, ctx.dilation_ratio)
    return image_stats(pair.pairs, gt.dataset.image_segments(i),
                       pred.dataset.image_segments(j), gt.dataset.categories.ids,
                       boundary_pairs=bands, image_id=pair.image_id)


def score_shard(ctx: PanopticContext, start: int, stop: int) -> PanopticState:
    """The state of GT images ``[start, stop)`` (one running sum, in image order).

    Raises:
        InputError: The first image whose PNGs disagree with their JSON.
    """
    return accumulate(ctx.inputs.gt.dataset.categories.ids,
                      (_image(ctx, i) for i in range(start, stop)))


def check_shard(ctx: PanopticContext, start: int, stop: int) -> list[tuple[str, Problem]]:
    """Every PNG problem of GT images ``[start, stop)``, with its kind."""
    gt, pred, rows = ctx.inputs.gt, ctx.inputs.pred, ctx.inputs.pred_rows
    return [found for i in range(start, stop)
            for found in read_image_pair(gt, i, pred, int(rows[i]), decoder=ctx.decoder,
                                         files=True).problems]


def _links(inputs: PanopticInputs, allow_symlinks: bool) -> PanopticInputs:
    """``inputs`` following ``file_name`` symlinks out of the PNG folders, if allowed."""
    if not allow_symlinks:
        return inputs
    return replace(inputs, gt=replace(inputs.gt, allow_outside=True),
                   pred=replace(inputs.pred, allow_outside=True))


def _finish(protocol: str, inputs: PanopticInputs, state: PanopticState) -> PanopticResult:
    categories = inputs.gt.dataset.categories
    result = PanopticResult.build(state, compute(state, categories.isthing), categories,
                                  protocol=protocol, counts=inputs.counts())
    if inputs.notices:  # the adapter's input notices first, then the protocol's
        result = dataclasses.replace(result, warnings=[*inputs.notices, *result.warnings])
    result.warnings.extend(size_notices(inputs.gt.size_mismatches()))
    return result


def _plan(protocol: str, files_of: FilesOf, params: BaseModel, *, gt: Source, pred: Source,
          workers: int = 1, gt_dir: Folder = None, pred_dir: Folder = None,
          decoder: str | None = None, allow_symlinks: bool = False
          ) -> Plan[PanopticContext, PanopticState, PanopticResult]:
    """Read and check both JSONs and folders; the shards score the PNGs.

    One process keeps one running sum over every image, exactly as panopticapi on one core;
    with several, shards of :data:`SHARD_IMAGES` are merged in shard order (the float IoU
    sums are then grouped per shard).
    """
    inputs = _links(load_panoptic(files_of(gt, pred, gt_dir, pred_dir)), allow_symlinks)
    ratio = (params.boundary_dilation_ratio if isinstance(params, PanopticBoundaryParams)
             else None)
    ctx = PanopticContext(inputs, decoder, ratio)
    n = len(inputs.gt.dataset)
    return Plan(task=score_shard, context=ctx, n_items=n,
                empty=PanopticState.empty(inputs.gt.dataset.categories.ids),
                finish=partial(_finish, protocol, inputs),
                shard_size=SHARD_IMAGES if cores(workers) > 1 else max(n, 1))


def _check(files_of: FilesOf, params: BaseModel, *, gt: Source, pred: Source,
           workers: int = 1, gt_dir: Folder = None, pred_dir: Folder = None,
           decoder: str | None = None, allow_symlinks: bool = False) -> list[Problem]:
    """Every problem of a panoptic submission: both JSONs, then every PNG."""
    try:
        files = files_of(gt, pred, gt_dir, pred_dir)
    except InputError as exc:
        return exc.problems
    inputs, problems = check_panoptic(files)
    if inputs is None:
        return problems
    ctx = PanopticContext(_links(inputs, allow_symlinks), decoder)
    found = [p for part in run_shards(check_shard, ctx, len(inputs.gt.dataset),
                                      shard_size=SHARD_IMAGES, workers=workers)
             for p in part]
    return problems + summarise_problems(found)


# ---------------------------------------------------------------------------------- CLI


def _add_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
    parser.add_argument("--gt", required=True, type=Path, metavar="GT.json",
                        help="panoptic ground truth (panoptic_val2017.json)")
    parser.add_argument("--gt-dir", type=Path, metavar="DIR",
                        help="ground-truth PNG folder (default: GT.json without .json)")
    parser.add_argument("--pred", required=True, type=Path, metavar="PRED.json",
                        help="panoptic predictions: JSON with 'annotations'")
    parser.add_argument("--pred-dir", type=Path, metavar="DIR",
                        help="prediction PNG folder (default: PRED.json without .json)")
    parser.add_argument("--allow-symlinks", action="store_true",
                        help="follow file_name symlinks leading out of the PNG folders"
                             " (refused by default; absolute names and '..' always are)")


def _cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    return {"gt": args.gt, "pred": args.pred, "gt_dir": args.gt_dir,
            "pred_dir": args.pred_dir, "allow_symlinks": args.allow_symlinks}


def _add_boundary_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
    _add_arguments(parser, evaluate)
    if evaluate:
        parser.add_argument("--dilation-ratio", type=float, metavar="R",
                            help="band width as a fraction of the image diagonal (default"
                                 " 0.02, boundary-iou-api's; overrides --config)")


def _boundary_cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    options = _cli_options(args, evaluate)
    if evaluate and args.dilation_ratio is not None:
        options["boundary_dilation_ratio"] = args.dilation_ratio
    return options


def panoptic_workflow(name: str, *, files_of: FilesOf = PanopticFiles,
                      params_model: type[BaseModel] = PanopticParams,
                      boundary: bool = False) -> Workflow:
    """A panoptic protocol on the contract: ``files_of`` is its adapter (what the user gave
    -> :class:`~benchmark_eval.io.panoptic.PanopticFiles`); summary and example from the
    catalogue."""
    return Workflow(
        name=name, summary=entry(name).summary, params_model=params_model,
        plan=partial(_plan, name, files_of), check=partial(_check, files_of),
        add_arguments=_add_boundary_arguments if boundary else _add_arguments,
        cli_options=_boundary_cli_options if boundary else _cli_options,
        state_type=PanopticState, metric_keys=METRIC_KEYS, example=entry(name).example)


WORKFLOWS = (
    panoptic_workflow("coco-panoptic"),
    panoptic_workflow("coco-panoptic-boundary", params_model=PanopticBoundaryParams,
                      boundary=True),
)
