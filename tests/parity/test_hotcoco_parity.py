"""Parity of the detection confusion matrix, the calibration and the per-image diagnostics
with hotcoco 1.3.0, live.

hotcoco's ``COCOeval.confusion_matrix(iou_thr, max_det, min_score)`` defines the matrix we
build, crowd GT and the per-image cut included: on every pycocotools parity case, bbox and
segm, at IoU 0.5 / 0.75 and score thresholds none / 0.3, the matrices are equal.
``COCOeval.calibration(n_bins=10, iou_threshold=0.5)`` gives the same ECE, MCE and bin counts
as ours except on GT with annotation id 0: pycocotools records matches by GT id, so a match
to id 0 counts as a false positive in its AP (reproduced by our state, which calibration
reads), while hotcoco's calibration counts it as correct; the same holds for
``image_diagnostics`` (``tp`` / ``fp`` / ``fn``, F1, per-image AP), checked on the other
cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hotcoco  # the test extra pins hotcoco 1.3.0
import numpy as np
import orjson
import pytest
from coco_generators import CASE_NAMES, make_case

from benchmark_eval import evaluate
from benchmark_eval.analysis import calibration, detection_confusion, image_diagnostics
from benchmark_eval.analysis.run import InstanceInputs
from benchmark_eval.io.coco_gt import load_coco_ground_truth
from benchmark_eval.io.coco_results import load_coco_results

CASES = ("mixed", *(c for c in CASE_NAMES if c not in ("pred_unlisted_category",
                                                        "no_gt_at_all")))


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("name", CASES)
def test_confusion_and_calibration_equal_hotcoco(name: str, iou_type: str,
                                                 tmp_path: Path) -> None:
    got: dict[str, InstanceInputs] = {}  # the inputs the evaluation loaded, per seed
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
        result = evaluate(f"coco-{iou_type}", gt=gt, pred=results,
                          analyses=lambda _, inputs: got.update({"in": inputs}))
        cal = calibration(result)
        assert cal.ece == pytest.approx(ref_cal["ece"], abs=1e-12)
        assert cal.mce == pytest.approx(ref_cal["mce"], abs=1e-12)
        assert cal.count.tolist() == [b["count"] for b in ref_cal["bins"]]
        _same_diagnostics(result, got["in"], ev.image_diagnostics(iou_thr=0.5))


def _same_diagnostics(result: Any, inputs: InstanceInputs, ref: dict[str, Any]) -> None:
    d = image_diagnostics(result, inputs.gt_images, images=inputs.images)
    ours = {int(i): (int(tp), int(fp), int(fn), float(f1), float(ap)) for i, tp, fp, fn, f1, ap
            in zip(d.image_ids, d.tp, d.fp, d.fn, d.f1, d.ap, strict=True)}
    listed = {int(i) for i in ref["img_summary"]}
    assert listed <= set(ours)
    # hotcoco leaves out images with no annotation at all; we list them as perfect
    assert all(ours[i] == (0, 0, 0, 1.0, 1.0) for i in set(ours) - listed)
    for image, s in ref["img_summary"].items():
        tp, fp, fn, f1, ap = ours[int(image)]
        assert (tp, fp, fn) == (s["tp"], s["fp"], s["fn"]), image
        assert f1 == pytest.approx(s["f1"], abs=1e-12)
        assert ap == pytest.approx(s["ap"], abs=1e-12)
