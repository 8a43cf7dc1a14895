"""Properties of the ``semantic`` state and metrics on seeded random label maps.

k shards merged = one run; image order irrelevant; merge associative with an identity;
save/load round trip; perfect prediction = 1; relabelling classes permutes per-class values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmark_eval.io.labelmaps import LabelMapPair
from benchmark_eval.protocols.semantic import compute
from benchmark_eval.protocols.semantic_count import PairCounter
from benchmark_eval.protocols.semantic_params import SemanticParams, build_tables
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.workflows.semantic import evaluate_label_maps

RULES = ("mmseg", "detectron2", "cityscapes")


def _pairs(seed: int, c: int, n: int = 7) -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        h, w = (int(x) for x in rng.integers(1, 40, size=2))
        gt = rng.integers(0, c, size=(h, w)).astype(np.uint8)
        gt[rng.random((h, w)) < 0.1] = 255
        pred = np.where(rng.random((h, w)) < 0.6, gt, rng.integers(0, c, size=(h, w)))
        pred[rng.random((h, w)) < 0.05] = 255
        out.append((f"im{seed}_{i:02d}", gt, pred.astype(np.uint8)))
    return out


def _state(pairs: list[tuple[str, np.ndarray, np.ndarray]], params: SemanticParams
           ) -> SemanticState:
    counter = PairCounter(build_tables(params), params.counting_fingerprint(),
                          per_image=params.dice_averaging == "per-image")
    for name, gt, pred in pairs:
        assert counter.add(name, gt, pred) == []
    return counter.state()


def _same(a: SemanticState, b: SemanticState) -> None:
    assert np.array_equal(a.confusion, b.confusion)
    assert a.n_images == b.n_images
    order_a, order_b = np.argsort(a.image_names), np.argsort(b.image_names)
    assert sorted(a.image_names) == sorted(b.image_names)
    assert np.array_equal(a.image_stats[order_a], b.image_stats[order_b])


def _metrics_equal(a: SemanticState, b: SemanticState, params: SemanticParams) -> None:
    ma, mb = compute(a, params), compute(b, params)
    for key in ("iou", "acc", "dice", "precision"):
        assert np.array_equal(getattr(ma, key), getattr(mb, key), equal_nan=True), key
    assert ma.metrics.keys() == mb.metrics.keys()
    for key, value in ma.metrics.items():
        assert np.array_equal(value, mb.metrics[key], equal_nan=True), key


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("averaging", ["dataset", "per-image"])
def test_k_shards_merged_equal_one_run(seed: int, averaging: str) -> None:
    params = SemanticParams(num_classes=3 + seed, dice_averaging=averaging)
    pairs = _pairs(seed, params.num_classes)
    whole = _state(pairs, params)
    for k in (2, 3, len(pairs)):
        parts = [_state(pairs[i::k], params) for i in range(k)]
        merged = parts[0]
        for part in parts[1:]:
            merged = merged.merge(part)
        _same(merged, whole)
        for rule in RULES:
            _metrics_equal(merged, whole, params.model_copy(update={"rule": rule}))


@pytest.mark.parametrize("seed", range(4))
def test_image_order_is_irrelevant(seed: int) -> None:
    params = SemanticParams(num_classes=5, dice_averaging="per-image")
    pairs = _pairs(seed, 5)
    shuffled = [pairs[i] for i in np.random.default_rng(seed).permutation(len(pairs))]
    a, b = _state(pairs, params), _state(shuffled, params)
    _same(a, b)
    for rule in RULES:
        _metrics_equal(a, b, params.model_copy(update={"rule": rule}))


def test_merge_is_associative_with_empty_identity() -> None:
    params = SemanticParams(num_classes=4, dice_averaging="per-image")
    pairs = _pairs(0, 4, n=6)
    a, b, c = (_state(pairs[i:i + 2], params) for i in (0, 2, 4))
    _same(a.merge(b).merge(c), a.merge(b.merge(c)))
    empty = SemanticState.empty(4, params.counting_fingerprint())
    _same(empty.merge(a), a)
    _same(a.merge(empty), a)


@pytest.mark.parametrize("averaging", ["dataset", "per-image"])
def test_save_load_round_trip(tmp_path: Path, averaging: str) -> None:
    params = SemanticParams(num_classes=6, dice_averaging=averaging)
    state = _state(_pairs(1, 6), params)
    state.save(tmp_path / "state.npz")
    loaded = SemanticState.load(tmp_path / "state.npz")
    _same(loaded, state)
    assert loaded.fingerprint == state.fingerprint
    assert loaded.image_names == state.image_names
    _metrics_equal(loaded, state, params)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("averaging", ["dataset", "per-image"])
def test_perfect_prediction_scores_one(rule: str, averaging: str) -> None:
    params = SemanticParams(num_classes=5, rule=rule, dice_averaging=averaging)
    pairs = [(n, g, np.where(g == 255, 0, g).astype(np.uint8)) for n, g, _ in _pairs(2, 5)]
    result = evaluate_label_maps([LabelMapPair(n, g, p) for n, g, p in pairs], params)
    assert result.metrics == {"mIoU": 1.0, "mAcc": 1.0, "mDice": 1.0, "aAcc": 1.0,
                              "fwIoU": 1.0}
    for values in result.per_class.values():
        assert values == {"IoU": 1.0, "Acc": 1.0, "Dice": 1.0, "Precision": 1.0}


@pytest.mark.parametrize("rule", RULES)
def test_relabelling_classes_permutes_per_class_values(rule: str) -> None:
    params = SemanticParams(num_classes=5, rule=rule)
    pairs = _pairs(3, 5)
    perm = np.array([3, 0, 4, 1, 2], dtype=np.uint8)
    lut = np.concatenate([perm, np.arange(5, 256, dtype=np.uint8)])
    relabelled = [(n, lut[g], lut[p]) for n, g, p in pairs]
    a = compute(_state(pairs, params), params)
    b = compute(_state(relabelled, params), params)
    assert np.array_equal(b.iou[perm], a.iou, equal_nan=True)
    assert np.array_equal(b.acc[perm], a.acc, equal_nan=True)
    assert a.metrics["aAcc"] == b.metrics["aAcc"]
    assert a.metrics["mIoU"] == pytest.approx(b.metrics["mIoU"], abs=1e-15)


def test_parallel_workers_equal_one_process() -> None:
    params = SemanticParams(num_classes=4, dice_averaging="per-image")
    pairs = [LabelMapPair(n, g, p) for n, g, p in _pairs(5, 4, n=70)]
    one = evaluate_label_maps(pairs, params, workers=1)
    two = evaluate_label_maps(pairs, params, workers=2)
    assert np.array_equal(one.confusion, two.confusion)
    assert one.metrics == two.metrics
    assert one.counts == two.counts
