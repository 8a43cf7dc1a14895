"""Protocol ``coco-keypoints``: pycocotools 2.0.11 ``COCOeval(iouType="keypoints")`` numbers.

The COCO engine with OKS as the similarity strategy: :func:`prepare_keypoints` (evaluation
order, ``maxDets``, the keypoint arrays in that order) -> :func:`keypoints_shard` per image
shard (``coco_match.evaluate_images`` with :func:`oks_pairs`) -> ``CocoState.merge`` ->
:func:`compute_keypoints` (``accumulate`` + the 10 numbers of ``summarize._summarizeKps``).

Reproduced rules (``cocoeval.py``): ``_prepare`` sets ``ignore = iscrowd`` then
``ignore |= num_keypoints == 0`` (the field, not the flags); ``computeOks`` is
``matching.oks.object_keypoint_similarity`` and returns ``[]`` when either side of an
(image, category) is empty, which matches nothing, as an empty ``computeIoU`` does; crowd GT
are never used up (``evaluateImg``), matches are recorded by GT id (id 0 counts as
unmatched) and score ties are broken by image id then file order, as for boxes.
"""

from __future__ import annotations

__all__ = [
    "KEYPOINT_METRIC_KEYS",
    "SUMMARY_MAX_DETS",
    "KeypointsTask",
    "OksInputs",
    "compute_keypoints",
    "keypoint_per_class",
    "keypoints_counts",
    "keypoints_notices",
    "keypoints_shard",
    "oks_pairs",
    "prepare_keypoints",
]

from dataclasses import dataclass
from functools import partial

import numpy as np

from benchmark_eval.errors import ConfigError, Notice
from benchmark_eval.matching import group_pairs
from benchmark_eval.matching.oks import OKS_EPS, object_keypoint_similarity
from benchmark_eval.protocols.coco import (
    CocoMetrics,
    CocoTask,
    coco_counts,
    per_class_values,
    tie_notice,
)
from benchmark_eval.protocols.coco_accumulate import Accumulated, accumulate, summary_value
from benchmark_eval.protocols.coco_keypoints_params import KeypointsParams
from benchmark_eval.protocols.coco_match import PreparedInstances, evaluate_images, prepare
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.undefined import none_if_undefined
from benchmark_eval.schema import KeypointDataset, Keypoints, Predictions

# Keys of ``metrics``, in the order of ``COCOeval.stats`` for keypoints.
KEYPOINT_METRIC_KEYS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
# _summarizeKps looks every number up at maxDets=20, whatever Params.maxDets holds.
SUMMARY_MAX_DETS = 20
# Relative slack of the pair pre-filter (rounding of the bound), far above float error.
_BOUND_MARGIN = 1e-9
# (AP?, IoU threshold or None for all, area label) of each stats entry, in order.
KEYPOINT_SUMMARY: tuple[tuple[bool, float | None, str], ...] = (
    (True, None, "all"), (True, 0.5, "all"), (True, 0.75, "all"), (True, None, "medium"),
    (True, None, "large"), (False, None, "all"), (False, 0.5, "all"), (False, 0.75, "all"),
    (False, None, "medium"), (False, None, "large"),
)


@dataclass(frozen=True)
class OksInputs:
    """What OKS needs, in the prepared order (rows = prepared GT / detections).

    Attributes:
        gt_xy: ``(G, J, 2)``; gt_labelled: flag > 0, ``(G, J)``; gt_counts: ``(G,)``;
        gt_variances: ``(2 σ)²`` of each GT's category, ``(G, J)`` (1 past its count);
        gt_areas: the area OKS divides by, ``(G,)`` (COCO: the ``area`` field);
        det_xy: ``(D, J, 2)``;
        gt_extent: ``[x0, y0, x1, y1]`` around the GT keypoints OKS measures to (labelled
        ones, else the doubled box), ``(G, 4)``; det_extent: around the detected keypoints,
        ``(D, 4)``; gt_bound: ``1 / (max (2 σ)² × (area + eps) × 2)``, ``(G,)``.
    """

    gt_xy: np.ndarray
    gt_areas: np.ndarray
    gt_labelled: np.ndarray
    gt_counts: np.ndarray
    gt_variances: np.ndarray
    det_xy: np.ndarray
    gt_extent: np.ndarray
    det_extent: np.ndarray
    gt_bound: np.ndarray


@dataclass(frozen=True)
class KeypointsTask(CocoTask):
    """A :class:`~benchmark_eval.protocols.coco.CocoTask` with the keypoint arrays."""

    oks: OksInputs


def oks_pairs(oks: OksInputs, p: PreparedInstances, det: np.ndarray, gt: np.ndarray,
              t_min: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Same-group (detection, GT) pairs with OKS >= ``t_min`` (a ``PairStrategy``)."""
    assert p.gt_boxes is not None
    pd, pg = group_pairs(p.det_group[det], p.gt_group[gt])
    pd, pg = det[pd], gt[pg]
    if t_min > 0:  # drop pairs whose OKS is provably below every threshold
        possible = _oks_upper_bound_log(oks, pd, pg) <= -np.log(t_min) * (1 + _BOUND_MARGIN)
        pd, pg = pd[possible], pg[possible]
    sim = object_keypoint_similarity(oks.det_xy[pd], oks.gt_xy[pg], oks.gt_labelled[pg],
                                     oks.gt_counts[pg], p.gt_boxes[pg], oks.gt_areas[pg],
                                     oks.gt_variances[pg])
    keep = sim >= t_min
    return pd[keep], pg[keep], sim[keep]


def _oks_upper_bound_log(oks: OksInputs, pd: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """A lower bound of every ``e_i`` of each pair, so ``OKS <= exp(-bound)``.

    Each keypoint OKS measures lies in its extent (``gt_extent`` / ``det_extent``), so its
    distance is at least the gap between the two extents, and ``e_i`` at least
    ``gap² × gt_bound``.
    """
    d, g = oks.det_extent[pd], oks.gt_extent[pg]
    gx = np.maximum(np.maximum(g[:, 0] - d[:, 2], d[:, 0] - g[:, 2]), 0.0)
    gy = np.maximum(np.maximum(g[:, 1] - d[:, 3], d[:, 1] - g[:, 3]), 0.0)
    return (gx * gx + gy * gy) * oks.gt_bound[pg]


def _extent(xy: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``[min x, min y, max x, max y]`` of the slots where ``inside``, ``(N, 4)``."""
    per_axis = np.ascontiguousarray(xy.transpose(0, 2, 1))  # (N, 2, J): fast reductions
    if inside.all():
        return np.concatenate([per_axis.min(axis=2), per_axis.max(axis=2)], axis=1)
    m = inside[:, None, :]
    return np.concatenate([np.where(m, per_axis, np.inf).min(axis=2),
                           np.where(m, per_axis, -np.inf).max(axis=2)], axis=1)


def keypoints_shard(task: KeypointsTask, start: int, stop: int) -> CocoState:
    """The state of image ranks ``start:stop`` (``computeOks`` + ``evaluateImg``)."""
    return evaluate_images(task.prepared, task.params, "keypoints", start, stop,
                           pairs=partial(oks_pairs, task.oks))


def _variances(gt: KeypointDataset, params: KeypointsParams, n_slots: int) -> np.ndarray:
    """``(2 σ)²`` per category row (``(K, J)``), as pycocotools ``(sigmas * 2) ** 2``.

    Raises:
        ConfigError: A category with keypoints whose sigmas are not as many.
    """
    cats = gt.dataset.categories
    out = np.ones((len(cats), n_slots))
    for row, (cid, n) in enumerate(zip(cats.ids.tolist(), gt.category_counts.tolist(),
                                       strict=True)):
        sig = np.asarray(params.sigmas_for(cid), dtype=np.float64)
        if n < 0:
            continue
        if len(sig) != n:
            raise ConfigError(
                f"kpt_oks_sigmas has {len(sig)} values for category {cid}"
                f" ({cats.names[row]!r}), which has {n} keypoints; give {n} sigmas"
                " (kpt_oks_sigmas: a list, or {category_id: list})")
        out[row, :n] = (sig * 2) ** 2
    return out


def _pad(xy: np.ndarray, n_slots: int) -> np.ndarray:
    out = np.zeros((len(xy), n_slots, 2))
    out[:, : xy.shape[1]] = xy
    return out


def prepare_keypoints(gt: KeypointDataset, preds: Predictions, pred_kp: Keypoints,
                      params: KeypointsParams, *,
                      oks_areas: np.ndarray | None = None) -> KeypointsTask:
    """Evaluation order and ``maxDets`` (``coco_match.prepare``) with the keypoint rule
    ``ignore = iscrowd or num_keypoints == 0``, and the keypoint arrays in that order.

    Args:
        oks_areas: Per GT row, the area OKS divides by (default: the ``area`` field).
    """
    inst = gt.dataset.instances
    prepared = prepare(gt.dataset, preds, params, "keypoints",
                       gt_ignore=inst.iscrowd | (gt.num_keypoints == 0))
    n_slots = max(gt.keypoints.xy.shape[1], pred_kp.xy.shape[1], 1)
    variances = _variances(gt, params, n_slots)
    g = prepared.gt_src
    kp = gt.keypoints
    labelled = np.zeros((len(g), n_slots), dtype=bool)
    labelled[:, : kp.flags.shape[1]] = kp.flags[g] > 0
    gt_xy, det_xy = _pad(kp.xy[g], n_slots), _pad(pred_kp.xy[prepared.det_src], n_slots)
    slots = np.arange(n_slots)[None, :]
    gt_var = variances[gt.dataset.categories.lookup(inst.category_ids[g])]
    gt_areas = prepared.gt_area if oks_areas is None else oks_areas[g]
    box = prepared.gt_boxes
    assert box is not None
    doubled = np.stack([box[:, 0] - box[:, 2], box[:, 1] - box[:, 3],
                        box[:, 0] + box[:, 2] * 2, box[:, 1] + box[:, 3] * 2], axis=1)
    none = np.asarray(~labelled.any(axis=1))
    gt_extent = np.where(none[:, None], doubled, _extent(gt_xy, labelled))
    counted = slots < kp.counts[g][:, None]
    oks = OksInputs(
        gt_xy=gt_xy, gt_labelled=labelled, gt_counts=kp.counts[g], gt_variances=gt_var,
        gt_areas=gt_areas, det_xy=det_xy, gt_extent=gt_extent,
        det_extent=_extent(det_xy, slots < pred_kp.counts[prepared.det_src][:, None]),
        gt_bound=1.0 / (np.where(counted, gt_var, 0.0).max(axis=1, initial=0.0)
                        * (gt_areas + OKS_EPS) * 2))
    return KeypointsTask(prepared=prepared, params=params, iou_type="keypoints", oks=oks)


def compute_keypoints(state: CocoState, params: KeypointsParams) -> CocoMetrics:
    """``COCOeval.accumulate`` + ``summarize`` for keypoints.

    ``stats`` are pycocotools' 10 numbers (at ``maxDets=20``, -1 when 20 is not among
    ``max_detections``); ``metrics`` are the same slices at the last ``max_detections``
    (equal under the official preset); ``per_class``: ``AP``, ``AP50``, ``AP75``, ``AR``.
    """
    acc = accumulate(state, params)
    last = params.max_detections[-1]
    stats = np.array([summary_value(acc, params, ap, iou, area, SUMMARY_MAX_DETS)
                      for ap, iou, area in KEYPOINT_SUMMARY])
    metrics = {key: none_if_undefined(summary_value(acc, params, ap, iou, area, last))
               for key, (ap, iou, area) in zip(KEYPOINT_METRIC_KEYS, KEYPOINT_SUMMARY,
                                                strict=True)}
    return CocoMetrics(accumulated=acc, stats=stats, metrics=metrics,
                       per_class=keypoint_per_class(acc, params))


def keypoint_per_class(acc: Accumulated, params: KeypointsParams
                       ) -> list[dict[str, float | None]]:
    """``per_class_values`` with ``AR`` for ``AR100`` (the keypoint AR is at maxDets 20)."""
    return [{("AR" if k == "AR100" else k): v for k, v in row.items()}
            for row in per_class_values(acc, params)]


def keypoints_notices(gt_notices: list[Notice], pred_notices: list[Notice],
                      preds: Predictions) -> list[Notice]:
    """The files' notices and score ties."""
    return [*gt_notices, *pred_notices, *tie_notice(preds)]


def keypoints_counts(gt: KeypointDataset, preds: Predictions,
                     prepared: PreparedInstances) -> dict[str, int]:
    """:func:`~benchmark_eval.protocols.coco.coco_counts` plus the GT ignored for having
    ``num_keypoints == 0``."""
    return dict(coco_counts(gt.dataset, preds, prepared),
                gt_without_keypoints=int((gt.num_keypoints == 0).sum()))
