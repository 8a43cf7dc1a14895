"""``protocols.medical`` and ``masks.surface`` on hand-worked volumes: each empty-case rule
(nnU-Net, MONAI, empty_is_one), the two HD95 methods, the ignore label, regions, and the
state contract (merge by concatenation, save / load, shard order irrelevant)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmark_eval.masks.surface import surface, surface_stats, union_box
from benchmark_eval.protocols.medical import LabelProblem, MedicalState, case_state, compute
from benchmark_eval.protocols.medical_state import MedicalParams

NAN = float("nan")


def _line(values: list[int]) -> np.ndarray:
    """A ``(1, 1, n)`` volume: every voxel is a surface voxel (x / y neighbours are outside)."""
    return np.array(values, dtype=np.uint8).reshape(1, 1, -1)


def _state(cases: list[tuple[str, np.ndarray, np.ndarray]], spacing: tuple[float, ...],
           params: MedicalParams) -> MedicalState:
    state = MedicalState.empty(params.keys(), params.fingerprint())
    for name, gt, pred in cases:
        row = case_state(name, gt, pred, spacing, params)
        assert isinstance(row, MedicalState)
        state = state.merge(row)
    return state


def test_surface_is_mask_minus_cross_erosion() -> None:
    m = np.zeros((5, 5, 5), bool)
    m[1:4, 1:4, 1:4] = True  # a 3x3x3 cube: all but its centre is surface
    assert surface(m).sum() == 26
    m[:] = True  # touching the border: the array's outside counts as background
    assert surface(m).sum() == 125 - 27
    assert union_box([None, None], (5, 5, 5)) is None


def test_distances_hand_worked() -> None:
    # gt z = {0, 1}, pred z = {1, 2}, spacing z = 2 mm
    #   pred -> gt: [0, 2]; gt -> pred: [2, 0]; HD 2; ASSD 4 / 4 = 1
    #   MedPy HD95, pooled sorted [0, 0, 2, 2]: index 0.95 * 3 = 2.85 -> 2 + 0.85 * 0 = 2
    #   MONAI HD95, each direction [0, 2]: index 0.95 * 1 -> 0.95 * 2 = 1.9; max 1.9
    #   NSD at 1 mm: one close voxel per side -> 2 / 4
    s = surface_stats(_line([0, 1, 1, 0]) == 1, _line([1, 1, 0, 0]) == 1, (1, 1, 2), 1.0)
    assert (s.hd, s.hd95, s.assd) == (2.0, 2.0, 1.0)
    assert s.hd95_directed == pytest.approx(1.9, abs=1e-12)
    assert (s.close_pred + s.close_ref, s.n_surface_pred + s.n_surface_ref) == (2, 4)


def test_hd95_methods_differ_hand_worked() -> None:
    # gt z = {0}, pred z = {0, 3}, unit spacing: pred -> gt [0, 3], gt -> pred [0]
    #   MedPy pooled [0, 0, 3]: index 0.95 * 2 = 1.9 -> 0 + 0.9 * 3 = 2.7
    #   MONAI directed: pct95([0, 3]) = 0.95 * 3 = 2.85, pct95([0]) = 0 -> 2.85
    #   HD 3; ASSD (0 + 3 + 0) / 3 = 1
    s = surface_stats(_line([1, 0, 0, 1, 0]) == 1, _line([1, 0, 0, 0, 0]) == 1, (1, 1, 1),
                      1.0)
    assert s.hd == 3.0
    assert s.hd95 == pytest.approx(2.7, abs=1e-12)
    assert s.hd95_directed == pytest.approx(2.85, abs=1e-12)
    assert s.assd == 1.0


def _rules_fixture() -> dict[str, dict[str, np.ndarray]]:
    params = MedicalParams(labels=(1, 2))
    # "a": label 1 overlapping (Dice 2*1 / (2+1+1) = 0.5), label 2 both empty
    # "b": label 1 perfect (Dice 1), label 2 only predicted (empty reference)
    cases = [("a", _line([1, 1, 0, 0]), _line([0, 1, 1, 0])),
             ("b", _line([1, 0, 0, 0]), _line([1, 0, 2, 2]))]
    metrics = compute(_state(cases, (1, 1, 2), params), params)
    return {r: v.per_case for r, v in metrics.rules.items()}


def _eq(a: np.ndarray, b: list[list[float]]) -> bool:
    return bool(np.array_equal(a, np.array(b), equal_nan=True))


def test_nnunet_rule_hand_worked() -> None:
    v = _rules_fixture()["nnunet"]
    # Dice NaN only when TP + FP + FN == 0 ("a", label 2); an empty reference scores 0
    assert _eq(v["Dice"], [[0.5, NAN], [1.0, 0.0]])
    assert _eq(v["IoU"], [[1 / 3, NAN], [1.0, 0.0]])
    # distances undefined when a side is empty (MedPy raises there)
    assert _eq(v["HD"], [[2.0, NAN], [0.0, NAN]])
    # NSD (1 mm): "a" label 1 2/4; perfect 1; empty reference: 0 of 2 prediction voxels
    assert _eq(v["NSD"], [[0.5, NAN], [1.0, 0.0]])


def test_monai_rule_hand_worked() -> None:
    v = _rules_fixture()["monai"]
    # DiceMetric(ignore_empty=True): NaN whenever the reference is empty
    assert _eq(v["Dice"], [[0.5, NAN], [1.0, NAN]])
    # one side empty: every distance inf -> HD and ASSD inf, HD95's quantile NaN
    assert _eq(v["HD"], [[2.0, NAN], [0.0, np.inf]])
    assert _eq(v["ASSD"], [[1.0, NAN], [0.0, np.inf]])
    assert np.allclose(v["HD95"], [[1.9, NAN], [0.0, NAN]], equal_nan=True)  # directed
    assert _eq(v["NSD"], [[0.5, NAN], [1.0, 0.0]])


def test_empty_is_one_rule_hand_worked() -> None:
    v = _rules_fixture()["empty_is_one"]
    # both empty: a perfect score (Dice / IoU / NSD 1, distances 0)
    assert _eq(v["Dice"], [[0.5, 1.0], [1.0, 0.0]])
    assert _eq(v["HD"], [[2.0, 0.0], [0.0, NAN]])
    assert _eq(v["NSD"], [[0.5, 1.0], [1.0, 0.0]])


def test_aggregates_hand_worked() -> None:
    params = MedicalParams(labels=(1, 2))
    cases = [("a", _line([1, 1, 0, 0]), _line([0, 1, 1, 0])),
             ("b", _line([1, 0, 0, 0]), _line([1, 0, 2, 2]))]
    m = compute(_state(cases, (1, 1, 2), params), params)
    nn = m.rules["nnunet"]
    # label 1 Dice mean (0.5 + 1) / 2 = 0.75; label 2 nanmean([nan, 0]) = 0
    assert nn.mean["Dice"].tolist() == [0.75, 0.0]
    assert nn.foreground_mean["Dice"] == 0.375
    # MONAI label 2: both NaN -> NaN, so the foreground mean is NaN (nnU-Net's np.mean)
    assert math.isnan(m.rules["monai"].foreground_mean["Dice"])
    assert m.rules["empty_is_one"].mean["Dice"].tolist() == [0.75, 0.5]


def test_ignore_label_hand_worked() -> None:
    # gt [1, 1, 3, 0], pred [1, 0, 1, 1], ignore 3: voxel 2 is left out
    #   TP 1 (v0), FN 1 (v1), FP 1 (v3), TN 0 -> Dice 2 / (2 + 1 + 1) = 0.5
    params = MedicalParams(labels=(1,), ignore_label=3)
    s = _state([("a", _line([1, 1, 3, 0]), _line([1, 0, 1, 1]))], (1, 1, 1), params)
    assert (s.tp[0, 0], s.fp[0, 0], s.fn[0, 0], s.tn[0, 0]) == (1, 1, 1, 0)
    assert compute(s, params).chosen.per_case["Dice"][0, 0] == 0.5


def test_region_hand_worked() -> None:
    # region (1, 2): gt [1, 2, 0] -> [T, T, F], pred [2, 2, 1] -> [T, T, T]: Dice 4 / 5
    params = MedicalParams(labels=(1, 2), regions=((1, 2), (2,)))
    assert params.keys() == ("(1, 2)", "2")
    s = _state([("a", _line([1, 2, 0]), _line([2, 2, 1]))], (1, 1, 1), params)
    assert compute(s, params).chosen.per_case["Dice"][0].tolist() == [0.8, 2 / 3]


def test_values_outside_the_labels_are_problems() -> None:
    params = MedicalParams(labels=(1,))
    got = case_state("a", _line([1, 5, 5]), _line([1, 0, 7]), (1, 1, 1), params)
    assert got == [
        LabelProblem("gt", "GT holds values outside the label list: 5 (2 voxels);"
                           " expected [0, 1]"),
        LabelProblem("pred", "prediction holds values outside the label list: 7 (1 voxels);"
                             " expected [0, 1]")]


def test_wide_label_values_count_like_8_bit() -> None:
    params = MedicalParams(labels=(1, 300))
    gt = np.array([1, 300, 300, 0], np.int32).reshape(1, 1, -1)
    pred = np.array([1, 300, 0, 0], np.int32).reshape(1, 1, -1)
    s = _state([("a", gt, pred)], (1, 1, 1), params)
    assert s.tp.tolist() == [[1, 1]]
    assert s.fn.tolist() == [[0, 1]]


def test_state_merges_in_any_grouping_and_round_trips(tmp_path: Path) -> None:
    params = MedicalParams(labels=(1, 2))
    cases = [(f"c{i}", _line([1, 1, 0, 2][i:] + [0] * i), _line([0, 1, 1, 2]))
             for i in range(3)]
    one = _state(cases, (1, 1, 1), params)
    parts = [_state([c], (1, 1, 1), params) for c in reversed(cases)]
    merged = parts[0].merge(parts[1].merge(parts[2]))
    a, b = compute(one, params), compute(merged, params)
    assert a.case_names == b.case_names == ("c0", "c1", "c2")
    for m in a.chosen.per_case:
        assert np.array_equal(a.chosen.per_case[m], b.chosen.per_case[m], equal_nan=True)
    one.save(tmp_path / "s.npz")
    # MergeableState.__eq__ compares arrays without equal_nan, and undefined distances are
    # NaN: compare field by field
    for back in (MedicalState.load(tmp_path / "s.npz"), one.merge(one.identity())):
        for name in (*MedicalState.COUNTS, *MedicalState.DISTANCES):
            assert np.array_equal(getattr(back, name), getattr(one, name), equal_nan=True)
        assert (back.case_names, back.keys) == (one.case_names, one.keys)


def test_states_of_other_labels_do_not_merge() -> None:
    from benchmark_eval.errors import ConfigError

    a = MedicalState.empty(("1",), MedicalParams(labels=(1,)).fingerprint())
    b = MedicalState.empty(("1",), MedicalParams(labels=(1,), nsd_tolerance=2.0).fingerprint())
    with pytest.raises(ConfigError, match="cannot merge medical states"):
        a.merge(b)


@pytest.mark.parametrize(("fields", "message"), [
    ({"labels": (0, 1)}, "distinct positive"),
    ({"labels": (1,), "ignore_label": 1}, "ignore_label"),
    ({"labels": (1, 2), "nsd_tolerance": (1.0, 2.0, 3.0)}, "nsd_tolerance"),
    ({"labels": (1,), "regions": ((1, 4),)}, "region"),
    ({"labels": (1,), "empty_rule": "mean"}, "empty_rule"),
])
def test_params_refuse(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MedicalParams(**fields)  # type: ignore[arg-type]


def test_import_does_not_load_scipy_or_nibabel() -> None:
    code = ("import sys, benchmark_eval, benchmark_eval.workflows.medical;"
            " print(any(m.split('.')[0] in ('scipy', 'nibabel') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_run_boxes_hold_every_voxel_and_counts_match() -> None:
    from benchmark_eval.masks.runs import PairRuns

    rng = np.random.default_rng(1)
    for _ in range(20):
        shape = tuple(int(s) for s in rng.integers(1, 9, 3))
        gt = (rng.random(shape) < 0.3).astype(np.uint8) * rng.integers(1, 4, shape).astype(
            np.uint8)
        pred = np.roll(gt, 1, axis=int(rng.integers(0, 3)))
        runs = PairRuns.of(gt, pred)
        g, p, n = runs.pair_counts()
        assert n.sum() == gt.size
        for value in (1, 2, 3):
            for side, vol in (("gt", gt), ("pred", pred)):
                box = runs.box([value], side)
                inside = np.zeros(shape, bool)
                if box is not None:
                    inside[box] = True
                assert not ((vol == value) & ~inside).any()
                assert (box is None) == (not (vol == value).any())
        assert int(n[(g == 1) & (p == 1)].sum()) == int(((gt == 1) & (pred == 1)).sum())
