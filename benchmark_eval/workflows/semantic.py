"""Workflows ``semantic`` and ``semantic-binary``: label maps in, mIoU / Dice / accuracy out.

Data flow: folders or mappings -> ``io.labelmaps.pair_label_maps`` -> per-image-shard
counting (read both maps, check, one ``np.bincount``; in a fork-based process pool with
``workers != 1``) -> merged ``SemanticState`` -> ``protocols.semantic.compute`` under the
rule -> ``report.semantic.SemanticResult``.

Other sources of ``(H, W)`` label maps (e.g. panoptic PNGs converted to semantic maps) plug
in through :func:`evaluate_label_maps`: give it :class:`LabelMapPair` objects whose ``gt``
/ ``pred`` are arrays or zero-argument loaders, or pass mappings ``{name: array | path |
loader}`` as ``gt`` and ``pred`` to ``benchmark_eval.evaluate("semantic", ...)``.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS", "evaluate_label_maps", "evaluate_semantic", "semantic_state",
           "validate_semantic"]

import argparse
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    InputError,
    Problem,
)
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.labelmaps import LabelMapPair, Maps, load_label_map, pair_label_maps
from benchmark_eval.protocols.semantic import compute, notices
from benchmark_eval.protocols.semantic_count import PairCounter, shape_problem
from benchmark_eval.protocols.semantic_params import (
    RULES,
    SemanticParams,
    ValueTables,
    build_tables,
)
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.report.semantic import SemanticResult
from benchmark_eval.workflows.base import LegacyWorkflow, Progress
from benchmark_eval.workflows.pool import fork_map, shard_bounds

_SHARD_IMAGES = 32  # images per unit of work (progress granularity, load balance)
BINARY_DEFAULTS: dict[str, Any] = {
    "num_classes": 2, "class_names": ("background", "foreground"), "ignore_index": None,
    "encoding": "binary",
}


def _params(params: SemanticParams | dict[str, Any] | None, fields: dict[str, Any],
            defaults: dict[str, Any] | None = None) -> SemanticParams:
    if isinstance(params, SemanticParams) and not fields:
        return params
    data = dict(defaults or {})
    if isinstance(params, SemanticParams):
        data.update(params.model_dump(exclude_unset=True))
    elif params is not None:  # e.g. a configs/semantic-*.json file's content
        data.update({k: v for k, v in params.items() if k not in ("protocol", "description")})
    data.update(fields)
    try:
        return SemanticParams(**data)
    except ValueError as exc:
        raise ConfigError(f"invalid parameters for semantic: {exc}") from exc


# ------------------------------------------------------------------------ per-image work


def _count_pair(counter: PairCounter, pair: LabelMapPair) -> None:
    """Read and count one pair; raises the pair's problems (nothing counted then)."""
    gt = load_label_map(pair.gt, pair.where("gt"))
    pred = load_label_map(pair.pred, pair.where("pred"))
    found = shape_problem(gt, pred)
    if found is not None:
        side, message = found
        if gt.ndim == pred.ndim == 2 and gt.shape != pred.shape:  # size mismatch: name both
            raise ConsistencyError(Problem(pair.where(side), f"{message} ({pair.where('gt')})"))
        raise FormatError(Problem(pair.where(side), message))  # channels, dtype
    problems = counter.add(pair.name, gt, pred)
    if problems:
        raise ConsistencyError([Problem(pair.where(side), m) for side, m in problems])


def _count(pairs: Sequence[LabelMapPair], tables: ValueTables, params: SemanticParams,
           collect: bool) -> tuple[SemanticState, list[Problem]]:
    """Count ``pairs``; stop at the first problem unless ``collect``."""
    counter = PairCounter(tables, params.counting_fingerprint(),
                          per_image=params.dice_averaging == "per-image")
    problems: list[Problem] = []
    for pair in pairs:
        if collect:
            problems += _checked(counter, pair)
        else:
            _count_pair(counter, pair)
    return counter.state(), problems


def _checked(counter: PairCounter, pair: LabelMapPair) -> list[Problem]:
    try:
        _count_pair(counter, pair)
    except InputError as exc:
        return exc.problems
    return []


def _count_shard(context: tuple[Sequence[LabelMapPair], ValueTables, SemanticParams, bool],
                 start: int, stop: int) -> tuple[SemanticState, list[Problem]]:
    pairs, tables, params, collect = context
    return _count(pairs[start:stop], tables, params, collect)


def _shards(pairs: Sequence[LabelMapPair], params: SemanticParams, *, workers: int,
            collect: bool) -> Iterator[tuple[int, tuple[SemanticState, list[Problem]]]]:
    """``(images done, shard result)`` for every shard, in order (forked pool if asked)."""
    shards = shard_bounds(len(pairs), _SHARD_IMAGES)
    context = (pairs, build_tables(params), params, collect)
    parts = fork_map(_count_shard, context, shards, workers=workers)
    for (_, stop), part in zip(shards, parts, strict=True):
        yield stop, part


def semantic_state(pairs: Iterable[LabelMapPair], params: SemanticParams, *, workers: int = 1,
                   progress: Progress | None = None) -> SemanticState:
    """Count every pair into one state (raises the first problem found)."""
    pairs = list(pairs)
    state = SemanticState.empty(params.num_classes, params.counting_fingerprint())
    for done, (part, _) in _shards(pairs, params, workers=workers, collect=False):
        state = state.merge(part)
        if progress is not None:
            progress(done, len(pairs))
    return state


def evaluate_label_maps(pairs: Iterable[LabelMapPair], params: SemanticParams, *,
                        workers: int = 1, progress: Progress | None = None,
                        protocol: str = "semantic") -> SemanticResult:
    """Score already-paired label maps (files, arrays or loaders) under ``params``."""
    state = semantic_state(pairs, params, workers=workers, progress=progress)
    computed = compute(state, params)
    return SemanticResult.build(protocol, state, computed, params,
                                notices=notices(state, params, computed))


def evaluate_semantic(*, gt: Maps, pred: Maps, params: SemanticParams | dict[str, Any] | None
                      = None, workers: int = 1, progress: Progress | None = None,
                      list_file: str | Path | None = None, protocol: str = "semantic",
                      **fields: Any) -> SemanticResult:
    """Semantic-segmentation metrics of predicted label maps against GT label maps.

    Args:
        gt: GT folder (``.png`` / ``.npy``, names are paths without suffix) or a mapping
            ``{name: array | path | loader}``.
        pred: Predictions, the same way.
        params: :class:`SemanticParams` or a dict of its fields.
        workers: Processes; 0 = all cores.
        progress: Called with (images done, images total).
        list_file: Pair by this list instead of by name.
        **fields: :class:`SemanticParams` fields overriding ``params`` (``num_classes=150``,
            ``rule="detectron2"``...).

    Raises:
        MissingPredictionError: A GT map has no prediction.
        InputError: Any other problem, naming the file (stops at the first image with one).
        ConfigError: Invalid parameters.
    """
    defaults = BINARY_DEFAULTS if protocol == "semantic-binary" else None
    p = _params(params, fields, defaults)
    pairing = pair_label_maps(gt, pred, list_file=list_file)
    if pairing.missing or pairing.problems:
        raise pairing.error()
    return evaluate_label_maps(pairing.pairs, p, workers=workers, progress=progress,
                               protocol=protocol)


def validate_semantic(*, gt: Maps, pred: Maps, params: SemanticParams | dict[str, Any] | None
                      = None, workers: int = 1, list_file: str | Path | None = None,
                      protocol: str = "semantic", **fields: Any) -> list[Problem]:
    """Every problem of a label-map submission (reads every map); empty when clean."""
    defaults = BINARY_DEFAULTS if protocol == "semantic-binary" else None
    p = _params(params, fields, defaults)
    pairing = pair_label_maps(gt, pred, list_file=list_file)
    problems = pairing.all_problems()
    for _, (_, found) in _shards(pairing.pairs, p, workers=workers, collect=True):
        problems += found
    return problems


# ------------------------------------------------------------------------------------ CLI


def _ignore_index(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}"
                                         ) from None


def _add_arguments(binary: bool, parser: argparse.ArgumentParser, evaluate: bool) -> None:
    parser.add_argument("--gt", required=True, type=Path, metavar="GT_DIR",
                        help="folder of GT label maps (single-channel .png or .npy)")
    parser.add_argument("--pred", required=True, type=Path, metavar="PRED_DIR",
                        help="folder of predicted label maps, matched to GT by file name")
    parser.add_argument("--list", type=Path, metavar="LIST.txt", dest="list_file",
                        help="pair by this list: one NAME, or 'GT_FILE PRED_FILE', per line")
    parser.add_argument("--config", type=Path, metavar="PARAMS.json",
                        help="parameters (class_names, label_map, ...; see configs/semantic-"
                             "*.json); the options below override it")
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
    if not evaluate:
        parser.add_argument("--workers", type=int, default=0, metavar="N",
                            help="processes to use (default 0: all cores)")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path)
    except InputError as exc:
        raise ConfigError(f"cannot use --config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object of parameters")
    return data


def _cli_options(binary: bool, args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
    config = _read_config(args.config) if args.config is not None else {}
    fields = {name: getattr(args, name) for name in (
        "num_classes", "reduce_zero_label", "ignore_index", "rule", "dice_averaging",
        "out_of_range") if hasattr(args, name)}
    if not binary and "num_classes" not in {**config, **fields}:
        raise ConfigError("--num-classes is required (or num_classes in --config)")
    options: dict[str, Any] = {"gt": args.gt, "pred": args.pred, "list_file": args.list_file}
    if not evaluate:
        options["workers"] = args.workers
    try:
        options["params"] = _params(config, fields, BINARY_DEFAULTS if binary else None)
    except ConfigError as exc:
        where = f"{args.config}: " if args.config is not None else ""
        raise ConfigError(f"{where}{exc}") from exc
    return options


def _workflow(binary: bool) -> LegacyWorkflow:
    name = "semantic-binary" if binary else "semantic"
    summary = ("binary masks: foreground IoU and Dice, per dataset or per image" if binary
               else "label maps: mIoU, mAcc, mDice, aAcc, fwIoU (mmseg / detectron2 /"
                    " cityscapesScripts rules)")
    example = ("--gt masks/ --pred pred_masks/ --dice-averaging per-image" if binary
               else "--gt gt_dir/ --pred pred_dir/ --num-classes 150 --reduce-zero-label")
    return LegacyWorkflow(
        name=name, summary=summary,
        evaluate=partial(evaluate_semantic, protocol=name),
        validate=partial(validate_semantic, protocol=name),
        add_arguments=partial(_add_arguments, binary),
        cli_options=partial(_cli_options, binary),
        example=example,
    )


WORKFLOWS = (_workflow(False), _workflow(True))
