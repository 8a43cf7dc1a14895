"""Parity of ``coco-bbox`` / ``coco-segm`` with pycocotools 2.0.11 on generated cases.

Every scenario (a generated case, an IoU type and a parameter set) is evaluated once by
pycocotools and once by benchmark_eval; the tests compare ``stats``, the full ``precision`` /
``recall`` / ``scores`` arrays, the category axis, ``metrics`` and ``per_class`` with an
absolute tolerance of 1e-12 and identical ``-1`` positions. Expected values are always computed
live by pycocotools; none is written down here.

faster-coco-eval 1.8.0 is used as a second opinion on ``stats`` where it follows pycocotools.
Where it legitimately differs (checked in ``test_faster_coco_eval_known_differences``):

* ``stats[0]`` with ``maxDets`` other than ``(..., 100)``: pycocotools summarises AP at
  ``maxDets=100`` and gives -1 when 100 is not among them; faster-coco-eval uses
  ``maxDets[-1]``.
* ``stats`` layout with other than 3 ``maxDets`` or other area ranges: faster-coco-eval emits one
  AR per ``maxDets`` and one AP/AR per area label, so the 12 slots mean other things; area ranges
  without an ``"all"`` label make its summary raise.
* precision: pycocotools divides by ``tp + fp + np.spacing(1)``, so a precision of 1 is stored as
  0.9999999999999998; faster-coco-eval stores 1.0. The difference (<= 2.3e-16, also in stats)
  is far inside the 1e-12 tolerance.
"""

from __future__ import annotations

import copy
import functools
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from coco_generators import CASE_NAMES, make_case
from official_coco import (
    DEFAULT_AREA_RANGES,
    OfficialResult,
    ParamSpec,
    run_faster_coco_eval,
    run_pycocotools,
)

import benchmark_eval
from benchmark_eval import CocoParams
from benchmark_eval.errors import BenchmarkEvalWarning

TOL = 1e-12
IOU_TYPES = ("bbox", "segm")
PROTOCOL = {"bbox": "coco-bbox", "segm": "coco-segm"}
MIXED_SEEDS = tuple(range(20))
METRIC_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "AR1",
    "AR10",
    "AR100",
    "ARs",
    "ARm",
    "ARl",
)

# Parameter sets beside the defaults. pycocotools' summary needs at least 3 maxDets.
VARIANTS: dict[str, ParamSpec] = {
    "default": ParamSpec(),
    "maxdets_1_10_50": ParamSpec(max_detections=(1, 10, 50)),  # stats[0] is -1
    "maxdets_four": ParamSpec(max_detections=(300, 1, 10, 100)),  # unsorted on purpose
    "iou_with_one": ParamSpec(iou_thresholds=(0.1, 0.5, 0.75, 1.0)),
    "iou_without_half": ParamSpec(iou_thresholds=(0.3, 0.6, 0.9)),  # AP50/AP75 are -1
    "recall_coarse": ParamSpec(recall_thresholds=(0.0, 0.25, 0.5, 0.75, 1.0)),
    "area_custom": ParamSpec(
        area_ranges=(
            ("all", 0.0, 1e10),
            ("small", 0.0, 400.0),
            ("medium", 400.0, 2500.0),
            ("large", 2500.0, 1e10),
            ("tiny", 0.0, 100.0),
        )
    ),
    "area_without_all": ParamSpec(area_ranges=(("small", 0.0, 1024.0), ("big", 1024.0, 1e10))),
    "class_agnostic": ParamSpec(class_agnostic=True),
    "agnostic_coarse": ParamSpec(
        class_agnostic=True,
        iou_thresholds=(0.5, 0.75),
        recall_thresholds=(0.0, 0.5, 1.0),
        max_detections=(1, 5, 100),
    ),
}

# Predictions of a category the GT does not list: pycocotools drops them silently; so does
# benchmark_eval, with a warning that strict mode turns into an error (see
# test_unlisted_category_is_refused_when_strict).
PARITY_CASES = list(CASE_NAMES)
DEFAULT_SCENARIOS = [(name, 0) for name in PARITY_CASES] + [("mixed", s) for s in MIXED_SEEDS]
VARIANT_SCENARIOS = [
    ("many_detections", 0),
    ("crowd_uncompressed_rle", 0),
    ("area_borders", 0),
    ("iou_at_thresholds", 0),
    ("score_ties_within_image", 0),
    ("score_ties_across_images", 0),
    ("equal_iou_two_gts", 0),
    ("category_presence", 0),
    ("class_mixup", 0),
    ("mixed", 0),
    ("mixed", 1),
    ("mixed", 2),
]
# Variants whose stats faster-coco-eval lays out and computes like pycocotools.
FASTER_AGREES = ("default", "iou_with_one", "iou_without_half", "recall_coarse", "class_agnostic")


def _scenario_id(case: str, seed: int) -> str:
    return case if case != "mixed" else f"mixed{seed}"


def _scenarios(pairs: list[tuple[str, int]]) -> list[Any]:
    return [pytest.param(c, s, id=_scenario_id(c, s)) for c, s in pairs]


def to_coco_params(spec: ParamSpec) -> CocoParams:
    return spec.to_params(CocoParams)


@functools.cache
def case_inputs(case: str, seed: int, iou_type: str) -> tuple[dict[str, Any], list[Any]]:
    return make_case(case, iou_type, seed)


@functools.cache
def official(case: str, seed: int, iou_type: str, variant: str) -> OfficialResult:
    gt, results = case_inputs(case, seed, iou_type)
    return run_pycocotools(gt, results, iou_type, VARIANTS[variant])


@functools.cache
def faster(case: str, seed: int, iou_type: str, variant: str) -> OfficialResult:
    gt, results = case_inputs(case, seed, iou_type)
    return run_faster_coco_eval(gt, results, iou_type, VARIANTS[variant])


@functools.cache
def ours(case: str, seed: int, iou_type: str, variant: str) -> Any:
    """benchmark_eval's result. The cases trigger the package's documented warnings on purpose:
    if it also issues them through ``warnings`` they are silenced here (they are checked on
    ``result.warnings``); ``test_clean_case_has_no_warnings`` runs without this filter."""
    gt, results = case_inputs(case, seed, iou_type)
    params = None if variant == "default" else to_coco_params(VARIANTS[variant])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        return benchmark_eval.evaluate(
            PROTOCOL[iou_type],
            gt=copy.deepcopy(gt),
            pred=copy.deepcopy(results),
            params=params,
            workers=1,
        )


# ---------------------------------------------------------------------------------------------
# Comparison helpers
# ---------------------------------------------------------------------------------------------


def _mean_valid(values: np.ndarray) -> float | None:
    valid = values[values > -1]
    return None if valid.size == 0 else float(np.mean(valid))


def expected_per_class(off: OfficialResult) -> dict[int, dict[str, float | None]]:
    """Per-class values from pycocotools' arrays: first area range, last maxDets; AP50/AP75
    are None when 0.5/0.75 is not an IoU threshold."""
    t50 = np.flatnonzero(off.iou_thresholds == 0.5)
    t75 = np.flatnonzero(off.iou_thresholds == 0.75)
    out: dict[int, dict[str, float | None]] = {}
    for k, cid in enumerate(off.category_ids):
        prec = off.precision[:, :, k, 0, -1]
        out[cid] = {
            "AP": _mean_valid(prec),
            "AP50": _mean_valid(prec[t50]) if t50.size else None,
            "AP75": _mean_valid(prec[t75]) if t75.size else None,
            "AR100": _mean_valid(off.recall[:, k, 0, -1]),
        }
    return out


def expected_metrics(off: OfficialResult, spec: ParamSpec) -> dict[str, float | None]:
    """``stats`` by name, except ``AP``: the issue asks for AP at the *last* maxDets (where
    pycocotools' summary looks up maxDets=100 and prints -1 when it is absent), so it is
    rebuilt from pycocotools' own precision array: mean of the entries > -1 at the area range
    labelled "all" and the last maxDets (None when there is no "all" range)."""
    out = {
        name: (None if value == -1 else float(value))
        for name, value in zip(METRIC_NAMES, off.stats, strict=True)
    }
    labels = [a[0] for a in spec.area_ranges] if spec.area_ranges else ["all"]
    out["AP"] = _mean_valid(off.precision[:, :, :, labels.index("all"), -1]) if (
        "all" in labels) else None
    return out


def _array_problems(name: str, actual: Any, expected: np.ndarray) -> list[str]:
    got = np.asarray(actual, dtype=np.float64)
    if got.shape != expected.shape:
        return [f"{name}: shape {got.shape}, pycocotools {expected.shape}"]
    problems = []
    if not np.isfinite(got).all():
        problems.append(f"{name}: {int((~np.isfinite(got)).sum())} non-finite entries")
    sentinel = (got == -1) != (expected == -1)
    if sentinel.any():
        where = tuple(int(i) for i in np.argwhere(sentinel)[0])
        problems.append(
            f"{name}: -1 positions differ at {int(sentinel.sum())} entries, first {where}: "
            f"got {got[where]!r}, pycocotools {expected[where]!r}"
        )
    diff = np.abs(got - expected)
    if diff.size and np.nanmax(diff) > TOL:
        where = tuple(int(i) for i in np.unravel_index(np.nanargmax(diff), diff.shape))
        problems.append(
            f"{name}: max abs diff {np.nanmax(diff):.3e} at {where}: "
            f"got {got[where]!r}, pycocotools {expected[where]!r}"
        )
    return problems


def _value_problems(name: str, actual: float | None, expected: float | None) -> list[str]:
    if expected is None or actual is None:
        return [] if actual is expected else [f"{name}: got {actual!r}, expected {expected!r}"]
    if abs(actual - expected) > TOL:
        return [f"{name}: got {actual!r}, expected {expected!r}"]
    return []


def parity_problems(result: Any, off: OfficialResult, spec: ParamSpec | None = None) -> list[str]:
    problems = _array_problems("stats", result.stats, off.stats)
    problems += _array_problems("precision", result.precision, off.precision)
    problems += _array_problems("recall", result.recall, off.recall)
    problems += _array_problems("scores", result.scores, off.scores)
    if list(result.category_ids) != off.category_ids:
        problems.append(f"category_ids: got {list(result.category_ids)}, {off.category_ids}")
    metrics = expected_metrics(off, spec or ParamSpec())
    if set(result.metrics) != set(metrics):
        problems.append(f"metrics keys: got {sorted(result.metrics)}")
    for name, value in metrics.items():
        problems += _value_problems(f"metrics[{name}]", result.metrics.get(name), value)
    per_class = expected_per_class(off)
    if set(result.per_class) != set(per_class):
        problems.append(f"per_class keys: got {sorted(result.per_class)}, {sorted(per_class)}")
    for cid, values in per_class.items():
        got = result.per_class.get(cid, {})
        for key, value in values.items():
            problems += _value_problems(f"per_class[{cid}][{key}]", got.get(key), value)
    return problems


# ---------------------------------------------------------------------------------------------
# Parity with pycocotools
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize(("case", "seed"), _scenarios(DEFAULT_SCENARIOS))
def test_default_params_match_pycocotools(case: str, seed: int, iou_type: str) -> None:
    problems = parity_problems(
        ours(case, seed, iou_type, "default"), official(case, seed, iou_type, "default")
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize(("case", "seed"), _scenarios(VARIANT_SCENARIOS))
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "default"])
def test_custom_params_match_pycocotools(variant: str, case: str, seed: int, iou_type: str) -> None:
    problems = parity_problems(
        ours(case, seed, iou_type, variant), official(case, seed, iou_type, variant),
        VARIANTS[variant],
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
def test_explicit_default_params_equal_none(iou_type: str) -> None:
    gt, results = case_inputs("mixed", 3, iou_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        explicit = benchmark_eval.evaluate(
            PROTOCOL[iou_type],
            gt=copy.deepcopy(gt),
            pred=copy.deepcopy(results),
            params=CocoParams(),
        )
    implicit = ours("mixed", 3, iou_type, "default")
    np.testing.assert_array_equal(explicit.stats, implicit.stats)
    np.testing.assert_array_equal(explicit.precision, implicit.precision)
    np.testing.assert_array_equal(explicit.recall, implicit.recall)
    assert explicit.category_ids == implicit.category_ids


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize(
    "case", ["area_borders", "score_ties_across_images", "crowd_compressed_rle"]
)
def test_file_inputs_match_pycocotools(case: str, iou_type: str, tmp_path: Path) -> None:
    """The same cases read from JSON files (floats such as 199.99999999999997 round-trip)."""
    gt, results = case_inputs(case, 0, iou_type)
    gt_path = tmp_path / "gt.json"
    pred_path = tmp_path / "pred.json"
    gt_path.write_text(json.dumps(gt))
    pred_path.write_text(json.dumps(results))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        result = benchmark_eval.evaluate(PROTOCOL[iou_type], gt=gt_path, pred=pred_path, workers=1)
    problems = parity_problems(result, official(case, 0, iou_type, "default"))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
def test_unlisted_category_is_refused_when_strict(iou_type: str) -> None:
    gt, results = case_inputs("pred_unlisted_category", 0, iou_type)
    listed = {c["id"] for c in gt["categories"]}
    assert any(r["category_id"] not in listed for r in results)
    codes = [w.code for w in ours("pred_unlisted_category", 0, iou_type, "default").warnings]
    assert "result-category-unknown" in codes
    with pytest.raises(benchmark_eval.InputError, match="result-category-unknown"):
        benchmark_eval.evaluate(
            PROTOCOL[iou_type], gt=copy.deepcopy(gt), pred=copy.deepcopy(results), strict=True
        )


@pytest.mark.parametrize("iou_type", IOU_TYPES)
def test_cases_exercise_what_they_claim(iou_type: str) -> None:
    """Guards the generators: the sentinel-producing variants and cases really produce -1s
    in pycocotools (otherwise the parity tests above would not cover those paths)."""
    assert official("mixed", 0, iou_type, "maxdets_1_10_50").stats[0] == -1
    assert (official("mixed", 0, iou_type, "iou_without_half").stats[1:3] == -1).all()
    assert (official("no_gt_at_all", 0, iou_type, "default").stats == -1).all()
    presence = official("category_presence", 0, iou_type, "default")
    k_pred_only = presence.category_ids.index(3)
    assert (presence.precision[:, :, k_pred_only] == -1).all()
    many = official("many_detections", 0, iou_type, "maxdets_four")
    assert not np.array_equal(many.recall[..., -1], many.recall[..., -2])


# ---------------------------------------------------------------------------------------------
# faster-coco-eval as a second opinion
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize(("case", "seed"), _scenarios(DEFAULT_SCENARIOS))
def test_stats_match_faster_coco_eval(case: str, seed: int, iou_type: str) -> None:
    reference = faster(case, seed, iou_type, "default").stats
    got = np.asarray(ours(case, seed, iou_type, "default").stats)
    assert got.shape == reference.shape
    assert np.array_equal(got == -1, reference == -1)
    assert np.abs(got - reference).max() <= TOL


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize(("case", "seed"), _scenarios(VARIANT_SCENARIOS))
@pytest.mark.parametrize("variant", [v for v in FASTER_AGREES if v != "default"])
def test_custom_stats_match_faster_coco_eval(
    variant: str, case: str, seed: int, iou_type: str
) -> None:
    reference = faster(case, seed, iou_type, variant).stats
    got = np.asarray(ours(case, seed, iou_type, variant).stats)
    assert np.array_equal(got == -1, reference == -1)
    assert np.abs(got - reference).max() <= TOL


@pytest.mark.parametrize("iou_type", IOU_TYPES)
def test_faster_coco_eval_known_differences(iou_type: str) -> None:
    """Documents where faster-coco-eval 1.8.0 departs from pycocotools (module docstring); if
    one of these starts failing, faster-coco-eval changed and FASTER_AGREES needs a look."""
    py = official("mixed", 0, iou_type, "maxdets_1_10_50")
    fa = faster("mixed", 0, iou_type, "maxdets_1_10_50")
    assert py.stats[0] == -1
    assert fa.stats[0] > -1
    np.testing.assert_allclose(py.stats[1:], fa.stats[1:], rtol=0, atol=1e-15)
    py_single = official("single", 0, iou_type, "default")
    fa_single = faster("single", 0, iou_type, "default")
    assert py_single.precision.max() == 1.0 - np.finfo(np.float64).eps
    assert fa_single.precision.max() == 1.0
    assert np.abs(py_single.stats - fa_single.stats).max() <= 2 * np.finfo(np.float64).eps


# ---------------------------------------------------------------------------------------------
# Warnings
# ---------------------------------------------------------------------------------------------


def _expected_warning_codes(
    gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str
) -> tuple[set[str], set[str]]:
    """``(must_appear, must_not_appear)`` for the four documented codes."""
    must, must_not = set(), set()
    listed = {c["id"] for c in gt["categories"]}
    keys_listed = [(r["category_id"], r["score"]) for r in results if r["category_id"] in listed]
    keys_all = [(r["category_id"], r["score"]) for r in results]
    if len(set(keys_listed)) < len(keys_listed):
        must.add("score-ties")
    elif len(set(keys_all)) == len(keys_all):
        must_not.add("score-ties")
    ids_zero = any(a["id"] == 0 for a in gt["annotations"])
    (must if ids_zero else must_not).add("annotation-id-zero")
    segm_box = iou_type == "segm" and "bbox" in results[0]
    (must if segm_box else must_not).add("segm-results-with-bbox")
    with_ignore = [a for a in gt["annotations"] if "ignore" in a]
    if any(bool(a["ignore"]) != bool(a["iscrowd"]) for a in with_ignore):
        must.add("ignore-overridden")
    elif not with_ignore:
        must_not.add("ignore-overridden")
    return must, must_not


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize(("case", "seed"), _scenarios(DEFAULT_SCENARIOS))
def test_warning_codes(case: str, seed: int, iou_type: str) -> None:
    gt, results = case_inputs(case, seed, iou_type)
    must, must_not = _expected_warning_codes(gt, results, iou_type)
    codes = {w.code for w in ours(case, seed, iou_type, "default").warnings}
    assert must <= codes, f"missing warning codes {sorted(must - codes)}; got {sorted(codes)}"
    assert not (must_not & codes), f"unexpected warning codes {sorted(must_not & codes)}"


@pytest.mark.parametrize(
    ("case", "iou_type", "code"),
    [
        ("score_ties_within_image", "bbox", "score-ties"),
        ("score_ties_across_images", "segm", "score-ties"),
        ("annotation_id_zero", "bbox", "annotation-id-zero"),
        ("annotation_id_zero", "segm", "annotation-id-zero"),
        ("segm_results_with_bbox", "segm", "segm-results-with-bbox"),
        ("ignore_field", "bbox", "ignore-overridden"),
        ("ignore_field", "segm", "ignore-overridden"),
    ],
)
def test_nasty_case_warns(case: str, iou_type: str, code: str) -> None:
    result = ours(case, 0, iou_type, "default")
    warnings = [w for w in result.warnings if w.code == code]
    assert warnings, f"{code} not reported; got {[w.code for w in result.warnings]}"
    assert all(isinstance(w.message, str) and w.message for w in warnings)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_case_has_no_warnings(seed: int, iou_type: str) -> None:
    gt, results = make_case("clean", iou_type, seed)
    expected = run_pycocotools(gt, results, iou_type)
    # no warnings filter here: pytest turns a BenchmarkEvalWarning into an error
    result = benchmark_eval.evaluate(PROTOCOL[iou_type], gt=gt, pred=results, workers=1)
    assert [w.code for w in result.warnings] == []
    problems = parity_problems(result, expected)
    assert not problems, "\n".join(problems)


def test_default_area_ranges_are_the_official_ones() -> None:
    """The harness's defaults and the package's defaults describe the same buckets."""
    got = tuple((a.label, a.lo, a.hi) for a in CocoParams().area_ranges)
    assert got == DEFAULT_AREA_RANGES
