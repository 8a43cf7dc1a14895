"""Parity of the detection confusion matrix and the calibration with hotcoco 1.3.0, live.

hotcoco's ``COCOeval.confusion_matrix(iou_thr, max_det, min_score)`` defines the matrix we
build, crowd GT and the per-image cut included: on every pycocotools parity case, bbox and
segm, at IoU 0.5 / 0.75 and score thresholds none / 0.3, the matrices are equal.
``COCOeval.calibration(n_bins=10, iou_threshold=0.5)`` gives the same ECE, MCE and bin counts
as ours except on GT with annotation id 0: pycocotools records matches by GT id, so a match
to id 0 counts as a false positive in its AP (reproduced by our state, which calibration
reads), while hotcoco's calibration counts it as correct.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from coco_generators import CASE_NAMES, make_case

from benchmark_eval import evaluate
from benchmark_eval.analysis import calibration, detection_confusion
from benchmark_eval.io.coco_gt import load_coco_ground_truth
from benchmark_eval.io.coco_results import load_coco_results

hotcoco = pytest.importorskip("hotcoco")

CASES = ("mixed", *(c for c in CASE_NAMES if c not in ("pred_unlisted_category",
                                                        "no_gt_at_all")))


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("name", CASES)
def test_confusion_and_calibration_equal_hotcoco(name: str, iou_type: str,
                                                 tmp_path: Path) -> None:
    for seed in (0, 1):
        gt, results = make_case(name, iou_type, seed)
        if not results:
            continue
        boxes, masks = iou_type == "bbox", iou_type != "bbox"
        dataset, _ = load_coco_ground_truth(gt, boxes=boxes, masks=masks)
        preds, _ = load_coco_results(results, dataset, boxes=boxes, masks=masks)
        (tmp_path / "gt.json").write_bytes(orjson.dumps(gt))
        (tmp_path / "res.json").write_bytes(orjson.dumps(results))
        coco = hotcoco.COCO(str(tmp_path / "gt.json"))
        ev = hotcoco.COCOeval(coco, coco.load_res(str(tmp_path / "res.json")), iou_type)
        for iou, score in ((0.5, None), (0.5, 0.3), (0.75, None)):
            ref = ev.confusion_matrix(iou_thr=iou, max_det=100, min_score=score)
            ours = detection_confusion(dataset, preds, iou_type=iou_type, iou_threshold=iou,
                                       score_threshold=score or 0.0, max_dets=100)
            assert list(ref["cat_ids"]) == ours.category_ids
            np.testing.assert_array_equal(ours.matrix, ref["matrix"].astype(np.int64),
                                          err_msg=f"seed={seed} iou={iou} score={score}")
        if name == "annotation_id_zero":
            continue  # see the module docstring
        ev.evaluate()
        ref_cal = ev.calibration(n_bins=10, iou_threshold=0.5)
        cal = calibration(evaluate(f"coco-{iou_type}", gt=gt, pred=results))
        assert cal.ece == pytest.approx(ref_cal["ece"], abs=1e-12)
        assert cal.mce == pytest.approx(ref_cal["mce"], abs=1e-12)
        assert cal.count.tolist() == [b["count"] for b in ref_cal["bins"]]
