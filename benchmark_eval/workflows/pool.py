"""The one runner: shards of images over a fork-based process pool, merged in shard order.

Protocols stay pure: a workflow turns its inputs into a :class:`Plan` (a per-shard function,
its read-only context, the number of images, the empty state and how to finish), and
:func:`run_plan` runs the shards, merges their states and reports progress. With ``fork`` the
workers inherit the context from the parent, so nothing but shard bounds and the small
per-shard states are pickled. This is the only module that starts processes.
"""

from __future__ import annotations

__all__ = ["Plan", "cores", "fork_map", "run_plan", "run_shards", "serial_map", "shard_bounds"]

import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from benchmark_eval.protocols.state import MergeableState

CtxT = TypeVar("CtxT")
OutT = TypeVar("OutT")
StateT = TypeVar("StateT", bound=MergeableState)
ResultT = TypeVar("ResultT")
Task = Callable[[CtxT, int, int], OutT]
Progress = Callable[[int, int], None]


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


def run_shards(task: Task[CtxT, OutT], context: CtxT, n_items: int, *, shard_size: int,
               workers: int = 1, progress: Progress | None = None) -> Iterator[OutT]:
    """``task(context, start, stop)`` over ``n_items`` items in shards of ``shard_size``,
    results in shard order; ``progress(done, n_items)`` after each shard."""
    shards = shard_bounds(n_items, shard_size)
    for (_, stop), out in zip(shards, fork_map(task, context, shards, workers=workers),
                              strict=True):
        if progress is not None:
            progress(stop, n_items)
        yield out


@dataclass(frozen=True)
class Plan(Generic[CtxT, StateT, ResultT]):
    """A protocol run, ready for the runner.

    Attributes:
        task: ``task(context, start, stop) -> state`` of images ``[start, stop)``; a
            module-level function (it may run in another process).
        context: The task's read-only input (prepared GT and predictions, parameters).
        n_items: Images to evaluate.
        empty: The identity state the shard states merge into.
        finish: Turns the merged state into the protocol's result (compute + report).
        shard_size: Images per shard (load balance, progress granularity).
    """

    task: Task[CtxT, StateT]
    context: CtxT
    n_items: int
    empty: StateT
    finish: Callable[[StateT], ResultT]
    shard_size: int = 64

    def states(self, *, workers: int = 1, progress: Progress | None = None,
               shard_size: int | None = None) -> Iterator[StateT]:
        """The per-shard states, in shard order."""
        return run_shards(self.task, self.context, self.n_items,
                          shard_size=shard_size or self.shard_size, workers=workers,
                          progress=progress)

    def state(self, *, workers: int = 1, progress: Progress | None = None,
              shard_size: int | None = None) -> StateT:
        """Every shard's state merged, in shard order."""
        state = self.empty
        for part in self.states(workers=workers, progress=progress, shard_size=shard_size):
            state = state.merge(part)
        return state


def run_plan(plan: Plan[Any, StateT, ResultT], *, workers: int = 1,
             progress: Progress | None = None) -> ResultT:
    """Run every shard of ``plan``, merge the states in shard order and finish."""
    return plan.finish(plan.state(workers=workers, progress=progress))
