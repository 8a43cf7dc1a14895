"""Parity of the TIDE breakdown with tidecv 1.0.1, run live on generated cases.

Every case is scored by tidecv (from JSON files, through its own ``datasets.COCO`` or
``datasets.LVIS`` loader) and by ``benchmark_eval.analysis.tide`` (from the same files,
through ours); tidecv's AP, the six main dAPs, the two special dAPs and the error counts must
agree within 1e-12 (observed: identical doubles; the mean over classes is summed in tidecv's
dict order for that). Where tidecv divides by zero (a fix leaves no class to average) both
sides give NaN for that value (see ``official_tide.run_tidecv``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from coco_generators import CASE_NAMES, make_case
from lvis_generators import LVIS_CASES, make_lvis_case
from official_tide import TidecvResult, run_tidecv
from tide_generators import TIDE_CASE_NAMES, make_tide_case

from benchmark_eval.analysis import MAIN_ERRORS, SPECIAL_ERRORS, TideResult, tide, tide_match
from benchmark_eval.errors import ConsistencyError
from benchmark_eval.masks import rle

TOL = 1e-12
IOU_TYPES = ("bbox", "segm")
# coco_generators cases tidecv and our loader both take (the two left out: see the tests below)
COCO_CASES = tuple(c for c in CASE_NAMES if c not in ("no_gt_at_all", "pred_unlisted_category"))


def _same(a: float, b: float) -> bool:
    """Within TOL, or both NaN (tidecv divided by zero, see ``run_tidecv``)."""
    return abs(a - b) <= TOL or (math.isnan(a) and math.isnan(b))


def _compare(ours: TideResult, ref: TidecvResult) -> None:
    assert abs(ours.ap - ref.ap) <= TOL
    for key in MAIN_ERRORS:
        assert _same(ours.main[key], ref.main[key]), key
    for key in SPECIAL_ERRORS:
        assert _same(ours.special[key], ref.special[key]), key
    assert ours.counts == {k: ref.counts[k] for k in MAIN_ERRORS}
    assert ours.to_report() == {"main": ours.main, "special": ours.special}


def _check(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
           folder: Path, gt_format: str = "coco") -> None:
    ref = run_tidecv(gt, results, iou_type, folder, gt_format)
    ours = tide(folder / "gt.json", folder / "results.json", iou_type=iou_type,  # type: ignore[arg-type]
                gt_format=gt_format)  # type: ignore[arg-type]
    _compare(ours, ref)
    again = tide(gt, results, iou_type=iou_type, gt_format=gt_format)  # type: ignore[arg-type]
    np.testing.assert_equal(again.to_report(), ours.to_report())  # NaN == NaN here


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", TIDE_CASE_NAMES)
def test_tide_cases(name: str, seed: int, iou_type: str, tmp_path: Path) -> None:
    _check(*make_tide_case(name, iou_type, seed), iou_type, tmp_path)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", range(16))
def test_tide_mixed(seed: int, iou_type: str, tmp_path: Path) -> None:
    _check(*make_tide_case("mixed", iou_type, seed), iou_type, tmp_path)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("name", [*COCO_CASES, "mixed"])
def test_coco_parity_cases(name: str, iou_type: str, tmp_path: Path) -> None:
    """The pycocotools parity cases (polygons, RLE, crowd formats, ties, empty images...)."""
    _check(*make_case(name, iou_type, 0), iou_type, tmp_path)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", LVIS_CASES)
def test_lvis_cases(name: str, seed: int, iou_type: str, tmp_path: Path) -> None:
    """tidecv's LVIS loader: 300 detections per image, federated labels as ignore regions.
    It also wants ``coco_url`` on images and ``synset`` on categories."""
    gt, results = make_lvis_case(name, iou_type, seed)
    for image in gt["images"]:
        image["coco_url"] = f"http://images.cocodataset.org/val2017/{image['id']:012d}.jpg"
    for cat in gt["categories"]:
        cat["synset"] = f"{cat['name']}.n.01"
    _check(gt, results, iou_type, tmp_path, "lvis")


@pytest.mark.parametrize("name", ["crowd", "mixed"])
def test_segm_without_c_kernels(name: str, monkeypatch: pytest.MonkeyPatch,
                                tmp_path: Path) -> None:
    """Without the C kernels segm overlaps come from pycocotools, one call per image."""
    monkeypatch.setattr(rle, "_rle", None)
    monkeypatch.setattr(rle, "_BOUND", False)  # polygons through pycocotools, not in place
    monkeypatch.setattr(tide_match, "has_kernels", lambda: False)
    _check(*make_tide_case(name, "segm", 3), "segm", tmp_path)


@pytest.mark.parametrize("iou_type", IOU_TYPES)
def test_no_gt_at_all(iou_type: str, tmp_path: Path) -> None:
    """Without any GT, fixing the background errors leaves no class: tidecv's
    ``get_main_errors`` divides by zero, we give NaN there and agree everywhere else."""
    gt, results = make_case("no_gt_at_all", iou_type, 0)
    _check(gt, results, iou_type, tmp_path)
    ours = tide(gt, results, iou_type=iou_type)  # type: ignore[arg-type]
    assert ours.ap == 0.0
    assert math.isnan(ours.main["Bkg"])
    assert {k: v for k, v in ours.main.items() if k != "Bkg"} == dict.fromkeys(
        ("Cls", "Loc", "Both", "Dupe", "Miss"), 0.0)


def test_unknown_category_refused() -> None:
    """tidecv scores a detection of a category the GT does not list as an AP-0 class; we
    refuse the file, as ``evaluate`` does (docs/analysis.md, deviations)."""
    gt, results = make_case("pred_unlisted_category", "bbox", 0)
    with pytest.raises(ConsistencyError, match="not a ground-truth category"):
        tide(gt, results, iou_type="bbox")
