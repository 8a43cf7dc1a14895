"""lvis-api 0.5.3-compatible ``LVIS``, ``LVISResults`` and ``LVISEval`` on benchmark_eval.

``LVISEval.run()`` scores with the ``lvis-*`` protocol (lvis-api's numbers); ``params``
(``img_ids``, ``cat_ids``, ``iou_thrs``, ``rec_thrs``, ``max_dets``, ``area_rng``,
``area_rng_lbl``) may be edited before ``run``. ``print_results`` prints lvis-api's lines.
"""

from __future__ import annotations

__all__ = ["LVIS", "LVISEval", "LVISResults"]

from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.compat.cocoeval import Params as _CocoParams
from benchmark_eval.errors import ConfigError
from benchmark_eval.io.inmemory import results_data
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.protocols.coco_params import AreaRange
from benchmark_eval.protocols.lvis import LvisParams
from benchmark_eval.report.lvis import LvisResult
from benchmark_eval.workflows import WORKFLOWS

Ann = dict[str, Any]


class LVIS:
    """The LVIS annotation index (``lvis.LVIS``)."""

    def __init__(self, annotation_path: str | Path | dict[str, Any]) -> None:
        data = annotation_path if isinstance(annotation_path, dict) else read_json(
            annotation_path)
        if not isinstance(data, dict):
            raise ConfigError(f"{annotation_path}: annotation file format not supported")
        self.dataset: dict[str, Any] = data
        self._create_index()

    def _create_index(self) -> None:
        self.img_ann_map: defaultdict[Any, list[Ann]] = defaultdict(list)
        self.cat_img_map: defaultdict[Any, list[Any]] = defaultdict(list)
        self.anns = {a["id"]: a for a in self.dataset.get("annotations", [])}
        self.imgs = {i["id"]: i for i in self.dataset.get("images", [])}
        self.cats = {c["id"]: c for c in self.dataset.get("categories", [])}
        for ann in self.dataset.get("annotations", []):
            self.img_ann_map[ann["image_id"]].append(ann)
            self.cat_img_map[ann["category_id"]].append(ann["image_id"])

    def get_ann_ids(self, img_ids: Any = None, cat_ids: Any = None,
                    area_rng: Any = None) -> list[Any]:
        """Ids of the annotations on ``img_ids``, of ``cat_ids``, ``area`` in the open
        ``area_rng`` (default ``(0, inf)`` once any category filter is given)."""
        anns = ([a for i in img_ids for a in self.img_ann_map[i]] if img_ids is not None
                else self.dataset.get("annotations", []))
        if cat_ids is None and area_rng is None:
            return [a["id"] for a in anns]
        cats = set(cat_ids) if cat_ids is not None else None
        lo, hi = area_rng if area_rng is not None else (0, float("inf"))
        return [a["id"] for a in anns if (cats is None or a["category_id"] in cats)
                and lo < a["area"] < hi]

    def get_cat_ids(self) -> list[Any]:
        """All category ids."""
        return list(self.cats.keys())

    def get_img_ids(self) -> list[Any]:
        """All image ids."""
        return list(self.imgs.keys())

    def load_anns(self, ids: Any = None) -> list[Ann]:
        """The annotations with these ids (all if None)."""
        return list(self.anns.values()) if ids is None else [self.anns[i] for i in ids]

    def load_cats(self, ids: Any = None) -> list[dict[str, Any]]:
        """The categories with these ids (all if None)."""
        return list(self.cats.values()) if ids is None else [self.cats[i] for i in ids]

    def load_imgs(self, ids: Any = None) -> list[dict[str, Any]]:
        """The images with these ids (all if None)."""
        return list(self.imgs.values()) if ids is None else [self.imgs[i] for i in ids]


class LVISResults(LVIS):
    """Results over an LVIS ground truth (``lvis.LVISResults``); ``max_dets`` is the
    per-image cap (300 officially). The records are kept as given for the evaluator."""

    def __init__(self, lvis_gt: LVIS | str | Path, results: str | Path | list[Ann],
                 max_dets: int = 300) -> None:
        gt = lvis_gt if isinstance(lvis_gt, LVIS) else LVIS(lvis_gt)
        records = read_json(results) if isinstance(results, (str, Path)) else results
        self.results: list[Ann] = results_data(records)
        self.max_dets = max_dets
        anns = [{**r, "id": i + 1} for i, r in enumerate(self.results)]
        super().__init__({**gt.dataset, "annotations": anns})


class _Params(_CocoParams):
    """lvis-api's ``Params`` (snake_case names)."""

    def __init__(self, iou_type: str) -> None:
        super().__init__(iouType=iou_type)
        self.max_dets = 300
        self.img_count_lbl = ["r", "c", "f"]

    def lvis_params(self) -> LvisParams:
        labels = list(self.area_rng_lbl)
        return LvisParams(
            iou_thresholds=tuple(float(x) for x in np.asarray(self.iou_thrs).reshape(-1)),
            recall_thresholds=tuple(float(x) for x in np.asarray(self.rec_thrs).reshape(-1)),
            max_dets=int(self.max_dets),
            area_ranges=tuple(AreaRange(label=str(lbl), lo=float(r[0]), hi=float(r[1]))
                              for lbl, r in zip(labels, self.area_rng, strict=True)))

    # lvis-api's snake_case names for the pycocotools fields
    img_ids = property(lambda s: s.imgIds, lambda s, v: setattr(s, "imgIds", v))
    cat_ids = property(lambda s: s.catIds, lambda s, v: setattr(s, "catIds", v))
    iou_thrs = property(lambda s: s.iouThrs, lambda s, v: setattr(s, "iouThrs", v))
    rec_thrs = property(lambda s: s.recThrs, lambda s, v: setattr(s, "recThrs", v))
    area_rng = property(lambda s: s.areaRng, lambda s, v: setattr(s, "areaRng", v))
    area_rng_lbl = property(lambda s: s.areaRngLbl, lambda s, v: setattr(s, "areaRngLbl", v))
    iou_type = property(lambda s: s.iouType, lambda s, v: setattr(s, "iouType", v))


class LVISEval:
    """``lvis.LVISEval``: ``run()`` (evaluate, accumulate, summarize), ``results``,
    ``get_results()``, ``print_results()``, ``eval`` (``precision``, ``recall``)."""

    def __init__(self, lvis_gt: LVIS | str | Path, lvis_dt: LVISResults | str | Path | list[Ann],
                 iou_type: str = "segm") -> None:
        if iou_type not in ("bbox", "segm"):
            raise ValueError(f"iou_type: {iou_type} is not supported.")
        self.lvis_gt = lvis_gt if isinstance(lvis_gt, LVIS) else LVIS(lvis_gt)
        self.lvis_dt = (lvis_dt if isinstance(lvis_dt, LVISResults)
                        else LVISResults(self.lvis_gt, lvis_dt))
        self.params = _Params(iou_type)
        self.params.img_ids = sorted(self.lvis_gt.get_img_ids())
        self.params.cat_ids = sorted(self.lvis_gt.get_cat_ids())
        self.results: OrderedDict[str, float] = OrderedDict()
        self.eval: dict[str, Any] = {}
        self._result: LvisResult | None = None

    def evaluate(self) -> None:
        """Match and score (the numbers of lvis-api's evaluate + accumulate)."""
        p = self.params
        img_ids = set(p.img_ids)
        gt = {**self.lvis_gt.dataset,
              "images": [i for i in self.lvis_gt.dataset["images"] if i["id"] in img_ids],
              "annotations": [a for a in self.lvis_gt.dataset["annotations"]
                              if a["image_id"] in img_ids]}
        pred = [r for r in self.lvis_dt.results if r["image_id"] in img_ids]
        self._result = WORKFLOWS[f"lvis-{p.iou_type}"].evaluate(  # type: ignore[assignment]
            gt=gt, pred=pred, params=p.lvis_params(), workers=1)

    def accumulate(self) -> None:
        """Fill ``eval`` (``params``, ``counts``, ``precision``, ``recall``)."""
        if self._result is None:
            raise RuntimeError("Please run evaluate first.")
        prec, rec = self._result.precision, self._result.recall
        self.eval = {"params": self.params, "counts": list(prec.shape),
                     "precision": prec.copy(), "recall": rec.copy()}

    def summarize(self) -> None:
        """Fill ``results`` (``AP`` ... ``ARl@300``)."""
        if not self.eval or self._result is None:
            raise RuntimeError("Please run accumulate() first.")
        self.results = OrderedDict(self._result.results)

    def run(self) -> None:
        """evaluate, accumulate, summarize."""
        self.evaluate()
        self.accumulate()
        self.summarize()

    def print_results(self) -> None:
        """Print lvis-api's result lines."""
        if self._result is not None:
            for line in self._result.summary_lines():
                print(line)

    def get_results(self) -> OrderedDict[str, float]:
        """``results`` (a warning-free copy)."""
        return OrderedDict(self.results)
