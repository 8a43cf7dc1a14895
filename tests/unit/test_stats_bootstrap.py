"""Bootstrap intervals over images (benchmark_eval.stats): every protocol, on its
``data_samples/`` inputs; the COCO weighted curves against a replicated state."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from typing import Any

import numpy as np
import pytest
from helpers import run_cli
from test_state_laws import SAMPLES

from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols.coco import compute
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.stats import bootstrap, draw_counts
from benchmark_eval.stats.bootstrap import replicates_of
from benchmark_eval.stats.coco import coco_replicates, units_of
from benchmark_eval.workflows import WORKFLOWS

# every protocol with a bootstrap; the two without one refuse --ci with a ConfigError
# (test_protocols_without_a_bootstrap_say_so): crowdpose's split APs are rounded per-split
# means, medical's cases are not images of one dataset-level statistic yet
WITHOUT = ("crowdpose", "medical")
PROTOCOLS = sorted(set(WORKFLOWS) - set(WITHOUT))


@functools.cache
def _result(protocol: str) -> Any:
    return WORKFLOWS[protocol].evaluate(**SAMPLES[protocol])


def _same(got: float, want: float | None) -> bool:
    if want is None:
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unit_weights_reproduce_every_number(protocol: str) -> None:
    # the replicate that draws every image once is the evaluation itself
    r = _result(protocol)
    units, replicate = replicates_of(r)
    reps = replicate(units, np.ones((1, len(units.keys)), dtype=np.int64))
    estimates = [k for k, v in r.metrics.items() if not isinstance(v, int)]
    assert sorted(reps.metrics) == sorted(estimates)
    for key, values in reps.metrics.items():
        assert _same(values[0], r.metrics[key]), key
    assert set(reps.per_class) == set(r.per_class)
    for cls, values in reps.per_class.items():
        for key, v in values.items():
            assert _same(v[0], r.per_class[cls][key]), (cls, key)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_intervals_in_the_report_only_when_asked(protocol: str) -> None:
    r = _result(protocol)
    assert "ci" not in r.to_report()
    b = bootstrap(r, ci=0.9, resamples=50, seed=3)
    assert b.ci.keys() <= r.metrics.keys()
    for key, bounds in b.ci.items():
        if bounds is not None:
            assert bounds[0] <= bounds[1], key
    again = bootstrap(r, ci=0.9, resamples=50, seed=3)
    assert again.ci == b.ci  # same seed, same intervals


def test_evaluate_ci_keyword_and_report() -> None:
    w = WORKFLOWS["coco-segm"]
    r: Any = w.evaluate(**SAMPLES["coco-segm"], ci=0.9, resamples=100, seed=1)
    report = r.to_report()
    assert set(report["ci"]) == set(r.metrics)
    assert report["ci_params"] == {"level": 0.9, "resamples": 100, "seed": 1, "images": 6,
                                   "method": "percentile bootstrap"}
    low, high = report["ci"]["AP"]
    assert low <= high
    assert set(report["ci_per_class"]) == {str(c) for c in r.per_class}
    assert set(report["ci_per_class"][str(next(iter(r.per_class)))]) == {
        "AP", "AP50", "AP75", "AR100"}
    assert r.ci_lines()[0].startswith("90% confidence intervals")
    with pytest.raises(ConfigError, match="confidence level"):
        w.evaluate(**SAMPLES["coco-segm"], ci=1.5)


def test_cli_ci(tmp_path: Any) -> None:
    out = tmp_path / "r.json"
    s = SAMPLES["coco-panoptic"]
    code, text, _ = run_cli(["evaluate", "coco-panoptic", "--gt", s["gt"], "--pred", s["pred"],
                             "--ci", "--resamples", "50", "--out", out, "--no-per-class"])
    assert code == 0
    assert "95% confidence intervals (percentile bootstrap over 3 images, 50 resamples" in text
    report = json.loads(out.read_text())
    assert set(report["ci"]) == {"PQ", "SQ", "RQ", "PQ_th", "SQ_th", "RQ_th", "PQ_st",
                                 "SQ_st", "RQ_st"}
    code, _, err = run_cli(["evaluate", "coco-panoptic", "--gt", s["gt"], "--pred", s["pred"],
                            "--ci", "2"])
    assert code == 2
    assert "confidence level" in err


def test_draw_counts_sum_to_the_images_and_keep_empty_ones_out() -> None:
    from benchmark_eval.stats import Units
    units = Units(np.array([3, 7, 9]), 10)  # 7 images without statistics
    c = draw_counts(units, 2000, np.random.default_rng(0))
    assert c.shape == (2000, 3)
    assert (c.sum(axis=1) <= 10).all()
    assert abs(c.mean() - 1.0) < 0.05  # each image is drawn once on average


def _replicated(state: CocoState, units: Any, counts: np.ndarray) -> CocoState:
    """The state of the multiset of images: image i's records ``counts[i]`` times, each
    copy a new image (ids i * 100 + copy)."""
    det_times = counts[units.index(state.det_image)]
    gt_times = counts[units.index(state.gt_image)]

    def rep(a: np.ndarray, times: np.ndarray) -> np.ndarray:
        return np.repeat(a, times, axis=0)

    def copies(ids: np.ndarray, times: np.ndarray) -> np.ndarray:
        k = np.concatenate([np.arange(t) for t in times]) if len(times) else ids[:0]
        return np.repeat(ids, times) * 100 + k

    gt_count = np.zeros_like(state.gt_count)
    cat, bits = rep(state.gt_category, gt_times), rep(state.gt_counted, gt_times)
    for a in range(gt_count.shape[1]):
        np.add.at(gt_count[:, a], cat, (bits >> a) & 1)
    return dataclasses.replace(
        state, det_category=rep(state.det_category, det_times),
        det_image=copies(state.det_image, det_times), det_rank=rep(state.det_rank, det_times),
        det_score=rep(state.det_score, det_times), det_outcome=rep(state.det_outcome, det_times),
        gt_count=gt_count, n_images=int(counts.sum()),
        gt_image=copies(state.gt_image, gt_times), gt_category=cat, gt_counted=bits)


def test_coco_weights_equal_the_replicated_state() -> None:
    # scores made distinct: with ties, copies of one detection stay together (a tie order)
    r = _result("coco-bbox")
    state = r.state
    rng = np.random.default_rng(0)
    state = dataclasses.replace(state, det_score=state.det_score + rng.random(
        len(state.det_score)) * 1e-9)
    params = CocoParams()
    units = units_of(state)
    counts = draw_counts(units, 12, rng)
    keys = list(r.per_class)
    reps = coco_replicates(state, params, units, counts, keys)
    for b, row in enumerate(counts):
        if not row.any():
            continue
        want = compute(_replicated(state, units, row), params)
        for key, value in want.metrics.items():
            assert _same(reps.metrics[key][b], value), (b, key)
        for k, cls in enumerate(keys):
            for key, value in want.per_class[k].items():
                assert _same(reps.per_class[cls][key][b], value), (b, cls, key)


def test_numpy_fallback_equals_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmark_eval.stats import coco as stats_coco
    r = _result("coco-segm")
    units = units_of(r.state)
    counts = draw_counts(units, 40, np.random.default_rng(5))
    keys = list(r.per_class)
    fast = coco_replicates(r.state, r.params, units, counts, keys)
    monkeypatch.setattr(stats_coco, "_bootstrap", None)
    slow = coco_replicates(r.state, r.params, units, counts, keys)
    for key, values in fast.metrics.items():
        np.testing.assert_allclose(slow.metrics[key], values, rtol=1e-12, atol=1e-12)
    for cls, values in fast.per_class.items():
        for key, v in values.items():
            np.testing.assert_allclose(slow.per_class[cls][key], v, rtol=1e-12, atol=1e-12)


def test_a_state_saved_before_the_per_image_fields_loads_and_says_why_it_cannot(
        tmp_path: Any) -> None:
    r = _result("coco-bbox")
    path = tmp_path / "old.npz"
    r.state.save(path)
    with np.load(path) as z:
        members = {k: z[k] for k in z.files if not k.startswith("gt_image")}
    kinds = json.loads(str(members["__kinds__"]))
    members["__kinds__"] = np.str_(json.dumps({k: v for k, v in kinds.items()
                                               if k != "gt_image"}))
    np.savez(path, **members)
    old = CocoState.load(path)
    assert len(old.gt_image) == 0
    assert np.array_equal(old.gt_count, r.state.gt_count)
    with pytest.raises(ConfigError, match="per-image GT split"):
        units_of(old)


@pytest.mark.parametrize("protocol", WITHOUT)
def test_protocols_without_a_bootstrap_say_so(protocol: str) -> None:
    with pytest.raises(ConfigError, match="no bootstrap for"):
        WORKFLOWS[protocol].evaluate(**SAMPLES[protocol], ci=0.95, resamples=10)
