"""State laws of ``coco-keypoints`` / ``crowdpose`` (there is no shared state-law tester on
this branch): k shards merged in any order = one run, 2 workers = 1, ``load(save(x)) == x``,
perfect keypoints score AP 1 (as pycocotools' 1 - 2**-52), and ``evaluate`` leaves its
inputs alone."""

from __future__ import annotations

import copy
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import benchmark_eval
from benchmark_eval.protocols.coco_accumulate import accumulate
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.workflows import WORKFLOWS, Workflow, coco_keypoints
from benchmark_eval.workflows.pool import Plan

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "parity"))  # the generators
from keypoints_generators import crowdpose_case, make_keypoint_case

pytestmark = pytest.mark.filterwarnings("ignore::benchmark_eval.errors.BenchmarkEvalWarning")


def _plan(protocol: str, seed: int) -> Plan[Any, Any, Any]:
    gt, res = crowdpose_case(seed) if protocol == "crowdpose" else make_keypoint_case(
        "mixed", seed)
    wf = WORKFLOWS[protocol]
    assert isinstance(wf, Workflow)
    return wf.plan(wf.params(), gt=gt, pred=res, workers=1)


@pytest.mark.parametrize("protocol", ["coco-keypoints", "crowdpose"])
@pytest.mark.parametrize("seed", [0, 1])
def test_shards_merged_in_any_order_equal_one_run(protocol: str, seed: int) -> None:
    plan = _plan(protocol, seed)
    task = plan.context
    whole = plan.task(task, 0, plan.n_items)
    params = task.params
    ref = accumulate(whole, params)
    cuts = [0, 2, 5, 6, plan.n_items]
    parts = [plan.task(task, a, b) for a, b in pairwise(cuts)]
    for order in (range(len(parts)), np.random.default_rng(seed).permutation(len(parts))):
        state = plan.empty
        for i in order:
            state = state.merge(parts[i])
        acc = accumulate(state, params)
        assert np.array_equal(acc.precision, ref.precision)
        assert np.array_equal(acc.recall, ref.recall)


def test_workers_two_equals_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coco_keypoints, "SHARD_SIZE", 3)
    gt, res = make_keypoint_case("mixed", 2)
    one = benchmark_eval.evaluate("coco-keypoints", gt=gt, pred=res, workers=1)
    two = benchmark_eval.evaluate("coco-keypoints", gt=gt, pred=res, workers=2)
    assert np.array_equal(one.stats, two.stats)
    assert np.array_equal(one.precision, two.precision)


def test_state_save_load_round_trip(tmp_path: Path) -> None:
    gt, res = make_keypoint_case("mixed", 0)
    r = benchmark_eval.evaluate("coco-keypoints", gt=gt, pred=res)
    r.state.save(tmp_path / "state.npz")
    assert CocoState.load(tmp_path / "state.npz") == r.state


def test_perfect_keypoints_and_inputs_untouched() -> None:
    gt, _ = make_keypoint_case("mixed", 3)
    gt["annotations"] = [a for a in gt["annotations"]
                         if not a["iscrowd"] and a["num_keypoints"] > 0 and a["area"] > 0
                         and a["id"] != 0
                         and a["num_keypoints"] == sum(v > 0 for v in a["keypoints"][2::3])]
    res = [{"image_id": a["image_id"], "category_id": 1, "keypoints": list(a["keypoints"]),
            "score": 0.5 + 0.001 * i, "bbox": a["bbox"]}
           for i, a in enumerate(gt["annotations"])]
    before = copy.deepcopy((gt, res))
    r = benchmark_eval.evaluate("coco-keypoints", gt=gt, pred=res)
    assert (gt, res) == before
    assert r.metrics["AP"] == pytest.approx(1.0, abs=1e-15)
    assert r.metrics["AR"] == 1.0

