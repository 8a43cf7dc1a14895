"""``data_samples/cityscapes``: reproducible from its script, and scored as cityscapesScripts
2.3.0 scores it (run live)."""

from __future__ import annotations

import math
from pathlib import Path

from helpers import SAMPLES, assert_same_files, sample_script
from official_cityscapes import official_instance, official_pixel
from official_panoptic import run_official

import benchmark_eval

CITYSCAPES = SAMPLES / "cityscapes"
GT = CITYSCAPES / "gtFine"
RESULTS = CITYSCAPES / "results"


def test_samples_are_small_and_reproducible(tmp_path: Path) -> None:
    written = sample_script("make_cityscapes_samples").make(tmp_path)
    assert len(written) == 40
    assert assert_same_files(written, tmp_path, CITYSCAPES) < 100_000


def test_samples_score_as_cityscapesscripts(tmp_path: Path) -> None:
    gts = sorted(GT.rglob("*_gtFine_labelIds.png"))
    preds = [RESULTS / "semantic" / g.name.replace("_gtFine_labelIds", "_pred") for g in gts]
    pixel = official_pixel(gts, preds, tmp_path)
    ours = benchmark_eval.evaluate("cityscapes-semantic", gt=GT, pred=RESULTS / "semantic")
    assert abs(ours.metrics["IoU_class"] - pixel["averageScoreClasses"]) <= 1e-12
    assert abs(ours.metrics["iIoU_class"] - pixel["averageScoreInstClasses"]) <= 1e-12
    assert abs(ours.metrics["iIoU_category"] - pixel["averageScoreInstCategories"]) <= 1e-12

    gts = sorted(GT.rglob("*_gtFine_instanceIds.png"))
    txts = [RESULTS / "instance" / g.name.replace("_gtFine_instanceIds.png", "_pred.txt")
            for g in gts]
    averages, _ = official_instance(gts, txts, RESULTS / "instance")
    inst = benchmark_eval.evaluate("cityscapes-instance", gt=GT, pred=RESULTS / "instance")
    assert abs(inst.metrics["AP"] - averages["allAp"]) <= 1e-12
    assert abs(inst.metrics["AP50"] - averages["allAp50%"]) <= 1e-12
    assert inst.per_class["truck"]["AP"] is None
    assert math.isnan(averages["classes"]["truck"]["ap"])

    gt_json = GT / "cityscapes_panoptic_val.json"
    pred_json = RESULTS / "panoptic.json"
    pq = run_official(gt_json, pred_json, pred_dir=RESULTS / "panoptic").average_pq()
    pan = benchmark_eval.evaluate("cityscapes-panoptic", gt=gt_json, pred=pred_json)
    assert abs(pan.metrics["PQ"] - pq["All"]["pq"]) <= 1e-12
    assert pan.metrics["N"] == pq["All"]["n"]
