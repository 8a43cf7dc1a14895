"""Is B really better than A? The paired bootstrap over the images both runs scored.

Both runs are resampled with the same image counts in every replicate, so the replicate
differences ``m_B - m_A`` keep the pairing (an image that is hard for A is hard for B).
The interval is their percentile interval; the two-sided p-value is that of the centred
bootstrap distribution, ``(1 + #{|d* - d| >= |d|}) / (1 + B)`` (Efron & Tibshirani 1993,
§16.4; the "paired bootstrap" of Koehn 2004 and Berg-Kirkpatrick et al. 2012). The
false-positive rate of this test on submissions that differ only by noise is checked in
``tests/unit/test_stats_compare.py``; the method is in ``docs/statistics.md``.
"""

from __future__ import annotations

__all__ = ["Comparison", "Difference", "compare_runs", "difference", "replicates_of_state"]

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols import cityscapes_instance as inst
from benchmark_eval.protocols import cityscapes_semantic as cs
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.lvis import LvisParams
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.protocols.semantic_params import SemanticParams
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.report.fields import none_if_nan
from benchmark_eval.stats import coco, replicates
from benchmark_eval.stats.bootstrap import draw_counts, interval
from benchmark_eval.stats.replicates import ReplicateFn, Replicates, Units

Run = tuple[Units, ReplicateFn]


@dataclass(frozen=True)
class Difference:
    """One number of two runs and their paired difference (fractions; None if undefined).

    Attributes:
        a: The number of run A.
        b: The number of run B.
        delta: ``b - a``.
        ci: Percentile interval of the paired replicate differences.
        p: Two-sided paired-bootstrap p-value of "no difference".
    """

    a: float | None
    b: float | None
    delta: float | None
    ci: list[float] | None
    p: float | None

    def to_report(self) -> dict[str, Any]:
        """``{"delta", "ci", "p", "a", "b"}``."""
        return {"delta": self.delta, "ci": self.ci, "p": self.p, "a": self.a, "b": self.b}



def difference(point_a: float, point_b: float, reps_a: np.ndarray, reps_b: np.ndarray,
               level: float) -> Difference:
    """The paired difference of one number (NaN: undefined), its interval and p-value."""
    delta = point_b - point_a
    d = reps_b - reps_a
    d = d[~np.isnan(d)]
    if math.isnan(delta) or not len(d):
        return Difference(none_if_nan(point_a), none_if_nan(point_b), none_if_nan(delta), None,
                          None)
    p = (1 + int(np.count_nonzero(np.abs(d - delta) >= abs(delta)))) / (1 + len(d))
    return Difference(none_if_nan(point_a), none_if_nan(point_b), float(delta), interval(d, level),
                      min(1.0, p))


@dataclass(frozen=True)
class Comparison:
    """Two runs over the same images, number by number.

    Attributes:
        protocol: Protocol name.
        level: Confidence level of the intervals (the test's level is ``1 - level``).
        resamples: Bootstrap replicates.
        seed: Seed of the draws.
        n_images: Images resampled.
        diff: Headline metric -> :class:`Difference`.
        per_class: Class -> metric -> :class:`Difference`.
    """

    protocol: str
    level: float
    resamples: int
    seed: int
    n_images: int
    diff: dict[str, Difference]
    per_class: dict[Any, dict[str, Difference]]

    def verdict(self, metric: str | None = None) -> str:
        """One plain line, e.g. ``B − A = +1.2 AP [+0.4, +2.0], p = 0.003: B is better``
        (points, i.e. ×100; ``metric``: the first headline metric by default)."""
        key = metric or next(iter(self.diff))
        d = self.diff[key]
        if d.delta is None or d.ci is None or d.p is None:
            return f"B − A: {key} is undefined in at least one run"
        alpha = 1 - self.level
        word = ("no significant difference" if d.p >= alpha
                else "B is better" if d.delta > 0 else "A is better")
        return (f"B − A = {100 * d.delta:+.1f} {key} [{100 * d.ci[0]:+.1f},"
                f" {100 * d.ci[1]:+.1f}], p = {d.p:.3f}: {word} (at {alpha:g})")

    def render(self, *, per_class: bool = True) -> str:
        """The verdict, every headline metric, then the first per-class metric by class."""
        lines = [self.verdict(), "", f"{100 * self.level:g}% paired-bootstrap intervals over"
                 f" {self.n_images} images ({self.resamples} resamples, seed {self.seed}):",
                 f"  {'metric':<14} {'A':>6} {'B':>6} {'B − A':>7}  {'interval':<16} p"]
        lines += [_row(str(k), d) for k, d in self.diff.items()]
        if per_class and self.per_class:
            first = next(iter(next(iter(self.per_class.values()))))
            lines += ["", f"per class, {first}:"]
            lines += [_row(str(c), vals[first]) for c, vals in self.per_class.items()
                      if first in vals and vals[first].delta is not None]
        return "\n".join(lines)

    def to_report(self) -> dict[str, Any]:
        """``{"diff": {metric: {"delta", "ci", "p", ...}}, "per_class": ..., ...}``."""
        return {
            "protocol": self.protocol,
            "diff": {k: d.to_report() for k, d in self.diff.items()},
            "per_class": {str(c): {k: d.to_report() for k, d in vals.items()}
                          for c, vals in self.per_class.items()},
            "verdict": self.verdict(),
            "params": {"level": self.level, "resamples": self.resamples, "seed": self.seed,
                       "images": self.n_images, "method": "paired percentile bootstrap"},
        }


def _row(name: str, d: Difference) -> str:
    def pts(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}"

    span = "-" if d.ci is None else f"[{100 * d.ci[0]:+.1f}, {100 * d.ci[1]:+.1f}]"
    delta = "-" if d.delta is None else f"{100 * d.delta:+.1f}"
    p = "-" if d.p is None else f"{d.p:.3f}"
    return f"  {name:<14} {pts(d.a):>6} {pts(d.b):>6} {delta:>7}  {span:<16} {p}"


def _first(reps: Replicates) -> tuple[dict[str, float], dict[Any, dict[str, float]]]:
    return ({k: float(v[0]) for k, v in reps.metrics.items()},
            {c: {k: float(v[0]) for k, v in vals.items()} for c, vals in reps.per_class.items()})


def compare_runs(protocol: str, run_a: Run, run_b: Run, *, ci: float = 0.95,
                 resamples: int = 1000, seed: int = 0) -> Comparison:
    """The paired comparison of two runs (:func:`~benchmark_eval.stats.bootstrap.
    replicates_of` each result, or :func:`replicates_of_state`).

    Raises:
        ConfigError: The runs are not over the same images, or bad ``ci`` / ``resamples``.
    """
    if not 0 < ci < 1 or resamples < 1:
        raise ConfigError(f"need 0 < ci < 1 and resamples >= 1, got {ci} and {resamples}")
    units = run_a[0].union(run_b[0])
    counts = draw_counts(units, resamples, np.random.default_rng(seed))
    ones = np.ones((1, len(units.keys)), dtype=np.int64)
    (point_a, class_a), (point_b, class_b) = (_first(fn(units, ones)) for _, fn in (run_a, run_b))
    reps_a, reps_b = run_a[1](units, counts), run_b[1](units, counts)
    diff = {k: difference(point_a[k], point_b[k], reps_a.metrics[k], reps_b.metrics[k], ci)
            for k in reps_a.metrics if k in reps_b.metrics}
    per_class = {c: {k: difference(class_a[c][k], class_b[c][k], reps_a.per_class[c][k],
                                   reps_b.per_class[c][k], ci) for k in vals}
                 for c, vals in reps_a.per_class.items() if c in reps_b.per_class}
    return Comparison(protocol=protocol, level=ci, resamples=resamples, seed=seed,
                      n_images=units.n_images, diff=diff, per_class=per_class)


def replicates_of_state(state: Any, params: Any) -> Run:
    """The run of a saved state (no ground truth at hand): what its numbers need beyond
    the state is taken from ``params``. LVIS frequency groups are unknown (``APr`` /
    ``APc`` / ``APf`` are left out), as is the panoptic thing / stuff split (only the
    ``All`` group is compared).

    Raises:
        ConfigError: A state type without a bootstrap.
    """
    if isinstance(state, CocoState):
        keys = [int(c) for c in state.category_ids]
        units = coco.units_of(state)
        if isinstance(params, LvisParams):
            none = np.full(len(keys), -1)
            return units, lambda u, c: _drop(coco.lvis_replicates(
                state, params, none, u, c, keys), ("APr", "APc", "APf"))
        if isinstance(params, CocoParams):
            return units, lambda u, c: coco.coco_replicates(state, params, u, c, keys)
    if isinstance(state, PanopticState):
        isthing = np.zeros(len(state.category_ids), dtype=bool)
        units, fn = replicates.panoptic_replicates(state, isthing,
                                                   [int(c) for c in state.category_ids])
        return units, lambda u, c: _drop(fn(u, c), suffixes=("_th", "_st"))
    if isinstance(state, SemanticState) and isinstance(params, SemanticParams):
        return replicates.semantic_replicates(state, params, params.names())
    if isinstance(state, cs.CityscapesSemanticState):
        return replicates.cityscapes_semantic_replicates(state)
    if isinstance(state, inst.CityscapesInstanceState):
        return replicates.cityscapes_instance_replicates(state)
    raise ConfigError(f"no bootstrap for a {type(state).__name__} with"
                      f" {type(params).__name__}")


def _drop(reps: Replicates, keys: tuple[str, ...] = (), suffixes: tuple[str, ...] = ()
          ) -> Replicates:
    kept = {k: v for k, v in reps.metrics.items()
            if k not in keys and not (suffixes and k.endswith(suffixes))}
    return Replicates(kept, reps.per_class)
