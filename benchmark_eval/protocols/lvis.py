"""Protocols ``lvis-bbox`` and ``lvis-segm``: lvis-api 0.5.3 ``LVISEval`` numbers.

The COCO matching and accumulation engine with LVIS' federated rules
(lvis-dataset/lvis-api ``lvis/results.py``, ``lvis/eval.py``):

* at most ``max_dets`` (300) detections per image across categories, highest score first
  (a stable sort: ties keep results-file order), applied before anything else;
* a detection of a category neither annotated in its image nor listed in the image's
  ``neg_category_ids`` is dropped (the detector is not judged where nobody looked);
* an unmatched detection of a category in ``not_exhaustive_category_ids`` is ignored;
* the GT ``ignore`` flag is honoured; there is no crowd logic;
* no per-(image, category) cut: the only ``maxDets`` is the per-image one;
* AP per frequency group (``APr``, ``APc``, ``APf``) over the categories of that group;
  ``AR@300`` is the mean final recall.
"""

from __future__ import annotations

__all__ = [
    "LVIS_METRIC_KEYS",
    "LvisMetrics",
    "LvisParams",
    "compute_lvis",
    "lvis_counts",
    "lvis_notices",
    "lvis_spec",
    "lvis_survivors",
    "prepare_lvis",
]

from dataclasses import dataclass
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.coco import per_class_values, tie_notice
from benchmark_eval.protocols.coco_accumulate import Accumulated, accumulate
from benchmark_eval.protocols.coco_match import IouType, PreparedInstances, prepare
from benchmark_eval.protocols.coco_params import (
    AreaRange,
    CocoParams,
    official_iou_thresholds,
    official_recall_thresholds,
)
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.undefined import mean_defined
from benchmark_eval.schema import InstanceDataset, Predictions
from benchmark_eval.schema.lvis import FederatedLabels

LVIS_METRIC_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf",
                    "AR@300", "ARs@300", "ARm@300", "ARl@300")


class LvisParams(BaseModel):
    """LVIS evaluation parameters; the defaults are lvis-api's ``Params``.

    Attributes:
        iou_thresholds: IoU thresholds (``np.linspace(.5, .95, 10)``).
        recall_thresholds: Recall sampling points (``np.linspace(0, 1, 101)``).
        max_dets: Detections kept per image across categories (300).
        area_ranges: Size buckets on the GT ``area`` field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    iou_thresholds: Annotated[tuple[float, ...], Field(min_length=1)] = Field(
        default_factory=official_iou_thresholds)
    recall_thresholds: Annotated[tuple[float, ...], Field(min_length=1)] = Field(
        default_factory=official_recall_thresholds)
    max_dets: Annotated[int, Field(ge=1)] = 300
    area_ranges: Annotated[tuple[AreaRange, ...], Field(min_length=1)] = CocoParams().area_ranges

    @model_validator(mode="after")
    def _valid_for_engine(self) -> LvisParams:
        # the thresholds and area ranges follow CocoParams' rules (range, order, labels)
        self.engine_params()
        return self

    def engine_params(self) -> CocoParams:
        """The matching engine's parameters: one ``maxDets`` equal to the per-image cap
        (a per-(image, category) cut at that value never removes anything)."""
        return CocoParams(iou_thresholds=self.iou_thresholds,
                          recall_thresholds=self.recall_thresholds,
                          max_detections=(self.max_dets,), area_ranges=self.area_ranges)


def _pair_keys(image_ids: np.ndarray, category_ids: np.ndarray) -> np.ndarray:
    # both ids fit in 32 bits in every LVIS/COCO release; combine into one sortable key
    return (image_ids.astype(np.int64) << 32) | (category_ids.astype(np.int64) & 0xFFFFFFFF)


def _cap_per_image(image_ids: np.ndarray, scores: np.ndarray, max_dets: int) -> np.ndarray:
    """``LVISResults.limit_dets_per_image``: top ``max_dets`` by score per image (stable)."""
    n = len(scores)
    order = np.lexsort((np.arange(n), -scores, image_ids))
    img = image_ids[order]
    starts = np.r_[0, np.flatnonzero(img[1:] != img[:-1]) + 1] if n else np.zeros(0, int)
    sizes = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, sizes)
    keep = np.zeros(n, dtype=bool)
    keep[order[rank < max_dets]] = True
    return keep


@dataclass(frozen=True)
class LvisPrepared:
    """Prepared instances plus what LVIS' rules removed."""

    prepared: PreparedInstances
    beyond_max_dets: int
    not_federated: int
    zero_area: int  # detections within the cap left out for area <= 0
    zero_area_gt: int  # GT left out for area <= 0


def lvis_survivors(gt: InstanceDataset, fed: FederatedLabels, image_ids: np.ndarray,
                   category_ids: np.ndarray, scores: np.ndarray, max_dets: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which detections the cap and the federated filter keep (before the area rule).

    Returns:
        ``(capped, federated, gt_keep)``: per detection, within the per-image cap; per
        detection, of a category present or negative in its image; per GT, ``area > 0``.
    """
    capped = _cap_per_image(image_ids, scores, max_dets)
    inst = gt.instances
    gt_keep = inst.areas > 0  # get_ann_ids' default area range is the open (0, inf)
    judged = np.union1d(_pair_keys(inst.image_ids[gt_keep], inst.category_ids[gt_keep]),
                        _pair_keys(fed.neg_image, fed.neg_category))
    federated = np.isin(_pair_keys(image_ids, category_ids), judged)
    return capped, federated, gt_keep


def prepare_lvis(gt: InstanceDataset, fed: FederatedLabels, ignore: np.ndarray,
                 preds: Predictions, params: LvisParams, iou_type: IouType, *,
                 survivors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                 ) -> LvisPrepared:
    """Apply LVIS' load-time cap and federated rules, then the engine's ordering.

    Args:
        survivors: :func:`lvis_survivors` of these predictions, if already computed.
    """
    capped, federated, gt_keep = survivors or lvis_survivors(
        gt, fed, preds.image_ids, preds.category_ids, preds.scores, params.max_dets)
    det_keys = _pair_keys(preds.image_ids, preds.category_ids)
    free_fp = np.isin(det_keys, _pair_keys(fed.not_exhaustive_image,
                                           fed.not_exhaustive_category))
    positive = preds.areas > 0
    prepared = prepare(gt, preds, params.engine_params(), iou_type, gt_ignore=ignore,
                       gt_keep=gt_keep, det_keep=capped & federated & positive,
                       det_free_fp=free_fp, crowd=False)
    return LvisPrepared(prepared=prepared, beyond_max_dets=int((~capped).sum()),
                        not_federated=int((capped & ~federated).sum()),
                        zero_area=int((capped & federated & ~positive).sum()),
                        zero_area_gt=int((~gt_keep).sum()))


def lvis_counts(gt: InstanceDataset, ignore: np.ndarray, preds: Predictions,
                lp: LvisPrepared) -> dict[str, int]:
    """What was evaluated and what each of LVIS' rules left out."""
    return {
        "gt_instances": len(gt.instances),
        "gt_ignored": int(ignore.sum()),
        "detections": len(preds),
        "detections_beyond_max_dets": lp.beyond_max_dets,
        "detections_not_federated": lp.not_federated,
        "detections_zero_area": lp.zero_area,
        "gt_zero_area": lp.zero_area_gt,
        "detections_evaluated": len(lp.prepared.det_score),
    }


def lvis_notices(gt_notices: list[Notice], pred_notices: list[Notice],
                 preds: Predictions) -> list[Notice]:
    """The files' notices and score ties (lvis-api also breaks them at its per-image cut)."""
    ties = tie_notice(preds, tool="lvis-api", also=" (also at the 300-per-image cut)")
    return [*gt_notices, *ties, *pred_notices]


@dataclass(frozen=True)
class LvisMetrics:
    """Accumulated arrays (M axis of length 1), ``results`` as lvis-api names them (-1
    where undefined), and per-class AP/AP50/AP75 per K index."""

    accumulated: Accumulated
    results: dict[str, float]
    per_class: list[dict[str, float]]


def _summary(acc: Accumulated, params: LvisParams, ap: bool, iou: float | None, area: str,
             cats: list[int] | None) -> float:
    """``LVISEval._summarize``: same slicing (so the same summation order) as lvis-api."""
    a = [i for i, r in enumerate(params.area_ranges) if r.label == area]
    if ap:
        s = acc.precision[..., 0]  # (T, R, K, A)
        if iou is not None:
            s = s[np.where(iou == np.asarray(params.iou_thresholds))[0]]
        s = s[:, :, cats, a] if cats is not None else s[:, :, :, a]
    else:
        s = acc.recall[..., 0]  # (T, K, A)
        if iou is not None:
            s = s[np.where(iou == np.asarray(params.iou_thresholds))[0]]
        s = s[:, :, a]
    return mean_defined(s)


def lvis_spec(params: LvisParams, frequency: np.ndarray
              ) -> dict[str, tuple[bool, float | None, str, list[int] | None]]:
    """The slices of ``LVISEval.summarize`` by result key: (AP rather than AR, IoU
    threshold or None for all, area label, K indices of a frequency group or None)."""
    groups = [np.flatnonzero(frequency == g).tolist() for g in range(3)]
    md = params.max_dets
    return {
        "AP": (True, None, "all", None), "AP50": (True, 0.5, "all", None),
        "AP75": (True, 0.75, "all", None), "APs": (True, None, "small", None),
        "APm": (True, None, "medium", None), "APl": (True, None, "large", None),
        "APr": (True, None, "all", groups[0]), "APc": (True, None, "all", groups[1]),
        "APf": (True, None, "all", groups[2]), f"AR@{md}": (False, None, "all", None),
        f"ARs@{md}": (False, None, "small", None), f"ARm@{md}": (False, None, "medium", None),
        f"ARl@{md}": (False, None, "large", None),
    }


def compute_lvis(state: CocoState, params: LvisParams, frequency: np.ndarray) -> LvisMetrics:
    """Accumulate and summarise (``LVISEval.accumulate`` + ``summarize``).

    Args:
        state: Merged state.
        params: Parameters.
        frequency: Frequency group index per K (category) index.
    """
    acc = accumulate(state, params.engine_params())
    results = {key: _summary(acc, params, *spec)
               for key, spec in lvis_spec(params, frequency).items()}
    # per category: the same means as COCO's per-class values (first area range), by
    # direct slicing rather than one full-array selection per category
    per_class = [{key: (-1.0 if v is None else v) for key, v in values.items()
                  if key != "AR100"} for values in per_class_values(acc, params.engine_params())]
    return LvisMetrics(accumulated=acc, results=results, per_class=per_class)
