"""Invalid Cityscapes inputs: ``evaluate`` stops at the first problem naming file (and line),
``validate`` lists them all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synth_cityscapes import Tree, write_tree

import benchmark_eval
from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    MissingPredictionError,
)

# 12 x 12 road with a 10 x 10 car (100 px: large enough to be an instance-level target)
INSTANCES = np.full((12, 12), 7, np.uint16)
INSTANCES[1:11, 1:11] = 26000
LABELS = np.where(INSTANCES < 1000, INSTANCES, INSTANCES // 1000).astype(np.uint8)
KEYS = ("a_000000_000001", "a_000000_000002")


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    mask = INSTANCES == 26000
    return write_tree(tmp_path, dict.fromkeys(KEYS, (LABELS, INSTANCES)),
                      sem=dict.fromkeys(KEYS, LABELS),
                      inst={key: [(26, 0.9, mask)] for key in KEYS})


def test_clean_inputs_validate_and_score(tree: Tree) -> None:
    assert benchmark_eval.validate("cityscapes-semantic", gt=tree.gt, pred=tree.sem) == []
    assert benchmark_eval.validate("cityscapes-instance", gt=tree.gt, pred=tree.inst) == []
    r = benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem, workers=2)
    assert r.per_class["car"] == {"IoU": 1.0, "iIoU": 1.0}
    r = benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst)
    assert r.per_class["car"] == {"AP": 1.0, "AP50": 1.0}


def test_semantic_prediction_problems(tree: Tree) -> None:
    first, second = (tree.sem / f"{k}_pred.png" for k in KEYS)
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(first)  # wrong size
    bad = LABELS.copy()
    bad[0, 0] = 40  # not a label id (the official C path writes outside its matrix)
    Image.fromarray(bad).save(second)
    with pytest.raises(ConsistencyError) as exc:
        benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    assert str(exc.value).startswith(f"{first}: prediction is 3x3 (WxH) but the ground truth")
    problems = benchmark_eval.validate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    assert [p.file for p in problems] == [str(first), str(second)]
    assert problems[1].message == ("predicted label ids not in the Cityscapes label table"
                                   " (ids 0..33): 40 (1 px)")
    Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(first)  # colour-coded
    with pytest.raises(FormatError, match=r"has 3 channels \(RGB\)"):
        benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)


def test_semantic_ground_truth_problems(tree: Tree) -> None:
    gt_file = next(tree.gt.rglob(f"{KEYS[0]}_gtFine_labelIds.png"))
    Image.fromarray(np.full((12, 12), 200, np.uint8)).save(gt_file)
    (tree.sem / f"{KEYS[1]}_pred.png").unlink()
    problems = benchmark_eval.validate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    assert [(p.file, p.message.split(":")[0]) for p in problems] == [
        (str(next(tree.gt.rglob(f"{KEYS[1]}_gtFine_labelIds.png"))),
         f"no prediction for image {KEYS[1]}"),
        (str(gt_file), "label ids not in the Cityscapes label table (ids 0..33)")]
    with pytest.raises(MissingPredictionError):
        benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)


def test_instance_prediction_problems(tree: Tree) -> None:
    txt = tree.inst / f"{KEYS[0]}_pred.txt"
    txt.write_text("masks/nope.png 26 0.5\nmasks/a_000000_000001_0.png 26\n")
    small = tree.inst / "masks" / f"{KEYS[1]}_0.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(small)
    with pytest.raises(FormatError) as exc:
        benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst)
    assert str(exc.value) == (f"{txt}: line 2: expected 'MASK.png LABEL_ID CONFIDENCE'"
                              " (3 fields), got 2: 'masks/a_000000_000001_0.png 26'")
    txt.write_text("masks/nope.png 26 0.5\n")
    problems = benchmark_eval.validate("cityscapes-instance", gt=tree.gt, pred=tree.inst)
    assert [str(p) for p in problems] == [
        f"{tree.inst / 'masks' / 'nope.png'}: file not found (line 1 of {txt})",
        f"{small}: mask is 4x4 (WxH) but the ground truth is 12x12 (line 1 of"
        f" {tree.inst / (KEYS[1] + '_pred.txt')})"]


def test_instance_ground_truth_problems(tree: Tree) -> None:
    gt_file = next(tree.gt.rglob(f"{KEYS[0]}_gtFine_instanceIds.png"))
    Image.fromarray(np.full((12, 12), 40001, np.uint16)).save(gt_file)
    with pytest.raises(ConsistencyError, match="40001"):
        benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst)


def test_options_are_checked(tree: Tree) -> None:
    with pytest.raises(ConfigError, match="pred_ids"):
        benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem,
                                pred_ids="colors")
    with pytest.raises(ConfigError, match="no parameters"):
        benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst,
                                params={"x": 1})


def test_notices_for_official_crashes_and_predicted_only_classes(tree: Tree) -> None:
    # the only car prediction lies on the void corner: every threshold has no TP/FP record
    # for car (cityscapesScripts: IndexError), AP 0 here; a person predicted on road pixels
    corner = np.zeros((12, 12), bool)
    corner[11, 11] = True
    labels = LABELS.copy()
    labels[11, 11] = 0
    for key in KEYS:
        gt_labels = next(tree.gt.rglob(f"{key}_gtFine_labelIds.png"))
        Image.fromarray(labels).save(gt_labels)
        ids = INSTANCES.copy()
        ids[11, 11] = 0
        Image.fromarray(ids).save(gt_labels.with_name(f"{key}_gtFine_instanceIds.png"))
        Image.fromarray(corner.astype(np.uint8) * 255).save(tree.inst / "masks" / f"{key}_0.png")
        pred = labels.copy()
        pred[0, 0] = 24
        Image.fromarray(pred).save(tree.sem / f"{key}_pred.png")
    r = benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst)
    assert r.per_class["car"] == {"AP": 0.0, "AP50": 0.0}
    assert [w.code for w in r.warnings] == ["no-scored-predictions"]
    s = benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    assert s.per_class["person"]["IoU"] == 0.0
    assert [w.code for w in s.warnings] == ["predicted-only-classes"]
    assert s.warnings[0].message.endswith(": person")
