"""Percentile bootstrap confidence intervals over images, for every protocol.

The images of a run are the sampling unit: a replicate draws ``n`` images with replacement
out of the ``n`` evaluated (multinomial counts, :func:`draw_counts`) and recomputes every
headline number from the state's per-image statistics (:mod:`~benchmark_eval.stats.
replicates`, :mod:`~benchmark_eval.stats.coco`); the interval is the percentile interval of
the replicates (Efron & Tibshirani 1993, ch. 13). The method and its references are in
``docs/statistics.md``.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_RESAMPLES",
    "Bootstrap",
    "bootstrap",
    "draw_counts",
    "interval",
    "replicates_of",
]

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError
from benchmark_eval.report.cityscapes import CityscapesInstanceResult, CityscapesSemanticResult
from benchmark_eval.report.coco import CocoResult
from benchmark_eval.report.coco_keypoints import CrowdPoseResult, KeypointsResult
from benchmark_eval.report.lvis import LvisResult
from benchmark_eval.report.panoptic import PanopticResult
from benchmark_eval.report.semantic import SemanticResult
from benchmark_eval.stats import coco, replicates
from benchmark_eval.stats.replicates import ReplicateFn, Replicates, Units

DEFAULT_RESAMPLES = 1000
_DRAW_BLOCK = 4_000_000  # image draws per block


def draw_counts(units: Units, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(resamples, len(units.keys))`` int64: how often each image is drawn when
    ``units.n_images`` images are drawn uniformly with replacement (images without
    statistics take their share of the draws and are then dropped)."""
    n, known = units.n_images, len(units.keys)
    out = np.zeros((resamples, known), dtype=np.int64)
    step = max(1, _DRAW_BLOCK // max(n, 1))
    for lo in range(0, resamples, step):
        b = min(step, resamples - lo)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        out[lo:lo + b] = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n)[:, :known]
    return out


def replicates_of(result: Any) -> tuple[Units, ReplicateFn]:
    """The images of a result's run and its replicate function (by protocol family).

    Raises:
        ConfigError: A result type without a bootstrap.
    """
    state = result.state
    if isinstance(result, CrowdPoseResult):  # its splits are rounded image-level means
        raise ConfigError("no bootstrap for crowdpose yet: its easy / medium / hard AP are"
                          " faster-coco-eval's rounded per-split means")
    if isinstance(result, KeypointsResult):
        keys = list(result.per_class)
        return coco.units_of(state), lambda u, c: coco.keypoints_replicates(
            state, result.params, u, c, keys)
    if isinstance(result, CocoResult):
        keys = list(result.per_class)
        return coco.units_of(state), lambda u, c: coco.coco_replicates(
            state, result.params, u, c, keys)
    if isinstance(result, LvisResult):
        keys = list(result.per_class)
        return coco.units_of(state), lambda u, c: coco.lvis_replicates(
            state, result.params, result.frequency, u, c, keys)
    if isinstance(result, PanopticResult):
        return replicates.panoptic_replicates(state, np.array(result.isthing, dtype=bool),
                                              list(result.per_class))
    if isinstance(result, SemanticResult):
        return replicates.semantic_replicates(state, result.params, list(result.per_class))
    if isinstance(result, CityscapesSemanticResult):
        return replicates.cityscapes_semantic_replicates(state)
    if isinstance(result, CityscapesInstanceResult):
        return replicates.cityscapes_instance_replicates(state)
    raise ConfigError(f"no bootstrap for {type(result).__name__}")


def interval(values: np.ndarray, level: float) -> list[float] | None:
    """The percentile interval ``[low, high]`` of the defined replicates (None when no
    replicate is defined)."""
    v = values[~np.isnan(values)]
    if not len(v):
        return None
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(v, [tail, 100 - tail])
    return [float(low), float(high)]


def _check(level: float, resamples: int) -> None:
    if not 0 < level < 1:
        raise ConfigError(f"the confidence level must be in (0, 1), got {level}")
    if resamples < 1:
        raise ConfigError(f"resamples must be at least 1, got {resamples}")


@dataclass(frozen=True)
class Bootstrap:
    """Bootstrap replicates of one result and their intervals.

    Attributes:
        level: Confidence level, e.g. 0.95.
        resamples: Number of replicates.
        seed: Seed of the draws.
        n_images: Images resampled.
        replicates: The replicates' numbers.
        ci: Headline metric -> ``[low, high]`` (None where never defined).
        per_class_ci: Class -> metric -> ``[low, high]`` or None.
    """

    level: float
    resamples: int
    seed: int
    n_images: int
    replicates: Replicates
    ci: dict[str, list[float] | None]
    per_class_ci: dict[Any, dict[str, list[float] | None]]


def bootstrap(result: Any, *, ci: float = 0.95, resamples: int = DEFAULT_RESAMPLES,
              seed: int = 0) -> Bootstrap:
    """Percentile bootstrap intervals over images of every headline and per-class number
    of ``result`` (any protocol's result, from its ``.state``).

    Args:
        result: A result returned by :func:`benchmark_eval.evaluate`.
        ci: Confidence level.
        resamples: Number of bootstrap replicates.
        seed: Seed of the image draws (same seed, same intervals).

    Raises:
        ConfigError: ``ci`` outside (0, 1), ``resamples`` < 1, or a state without
            per-image statistics.
    """
    _check(ci, resamples)
    units, replicate = replicates_of(result)
    counts = draw_counts(units, resamples, np.random.default_rng(seed))
    reps = replicate(units, counts)
    keys = [k for k in reps.metrics if k in result.metrics]
    return Bootstrap(
        level=ci, resamples=resamples, seed=seed, n_images=units.n_images, replicates=reps,
        ci={k: interval(reps.metrics[k], ci) for k in keys},
        per_class_ci={c: {k: interval(v, ci) for k, v in vals.items()}
                      for c, vals in reps.per_class.items()})
