"""Axis-aligned box IoU, vectorised over pairs."""

from __future__ import annotations

__all__ = ["box_iou_pairs"]

import numpy as np


def box_iou_pairs(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """IoU of paired ``[x, y, w, h]`` boxes, bit-identical to pycocotools ``bbIou``.

    Args:
        dt: Detection boxes, shape ``(P, 4)``, float64.
        gt: Ground-truth boxes paired with ``dt``, shape ``(P, 4)``, float64.
        crowd: Whether each GT is a crowd region, shape ``(P,)``, bool. For crowd GT the
            union is the detection's area (maskApi.c ``bbIou``).

    Returns:
        IoU per pair, shape ``(P,)``, float64; 0 where the boxes do not overlap.
    """
    # Same operations in the same order as maskApi.c so the doubles are identical.
    w = np.minimum(dt[:, 2] + dt[:, 0], gt[:, 2] + gt[:, 0]) - np.maximum(dt[:, 0], gt[:, 0])
    h = np.minimum(dt[:, 3] + dt[:, 1], gt[:, 3] + gt[:, 1]) - np.maximum(dt[:, 1], gt[:, 1])
    overlap = (w > 0) & (h > 0)
    inter = w * h
    dt_area = dt[:, 2] * dt[:, 3]
    gt_area = gt[:, 2] * gt[:, 3]
    union = np.where(crowd, dt_area, dt_area + gt_area - inter)
    out = np.zeros(len(dt), dtype=np.float64)
    np.divide(inter, union, out=out, where=overlap)
    return out
