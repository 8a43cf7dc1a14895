"""Parity of ``coco-keypoints`` with pycocotools 2.0.11 ``COCOeval(iouType="keypoints")``.

Every scenario (a generated case from ``keypoints_generators``, a seed and a parameter set) is
evaluated live by pycocotools and by benchmark_eval; the tests compare the 10 ``stats``, the
full ``precision`` / ``recall`` / ``scores`` arrays, ``metrics``, ``per_class`` and the OKS of
every (detection, GT) pair (``COCOeval.ious``) with an absolute tolerance of 1e-12 and
identical ``-1`` positions. No expected value is written down here.
"""

from __future__ import annotations

import copy
import functools
import warnings
from typing import Any

import numpy as np
import pytest
from keypoints_generators import CASE_NAMES, CROWDPOSE_SIGMAS, make_keypoint_case
from official_coco import OfficialResult, ParamSpec
from official_keypoints import run_pycocotools_keypoints

import benchmark_eval
from benchmark_eval.errors import BenchmarkEvalWarning
from benchmark_eval.io.coco_keypoints import (
    attach_keypoint_results,
    parse_keypoints_ground_truth,
    read_keypoint_results,
)
from benchmark_eval.matching.oks import object_keypoint_similarity
from benchmark_eval.protocols.coco_keypoints import KEYPOINT_METRIC_KEYS, prepare_keypoints
from benchmark_eval.protocols.coco_keypoints_params import KeypointsParams
from benchmark_eval.protocols.coco_params import AreaRange

TOL = 1e-12
SEEDS = (0, 1, 2)
VARIANTS: dict[str, ParamSpec] = {
    "default": ParamSpec(),
    "iou_coarse": ParamSpec(iou_thresholds=(0.3, 0.5, 0.75, 1.0)),
    "recall_coarse": ParamSpec(recall_thresholds=(0.0, 0.25, 0.5, 0.75, 1.0)),
    "maxdets_5_20": ParamSpec(max_detections=(5, 20)),
    "maxdets_10": ParamSpec(max_detections=(10,)),  # stats are -1: the summary looks up 20
    "areas_with_small": ParamSpec(area_ranges=(("all", 0.0, 1e10), ("small", 0.0, 1024.0),
                                               ("medium", 1024.0, 9216.0),
                                               ("large", 9216.0, 1e10))),
}
SCENARIOS = [pytest.param(c, s, "default", id=f"{c}-{s}") for c in CASE_NAMES for s in SEEDS]
SCENARIOS += [pytest.param(c, 0, v, id=f"{c}-{v}") for v in VARIANTS if v != "default"
              for c in ("mixed", "crowded", "two_categories")]


def _sigmas(case: str) -> tuple[float, ...] | None:
    return CROWDPOSE_SIGMAS if case.startswith("crowdpose14") else None


def to_params(case: str, spec: ParamSpec) -> KeypointsParams:
    kwargs: dict[str, Any] = {"class_agnostic": spec.class_agnostic}
    if spec.iou_thresholds is not None:
        kwargs["iou_thresholds"] = spec.iou_thresholds
    if spec.recall_thresholds is not None:
        kwargs["recall_thresholds"] = spec.recall_thresholds
    if spec.max_detections is not None:
        kwargs["max_detections"] = spec.max_detections
    if spec.area_ranges is not None:
        kwargs["area_ranges"] = tuple(AreaRange(label=a, lo=lo, hi=hi)
                                      for a, lo, hi in spec.area_ranges)
    if _sigmas(case) is not None:
        kwargs["kpt_oks_sigmas"] = _sigmas(case)
    return KeypointsParams(**kwargs)


@functools.cache
def inputs(case: str, seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return make_keypoint_case(case, seed)


@functools.cache
def official(case: str, seed: int, variant: str) -> OfficialResult:
    gt, res = inputs(case, seed)
    return run_pycocotools_keypoints(gt, res, VARIANTS[variant], _sigmas(case))


@functools.cache
def ours(case: str, seed: int, variant: str) -> Any:
    gt, res = inputs(case, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        return benchmark_eval.evaluate("coco-keypoints", gt=copy.deepcopy(gt),
                                       pred=copy.deepcopy(res),
                                       params=to_params(case, VARIANTS[variant]), workers=1)


def _close(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    np.testing.assert_array_equal(a == -1, b == -1)
    diff = float(np.abs(a - b).max()) if a.size else 0.0
    assert diff <= TOL
    return diff


@pytest.mark.parametrize(("case", "seed", "variant"), SCENARIOS)
def test_arrays_and_stats_match_pycocotools(case: str, seed: int, variant: str) -> None:
    off, r = official(case, seed, variant), ours(case, seed, variant)
    assert len(r.stats) == 10
    _close(r.stats, off.stats)
    _close(r.precision, off.precision)
    _close(r.recall, off.recall)
    _close(r.scores, off.scores)
    assert r.category_ids == off.category_ids
    if (VARIANTS[variant].max_detections or (20,))[-1] == 20:  # metrics: the last maxDets
        for key, value in zip(KEYPOINT_METRIC_KEYS, off.stats, strict=True):
            assert (r.metrics[key] is None) == (value == -1)
            if value != -1:
                assert abs(r.metrics[key] - value) <= TOL


@pytest.mark.parametrize(("case", "seed", "variant"), SCENARIOS[: len(CASE_NAMES) * 3])
def test_per_class_matches_pycocotools_arrays(case: str, seed: int, variant: str) -> None:
    off, r = official(case, seed, variant), ours(case, seed, variant)
    thr = np.asarray(VARIANTS[variant].iou_thresholds or np.linspace(0.5, 0.95, 10))
    for k, cid in enumerate(off.category_ids):
        p, rec = off.precision[:, :, k, 0, -1], off.recall[:, k, 0, -1]
        expect = {"AP": p, "AP50": p[thr == 0.5], "AP75": p[thr == 0.75], "AR": rec}
        for key, arr in expect.items():
            valid = arr[arr > -1]
            got = r.per_class[cid][key]
            assert (got is None) == (valid.size == 0)
            if valid.size:
                assert abs(got - float(np.mean(valid))) <= TOL


@pytest.mark.parametrize("case", CASE_NAMES)
def test_every_oks_matches_compute_oks(case: str) -> None:
    """Each (detection, GT) OKS equals ``COCOeval.computeOks`` bit for bit (not only AP)."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, res = inputs(case, 0)
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        ev = COCOeval(cg, cg.loadRes(copy.deepcopy(res)), "keypoints")
        if _sigmas(case) is not None:
            ev.params.kpt_oks_sigmas = np.asarray(_sigmas(case))
        ev.evaluate()
    p, o = _prepared(case, gt, res)
    n_pairs = 0
    for (img, cat), ious in ev.ious.items():
        if len(ious) == 0:
            continue
        gi = np.flatnonzero((p.image_ids[p.gt_image] == img)
                            & (p.category_ids[p.gt_category] == cat))
        di = np.flatnonzero((p.image_ids[p.det_image] == img)
                            & (p.category_ids[p.det_category] == cat))
        dd, gg = np.repeat(di, len(gi)), np.tile(gi, len(di))
        sim = object_keypoint_similarity(o.det_xy[dd], o.gt_xy[gg], o.gt_labelled[gg],
                                         o.gt_counts[gg], p.gt_boxes[gg], o.gt_areas[gg],
                                         o.gt_variances[gg])
        np.testing.assert_array_equal(sim.reshape(len(di), len(gi)), ious)
        n_pairs += sim.size
    assert n_pairs > 0


def test_cases_contain_their_traps() -> None:
    gt, res = inputs("mixed", 0)
    anns = gt["annotations"]
    assert any(a["id"] == 0 for a in anns)
    assert any(a["iscrowd"] for a in anns)
    assert any(a["area"] == 0 for a in anns)
    assert any(a["area"] in (32.0**2, 96.0**2) for a in anns)
    assert any(a["num_keypoints"] != sum(v > 0 for v in a["keypoints"][2::3]) for a in anns)
    scores = [d["score"] for d in res]
    assert len(set(scores)) < len(scores)
    crowded, _ = inputs("crowded", 0)
    per_image = np.bincount([a["image_id"] for a in crowded["annotations"]])
    assert per_image.max() > 20
    empty, eres = inputs("empty_sides", 0)
    ids = {i["id"] for i in empty["images"]}
    assert ids - {a["image_id"] for a in empty["annotations"]}
    assert ids - {d["image_id"] for d in eres}


def test_class_agnostic_is_refused_because_pycocotools_matches_nothing() -> None:
    """Under ``useCats=0`` computeOks looks pairs up under category -1 and finds none."""
    gt, res = inputs("mixed", 0)
    off = run_pycocotools_keypoints(gt, res, ParamSpec(class_agnostic=True))
    assert set(off.stats.tolist()) <= {0.0, -1.0}
    with pytest.raises(benchmark_eval.ConfigError, match="class_agnostic"):
        benchmark_eval.evaluate("coco-keypoints", gt=gt, pred=res,
                                params={"class_agnostic": True})


def _prepared(case: str, gt: dict[str, Any], res: list[dict[str, Any]]) -> tuple[Any, Any]:
    """Our prepared instances and OKS inputs of a case (through the real adapter)."""
    kgt, _, _ = parse_keypoints_ground_truth(copy.deepcopy(gt), "<gt>")
    assert kgt is not None
    preds, kp, _, _ = attach_keypoint_results(read_keypoint_results(copy.deepcopy(res)), kgt)
    assert preds is not None
    assert kp is not None
    task = prepare_keypoints(kgt, preds, kp, to_params(case, ParamSpec()))
    return task.prepared, task.oks


@pytest.mark.parametrize("case", CASE_NAMES)
def test_pair_prefilter_bound_holds_for_every_pair(case: str) -> None:
    """``oks_pairs`` drops pairs with ``exp(-bound) < t_min``: the bound must exceed the OKS
    of every pair (same image and category), including boxes-only and zero-area GT."""
    from benchmark_eval.matching import group_pairs
    from benchmark_eval.protocols.coco_keypoints import _oks_upper_bound_log

    gt, res = inputs(case, 0)
    p, o = _prepared(case, gt, res)
    pd, pg = group_pairs(p.det_group, p.gt_group)
    sim = object_keypoint_similarity(o.det_xy[pd], o.gt_xy[pg], o.gt_labelled[pg],
                                     o.gt_counts[pg], p.gt_boxes[pg], o.gt_areas[pg],
                                     o.gt_variances[pg])
    bound = np.exp(-_oks_upper_bound_log(o, pd, pg))
    assert (sim <= bound * (1 + 1e-12)).all()
    assert (bound < 0.5).any()  # the filter does drop pairs here
