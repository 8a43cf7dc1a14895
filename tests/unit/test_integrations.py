"""The recipes of ``docs/integrations.md``, run as written, give pycocotools' numbers."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from synth_coco import make_case

import benchmark_eval

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"


def recipe(name: str) -> dict[str, Any]:
    """Run the ``# recipe: name`` code block of the integrations page; its namespace."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    (code,) = [b for b in blocks if b.startswith(f"# recipe: {name}\n")]
    namespace: dict[str, Any] = {"__name__": f"recipe_{name}"}
    exec(compile(code, f"{DOC}:{name}", "exec"), namespace)
    return namespace


def _pycocotools(gt: dict[str, Any], results: list[dict[str, Any]], iou: str) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO()
        c.dataset = copy.deepcopy(gt)
        c.createIndex()
        ev = COCOeval(c, c.loadRes(copy.deepcopy(results)), iou)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


def _by_image(results: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for r in results:
        out.setdefault(r["image_id"], []).append(r)
    return out


def test_detectron2_dataset_evaluator() -> None:
    case = make_case(7)
    results = case.results("bbox")
    cats = sorted({c["id"] for c in case.gt["categories"]})
    evaluator = recipe("detectron2")["BenchmarkEvalCOCOEvaluator"](
        case.gt, to_category=dict(enumerate(cats)))
    evaluator.reset()
    index = {c: i for i, c in enumerate(cats)}
    for image_id, recs in _by_image(results).items():
        xywh = np.array([r["bbox"] for r in recs])
        outputs = [{"instances": {"pred_boxes": np.c_[xywh[:, :2], xywh[:, :2] + xywh[:, 2:]],
                                  "scores": np.array([r["score"] for r in recs]),
                                  "pred_classes": [index[r["category_id"]] for r in recs]}}]
        evaluator.process([{"image_id": image_id}], outputs)
    got = evaluator.evaluate()["bbox"]
    expected = _pycocotools(case.gt, results, "bbox")
    # xywh -> xyxy -> xywh round trip in floating point: equal to 1e-12, not bit for bit
    assert got["AP"] == pytest.approx(100 * expected[0], abs=1e-9)
    assert got["AR100"] == pytest.approx(100 * expected[8], abs=1e-9)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_torchvision_coco_evaluator(iou_type: str) -> None:
    case = make_case(7)
    results = case.results(iou_type)
    cls = recipe("torchvision")["CocoEvaluator"]
    evaluator = cls(case.gt, [iou_type])
    images = {i["id"]: i for i in case.gt["images"]}
    for image_id, recs in _by_image(results).items():
        p: dict[str, Any] = {"scores": np.array([r["score"] for r in recs]),
                             "labels": np.array([r["category_id"] for r in recs])}
        if iou_type == "bbox":
            xywh = np.array([r["bbox"] for r in recs])
            p["boxes"] = np.c_[xywh[:, :2], xywh[:, :2] + xywh[:, 2:]]
        else:
            h, w = images[image_id]["height"], images[image_id]["width"]
            dense = np.stack([mask_utils.decode(r["segmentation"]) for r in recs])
            p["masks"] = dense.reshape(len(recs), 1, h, w).astype(np.float32)
        evaluator.update({image_id: p})
    evaluator.synchronize_between_processes()
    evaluator.accumulate()
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.summarize()
    if iou_type == "segm":  # torchvision's segm records carry no bbox: mask areas
        results = [{k: v for k, v in r.items() if k != "bbox"} for r in results]
    expected = _pycocotools(case.gt, results, iou_type)
    np.testing.assert_allclose(evaluator.coco_eval[iou_type].stats, expected, rtol=0,
                               atol=1e-12)


def test_saved_ultralytics_and_mmdetection_files(tmp_path: Path) -> None:
    case = make_case(8)
    gt_path = tmp_path / "instances.json"
    gt_path.write_text(json.dumps(case.gt))
    score_saved = recipe("saved-files")["score_saved"]
    ultralytics = [{"image_id": r["image_id"], "category_id": r["category_id"],
                    "bbox": [round(x, 3) for x in r["bbox"]], "score": round(r["score"], 5)}
                   for r in case.results("bbox")]
    path = tmp_path / "predictions.json"
    path.write_text(json.dumps(ultralytics))
    np.testing.assert_array_equal(score_saved(gt_path, path, "bbox"),
                                  _pycocotools(case.gt, ultralytics, "bbox"))
    mmdet = [{**r, "bbox": [float(v) for v in mask_utils.toBbox(r["segmentation"])]}
             for r in case.results("segm")]
    path = tmp_path / "results.segm.json"
    path.write_text(json.dumps(mmdet))
    np.testing.assert_array_equal(score_saved(gt_path, path, "segm"),
                                  _pycocotools(case.gt, mmdet, "segm"))
    result = benchmark_eval.evaluate("coco-segm", gt=gt_path, pred=path)
    assert "segm-results-with-bbox" in [w.code for w in result.warnings]
