"""``data_samples/``: the tiny COCO sample is reproducible, valid, and scores as pycocotools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES, assert_same_files, sample_script
from official_coco import run_pycocotools

import benchmark_eval
from benchmark_eval import validate

COCO = SAMPLES / "coco"
FILES = ("instances.json", "results_segm.json", "results_bbox.json")


def test_samples_are_small_and_reproducible(tmp_path: Path) -> None:
    assert sum((COCO / name).stat().st_size for name in FILES) < 200_000
    written = sample_script("make_samples").make(tmp_path)
    assert sorted(p.name for p in written) == sorted(FILES)
    assert_same_files(written, tmp_path, COCO)


def test_samples_contain_what_the_readme_promises() -> None:
    gt = json.loads((COCO / "instances.json").read_text())
    segm = json.loads((COCO / "results_segm.json").read_text())
    bbox = json.loads((COCO / "results_bbox.json").read_text())
    assert len(gt["images"]) == 6
    assert len({(i["height"], i["width"]) for i in gt["images"]}) == 6
    assert len(gt["categories"]) == 4
    annotated = {a["image_id"] for a in gt["annotations"]}
    assert [i["id"] for i in gt["images"] if i["id"] not in annotated] == [6]
    polygons = [a["segmentation"] for a in gt["annotations"] if not a["iscrowd"]]
    assert all(isinstance(p, list) for p in polygons)
    assert any(len(p) > 1 for p in polygons)  # a multi-part polygon
    crowd = [a for a in gt["annotations"] if a["iscrowd"]]
    assert len(crowd) == 1
    assert isinstance(crowd[0]["segmentation"]["counts"], list)  # uncompressed RLE
    assert all(isinstance(d["segmentation"]["counts"], str) for d in segm)
    assert all("bbox" not in d for d in segm)
    scores = [d["score"] for d in segm]
    assert len(set(scores)) < len(scores)  # a tie
    assert any(d["image_id"] == 6 for d in segm)  # a false positive on the empty image
    assert [(d["image_id"], d["category_id"], d["score"]) for d in bbox] == [
        (d["image_id"], d["category_id"], d["score"]) for d in segm]


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_samples_validate_cleanly(iou_type: str) -> None:
    pred = COCO / f"results_{iou_type}.json"
    assert validate(f"coco-{iou_type}", gt=COCO / "instances.json", pred=pred) == []


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_samples_score_as_pycocotools(iou_type: str) -> None:
    gt = json.loads((COCO / "instances.json").read_text())
    results = json.loads((COCO / f"results_{iou_type}.json").read_text())
    live = run_pycocotools(gt, results, iou_type)
    ours = benchmark_eval.evaluate(f"coco-{iou_type}", gt=COCO / "instances.json",
                                   pred=COCO / f"results_{iou_type}.json")
    assert np.array_equal(ours.stats, live.stats)
    assert np.array_equal(ours.precision, live.precision)
    assert np.array_equal(ours.recall, live.recall)
    assert (live.stats > 0).all()  # every summary number is defined and non-zero
    assert [w.code for w in ours.warnings] == ["score-ties"]
