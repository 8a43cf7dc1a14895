"""Run pycocotools 2.0.11 ``COCOeval(iouType="keypoints")`` live on in-memory inputs (deep
copies; printing silenced here only), with optional sigmas and parameter overrides."""

from __future__ import annotations

__all__ = ["run_faster_crowdpose", "run_pycocotools_keypoints"]

import contextlib
import copy
import io
from typing import Any

import numpy as np
from official_coco import OfficialResult, ParamSpec, _apply_spec, _collect


def run_pycocotools_keypoints(gt: dict[str, Any], results: list[dict[str, Any]],
                              spec: ParamSpec | None = None,
                              sigmas: tuple[float, ...] | None = None) -> OfficialResult:
    """evaluate, accumulate, summarize; ``stats`` has pycocotools' 10 keypoint numbers."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        evaluator = COCOeval(coco_gt, coco_dt, "keypoints")
        if spec is not None:
            _apply_spec(evaluator.params, spec)
        if sigmas is not None:
            evaluator.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
        evaluator.evaluate()
        evaluator.accumulate()
        summary = len(printed.getvalue())
        evaluator.summarize()
    return _collect(evaluator, 10, printed.getvalue()[summary:].splitlines())


def run_faster_crowdpose(gt: dict[str, Any], results: list[dict[str, Any]], gt_path: Any,
                         sigmas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """faster-coco-eval 1.8.0 ``COCOeval_faster(iouType="keypoints_crowd", use_area=False)``
    (it re-reads the GT from its file for the easy / medium / hard split, so ``gt`` is
    written to ``gt_path``). Returns its 9 stats and the precision / recall of the run on all
    images at area index 0 (taken before ``summarize`` re-evaluates the splits)."""
    import json
    import warnings

    from faster_coco_eval import COCO, COCOeval_faster

    with open(gt_path, "w") as f:
        json.dump(gt, f)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coco_gt = COCO(str(gt_path))
        ev = COCOeval_faster(coco_gt, coco_gt.loadRes(copy.deepcopy(results)),
                             "keypoints_crowd", kpt_oks_sigmas=list(sigmas), use_area=False,
                             print_function=lambda *a, **k: None)
        ev.evaluate()
        ev.accumulate()
        precision = np.asarray(ev.eval["precision"])[:, :, :, 0, :].copy()
        recall = np.asarray(ev.eval["recall"])[:, :, 0, :].copy()
        ev.summarize()
    return np.asarray(ev.all_stats, dtype=np.float64), precision, recall
