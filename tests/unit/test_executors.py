"""Executors of the one runner: the local fork pool and Dask distributed, same bits.

The Dask tests run on a real ``LocalCluster`` (two single-threaded worker processes), one per
module, started through the product's own ``executor="dask"`` path.
"""
# summed() / same() / concatenated() return dataclasses.field(...), which RUF009 cannot see

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from pydantic import BaseModel

from benchmark_eval.errors import ConfigError, ConsistencyError, FormatError, Problem
from benchmark_eval.protocols.state import MergeableState, concatenated, same, summed
from benchmark_eval.workflows import dask_executor  # the test extra pins dask[distributed]
from benchmark_eval.workflows.base import Workflow
from benchmark_eval.workflows.pool import Executor, Plan, open_executor, run_plan, run_shards

N_ITEMS = 103  # 13 shards of 8: an odd count, so the tree has a pass-through leaf
SHARD = 8


# --- synthetic protocols: one per merge rule --------------------------------------------------

@dataclass(frozen=True, eq=False)
class Counts(MergeableState):
    """Integer sums: a tree merge is exact."""

    label: ClassVar[str] = "counts"
    classes: np.ndarray = same()
    hits: np.ndarray = summed()
    images: int = summed()


@dataclass(frozen=True, eq=False)
class Records(MergeableState):
    """Concatenated per-record columns (COCO-like): a tree merge is exact."""

    label: ClassVar[str] = "records"
    score: np.ndarray = concatenated()
    image: np.ndarray = concatenated()
    names: tuple[str, ...] = concatenated()


@dataclass(frozen=True, eq=False)
class FloatSums(MergeableState):
    """Float sums (panoptic-like IoU sums): merged as a chain to keep the local bits."""

    label: ClassVar[str] = "floats"
    iou_sum: np.ndarray = summed()
    total: float = summed()


@dataclass(frozen=True)
class Context:
    values: np.ndarray  # (N_ITEMS, 4) floats of very different magnitudes
    kill_marker: str | None = None  # the first shard task to see it missing kills its process
    bad: tuple[int, ...] = ()  # items whose input is "bad"


def _context(**kwargs: Any) -> Context:
    rng = np.random.default_rng(12)
    values = rng.random((N_ITEMS, 4)) * 10.0 ** rng.integers(-3, 4, (N_ITEMS, 4))
    return Context(values, **kwargs)


def _check(context: Context, start: int, stop: int) -> None:
    if context.kill_marker is not None and not Path(context.kill_marker).exists():
        Path(context.kill_marker).write_text(str(os.getpid()))
        os._exit(1)  # the worker process dies mid-run, once
    for i in context.bad:
        if start <= i < stop:
            raise ConsistencyError(Problem("pred.json", f"unknown category on item {i}",
                                           record=i, field="annotations"))


def count_task(context: Context, start: int, stop: int) -> Counts:
    _check(context, start, stop)
    part = context.values[start:stop]
    return Counts(classes=np.arange(4), hits=(part > 0.5).sum(axis=0).astype(np.int64),
                  images=stop - start)


def record_task(context: Context, start: int, stop: int) -> Records:
    _check(context, start, stop)
    return Records(score=context.values[start:stop, 0].copy(),
                   image=np.arange(start, stop, dtype=np.int64),
                   names=tuple(f"img{i}" for i in range(start, stop)))


def float_task(context: Context, start: int, stop: int) -> FloatSums:
    _check(context, start, stop)
    part = context.values[start:stop]
    return FloatSums(iou_sum=part.sum(axis=0), total=float(part[:, 1].sum()))


def bounds_task(context: Context, start: int, stop: int) -> tuple[int, int, int]:
    _check(context, start, stop)
    return start, stop, os.getpid()


def _finish(state: MergeableState) -> dict[str, Any]:
    if isinstance(state, Counts):
        return {"rate": (state.hits / state.images).tolist()}
    if isinstance(state, Records):
        order = np.argsort(-state.score, kind="mergesort")
        return {"top": [state.names[i] for i in order[:5]], "mean": float(state.score.mean())}
    assert isinstance(state, FloatSums)
    return {"mean": (state.iou_sum / N_ITEMS).tolist(), "total": state.total}


EMPTY: dict[Any, MergeableState] = {
    count_task: Counts(classes=np.arange(4), hits=np.zeros(4, np.int64), images=0),
    record_task: Records(score=np.zeros(0), image=np.zeros(0, np.int64), names=()),
    float_task: FloatSums(iou_sum=np.zeros(4), total=0.0),
}
TASKS = [count_task, record_task, float_task]


def _plan(task: Any, context: Context | None = None, n_items: int = N_ITEMS) -> Plan[Any, Any, Any]:
    return Plan(task, context or _context(), n_items, EMPTY[task], _finish, SHARD)


def _same_bits(a: MergeableState, b: MergeableState) -> None:
    assert a == b
    for name, _ in type(a)._rules():
        x, y = getattr(a, name), getattr(b, name)
        assert type(x) is type(y)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype
            assert x.tobytes() == y.tobytes()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Executor]:
    with open_executor("dask", workers=2) as ex:
        yield ex


# --- equality with the local run --------------------------------------------------------------

@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_dask_state_and_result_equal_the_local_run(cluster: Any, task: Any) -> None:
    plan = _plan(task)
    local = plan.state()
    _same_bits(plan.state(executor=cluster.client), local)
    _same_bits(plan.state(executor=cluster.client), plan.state(workers=2))
    assert run_plan(plan, executor=cluster) == run_plan(plan)


@pytest.mark.parametrize("n_items", [0, 1, SHARD, SHARD + 1])
def test_edge_shard_counts(cluster: Any, n_items: int) -> None:
    plan = _plan(record_task, n_items=n_items)
    _same_bits(plan.state(executor=cluster), plan.state())


def test_tree_merge_only_where_exact() -> None:
    assert dask_executor.tree_is_exact(EMPTY[count_task])
    assert dask_executor.tree_is_exact(EMPTY[record_task])
    assert not dask_executor.tree_is_exact(EMPTY[float_task])
    assert not dask_executor.tree_is_exact(object())  # unknown merge rules: a chain
    # why: on this data a pairwise tree of float sums differs from the left fold
    context = _context()
    parts = [float_task(context, a, min(a + SHARD, N_ITEMS)) for a in range(0, N_ITEMS, SHARD)]
    fold = parts[0]
    for p in parts[1:]:
        fold = fold.merge(p)
    level = parts
    while len(level) > 1:
        level = [level[i].merge(level[i + 1]) for i in range(0, len(level) - 1, 2)] + (
            level[-1:] if len(level) % 2 else [])
    assert not np.array_equal(level[0].iou_sum, fold.iou_sum)


def test_run_shards_in_shard_order_with_progress(cluster: Any) -> None:
    seen: list[tuple[int, int]] = []
    out = list(run_shards(bounds_task, _context(), N_ITEMS, shard_size=SHARD,
                          executor=cluster, progress=lambda d, n: seen.append((d, n))))
    assert [(a, b) for a, b, _ in out] == list(zip(range(0, N_ITEMS, SHARD),
                                                   [*range(SHARD, N_ITEMS, SHARD), N_ITEMS],
                                                   strict=True))
    assert os.getpid() not in {pid for _, _, pid in out}  # ran on the workers
    assert len(seen) == len(out)
    assert seen[-1] == (N_ITEMS, N_ITEMS)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_progress_of_a_merged_run(cluster: Any) -> None:
    seen: list[int] = []
    _plan(count_task).state(executor=cluster, progress=lambda d, n: seen.append(d))
    assert len(seen) == 13
    assert seen[-1] == N_ITEMS


def test_scheduler_address_connects(cluster: Any) -> None:
    address = cluster.client.scheduler.address
    plan = _plan(count_task)
    assert run_plan(plan, executor="dask", scheduler=address) == run_plan(plan)
    assert run_plan(plan, scheduler=address) == run_plan(plan)  # an address implies Dask


# --- faults ------------------------------------------------------------------------------------

def test_a_worker_killed_mid_run_costs_only_its_shard(cluster: Any, tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    expected = _plan(record_task).state()
    plan = _plan(record_task, _context(kill_marker=str(marker)))
    _same_bits(plan.state(executor=cluster), expected)
    assert marker.exists()  # a worker did die
    assert int(marker.read_text()) != os.getpid()
    cluster.client.wait_for_workers(2, timeout=30)


@pytest.mark.parametrize("task", [count_task, bounds_task], ids=["merged", "in-order"])
def test_bad_input_raises_the_local_error(cluster: Any, task: Any) -> None:
    context = _context(bad=(90, 50))  # two bad shards: the first in shard order wins

    def run(executor: Any) -> Any:
        if task is bounds_task:
            return list(run_shards(task, context, N_ITEMS, shard_size=SHARD,
                                   executor=executor))
        return Plan(task, context, N_ITEMS, EMPTY[task], _finish, SHARD).state(
            executor=executor)

    with pytest.raises(ConsistencyError) as local:
        run("local")
    with pytest.raises(ConsistencyError) as remote:
        run(cluster)
    assert type(remote.value) is ConsistencyError
    assert remote.value.problems == local.value.problems
    assert str(remote.value) == str(local.value)
    assert remote.value.problems[0].record == 50


def test_states_that_do_not_merge_raise_the_local_error(cluster: Any) -> None:
    def odd_classes(context: Context, start: int, stop: int) -> Counts:
        return Counts(classes=np.arange(4 + (start == SHARD)), hits=np.zeros(4, np.int64),
                      images=1)

    with pytest.raises(ConfigError, match="counts states") as local:
        run_plan(Plan(odd_classes, _context(), N_ITEMS, EMPTY[count_task], _finish, SHARD))
    with pytest.raises(ConfigError) as remote:
        run_plan(Plan(odd_classes, _context(), N_ITEMS, EMPTY[count_task], _finish, SHARD),
                 executor=cluster)
    assert str(remote.value) == str(local.value)


# --- choosing an executor ----------------------------------------------------------------------

def test_executor_choice_errors() -> None:
    plan = _plan(count_task)
    with pytest.raises(ConfigError, match="needs executor='dask'"):
        run_plan(plan, executor="local", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match="unknown executor 'ray'"):
        run_plan(plan, executor="ray")
    with pytest.raises(ConfigError, match="unknown executor 3"):
        run_plan(plan, executor=3)


def test_unreachable_scheduler_is_a_config_error() -> None:
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}), \
            pytest.raises(ConfigError, match="cannot reach the Dask scheduler"):
        run_plan(_plan(count_task), executor="dask", scheduler="tcp://127.0.0.1:1")


class _Params(BaseModel):
    bad_item: int = -1


def _workflow_plan(params: _Params, *, gt: Any, pred: Any, workers: int,
                   **options: Any) -> Plan[Any, Any, Any]:
    bad = () if params.bad_item < 0 else (params.bad_item,)
    return Plan(count_task, _context(bad=bad), N_ITEMS, EMPTY[count_task], _finish, SHARD)


def _workflow_check(params: _Params, *, gt: Any, pred: Any, workers: int,
                    **options: Any) -> list[Problem]:
    pids = {pid for _, _, pid in run_shards(bounds_task, _context(), N_ITEMS,
                                            shard_size=SHARD, workers=workers)}
    return [Problem("<pred>", "ran here" if pids == {os.getpid()} else "ran elsewhere")]


WORKFLOW = Workflow(name="synthetic", summary="test", params_model=_Params,
                    plan=_workflow_plan, check=_workflow_check,
                    add_arguments=lambda parser, evaluate: None,
                    cli_options=lambda args, evaluate: {}, state_type=Counts,
                    metric_keys=("rate",))


def test_workflow_evaluate_and_validate_take_an_executor(cluster: Any) -> None:
    local = WORKFLOW.evaluate(gt=None, pred=None)
    assert WORKFLOW.evaluate(gt=None, pred=None, executor=cluster.client) == local
    with pytest.raises(ConsistencyError, match="item 7"):
        WORKFLOW.evaluate(gt=None, pred=None, executor=cluster.client, bad_item=7)
    assert WORKFLOW.validate(gt=None, pred=None)[0].message == "ran here"
    address = cluster.client.scheduler.address
    assert WORKFLOW.validate(gt=None, pred=None, executor="dask",
                             scheduler=address)[0].message == "ran elsewhere"


def test_errors_pickle_with_their_problems() -> None:
    import pickle

    err = FormatError([Problem("a.json", "bad", record=3, field="images"),
                       Problem("a.json", "worse")])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is FormatError
    assert back.problems == err.problems
    assert str(back) == str(err)


def test_the_local_path_never_imports_dask() -> None:
    code = textwrap.dedent("""
        import sys
        from dataclasses import dataclass
        import numpy as np
        import benchmark_eval
        from benchmark_eval.protocols.state import MergeableState, summed
        from benchmark_eval.workflows.pool import Plan, run_plan

        @dataclass(frozen=True, eq=False)
        class S(MergeableState):
            n: np.ndarray = summed()

        def task(ctx, a, b):
            return S(np.array([b - a]))

        plan = Plan(task, None, 50, S(np.zeros(1, int)), lambda s: int(s.n[0]), 7)
        assert run_plan(plan) == run_plan(plan, workers=2) == 50
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
        print(loaded)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
