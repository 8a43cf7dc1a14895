"""Parity of the detection confusion matrix with faster-coco-eval 1.8.0, run live.

faster-coco-eval's ``PreviewResults(useCats=False).compute_confusion_matrix()`` is ``(K, K+2)``
with rows in the GT file's category order: its first K columns are our ``K x K`` block, its
column ``K`` our background row, its column ``K+1`` our missed column. Its crowd handling
differs (a crowd GT can be matched, then counted as one pair or as missed), so the cases are
run without crowd GT; it cuts no detections, so ours runs with ``max_dets=None``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import numpy as np
import pytest
from coco_generators import CASE_NAMES, make_case

from benchmark_eval.analysis.confusion import detection_confusion
from benchmark_eval.io.coco_gt import load_coco_ground_truth
from benchmark_eval.io.coco_results import load_coco_results

CASES = ("mixed", *(c for c in CASE_NAMES if c not in ("pred_unlisted_category",
                                                        "no_gt_at_all")))


def _reference(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str, iou: float,
               score: float) -> tuple[np.ndarray, list[int]]:
    from faster_coco_eval import COCO
    from faster_coco_eval.extra import PreviewResults

    coco = COCO()
    coco.dataset = copy.deepcopy(gt)
    coco.createIndex()
    logging.disable(logging.WARNING)
    try:
        preview = PreviewResults(coco, coco.loadRes(copy.deepcopy(results)),
                                 iouType=iou_type, iou_tresh=iou, min_score=score)
        cm = preview.compute_confusion_matrix()
    finally:
        logging.disable(logging.NOTSET)
    return cm, list(coco.cats)


@pytest.mark.filterwarnings("ignore:Found annotation id 0")  # faster-coco-eval's own
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("name", CASES)
def test_confusion_matrix_equals_faster_coco_eval(name: str, iou_type: str) -> None:
    for seed in (0, 1):
        gt, results = make_case(name, iou_type, seed)
        if not results:
            continue
        gt = dict(gt, annotations=[a for a in gt["annotations"] if not a.get("iscrowd")])
        boxes, masks = iou_type == "bbox", iou_type != "bbox"
        dataset, _ = load_coco_ground_truth(gt, boxes=boxes, masks=masks)
        preds, _ = load_coco_results(results, dataset, boxes=boxes, masks=masks)
        for iou, score in ((0.5, 0.0), (0.5, 0.3), (0.75, 0.0)):
            cm, cat_order = _reference(gt, results, iou_type, iou, score)
            ours = detection_confusion(dataset, preds, iou_type=iou_type, iou_threshold=iou,
                                       score_threshold=score, max_dets=None)
            k = len(cat_order)
            ref = np.zeros((k + 1, k + 1), dtype=np.int64)
            ref[:k, :k], ref[k, :k], ref[:k, k] = cm[:, :k], cm[:, k], cm[:, k + 1]
            at = [*(ours.category_ids.index(c) for c in cat_order), k]
            np.testing.assert_array_equal(ours.matrix[np.ix_(at, at)], ref,
                                          err_msg=f"{name} seed={seed} iou={iou} score={score}")
