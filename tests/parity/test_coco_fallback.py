"""The pure-Python/numpy paths used when the C kernels were not built give the same numbers.

Without ``benchmark_eval.masks._rle`` the adapter checks RLE with numpy and segm overlaps
come from one pycocotools ``rleIou`` call per image; both must match pycocotools exactly,
like the C path does.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from coco_generators import CASE_NAMES, make_case
from official_coco import run_pycocotools

import benchmark_eval
from benchmark_eval.io import coco_segm as coco_io
from benchmark_eval.masks import rle
from benchmark_eval.protocols import coco_match

CASES = [c for c in CASE_NAMES if c != "pred_unlisted_category"] + ["mixed"]


@pytest.fixture
def no_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rle, "_rle", None)
    monkeypatch.setattr(coco_match, "has_kernels", lambda: False)
    monkeypatch.setattr(coco_io, "can_rasterize", lambda: False)


@pytest.mark.usefixtures("no_kernels")
@pytest.mark.parametrize("case", CASES)
def test_segm_without_kernels_matches_pycocotools(case: str) -> None:
    gt, results = make_case(case, "segm", 3)
    ours = benchmark_eval.evaluate("coco-segm", gt=copy.deepcopy(gt),
                                   pred=copy.deepcopy(results))
    official = run_pycocotools(gt, results, "segm")
    assert np.array_equal(ours.stats, official.stats)
    assert np.array_equal(ours.precision, official.precision)
    assert np.array_equal(ours.recall, official.recall)


@pytest.mark.usefixtures("no_kernels")
def test_fallback_really_ran() -> None:
    gt, _ = make_case("mixed", "segm", 1)
    dataset, _ = benchmark_eval.io.load_coco_ground_truth(gt, masks=True, boxes=False)
    assert dataset.instances.mask_runs is None  # the numpy checker keeps no runs
    assert not coco_match.has_kernels()
