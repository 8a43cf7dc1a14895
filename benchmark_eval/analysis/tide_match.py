"""TIDE's per-image stage: matching, crowd regions and the error type of every detection.

Reproduces tidecv 1.0.1 (``quantify.py``: ``TIDEExample`` and ``TIDERun._eval_image``;
``errors/error.py``: ``BestGTMatch``) for every image at once. Its rules differ from
pycocotools' and are reproduced as they are:

- Detections of an image are visited by descending score (stable: results-file order on ties)
  and only the first :data:`MAX_DETS` of the *image* (not of each class) are kept.
- A detection takes the not-yet-used GT *of its class* with the highest IoU, the first in
  annotation order among equals, if that IoU is ``>= pos_thresh`` (:func:`greedy_match`).
- Crowd GT are "ignore regions": an unmatched detection whose crowd IoU (intersection over
  the detection) with a crowd GT of its class is ``> pos_thresh`` (strictly) is ignored.
- Every unmatched detection, ignored ones included, gets one error type, tested in this
  order: no GT in the image -> background; best same-class IoU in ``[bg, pos]`` ->
  localisation; best other-class IoU ``>= pos`` -> classification; best IoU with a used
  same-class GT ``>= pos`` -> duplicate; best IoU with any GT ``<= bg`` -> background; else
  "both". "Best" is the first GT in annotation order among equal IoUs.
- A localisation or classification error whose GT is unused can be *fixed* into a true
  positive, but only one per GT: the first detection (highest score) that points at it.
- A GT no detection used and no fixable error points at is "missed".
"""

from __future__ import annotations

__all__ = [
    "BKG",
    "BOTH",
    "CLS",
    "DUPE",
    "FP",
    "IGNORED",
    "LOC",
    "MAX_DETS",
    "NO_ERROR",
    "TP",
    "TideDetections",
    "classify",
    "pair_iou",
]

from dataclasses import dataclass

import numpy as np

from benchmark_eval.masks import box_iou_pairs, has_kernels, mask_iou, pair_mask_iou
from benchmark_eval.matching import greedy_match, group_pairs
from benchmark_eval.schema import InstanceDataset, Predictions

MAX_DETS = 100  # tidecv datasets.COCO: Data(name, max_dets=100), a cut per image
POS_THRESH = 0.5  # TIDE(pos_threshold=0.5)
BG_THRESH = 0.1  # TIDE(background_threshold=0.1)

# Detection outcome (tidecv's pred['used']: True, False, None).
TP, FP, IGNORED = 0, 1, 2
# Error type per detection, in tidecv's order TIDE._error_types (Miss is per GT).
NO_ERROR, CLS, LOC, BOTH, DUPE, BKG = -1, 0, 1, 2, 3, 4


@dataclass(frozen=True)
class TideDetections:
    """Every kept detection and non-crowd GT, classified, in tidecv's visiting order.

    Detections are ordered by (image position in the GT file, score descending,
    results-file order): the order tidecv pushes them into its AP records.

    Attributes:
        det_class: Class index per detection, shape ``(D,)``, int64 (into ``class_ids``).
        det_score: Score per detection, float64.
        det_outcome: :data:`TP`, :data:`FP` or :data:`IGNORED` (matched to a crowd), int8.
        det_error: Error type (:data:`CLS` ... :data:`BKG`), :data:`NO_ERROR` for TPs, int8.
        det_fix_class: For a fixable localisation / classification error, the class index
            of the GT it would match; -1 otherwise, int64.
        det_image: Image position (in the GT file) per detection, int64.
        gt_class: Class index per non-crowd GT, shape ``(G,)``, int64; GT are ordered by
            (image position, annotation order).
        gt_image: Image position per GT, int64.
        gt_used: Whether a detection matched the GT, bool.
        gt_missed: A false negative no fixable error points at (tidecv ``MissedError``).
        class_ids: Category id per class index, sorted, int64.
    """

    det_class: np.ndarray
    det_score: np.ndarray
    det_outcome: np.ndarray
    det_error: np.ndarray
    det_fix_class: np.ndarray
    det_image: np.ndarray
    gt_class: np.ndarray
    gt_image: np.ndarray
    gt_used: np.ndarray
    gt_missed: np.ndarray
    class_ids: np.ndarray


@dataclass(frozen=True)
class _Sorted:
    """Detections and GT sorted by image position, with the source rows to fetch geometry."""

    det_row: np.ndarray
    det_image: np.ndarray
    det_class: np.ndarray
    gt_row: np.ndarray  # non-crowd GT, (image position, annotation order)
    gt_image: np.ndarray
    gt_class: np.ndarray
    crowd_row: np.ndarray
    crowd_image: np.ndarray
    crowd_class: np.ndarray
    class_ids: np.ndarray


def _sort(gt: InstanceDataset, preds: Predictions, max_dets: int, crowd_regions: bool
          ) -> _Sorted:
    inst = gt.instances
    class_ids = np.unique(np.r_[inst.category_ids, preds.category_ids]).astype(np.int64)
    image_pos = gt.images.lookup(preds.image_ids)  # tidecv visits gt.images in file order
    rows = np.flatnonzero(image_pos >= 0)
    order = rows[np.lexsort((rows, -preds.scores[rows], image_pos[rows]))]
    img = image_pos[order]
    starts = np.flatnonzero(np.r_[True, img[1:] != img[:-1]]) if len(img) else img
    rank = np.arange(len(img)) - np.repeat(starts, np.diff(np.r_[starts, len(img)]))
    order, img = order[rank < max_dets], img[rank < max_dets]
    gt_pos = gt.images.lookup(inst.image_ids)
    g_all = np.lexsort((np.arange(len(inst)), gt_pos))
    g_all = g_all[gt_pos[g_all] >= 0]
    crowd = inst.iscrowd[g_all].astype(bool) & crowd_regions
    g, c = g_all[~crowd], g_all[crowd]
    cls = np.searchsorted(class_ids, inst.category_ids)
    return _Sorted(order, img, np.searchsorted(class_ids, preds.category_ids[order]),
                   g, gt_pos[g], cls[g], c, gt_pos[c], cls[c], class_ids)


def pair_iou(gt: InstanceDataset, preds: Predictions, iou_type: str, det_row: np.ndarray,
             gt_row: np.ndarray, image: np.ndarray, crowd: bool) -> np.ndarray:
    """IoU of (detection row, GT row) pairs as pycocotools ``mask.iou`` gives it to tidecv.

    ``image``: image position per pair, non-decreasing. ``crowd``: union = the detection's
    area (tidecv's ignore-region overlap).
    """
    flags = np.full(len(det_row), crowd)
    if iou_type == "bbox":
        assert preds.boxes is not None
        assert gt.instances.boxes is not None
        return box_iou_pairs(preds.boxes[det_row], gt.instances.boxes[gt_row], flags)
    dr, gr = preds.mask_runs, gt.instances.mask_runs
    out = np.zeros(len(det_row), dtype=np.float64)
    if has_kernels() and dr is not None and gr is not None:
        # rleIou's prefilter: masks whose boxes do not overlap have IoU 0 exactly.
        db, gb = dr.boxes[det_row], gr.boxes[gt_row]
        overlap = (np.minimum(db[:, 0] + db[:, 2], gb[:, 0] + gb[:, 2])
                   > np.maximum(db[:, 0], gb[:, 0])) & (
            np.minimum(db[:, 1] + db[:, 3], gb[:, 1] + gb[:, 3]) > np.maximum(db[:, 1], gb[:, 1]))
        out[overlap] = pair_mask_iou(dr, gr, det_row[overlap], gt_row[overlap], flags[overlap])
        return out
    assert preds.masks is not None
    assert gt.instances.masks is not None
    dm, gm = preds.masks, gt.instances.masks  # fallback: one pycocotools call per image
    starts = np.flatnonzero(np.r_[True, image[1:] != image[:-1]]) if len(image) else image
    for lo, hi in zip(starts.tolist(), np.r_[starts[1:], len(image)].tolist(), strict=True):
        dets, d_at = np.unique(det_row[lo:hi], return_inverse=True)
        gts, g_at = np.unique(gt_row[lo:hi], return_inverse=True)
        ious = mask_iou([dm[i] for i in dets.tolist()], [gm[i] for i in gts.tolist()],
                        np.full(len(gts), crowd))
        out[lo:hi] = ious[d_at, g_at]
    return out


def _segment_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.maximum.reduceat(values, starts) if len(values) else values


def _first_argmax(values: np.ndarray, gt: np.ndarray, seg: np.ndarray, starts: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per detection segment: the maximum and the first GT reaching it (``np.argmax``)."""
    best = _segment_max(values, starts)
    at = np.where(values == best[seg], gt, np.iinfo(np.int64).max)
    return best, np.minimum.reduceat(at, starts)


def _match(s: _Sorted, pd: np.ndarray, pg: np.ndarray, iou: np.ndarray,
           pos_thresh: float) -> np.ndarray:
    """Matched GT per detection (-1: none): greedy, by score, within (image, class)."""
    n_det, n_gt = len(s.det_row), len(s.gt_row)
    cand = (s.det_class[pd] == s.gt_class[pg]) & (iou >= pos_thresh)
    cd, cg, ci = pd[cand], pg[cand], iou[cand]
    matched = np.full(n_det, -1, dtype=np.int64)
    if len(cd) == 0:
        return matched
    dets = np.unique(cd)  # canonical order; rank each within its (image, class) group
    group = s.det_image[dets] * len(s.class_ids) + s.det_class[dets]
    by_group = np.argsort(group, kind="stable")
    g_sorted = group[by_group]
    first = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    rank = np.empty(len(dets), dtype=np.int64)
    rank[by_group] = np.arange(len(dets)) - np.repeat(first, np.diff(np.r_[first, len(dets)]))
    wave = rank[np.searchsorted(dets, cd)]
    # greedy_match breaks IoU ties towards the *last* GT (pycocotools); tidecv's argmax takes
    # the first, so hand it the GT indices reversed.
    rev = n_gt - 1 - cg
    got, match = greedy_match(cd, rev, ci, wave, np.zeros((n_gt, 1), dtype=bool),
                              np.zeros(n_gt, dtype=bool), np.array([pos_thresh]))
    chosen = match[:, 0, 0]
    matched[got] = np.where(chosen >= 0, n_gt - 1 - chosen, -1)
    return matched


def _crowd_ignored(gt: InstanceDataset, preds: Predictions, iou_type: str, s: _Sorted,
                   free: np.ndarray, pos_thresh: float) -> np.ndarray:
    """Unmatched detections inside a crowd region of their class (crowd IoU > pos)."""
    out = np.zeros(len(s.det_row), dtype=bool)
    dets = np.flatnonzero(free)
    if len(dets) == 0 or len(s.crowd_row) == 0:
        return out
    cd, cc = group_pairs(s.det_image[dets], s.crowd_image)
    cd = dets[cd]
    same = s.det_class[cd] == s.crowd_class[cc]
    cd, cc = cd[same], cc[same]
    iou = pair_iou(gt, preds, iou_type, s.det_row[cd], s.crowd_row[cc],
                   s.crowd_image[cc], crowd=True)
    out[cd[iou > pos_thresh]] = True
    return out


def classify(gt: InstanceDataset, preds: Predictions, iou_type: str, *,
             max_dets: int = MAX_DETS, crowd_regions: bool = True,
             class_regions: np.ndarray | None = None, pos_thresh: float = POS_THRESH,
             bg_thresh: float = BG_THRESH) -> TideDetections:
    """Match, apply ignore regions and give every unmatched detection its error type.

    Args:
        gt: Ground truth (boxes for ``"bbox"``, masks for ``"segm"``).
        preds: Detections on the same images.
        iou_type: ``"bbox"`` or ``"segm"``.
        max_dets: Detections kept per image, by score.
        crowd_regions: ``iscrowd`` GT are ignore regions (tidecv's COCO loader); with False
            every GT is an ordinary one (its LVIS loader).
        class_regions: Per detection row, whether a whole-image ignore region of its class
            covers it (tidecv's LVIS loader); unmatched, it is ignored.
        pos_thresh: Foreground IoU threshold.
        bg_thresh: Background IoU threshold.
    """
    s = _sort(gt, preds, max_dets, crowd_regions)
    n_gt = len(s.gt_row)
    pd, pg = group_pairs(s.det_image, s.gt_image)  # every (detection, GT) of an image
    iou = pair_iou(gt, preds, iou_type, s.det_row[pd], s.gt_row[pg], s.gt_image[pg],
                   crowd=False)
    matched = _match(s, pd, pg, iou, pos_thresh)
    gt_used = np.zeros(n_gt, dtype=bool)
    gt_used[matched[matched >= 0]] = True
    free = matched < 0
    outcome = np.where(free, FP, TP).astype(np.int8)
    outcome[_crowd_ignored(gt, preds, iou_type, s, free, pos_thresh)] = IGNORED
    if class_regions is not None:
        outcome[free & class_regions[s.det_row]] = IGNORED

    error, target = _error_types(s, pd, pg, iou, gt_used, free, pos_thresh, bg_thresh)
    return _fixes(s, outcome, error, target, gt_used, preds.scores[s.det_row])


def _error_types(s: _Sorted, pd: np.ndarray, pg: np.ndarray, iou: np.ndarray,
                 gt_used: np.ndarray, free: np.ndarray, pos_thresh: float,
                 bg_thresh: float) -> tuple[np.ndarray, np.ndarray]:
    """Error type per detection and the GT a Loc / Cls error points at (-1: none).

    ``pd``, ``pg``, ``iou``: every (detection, GT) pair of an image, by detection then GT.
    """
    error = np.where(free, BKG, NO_ERROR).astype(np.int8)  # images without GT: background
    target = np.full(len(free), -1, dtype=np.int64)
    if len(pd) == 0:
        return error, target
    starts = np.flatnonzero(np.r_[True, pd[1:] != pd[:-1]])
    seg = np.cumsum(np.r_[False, pd[1:] != pd[:-1]])
    has = pd[starts]
    same = s.det_class[pd] == s.gt_class[pg]
    m_cls, a_cls = _first_argmax(np.where(same, iou, 0.0), pg, seg, starts)
    m_non, a_non = _first_argmax(np.where(same, 0.0, iou), pg, seg, starts)
    m_dupe = _segment_max(np.where(same & gt_used[pg], iou, 0.0), starts)
    m_any = _segment_max(iou, starts)
    loc = (bg_thresh <= m_cls) & (m_cls <= pos_thresh)
    cls = ~loc & (m_non >= pos_thresh)
    dupe = ~loc & ~cls & (m_dupe >= pos_thresh)
    bkg = ~loc & ~cls & ~dupe & (m_any <= bg_thresh)
    kind = np.select([loc, cls, dupe, bkg], [LOC, CLS, DUPE, BKG], BOTH).astype(np.int8)
    error[has] = np.where(free[has], kind, NO_ERROR)
    target[has] = np.where(loc & free[has], a_cls, np.where(cls & free[has], a_non, -1))
    return error, target


def _fixes(s: _Sorted, outcome: np.ndarray, error: np.ndarray, target: np.ndarray,
           gt_used: np.ndarray, score: np.ndarray) -> TideDetections:
    """``BestGTMatch``: per unused GT, the first detection whose error points at it."""
    fix_class = np.full(len(error), -1, dtype=np.int64)
    usable = np.zeros(len(gt_used), dtype=bool)
    pointing = np.flatnonzero(target >= 0)
    pointing = pointing[~gt_used[target[pointing]]]
    if len(pointing):
        tg = target[pointing]
        usable[tg] = True
        # detections are in visiting order, so the first per GT has the highest score
        # (tidecv replaces its best only on a strictly higher score)
        firsts, at = np.unique(tg, return_index=True)
        best = pointing[at]
        fix_class[best] = s.gt_class[firsts]
    return TideDetections(
        det_class=s.det_class, det_score=score, det_outcome=outcome, det_error=error,
        det_fix_class=fix_class, det_image=s.det_image, gt_class=s.gt_class,
        gt_image=s.gt_image, gt_used=gt_used,
        gt_missed=~gt_used & ~usable, class_ids=s.class_ids)
