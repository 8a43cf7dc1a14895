"""The one runner: shards of images on an executor, merged in shard order.

Protocols stay pure: a workflow turns its inputs into a :class:`Plan` (a per-shard function,
its read-only context, the number of images, the empty state and how to finish), and
:func:`run_plan` runs the shards on an executor, merges their states and reports progress.

Executors (``executor=``):

* ``"local"`` (default): a fork-based process pool on this machine. The workers inherit the
  context from the parent, so nothing but shard bounds and the small per-shard states are
  pickled; states are folded left to right in this process.
* ``"dask"``, ``scheduler="tcp://..."`` or a ``distributed.Client``: Dask distributed
  (:mod:`benchmark_eval.workflows.dask_executor`, the optional ``[dask]`` extra). The context
  is scattered to the workers once, states are merged on the cluster in shard order, and only
  the merged state comes back. Imported only when asked for.

This module and :mod:`~benchmark_eval.workflows.dask_executor` are the only ones that start
processes.
"""

from __future__ import annotations

__all__ = [
    "Executor",
    "LocalExecutor",
    "Plan",
    "cores",
    "fork_map",
    "open_executor",
    "read_both",
    "run_plan",
    "run_shards",
    "serial_map",
    "shard_bounds",
    "unknown_executor",
    "use_executor",
]

import contextlib
import contextvars
import itertools
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols.state import MergeableState

CtxT = TypeVar("CtxT")
OutT = TypeVar("OutT")
StateT = TypeVar("StateT", bound=MergeableState)
ResultT = TypeVar("ResultT")
Task = Callable[[CtxT, int, int], OutT]
Progress = Callable[[int, int], None]
Shards = Sequence[tuple[int, int]]


def cores(workers: int) -> int:
    """``workers``, with 0 (or less) meaning every core."""
    return (os.cpu_count() or 1) if workers <= 0 else workers


def shard_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """``[(0, size), (size, 2 size), ..., (.., n)]``; empty for ``n == 0``."""
    return list(itertools.pairwise([*range(0, n, size), n]))


def serial_map(task: Task[CtxT, OutT], context: CtxT, shards: Shards) -> Iterator[OutT]:
    """``task(context, a, b)`` for every shard, in this process, in order."""
    return (task(context, a, b) for a, b in shards)


_JOB: tuple[Callable[..., Any], Any] | None = None


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which terminates them (no worker tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(bounds: tuple[int, int]) -> Any:
    assert _JOB is not None, "fork_map's job is set before the pool forks"
    task, context = _JOB
    return task(context, *bounds)


def fork_map(task: Task[CtxT, OutT], context: CtxT, shards: Shards, *,
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
    pool = multiprocessing.get_context("fork").Pool(n_proc, initializer=_ignore_sigint)
    try:
        yield from pool.imap(_run, shards)
    finally:
        pool.terminate()
        pool.join()
        _JOB = None


class Executor:
    """Where shards run. Subclasses implement :meth:`map`; :meth:`reduce` defaults to a
    left fold of :meth:`map` in this process."""

    def map(self, task: Task[CtxT, OutT], context: CtxT, shards: Shards, *,
            progress: Progress | None = None) -> Iterator[OutT]:
        """``task(context, a, b)`` of every shard, yielded in shard order;
        ``progress(items done, items)`` as shards complete."""
        raise NotImplementedError

    def reduce(self, task: Task[CtxT, StateT], context: CtxT, shards: Shards, empty: StateT,
               *, progress: Progress | None = None) -> StateT:
        """``empty`` merged with every shard's state, in shard order (in one step:
        :meth:`~benchmark_eval.protocols.state.MergeableState.merge_all`)."""
        return empty.merge_all(self.map(task, context, shards, progress=progress))


@dataclass(frozen=True)
class LocalExecutor(Executor):
    """The fork pool of :func:`fork_map` with ``workers`` processes (0 = all cores)."""

    workers: int = 1

    def map(self, task: Task[CtxT, OutT], context: CtxT, shards: Shards, *,
            progress: Progress | None = None) -> Iterator[OutT]:
        """See :meth:`Executor.map`; shards complete in shard order here."""
        n_items = shards[-1][1] if shards else 0
        for (_, stop), out in zip(shards, fork_map(task, context, shards,
                                                   workers=self.workers), strict=True):
            if progress is not None:
                progress(stop, n_items)
            yield out


_ACTIVE: contextvars.ContextVar[Executor | None] = contextvars.ContextVar(
    "benchmark_eval_executor", default=None)


@contextlib.contextmanager
def open_executor(executor: Any = "local", *, scheduler: str | None = None,
                  workers: int = 1) -> Iterator[Executor]:
    """The executor named by ``executor``, open for the duration of the block.

    Args:
        executor: ``"local"``, ``"dask"``, a ``distributed.Client`` or an :class:`Executor`.
        scheduler: With ``"dask"``: the scheduler's address (``"tcp://host:8786"``); without
            one a ``LocalCluster`` of ``workers`` processes (0 = all cores) is started and
            closed at the end.
        workers: Local processes (``"local"``, or the size of a new ``LocalCluster``).

    Raises:
        ConfigError: Unknown executor, ``scheduler`` without Dask, or Dask not installed.
    """
    if isinstance(executor, Executor):
        yield executor
    elif executor == "local":
        if scheduler is not None:
            raise ConfigError("a scheduler address needs executor='dask'")
        yield LocalExecutor(workers)
    elif executor == "dask" or not isinstance(executor, str):
        try:
            from benchmark_eval.workflows import dask_executor
        except ImportError as exc:
            raise ConfigError("executor='dask' needs Dask distributed: pip install"
                              f" 'benchmark-eval[dask]' ({exc})") from exc
        with dask_executor.connect(executor, scheduler=scheduler, workers=workers) as ex:
            yield ex
    else:
        raise unknown_executor(executor)


def unknown_executor(executor: Any) -> ConfigError:
    """The error for an ``executor=`` that names none."""
    return ConfigError(f"unknown executor {executor!r}: expected 'local', 'dask' or a"
                       " distributed.Client")


@contextlib.contextmanager
def use_executor(executor: Any = "local", *, scheduler: str | None = None,
                 workers: int = 1) -> Iterator[Executor | None]:
    """Open ``executor`` (see :func:`open_executor`) and make it the default of every
    :func:`run_shards` call in the block that names none (``validate`` paths). The local
    default opens nothing."""
    if executor == "local" and scheduler is None:
        yield None
        return
    with open_executor(executor, scheduler=scheduler, workers=workers) as ex:
        token = _ACTIVE.set(ex)
        try:
            yield ex
        finally:
            _ACTIVE.reset(token)


def _chosen(executor: Any, scheduler: str | None) -> Any:
    """``executor``; if None, the enclosing :func:`use_executor`'s, else Dask when a
    scheduler is named, else local."""
    if executor is not None:
        return executor
    active = _ACTIVE.get()
    if active is not None and scheduler is None:
        return active
    return "local" if scheduler is None else "dask"


def run_shards(task: Task[CtxT, OutT], context: CtxT, n_items: int, *, shard_size: int,
               workers: int = 1, progress: Progress | None = None, executor: Any = None,
               scheduler: str | None = None) -> Iterator[OutT]:
    """``task(context, start, stop)`` over ``n_items`` items in shards of ``shard_size``,
    results in shard order; ``progress(done, n_items)`` as shards complete.

    ``executor`` / ``scheduler``: see :func:`open_executor`; by default the one of an
    enclosing :func:`use_executor`, else the local pool of ``workers`` processes.
    """
    shards = shard_bounds(n_items, shard_size)
    with open_executor(_chosen(executor, scheduler), scheduler=scheduler,
                       workers=workers) as ex:
        yield from ex.map(task, context, shards, progress=progress)


@dataclass(frozen=True)
class Plan(Generic[CtxT, StateT, ResultT]):
    """A protocol run, ready for the runner.

    Attributes:
        task: ``task(context, start, stop) -> state`` of images ``[start, stop)``; a
            module-level function (it may run in another process or on another machine).
        context: The task's read-only input (prepared GT and predictions, parameters);
            picklable, as a Dask executor sends it to its workers once.
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
               shard_size: int | None = None, executor: Any = None,
               scheduler: str | None = None) -> Iterator[StateT]:
        """The per-shard states, in shard order."""
        return run_shards(self.task, self.context, self.n_items,
                          shard_size=shard_size or self.shard_size, workers=workers,
                          progress=progress, executor=executor, scheduler=scheduler)

    def state(self, *, workers: int = 1, progress: Progress | None = None,
              shard_size: int | None = None, executor: Any = None,
              scheduler: str | None = None) -> StateT:
        """Every shard's state merged, in shard order (on the executor)."""
        shards = shard_bounds(self.n_items, shard_size or self.shard_size)
        with open_executor(_chosen(executor, scheduler), scheduler=scheduler,
                           workers=workers) as ex:
            return ex.reduce(self.task, self.context, shards, self.empty, progress=progress)


def run_plan(plan: Plan[Any, StateT, ResultT], *, workers: int = 1,
             progress: Progress | None = None, executor: Any = None,
             scheduler: str | None = None) -> ResultT:
    """Run every shard of ``plan`` on ``executor`` (see :func:`open_executor`), merge the
    states in shard order and finish here."""
    return plan.finish(plan.state(workers=workers, progress=progress, executor=executor,
                                  scheduler=scheduler))


GtT = TypeVar("GtT")
PredT = TypeVar("PredT")


def read_both(load_gt: Callable[[], GtT], read_pred: Callable[[], PredT], *,
              workers: int) -> tuple[GtT, PredT]:
    """Run ``load_gt`` and ``read_pred`` — independent until predictions are checked
    against the GT — in two processes when ``workers != 1`` (fork; the GT comes back
    pickled, the predictions stay in this process), else one after the other.

    GT problems are reported first: if both fail, the GT's error is raised.
    """
    if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return load_gt(), read_pred()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                             initializer=_ignore_sigint) as ex:
        future: Future[GtT] = ex.submit(_call, load_gt)
        try:
            pred = read_pred()
        finally:
            gt = future.result()
    return gt, pred


def _call(fn: Callable[[], GtT]) -> GtT:  # module-level: it crosses the fork
    return fn()
