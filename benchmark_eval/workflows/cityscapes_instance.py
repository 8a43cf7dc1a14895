"""Workflow ``cityscapes-instance``: cityscapesScripts 2.3.0
``evalInstanceLevelSemanticLabeling``.

Data flow: GT root + prediction folder -> ``io.cityscapes.pair_instance`` (the official
``<city>_<seq>_<frame>*.txt`` search) -> a :class:`~benchmark_eval.workflows.pool.Plan`
whose per-shard task reads each image's GT instance ids and prediction list (``io``) and
hands the masks, as loaders, to ``protocols.cityscapes_instance.instance_image_stats`` ->
merged state -> ``compute`` -> result. Nothing is cached or written.
"""

from __future__ import annotations

__all__ = ["SHARD_IMAGES", "WORKFLOW"]

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from benchmark_eval.errors import ConsistencyError, FormatError, Problem
from benchmark_eval.io.cityscapes import InstanceJob, pair_instance
from benchmark_eval.io.cityscapes_read import (
    mask_of_line,
    read_instance_ids,
    read_prediction_list,
)
from benchmark_eval.io.pngdecode import OutputBuffers
from benchmark_eval.masks.cityscapes import KernelScratch
from benchmark_eval.protocols import cityscapes_instance as inst
from benchmark_eval.report.cityscapes import CityscapesInstanceResult
from benchmark_eval.workflows import images
from benchmark_eval.workflows.base import Workflow
from benchmark_eval.workflows.catalog import entry

SHARD_IMAGES = 4  # images per shard (Cityscapes images are large: keep the load even)
_NAME = "cityscapes-instance"


@dataclass
class _Shard:
    """One shard's running state, and the arrays it reuses from image to image."""

    root: Path  # the prediction folder every mask must stay in
    allow_symlinks: bool = False  # symlinks out of it followed (--allow-symlinks)
    state: inst.CityscapesInstanceState = field(
        default_factory=inst.CityscapesInstanceState.empty)
    buffers: OutputBuffers = field(default_factory=OutputBuffers)
    kernel: KernelScratch = field(default_factory=KernelScratch)

    def add(self, job: InstanceJob) -> None:
        """Read, check and match one image; raises its problems (nothing added then)."""
        gt = read_instance_ids(job.gt_instances, allocate=self.buffers.allocator("instances"))
        segments = inst.gt_segments(gt, self.kernel)
        if isinstance(segments, str):
            raise ConsistencyError(Problem(str(job.gt_instances), segments))
        listing = read_prediction_list(job.pred, self.root, allow_outside=self.allow_symlinks)
        if listing.problems:
            raise FormatError(listing.problems)
        allocate = self.buffers.allocator("mask")
        predictions = [(line.label_id, line.score,
                        partial(mask_of_line, line, job.pred, gt.shape, allocate=allocate))
                       for line in listing.lines]
        image = inst.instance_image_stats(gt, predictions, segments=segments)
        self.state = self.state.merge(inst.CityscapesInstanceState.of_image(
            image, duplicates=listing.duplicates, empty_list=not listing.lines))


def _count(folder: tuple[Path, bool], jobs: Sequence[InstanceJob],
           problems: list[Problem] | None) -> inst.CityscapesInstanceState:
    shard = _Shard(*folder)
    images.each_image(shard.add, jobs, problems)
    return shard.state


def _finish(state: inst.CityscapesInstanceState) -> CityscapesInstanceResult:
    return CityscapesInstanceResult.build(state, inst.compute(state), notices=inst.notices(state))


def _paired(params: inst.CityscapesInstanceParams, gt: str | Path, pred: str | Path,
            options: dict[str, Any]
            ) -> images.Paired[inst.CityscapesInstanceState, CityscapesInstanceResult]:
    """Every ``*_gtFine_instanceIds.png`` under ``gt`` with the one
    ``<city>_<seq>_<frame>*.txt`` list under ``pred`` (lines ``MASK.png LABEL_ID
    CONFIDENCE``, masks relative to the list's folder)."""
    allow = bool(options.pop("allow_symlinks", False))
    images.refuse_options(params, options, _NAME)
    pairing = pair_instance(gt, pred, allow_outside=allow)
    jobs: list[InstanceJob] = pairing.jobs  # type: ignore[assignment]
    return images.Paired(pairing, images.ImageWork(_count, jobs, (Path(pred), allow)),
                         inst.CityscapesInstanceState.empty(), _finish)


def _add_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
    images.add_folder_arguments(
        parser, gt_metavar="GT_ROOT",
        gt_help="ground-truth folder, searched recursively for *_gtFine_instanceIds.png",
        pred_help="prediction folder: one <city>_<seq>_<frame>*.txt list ('MASK.png LABEL_ID"
                  " CONFIDENCE' per line) per image, anywhere below it", symlinks=True)


def _cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    return {"gt": args.gt, "pred": args.pred, "allow_symlinks": args.allow_symlinks}


WORKFLOW = Workflow(
    name=_NAME, summary=entry(_NAME).summary,
    params_model=inst.CityscapesInstanceParams,
    plan=partial(images.plan_paired, _paired, SHARD_IMAGES),
    check=partial(images.check_paired, _paired, SHARD_IMAGES),
    add_arguments=_add_arguments, cli_options=_cli_options,
    state_type=inst.CityscapesInstanceState, metric_keys=inst.METRIC_KEYS,
    example=entry(_NAME).example)
