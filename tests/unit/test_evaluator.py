"""``benchmark_eval.Evaluator``: batches in any order and split, merged across "ranks",
pickled or saved midway, give the one-shot ``evaluate`` numbers."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from synth_coco import make_case

import benchmark_eval
from benchmark_eval import CocoState, Evaluator, InputError
from benchmark_eval.errors import UnsupportedError


def _batches(results: list[dict[str, Any]], size: int, seed: int) -> list[list[dict[str, Any]]]:
    by_image: dict[int, list[dict[str, Any]]] = {}
    for r in results:
        by_image.setdefault(r["image_id"], []).append(r)
    ids = list(by_image)
    np.random.default_rng(seed).shuffle(ids)
    ids = ids[: max(1, len(ids) - 1)]  # one image without predictions
    return [[r for i in ids[k:k + size] for r in by_image[i]] for k in range(0, len(ids), size)]


def _same(a: Any, b: Any) -> None:
    np.testing.assert_array_equal(a.stats, b.stats)
    np.testing.assert_array_equal(a.precision, b.precision)
    np.testing.assert_array_equal(a.recall, b.recall)
    assert a.per_class == b.per_class


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("size", [1, 3])
def test_batches_give_the_one_shot_numbers(iou_type: str, size: int) -> None:
    case = make_case(8)
    batches = _batches(case.results(iou_type), size, seed=size)
    ev = Evaluator(f"coco-{iou_type}", gt=case.gt)
    for batch in batches:
        ev.update(copy.deepcopy(batch))
    ref = benchmark_eval.evaluate(f"coco-{iou_type}", gt=case.gt,
                                  pred=[r for b in batches for r in b])
    got = ev.compute()
    _same(got, ref)
    assert got.counts["detections"] == ref.counts["detections"]


def test_merge_pickle_and_save(tmp_path: Path) -> None:
    case = make_case(9)
    batches = _batches(case.results("bbox"), 2, seed=0)
    a, b = Evaluator("coco-bbox", gt=case.gt), Evaluator("coco-bbox", gt=case.gt)
    for k, batch in enumerate(batches):
        (a if k % 2 else b).update(batch)
    b = pickle.loads(pickle.dumps(b))  # e.g. all_gather_object across ranks
    merged = a.merge(b).compute()
    ref = benchmark_eval.evaluate("coco-bbox", gt=case.gt, pred=[r for x in batches for r in x])
    _same(merged, ref)
    a.save(tmp_path / "state.npz")
    assert CocoState.load(tmp_path / "state.npz") == a.state


def test_lvis_batches() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "parity"))
    from lvis_generators import make_lvis_case

    gt, results = make_lvis_case("mixed", "bbox", 0)
    ev = Evaluator("lvis-bbox", gt=gt)
    for batch in _batches(results, 4, seed=1):
        ev.update(batch)
    seen = [r for b in _batches(results, 4, seed=1) for r in b]
    ref = benchmark_eval.evaluate("lvis-bbox", gt=gt, pred=seen)
    assert ev.compute().results == ref.results


def test_arrays_per_image_and_refusals() -> None:
    case = make_case(6)
    results = case.results("bbox")
    image = results[0]["image_id"]
    mine = [r for r in results if r["image_id"] == image]
    arrays = {image: {"boxes": np.array([r["bbox"] for r in mine]),
                      "scores": np.array([r["score"] for r in mine]),
                      "labels": np.array([r["category_id"] for r in mine])}}
    ev = Evaluator("coco-bbox", gt=case.gt)
    ev.update(arrays)
    one = Evaluator("coco-bbox", gt=case.gt)
    one.update(mine)
    _same(ev.compute(), one.compute())
    with pytest.raises(InputError, match="already in an earlier batch"):
        ev.update(mine)
    strict = Evaluator("coco-bbox", gt=case.gt, strict=True)
    with pytest.raises(InputError, match="result-category-unknown"):
        strict.update([{**mine[0], "category_id": 4242}])
    with pytest.raises(UnsupportedError, match="no per-batch adapter"):
        Evaluator("coco-panoptic", gt=case.gt)


def test_nothing_predicted_scores_zero() -> None:
    case = make_case(6)
    got = Evaluator("coco-bbox", gt=case.gt).compute()
    assert got.metrics["AP"] == 0.0
