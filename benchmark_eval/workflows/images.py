"""Image-by-image protocols on the one runner: ``semantic``, ``cityscapes-semantic``,
``cityscapes-instance``.

Their adapters pair files into items (one per image) with the problems found while pairing;
a per-image step reads and counts one item, raising its problems. :class:`ImageWork` is the
picklable context of both shard tasks: :func:`count_task` for ``evaluate`` (stops at the
first problem) and :func:`check_task` for ``validate`` (collects every problem). A family
gives one ``paired(params, gt, pred, options) -> Paired`` function; :func:`plan_paired`
and :func:`check_paired` are then its workflow's ``plan`` and ``check``.
"""

from __future__ import annotations

__all__ = ["ImageWork", "Paired", "Pairing", "add_folder_arguments", "check_paired",
           "check_task", "count_task", "each_image", "image_plan", "plan_paired",
           "refuse_options"]

import argparse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from benchmark_eval.errors import ConfigError, InputError, Problem
from benchmark_eval.protocols.state import MergeableState
from benchmark_eval.workflows.options import coerce_params
from benchmark_eval.workflows.pool import Plan, run_shards

T = TypeVar("T")
OptT = TypeVar("OptT")
StateT = TypeVar("StateT", bound=MergeableState)
ResultT = TypeVar("ResultT")


class Pairing(Protocol):
    """What an adapter's pairing offers (``io.labelmaps``, ``io.cityscapes``)."""

    @property
    def missing(self) -> list[Problem]:
        """GT images without a prediction."""
        ...

    @property
    def problems(self) -> list[Problem]:
        """Every other pairing problem."""
        ...

    def all_problems(self) -> list[Problem]:
        """Every pairing problem, trimmed."""
        ...

    def error(self) -> InputError:
        """What ``evaluate`` raises when there are problems."""
        ...


def refuse_options(params: BaseModel, options: dict[str, Any], protocol: str) -> None:
    """Raise for keyword arguments that are neither inputs nor parameter fields, with the
    parameter model's own message (``Extra inputs are not permitted``).

    Raises:
        ConfigError: ``options`` is not empty.
    """
    if options:
        coerce_params(type(params), params, protocol=protocol, overrides=options)
        raise ConfigError(f"{protocol}: unknown options {', '.join(options)}")


def each_image(step: Callable[[T], None], items: Iterable[T],
               problems: list[Problem] | None) -> None:
    """``step(item)`` for every item; an item's :class:`InputError` is raised, or, given a
    ``problems`` list (``validate``), its problems are added and the next item follows."""
    for item in items:
        _attempt(step, item, problems)


def _attempt(step: Callable[[T], None], item: T, problems: list[Problem] | None) -> None:
    try:
        step(item)
    except InputError as exc:
        if problems is None:
            raise
        problems += exc.problems


@dataclass(frozen=True)
class ImageWork(Generic[T, OptT, StateT]):
    """The context of the shard tasks.

    Attributes:
        count: ``count(options, items, problems) -> state`` of some items: a module-level
            function that raises an item's problems, or adds them to ``problems`` when it
            is a list (see :func:`each_image`).
        items: One per image, in evaluation order.
        options: What ``count`` needs besides the items (tables, flags...).
    """

    count: Callable[[OptT, Sequence[T], list[Problem] | None], StateT]
    items: Sequence[T]
    options: OptT


def count_task(work: ImageWork[Any, Any, StateT], start: int, stop: int) -> StateT:
    """The state of items ``[start, stop)`` (raises the first problem)."""
    return work.count(work.options, work.items[start:stop], None)


def check_task(work: ImageWork[Any, Any, Any], start: int, stop: int) -> list[Problem]:
    """Every problem of items ``[start, stop)``."""
    problems: list[Problem] = []
    work.count(work.options, work.items[start:stop], problems)
    return problems


def image_plan(work: ImageWork[Any, Any, StateT], *, empty: StateT,
               finish: Callable[[StateT], ResultT], shard_size: int
               ) -> Plan[ImageWork[Any, Any, StateT], StateT, ResultT]:
    """The plan that counts every item of ``work``."""
    return Plan(task=count_task, context=work, n_items=len(work.items), empty=empty,
                finish=finish, shard_size=shard_size)


@dataclass(frozen=True)
class Paired(Generic[StateT, ResultT]):
    """A family's inputs, paired: what :func:`plan_paired` and :func:`check_paired` run.

    Attributes:
        pairing: The adapter's pairing (its problems come first).
        work: The items and how to count them.
        empty: The identity state.
        finish: Merged state -> result (compute, notices, report).
    """

    pairing: Pairing
    work: ImageWork[Any, Any, StateT]
    empty: StateT
    finish: Callable[[StateT], ResultT]


PairInputs = Callable[[Any, Any, Any, dict[str, Any]], Paired[Any, Any]]
"""``paired(params, gt, pred, options)``: pairs the inputs; ``options`` are the keyword
arguments besides ``gt``, ``pred`` and ``workers`` (see :func:`refuse_options`)."""


def plan_paired(paired: PairInputs, shard_size: int, params: BaseModel, *, gt: Any, pred: Any,
                workers: int, **options: Any) -> Plan[Any, Any, Any]:
    """A workflow's ``plan``: pair the inputs and plan the counting of every image.

    Raises:
        MissingPredictionError: A GT image has no prediction (and nothing else is wrong).
        InputError: Any other pairing problem, naming the file.
    """
    p = paired(params, gt, pred, options)
    if p.pairing.missing or p.pairing.problems:
        raise p.pairing.error()
    return image_plan(p.work, empty=p.empty, finish=p.finish, shard_size=shard_size)


def check_paired(paired: PairInputs, shard_size: int, params: BaseModel, *, gt: Any, pred: Any,
                 workers: int, **options: Any) -> list[Problem]:
    """A workflow's ``check``: the pairing's problems, then those of every image in order."""
    p = paired(params, gt, pred, options)
    problems = p.pairing.all_problems()
    for found in run_shards(check_task, p.work, len(p.work.items), shard_size=shard_size,
                            workers=workers):
        problems += found
    return problems


def add_folder_arguments(parser: argparse.ArgumentParser, *, gt_metavar: str, gt_help: str,
                         pred_help: str) -> None:
    """``--gt`` and ``--pred``, two folders (required)."""
    parser.add_argument("--gt", required=True, type=Path, metavar=gt_metavar, help=gt_help)
    parser.add_argument("--pred", required=True, type=Path, metavar="PRED_DIR",
                        help=pred_help)
