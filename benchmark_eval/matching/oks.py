"""Object keypoint similarity (OKS), the similarity of ``COCOeval(iouType="keypoints")``.

Reproduces pycocotools 2.0.11 ``COCOeval.computeOks`` for a batch of (detection, GT) pairs,
bit for bit::

    e_i = (dx_i² + dy_i²) / (2 σ_i)² / (area + eps) / 2      eps = np.spacing(1)
    OKS = sum(exp(-e_i) over the GT's labelled keypoints (v > 0)) / their number

When the GT has no labelled keypoint, ``dx_i`` / ``dy_i`` are the distances of the detected
keypoints to a box twice the GT box (``[x - w, x + 2w] x [y - h, y + 2h]``, 0 inside it) and
the mean runs over all the category's keypoints. The detections' flags are not read.

Exactness: each pair's terms are summed by ``np.sum`` over a contiguous row holding exactly
the terms pycocotools sums (rows grouped by their number of terms), so numpy's pairwise
summation adds them in the same order as pycocotools' 1-D ``np.sum``.
"""

from __future__ import annotations

__all__ = ["OKS_EPS", "object_keypoint_similarity"]

import numpy as np

OKS_EPS = np.spacing(1)  # pycocotools adds it to the GT area


def object_keypoint_similarity(det_xy: np.ndarray, gt_xy: np.ndarray, gt_labelled: np.ndarray,
                               gt_counts: np.ndarray, gt_boxes: np.ndarray,
                               gt_areas: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """OKS of P (detection, GT) pairs.

    Args:
        det_xy: Detected keypoints, ``(P, J, 2)`` float64.
        gt_xy: GT keypoints, ``(P, J, 2)`` float64.
        gt_labelled: GT visibility flag > 0, ``(P, J)`` bool (False past ``gt_counts``).
        gt_counts: Keypoints of the GT's category, ``(P,)`` int64 (``<= J``).
        gt_boxes: GT ``bbox`` ``[x, y, w, h]``, ``(P, 4)`` float64.
        gt_areas: GT ``area``, ``(P,)`` float64.
        variances: ``(2 σ)²`` per keypoint of the GT's category, ``(P, J)`` float64
            (any positive value past ``gt_counts``).

    Returns:
        OKS per pair, ``(P,)`` float64.
    """
    n_pairs, n_slots = gt_labelled.shape
    if n_pairs == 0:
        return np.zeros(0)
    dx = det_xy[:, :, 0] - gt_xy[:, :, 0]
    dy = det_xy[:, :, 1] - gt_xy[:, :, 1]
    n_lab = gt_labelled.sum(axis=1)
    outside = n_lab == 0
    if outside.any():
        xd, yd, box = det_xy[outside, :, 0], det_xy[outside, :, 1], gt_boxes[outside]
        x0, x1 = box[:, 0] - box[:, 2], box[:, 0] + box[:, 2] * 2
        y0, y1 = box[:, 1] - box[:, 3], box[:, 1] + box[:, 3] * 2
        dx[outside] = (np.maximum(0.0, x0[:, None] - xd) + np.maximum(0.0, xd - x1[:, None]))
        dy[outside] = (np.maximum(0.0, y0[:, None] - yd) + np.maximum(0.0, yd - y1[:, None]))
    e = (dx**2 + dy**2) / variances / (gt_areas + OKS_EPS)[:, None] / 2
    terms = np.exp(-e)
    slots = np.arange(n_slots)[None, :] < gt_counts[:, None]
    used = np.where(outside[:, None], slots, gt_labelled)
    n_used = np.where(outside, gt_counts, n_lab)
    out = np.empty(n_pairs)
    for n in np.unique(n_used).tolist():
        rows = np.flatnonzero(n_used == n)
        block = terms[rows][used[rows]].reshape(len(rows), n)
        out[rows] = np.sum(block, axis=1) / n
    return out
