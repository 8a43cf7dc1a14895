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
    "refuse_if_strict",
]

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from benchmark_eval.errors import InputError, Notice, Problem, strict_problems
from benchmark_eval.protocols.state import MergeableState
from benchmark_eval.workflows.options import coerce_params
from benchmark_eval.workflows.pool import Plan, run_plan, use_executor

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
    """One protocol as the API and the CLI see it: the protocol contract.

    A workflow turns inputs into a :class:`~benchmark_eval.workflows.pool.Plan` (adapter ->
    common schema -> per-shard function -> empty state -> finish), and the one runner
    (:func:`~benchmark_eval.workflows.pool.run_plan`) shards, merges and finishes it.

    Attributes:
        name: Protocol name, e.g. ``"coco-segm"``.
        summary: One line for ``--help``: what it computes and which tool it reproduces.
        params_model: The parameter model; ``params`` are coerced to it by
            :func:`~benchmark_eval.workflows.options.coerce_params` (model, dict, preset).
        plan: ``plan(params, *, gt, pred, workers, **options) -> Plan``: reads and checks
            the inputs (the adapter's work) and returns the shard plan.
        check: ``check(params, *, gt, pred, workers, **options) -> list[Problem]``: every
            problem of the inputs, for ``validate``.
        add_arguments: Adds the protocol's own options to its ``evaluate`` / ``validate``
            sub-command parser (second argument: True for ``evaluate``); ``--config``,
            ``--workers``, ``--out`` are the CLI's.
        cli_options: Turns parsed arguments into keyword arguments of ``evaluate`` /
            ``validate`` (parameter fields among them override ``--config``).
        state_type: The protocol's :class:`~benchmark_eval.protocols.state.MergeableState`.
        metric_keys: The keys of ``result.metrics``, in the official tool's order.
        example: One example command line.
        defaults: Parameter fields this protocol sets before ``params`` (e.g. binary).
        batch_gt: For :class:`benchmark_eval.Evaluator`: ``batch_gt(gt)`` reads the GT
            once and returns ``subset(image_ids)``, the GT of those images only (None: the
            protocol has no per-batch adapter yet).
    """

    name: str
    summary: str
    params_model: type[BaseModel]
    plan: Callable[..., Plan[Any, Any, Any]]
    check: Callable[..., list[Problem]]
    add_arguments: Callable[[argparse.ArgumentParser, bool], None]
    cli_options: Callable[[argparse.Namespace, bool], dict[str, Any]]
    state_type: type[MergeableState]
    metric_keys: tuple[str, ...]
    example: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    batch_gt: Callable[[Any], Callable[[Any], Any]] | None = None

    def params(self, params: Any = None, **overrides: Any) -> Any:
        """``params`` (a model, a dict, a preset name or file, or None for the official
        preset) as this protocol's parameter model, with ``overrides`` applied."""
        return coerce_params(self.params_model, params, protocol=self.name,
                             defaults=dict(self.defaults), overrides=overrides)

    def _split(self, params: Any, options: dict[str, Any]) -> Any:
        fields = self.params_model.model_fields
        overrides = {k: options.pop(k) for k in list(options) if k in fields}
        return self.params(params, **overrides)

    def evaluate(self, *, gt: Any, pred: Any, params: Any = None, workers: int = 1,
                 progress: Progress | None = None, executor: Any = "local",
                 scheduler: str | None = None, strict: bool = False,
                 ci: float | None = None, resamples: int | None = None, seed: int = 0,
                 **options: Any) -> Result:
        """Score ``pred`` against ``gt`` (see :func:`benchmark_eval.evaluate`).

        The inputs are read here; the shards run on ``executor`` (``"local"``, ``"dask"``
        with an optional ``scheduler`` address, or a ``distributed.Client``; see
        :func:`~benchmark_eval.workflows.pool.open_executor`) and the result is finished
        here. With ``strict``, an input the official tool silently drops or reinterprets
        (a notice with ``strict=True``) raises :class:`~benchmark_eval.errors.InputError`.
        With ``ci`` (a level such as 0.95), bootstrap intervals over images (``resamples``
        replicates, ``seed``) are attached: :func:`benchmark_eval.stats.bootstrap`.
        """
        p = self._split(params, options)
        plan = self.plan(p, gt=gt, pred=pred, workers=workers, **options)
        result = refuse_if_strict(run_plan(plan, workers=workers, progress=progress,
                                           executor=executor, scheduler=scheduler), strict)
        if ci is None or ci is False:
            return result
        level = 0.95 if ci is True else float(ci)
        from benchmark_eval.stats.bootstrap import DEFAULT_RESAMPLES, bootstrap

        found = bootstrap(result, ci=level, seed=seed,
                          resamples=DEFAULT_RESAMPLES if resamples is None else resamples)
        return result.with_bootstrap(found)

    def validate(self, *, gt: Any, pred: Any, params: Any = None, workers: int = 1,
                 executor: Any = "local", scheduler: str | None = None,
                 **options: Any) -> list[Problem]:
        """Every problem of the inputs (see :func:`benchmark_eval.validate`); shards that
        ``check`` runs through :func:`~benchmark_eval.workflows.pool.run_shards` go to
        ``executor`` (as in :meth:`evaluate`)."""
        p = self._split(params, options)
        with use_executor(executor, scheduler=scheduler, workers=workers):
            return self.check(p, gt=gt, pred=pred, workers=workers, **options)


ResultT = TypeVar("ResultT", bound=Result)


def refuse_if_strict(result: ResultT, strict: bool) -> ResultT:
    """``result``, or (``strict``) an :class:`InputError` listing its input notices."""
    problems = strict_problems(result.warnings) if strict else []
    if problems:
        raise InputError(problems)
    return result
