"""Workflows ``cityscapes-semantic``, ``cityscapes-instance`` and ``cityscapes-panoptic``.

Data flow (semantic, instance): GT root + prediction folder -> ``io.cityscapes.pair_*``
(the official ``<city>_<seq>_<frame>*`` search) -> per image, in shards of a fork-based
process pool (``workers != 1``): read and check the PNGs (and the prediction list), count
(``protocols.cityscapes_*``) -> states merged by addition -> ``compute`` -> result.
Nothing is cached, no environment variable is read, no file is written.

``cityscapes-panoptic`` is in :mod:`benchmark_eval.workflows.cityscapes_panoptic`.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS", "evaluate_cityscapes_instance", "evaluate_cityscapes_semantic",
           "validate_cityscapes_instance", "validate_cityscapes_semantic"]

import argparse
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    InputError,
    Notice,
    Problem,
)
from benchmark_eval.io.cityscapes import InstanceJob, SemanticJob, pair_instance, pair_semantic
from benchmark_eval.io.cityscapes_read import (
    load_semantic_image,
    mask_of_line,
    read_instance_ids,
    read_prediction_list,
)
from benchmark_eval.io.pngdecode import OutputBuffers
from benchmark_eval.protocols import cityscapes_instance as inst
from benchmark_eval.protocols import cityscapes_semantic as sem
from benchmark_eval.report.cityscapes import CityscapesInstanceResult, CityscapesSemanticResult
from benchmark_eval.schema.cityscapes import INSTANCE_CLASSES, LABEL_BY_ID, LABEL_BY_NAME
from benchmark_eval.workflows.base import LegacyWorkflow, Progress
from benchmark_eval.workflows.cityscapes_panoptic import WORKFLOW as PANOPTIC_WORKFLOW
from benchmark_eval.workflows.pool import fork_map, shard_bounds

_SHARD_IMAGES = 4  # images per unit of work (Cityscapes images are large: keep the load even)
T = TypeVar("T")


# ------------------------------------------------------------------------------ the pool


def _shards(n: int, run: Callable[[int, int], T], *, workers: int) -> Iterator[tuple[int, T]]:
    """``(images done, run(start, stop))`` for every shard, in order, over
    :func:`~benchmark_eval.workflows.pool.fork_map` (forked workers inherit ``run``)."""
    bounds = shard_bounds(n, _SHARD_IMAGES)
    parts = fork_map(_call, run, bounds, workers=workers)
    try:
        for (_, b), part in zip(bounds, parts, strict=True):
            yield b, part
    finally:
        _SCRATCH.pop(os.getpid(), None)  # this process's arrays go with the run


def _call(run: Callable[[int, int], T], start: int, stop: int) -> T:
    return run(start, stop)


@dataclass
class _Scratch:
    """Reused arrays of one process (decoder outputs, counting buffers)."""

    buffers: OutputBuffers = field(default_factory=OutputBuffers)
    counting: sem.CountingScratch = field(default_factory=sem.CountingScratch)


_SCRATCH: dict[int, _Scratch] = {}


def _scratch() -> _Scratch:
    """This process's scratch arrays (forked workers get their own)."""
    return _SCRATCH.setdefault(os.getpid(), _Scratch())


def _attempt(step: Callable[[], object], *, collect: bool) -> list[Problem]:
    """Run one image's step: its problems are returned when collecting, else raised."""
    try:
        step()
    except InputError as exc:
        if not collect:
            raise
        return exc.problems
    return []


# -------------------------------------------------------------------------------- semantic


def _semantic_params(params: sem.CityscapesSemanticParams | dict[str, Any] | None,
                     fields: dict[str, Any]) -> sem.CityscapesSemanticParams:
    data: dict[str, Any] = {}
    if isinstance(params, sem.CityscapesSemanticParams):
        data.update(params.model_dump())
    elif params is not None:
        data.update({k: v for k, v in params.items() if k not in ("protocol", "description")})
    data.update({k: v for k, v in fields.items() if v is not None})
    try:
        return sem.CityscapesSemanticParams(**data)
    except ValueError as exc:
        raise ConfigError(f"invalid parameters for cityscapes-semantic: {exc}") from exc


def _semantic_image(counter: sem.SemanticImageCounter, job: SemanticJob, train_ids: bool,
                    buffers: OutputBuffers) -> None:
    """Read, check and count one image; raises its problems (nothing counted then)."""
    labels, instances, pred = load_semantic_image(job, train_ids=train_ids, buffers=buffers)
    files = {"gt_labels": job.gt_labels, "gt_instances": job.gt_instances, "pred": job.pred}
    problems = counter.add(job.key, labels, instances, pred)
    if problems:
        raise ConsistencyError([Problem(str(files[side]), msg) for side, msg in problems])


@dataclass(frozen=True)
class _SemanticWork:
    jobs: Sequence[SemanticJob]
    train_ids: bool
    collect: bool

    def __call__(self, start: int, stop: int
                 ) -> tuple[sem.CityscapesSemanticState, list[Problem]]:
        scratch = _scratch()
        counter = sem.SemanticImageCounter(scratch.counting)
        problems: list[Problem] = []
        for job in self.jobs[start:stop]:
            problems += _attempt(partial(_semantic_image, counter, job, self.train_ids,
                                         scratch.buffers), collect=self.collect)
        return counter.state(), problems


def evaluate_cityscapes_semantic(
        *, gt: str | Path, pred: str | Path,
        params: sem.CityscapesSemanticParams | dict[str, Any] | None = None,
        pred_ids: str | None = None, workers: int = 1, progress: Progress | None = None,
) -> CityscapesSemanticResult:
    """Pixel-level IoU / iIoU of cityscapesScripts 2.3.0 ``evalPixelLevelSemanticLabeling``.

    Args:
        gt: GT root, searched recursively for ``*_gtFine_labelIds.png`` (each with its
            ``*_gtFine_instanceIds.png``).
        pred: Prediction folder: one single-channel PNG named ``<city>_<seq>_<frame>*.png``
            per GT image, anywhere below it.
        params: :class:`~benchmark_eval.protocols.cityscapes_semantic.CityscapesSemanticParams`
            or a dict of its fields.
        pred_ids: ``"labelIds"`` (default) or ``"trainIds"``; overrides ``params``.
        workers: Processes; 0 = all cores.
        progress: Called with (images done, images total).

    Raises:
        MissingPredictionError: A GT image has no prediction.
        InputError: Any other problem, naming the file (stops at the first image with one).
    """
    p = _semantic_params(params, {"pred_ids": pred_ids})
    pairing = pair_semantic(gt, pred)
    if pairing.missing or pairing.problems:
        raise pairing.error()
    jobs: list[SemanticJob] = pairing.jobs  # type: ignore[assignment]
    work = _SemanticWork(jobs, p.pred_ids == "trainIds", collect=False)
    state = sem.CityscapesSemanticState.empty()
    for done, (part, _) in _shards(len(jobs), work, workers=workers):
        state = state.merge(part)
        if progress is not None:
            progress(done, len(jobs))
    computed = sem.compute(state)
    return CityscapesSemanticResult.build(state, computed, p, notices=_semantic_notices(state))


def _semantic_notices(state: sem.CityscapesSemanticState) -> list[Notice]:
    conf = state.confusion
    valid = np.array([not LABEL_BY_ID[i].ignore_in_eval for i in range(len(conf))])
    out = []
    void_on_valid = int(conf[np.ix_(valid, ~valid)].sum())
    if void_on_valid:
        out.append(Notice("void-predictions", f"{void_on_valid} pixels with an evaluated GT"
                          " label are predicted as a label ignored in evaluation: false"
                          " negatives of their GT class (as cityscapesScripts counts them)"))
    only = [LABEL_BY_ID[i].name for i in np.flatnonzero(valid).tolist()
            if conf[i].sum() == 0 and conf[valid, i].sum() > 0]
    if only:
        out.append(Notice("predicted-only-classes", f"classes predicted but absent from the"
                          f" GT score IoU 0 and count in the averages: {', '.join(only)}"))
    return out


def validate_cityscapes_semantic(
        *, gt: str | Path, pred: str | Path,
        params: sem.CityscapesSemanticParams | dict[str, Any] | None = None,
        pred_ids: str | None = None, workers: int = 1) -> list[Problem]:
    """Every problem of a ``cityscapes-semantic`` submission (reads every PNG)."""
    p = _semantic_params(params, {"pred_ids": pred_ids})
    pairing = pair_semantic(gt, pred)
    problems = pairing.all_problems()
    jobs: list[SemanticJob] = pairing.jobs  # type: ignore[assignment]
    work = _SemanticWork(jobs, p.pred_ids == "trainIds", collect=True)
    for _, (_, found) in _shards(len(jobs), work, workers=workers):
        problems += found
    return problems


# -------------------------------------------------------------------------------- instance


_INSTANCE_LABELS = frozenset(LABEL_BY_NAME[name].id for name in INSTANCE_CLASSES)


@dataclass
class _Tally:
    """What the official script skips silently, counted for the notices."""

    skipped: int = 0
    duplicates: int = 0
    empty: int = 0
    empty_lists: int = 0

    def add(self, other: _Tally) -> None:
        self.skipped += other.skipped
        self.duplicates += other.duplicates
        self.empty += other.empty
        self.empty_lists += other.empty_lists


def _instance_image(job: InstanceJob, root: Path, tally: _Tally, scratch: _Scratch
                    ) -> inst.ImageInstances:
    """Read, check and match one image; raises its problems. ``scratch`` holds arrays
    reused from image to image."""
    gt = read_instance_ids(job.gt_instances, allocate=scratch.buffers.allocator("instances"))
    segments = inst.gt_segments(gt, scratch.counting.kernel)
    if isinstance(segments, str):
        raise ConsistencyError(Problem(str(job.gt_instances), segments))
    listing = read_prediction_list(job.pred, root)
    if listing.problems:
        raise FormatError(listing.problems)
    mask_buffer = scratch.buffers.allocator("mask")
    rows = []
    for line in listing.lines:
        if line.label_id not in _INSTANCE_LABELS:
            tally.skipped += 1
            continue
        mask, box = mask_of_line(line, job.pred, gt.shape, allocate=mask_buffer)
        area, counts = inst.mask_overlaps(segments, gt, mask, box)
        if not area:
            tally.empty += 1
            continue
        rows.append((line.label_id, line.score, area, counts))
    tally.duplicates += listing.duplicates
    tally.empty_lists += not listing.lines
    g = len(segments.values)
    return inst.match_image(segments,
                            np.array([r[0] for r in rows], dtype=np.int64),
                            np.array([r[1] for r in rows], dtype=np.float64),
                            np.array([r[2] for r in rows], dtype=np.int64),
                            np.array([r[3] for r in rows], dtype=np.int64).reshape(-1, g))


@dataclass(frozen=True)
class _InstanceWork:
    jobs: Sequence[InstanceJob]
    root: Path
    collect: bool

    def __call__(self, start: int, stop: int
                 ) -> tuple[inst.CityscapesInstanceState, list[Problem], _Tally]:
        state = inst.CityscapesInstanceState.empty()
        problems: list[Problem] = []
        tally = _Tally()
        scratch = _scratch()
        for job in self.jobs[start:stop]:
            try:
                image = _instance_image(job, self.root, tally, scratch)
            except InputError as exc:
                if not self.collect:
                    raise
                problems += exc.problems
                continue
            state = state.merge(inst.CityscapesInstanceState.of_image(image))
        return state, problems, tally


def _instance_notices(state: inst.CityscapesInstanceState, tally: _Tally) -> list[Notice]:
    out = []
    if tally.skipped:
        out.append(Notice("skipped-labels", f"{tally.skipped} predictions of labels without"
                          " instance-level evaluation (not one of"
                          f" {', '.join(INSTANCE_CLASSES)}) were skipped, as officially"))
    if tally.duplicates:
        out.append(Notice("duplicate-masks", f"{tally.duplicates} prediction lines repeat a"
                          " mask listed before in the same file: one prediction per mask is"
                          " kept (first position, last label and confidence), as the"
                          " official script's dict does"))
    if tally.empty:
        out.append(Notice("empty-masks", f"{tally.empty} predicted masks have no pixel and"
                          " were skipped, as officially"))
    if tally.empty_lists:
        out.append(Notice("empty-prediction-files", f"{tally.empty_lists} images have no"
                          " predictions"))
    scored = [(state.pred_outcome[state.pred_class == k] != inst.IGNORED).any(axis=0)
              for k in range(len(INSTANCE_CLASSES))]  # (T,) per class: any TP / FP record
    unscored = [n for k, n in enumerate(INSTANCE_CLASSES)
                if state.gt_count[k] > 0 and state.pred_count[k] > 0 and not scored[k].all()]
    if unscored:
        out.append(Notice("no-scored-predictions", "classes with GT instances whose every"
                          " prediction is ignored at some IoU threshold (on void, groups or"
                          " small instances) get AP 0 there; cityscapesScripts raises"
                          f" IndexError instead: {', '.join(unscored)}"))
    no_gt = [n for k, n in enumerate(INSTANCE_CLASSES)
             if state.gt_count[k] == 0 and state.pred_count[k] > 0]
    if no_gt:
        out.append(Notice("classes-without-gt", f"classes predicted but without GT instances"
                          f" (AP undefined: null, left out of the averages): {', '.join(no_gt)}"))
    return out


def evaluate_cityscapes_instance(*, gt: str | Path, pred: str | Path, params: Any = None,
                                 workers: int = 1, progress: Progress | None = None
                                 ) -> CityscapesInstanceResult:
    """Instance-level AP / AP50 of cityscapesScripts 2.3.0
    ``evalInstanceLevelSemanticLabeling``.

    Args:
        gt: GT root, searched recursively for ``*_gtFine_instanceIds.png``.
        pred: Prediction folder: one ``<city>_<seq>_<frame>*.txt`` per GT image, lines
            ``MASK.png LABEL_ID CONFIDENCE`` with masks relative to the text file's folder.
        params: Unused (the protocol has no parameters); must be None or empty.
        workers: Processes; 0 = all cores.
        progress: Called with (images done, images total).

    Raises:
        MissingPredictionError: A GT image has no prediction list.
        InputError: Any other problem, naming the file and line.
    """
    if params:
        raise ConfigError("cityscapes-instance has no parameters")
    pairing = pair_instance(gt, pred)
    if pairing.missing or pairing.problems:
        raise pairing.error()
    jobs: list[InstanceJob] = pairing.jobs  # type: ignore[assignment]
    work = _InstanceWork(jobs, Path(pred), collect=False)
    state = inst.CityscapesInstanceState.empty()
    tally = _Tally()
    for done, (part, _, counts) in _shards(len(jobs), work, workers=workers):
        state = state.merge(part)
        tally.add(counts)
        if progress is not None:
            progress(done, len(jobs))
    return CityscapesInstanceResult.build(state, inst.compute(state),
                                          notices=_instance_notices(state, tally),
                                          counts={"skipped_predictions": tally.skipped})


def validate_cityscapes_instance(*, gt: str | Path, pred: str | Path, params: Any = None,
                                 workers: int = 1) -> list[Problem]:
    """Every problem of a ``cityscapes-instance`` submission (reads every list and mask)."""
    pairing = pair_instance(gt, pred)
    problems = pairing.all_problems()
    jobs: list[InstanceJob] = pairing.jobs  # type: ignore[assignment]
    for _, (_, found, _) in _shards(len(jobs), _InstanceWork(jobs, Path(pred), collect=True),
                                    workers=workers):
        problems += found
    return problems


# ------------------------------------------------------------------------------------- CLI


def _add_arguments(semantic: bool, parser: argparse.ArgumentParser, evaluate: bool) -> None:
    what = "*_gtFine_labelIds.png and *_gtFine_instanceIds.png" if semantic else (
        "*_gtFine_instanceIds.png")
    parser.add_argument("--gt", required=True, type=Path, metavar="GT_ROOT",
                        help=f"ground-truth folder, searched recursively for {what}")
    parser.add_argument("--pred", required=True, type=Path, metavar="PRED_DIR",
                        help="prediction folder: one <city>_<seq>_<frame>*" + (
                            ".png label-id map" if semantic else
                            ".txt list ('MASK.png LABEL_ID CONFIDENCE' per line)")
                        + " per image, anywhere below it")
    if semantic:
        parser.add_argument("--pred-ids", choices=("labelIds", "trainIds"), default=None,
                            help="what the prediction PNGs hold (default labelIds, the"
                                 " official format; trainIds are mapped to label ids)")
    if not evaluate:
        parser.add_argument("--workers", type=int, default=0, metavar="N",
                            help="processes to use (default 0: all cores)")


def _cli_options(semantic: bool, args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"gt": args.gt, "pred": args.pred}
    if semantic:
        options["pred_ids"] = args.pred_ids
    if not evaluate:
        options["workers"] = args.workers
    return options


def _workflow(semantic: bool) -> LegacyWorkflow:
    if semantic:
        return LegacyWorkflow(
            name="cityscapes-semantic",
            summary="Cityscapes pixel-level IoU / iIoU, class and category"
                    " (cityscapesScripts evalPixelLevelSemanticLabeling)",
            evaluate=evaluate_cityscapes_semantic, validate=validate_cityscapes_semantic,
            add_arguments=lambda p, e: _add_arguments(True, p, e),
            cli_options=lambda a, e: _cli_options(True, a, e),
            example="--gt gtFine/val --pred results/")
    return LegacyWorkflow(
        name="cityscapes-instance",
        summary="Cityscapes instance-level AP / AP50 (cityscapesScripts"
                " evalInstanceLevelSemanticLabeling)",
        evaluate=evaluate_cityscapes_instance, validate=validate_cityscapes_instance,
        add_arguments=lambda p, e: _add_arguments(False, p, e),
        cli_options=lambda a, e: _cli_options(False, a, e),
        example="--gt gtFine/val --pred results/")


WORKFLOWS = (_workflow(True), _workflow(False), PANOPTIC_WORKFLOW)
