"""Workflows ``coco-panoptic`` and ``coco-panoptic-boundary``: COCO panoptic JSON + PNG
folders in, panopticapi's PQ out (``coco-panoptic-boundary``: boundary-iou-api's Boundary PQ,
``pq_compute(iou_type="boundary")``: band pair counts from ``masks.panoptic_boundary`` too).

Data flow: JSONs -> ``io.panoptic.load_coco_panoptic`` (checked once) -> per image, in
shards of images, optionally in forked processes: decode both PNGs, count pair overlaps
(``masks.panoptic``), check ids against ``segments_info`` (``io.panoptic.read_image_pair``),
match (``protocols.panoptic.image_stats``) -> per-shard :class:`PanopticState` merged by
addition -> ``protocols.panoptic.compute`` -> ``report.panoptic.PanopticResult``. Each worker
holds one image pair at a time.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS", "evaluate_panoptic", "evaluate_panoptic_boundary",
           "validate_panoptic"]

import argparse
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    InputError,
    MissingPredictionError,
    Notice,
    Problem,
)
from benchmark_eval.io.panoptic import (
    PanopticSource,
    Source,
    check_coco_panoptic,
    default_folder,
    load_coco_panoptic,
    match_predictions,
    read_image_pair,
    summarise_problems,
)
from benchmark_eval.masks.panoptic_boundary import boundary_pairs
from benchmark_eval.protocols.panoptic import (
    ImageStats,
    PanopticBoundaryParams,
    accumulate,
    compute,
    image_stats,
)
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.report.panoptic import PanopticResult
from benchmark_eval.workflows.base import LegacyWorkflow, Progress
from benchmark_eval.workflows.pool import cores, fork_map, shard_bounds

_SHARD_IMAGES = 16  # images per unit of work in a pool (load balance, progress granularity)
Folder = str | Path | None


@dataclass(frozen=True)
class _Work:
    """What every worker needs; inherited through fork, never pickled."""

    gt: PanopticSource
    pred: PanopticSource
    pred_rows: np.ndarray
    collect: bool  # validate: collect problems and skip matching; evaluate: raise
    decoder: str | None
    dilation_ratio: float | None = None  # Boundary PQ's band width ratio; None: PQ


@dataclass(frozen=True)
class _Shard:
    state: PanopticState
    problems: list[tuple[str, Problem]]
    mismatches: list[tuple[int, int, float, int]]  # image id, segment id, JSON area, pixels


def _error(problems: list[tuple[str, Problem]]) -> InputError:
    cls = FormatError if any(k == "png-unreadable" for k, _ in problems) else ConsistencyError
    return cls([p for _, p in problems])


def _images(work: _Work, start: int, stop: int, shard: _Shard,
            progress: Progress | None) -> Iterator[ImageStats]:
    category_ids = work.gt.dataset.categories.ids
    for i in range(start, stop):
        j = int(work.pred_rows[i])
        boundary = work.dilation_ratio is not None and not work.collect
        pair = read_image_pair(work.gt, i, work.pred, j, decoder=work.decoder,
                               keep_id_maps=boundary)
        shard.mismatches.extend((pair.image_id, *m) for m in pair.area_mismatches)
        if pair.problems:
            if not work.collect:
                raise _error(pair.problems)
            shard.problems.extend(pair.problems)
        elif pair.pairs is not None and not work.collect:
            bands = None
            if work.dilation_ratio is not None and pair.id_maps is not None:
                bands = boundary_pairs(*pair.id_maps, work.dilation_ratio)
            yield image_stats(pair.pairs, work.gt.dataset.image_segments(i),
                              work.pred.dataset.image_segments(j), category_ids,
                              boundary_pairs=bands)
        if progress is not None and ((i + 1 - start) % _SHARD_IMAGES == 0 or i + 1 == stop):
            progress(i + 1, stop)


def _run(work: _Work, start: int, stop: int, progress: Progress | None = None) -> _Shard:
    shard = _Shard(PanopticState.empty(work.gt.dataset.categories.ids), [], [])
    state = accumulate(work.gt.dataset.categories.ids,
                       _images(work, start, stop, shard, progress))
    return _Shard(state, shard.problems, shard.mismatches)


def _run_all(work: _Work, *, workers: int, progress: Progress | None) -> _Shard:
    """Every image: in this process (one running sum, as panopticapi on one core), or in
    shards over a fork-based pool, their states merged in shard order."""
    n = len(work.gt.dataset)
    shards = shard_bounds(n, _SHARD_IMAGES)
    if min(cores(workers), len(shards)) <= 1:
        return _run(work, 0, n, progress)
    state = PanopticState.empty(work.gt.dataset.categories.ids)
    problems: list[tuple[str, Problem]] = []
    mismatches: list[tuple[int, int, float, int]] = []
    for (_, stop), part in zip(shards, fork_map(_run, work, shards, workers=workers),
                               strict=True):
        state = state.merge(part.state)
        problems += part.problems
        mismatches += part.mismatches
        if progress is not None:
            progress(stop, n)
    return _Shard(state, problems, mismatches)


def _sources(gt: Source, pred: Source, gt_dir: Folder, pred_dir: Folder
             ) -> tuple[PanopticSource, PanopticSource]:
    gt_src = load_coco_panoptic(gt, gt_dir)
    pred_src = load_coco_panoptic(pred, pred_dir, ground_truth=gt_src.dataset)
    return gt_src, pred_src


def _check_folders(*sources: tuple[PanopticSource, str]) -> None:
    for src, option in sources:
        if src.folder is None:
            raise ConfigError(f"{src.dataset.source}: give the PNG folder ({option}) for JSON"
                              " passed as an object")
        if not src.folder.is_dir():
            raise FormatError(Problem(str(src.folder), f"PNG folder not found (for"
                                                       f" {src.dataset.source}; {option})"))


def _notices(mismatches: list[tuple[int, int, float, int]]) -> list[Notice]:
    if not mismatches:
        return []
    image_id, segment, area, pixels = mismatches[0]
    return [Notice("gt-area-mismatch", (
        f"{len(mismatches)} ground-truth segment(s) have an 'area' that differs from their"
        f" pixel count in the PNG (first: image_id={image_id}, segment {segment}: area"
        f" {area:g}, {pixels} pixels); panopticapi uses the JSON area in the IoU union."
        " Reproduced."))]


def evaluate_panoptic(*, gt: Source, pred: Source, gt_dir: Folder = None,
                      pred_dir: Folder = None, params: None = None, workers: int = 1,
                      progress: Progress | None = None, decoder: str | None = None
                      ) -> PanopticResult:
    """Evaluate COCO panoptic predictions (panopticapi ``pq_compute``).

    Args:
        gt: Ground-truth JSON path or loaded dict.
        pred: Predictions JSON path or loaded dict.
        gt_dir: Ground-truth PNG folder; default: ``gt`` without ``.json``.
        pred_dir: Prediction PNG folder; default: ``pred`` without ``.json``.
        params: Unused (the protocol has no parameters); must be None.
        workers: Processes; 0 = all cores.
        progress: Called with (images done, images total).
        decoder: ``"pyspng"`` or ``"pillow"`` (default: pyspng when installed).

    Raises:
        InputError: The first invalid input (JSON problems all at once; PNG problems of the
            first image that has any).
    """
    if params is not None:
        raise ConfigError("coco-panoptic has no parameters")
    return _evaluate(gt=gt, pred=pred, gt_dir=gt_dir, pred_dir=pred_dir, workers=workers,
                     progress=progress, decoder=decoder, dilation_ratio=None)


def evaluate_panoptic_boundary(
        *, gt: Source, pred: Source, gt_dir: Folder = None, pred_dir: Folder = None,
        params: PanopticBoundaryParams | dict[str, Any] | None = None, workers: int = 1,
        progress: Progress | None = None, decoder: str | None = None) -> PanopticResult:
    """Evaluate COCO panoptic predictions with Boundary PQ (boundary-iou-api
    ``pq_compute(iou_type="boundary")``): each pair's IoU is ``min(mask IoU, boundary IoU)``.

    Args:
        params: :class:`PanopticBoundaryParams` (or a dict of its fields); default ratio
            0.02.
        gt, pred, gt_dir, pred_dir, workers, progress, decoder: As :func:`evaluate_panoptic`.
    """
    if params is None:
        params = PanopticBoundaryParams()
    elif isinstance(params, dict):
        try:
            params = PanopticBoundaryParams(**params)
        except ValueError as exc:
            raise ConfigError(f"invalid coco-panoptic-boundary parameters: {exc}") from exc
    elif not isinstance(params, PanopticBoundaryParams):
        raise ConfigError("coco-panoptic-boundary takes PanopticBoundaryParams, got"
                          f" {type(params).__name__}")
    result = _evaluate(gt=gt, pred=pred, gt_dir=gt_dir, pred_dir=pred_dir, workers=workers,
                       progress=progress, decoder=decoder,
                       dilation_ratio=params.boundary_dilation_ratio)
    return dataclasses.replace(result, protocol="coco-panoptic-boundary")


def _evaluate(*, gt: Source, pred: Source, gt_dir: Folder, pred_dir: Folder, workers: int,
              progress: Progress | None, decoder: str | None,
              dilation_ratio: float | None) -> PanopticResult:
    gt_src, pred_src = _sources(gt, pred, gt_dir, pred_dir)
    _check_folders((gt_src, "gt_dir"), (pred_src, "pred_dir"))
    rows = match_predictions(gt_src.dataset, pred_src.dataset)
    work = _Work(gt_src, pred_src, rows, collect=False, decoder=decoder,
                 dilation_ratio=dilation_ratio)
    total = _run_all(work, workers=workers, progress=progress)
    seg = gt_src.dataset.segments
    offsets = pred_src.dataset.offsets
    counts = {"gt_segments": len(seg), "gt_crowd": int(seg.iscrowd.sum()),
              "pred_segments": int((offsets[rows + 1] - offsets[rows]).sum())}
    categories = gt_src.dataset.categories
    return PanopticResult.build(total.state, compute(total.state, categories.isthing),
                                categories, notices=_notices(total.mismatches), counts=counts)


def validate_panoptic(*, gt: Source, pred: Source, gt_dir: Folder = None,
                      pred_dir: Folder = None, workers: int = 1,
                      decoder: str | None = None) -> list[Problem]:
    """Every problem of a panoptic submission: both JSONs, then every PNG; empty when clean."""
    gt_set, problems = check_coco_panoptic(gt)
    where = str(pred) if isinstance(pred, (str, Path)) else "<pred>"
    if gt_set is None:
        return [*problems, Problem(where, "not checked: the ground truth has problems")]
    pred_set, pred_problems = check_coco_panoptic(pred, ground_truth=gt_set)
    problems += pred_problems
    if pred_set is None:
        return problems
    try:
        rows = match_predictions(gt_set, pred_set)
    except MissingPredictionError as exc:
        return problems + exc.problems
    try:
        gt_src = PanopticSource(gt_set, Path(gt_dir) if gt_dir else default_folder(gt)
                                if isinstance(gt, (str, Path)) else None)
        pred_src = PanopticSource(pred_set, Path(pred_dir) if pred_dir else default_folder(pred)
                                  if isinstance(pred, (str, Path)) else None)
        _check_folders((gt_src, "gt_dir"), (pred_src, "pred_dir"))
    except InputError as exc:
        return problems + exc.problems
    work = _Work(gt_src, pred_src, rows, collect=True, decoder=decoder)
    return problems + summarise_problems(_run_all(work, workers=workers, progress=None).problems)


# ---------------------------------------------------------------------------------- CLI


def _add_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
    parser.add_argument("--gt", required=True, type=Path, metavar="GT.json",
                        help="COCO panoptic ground truth (panoptic_val2017.json)")
    parser.add_argument("--gt-dir", type=Path, metavar="DIR",
                        help="ground-truth PNG folder (default: GT.json without .json)")
    parser.add_argument("--pred", required=True, type=Path, metavar="PRED.json",
                        help="COCO panoptic predictions: JSON with 'annotations'")
    parser.add_argument("--pred-dir", type=Path, metavar="DIR",
                        help="prediction PNG folder (default: PRED.json without .json)")
    if not evaluate:
        parser.add_argument("--workers", type=int, default=0, metavar="N",
                            help="processes to use (default 0: all cores)")


def _cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"gt": args.gt, "pred": args.pred, "gt_dir": args.gt_dir,
                               "pred_dir": args.pred_dir}
    if not evaluate:
        options["workers"] = args.workers
    return options


def _add_boundary_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
    _add_arguments(parser, evaluate)
    if evaluate:
        parser.add_argument("--dilation-ratio", type=float, metavar="R",
                            default=PanopticBoundaryParams().boundary_dilation_ratio,
                            help="band width as a fraction of the image diagonal"
                                 " (default 0.02, boundary-iou-api's)")


def _boundary_cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    options = _cli_options(args, evaluate)
    if evaluate:
        options["params"] = {"boundary_dilation_ratio": args.dilation_ratio}
    return options


WORKFLOWS = (LegacyWorkflow(
    name="coco-panoptic",
    summary="COCO panoptic PQ/SQ/RQ (panopticapi evaluation.py pq_compute)",
    evaluate=evaluate_panoptic,
    validate=validate_panoptic,
    add_arguments=_add_arguments,
    cli_options=_cli_options,
    example="--gt panoptic_val2017.json --pred panoptic_results.json",
), LegacyWorkflow(
    name="coco-panoptic-boundary",
    summary="COCO panoptic Boundary PQ (boundary-iou-api pq_compute, iou_type='boundary')",
    evaluate=evaluate_panoptic_boundary,
    validate=validate_panoptic,
    add_arguments=_add_boundary_arguments,
    cli_options=_boundary_cli_options,
    example="--gt panoptic_val2017.json --pred panoptic_results.json --dilation-ratio 0.02",
))
