"""Greedy detection-to-GT matching, vectorised across groups, thresholds and area ranges.

Reproduces pycocotools 2.0.11 ``COCOeval.evaluateImg``: detections are visited by
descending score; each takes, among GT still free (crowd GT are never used up) with
``IoU >= min(t, 1 - 1e-10)``, preferably a non-ignored GT, then the highest IoU, then the
*last* such GT in annotation order (the official loop replaces its best on ``>=``).
"""

from __future__ import annotations

__all__ = ["greedy_match"]

import numpy as np

# pycocotools evaluateImg caps thresholds so that IoU == 1.0 still passes "iou >= t".
_IOU_CAP = 1 - 1e-10


def greedy_match(
    pair_det: np.ndarray,
    pair_gt: np.ndarray,
    pair_iou: np.ndarray,
    wave: np.ndarray,
    gt_ignore: np.ndarray,
    gt_crowd: np.ndarray,
    iou_thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Assign detections to GT.

    Detections of different groups never share a GT, so one detection per group is resolved
    at a time ("wave" ``w`` holds each group's ``w``-th candidate-bearing detection), and all
    groups advance together.

    Args:
        pair_det: Detection index per candidate pair, shape ``(P,)``; pairs sorted by
            detection then GT index (GT index order = annotation order within a group).
        pair_gt: GT index per pair, shape ``(P,)``.
        pair_iou: IoU per pair, float64.
        wave: Rank of the pair's detection among its group's detections that have
            candidates, shape ``(P,)``.
        gt_ignore: Ignore flag per GT and area range, shape ``(G, A)``, bool.
        gt_crowd: Crowd flag per GT, shape ``(G,)``, bool.
        iou_thresholds: Shape ``(T,)``.

    Returns:
        ``(dets, match)``: the detections that have candidates (sorted, shape ``(C,)``) and
        their matched GT index per threshold and area range, shape ``(C, T, A)``, int64,
        -1 where unmatched. Detections without candidates are unmatched everywhere.
    """
    n_gt, n_area = gt_ignore.shape
    thr = np.minimum(np.asarray(iou_thresholds, dtype=np.float64), _IOU_CAP)
    dets = np.unique(pair_det)
    match = np.full((len(dets), len(thr), n_area), -1, dtype=np.int64)
    if len(pair_det) == 0:
        return dets, match
    taken = np.zeros((n_gt, len(thr), n_area), dtype=bool)
    order = np.argsort(wave, kind="stable")
    bounds = np.flatnonzero(np.diff(wave[order])) + 1
    for sel in np.split(order, bounds):
        d, g, iou = pair_det[sel], pair_gt[sel], pair_iou[sel]
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        seg = np.cumsum(np.r_[False, d[1:] != d[:-1]])
        eligible = (iou[:, None, None] >= thr[None, :, None]) & (
            gt_crowd[g][:, None, None] | ~taken[g]
        )
        # 1. a free non-ignored GT beats any ignored one
        preferred = eligible & ~gt_ignore[g][:, None, :]
        has_preferred = np.logical_or.reduceat(preferred, starts, axis=0)
        cand = np.where(has_preferred[seg], preferred, eligible)
        # 2. highest IoU
        iou_c = np.where(cand, iou[:, None, None], -1.0)
        cand &= iou_c == np.maximum.reduceat(iou_c, starts, axis=0)[seg]
        # 3. the last GT among equals
        chosen = np.maximum.reduceat(np.where(cand, g[:, None, None], -1), starts, axis=0)
        match[np.searchsorted(dets, d[starts])] = chosen
        hit_d, hit_t, hit_a = np.nonzero(chosen >= 0)
        hit_g = chosen[hit_d, hit_t, hit_a]
        keep = ~gt_crowd[hit_g]
        taken[hit_g[keep], hit_t[keep], hit_a[keep]] = True
    return dets, match
