"""The Python API: ``evaluate`` and ``validate`` by protocol name."""

from __future__ import annotations

__all__ = ["PROTOCOLS", "compare", "evaluate", "validate"]

from typing import TYPE_CHECKING, Any, Literal, overload

from benchmark_eval.errors import ConfigError, Problem
from benchmark_eval.workflows import WORKFLOWS

if TYPE_CHECKING:  # the family and stats modules are imported when first used
    from benchmark_eval.report.coco import CocoResult
    from benchmark_eval.stats.compare import Comparison
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


def compare(protocol: str, *, gt: Any = None, pred_a: Any = None, pred_b: Any = None,
            state_a: Any = None, state_b: Any = None, params: Any = None, ci: float = 0.95,
            resamples: int | None = None, seed: int = 0, **options: Any) -> Comparison:
    """Compare two submissions over the same images: the paired-bootstrap difference of
    every headline and per-class number, its interval and a p-value
    (``docs/statistics.md``).

    Args:
        protocol: A name from :data:`PROTOCOLS`.
        gt: Ground truth (with ``pred_a`` and ``pred_b``).
        pred_a: Predictions of run A.
        pred_b: Predictions of run B.
        state_a: Instead of ``gt`` / ``pred_*``: two saved states (paths or states) of the
            protocol, scored with ``params``.
        state_b: See ``state_a``.
        params: The protocol's parameters (model, dict or preset).
        ci: Confidence level of the intervals (the test's level is ``1 - ci``).
        resamples: Bootstrap replicates (default ``stats.bootstrap.DEFAULT_RESAMPLES``).
        seed: Seed of the image draws.
        **options: The protocol's other options (``workers=``...), as for :func:`evaluate`.

    Raises:
        ConfigError: Unknown protocol, missing inputs, or runs over different images.
        InputError: The inputs failed checks.

    Example:
        >>> c = compare("coco-bbox", gt="gt.json", pred_a="a.json",
        ...             pred_b="b.json")  # doctest: +SKIP
        >>> print(c.verdict())  # doctest: +SKIP
        B − A = +1.2 AP [+0.4, +2.0], p = 0.003: B is better (at 0.05)
    """
    from benchmark_eval.stats.bootstrap import DEFAULT_RESAMPLES, replicates_of
    from benchmark_eval.stats.compare import compare_runs, replicates_of_state

    resamples = DEFAULT_RESAMPLES if resamples is None else resamples
    w = _workflow(protocol)
    if state_a is not None and state_b is not None:
        p = w.params(params, **{k: options.pop(k) for k in list(options)
                                if k in w.params_model.model_fields})
        runs = [replicates_of_state(s if isinstance(s, w.state_type) else w.state_type.load(s),
                                    p) for s in (state_a, state_b)]
    elif gt is not None and pred_a is not None and pred_b is not None:
        runs = [replicates_of(w.evaluate(gt=gt, pred=pred, params=params, **options))
                for pred in (pred_a, pred_b)]
    else:
        raise ConfigError("compare needs gt, pred_a and pred_b, or state_a and state_b")
    return compare_runs(protocol, runs[0], runs[1], ci=ci, resamples=resamples, seed=seed)
