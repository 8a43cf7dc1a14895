"""Properties of ``coco-panoptic`` that hold for any input (seeded random scenes):
a perfect prediction scores 1; image order, segment ids and process count are irrelevant;
k shards merged equal one run; merging is associative; states survive save/load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synth_panoptic import make_case, write_case

import benchmark_eval
from benchmark_eval.io.panoptic import load_coco_panoptic
from benchmark_eval.io.panoptic_png import read_frames
from benchmark_eval.protocols.panoptic import accumulate, compute, frame_stats
from benchmark_eval.protocols.panoptic_state import PanopticState

SEEDS = (21, 22, 23)
TOL = 1e-12


def _case(tmp_path: Path, seed: int) -> tuple[Path, Path]:
    return write_case(make_case("random", seed) + make_case("crowd") + make_case("void_bleed"),
                      tmp_path)


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if a[k] is None or b[k] is None:
            assert a[k] is b[k] is None, k
        else:
            assert abs(a[k] - b[k]) <= TOL, k


@pytest.mark.parametrize("seed", SEEDS)
def test_perfect_prediction_scores_one(seed: int, tmp_path: Path) -> None:
    gt, _ = _case(tmp_path, seed)
    r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=gt)
    for key in ("PQ", "SQ", "RQ", "PQ_th", "RQ_st"):
        assert r.metrics[key] == 1.0
    assert r.state.fp.sum() == 0
    assert r.state.fn.sum() == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_image_order_and_worker_count_are_irrelevant(seed: int, tmp_path: Path) -> None:
    gt, pred = _case(tmp_path, seed)
    reference = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred, workers=1)
    for path in (gt, pred):
        doc = json.loads(path.read_text())
        doc["annotations"].reverse()
        path.write_text(json.dumps(doc))
    for workers in (1, 2, 0):
        r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred, workers=workers)
        _close(r.metrics, reference.metrics)
        assert np.array_equal(r.state.tp, reference.state.tp)
        assert np.array_equal(r.state.fp, reference.state.fp)
        assert np.array_equal(r.state.fn, reference.state.fn)


@pytest.mark.parametrize("seed", SEEDS)
def test_relabelling_segment_ids_is_irrelevant(seed: int, tmp_path: Path) -> None:
    gt, pred = _case(tmp_path / "a", seed)
    reference = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    rng = np.random.default_rng(seed)
    doc = json.loads(pred.read_text())
    for ann in doc["annotations"]:  # new random 24-bit ids, in the JSON and in the PNG
        path = pred.with_suffix("") / ann["file_name"]
        rgb = np.asarray(Image.open(path)).astype(np.int64)
        ids = rgb @ np.array([1, 256, 65536])
        new_ids = rng.choice(np.arange(1, 256**3), size=len(ann["segments_info"]),
                             replace=False)
        out = np.zeros_like(ids)
        for s, new in zip(ann["segments_info"], new_ids.tolist(), strict=True):
            out[ids == s["id"]] = new
            s["id"] = new
        rgb = ((out[..., None] >> np.array([0, 8, 16])) & 255).astype(np.uint8)
        Image.fromarray(rgb).save(path)
    pred.write_text(json.dumps(doc))
    r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    assert r.metrics == reference.metrics


def _frame_states(gt: Path, pred: Path) -> tuple[np.ndarray, list]:
    g = load_coco_panoptic(gt)
    p = load_coco_panoptic(pred, ground_truth=g.dataset)
    cats = g.dataset.categories.ids
    p_frames = {f.image_id: f for f in read_frames(p)}
    stats = [frame_stats(f, p_frames[f.image_id], cats) for f in read_frames(g)]
    return cats, stats


@pytest.mark.parametrize("seed", SEEDS)
def test_shards_merged_equal_one_run_and_merge_is_associative(seed: int, tmp_path: Path
                                                              ) -> None:
    gt, pred = _case(tmp_path, seed)
    cats, stats = _frame_states(gt, pred)
    whole = accumulate(cats, stats)
    api = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred, workers=1)
    assert whole == api.state  # the in-memory frame path is the file path
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, len(stats)), size=2, replace=False)).tolist()
    a, b, c = (accumulate(cats, part) for part in np.split(np.array(stats, dtype=object),
                                                            cuts))
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    for s in (left, right, c.merge(a).merge(b)):
        assert np.array_equal(s.tp, whole.tp)
        assert np.array_equal(s.fp, whole.fp)
        assert np.array_equal(s.fn, whole.fn)
        assert np.allclose(s.iou, whole.iou, rtol=0, atol=TOL)
        assert s.n_images == whole.n_images
    isthing = load_coco_panoptic(gt).dataset.categories.isthing
    _close(compute(left, isthing).metrics, compute(whole, isthing).metrics)
    assert PanopticState.empty(cats).merge(whole) == whole


def test_state_save_load_round_trip(tmp_path: Path) -> None:
    gt, pred = _case(tmp_path, 5)
    state = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred).state
    state.save(tmp_path / "s.npz")
    loaded = PanopticState.load(tmp_path / "s.npz")
    assert loaded == state
    assert loaded.iou.tobytes() == state.iou.tobytes()


def test_adding_an_image_pair_twice_doubles_the_counts(tmp_path: Path) -> None:
    gt, pred = _case(tmp_path, 7)
    once = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred).state
    for path in (gt, pred):
        doc = json.loads(path.read_text())
        copies = [dict(a, image_id=a["image_id"] + 10_000) for a in doc["annotations"]]
        doc["annotations"] += copies
        if "images" in doc:
            doc["images"] += [dict(i, id=i["id"] + 10_000) for i in doc["images"]]
        path.write_text(json.dumps(doc))
    twice = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred).state
    assert np.array_equal(twice.tp, 2 * once.tp)
    assert np.array_equal(twice.fn, 2 * once.fn)
    assert np.allclose(twice.iou, 2 * once.iou, rtol=1e-15, atol=0)
    assert twice.n_images == 2 * once.n_images
