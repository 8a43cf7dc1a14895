"""The Dask distributed executor: shards as tasks on a cluster, merged on the cluster.

Needs the optional ``[dask]`` extra; :func:`~benchmark_eval.workflows.pool.open_executor`
imports this module only when ``executor="dask"`` or a ``distributed.Client`` is asked for.

Per run the client sends the plan's context to every worker once (``scatter(...,
broadcast=True)``), then one task per shard carrying only the task function's name and the
shard's bounds. Shard states are merged by tasks on the cluster in shard order, pairwise as
a tree (``(s0+s1)+(s2+s3)``) when that gives the left fold's bits, else as a chain, and only
the merged state travels back to the client, where the plan finishes. See ``docs/scale.md``.

Faults: a worker that dies is the scheduler's business (its tasks rerun elsewhere, up to
``distributed.scheduler.allowed-failures`` times); a task that raises an unexpected error is
retried ``retries`` times. A shard's :class:`~benchmark_eval.errors.BenchmarkEvalError` (bad
input) is returned as a value, never retried, and re-raised on the client as the very error
of the first failing shard in shard order, which is the error a local run raises.
"""

from __future__ import annotations

__all__ = ["RETRIES", "DaskExecutor", "connect", "tree_is_exact"]

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from distributed import Client, Future, LocalCluster, as_completed

from benchmark_eval.errors import BenchmarkEvalError, ConfigError
from benchmark_eval.protocols.state import SUM, MergeableState
from benchmark_eval.workflows.pool import (
    CtxT,
    Executor,
    OutT,
    Progress,
    Shards,
    StateT,
    Task,
    cores,
    unknown_executor,
)

RETRIES = 2  # reruns of a shard or merge task that raised something other than our errors


@dataclass(frozen=True)
class _Raised:
    """A benchmark_eval error travelling as a task's value (pickled with its problems)."""

    error: BenchmarkEvalError


def _shard(task: Task[CtxT, OutT], context: CtxT, start: int, stop: int) -> OutT | _Raised:
    try:
        return task(context, start, stop)
    except BenchmarkEvalError as exc:
        return _Raised(exc)


def _merge(left: Any, right: Any) -> Any:
    """``left.merge(right)``; the left error first, as a left-to-right run meets it."""
    if isinstance(left, _Raised):
        return left
    if isinstance(right, _Raised):
        return right
    try:
        return left.merge(right)
    except BenchmarkEvalError as exc:
        return _Raised(exc)


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Raised):
        raise value.error
    return value


def tree_is_exact(state: Any) -> bool:
    """Whether merging states like ``state`` in a tree gives the left fold's bits: true for
    a :class:`~benchmark_eval.protocols.state.MergeableState` unless a summed field holds
    floats (float addition is not associative); false for a state of unknown rules."""
    if not isinstance(state, MergeableState):
        return False
    for name, rule in type(state)._rules():
        value = getattr(state, name)
        if rule == SUM and (isinstance(value, float) or (
                isinstance(value, np.ndarray) and value.dtype.kind in "fc")):
            return False
    return True


@dataclass(frozen=True, eq=False)
class DaskExecutor(Executor):
    """Shards as tasks of ``client``'s cluster (see the module docstring)."""

    client: Client
    retries: int = RETRIES

    @staticmethod
    def _key(what: str) -> str:
        return f"benchmark-eval-{what}-{uuid.uuid4().hex}"

    def _submit(self, task: Task[Any, Any], context: Any, shards: Shards) -> list[Future]:
        [shared] = self.client.scatter([context], broadcast=True, hash=False)
        return [self.client.submit(_shard, task, shared, a, b, key=self._key(f"shard-{i}"),
                                   retries=self.retries)
                for i, (a, b) in enumerate(shards)]

    def _merged(self, parts: list[Future], *, tree: bool) -> Future:
        level = list(parts)
        while len(level) > 1:
            if tree:  # neighbours pairwise: ((s0+s1)+(s2+s3))+s4
                pairs = [self.client.submit(_merge, level[i], level[i + 1],
                                            key=self._key("merge"), retries=self.retries)
                         for i in range(0, len(level) - 1, 2)]
                level = pairs + level[2 * len(pairs):]
            else:  # (((s0+s1)+s2)+s3)+s4, the local run's additions
                acc = level[0]
                for part in level[1:]:
                    acc = self.client.submit(_merge, acc, part, key=self._key("merge"),
                                             retries=self.retries)
                level = [acc]
        return level[0]

    @staticmethod
    def _completed(futures: list[Future], shards: Shards,
                   progress: Progress | None) -> Iterator[tuple[int, Future]]:
        """``(shard index, future)`` as shards complete, after ``progress``. Takes the
        futures over, so each shard's result is released once the caller drops it."""
        index = {f.key: i for i, f in enumerate(futures)}
        pending = as_completed(futures)
        futures.clear()
        n_items, done = shards[-1][1], 0
        for future in pending:
            i = index[future.key]
            done += shards[i][1] - shards[i][0]
            if progress is not None:
                progress(done, n_items)
            yield i, future

    def map(self, task: Task[CtxT, OutT], context: CtxT, shards: Shards, *,
            progress: Progress | None = None) -> Iterator[OutT]:
        """See :meth:`Executor.map`: results come back to the client in shard order."""
        if not shards:
            return
        futures = self._submit(task, context, shards)
        keep: list[Future | None] = list(futures)  # to cancel the rest on an early stop
        ready: dict[int, Future] = {}
        upto = 0
        try:
            for i, future in self._completed(futures, shards, progress):
                ready[i] = future
                while upto in ready:
                    yield _unwrap(ready.pop(upto).result())
                    keep[upto] = None
                    upto += 1
        finally:
            self.client.cancel([f for f in keep if f is not None])

    def reduce(self, task: Task[CtxT, StateT], context: CtxT, shards: Shards, empty: StateT,
               *, progress: Progress | None = None) -> StateT:
        """See :meth:`Executor.reduce`: merged on the cluster, only the result returns."""
        if not shards:
            return empty
        futures = self._submit(task, context, shards)
        root = self._merged(futures, tree=tree_is_exact(empty))
        for _ in self._completed(futures, shards, progress):
            pass
        merged: StateT = _unwrap(root.result())
        return empty.merge(merged)


@contextlib.contextmanager
def connect(executor: Any, *, scheduler: str | None, workers: int) -> Iterator[DaskExecutor]:
    """A :class:`DaskExecutor` on ``executor`` (a ``Client``), on the scheduler at
    ``scheduler``, or on a new ``LocalCluster`` of ``workers`` single-threaded processes
    (0 = all cores); clients and clusters opened here are closed at the end.

    Raises:
        ConfigError: Not a Client, both a Client and an address, or no scheduler there.
    """
    if isinstance(executor, Client):
        if scheduler is not None:
            raise ConfigError("give a distributed.Client or a scheduler address, not both")
        yield DaskExecutor(executor)
    elif executor != "dask":
        raise unknown_executor(executor)
    elif scheduler is not None:
        try:
            client = Client(scheduler)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}"
                              ) from exc
        with client:
            yield DaskExecutor(client)
    else:
        with LocalCluster(n_workers=cores(workers), threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield DaskExecutor(client)
