"""Protocol ``cityscapes-semantic``: cityscapesScripts 2.3.0 pixel-level IoU and iIoU.

Reproduces ``evaluation/evalPixelLevelSemanticLabeling.py`` (``evaluatePair``,
``getIouScoreForLabel``, ``getInstanceIouScoreForLabel``, ``getIouScoreForCategory``,
``getInstanceIouScoreForCategory``, ``getScoreAverage``) on label-id maps:

* **State**: the ``34 x 34`` label-id confusion matrix, plus one record per GT instance
  (instance id ``> 1000`` of a class not ignored in evaluation): its size, the pixels
  predicted as its class (``tp``) and as any label of its category (``cat_tp``); counted in
  :mod:`~benchmark_eval.protocols.cityscapes_semantic_count`. States merge by addition and
  concatenation.
* **Class IoU** ``tp / (tp + fp + fn)``: FN over the full GT row (predicting a void id on a
  valid pixel is a miss), FP over the rows of GT labels not ignored in evaluation; NaN for
  ignored labels and when the denominator is 0 (a class only predicted scores 0).
* **iIoU**: TP and FN of each GT instance weighted by ``AVERAGE_INSTANCE_SIZE[class] /
  instance size``, FP unweighted from the matrix; group regions (ids ``< 1000``) only
  count in the matrix.
* **Category IoU / iIoU**: the same on blocks of labels; for the iIoU of ``human`` and
  ``vehicle``, a category prediction is any label of the category, ignored ones included
  (``caravan``, ``trailer``), in the TP and in the FP.
* **Averages**: the mean over the non-NaN values, summed in table order (``getScoreAverage``).

Weighted sums are added in the official order (images by name, instances by id).
"""

from __future__ import annotations

__all__ = [
    "AVERAGE_INSTANCE_SIZE",
    "EVALUATED_CATEGORIES",
    "EVALUATED_LABELS",
    "INSTANCE_CATEGORIES",
    "METRIC_KEYS",
    "CityscapesSemanticMetrics",
    "CityscapesSemanticParams",
    "CityscapesSemanticState",
    "CountingScratch",
    "SemanticImageCounter",
    "compute",
    "notices",
]

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.cityscapes_semantic_count import (
    INSTANCE_CATEGORIES,
    CityscapesSemanticState,
    CountingScratch,
    SemanticImageCounter,
)
from benchmark_eval.protocols.semantic import class_mean
from benchmark_eval.schema.cityscapes import (
    CATEGORIES,
    INSTANCE_CLASSES,
    LABEL_BY_ID,
    LABELS,
    NUM_LABEL_IDS,
    category_label_ids,
)

METRIC_KEYS = ("IoU_class", "iIoU_class", "IoU_category", "iIoU_category")

AVERAGE_INSTANCE_SIZE: dict[str, float] = {
    "bicycle": 4672.3249222261,
    "caravan": 36771.8241758242,
    "motorcycle": 6298.7200839748,
    "rider": 3930.4788056518,
    "bus": 35732.1511111111,
    "train": 67583.7075812274,
    "car": 12794.0202738185,
    "person": 3462.4756337644,
    "truck": 27855.1264367816,
    "trailer": 16926.9763313609,
}
"""The official fixed average instance size per class in pixels (``args.avgClassSize``)."""

N = NUM_LABEL_IDS
_IGNORED = np.array([LABEL_BY_ID[i].ignore_in_eval for i in range(N)])
_CATEGORY = np.array([CATEGORIES.index(LABEL_BY_ID[i].category) for i in range(N)])
_AVG_SIZE = np.array([AVERAGE_INSTANCE_SIZE.get(LABEL_BY_ID[i].name, math.nan)
                      for i in range(N)])


class CityscapesSemanticParams(BaseModel):
    """Options of ``cityscapes-semantic``.

    Attributes:
        pred_ids: What the prediction PNGs hold: ``"labelIds"`` (the official format) or
            ``"trainIds"`` (0..18, 255; mapped to label ids first, 255 to ``unlabeled``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pred_ids: Literal["labelIds", "trainIds"] = "labelIds"

    @field_validator("pred_ids", mode="before")
    @classmethod
    def _default_for_none(cls, value: Any) -> Any:
        return "labelIds" if value is None else value  # pred_ids=None: not given


# -------------------------------------------------------------------------------- compute


@dataclass(frozen=True)
class CityscapesSemanticMetrics:
    """Everything :func:`compute` derives from a state (fractions; NaN where undefined).

    Attributes:
        iou: ``(34,)`` IoU per label id (NaN for labels ignored in evaluation).
        iiou: ``(34,)`` iIoU per label id (NaN except for the 8 instance classes).
        category_iou: ``(8,)`` per category of :data:`CATEGORIES`.
        category_iiou: ``(8,)`` (NaN except ``human`` and ``vehicle``).
        metrics: ``IoU_class``, ``iIoU_class``, ``IoU_category``, ``iIoU_category``.
        tp_weighted: ``(34,)`` weighted instance TP per label id.
        fn_weighted: ``(34,)`` weighted instance FN per label id.
    """

    iou: np.ndarray
    iiou: np.ndarray
    category_iou: np.ndarray
    category_iiou: np.ndarray
    metrics: dict[str, float]
    tp_weighted: np.ndarray
    fn_weighted: np.ndarray


def _running_sum(values: np.ndarray) -> float:
    """Sum in order, as ``+=`` from 0.0 does (``np.cumsum`` adds sequentially)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def _ratio(tp: float, denom: float) -> float:
    return math.nan if denom == 0 else float(tp / denom)


def _weighted(state: CityscapesSemanticState
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted TP / FN per label id and per category, in the official addition order."""
    rank = np.argsort(np.argsort(np.array(state.image_names, dtype=np.str_), kind="stable"))
    order = np.lexsort((state.inst_id, rank[state.inst_image])) if len(
        state.inst_id) else np.zeros(0, dtype=np.intp)
    ids = state.inst_id[order]
    size, tp, cat_tp = (a[order] for a in (state.inst_size, state.inst_tp, state.inst_cat_tp))
    labels = ids // 1000
    weight = _AVG_SIZE[labels] / size.astype(np.float64)
    terms = {"tp": tp * weight, "fn": (size - tp) * weight,
             "cat_tp": cat_tp * weight, "cat_fn": (size - cat_tp) * weight}
    per_label = {k: np.array([_running_sum(terms[k][labels == i]) for i in range(N)])
                 for k in ("tp", "fn")}
    cats = _CATEGORY[labels]
    per_cat = {k: np.array([_running_sum(terms[k][cats == c]) for c in range(len(
        CATEGORIES))]) for k in ("cat_tp", "cat_fn")}
    return per_label["tp"], per_label["fn"], per_cat["cat_tp"], per_cat["cat_fn"]


def compute(state: CityscapesSemanticState) -> CityscapesSemanticMetrics:
    """Class and category IoU / iIoU and their averages (see the module docstring)."""
    conf = state.confusion
    valid = ~_IGNORED
    tp = np.diagonal(conf).copy()
    fn = conf.sum(axis=1) - tp
    fp = conf[valid].sum(axis=0) - np.where(valid, tp, 0)
    tpw, fnw, cat_tpw, cat_fnw = _weighted(state)
    iou = np.full(N, np.nan)
    iiou = np.full(N, np.nan)
    for i in np.flatnonzero(valid).tolist():
        iou[i] = _ratio(float(tp[i]), float(tp[i] + fp[i] + fn[i]))
        if LABEL_BY_ID[i].name in INSTANCE_CLASSES:
            iiou[i] = _ratio(tpw[i], tpw[i] + np.int64(fp[i]) + fnw[i])
    cat_iou = np.full(len(CATEGORIES), np.nan)
    cat_iiou = np.full(len(CATEGORIES), np.nan)
    for c, name in enumerate(CATEGORIES):
        outside = np.flatnonzero(valid & (c != _CATEGORY))
        ids = np.array(category_label_ids(name, evaluated_only=True), dtype=np.intp)
        if len(ids):
            block = int(conf[np.ix_(ids, ids)].sum())
            miss = int(conf[ids].sum()) - block
            false = int(conf[np.ix_(outside, ids)].sum())
            cat_iou[c] = _ratio(float(block), float(block + false + miss))
        if name in INSTANCE_CATEGORIES:
            every = np.array(category_label_ids(name, evaluated_only=False), dtype=np.intp)
            false = np.int64(conf[np.ix_(outside, every)].sum())
            cat_iiou[c] = _ratio(cat_tpw[c], cat_tpw[c] + false + cat_fnw[c])
    metrics = {"IoU_class": class_mean(iou, "cityscapes"),
               "iIoU_class": class_mean(iiou, "cityscapes"),
               "IoU_category": class_mean(cat_iou, "cityscapes"),
               "iIoU_category": class_mean(cat_iiou, "cityscapes")}
    return CityscapesSemanticMetrics(iou=iou, iiou=iiou, category_iou=cat_iou,
                                     category_iiou=cat_iiou, metrics=metrics,
                                     tp_weighted=tpw, fn_weighted=fnw)


EVALUATED_LABELS: tuple[str, ...] = tuple(lb.name for lb in LABELS
                                          if lb.id >= 0 and not lb.ignore_in_eval)
"""The 19 ``per_class`` keys, in label-id order."""
EVALUATED_CATEGORIES: tuple[str, ...] = tuple(
    c for c in CATEGORIES if category_label_ids(c, evaluated_only=True))
"""The 7 ``per_category`` keys (``void`` has no evaluated label)."""


def notices(state: CityscapesSemanticState) -> list[Notice]:
    """What cityscapesScripts does silently: void predictions on evaluated pixels are
    misses, and classes only predicted score 0."""
    conf = state.confusion
    valid = ~_IGNORED
    out = []
    void_on_valid = int(conf[np.ix_(valid, ~valid)].sum())
    if void_on_valid:
        out.append(Notice("void-predictions", f"{void_on_valid} pixels with an evaluated GT"
                          " label are predicted as a label ignored in evaluation: false"
                          " negatives of their GT class (as cityscapesScripts counts them)"))
    only = [LABEL_BY_ID[i].name for i in np.flatnonzero(valid).tolist()
            if conf[i].sum() == 0 and conf[valid, i].sum() > 0]
    if only:
        out.append(Notice("predicted-only-classes", f"classes predicted but absent from the"
                          f" GT score IoU 0 and count in the averages: {', '.join(only)}"))
    return out
