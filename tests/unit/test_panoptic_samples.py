"""``data_samples/panoptic``: reproducible from its script, valid, scored as the official
algorithm scores it."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import SAMPLES, assert_same_files, sample_script
from official_panoptic import run_official

import benchmark_eval

PANOPTIC = SAMPLES / "panoptic"


def test_samples_are_small_and_reproducible(tmp_path: Path) -> None:
    written = sample_script("make_panoptic_samples").make(tmp_path)
    assert len(written) == 8
    assert assert_same_files(written, tmp_path, PANOPTIC) < 100_000


def test_samples_contain_what_the_readme_promises() -> None:
    gt = json.loads((PANOPTIC / "gt.json").read_text())
    segments = [s for a in gt["annotations"] for s in a["segments_info"]]
    assert len(gt["annotations"]) == 3
    assert sum(s["iscrowd"] for s in segments) == 1
    assert max(s["id"] for s in segments) > 65535
    assert {c["isthing"] for c in gt["categories"]} == {0, 1}


def test_samples_validate_and_score_as_official() -> None:
    gt, pred = PANOPTIC / "gt.json", PANOPTIC / "pred.json"
    assert benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred) == []
    r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    official = run_official(gt, pred)
    for key, value in official.metrics.items():
        assert r.metrics[key] == value, key
    assert 0 < r.metrics["PQ"] < 1
    assert r.state.fp.sum() > 0
    assert r.state.fn.sum() > 0
