"""Workflow ``medical``: folders of 3-D label volumes in, per-label Dice / HD / HD95 / ASSD /
NSD out (nnU-Net v2, MedPy 0.5.2 and MONAI 1.6 conventions; docs/protocols/medical.md).

Data flow: GT and prediction folders -> ``io.nifti.pair_cases`` (by case name) -> per shard
of cases: read both volumes, check the grid, ``protocols.medical.case_state`` (counts +
surface distances, one row per case) -> concatenated ``MedicalState`` ->
``report.medical.MedicalResult`` (every empty-case rule computed, the chosen one reported).
"""

from __future__ import annotations

__all__ = ["WORKFLOW", "check", "plan"]

import argparse
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from benchmark_eval.errors import ConfigError, ConsistencyError, InputError, Problem
from benchmark_eval.io.nifti import (
    CasePair,
    Volume,
    check_grid,
    pair_cases,
    read_dataset_json,
    read_volume,
)
from benchmark_eval.io.safe import check_output, write_atomic
from benchmark_eval.protocols.medical import METRIC_KEYS, case_state
from benchmark_eval.protocols.medical_state import EMPTY_RULES, MedicalParams, MedicalState
from benchmark_eval.report.medical import MedicalResult
from benchmark_eval.workflows.base import Workflow
from benchmark_eval.workflows.catalog import entry
from benchmark_eval.workflows.options import config_error
from benchmark_eval.workflows.pool import Plan, run_shards

_SHARD_CASES = 2  # volumes are large: small shards balance the workers


@dataclass(frozen=True)
class _Context:
    params: MedicalParams
    cases: list[CasePair]
    spacing: tuple[float, ...] | None


def _read(ctx: _Context, case: CasePair) -> tuple[Volume, Volume]:
    gt = read_volume(case.gt, spacing=ctx.spacing)
    pred = read_volume(case.pred, spacing=ctx.spacing)
    check_grid(case, gt, pred)
    return gt, pred


def _case(ctx: _Context, case: CasePair) -> MedicalState:
    gt, pred = _read(ctx, case)
    row = case_state(case.name, gt.array, pred.array, gt.spacing, ctx.params)
    if isinstance(row, list):
        raise ConsistencyError([Problem(f"{case.gt if p.side == 'gt' else case.pred}"
                                        f" (case {case.name!r})", p.message) for p in row])
    return row


def _task(ctx: _Context, start: int, stop: int) -> MedicalState:
    """The rows of cases ``[start, stop)``."""
    state = MedicalState.empty(ctx.params.keys(), ctx.params.fingerprint())
    for case in ctx.cases[start:stop]:
        state = state.merge(_case(ctx, case))
    return state


def _check_task(ctx: _Context, start: int, stop: int) -> list[Problem]:
    return [p for case in ctx.cases[start:stop] for p in _case_problems(ctx, case)]


def _case_problems(ctx: _Context, case: CasePair) -> list[Problem]:
    try:
        _case(ctx, case)
    except InputError as exc:
        return exc.problems
    return []


def with_dataset(params: MedicalParams, dataset_json: str | Path | None) -> MedicalParams:
    """``params`` with the labels, regions, names and ignore label of an nnU-Net
    ``dataset.json``; without one, checks that labels were given.

    Raises:
        ConfigError: No labels at all, or labels that contradict the dataset.json.
    """
    if dataset_json is None:
        if not params.labels:
            raise ConfigError("medical needs the labels to score: --labels 1,2,... (labels=)"
                              " or --dataset-json dataset.json")
        return params
    ds = read_dataset_json(dataset_json)
    if params.labels and tuple(params.labels) != ds.labels:
        raise ConfigError(f"labels {list(params.labels)} contradict {dataset_json}'s"
                          f" {list(ds.labels)}; give one or the other")
    data = params.model_dump()
    data.update(labels=ds.labels, regions=ds.regions, names=ds.names,
                ignore_label=params.ignore_label if ds.ignore_label is None
                else ds.ignore_label)
    try:
        return MedicalParams(**data)
    except ValidationError as exc:
        raise config_error(f"invalid parameters from {dataset_json}", exc) from exc


def _context(params: MedicalParams, gt: Any, pred: Any, dataset_json: Any,
             spacing: Any) -> _Context:
    params = with_dataset(params, dataset_json)
    sp = None if spacing is None else tuple(float(s) for s in spacing)
    return _Context(params, pair_cases(gt, pred), sp)


def _finish(params: MedicalParams, cases: list[CasePair], nnunet_summary: Path | None,
            state: MedicalState) -> MedicalResult:
    result = MedicalResult.from_state(state, params)
    if nnunet_summary is not None:
        files = {c.name: (str(c.gt), str(c.pred)) for c in cases}
        text = json.dumps(result.nnunet_summary(files), sort_keys=True, indent=4)
        write_atomic(nnunet_summary, text.encode())
    return result


def plan(params: MedicalParams, *, gt: Any, pred: Any, workers: int = 1,
         dataset_json: str | Path | None = None, spacing: Any = None,
         nnunet_summary: str | Path | None = None) -> Plan[Any, Any, Any]:
    """Pair the cases of the ``gt`` and ``pred`` folders and plan one row per case.

    Args:
        dataset_json: nnU-Net v2 ``dataset.json`` giving labels, regions, ignore label.
        spacing: Voxel size in mm for ``.npy`` / ``.npz`` volumes (one value or one per axis).
        nnunet_summary: Also write nnU-Net's ``summary.json`` layout there.
    """
    ctx = _context(params, gt, pred, dataset_json, spacing)
    out = None
    if nnunet_summary is not None:
        out = check_output(nnunet_summary, inputs=[gt, pred], force=True)
    return Plan(task=_task, context=ctx, n_items=len(ctx.cases),
                empty=MedicalState.empty(ctx.params.keys(), ctx.params.fingerprint()),
                finish=partial(_finish, ctx.params, ctx.cases, out), shard_size=_SHARD_CASES)


def check(params: MedicalParams, *, gt: Any, pred: Any, workers: int = 1,
          dataset_json: str | Path | None = None, spacing: Any = None) -> list[Problem]:
    """Every problem of the two folders: unpaired cases, unreadable volumes, grid
    mismatches, values outside the labels."""
    try:
        ctx = _context(params, gt, pred, dataset_json, spacing)
    except InputError as exc:
        return exc.problems
    problems: list[Problem] = []
    for part in run_shards(_check_task, ctx, len(ctx.cases), shard_size=_SHARD_CASES,
                           workers=workers):
        problems.extend(part)
    return problems


def _numbers(text: str, kind: type = float) -> tuple[Any, ...]:
    try:
        return tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}"
                                         ) from None


def add_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
    """``--gt``, ``--pred``, label and tolerance options, ``--nnunet-summary``."""
    parser.add_argument("--gt", required=True, type=Path, metavar="GT_DIR",
                        help="folder of reference volumes (.nii.gz, .nii, .npy, .npz)")
    parser.add_argument("--pred", required=True, type=Path, metavar="PRED_DIR",
                        help="folder of predicted volumes, same case names")
    parser.add_argument("--labels", type=partial(_numbers, kind=int), metavar="1,2,3",
                        help="foreground labels to score")
    parser.add_argument("--dataset-json", type=Path, metavar="dataset.json",
                        help="nnU-Net v2 dataset.json: labels, regions, ignore label")
    parser.add_argument("--nsd-tolerance", type=_numbers, metavar="MM[,MM...]",
                        help="NSD tolerance in mm: one value, or one per label (default 1)")
    parser.add_argument("--empty-rule", choices=EMPTY_RULES,
                        help="how empty references / predictions count (default nnunet)")
    parser.add_argument("--ignore-label", type=int, metavar="VALUE",
                        help="GT value left out of every count (nnU-Net's ignore label)")
    parser.add_argument("--spacing", type=_numbers, metavar="MM[,MM,MM]",
                        help="voxel size for .npy / .npz volumes")
    if evaluate:
        parser.add_argument("--nnunet-summary", type=Path, metavar="summary.json",
                            help="also write nnU-Net v2's summary.json layout")


def cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    """Folders, dataset.json and spacing; given label options override ``--config``."""
    options: dict[str, Any] = {"gt": args.gt, "pred": args.pred,
                               "dataset_json": args.dataset_json, "spacing": args.spacing}
    for name in ("labels", "nsd_tolerance", "empty_rule", "ignore_label"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if evaluate and args.nnunet_summary is not None:
        options["nnunet_summary"] = args.nnunet_summary
    return options


WORKFLOW = Workflow(
    name="medical",
    summary=entry("medical").summary,
    params_model=MedicalParams, plan=plan, check=check, add_arguments=add_arguments,
    cli_options=cli_options, state_type=MedicalState, metric_keys=METRIC_KEYS,
    example=entry("medical").example)
WORKFLOWS = (WORKFLOW,)
