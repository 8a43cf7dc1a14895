"""What every protocol family provides to the API and the CLI.

A :class:`Workflow` glues one protocol's adapter (``io``), computation (``protocols``) and
result (``report``) together, and declares its command-line options. The API and the CLI
only dispatch by protocol name through :data:`benchmark_eval.workflows.WORKFLOWS`.
"""

from __future__ import annotations

__all__ = ["Progress", "Result", "Workflow"]

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from benchmark_eval.errors import Notice, Problem

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
