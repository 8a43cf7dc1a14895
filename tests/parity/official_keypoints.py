"""Run pycocotools 2.0.11 ``COCOeval(iouType="keypoints")`` live on in-memory inputs (deep
copies; printing silenced here only), with optional sigmas and parameter overrides."""

from __future__ import annotations

__all__ = ["run_pycocotools_keypoints"]

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

    with contextlib.redirect_stdout(io.StringIO()):
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
        evaluator.summarize()
    return _collect(evaluator, 10)
