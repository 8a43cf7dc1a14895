"""The paired comparison (benchmark_eval.stats.compare): its false-positive rate on two
submissions that differ only by noise is near the nominal level, a real shift is found,
and the API / CLI around it.

The synthetic runs share each image's difficulty (the pairing) and draw their own
outcomes: under the null both runs come from the same predictor, so a level-0.05 test
should reject about 5% of the time over many seeds.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from helpers import run_cli
from test_state_laws import SAMPLES

import benchmark_eval
from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.protocols.coco_state import FP, IGNORED, TP, CocoState
from benchmark_eval.protocols.semantic_params import SemanticParams
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.stats.compare import compare_runs, replicates_of_state

ALPHA = 0.05
_C = 4  # classes of the synthetic semantic runs
_SEM = SemanticParams(num_classes=_C)


def _semantic_pair(seed: int, n: int, shift: float) -> tuple[SemanticState, SemanticState]:
    """Two runs over ``n`` images; ``shift`` raises B's per-pixel accuracy."""
    rng = np.random.default_rng(seed)
    gt = rng.poisson(200, (n, _C)) * (rng.random((n, _C)) < 0.7)
    difficulty = rng.beta(4, 2, (n, 1))  # shared by both runs: the pairing

    def run(extra: float) -> SemanticState:
        acc = np.clip(difficulty + rng.normal(0, 0.05, (n, _C)) + extra, 0, 1)
        tp = rng.binomial(gt, acc)
        pred = tp + rng.poisson(30, (n, _C))
        stats = np.stack([tp, gt, np.zeros_like(gt), pred], axis=1).astype(np.int64)
        return SemanticState(fingerprint="synthetic",
                             confusion=np.zeros((_C + 1, _C + 1), np.int64), n_images=n,
                             image_names=tuple(f"img{i:04d}" for i in range(n)),
                             image_stats=stats)

    return run(0.0), run(shift)


def _coco_pair(seed: int, n: int, shift: float) -> tuple[CocoState, CocoState]:
    """Two detection runs over ``n`` images of one category: each GT is found with a
    probability set by its image's difficulty (+ ``shift`` for B), plus false positives;
    outcomes are the same in every area range and threshold column."""
    rng = np.random.default_rng(seed)
    n_gt = rng.poisson(3, n) + 1
    found = rng.beta(5, 2, n)

    def run(extra: float) -> CocoState:
        img, score, code = [], [], []
        for i in range(n):
            hit = rng.random(n_gt[i]) < min(1.0, found[i] + extra)
            fps = rng.poisson(2)
            img += [i] * (int(hit.sum()) + fps)
            score += [*rng.beta(5, 2, int(hit.sum())), *rng.beta(2, 5, fps)]
            code += [TP] * int(hit.sum()) + [FP] * fps
        image = np.array(img, np.int64)
        scores = np.array(score)
        rank = np.zeros(len(image), np.int64)
        for i in range(n):
            mine = np.flatnonzero(image == i)
            rank[mine[np.argsort(-scores[mine], kind="stable")]] = np.arange(len(mine))
        outcome = np.broadcast_to(np.array(code, np.uint8)[:, None, None],
                                  (len(code), 4, 10)).copy()
        outcome[:, 1:][outcome[:, 1:] == FP] = IGNORED  # only area "all" has the FPs
        gt_image = np.repeat(np.arange(n), n_gt)
        return CocoState(
            category_ids=np.array([1]), det_category=np.zeros(len(image), np.int64),
            det_image=image, det_rank=rank, det_score=scores, det_outcome=outcome,
            gt_count=np.array([[n_gt.sum(), 0, 0, 0]]), n_images=n, fingerprint="synthetic",
            gt_image=gt_image, gt_category=np.zeros(len(gt_image), np.int64),
            gt_counted=np.ones(len(gt_image), np.int64))

    return run(0.0), run(shift)


def _p(pair: tuple[Any, Any], params: Any, key: str, resamples: int, seed: int) -> float:
    a, b = (replicates_of_state(s, params) for s in pair)
    p = compare_runs("synthetic", a, b, resamples=resamples, seed=seed).diff[key].p
    assert p is not None
    return p


def test_semantic_false_positive_rate_is_nominal_and_a_shift_is_found() -> None:
    null = np.array([_p(_semantic_pair(s, 40, 0.0), _SEM, "mIoU", 49, s) for s in range(100)])
    rate = float((null < ALPHA).mean())
    assert 0.01 <= rate <= 0.11, rate  # 0.05 +- 2.7 standard errors over 100 seeds
    assert 0.3 < float(np.median(null)) < 0.7  # p-values roughly uniform under the null
    shifted = np.array([_p(_semantic_pair(s, 40, 0.06), _SEM, "mIoU", 49, s)
                        for s in range(20)])
    assert (shifted < ALPHA).mean() >= 0.8


def test_coco_false_positive_rate_is_nominal_and_a_shift_is_found() -> None:
    params = CocoParams()
    null = np.array([_p(_coco_pair(s, 30, 0.0), params, "AP", 99, s) for s in range(100)])
    rate = float((null < ALPHA).mean())
    assert 0.01 <= rate <= 0.11, rate  # 0.05 +- 2.7 standard errors over 100 seeds
    shifted = np.array([_p(_coco_pair(s, 30, 0.25), params, "AP", 99, s) for s in range(20)])
    assert (shifted < ALPHA).mean() >= 0.8


def test_identical_runs_do_not_differ() -> None:
    a, _ = _semantic_pair(0, 20, 0.0)
    run = replicates_of_state(a, _SEM)
    c = compare_runs("semantic", run, run, resamples=50)
    assert all(d.delta == 0 and d.p == 1.0 for d in c.diff.values() if d.delta is not None)
    assert c.verdict().startswith("B − A = +0.0 mIoU [+0.0, +0.0], p = 1.000")


def test_verdict_report_and_different_images() -> None:
    a, b = _semantic_pair(1, 40, 0.1)
    c = compare_runs("semantic", replicates_of_state(a, _SEM), replicates_of_state(b, _SEM),
                     resamples=200)
    d = c.diff["mIoU"]
    assert d.delta is not None
    assert d.ci is not None
    assert d.p is not None
    assert d.ci[0] <= d.delta <= d.ci[1]
    assert c.verdict() == (f"B − A = {100 * d.delta:+.1f} mIoU [{100 * d.ci[0]:+.1f},"
                           f" {100 * d.ci[1]:+.1f}], p = {d.p:.3f}: B is better (at 0.05)")
    report = c.to_report()
    assert set(report["diff"]["mIoU"]) >= {"delta", "ci", "p"}
    assert set(report["per_class"]) == {"0", "1", "2", "3"}
    other, _ = _semantic_pair(2, 41, 0.0)
    with pytest.raises(ConfigError, match="different images"):
        compare_runs("semantic", replicates_of_state(a, _SEM),
                     replicates_of_state(other, _SEM))


def test_api_compare_from_files_and_states(tmp_path: Any) -> None:
    s = SAMPLES["coco-bbox"]
    c = benchmark_eval.compare("coco-bbox", gt=s["gt"], pred_a=s["pred"],
                               pred_b=SAMPLES["coco-segm"]["pred"], resamples=100)
    assert set(c.diff) == {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100",
                           "ARs", "ARm", "ARl"}
    a = benchmark_eval.evaluate("coco-bbox", **s)
    b = benchmark_eval.evaluate("coco-bbox", gt=s["gt"], pred=SAMPLES["coco-segm"]["pred"])
    assert c.diff["AP"].delta == pytest.approx(b.metrics["AP"] - a.metrics["AP"], abs=1e-12)
    a.state.save(tmp_path / "a.npz")
    b.state.save(tmp_path / "b.npz")
    from_states = benchmark_eval.compare("coco-bbox", state_a=tmp_path / "a.npz",
                                         state_b=tmp_path / "b.npz", resamples=100)
    assert from_states.diff["AP"] == c.diff["AP"]  # same images, same seed, same numbers
    with pytest.raises(ConfigError, match="compare needs"):
        benchmark_eval.compare("coco-bbox", gt=s["gt"], pred_a=s["pred"])


def test_cli_compare(tmp_path: Any) -> None:
    s = SAMPLES["coco-panoptic"]
    out = tmp_path / "diff.json"
    code, text, _ = run_cli(["compare", "coco-panoptic", "--gt", s["gt"], "--pred", s["pred"],
                             "--pred", s["pred"], "--resamples", "50", "--out", out])
    assert code == 0, text
    assert text.startswith("B − A = +0.0 PQ [+0.0, +0.0], p = 1.000")
    assert "per class, PQ:" in text
    report = json.loads(out.read_text())
    assert report["diff"]["PQ"] == {"delta": 0.0, "ci": [0.0, 0.0], "p": 1.0,
                                    "a": report["diff"]["PQ"]["a"],
                                    "b": report["diff"]["PQ"]["b"]}
    code, _, err = run_cli(["compare", "coco-panoptic", "--gt", s["gt"], "--pred", s["pred"]])
    assert code == 2
    assert "two --pred" in err


def test_cli_compare_saved_states(tmp_path: Any) -> None:
    s = SAMPLES["semantic"]
    r = benchmark_eval.evaluate("semantic", **s)
    r.state.save(tmp_path / "a.npz")
    code, text, _ = run_cli(["compare", "semantic", "--state", tmp_path / "a.npz", "--state",
                             tmp_path / "a.npz", "--config", s["params"], "--resamples", "20",
                             "--no-per-class"])
    assert code == 0, text
    assert text.startswith("B − A = +0.0 mIoU [+0.0, +0.0], p = 1.000")
    assert "per class" not in text
