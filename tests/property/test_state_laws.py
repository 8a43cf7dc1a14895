"""The state laws, checked once over the whole registry (issue 13's shared tester).

For every protocol, on its ``data_samples/`` inputs: k shards merged equal one run; the
shard order does not change the result; the empty state is the identity; merge is
associative; save / load and pickle round-trip; the plan's result equals ``evaluate``'s. A
new protocol gets these checks by adding one line to :data:`SAMPLES` (the first test fails
until it does).
"""

from __future__ import annotations

import dataclasses
import functools
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from keypoints_generators import crowdpose_case

from benchmark_eval.protocols.state import MergeableState
from benchmark_eval.workflows import WORKFLOWS, Workflow

DATA = Path(__file__).resolve().parents[2] / "data_samples"
COCO, LVIS, PAN, SEM = DATA / "coco", DATA / "lvis", DATA / "panoptic", DATA / "semantic"
CS = DATA / "cityscapes"
KP = DATA / "coco_keypoints"
_CROWDPOSE_GT, _CROWDPOSE_PRED = crowdpose_case(0)  # seeded; no CrowdPose sample ships
_COCO = {"gt": COCO / "instances.json", "pred": COCO / "results_segm.json"}
_PAN = {"gt": PAN / "gt.json", "pred": PAN / "pred.json"}
SAMPLES: dict[str, dict[str, Any]] = {
    "coco-bbox": {"gt": COCO / "instances.json", "pred": COCO / "results_bbox.json"},
    "coco-segm": _COCO,
    "coco-boundary": _COCO,
    "coco-keypoints": {"gt": KP / "person_keypoints.json", "pred": KP / "results_keypoints.json"},
    "crowdpose": {"gt": _CROWDPOSE_GT, "pred": _CROWDPOSE_PRED},
    "lvis-bbox": {"gt": LVIS / "annotations.json", "pred": LVIS / "results_bbox.json"},
    "lvis-segm": {"gt": LVIS / "annotations.json", "pred": LVIS / "results_segm.json"},
    "semantic": {"gt": SEM / "gt", "pred": SEM / "pred", "params": SEM / "params.json"},
    "semantic-binary": {"gt": SEM / "binary_gt", "pred": SEM / "binary_pred",
                        "dice_averaging": "per-image"},
    "coco-panoptic": _PAN,
    "coco-panoptic-boundary": _PAN,
    "cityscapes-semantic": {"gt": CS / "gtFine", "pred": CS / "results" / "semantic"},
    "cityscapes-instance": {"gt": CS / "gtFine", "pred": CS / "results" / "instance"},
    "cityscapes-panoptic": {"gt": CS / "gtFine" / "cityscapes_panoptic_val.json",
                            "pred": CS / "results" / "panoptic.json"},
}
PROTOCOLS = sorted(WORKFLOWS)


def test_every_protocol_has_a_sample_and_follows_the_contract() -> None:
    assert sorted(SAMPLES) == PROTOCOLS
    for w in WORKFLOWS.values():
        assert isinstance(w, Workflow), w.name
        assert issubclass(w.state_type, MergeableState), w.name
        assert w.metric_keys, w.name


@functools.cache
def _plan(protocol: str) -> Any:
    w = WORKFLOWS[protocol]
    assert isinstance(w, Workflow)
    options = dict(SAMPLES[protocol])
    fields = w.params_model.model_fields
    overrides = {k: options.pop(k) for k in list(options) if k in fields}
    params = w.params(options.pop("params", None), **overrides)
    return w.plan(params, workers=1, **options)


def _close(a: MergeableState, b: MergeableState) -> bool:
    """Equal, float fields to 1e-12 (float sums may differ in the last bit by grouping)."""
    assert type(a) is type(b)
    for f in dataclasses.fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            if x.shape != y.shape or not np.allclose(x, y, rtol=1e-12, atol=1e-12):
                return False
        elif not (np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y):
            return False
    return True


def _metrics_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def same(x: Any, y: Any) -> bool:
        if x is None or y is None or isinstance(x, str):
            return x == y
        return bool(np.isclose(x, y, rtol=1e-12, atol=1e-12, equal_nan=True))
    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _shards(protocol: str) -> list[MergeableState]:
    parts = list(_plan(protocol).states(shard_size=1))
    assert len(parts) >= 2, "the sample must span at least two images"
    return parts


def test_k_shards_equal_one_run(protocol: str) -> None:
    plan = _plan(protocol)
    one = plan.state(shard_size=max(plan.n_items, 1))
    merged = functools.reduce(lambda s, t: s.merge(t), _shards(protocol), plan.empty)
    assert _close(merged, one)


def test_shard_order_does_not_change_the_result(protocol: str) -> None:
    plan = _plan(protocol)
    forward = plan.finish(plan.state(shard_size=1))
    backward = functools.reduce(lambda s, t: s.merge(t), reversed(_shards(protocol)),
                                plan.empty)
    assert _metrics_equal(plan.finish(backward).metrics, forward.metrics)


def test_empty_is_the_identity_and_merge_associates(protocol: str) -> None:
    plan = _plan(protocol)
    parts = _shards(protocol)
    a = parts[0]
    b = functools.reduce(lambda s, t: s.merge(t), parts[1:-1], plan.empty)
    c = parts[-1]
    assert a.merge(a.identity()) == a
    assert plan.empty.merge(a) == a
    assert _close(a.merge(b).merge(c), a.merge(b.merge(c)))


def test_save_load_and_pickle_round_trip(protocol: str, tmp_path: Path) -> None:
    state = _plan(protocol).state()
    state.save(tmp_path / "state.npz")
    assert type(state).load(tmp_path / "state.npz") == state
    assert pickle.loads(pickle.dumps(state)) == state


def test_plan_result_equals_evaluate(protocol: str) -> None:
    plan = _plan(protocol)
    result = plan.finish(plan.state())
    options = dict(SAMPLES[protocol])
    api = WORKFLOWS[protocol].evaluate(workers=1, **options)
    assert _metrics_equal(api.metrics, result.metrics)
    assert api.state == result.state  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def cluster() -> Any:
    """One real Dask LocalCluster (2 worker processes) for the module (issue 12)."""
    from benchmark_eval.workflows.pool import open_executor

    with open_executor("dask", workers=2) as ex:
        yield ex


def _report(result: Any) -> dict[str, Any]:
    report = result.to_report()
    report.pop("versions", None)
    return report


def test_a_dask_run_equals_the_local_run(protocol: str, cluster: Any) -> None:
    """Per protocol: the same state and the same JSON report (``metrics``, ``per_class``,
    warnings, counts) from shards run on the cluster as from the local run."""
    plan = _plan(protocol)
    local = plan.finish(plan.state(shard_size=1))
    remote = plan.finish(plan.state(shard_size=1, executor=cluster.client))
    assert remote.state == local.state
    assert _report(remote) == _report(local)
    api = WORKFLOWS[protocol].evaluate(workers=1, executor=cluster.client,
                                       **dict(SAMPLES[protocol]))
    assert _metrics_equal(api.metrics, local.metrics)
