"""Enumerating (detection, ground truth) pairs that share a group (image, or image+class)."""

from __future__ import annotations

__all__ = ["group_pairs"]

import numpy as np


def group_pairs(det_group: np.ndarray, gt_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (detection, GT) index pair whose group ids are equal.

    Args:
        det_group: Group id per detection, shape ``(D,)``, sorted ascending.
        gt_group: Group id per GT, shape ``(G,)``, sorted ascending.

    Returns:
        ``(det_index, gt_index)``, each shape ``(P,)``, ordered by detection then GT.
    """
    lo = np.searchsorted(gt_group, det_group, side="left")
    hi = np.searchsorted(gt_group, det_group, side="right")
    n = hi - lo
    det_index = np.repeat(np.arange(len(det_group)), n)
    offsets = np.cumsum(n) - n
    gt_index = np.arange(int(n.sum())) - np.repeat(offsets - lo, n)
    return det_index, gt_index
