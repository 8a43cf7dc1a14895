"""Workflow ``cityscapes-semantic``: cityscapesScripts 2.3.0 ``evalPixelLevelSemanticLabeling``.

Data flow: GT root + prediction folder -> ``io.cityscapes.pair_semantic`` (the official
``<city>_<seq>_<frame>*`` search) -> a :class:`~benchmark_eval.workflows.pool.Plan` whose
per-shard task reads and checks each image's three PNGs
(``io.cityscapes_read.load_semantic_image``) and counts them
(``protocols.cityscapes_semantic_count``) -> merged state -> ``compute`` -> result.
Nothing is cached, no environment variable is read, no file is written.
"""

from __future__ import annotations

__all__ = ["SHARD_IMAGES", "WORKFLOW"]

import argparse
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from benchmark_eval.errors import ConsistencyError, Problem
from benchmark_eval.io.cityscapes import SemanticJob, pair_semantic
from benchmark_eval.io.cityscapes_read import load_semantic_image
from benchmark_eval.io.pngdecode import OutputBuffers
from benchmark_eval.protocols import cityscapes_semantic as sem
from benchmark_eval.report.cityscapes import CityscapesSemanticResult
from benchmark_eval.workflows import images
from benchmark_eval.workflows.base import Workflow
from benchmark_eval.workflows.catalog import entry

SHARD_IMAGES = 4  # images per shard (Cityscapes images are large: keep the load even)
_NAME = "cityscapes-semantic"


def _count_image(counter: sem.SemanticImageCounter, buffers: OutputBuffers, train_ids: bool,
                 job: SemanticJob) -> None:
    """Read, check and count one image; raises its problems (nothing counted then)."""
    labels, instances, pred = load_semantic_image(job, train_ids=train_ids, buffers=buffers)
    files = {"gt_labels": job.gt_labels, "gt_instances": job.gt_instances, "pred": job.pred}
    problems = counter.add(job.key, labels, instances, pred)
    if problems:
        raise ConsistencyError([Problem(str(files[side]), msg) for side, msg in problems])


def _count(train_ids: bool, jobs: Sequence[SemanticJob], problems: list[Problem] | None
           ) -> sem.CityscapesSemanticState:
    # decoder outputs and counting buffers are reused from image to image of the shard
    counter = sem.SemanticImageCounter(sem.CountingScratch())
    images.each_image(partial(_count_image, counter, OutputBuffers(), train_ids), jobs,
                      problems)
    return counter.state()


def _finish(params: sem.CityscapesSemanticParams, state: sem.CityscapesSemanticState
            ) -> CityscapesSemanticResult:
    return CityscapesSemanticResult.build(state, sem.compute(state), params,
                                          notices=sem.notices(state))


def _paired(params: sem.CityscapesSemanticParams, gt: str | Path, pred: str | Path,
            options: dict[str, Any]
            ) -> images.Paired[sem.CityscapesSemanticState, CityscapesSemanticResult]:
    """Every ``*_gtFine_labelIds.png`` (with its ``*_gtFine_instanceIds.png``) under ``gt``
    with the one ``<city>_<seq>_<frame>*.png`` under ``pred``."""
    allow = bool(options.pop("allow_symlinks", False))
    images.refuse_options(params, options, _NAME)
    pairing = pair_semantic(gt, pred, allow_outside=allow)
    jobs: list[SemanticJob] = pairing.jobs  # type: ignore[assignment]
    return images.Paired(pairing, images.ImageWork(_count, jobs, params.pred_ids == "trainIds"),
                         sem.CityscapesSemanticState.empty(), partial(_finish, params))


def _add_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
    images.add_folder_arguments(
        parser, gt_metavar="GT_ROOT",
        gt_help="ground-truth folder, searched recursively for *_gtFine_labelIds.png and"
                " *_gtFine_instanceIds.png",
        pred_help="prediction folder: one <city>_<seq>_<frame>*.png label-id map per image,"
                  " anywhere below it", symlinks=True)
    parser.add_argument("--pred-ids", choices=("labelIds", "trainIds"),
                        default=argparse.SUPPRESS,
                        help="what the prediction PNGs hold (default labelIds, the official"
                             " format; trainIds are mapped to label ids); overrides --config")


def _cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    given = {"pred_ids": args.pred_ids} if hasattr(args, "pred_ids") else {}
    return {"gt": args.gt, "pred": args.pred, "allow_symlinks": args.allow_symlinks, **given}


WORKFLOW = Workflow(
    name=_NAME, summary=entry(_NAME).summary,
    params_model=sem.CityscapesSemanticParams, state_type=sem.CityscapesSemanticState,
    metric_keys=sem.METRIC_KEYS, add_arguments=_add_arguments, cli_options=_cli_options,
    plan=partial(images.plan_paired, _paired, SHARD_IMAGES),
    check=partial(images.check_paired, _paired, SHARD_IMAGES),
    example=entry(_NAME).example)
