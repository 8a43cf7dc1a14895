"""Parity through the drop-in (``benchmark_eval.compat``): pycocotools-style scripts (COCO ->
loadRes -> COCOeval with params edits) give the same ``stats``, ``eval`` arrays, ``evalImgs``,
``ious`` and printout as live pycocotools 2.0.11; the same for lvis-api's LVISEval and
panopticapi's ``pq_compute``."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from coco_generators import make_case
from lvis_generators import make_lvis_case
from official_lvis import run_lvis_api
from official_panoptic import run_official
from panoptic_generators import make_case as make_panoptic_case
from panoptic_generators import write_case

from benchmark_eval import compat

Edit = Callable[[Any], None]


def _subset_images(p: Any) -> None:
    p.imgIds = sorted(p.imgIds)[::2]


def _subset_categories(p: Any) -> None:
    p.catIds = sorted(p.catIds)[1::2]


def _agnostic(p: Any) -> None:
    p.useCats = 0


def _max_dets(p: Any) -> None:
    p.maxDets = [1, 5, 20]


def _thresholds(p: Any) -> None:
    p.iouThrs = np.array([0.3, 0.5, 0.75])
    p.recThrs = np.linspace(0, 1, 11)


def _areas(p: Any) -> None:
    p.areaRng = [[0, 1e10], [0, 500], [500, 1e10]]
    p.areaRngLbl = ["all", "small", "large"]


EDITS: dict[str, Edit] = {"default": lambda p: None, "image subset": _subset_images,
                          "category subset": _subset_categories, "useCats=0": _agnostic,
                          "maxDets 1,5,20": _max_dets, "thresholds": _thresholds,
                          "area ranges": _areas}


def _script(coco_cls: Any, eval_cls: Any, gt_path: Path, results: list[dict[str, Any]],
            iou_type: str, edit: Edit) -> tuple[Any, list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gt = coco_cls(str(gt_path))
        dt = gt.loadRes(copy.deepcopy(results))
        ev = eval_cls(gt, dt, iou_type)
        edit(ev.params)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    summary = [line for line in out.getvalue().splitlines() if line.startswith(" Average")]
    return ev, summary


def _same_eval_imgs(ours: list[Any], theirs: list[Any]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert (a is None) == (b is None)
        if a is None:
            continue
        for key in ("image_id", "category_id", "aRng", "maxDet", "dtIds", "gtIds"):
            assert list(np.ravel(a[key])) == list(np.ravel(b[key])), key
        for key in ("dtMatches", "gtMatches", "dtIgnore", "gtIgnore", "dtScores"):
            np.testing.assert_array_equal(np.asarray(a[key], dtype=float),
                                          np.asarray(b[key], dtype=float), err_msg=key)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_cocoeval_script_matches_pycocotools(iou_type: str, edit: str, seed: int,
                                             tmp_path: Path) -> None:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, results = make_case("mixed", iou_type, seed)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    theirs, their_lines = _script(COCO, COCOeval, path, results, iou_type, EDITS[edit])
    ours, our_lines = _script(compat.COCO, compat.COCOeval, path, results, iou_type,
                              EDITS[edit])
    np.testing.assert_allclose(ours.stats, theirs.stats, rtol=0, atol=1e-12)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_allclose(ours.eval[key], theirs.eval[key], rtol=0, atol=1e-12,
                                   err_msg=key)
    assert ours.eval["counts"] == theirs.eval["counts"]
    assert our_lines == their_lines
    _same_eval_imgs(ours.evalImgs, theirs.evalImgs)
    assert set(ours.ious) == set(theirs.ious)
    for key, value in theirs.ious.items():
        np.testing.assert_array_equal(np.asarray(ours.ious[key]), np.asarray(value))


def test_compat_objects_feed_pycocotools_and_back(tmp_path: Path) -> None:
    """A compat ``COCO`` index answers the queries as pycocotools' does."""
    from pycocotools.coco import COCO

    gt, results = make_case("mixed", "segm", 3)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    with contextlib.redirect_stdout(io.StringIO()):
        theirs, ours = COCO(str(path)), compat.COCO(path)
    cat = sorted(theirs.getCatIds())[0]
    img = sorted(theirs.getImgIds())[0]
    assert sorted(ours.getImgIds(catIds=[cat])) == sorted(theirs.getImgIds(catIds=[cat]))
    assert ours.getAnnIds(imgIds=[img], iscrowd=None) == theirs.getAnnIds(imgIds=[img])
    assert ours.getAnnIds(catIds=cat, areaRng=[0, 400]) == theirs.getAnnIds(
        catIds=cat, areaRng=[0, 400])
    ann = theirs.loadAnns(theirs.getAnnIds(imgIds=[img]))[0]
    np.testing.assert_array_equal(ours.annToMask(ann), theirs.annToMask(ann))
    array = np.array([[r["image_id"], 1, 2, 3, 4, r["score"], r["category_id"]]
                      for r in results])
    with contextlib.redirect_stdout(io.StringIO()):
        a, b = ours.loadRes(array), theirs.loadRes(array)
    assert [x["area"] for x in a.dataset["annotations"]] == [
        x["area"] for x in b.dataset["annotations"]]


def test_init_as_pycocotools_registers_the_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pycocotools", "pycocotools.coco", "pycocotools.cocoeval",
                 "pycocotools.mask"):
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name))
    compat.init_as_pycocotools()
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    assert COCO is compat.COCO
    assert COCOeval is compat.COCOeval
    assert sys.modules["pycocotools.mask"].encode is compat.mask.encode


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_lviseval_matches_lvis_api(iou_type: str, tmp_path: Path) -> None:
    gt, results = copy.deepcopy(make_lvis_case("mixed", iou_type, 1))
    official = run_lvis_api(gt, results, iou_type)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    lvis_gt = compat.LVIS(path)
    ev = compat.LVISEval(lvis_gt, compat.LVISResults(lvis_gt, copy.deepcopy(results)),
                         iou_type)
    ev.run()
    assert list(ev.get_results()) == list(official.results)
    for key, value in official.results.items():
        assert abs(ev.results[key] - value) <= 1e-12, key
    np.testing.assert_allclose(ev.eval["precision"], official.precision, rtol=0, atol=1e-12)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ev.print_results()
    assert out.getvalue().splitlines() == official.printed


def test_init_as_lvis_registers_the_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("lvis", "lvis.lvis", "lvis.results", "lvis.eval"):
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name))
    compat.init_as_lvis()
    from lvis import LVISEval, LVISResults

    assert LVISEval is compat.LVISEval
    assert LVISResults is compat.LVISResults


@pytest.mark.parametrize("seed", [0, 1])
def test_pq_compute_matches_panopticapi(seed: int, tmp_path: Path) -> None:
    write_case(make_panoptic_case("random", seed), tmp_path)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    with contextlib.redirect_stdout(io.StringIO()):
        ours = compat.pq_compute(tmp_path / "gt.json", tmp_path / "pred.json")
    for name, suffix in (("All", ""), ("Things", "_th"), ("Stuff", "_st")):
        for key in ("pq", "sq", "rq"):
            assert ours[name][key] == pytest.approx(official.metrics[f"{key.upper()}{suffix}"],
                                                    abs=1e-12)
        assert ours[name]["n"] == official.metrics[f"N{suffix}"]
    for cid, values in official.per_class.items():
        for key in ("PQ", "SQ", "RQ"):
            assert ours["per_class"][cid][key.lower()] == pytest.approx(values[key], abs=1e-12)


def _torchvision_style(coco_cls: Any, eval_cls: Any, gt_path: Path,
                       results: list[dict[str, Any]], iou_type: str) -> Any:
    """torchvision references' CocoEvaluator: one COCOeval, evaluate per batch, the batches'
    evalImgs concatenated along the image axis and assigned, then accumulate / summarize."""
    results = copy.deepcopy(results)  # pycocotools' loadRes adds 'bbox' to the records
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_cls(str(gt_path))
        ev = eval_cls(gt, iouType=iou_type)
        img_ids, eval_imgs = [], []
        images = sorted({r["image_id"] for r in results})
        for part in (images[: len(images) // 2], images[len(images) // 2:]):
            ev.cocoDt = gt.loadRes([r for r in results if r["image_id"] in set(part)])
            ev.params.imgIds = list(part)
            ev.evaluate()
            img_ids += list(ev.params.imgIds)
            eval_imgs.append(np.asarray(ev.evalImgs).reshape(-1, len(ev.params.areaRng),
                                                              len(ev.params.imgIds)))
        merged = np.concatenate(eval_imgs, axis=2)
        ev.evalImgs = list(merged.flatten())
        ev.params.imgIds = img_ids
        ev._paramsEval = copy.deepcopy(ev.params)
        ev.accumulate()
        ev.summarize()
    return ev


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_torchvision_references_pattern_matches_pycocotools(iou_type: str,
                                                            tmp_path: Path) -> None:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, results = make_case("mixed", iou_type, 2)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    theirs = _torchvision_style(COCO, COCOeval, path, results, iou_type)
    ours = _torchvision_style(compat.COCO, compat.COCOeval, path, results, iou_type)
    np.testing.assert_array_equal(ours.stats, theirs.stats)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], theirs.eval[key], err_msg=key)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_lviseval_image_subset_matches_lvis_api(iou_type: str, tmp_path: Path) -> None:
    import logging
    import warnings

    from lvis import LVIS, LVISEval, LVISResults

    logging.getLogger("lvis").setLevel(logging.ERROR)
    gt, results = copy.deepcopy(make_lvis_case("mixed", iou_type, 0))
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    runs = {}
    for name, (lvis_cls, res_cls, eval_cls) in {
            "lvis-api": (LVIS, LVISResults, LVISEval),
            "ours": (compat.LVIS, compat.LVISResults, compat.LVISEval)}.items():
        lvis_gt = lvis_cls(str(path))
        ev = eval_cls(lvis_gt, res_cls(lvis_gt, copy.deepcopy(results)), iou_type)
        ev.params.img_ids = sorted(ev.params.img_ids)[::2]
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", DeprecationWarning)  # lvis' own logger.warn
            ev.run()
        runs[name] = ev
    theirs, ours = runs["lvis-api"], runs["ours"]
    for key, value in theirs.results.items():
        assert abs(ours.results[key] - value) <= 1e-12, key
    np.testing.assert_allclose(ours.eval["precision"], theirs.eval["precision"], rtol=0,
                               atol=1e-12)
