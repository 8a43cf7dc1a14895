"""Bootstrap replicates: the images of a run, and its numbers under image weights.

A replicate is the evaluation of a multiset of the run's images, image ``i`` drawn
``counts[i]`` times. Each protocol family turns its state's per-image statistics into the
replicate's numbers without re-reading or re-matching anything: additive statistics
(panoptic ``(iou, tp, fp, fn)``, semantic counts, Cityscapes confusion and instance sums)
are weighted sums of the per-image rows, then the protocol's own compute; records
(Cityscapes instance predictions) are repeated; COCO / LVIS AP is in
:mod:`benchmark_eval.stats.coco`.
"""

from __future__ import annotations

__all__ = [
    "Replicates",
    "Units",
    "cityscapes_instance_replicates",
    "cityscapes_semantic_replicates",
    "panoptic_replicates",
    "semantic_replicates",
]

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols import cityscapes_instance as inst
from benchmark_eval.protocols import cityscapes_semantic as cs
from benchmark_eval.protocols import panoptic as pan
from benchmark_eval.protocols import semantic as sem
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.protocols.semantic_params import SemanticParams
from benchmark_eval.protocols.semantic_state import GT_NONE, GT_VALID, PRED, TP, SemanticState
from benchmark_eval.schema.cityscapes import CATEGORIES, LABEL_BY_NAME


@dataclass(frozen=True)
class Units:
    """The images a bootstrap draws from.

    Attributes:
        keys: Sorted unique keys (image ids or names) of the images with statistics.
        n_images: Images evaluated (``>= len(keys)``); the others have no statistic, so
            drawing them changes nothing but the number of draws left for the rest.
    """

    keys: np.ndarray
    n_images: int

    def index(self, values: np.ndarray | Sequence[Any]) -> np.ndarray:
        """Positions of ``values`` in :attr:`keys` (they must be keys)."""
        return np.searchsorted(self.keys, np.asarray(values))

    def union(self, other: Units) -> Units:
        """The units of a paired comparison (both runs over the same images).

        Raises:
            ConfigError: The two runs did not evaluate the same number of images, or
                together name more images than either evaluated.
        """
        keys = np.union1d(self.keys, other.keys)
        if self.n_images != other.n_images or len(keys) > self.n_images:
            raise ConfigError(
                f"cannot compare runs over different images ({self.n_images} and"
                f" {other.n_images} images evaluated, {len(keys)} named by either)")
        return Units(keys, self.n_images)


@dataclass(frozen=True)
class Replicates:
    """The numbers of each replicate: ``(B,)`` arrays, NaN where undefined.

    Attributes:
        metrics: Headline metric -> values.
        per_class: Class key (as in the result's ``per_class``) -> metric -> values.
    """

    metrics: dict[str, np.ndarray]
    per_class: dict[Any, dict[str, np.ndarray]]


ReplicateFn = Callable[[Units, np.ndarray], Replicates]
"""``fn(units, counts)``: the replicates of ``counts`` ``(B, len(units.keys))``."""


def _nan(value: float | int | None) -> float:
    return math.nan if value is None else float(value)


def _collect(rows: Sequence[tuple[dict[str, Any], dict[Any, dict[str, Any]]]]) -> Replicates:
    """Stack per-replicate ``(metrics, per_class)`` dicts into arrays (ints are skipped:
    counts such as panoptic ``N`` are not estimates)."""
    first_m, first_c = rows[0]
    keys = [k for k, v in first_m.items() if not isinstance(v, int) or isinstance(v, bool)]
    metrics = {k: np.array([_nan(m[k]) for m, _ in rows]) for k in keys}
    per_class = {c: {k: np.array([_nan(pc[c][k]) for _, pc in rows]) for k in vals}
                 for c, vals in first_c.items()}
    return Replicates(metrics, per_class)


def _weighted_rows(counts: np.ndarray, unit: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(B, F)``: per replicate, the sum over rows of ``values`` ``(R, F)`` weighted by
    the count of each row's image ``unit`` ``(R,)``."""
    return counts[:, unit].astype(np.float64) @ values


def panoptic_replicates(state: PanopticState, isthing: np.ndarray, keys: list[int]
                        ) -> tuple[Units, ReplicateFn]:
    """PQ / SQ / RQ (All, Things, Stuff) and per-category values of each replicate."""
    if len(state.image_ids) != state.n_images:
        raise ConfigError("this panoptic state has no per-image split (saved by an older"
                          " version); evaluate again to resample its images")
    units = Units(np.unique(state.image_ids), state.n_images)
    k = len(state.category_ids)
    row_image = units.index(np.repeat(state.image_ids, state.image_rows))
    table = np.zeros((len(units.keys), 4 * k))  # per image: iou, tp, fp, fn per category
    cols = state.row_category[:, None] + np.arange(4)[None, :] * k
    np.add.at(table, (row_image[:, None], cols), state.row_stats)

    def replicate(u: Units, counts: np.ndarray) -> Replicates:
        sums = _weighted_rows(counts, u.index(units.keys), table).reshape(len(counts), 4, k)
        rows = []
        for s in sums:
            rep = PanopticState(state.category_ids, iou=s[0], tp=np.rint(s[1]).astype(np.int64),
                                fp=np.rint(s[2]).astype(np.int64),
                                fn=np.rint(s[3]).astype(np.int64))
            m = pan.compute(rep, isthing)
            per_class = {c: {"PQ": pq, "SQ": sq, "RQ": rq} for c, pq, sq, rq in zip(
                keys, m.pq.tolist(), m.sq.tolist(), m.rq.tolist(), strict=True)}
            rows.append((m.metrics, per_class))
        return _collect(rows)

    return units, replicate


def semantic_replicates(state: SemanticState, params: SemanticParams, names: list[str]
                        ) -> tuple[Units, ReplicateFn]:
    """mIoU, mAcc, mDice, aAcc, fwIoU (and the binary IoU / Dice) and per-class values of
    each replicate, from the per-image counts (the rule's TP, GT and predicted pixels)."""
    if len(state.image_names) != state.n_images:
        raise ConfigError("this semantic state was counted without per-image statistics;"
                          " count it again to resample its images")
    units = Units(np.array(sorted(state.image_names)), state.n_images)
    st = state.image_stats.astype(np.float64)
    gt = st[:, GT_VALID] + (0 if params.rule == "detectron2" else st[:, GT_NONE])
    table = np.concatenate([st[:, TP], gt, st[:, PRED]], axis=1)  # (N, 3C)
    dice = sem.per_image_dice(state.image_stats, params.rule)
    defined = ~np.isnan(dice)
    c = params.num_classes

    def replicate(u: Units, counts: np.ndarray) -> Replicates:
        w = counts[:, u.index(list(state.image_names))].astype(np.float64)
        sums = np.rint(w @ table).astype(np.int64)
        dice_mean = None
        if params.dice_averaging == "per-image":
            with np.errstate(invalid="ignore", divide="ignore"):
                dice_mean = (w @ np.where(defined, dice, 0.0)) / (w @ defined)
        rows = []
        for b, s in enumerate(sums):
            m = sem.from_counts(s[:c], s[c:2 * c], s[2 * c:], params,
                                dice=None if dice_mean is None else dice_mean[b])
            arrays = {"IoU": m.iou, "Acc": m.acc, "Dice": m.dice, "Precision": m.precision}
            rows.append((m.metrics, {n: {key: float(a[i]) for key, a in arrays.items()}
                                     for i, n in enumerate(names)}))
        return _collect(rows)

    return units, replicate


def cityscapes_semantic_replicates(state: cs.CityscapesSemanticState
                                   ) -> tuple[Units, ReplicateFn]:
    """IoU / iIoU (class and category averages) and per-label values of each replicate."""
    n = len(state.image_names)
    if len(state.image_confusion) != n:
        raise ConfigError("this Cityscapes state has no per-image confusion matrices; count"
                          " it again to resample its images")
    units = Units(np.array(sorted(state.image_names)), n)
    labels, cats, terms = cs.instance_terms(state.inst_id, state.inst_size, state.inst_tp,
                                            state.inst_cat_tp)
    image = state.inst_image
    n_label, n_cat = state.confusion.shape[0], len(CATEGORIES)
    per_image = []
    for key, groups, size in (("tp", labels, n_label), ("fn", labels, n_label),
                              ("cat_tp", cats, n_cat), ("cat_fn", cats, n_cat)):
        table = np.zeros((n, size))
        np.add.at(table, (image, groups), terms[key])
        per_image.append(table)
    table = np.concatenate([state.image_confusion.reshape(n, -1), *per_image], axis=1)
    cuts = np.cumsum([n_label * n_label, n_label, n_label, n_cat])

    def replicate(u: Units, counts: np.ndarray) -> Replicates:
        sums = _weighted_rows(counts, u.index(list(state.image_names)), table)
        rows = []
        for s in sums:
            conf, tpw, fnw, cat_tpw, cat_fnw = np.split(s, cuts)
            m = cs.from_counts(np.rint(conf).astype(np.int64).reshape(n_label, n_label),
                               tpw, fnw, cat_tpw, cat_fnw)
            rows.append((m.metrics, {name: {
                "IoU": float(m.iou[LABEL_BY_NAME[name].id]),
                "iIoU": float(m.iiou[LABEL_BY_NAME[name].id])}
                for name in cs.EVALUATED_LABELS}))
        return _collect(rows)

    return units, replicate


def cityscapes_instance_replicates(state: inst.CityscapesInstanceState
                                   ) -> tuple[Units, ReplicateFn]:
    """AP / AP50 and per-class values of each replicate (images keyed by their position
    in the GT order, the order both runs of a comparison count them in)."""
    n = state.n_images
    if len(state.image_preds) != n:
        raise ConfigError("this Cityscapes instance state has no per-image split; count it"
                          " again to resample its images")
    units = Units(np.arange(n), n)
    record_image = np.repeat(np.arange(n), state.image_preds)

    def replicate(u: Units, counts: np.ndarray) -> Replicates:
        rows = []
        for w in counts[:, u.index(np.arange(n))]:
            times = w[record_image]
            cls = np.repeat(state.pred_class, times)
            rep = inst.CityscapesInstanceState(
                cls, np.repeat(state.pred_score, times),
                np.repeat(state.pred_outcome, times, axis=0),
                (w[:, None] * state.image_gt_count).sum(axis=0),
                np.bincount(cls, minlength=len(inst.INSTANCE_CLASSES)), int(w.sum()))
            m = inst.compute(rep)
            rows.append((m.metrics, {name: {"AP": float(m.per_class_ap[k]),
                                            "AP50": float(m.per_class_ap50[k])}
                                     for k, name in enumerate(inst.INSTANCE_CLASSES)}))
        return _collect(rows)

    return units, replicate
