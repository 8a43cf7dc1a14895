"""Workflows ``semantic`` and ``semantic-binary``: label maps in, mIoU / Dice / accuracy out.

Data flow: folders or mappings -> ``io.labelmaps.pair_label_maps`` -> a
:class:`~benchmark_eval.workflows.pool.Plan` whose per-shard task reads both maps of each
image, checks them and counts them (``protocols.semantic_count``) -> merged
``SemanticState`` -> ``protocols.semantic.compute`` under the rule ->
``report.semantic.SemanticResult``.

Other sources of ``(H, W)`` label maps (e.g. panoptic PNGs converted to semantic maps) plug
in through :func:`evaluate_label_maps`: give it :class:`LabelMapPair` objects whose ``gt``
/ ``pred`` are arrays or zero-argument loaders, or pass mappings ``{name: array | path |
loader}`` as ``gt`` and ``pred`` to ``benchmark_eval.evaluate("semantic", ...)``.
"""

from __future__ import annotations

__all__ = ["BINARY_DEFAULTS", "WORKFLOWS", "evaluate_label_maps", "label_map_plan"]

import argparse
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from benchmark_eval.errors import ConsistencyError, FormatError, Problem
from benchmark_eval.io.labelmaps import LabelMapPair, Maps, load_label_map, pair_label_maps
from benchmark_eval.protocols.semantic import BINARY_KEYS, METRIC_KEYS, compute, notices
from benchmark_eval.protocols.semantic_count import PairCounter, shape_problem
from benchmark_eval.protocols.semantic_params import (
    RULES,
    SemanticParams,
    ValueTables,
    build_tables,
)
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.report.semantic import SemanticResult
from benchmark_eval.workflows.base import Progress, Workflow
from benchmark_eval.workflows.catalog import entry
from benchmark_eval.workflows.images import (
    ImageWork,
    Paired,
    add_folder_arguments,
    check_paired,
    each_image,
    image_plan,
    plan_paired,
    refuse_options,
)
from benchmark_eval.workflows.pool import Plan, run_plan

SHARD_IMAGES = 32  # images per shard (progress granularity, load balance)
BINARY_DEFAULTS: dict[str, Any] = {
    "num_classes": 2, "class_names": ("background", "foreground"), "ignore_index": None,
    "encoding": "binary",
}
"""``semantic-binary``: the parameters it sets before the given ones."""

_Work = ImageWork[LabelMapPair, tuple[ValueTables, SemanticParams], SemanticState]


def _count_pair(counter: PairCounter, pair: LabelMapPair) -> None:
    """Read and count one pair; raises the pair's problems (nothing counted then)."""
    gt = load_label_map(pair.gt, pair.where("gt"))
    pred = load_label_map(pair.pred, pair.where("pred"), gt_where=pair.where("gt"),
                          expected=gt.shape if gt.ndim == 2 else None)  # before decoding
    found = shape_problem(gt, pred)
    if found is not None:
        side, message = found
        if gt.ndim == pred.ndim == 2 and gt.shape != pred.shape:  # size mismatch: name both
            raise ConsistencyError(Problem(pair.where(side), f"{message} ({pair.where('gt')})"))
        raise FormatError(Problem(pair.where(side), message))  # channels, dtype
    problems = counter.add(pair.name, gt, pred)
    if problems:
        raise ConsistencyError([Problem(pair.where(side), m) for side, m in problems])


def _count(options: tuple[ValueTables, SemanticParams], pairs: Sequence[LabelMapPair],
           problems: list[Problem] | None) -> SemanticState:
    tables, p = options
    # per-image counts always: per-image Dice, and the bootstrap over images (stats/)
    counter = PairCounter(tables, p.counting_fingerprint(), per_image=True)
    each_image(partial(_count_pair, counter), pairs, problems)
    return counter.state()


def _finish(protocol: str, params: SemanticParams, state: SemanticState) -> SemanticResult:
    computed = compute(state, params)
    return SemanticResult.build(protocol, state, computed, params,
                                notices=notices(state, params, computed))


def label_map_plan(pairs: Iterable[LabelMapPair], params: SemanticParams, *,
                   protocol: str = "semantic") -> Plan[_Work, SemanticState, SemanticResult]:
    """The shard plan of already-paired label maps (files, arrays or loaders)."""
    work: _Work = ImageWork(_count, list(pairs), (build_tables(params), params))
    empty = SemanticState.empty(params.num_classes, params.counting_fingerprint())
    return image_plan(work, empty=empty, finish=partial(_finish, protocol, params),
                      shard_size=SHARD_IMAGES)


def evaluate_label_maps(pairs: Iterable[LabelMapPair], params: SemanticParams, *,
                        workers: int = 1, progress: Progress | None = None,
                        protocol: str = "semantic") -> SemanticResult:
    """Score already-paired label maps (files, arrays or loaders) under ``params``."""
    return run_plan(label_map_plan(pairs, params, protocol=protocol), workers=workers,
                    progress=progress)


def _paired(protocol: str, params: SemanticParams, gt: Maps, pred: Maps,
            options: dict[str, Any]) -> Paired[SemanticState, SemanticResult]:
    """The maps paired by name, or by ``options["list_file"]`` (see
    :func:`~benchmark_eval.io.labelmaps.pair_label_maps`)."""
    list_file = options.pop("list_file", None)
    refuse_options(params, options, protocol)
    pairing = pair_label_maps(gt, pred, list_file=list_file)
    plan = label_map_plan(pairing.pairs, params, protocol=protocol)
    return Paired(pairing, plan.context, plan.empty, plan.finish)


# ------------------------------------------------------------------------------------ CLI


_FIELDS = ("num_classes", "reduce_zero_label", "ignore_index", "rule", "dice_averaging",
           "out_of_range")


def _ignore_index(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}"
                                         ) from None


def _add_arguments(binary: bool, parser: argparse.ArgumentParser, evaluate: bool) -> None:
    add_folder_arguments(parser, gt_metavar="GT_DIR",
                         gt_help="folder of GT label maps (single-channel .png or .npy)",
                         pred_help="folder of predicted label maps, matched to GT by file"
                                   " name")
    parser.add_argument("--list", type=Path, metavar="LIST.txt", dest="list_file",
                        help="pair by this list: one NAME, or 'GT_FILE PRED_FILE', per line")
    given = argparse.SUPPRESS  # absent unless given: --config values stay otherwise
    if not binary:
        parser.add_argument("--num-classes", type=int, metavar="N", default=given,
                            help="number of classes (required unless in --config)")
        parser.add_argument("--reduce-zero-label", action="store_true", default=given,
                            help="GT 0 -> ignored, others -1 (mmseg's ADE20K shift)")
    parser.add_argument("--ignore-index", type=_ignore_index, metavar="V", default=given,
                        help="GT value left out, or 'none' (default: 255"
                             + (", binary: none)" if binary else ")"))
    parser.add_argument("--rule", choices=RULES, default=given,
                        help="how undefined classes enter the means (default: mmseg)")
    parser.add_argument("--dice-averaging", choices=("dataset", "per-image"), default=given,
                        help="Dice of the summed counts (default) or mean of per-image Dice")
    parser.add_argument("--out-of-range", choices=("error", "no-class"), default=given,
                        help="predicted values outside [0, N): error (default) or count as"
                             " 'no class' (wrong)")


def _cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    """The inputs, and the parameter options given (they override ``--config``)."""
    fields = {name: getattr(args, name) for name in _FIELDS if hasattr(args, name)}
    return {"gt": args.gt, "pred": args.pred, "list_file": args.list_file, **fields}


def _workflow(binary: bool) -> Workflow:
    name = "semantic-binary" if binary else "semantic"
    return Workflow(
        name=name, summary=entry(name).summary, params_model=SemanticParams,
        plan=partial(plan_paired, partial(_paired, name), SHARD_IMAGES),
        check=partial(check_paired, partial(_paired, name), SHARD_IMAGES),
        add_arguments=partial(_add_arguments, binary), cli_options=_cli_options,
        state_type=SemanticState, example=entry(name).example,
        metric_keys=(*METRIC_KEYS, *BINARY_KEYS) if binary else METRIC_KEYS,
        defaults=BINARY_DEFAULTS if binary else {},
    )


WORKFLOWS = (_workflow(False), _workflow(True))
