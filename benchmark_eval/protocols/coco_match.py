"""Per-image stage of the COCO instance protocols: overlaps, matching, outcome codes.

Reproduces pycocotools 2.0.11 ``COCOeval.computeIoU`` + ``evaluateImg`` for every
(image, category) group at once. Pure: arrays in, :class:`CocoState` out. The pair similarity
is the strategy chosen by :data:`IouType`: box IoU, mask IoU, or boundary-iou-api's
``computeBoundaryIoU`` score (``"boundary"``); or any :data:`PairStrategy` passed to
:func:`evaluate_images` (``"keypoints"``: OKS, ``protocols.coco_keypoints``).
"""

from __future__ import annotations

__all__ = ["IouType", "PairStrategy", "PreparedInstances", "evaluate_images", "prepare"]

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from benchmark_eval.masks import box_iou_pairs, has_kernels, mask_iou, pair_mask_iou
from benchmark_eval.masks.boundary import boundary_dilation, mask_boundaries, rle_boundaries
from benchmark_eval.matching import greedy_match, group_pairs
from benchmark_eval.protocols.coco_params import BoundaryParams, CocoParams
from benchmark_eval.protocols.coco_state import FP, IGNORED, TP, CocoState
from benchmark_eval.schema import InstanceDataset, MaskRuns, Predictions

# "boundary": min(mask IoU, boundary IoU) for non-crowd GT, mask IoU for crowd GT.
# "keypoints": OKS, a strategy supplied by protocols.coco_keypoints.
IouType = Literal["bbox", "segm", "boundary", "keypoints"]


@dataclass(frozen=True)
class PreparedInstances:
    """GT and detections sorted into evaluation order, detections cut to ``maxDets``.

    GT are ordered by (image id, category id, annotation order); detections by
    (image id, category id, score descending, results-file order), or for class-agnostic
    evaluation (image id, score descending, category id, file order) — the orders
    pycocotools builds from ``imgToAnns`` and its stable score sort.
    """

    category_ids: np.ndarray  # K axis
    image_ids: np.ndarray  # sorted image ids evaluated
    gt_image: np.ndarray  # image rank per GT
    gt_group: np.ndarray
    gt_category: np.ndarray  # index into category_ids
    gt_ids: np.ndarray
    gt_area: np.ndarray
    gt_crowd: np.ndarray  # crowd semantics: IoU over the detection, never used up
    gt_ignore_flag: np.ndarray  # ignored in every area range (COCO: iscrowd; LVIS: ignore)
    gt_boxes: np.ndarray | None
    gt_masks: list[Any] | None
    gt_runs: MaskRuns | None  # decoded masks, indexed by ``gt_src``
    gt_src: np.ndarray  # row of each prepared GT in the dataset
    det_image: np.ndarray  # image rank per detection
    det_group: np.ndarray
    det_category: np.ndarray
    det_rank: np.ndarray
    det_score: np.ndarray
    det_area: np.ndarray
    det_boxes: np.ndarray | None
    det_masks: list[Any] | None
    det_runs: MaskRuns | None  # decoded masks, indexed by ``det_src``
    det_src: np.ndarray  # row of each prepared detection in the results file
    det_free_fp: np.ndarray  # an unmatched detection is ignored, not a false positive
    n_dropped: int  # detections beyond the largest maxDets in their group
    image_heights: np.ndarray | None = None  # per image rank (boundary only)
    image_widths: np.ndarray | None = None
    image_dilation: np.ndarray | None = None  # boundary band width d per image rank
    # per (GT / detection, area range): outside that range whatever its area (CrowdPose's
    # easy / medium / hard image splits); None: area alone decides
    gt_outside: np.ndarray | None = None
    det_outside: np.ndarray | None = None


# (prepared, detections, GT, t_min) -> same-group (detection, GT, similarity) pairs whose
# similarity is >= t_min; detections and GT are index arrays into ``prepared``.
PairStrategy = Callable[[PreparedInstances, np.ndarray, np.ndarray, float],
                        tuple[np.ndarray, np.ndarray, np.ndarray]]


def _known(gt: InstanceDataset, category_ids: np.ndarray, keep: np.ndarray | None
           ) -> np.ndarray | None:
    """``keep`` and-ed with "the category is in the GT's table" (None: keep all)."""
    known = gt.categories.lookup(category_ids) >= 0
    if known.all():
        return keep
    return known if keep is None else keep & known


def prepare(gt: InstanceDataset, preds: Predictions, params: CocoParams,
            iou_type: IouType, *, gt_ignore: np.ndarray | None = None,
            gt_keep: np.ndarray | None = None, det_keep: np.ndarray | None = None,
            det_free_fp: np.ndarray | None = None, crowd: bool = True) -> PreparedInstances:
    """Sort GT and detections into the evaluation order and apply ``maxDets``.

    The defaults are pycocotools' rules. LVIS (``protocols.lvis``) passes its own:

    Args:
        gt_ignore: Per GT row, ignored in every area range (default: ``iscrowd``, as
            pycocotools overrides ``ignore`` with it).
        gt_keep: Per GT row, evaluate it at all (default: all).
        det_keep: Per detection row, evaluate it at all (default: all).
        det_free_fp: Per detection row, an unmatched detection is ignored rather than a
            false positive (default: none).
        crowd: Whether ``iscrowd`` GT get crowd matching (union = detection area, never
            used up); LVIS has no crowd logic.
    """
    # pycocotools and lvis-api load GT and detections with getAnnIds(catIds=params.catIds):
    # a category absent from 'categories' is never evaluated (even with useCats=0)
    gt_keep = _known(gt, gt.instances.category_ids, gt_keep)
    det_keep = _known(gt, preds.category_ids, det_keep)
    image_ids = np.unique(gt.images.ids)
    if params.class_agnostic:
        category_ids = np.array([-1], dtype=np.int64)
    else:
        category_ids = np.unique(gt.categories.ids)
    inst = gt.instances
    gi = np.searchsorted(image_ids, inst.image_ids)
    gc = np.searchsorted(category_ids, inst.category_ids) if not params.class_agnostic else (
        np.zeros(len(inst), dtype=np.int64))
    g_order = np.lexsort((np.arange(len(inst)), inst.category_ids, gi))
    if gt_keep is not None:
        g_order = g_order[gt_keep[g_order]]
    di = np.searchsorted(image_ids, preds.image_ids)
    file_order = np.arange(len(preds))
    kept_rows = np.arange(len(preds)) if det_keep is None else np.flatnonzero(det_keep)
    if params.class_agnostic:
        dc = np.zeros(len(preds), dtype=np.int64)
        keys = (file_order, preds.category_ids, -preds.scores, di)
    else:
        dc = np.searchsorted(category_ids, preds.category_ids)
        keys = (file_order, -preds.scores, dc, di)
    d_order = kept_rows[np.lexsort(tuple(k[kept_rows] for k in keys))]
    n_cat = len(category_ids)
    det_group = (di * n_cat + dc)[d_order]
    starts = np.r_[0, np.flatnonzero(np.diff(det_group)) + 1]
    sizes = np.diff(np.r_[starts, len(det_group)])
    rank = np.arange(len(det_group)) - np.repeat(starts, sizes)
    keep = rank < params.max_detections[-1]
    d_sel = d_order[keep]
    g_sel = g_order

    def take(masks: list[Any] | None, idx: np.ndarray) -> list[Any] | None:
        return None if masks is None else [masks[i] for i in idx.tolist()]

    need_masks = iou_type in ("segm", "boundary")
    crowd_flags = inst.iscrowd if crowd else np.zeros(len(inst), dtype=bool)
    ignore_flags = inst.iscrowd if gt_ignore is None else gt_ignore
    free_fp = np.zeros(len(preds), dtype=bool) if det_free_fp is None else det_free_fp
    use_runs = need_masks and has_kernels() and inst.mask_runs is not None and (
        preds.mask_runs is not None)
    bands = _band_widths(gt, image_ids, params) if iou_type == "boundary" else {}
    return PreparedInstances(
        category_ids=category_ids, image_ids=image_ids,
        gt_image=gi[g_sel], gt_group=(gi * n_cat + gc)[g_sel], gt_category=gc[g_sel],
        gt_ids=inst.ids[g_sel], gt_area=inst.areas[g_sel], gt_crowd=crowd_flags[g_sel],
        gt_ignore_flag=ignore_flags[g_sel],
        gt_boxes=None if need_masks or inst.boxes is None else inst.boxes[g_sel],
        gt_masks=take(inst.masks, g_sel) if need_masks and not use_runs else None,
        gt_runs=inst.mask_runs if use_runs else None, gt_src=g_sel,
        det_image=di[d_sel], det_group=det_group[keep], det_category=dc[d_sel],
        det_rank=rank[keep], det_score=preds.scores[d_sel], det_area=preds.areas[d_sel],
        det_boxes=None if need_masks or preds.boxes is None else preds.boxes[d_sel],
        det_masks=take(preds.masks, d_sel) if need_masks and not use_runs else None,
        det_runs=preds.mask_runs if use_runs else None, det_src=d_sel,
        det_free_fp=free_fp[d_sel], n_dropped=int((~keep).sum()), **bands,
    )


def _band_widths(gt: InstanceDataset, image_ids: np.ndarray,
                 params: CocoParams) -> dict[str, np.ndarray]:
    """Image sizes and boundary band widths ``d`` per image rank (``"boundary"`` only)."""
    rows = gt.images.lookup(image_ids)
    h, w = gt.images.heights[rows], gt.images.widths[rows]
    ratio = (params.boundary_dilation_ratio if isinstance(params, BoundaryParams)
             else BoundaryParams().boundary_dilation_ratio)
    return {"image_heights": h, "image_widths": w,
            "image_dilation": boundary_dilation(h, w, ratio)}


def _outside(area: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``area < lo or area > hi`` per object and area range, shape ``(N, A)``."""
    return (area[:, None] < bounds[None, :, 0]) | (area[:, None] > bounds[None, :, 1])


def _box_pairs(p: PreparedInstances, det: np.ndarray, gt: np.ndarray,
               t_min: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    assert p.det_boxes is not None
    assert p.gt_boxes is not None
    pd, pg = group_pairs(p.det_group[det], p.gt_group[gt])
    pd, pg = det[pd], gt[pg]
    iou = box_iou_pairs(p.det_boxes[pd], p.gt_boxes[pg], p.gt_crowd[pg])
    ok = iou >= t_min
    return pd[ok], pg[ok], iou[ok]


def _mask_pairs(p: PreparedInstances, det: np.ndarray, gt: np.ndarray,
                t_min: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Same-group pairs with mask IoU >= ``t_min``.

    With the C kernels: pairs whose (conservative) boxes overlap go to one ``pair_iou``
    call; the others have IoU 0 exactly, as in pycocotools' ``rleIou`` box prefilter.
    """
    if p.det_runs is None or p.gt_runs is None:
        return _mask_pairs_per_image(p, det, gt, t_min)
    pd, pg = group_pairs(p.det_group[det], p.gt_group[gt])
    pd, pg = det[pd], gt[pg]
    ds, gs = p.det_src[pd], p.gt_src[pg]
    db, gb = p.det_runs.boxes[ds], p.gt_runs.boxes[gs]
    overlap = (np.minimum(db[:, 0] + db[:, 2], gb[:, 0] + gb[:, 2]) > np.maximum(
        db[:, 0], gb[:, 0])) & (np.minimum(db[:, 1] + db[:, 3], gb[:, 1] + gb[:, 3]) > np.maximum(
        db[:, 1], gb[:, 1]))
    iou = np.zeros(len(pd), dtype=np.float64)
    iou[overlap] = pair_mask_iou(p.det_runs, p.gt_runs, ds[overlap], gs[overlap],
                                 p.gt_crowd[pg[overlap]])
    keep = iou >= t_min
    return pd[keep], pg[keep], iou[keep]


def _boundary_pairs(p: PreparedInstances, det: np.ndarray, gt: np.ndarray,
                    t_min: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Same-group pairs whose boundary-iou-api score is >= ``t_min``.

    The score is ``min(mask IoU, boundary IoU)``, or the mask IoU for crowd GT
    (boundary-iou-api ``COCOeval.computeBoundaryIoU``). It never exceeds the mask IoU, so
    boundaries are only extracted for the masks of pairs whose mask IoU is >= ``t_min`` and
    > 0 (a zero mask IoU stays zero).
    """
    pd, pg, iou = _mask_pairs(p, det, gt, t_min)
    both = ~p.gt_crowd[pg] & (iou > 0)
    if both.any():
        iou[both] = np.minimum(iou[both], _boundary_iou(p, pd[both], pg[both]))
    keep = iou >= t_min
    return pd[keep], pg[keep], iou[keep]


def _boundary_iou(p: PreparedInstances, pd: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """IoU of the boundary bands of (detection, non-crowd GT) pairs, as ``rleIou`` gives it."""
    assert p.image_dilation is not None
    assert p.image_heights is not None
    assert p.image_widths is not None
    dets, d_idx = np.unique(pd, return_inverse=True)
    gts, g_idx = np.unique(pg, return_inverse=True)
    d_img, g_img = p.det_image[dets], p.gt_image[gts]
    if p.det_runs is None or p.gt_runs is None:  # no C kernels: RLE dicts and pycocotools
        assert p.det_masks is not None
        assert p.gt_masks is not None
        d_rle = rle_boundaries([p.det_masks[i] for i in dets.tolist()], p.image_dilation[d_img])
        g_rle = rle_boundaries([p.gt_masks[i] for i in gts.tolist()], p.image_dilation[g_img])
        one = np.zeros(1, dtype=np.uint8)
        return np.array([mask_iou([d_rle[a]], [g_rle[b]], one)[0, 0]
                         for a, b in zip(d_idx.tolist(), g_idx.tolist(), strict=True)])
    db = mask_boundaries(p.det_runs, p.det_src[dets], p.image_heights[d_img],
                         p.image_widths[d_img], p.image_dilation[d_img])
    gb = mask_boundaries(p.gt_runs, p.gt_src[gts], p.image_heights[g_img],
                         p.image_widths[g_img], p.image_dilation[g_img])
    return pair_mask_iou(db, gb, d_idx, g_idx, np.zeros(len(pd), dtype=np.uint8))


def _mask_pairs_per_image(p: PreparedInstances, det: np.ndarray, gt: np.ndarray,
                          t_min: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fallback without the C kernels: one pycocotools ``rleIou`` call per image."""
    assert p.det_masks is not None
    assert p.gt_masks is not None
    out_d, out_g, out_iou = [], [], []
    d_img, g_img = p.det_image[det], p.gt_image[gt]
    d_bounds = np.searchsorted(d_img, np.unique(d_img))
    for lo, hi in zip(d_bounds, np.r_[d_bounds[1:], len(det)], strict=True):
        image = d_img[lo]
        g_lo, g_hi = np.searchsorted(g_img, [image, image + 1])
        if g_lo == g_hi:
            continue
        dd, gg = det[lo:hi], gt[g_lo:g_hi]
        ious = mask_iou([p.det_masks[i] for i in dd.tolist()],
                        [p.gt_masks[i] for i in gg.tolist()], p.gt_crowd[gg])
        same = p.det_group[dd][:, None] == p.gt_group[gg][None, :]
        r, c = np.nonzero(same & (ious >= t_min))
        out_d.append(dd[r])
        out_g.append(gg[c])
        out_iou.append(ious[r, c])
    if not out_d:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    return np.concatenate(out_d), np.concatenate(out_g), np.concatenate(out_iou)


def evaluate_images(p: PreparedInstances, params: CocoParams, iou_type: IouType,
                    first: int = 0, stop: int | None = None, *,
                    pairs: PairStrategy | None = None) -> CocoState:
    """Match detections to GT on images ``first:stop`` (ranks into ``p.image_ids``).

    Args:
        p: Prepared instances (see :func:`prepare`).
        params: Evaluation parameters.
        iou_type: ``"bbox"``, ``"segm"``, ``"boundary"`` or ``"keypoints"``.
        first: First image rank of the shard.
        stop: One past the last image rank; all remaining images if None.
        pairs: The similarity strategy; by default the one of ``iou_type``.
    """
    stop = len(p.image_ids) if stop is None else stop
    det = np.arange(*np.searchsorted(p.det_image, [first, stop]))
    gt = np.arange(*np.searchsorted(p.gt_image, [first, stop]))
    thr = params.iou_array
    t_min = float(np.minimum(thr, 1 - 1e-10).min())
    if pairs is None:
        pairs = {"bbox": _box_pairs, "segm": _mask_pairs, "boundary": _boundary_pairs}[iou_type]
    pd, pg, piou = pairs(p, det, gt, t_min)
    d_local, g_local = pd - (det[0] if len(det) else 0), pg - (gt[0] if len(gt) else 0)
    bounds = params.area_array
    gt_ignore = p.gt_ignore_flag[gt][:, None] | _outside(p.gt_area[gt], bounds)
    if p.gt_outside is not None:
        gt_ignore |= p.gt_outside[gt]
    wave = _waves(d_local, p.det_group[det])
    matched_dets, match = greedy_match(d_local, g_local, piou, wave, gt_ignore, p.gt_crowd[gt],
                                       thr)
    free = _outside(p.det_area[det], bounds) | p.det_free_fp[det][:, None]
    if p.det_outside is not None:
        free |= p.det_outside[det]
    outcome = _outcomes(matched_dets, match, gt_ignore, p.gt_ids[gt], free, len(thr))
    gt_count = np.zeros((len(p.category_ids), len(bounds)), dtype=np.int64)
    np.add.at(gt_count, p.gt_category[gt], (~gt_ignore).astype(np.int64))
    counted = (~gt_ignore).astype(np.int64) << np.arange(len(bounds), dtype=np.int64)
    return CocoState(
        category_ids=p.category_ids, det_category=p.det_category[det],
        det_image=p.image_ids[p.det_image[det]], det_rank=p.det_rank[det],
        det_score=p.det_score[det], det_outcome=outcome, gt_count=gt_count,
        n_images=stop - first, fingerprint=fingerprint(params, iou_type),
        gt_image=p.image_ids[p.gt_image[gt]], gt_category=p.gt_category[gt],
        gt_counted=counted.sum(axis=1),
    )


def fingerprint(params: CocoParams, iou_type: IouType) -> str:
    """Stable text identifying what a state was computed with."""
    return f"{iou_type}:{params.model_dump_json()}"


def _waves(pair_det: np.ndarray, det_group: np.ndarray) -> np.ndarray:
    """Per pair, the rank of its detection among its group's candidate-bearing detections."""
    if len(pair_det) == 0:
        return np.zeros(0, dtype=np.int64)
    dets = np.unique(pair_det)  # sorted: group order, then rank
    groups = det_group[dets]
    first = np.r_[True, groups[1:] != groups[:-1]]
    starts = np.flatnonzero(first)
    rank = np.arange(len(dets)) - np.repeat(starts, np.diff(np.r_[starts, len(dets)]))
    return rank[np.searchsorted(dets, pair_det)]


def _outcomes(dets: np.ndarray, match: np.ndarray, gt_ignore: np.ndarray,
              gt_ids: np.ndarray, det_free: np.ndarray, n_thr: int) -> np.ndarray:
    """Outcome codes ``(D, A, T)``, uint8.

    As in evaluateImg: a detection matched to an ignored GT is ignored; an unmatched one is
    ignored when "free" (its own area outside the range, or LVIS' not-exhaustive rule),
    else a false positive. pycocotools stores the matched GT's *id* and treats id 0 as
    "unmatched", which this reproduces.

    Args:
        dets: Detections that had candidates, ``(C,)``; ``match`` holds their matches
            ``(C, T, A)`` (-1 unmatched); every other detection is unmatched.
        det_free: ``(D, A)``.
    """
    n_det, n_area = det_free.shape
    out = np.empty((n_det, n_area, n_thr), dtype=np.uint8)
    out[...] = np.where(det_free, IGNORED, FP).astype(np.uint8)[:, :, None]
    if len(dets) == 0:
        return out
    matched = match >= 0
    g = np.where(matched, match, 0)
    a_idx = np.arange(n_area)[None, None, :]
    ign = gt_ignore[g, a_idx]
    dtm = matched & (gt_ids[g] != 0)
    ignored = (matched & ign) | (~dtm & det_free[dets][:, None, :])
    codes = np.where(ignored, IGNORED, np.where(dtm, TP, FP)).astype(np.uint8)
    out[dets] = codes.transpose(0, 2, 1)
    return out
