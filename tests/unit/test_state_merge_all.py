"""``MergeableState.merge_all``: the fold of merges in one step, bit for bit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols.state import MergeableState, concatenated, same, summed


@dataclass(frozen=True, eq=False)
class _State(MergeableState):
    label: ClassVar[str] = "test"
    total: np.ndarray = summed()
    count: int = summed()
    scores: np.ndarray = concatenated()
    names: tuple[str, ...] = concatenated()
    axis: tuple[str, ...] = same()


def _state(rng: np.random.Generator, n: int, axis: tuple[str, ...] = ("a", "b")) -> _State:
    return _State(total=rng.normal(size=3), count=n, scores=rng.normal(size=n),
                  names=tuple(f"r{i}" for i in range(n)), axis=axis)


def test_merge_all_equals_the_fold_of_merges() -> None:
    rng = np.random.default_rng(0)
    empty = _state(rng, 0).identity()
    parts = [_state(rng, n) for n in (3, 0, 5, 1)]
    folded = empty
    for p in parts:
        folded = folded.merge(p)
    merged = empty.merge_all(parts)
    assert merged == folded
    assert np.array_equal(merged.total.view(np.int64), folded.total.view(np.int64))
    assert empty.merge_all([]) == empty


def test_merge_all_refuses_like_merge() -> None:
    rng = np.random.default_rng(1)
    a, b = _state(rng, 2), _state(rng, 2, axis=("a", "c"))
    with pytest.raises(ConfigError, match=r"cannot merge test states .*\(axis differs\)"):
        a.merge_all([a, b])
