"""The Python API: ``evaluate`` and ``validate`` by protocol name."""

from __future__ import annotations

__all__ = ["PROTOCOLS", "evaluate", "validate"]

from typing import TYPE_CHECKING, Any, Literal, overload

from benchmark_eval.errors import ConfigError, Problem
from benchmark_eval.workflows import WORKFLOWS

if TYPE_CHECKING:  # the family modules are imported when a protocol is first used
    from benchmark_eval.report.coco import CocoResult
    from benchmark_eval.workflows import Result, Workflow

PROTOCOLS = tuple(WORKFLOWS)


def _workflow(protocol: str) -> Workflow:
    try:
        return WORKFLOWS[protocol]
    except KeyError:
        raise ConfigError(
            f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}") from None


@overload
def evaluate(protocol: Literal["coco-bbox", "coco-segm", "coco-boundary"], *, gt: Any,
             pred: Any, **options: Any) -> CocoResult: ...
@overload
def evaluate(protocol: str, *, gt: Any, pred: Any, **options: Any) -> Result: ...


def evaluate(protocol: str, *, gt: Any, pred: Any, **options: Any) -> Result:
    """Score predictions against ground truth with a named protocol.

    Args:
        protocol: A name from :data:`PROTOCOLS`, e.g. ``"coco-segm"``.
        gt: Ground truth: a file or folder path, or already-loaded data.
        pred: Predictions: a file or folder path, or already-loaded data.
        **options: The protocol's options, e.g. ``params=CocoParams(...)``, ``workers=0``
            (all cores), ``progress=callback(done, total)``.

    Returns:
        The protocol's result object (e.g. :class:`benchmark_eval.CocoResult`).

    Raises:
        ConfigError: Unknown protocol or invalid parameters.
        InputError: The inputs failed checks; ``.problems`` lists them.

    Example:
        >>> r = evaluate("coco-bbox", gt="gt.json", pred="results.json")  # doctest: +SKIP
        >>> r.metrics["AP"]  # doctest: +SKIP
    """
    return _workflow(protocol).evaluate(gt=gt, pred=pred, **options)


def validate(protocol: str, *, gt: Any, pred: Any, **options: Any) -> list[Problem]:
    """Check ground truth and predictions for a protocol without scoring.

    Returns:
        Every problem found (file, record, what is wrong); empty when the inputs are clean.

    Raises:
        ConfigError: Unknown protocol.
    """
    return _workflow(protocol).validate(gt=gt, pred=pred, **options)
