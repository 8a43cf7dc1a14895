"""Shards of images over a fork-based process pool: the one place that starts processes.

Protocols stay pure: they expose a per-shard function and merge shard states; the
workflows decide how the shards run. With ``fork`` the workers inherit the (read-only) inputs
from the parent, so nothing but shard bounds and the small per-shard states are pickled.
"""

from __future__ import annotations

__all__ = ["cores", "fork_map", "serial_map", "shard_bounds"]

import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

CtxT = TypeVar("CtxT")
OutT = TypeVar("OutT")
Task = Callable[[CtxT, int, int], OutT]


def cores(workers: int) -> int:
    """``workers``, with 0 (or less) meaning every core."""
    return (os.cpu_count() or 1) if workers <= 0 else workers


def shard_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """``[(0, size), (size, 2 size), ..., (.., n)]``; empty for ``n == 0``."""
    return list(itertools.pairwise([*range(0, n, size), n]))


def serial_map(task: Task[CtxT, OutT], context: CtxT, shards: Sequence[tuple[int, int]]
               ) -> Iterator[OutT]:
    """``task(context, a, b)`` for every shard, in this process, in order."""
    return (task(context, a, b) for a, b in shards)


_JOB: tuple[Callable[..., Any], Any] | None = None


def _run(bounds: tuple[int, int]) -> Any:
    assert _JOB is not None, "fork_map's job is set before the pool forks"
    task, context = _JOB
    return task(context, *bounds)


def fork_map(task: Task[CtxT, OutT], context: CtxT, shards: Sequence[tuple[int, int]], *,
             workers: int) -> Iterator[OutT]:
    """``task(context, a, b)`` for every shard in up to ``workers`` forked processes
    (0 = all cores), results yielded in shard order; in this process when one worker
    or one shard suffices, or where ``fork`` is not available."""
    n_proc = min(cores(workers), len(shards))
    if n_proc <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from serial_map(task, context, shards)
        return
    global _JOB
    _JOB = (task, context)  # inherited by the forked workers
    pool = multiprocessing.get_context("fork").Pool(n_proc)
    try:
        yield from pool.imap(_run, shards)
    finally:
        pool.terminate()
        pool.join()
        _JOB = None
