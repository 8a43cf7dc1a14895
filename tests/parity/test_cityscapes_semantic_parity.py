"""``cityscapes-semantic`` against cityscapesScripts 2.3.0 ``evalPixelLevelSemanticLabeling``
run live (with iIoU) on seeded scenes: every class and category IoU / iIoU, the four
averages and the confusion matrix."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cityscapes_generators import THINGS, VOID, make_case, write_case
from official_cityscapes import official_pixel
from PIL import Image

import benchmark_eval
from benchmark_eval.report.cityscapes import CityscapesSemanticResult
from benchmark_eval.schema.cityscapes import (
    CATEGORIES,
    LABELS,
    id_to_train_id_table,
    train_id_to_id_table,
)

TOL = 1e-12
AVERAGES = {"IoU_class": "averageScoreClasses", "iIoU_class": "averageScoreInstClasses",
            "IoU_category": "averageScoreCategories",
            "iIoU_category": "averageScoreInstCategories"}


def _files(gt: Path, pred: Path) -> tuple[list[Path], list[Path]]:
    gts = sorted(gt.rglob("*_gtFine_labelIds.png"))
    return gts, [next(pred.rglob(g.name.replace("_gtFine_labelIds", "_pred"))) for g in gts]


def _same(ours: float, ref: float) -> bool:
    return math.isnan(ref) if math.isnan(ours) else abs(ours - ref) <= TOL


def _compare(ours: CityscapesSemanticResult, ref: dict[str, Any]) -> float:
    """Max abs difference over every value (raises on a NaN mismatch)."""
    c = ours.computed
    pairs = [(c.iou[lb.id], ref["classScores"][lb.name]) for lb in LABELS if lb.id >= 0]
    pairs += [(c.iiou[lb.id], ref["classInstScores"][lb.name]) for lb in LABELS if lb.id >= 0]
    pairs += [(c.category_iou[i], ref["categoryScores"][n]) for i, n in enumerate(CATEGORIES)]
    pairs += [(c.category_iiou[i], ref["categoryInstScores"][n])
              for i, n in enumerate(CATEGORIES)]
    pairs += [(c.metrics[k], ref[v]) for k, v in AVERAGES.items()]
    worst = 0.0
    for mine, theirs in pairs:
        assert _same(float(mine), float(theirs)), (mine, theirs)
        if not math.isnan(theirs):
            worst = max(worst, abs(float(mine) - float(theirs)))
    assert np.array_equal(ours.confusion, np.array(ref["confMatrix"], dtype=np.int64))
    return worst


@pytest.mark.parametrize("seed", range(5))
def test_semantic_matches_cityscapesscripts(seed: int, tmp_path: Path) -> None:
    scenes = make_case(seed)
    gt, sem, _ = write_case(scenes, tmp_path)
    ref = official_pixel(*_files(gt, sem), tmp_path)
    ours = benchmark_eval.evaluate("cityscapes-semantic", gt=gt, pred=sem)
    assert _compare(ours, ref) <= TOL
    # the scene has what the official rules treat specially
    conf = ours.confusion
    valid = [lb.id for lb in LABELS if lb.id >= 0 and not lb.ignore_in_eval]
    assert conf[np.ix_(valid, list(VOID))].sum() > 0  # void ids predicted on valid pixels
    only_predicted = [t for t in THINGS if conf[t].sum() == 0 and conf[:, t].sum() > 0]
    assert only_predicted
    assert all(ours.computed.iou[t] == 0.0 for t in only_predicted)
    assert ours.state.inst_size.min() < 100  # small instances are weighted too
    assert any(math.isnan(ref["classScores"][lb.name]) for lb in LABELS if lb.id in valid)


def test_train_id_predictions_match_the_official_run_on_label_ids(tmp_path: Path) -> None:
    gt, sem, _ = write_case(make_case(7), tmp_path)
    to_train, to_id = id_to_train_id_table(), train_id_to_id_table()
    train_dir, back_dir = tmp_path / "pred_train", tmp_path / "pred_back"
    for pred in sorted(sem.rglob("*.png")):
        train = to_train[np.asarray(Image.open(pred))]
        for folder, values in ((train_dir, train), (back_dir, to_id[train].astype(np.uint8))):
            folder.mkdir(exist_ok=True)
            Image.fromarray(values).save(folder / pred.name)
    ref = official_pixel(*_files(gt, back_dir), tmp_path)
    ours = benchmark_eval.evaluate("cityscapes-semantic", gt=gt, pred=train_dir,
                                   pred_ids="trainIds")
    assert _compare(ours, ref) <= TOL
    assert ours.params.pred_ids == "trainIds"
