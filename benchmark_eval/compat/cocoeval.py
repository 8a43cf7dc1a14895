"""A ``pycocotools.cocoeval.COCOeval``-compatible evaluator on benchmark_eval's engine.

``params`` is edited in place as torchmetrics and detectron2 do (``imgIds``, ``catIds``,
``iouThrs``, ``recThrs``, ``maxDets``, ``areaRng``, ``areaRngLbl``, ``useCats``);
``evaluate`` runs the matching, ``accumulate`` fills ``eval`` (``params``, ``counts``,
``date``, ``precision``, ``recall``, ``scores``), ``summarize`` prints pycocotools' 12 lines
and fills ``stats``. ``evalImgs`` and ``ious`` are computed only when read
(:mod:`benchmark_eval.compat.evalimgs`). As the pycocotools stand-in, this module prints.
"""

from __future__ import annotations

__all__ = ["COCOeval", "Params"]

import copy
import datetime
import time
from typing import Any

import numpy as np

from benchmark_eval.errors import UnsupportedError
from benchmark_eval.protocols.coco_accumulate import Accumulated, summarize
from benchmark_eval.protocols.coco_params import (
    AreaRange,
    CocoParams,
    official_iou_thresholds,
    official_recall_thresholds,
)
from benchmark_eval.report.coco import CocoResult, summary_lines
from benchmark_eval.workflows import WORKFLOWS


class Params:
    """``cocoeval.Params`` for detection: the official COCO preset, editable in place."""

    def __init__(self, iouType: str = "segm") -> None:
        if iouType not in ("segm", "bbox"):
            raise UnsupportedError(f"iouType {iouType!r} is not supported (use 'bbox' or"
                                   " 'segm')")
        self.imgIds: list[Any] = []
        self.catIds: list[Any] = []
        self.iouThrs = np.array(official_iou_thresholds())
        self.recThrs = np.array(official_recall_thresholds())
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0.0**2, 1e5**2], [0.0**2, 32.0**2], [32.0**2, 96.0**2],
                        [96.0**2, 1e5**2]]
        self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1
        self.iouType = iouType
        self.useSegm: Any = None

    def engine_params(self) -> CocoParams:
        """These parameters as :class:`CocoParams` (unnamed area ranges get ``area<i>``)."""
        labels = list(self.areaRngLbl) + [f"area{i}" for i in range(len(self.areaRngLbl),
                                                                   len(self.areaRng))]
        return CocoParams(
            iou_thresholds=tuple(float(x) for x in np.asarray(self.iouThrs).reshape(-1)),
            recall_thresholds=tuple(float(x) for x in np.asarray(self.recThrs).reshape(-1)),
            max_detections=tuple(int(m) for m in self.maxDets),
            area_ranges=tuple(AreaRange(label=str(lbl), lo=float(r[0]), hi=float(r[1]))
                              for lbl, r in zip(labels, self.areaRng, strict=False)),
            class_agnostic=not self.useCats)


class COCOeval:
    """``COCOeval(cocoGt, cocoDt, iouType)`` with pycocotools' attributes and printout.

    ``cocoGt`` / ``cocoDt`` may be :class:`~benchmark_eval.compat.coco.COCO` objects or
    pycocotools' own.
    """

    def __init__(self, cocoGt: Any = None, cocoDt: Any = None, iouType: str = "segm") -> None:
        if not iouType:
            print("iouType not specified. use default iouType segm")
        self.cocoGt, self.cocoDt = cocoGt, cocoDt
        self.params = Params(iouType=iouType or "segm")
        self.eval: dict[str, Any] = {}
        self.stats: np.ndarray = np.zeros(0)
        self._paramsEval: Params | None = None
        self._result: CocoResult | None = None
        self._lazy: dict[str, Any] = {}
        self._assigned = False
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    # ------------------------------------------------------------------ the three steps

    def evaluate(self) -> None:
        """Match detections to the ground truth on ``params.imgIds`` / ``params.catIds``."""
        tic = time.time()
        print("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
            print(f"useSegm (deprecated) is not None. Running {p.iouType} evaluation")
        print(f"Evaluate annotation type *{p.iouType}*")
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        gt, results = self._inputs()
        self._result = WORKFLOWS[f"coco-{p.iouType}"].evaluate(
            gt=gt, pred=results, params=p.engine_params(), workers=1)  # type: ignore[assignment]
        self._paramsEval = copy.deepcopy(p)
        self._lazy = {}
        self._assigned = False
        print(f"DONE (t={time.time() - tic:0.2f}s).")

    def accumulate(self, p: Params | None = None) -> None:
        """Fill ``eval`` with the precision / recall / scores arrays ``[T, R, K, A, M]``."""
        print("Accumulating evaluation results...")
        tic = time.time()
        if self._result is None and not self._assigned:
            print("Please run evaluate() first")
            return
        p = p or self.params
        if self._assigned and self._paramsEval is not None:  # evalImgs set by the caller
            from benchmark_eval.compat.evalimgs import accumulate_eval_images

            precision, recall, scores = accumulate_eval_images(self.evalImgs, p,
                                                               self._paramsEval)
        elif self._result is not None:
            precision = self._result.precision.copy()
            recall, scores = self._result.recall.copy(), self._result.scores.copy()
        else:
            return
        self.eval = {
            "params": p,
            "counts": list(precision.shape),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }
        print(f"DONE (t={time.time() - tic:0.2f}s).")

    def summarize(self) -> None:
        """Print pycocotools' 12-line summary and set ``stats``."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first")
        params = self.params.engine_params()
        acc = Accumulated(precision=self.eval["precision"], recall=self.eval["recall"],
                          scores=self.eval["scores"])
        self.stats = summarize(acc, params)
        for line in summary_lines(params, self.stats):
            print(line)

    def __str__(self) -> str:
        self.summarize()
        return ""

    # ------------------------------------------------------------------ lazily computed

    @property
    def evalImgs(self) -> list[dict[str, Any] | None]:
        """Per (category, area range, image): pycocotools' ``evaluateImg`` dict or None."""
        if "evalImgs" not in self._lazy:
            self._compute_lazy()
        return self._lazy["evalImgs"]

    @evalImgs.setter
    def evalImgs(self, value: list[dict[str, Any] | None]) -> None:
        self._lazy["evalImgs"] = value
        self._assigned = True  # accumulate() then works from them, as pycocotools does

    @property
    def ious(self) -> dict[tuple[Any, Any], Any]:
        """Per (image id, category id): the IoU matrix (detections x GT) or ``[]``."""
        if "ious" not in self._lazy:
            self._compute_lazy()
        return self._lazy["ious"]

    @ious.setter
    def ious(self, value: dict[tuple[Any, Any], Any]) -> None:
        self._lazy["ious"] = value

    def _compute_lazy(self) -> None:
        from benchmark_eval.compat.evalimgs import eval_images

        if self._paramsEval is None:
            self._lazy.setdefault("evalImgs", [])
            self._lazy.setdefault("ious", {})
            return
        ious, evals = eval_images(self.cocoGt, self.cocoDt, self._paramsEval)
        self._lazy.setdefault("ious", ious)
        self._lazy.setdefault("evalImgs", evals)

    # ------------------------------------------------------------------ inputs

    def _inputs(self, p: Params | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The GT restricted to ``imgIds`` / ``catIds``, and the results on those images."""
        p = p or self.params
        dataset = self.cocoGt.dataset
        img_ids, cat_ids = set(p.imgIds), set(p.catIds)
        gt = {**dataset,
              "images": [i for i in dataset.get("images", []) if i["id"] in img_ids],
              "categories": [c for c in dataset.get("categories", []) if c["id"] in cat_ids],
              "annotations": [a for a in dataset.get("annotations", [])
                              if a["image_id"] in img_ids]}
        records = getattr(self.cocoDt, "_results", None)
        if records is None:
            records = self.cocoDt.dataset.get("annotations", [])
        results = [r for r in records if r["image_id"] in img_ids]
        return gt, results
