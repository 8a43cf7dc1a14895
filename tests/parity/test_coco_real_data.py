"""Parity on real COCO data: val2014 ground truth for 100 images and cocoapi's published fake
results, against cocoapi's published printout (``val2014_fake_eval_res.txt``, 3 decimals) and
live pycocotools (1e-12). Provenance of the files: ``tests/data/coco_val2014_100/PROVENANCE.md``.

The printout has three blocks, each headed ``type=<iouType>``: ``segm`` (first), ``bbox``
(second) and ``keypoints`` (third, whose ground truth is not in this folder).
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from official_coco import OfficialResult, run_faster_coco_eval, run_pycocotools

import benchmark_eval
from benchmark_eval.errors import BenchmarkEvalWarning

DATA = Path(__file__).resolve().parents[1] / "data" / "coco_val2014_100"
GT_FILE = DATA / "instances_val2014_100.json"
RESULT_FILES = {
    "segm": DATA / "instances_val2014_fakesegm100_results.json",
    "bbox": DATA / "instances_val2014_fakebbox100_results.json",
}
PRINTOUT = DATA / "val2014_fake_eval_res.txt"
PROTOCOL = {"bbox": "coco-bbox", "segm": "coco-segm"}
TOL = 1e-12

_BLOCK_HEADER = re.compile(r"^type=(\w+)\s*$")
_SUMMARY_LINE = re.compile(r"^ Average (?:Precision|Recall)\s.*\] = (-?\d+\.\d{3})\s*$")


def parse_printout(text: str) -> dict[str, list[str]]:
    """``{iouType: [the summary values as printed]}``, in printed order."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        header = _BLOCK_HEADER.match(line)
        if header:
            current = blocks.setdefault(header.group(1), [])
            continue
        value = _SUMMARY_LINE.match(line)
        if value and current is not None:
            current.append(value.group(1))
    return blocks


@functools.cache
def printed() -> dict[str, list[str]]:
    return parse_printout(PRINTOUT.read_text())


@functools.cache
def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@functools.cache
def official(iou_type: str) -> OfficialResult:
    return run_pycocotools(_load(GT_FILE), _load(RESULT_FILES[iou_type]), iou_type)


@functools.cache
def ours(iou_type: str) -> Any:
    with warnings.catch_warnings():
        # checked below on result.warnings, not through the warnings module
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        return benchmark_eval.evaluate(
            PROTOCOL[iou_type], gt=str(GT_FILE), pred=str(RESULT_FILES[iou_type]), workers=1
        )


def _formatted(stats: Any) -> list[str]:
    return [f"{float(v):0.3f}" for v in stats]


def test_printout_has_the_expected_blocks() -> None:
    blocks = printed()
    assert list(blocks) == ["segm", "bbox", "keypoints"]
    assert len(blocks["segm"]) == 12
    assert len(blocks["bbox"]) == 12
    assert len(blocks["keypoints"]) == 10


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_live_pycocotools_reproduces_printout(iou_type: str) -> None:
    """The data and harness are what the printout was made from."""
    assert _formatted(official(iou_type).stats) == printed()[iou_type]


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_package_reproduces_printout(iou_type: str) -> None:
    assert _formatted(ours(iou_type).stats) == printed()[iou_type]


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_package_matches_live_pycocotools(iou_type: str) -> None:
    result, reference = ours(iou_type), official(iou_type)
    for name in ("stats", "precision", "recall", "scores"):
        got = np.asarray(getattr(result, name), dtype=np.float64)
        expected = getattr(reference, name)
        assert got.shape == expected.shape, name
        assert np.array_equal(got == -1, expected == -1), name
        assert np.abs(got - expected).max() <= TOL, name
    assert list(result.category_ids) == reference.category_ids


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_package_matches_faster_coco_eval(iou_type: str) -> None:
    reference = run_faster_coco_eval(_load(GT_FILE), _load(RESULT_FILES[iou_type]), iou_type)
    assert np.abs(np.asarray(ours(iou_type).stats) - reference.stats).max() <= TOL


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_real_results_warn_as_documented(iou_type: str) -> None:
    """The published results have tied scores and no bbox in the segm file; the GT has no
    id 0 and no ``ignore`` field."""
    results = _load(RESULT_FILES[iou_type])
    gt = _load(GT_FILE)
    codes = {w.code for w in ours(iou_type).warnings}
    keys = [(r["category_id"], r["score"]) for r in results]
    assert ("score-ties" in codes) == (len(set(keys)) < len(keys))
    assert ("segm-results-with-bbox" in codes) == ("bbox" in results[0] and iou_type == "segm")
    assert ("annotation-id-zero" in codes) == any(a["id"] == 0 for a in gt["annotations"])
    assert ("ignore-overridden" in codes) == any("ignore" in a for a in gt["annotations"])
