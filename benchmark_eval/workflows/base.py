"""What every protocol family provides to the API and the CLI.

A :class:`Workflow` glues one protocol's adapter (``io``), computation (``protocols``) and
result (``report``) together, and declares its command-line options. The API and the CLI
only dispatch by protocol name through :data:`benchmark_eval.workflows.WORKFLOWS`.
"""

from __future__ import annotations

__all__ = [
    "Progress",
    "Result",
    "Workflow",
    "json_inputs",
    "params_from_file",
    "read_both",
]

import argparse
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from benchmark_eval.errors import ConfigError, InputError, Notice, Problem
from benchmark_eval.io.jsonfile import read_json

ParamsT = TypeVar("ParamsT", bound=BaseModel)

Progress = Callable[[int, int], None]


class Result(Protocol):
    """What every protocol's result offers the CLI."""

    @property
    def warnings(self) -> list[Notice]:
        """Reproduced quirks and protocol-level exclusions worth knowing about."""
        ...

    def to_report(self) -> dict[str, Any]:
        """The JSON report (fractions in [0, 1], ``None`` where undefined)."""
        ...

    def render(self, *, per_class: bool = True) -> str:
        """Human-readable tables, in the official tool's layout where it has one."""
        ...


@dataclass(frozen=True)
class Workflow:
    """One protocol as the API and the CLI see it.

    Attributes:
        name: Protocol name, e.g. ``"coco-segm"``.
        summary: One line for ``--help``: what it computes and which tool it reproduces.
        evaluate: ``evaluate(*, gt, pred, params=None, workers=1, progress=None, **options)``.
        validate: ``validate(*, gt, pred, **options) -> list[Problem]``.
        add_arguments: Adds the protocol's options to its ``evaluate`` / ``validate``
            sub-command parser (second argument: True for ``evaluate``).
        cli_options: Turns parsed arguments into keyword arguments of ``evaluate`` /
            ``validate`` (second argument: True for ``evaluate``).
        example: One example command line.
    """

    name: str
    summary: str
    evaluate: Callable[..., Result]
    validate: Callable[..., list[Problem]]
    add_arguments: Callable[[argparse.ArgumentParser, bool], None]
    cli_options: Callable[[argparse.Namespace, bool], dict[str, Any]]
    example: str = ""


def params_from_file(path: Path, model: type[ParamsT]) -> ParamsT:
    """Parameters from a JSON preset (``configs/*.json``); ``protocol`` and
    ``description`` keys are documentation and ignored.

    Raises:
        ConfigError: Unreadable file, not an object, or invalid parameters.
    """
    try:
        data = read_json(path)
    except InputError as exc:
        raise ConfigError(f"cannot use --config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object of parameters")
    data = {k: v for k, v in data.items() if k not in ("protocol", "description")}
    try:
        return model(**data)
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid parameters: {exc}") from exc


def json_inputs(
    *, gt_help: str, pred_help: str, config_help: str, params_model: type[BaseModel],
) -> tuple[Callable[[argparse.ArgumentParser, bool], None],
           Callable[[argparse.Namespace, bool], dict[str, Any]]]:
    """CLI hooks for protocols reading a GT JSON file and a predictions JSON file:
    ``--gt``, ``--pred`` and (``evaluate`` only) ``--config PARAMS.json``."""

    def add_arguments(parser: argparse.ArgumentParser, evaluate: bool) -> None:
        parser.add_argument("--gt", required=True, type=Path, metavar="GT.json", help=gt_help)
        parser.add_argument("--pred", required=True, type=Path, metavar="RESULTS.json",
                            help=pred_help)
        if evaluate:
            parser.add_argument("--config", type=Path, metavar="PARAMS.json", help=config_help)

    def cli_options(args: argparse.Namespace, evaluate: bool) -> dict[str, Any]:
        options: dict[str, Any] = {"gt": args.gt, "pred": args.pred}
        if evaluate and args.config is not None:
            options["params"] = params_from_file(args.config, params_model)
        return options

    return add_arguments, cli_options


GtT = TypeVar("GtT")
PredT = TypeVar("PredT")


def read_both(load_gt: Callable[[], GtT], read_pred: Callable[[], PredT], *,
              workers: int) -> tuple[GtT, PredT]:
    """Run ``load_gt`` and ``read_pred`` — independent until predictions are checked
    against the GT — in two processes when ``workers != 1`` (fork; the GT comes back
    pickled, the predictions stay in this process), else one after the other.

    GT problems are reported first: if both fail, the GT's error is raised.
    """
    if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return load_gt(), read_pred()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
        future: Future[GtT] = ex.submit(_call, load_gt)
        try:
            pred = read_pred()
        finally:
            gt = future.result()
    return gt, pred


def _call(fn: Callable[[], GtT]) -> GtT:
    return fn()
