"""``semantic`` against cityscapesScripts 2.3.0 (live) and the mmseg / detectron2 formulas.

The ``cityscapes`` rule with the ``semantic-cityscapes`` preset must give the official
per-class IoU and class average on label-id maps. The ``mmseg`` and ``detectron2`` rules are
compared with ``semantic_references`` (their published formulas), which are first checked
against numbers worked out by hand below.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from official_cityscapes import official_pixel_maps
from semantic_generators import (
    CITYSCAPES_VALID_IDS,
    Pairs,
    cityscapes_case,
    generic_case,
)
from semantic_references import detectron2_reference, mmseg_reference

import benchmark_eval
from benchmark_eval.report.semantic import SemanticResult

CONFIGS = Path(__file__).resolve().parents[2] / "benchmark_eval" / "presets"
TOL = 1e-12


def _config(name: str) -> dict[str, Any]:
    data = json.loads((CONFIGS / name).read_text())
    return {k: v for k, v in data.items() if k not in ("protocol", "description")}


def _ours(pairs: Pairs, **params: Any) -> SemanticResult:
    return benchmark_eval.evaluate("semantic", gt={n: g for n, g, _ in pairs},
                                   pred={n: p for n, _, p in pairs}, **params)


def _close(ours: float | None, ref: float) -> bool:
    """``None`` (our undefined) matches NaN; numbers match within TOL."""
    if math.isnan(ref):
        return ours is None
    return ours is not None and abs(ours - ref) <= TOL


def _per_class(result: SemanticResult, key: str) -> np.ndarray:
    return np.array([np.nan if v[key] is None else v[key] for v in result.per_class.values()])


# ------------------------------------------------------------------- cityscapesScripts


def test_cityscapes_config_is_the_official_label_table() -> None:
    from cityscapesscripts.helpers.labels import labels

    cfg = _config("semantic-cityscapes.json")
    expected = {str(lb.id): 255 if lb.ignoreInEval else lb.trainId for lb in labels
                if lb.id >= 0}
    assert cfg["label_map"] == expected
    by_train = {lb.trainId: lb.name for lb in labels if not lb.ignoreInEval and lb.id >= 0}
    assert cfg["class_names"] == [by_train[t] for t in range(19)]
    assert cfg["rule"] == "cityscapes"


@pytest.mark.parametrize("seed", range(6))
def test_cityscapes_rule_gives_official_iou(seed: int, tmp_path: Path) -> None:
    pairs = cityscapes_case(seed)
    official = official_pixel_maps(pairs, tmp_path)
    ours = _ours(pairs, params=_config("semantic-cityscapes.json"))
    nan_classes = 0
    for name, values in ours.per_class.items():
        assert _close(values["IoU"], official.class_scores[name]), name
        nan_classes += math.isnan(official.class_scores[name])
    assert nan_classes >= 1  # the generator's class absent everywhere
    assert _close(ours.metrics["mIoU"], official.average)
    # the matrix too: official label ids (valid rows and columns) vs our train ids
    ids = list(CITYSCAPES_VALID_IDS)
    assert np.array_equal(ours.confusion[:19, :19], official.confusion[np.ix_(ids, ids)])
    voids = [i for i in range(34) if i not in ids]
    assert np.array_equal(ours.confusion[:19, 19], official.confusion[np.ix_(ids, voids)]
                          .sum(axis=1))  # void ids predicted on valid pixels: misses
    assert {w.code for w in ours.warnings} >= {"no-class-predictions",
                                               "predicted-only-classes"}


def test_cityscapes_perfect_and_all_void(tmp_path: Path) -> None:
    pairs = cityscapes_case(7)
    perfect = [(n, g, g.copy()) for n, g, _ in pairs]
    official = official_pixel_maps(perfect, tmp_path / "perfect")
    ours = _ours(perfect, params=_config("semantic-cityscapes.json"))
    assert official.average == 1.0
    assert ours.metrics["mIoU"] == 1.0
    void = [(n, np.zeros_like(g), p) for n, g, p in pairs]  # GT all 'unlabeled'
    official = official_pixel_maps(void, tmp_path / "void")
    ours = _ours(void, params=_config("semantic-cityscapes.json"))
    # nothing is evaluated: no FP on ignored pixels, so every IoU is NaN, as the average
    assert all(math.isnan(official.class_scores[n]) for n in ours.per_class)
    assert math.isnan(official.average)
    assert all(values["IoU"] is None for values in ours.per_class.values())
    assert ours.metrics["mIoU"] is None


# ---------------------------------------------------------- hand-worked mmseg/detectron2

# C = 5, ignore 255; prediction 5 (= num_classes) is out of range.
#   image A (2x4)  GT [[0, 0, 1, 255],      pred [[0, 1, 1, 3],
#                      [0, 2, 1,   1]]            [5, 2, 1, 3]]
#   image B (1x1)  GT [[2]]                 pred [[3]]
# Pixels (gt, pred), the ignored (255, 3) left out:
#   A: (0,0) (0,1) (1,1) (0,5) (2,2) (1,1) (1,3)      B: (2,3)
# class 3 is hallucinated (only predicted), class 4 absent everywhere.
HAND_A = (np.array([[0, 0, 1, 255], [0, 2, 1, 1]], np.uint8),
          np.array([[0, 1, 1, 3], [5, 2, 1, 3]], np.uint8))
HAND_B = (np.array([[2]], np.uint8), np.array([[3]], np.uint8))
NAN = math.nan

# mmseg: areas (the pixel predicted 5 falls outside torch.histc's bins but stays in GT 0)
#   label [3, 3, 2, 0, 0]  pred [1, 3, 1, 2, 0]  intersect [1, 2, 1, 0, 0]
#   union = pred + label - intersect = [3, 4, 2, 2, 0]
#   IoU  [1/3, 1/2, 1/2, 0, nan]            mIoU  = (1/3 + 1/2 + 1/2 + 0) / 4 = 1/3
#   Acc  [1/3, 2/3, 1/2, nan, nan]          mAcc  = (1/3 + 2/3 + 1/2) / 3 = 1/2
#   Dice [2/4, 4/6, 2/3, 0, nan]            mDice = (1/2 + 2/3 + 2/3 + 0) / 4 = 11/24
#   Precision [1, 2/3, 1, 0, nan]           aAcc  = 4 / 8 = 1/2
#   fwIoU (ours; weights label / 8) = 3/8 * 1/3 + 3/8 * 1/2 + 2/8 * 1/2 = 7/16
MMSEG_HAND = {
    "IoU": [1 / 3, 1 / 2, 1 / 2, 0.0, NAN], "Acc": [1 / 3, 2 / 3, 1 / 2, NAN, NAN],
    "Dice": [2 / 4, 4 / 6, 2 / 3, 0.0, NAN], "Precision": [1.0, 2 / 3, 1.0, 0.0, NAN],
    "mIoU": 1 / 3, "mAcc": 1 / 2, "mDice": 11 / 24, "aAcc": 1 / 2, "fwIoU": 7 / 16,
}
# detectron2: the pixel predicted 5 goes to the ignore row and leaves every count
#   pos_gt [2, 3, 2, 0, 0]  pos_pred [1, 3, 1, 2, 0]  tp [1, 2, 1, 0, 0]; valid: 0, 1, 2
#   Acc [1/2, 2/3, 1/2, nan, nan]            mACC = (1/2 + 2/3 + 1/2) / 3 = 5/9
#   union [2, 4, 2, 2, 0]  IoU [1/2, 1/2, 1/2, nan, nan] (class 3: no GT -> nan)
#   mIoU = 1/2, fwIoU = (2/7 + 3/7 + 2/7) * 1/2 = 1/2, pACC = 4 / 7
#   Dice (ours, same validity) [2/3, 4/6, 2/3, nan, nan]  mDice = 2/3
D2_HAND = {
    "IoU": [1 / 2, 1 / 2, 1 / 2, NAN, NAN], "Acc": [1 / 2, 2 / 3, 1 / 2, NAN, NAN],
    "Dice": [2 / 3, 4 / 6, 2 / 3, NAN, NAN],
    "mIoU": 1 / 2, "mAcc": 5 / 9, "mDice": 2 / 3, "aAcc": 4 / 7, "fwIoU": 1 / 2,
}


def _assert_array(got: np.ndarray, expected: list[float]) -> None:
    assert np.allclose(got, expected, rtol=0, atol=TOL, equal_nan=True), (got, expected)


def test_references_reproduce_the_hand_worked_example() -> None:
    mm = mmseg_reference([HAND_A[::-1], HAND_B[::-1]], 5)
    _assert_array(mm.iou, MMSEG_HAND["IoU"])
    _assert_array(mm.acc, MMSEG_HAND["Acc"])
    _assert_array(mm.dice, MMSEG_HAND["Dice"])
    _assert_array(mm.precision, MMSEG_HAND["Precision"])
    assert (mm.miou, mm.macc, mm.aacc) == pytest.approx((1 / 3, 1 / 2, 1 / 2), abs=TOL)
    assert mm.mdice == pytest.approx(11 / 24, abs=TOL)
    d2 = detectron2_reference([HAND_A[::-1], HAND_B[::-1]], 5)
    _assert_array(d2.iou, D2_HAND["IoU"])
    _assert_array(d2.acc, D2_HAND["Acc"])
    assert (d2.miou, d2.macc, d2.fwiou, d2.pacc) == pytest.approx((1 / 2, 5 / 9, 1 / 2, 4 / 7),
                                                                  abs=TOL)


@pytest.mark.parametrize(("rule", "expected"), [("mmseg", MMSEG_HAND), ("detectron2", D2_HAND),
                                                 ("cityscapes", MMSEG_HAND)])
def test_rules_reproduce_the_hand_worked_example(rule: str, expected: dict[str, Any]) -> None:
    pairs = [("A", *HAND_A), ("B", *HAND_B)]
    ours = _ours(pairs, num_classes=5, rule=rule, out_of_range="no-class")
    for key in ("IoU", "Acc", "Dice", "Precision"):
        if key in expected:
            _assert_array(_per_class(ours, key), expected[key])
    for key in ("mIoU", "mAcc", "mDice", "aAcc", "fwIoU"):
        assert _close(ours.metrics[key], expected[key]), key


# ---------------------------------------------------------- seeded cases vs references


@pytest.mark.parametrize("seed", range(8))
def test_mmseg_rule_matches_reference(seed: int) -> None:
    c = 4 + seed % 5
    pairs = generic_case(seed, c)
    ref = mmseg_reference([(p, g) for _, g, p in pairs], c)
    ours = _ours(pairs, num_classes=c, rule="mmseg", out_of_range="no-class")
    for key, arr in (("IoU", ref.iou), ("Acc", ref.acc), ("Dice", ref.dice),
                     ("Precision", ref.precision)):
        got = _per_class(ours, key)
        assert np.allclose(got, arr, rtol=0, atol=TOL, equal_nan=True), key
    assert np.isnan(ref.iou).sum() == 1  # the class absent everywhere
    assert (ref.iou == 0).sum() >= 1  # the hallucinated class
    for key, value in (("mIoU", ref.miou), ("mAcc", ref.macc), ("mDice", ref.mdice),
                       ("aAcc", ref.aacc)):
        assert _close(ours.metrics[key], value), key


@pytest.mark.parametrize("seed", range(8))
def test_detectron2_rule_matches_reference(seed: int) -> None:
    c = 4 + seed % 5
    # detectron2 cannot take the ignore value as a prediction: only num_classes
    pairs = [(n, g, np.where(p == 255, c, p).astype(np.uint8))
             for n, g, p in generic_case(seed, c)]
    ref = detectron2_reference([(p, g) for _, g, p in pairs], c)
    ours = _ours(pairs, num_classes=c, rule="detectron2", out_of_range="no-class")
    assert np.allclose(_per_class(ours, "IoU"), ref.iou, rtol=0, atol=TOL, equal_nan=True)
    assert np.allclose(_per_class(ours, "Acc"), ref.acc, rtol=0, atol=TOL, equal_nan=True)
    assert np.isnan(ref.iou).sum() == 2  # absent everywhere + hallucinated
    for key, value in (("mIoU", ref.miou), ("mAcc", ref.macc), ("fwIoU", ref.fwiou),
                       ("aAcc", ref.pacc)):
        assert _close(ours.metrics[key], value), key
    assert "no-class-predictions" in {w.code for w in ours.warnings}
