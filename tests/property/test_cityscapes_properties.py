"""Properties of the Cityscapes protocols: perfect predictions score 1, worker count and shard
order do not change a bit, prediction files may live anywhere below the folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from synth_cityscapes import Tree, write_tree

import benchmark_eval
from benchmark_eval.protocols import cityscapes_instance as inst
from benchmark_eval.protocols import cityscapes_semantic as sem
from benchmark_eval.schema.cityscapes import INSTANCE_CLASSES

STUFF = (7, 8, 11, 21, 23, 0, 4)
THINGS = (24, 25, 26, 27, 28, 31, 32, 33)


def _scene(rng: np.random.Generator, h: int = 48, w: int = 64) -> np.ndarray:
    """An instance-id map: stuff blocks, rectangles of instances (some small), a group."""
    grid = rng.choice(STUFF, size=(h // 8, w // 8))
    ids = np.repeat(np.repeat(grid, 8, 0), 8, 1).astype(np.uint16)
    counters: dict[int, int] = {}
    for _ in range(6):
        label = int(rng.choice(THINGS))
        y, x = int(rng.integers(0, h - 4)), int(rng.integers(0, w - 4))
        dy, dx = int(rng.integers(3, 16)), int(rng.integers(3, 16))
        ids[y:y + dy, x:x + dx] = label * 1000 + counters.get(label, 0)
        counters[label] = counters.get(label, 0) + 1
    ids[:4, :6] = int(rng.choice(THINGS))  # a group region
    return ids


def _labels(ids: np.ndarray) -> np.ndarray:
    return np.where(ids < 1000, ids, ids // 1000).astype(np.uint8)


def _tree(root: Path, seed: int, n: int = 10, *, perfect: bool = False) -> Tree:
    rng = np.random.default_rng(seed)
    gt, sem_pred, inst_pred = {}, {}, {}
    for i in range(n):
        key = f"c{seed}_{i:06d}_{i:06d}"
        ids = _scene(rng)
        gt[key] = (_labels(ids), ids)
        pred = _labels(ids) if perfect else _labels(_scene(rng))
        sem_pred[key] = pred
        rows = []
        for v in np.unique(ids[ids >= 1000]).tolist():
            mask = ids == v if perfect else np.roll(ids == v, int(rng.integers(0, 3)), axis=1)
            rows.append((v // 1000, 1.0 if perfect else round(float(rng.random()), 2), mask))
        inst_pred[key] = rows
    return write_tree(root, gt, sem_pred, inst_pred)


def test_perfect_predictions_score_one(tmp_path: Path) -> None:
    tree = _tree(tmp_path, 1, perfect=True)
    r = benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    assert r.metrics == dict.fromkeys(sem.METRIC_KEYS, 1.0)
    assert all(v["IoU"] in (1.0, None) for v in r.per_class.values())
    i = benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst)
    assert i.metrics == {"AP": 1.0, "AP50": 1.0}
    assert np.all((i.ap == 1.0) | np.isnan(i.ap))
    assert int(i.state.gt_count.sum()) > 5


@pytest.mark.parametrize("protocol", ["cityscapes-semantic", "cityscapes-instance"])
def test_workers_do_not_change_a_bit(protocol: str, tmp_path: Path) -> None:
    tree = _tree(tmp_path, 2, n=11)
    pred = tree.sem if protocol == "cityscapes-semantic" else tree.inst
    one = benchmark_eval.evaluate(protocol, gt=tree.gt, pred=pred, workers=1)
    two = benchmark_eval.evaluate(protocol, gt=tree.gt, pred=pred, workers=2)
    assert one.to_report()["metrics"] == two.to_report()["metrics"]
    assert one.to_report()["per_class"] == two.to_report()["per_class"]


def test_semantic_states_merge_in_any_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    parts = []
    for j in range(3):
        counter = sem.SemanticImageCounter()
        for i in range(3):
            ids = _scene(rng)
            assert counter.add(f"img{j}{i}", _labels(ids), ids, _labels(_scene(rng))) == []
        parts.append(counter.state())
    a, b, c = parts
    forward = sem.compute(a.merge(b).merge(c))
    backward = sem.compute(c.merge(a.merge(b)))
    assert forward.metrics == backward.metrics  # weighted sums added in one canonical order
    assert np.array_equal(forward.iiou, backward.iiou, equal_nan=True)


def test_instance_states_merge_in_any_order() -> None:
    rng = np.random.default_rng(4)
    images = []
    for _ in range(6):
        ids = _scene(rng)
        preds = [(v // 1000, round(float(rng.random()), 1), np.roll(ids == v, 1, axis=0))
                 for v in np.unique(ids[ids >= 1000]).tolist()]
        images.append(inst.CityscapesInstanceState.of_image(
            inst.instance_image_stats(ids, preds)))
    forward, backward = inst.CityscapesInstanceState.empty(), inst.CityscapesInstanceState.empty()
    for s in images:
        forward = forward.merge(s)
    for s in reversed(images):
        backward = s.merge(backward)
    assert np.array_equal(inst.compute(forward).ap, inst.compute(backward).ap, equal_nan=True)
    assert len(INSTANCE_CLASSES) == forward.gt_count.shape[0]


def test_prediction_files_may_be_anywhere_below_the_folder(tmp_path: Path) -> None:
    tree = _tree(tmp_path, 5, n=4)
    flat = benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    for i, png in enumerate(sorted(tree.sem.glob("*.png"))):
        (tree.sem / f"deep{i}" / "er").mkdir(parents=True)
        shutil.move(png, tree.sem / f"deep{i}" / "er" / png.name)
    nested = benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    assert flat.metrics == nested.metrics
