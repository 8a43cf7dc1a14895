"""TIDE's own AP: per class, 101 recall points, then the mean over non-empty classes.

Reproduces tidecv 1.0.1 ``ap.py`` (``APDataObject.get_ap``, ``ClassedAPDataObject.get_mAP``),
vectorised over classes:

- records of a class are sorted by descending score, stably: ties keep their insertion order
  (the caller's ``tiebreak``); precision = TP / (TP + FP), recall = TP / num_gt;
- precision is made non-increasing from the right (a running maximum);
- at each recall point ``r = i / 100`` (``i = 0..100``) the precision of the first record
  with recall ``>= r`` is taken, 0 past the last record; AP = their sum / 101 * 100, summed
  left to right like Python's ``sum``;
- a class with no GT has AP 0 (tidecv returns 0, not "undefined"); a class with neither GT
  nor records is left out of the mean; the mean is in dAP points (x 100).
"""

from __future__ import annotations

__all__ = ["RECALL_POINTS", "class_ap", "mean_ap", "visiting_key"]

import numpy as np

# tidecv: np.array([x / resolution for x in range(resolution + 1)]) with resolution 100;
# i / 100 here is the same correctly rounded division (np.linspace would differ in the last bit).
RECALL_POINTS = np.arange(101, dtype=np.float64) / 100


def visiting_key(score: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """One int64 per record that orders it as tidecv's stable sort by ``-score`` does.

    Args:
        score: Score per record, float64.
        tiebreak: Insertion order of equal-score records (lower first), int64, >= 0.
    """
    _, rank = np.unique(-score, return_inverse=True)  # dense rank, best score first
    span = int(tiebreak.max(initial=0)) + 1
    return rank.astype(np.int64) * span + tiebreak


def class_ap(cls: np.ndarray, key: np.ndarray, tp: np.ndarray,
             num_gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AP per class and whether the class takes part in the mean.

    Args:
        cls: Class index per record, shape ``(N,)``, int64 in ``[0, K)``.
        key: Visiting order within a class (lower first), int64 >= 0, unique, e.g.
            :func:`visiting_key`.
        tp: True positive (else false positive), bool.
        num_gt: GT positives per class, shape ``(K,)``, int64.

    Returns:
        ``(ap, present)``: AP in points, shape ``(K,)``, float64, and ``(K,)`` bool (records
        or GT: tidecv's ``not is_empty()``).
    """
    n_cls = len(num_gt)
    counts = np.bincount(cls, minlength=n_cls)
    present = (counts > 0) | (num_gt != 0)
    ap = np.zeros(n_cls, dtype=np.float64)
    if len(cls) == 0:
        return ap, present
    span = int(key.max()) + 1
    # keys are unique, so any sort gives one order; one int64 key unless it could overflow
    small = span * n_cls < 2**62
    order = np.argsort(cls * span + key) if small else np.lexsort((key, cls))
    c, hit = cls[order], tp[order].astype(np.int64)
    start = np.cumsum(counts) - counts  # first record of each class in ``order``
    tps = np.cumsum(hit)
    tps -= np.repeat(np.r_[0, tps][start], counts)  # restart the count at each class
    n = np.arange(len(c)) - start[c] + 1  # records so far in the class
    precision = tps / n
    gt = num_gt[c]
    recall = np.divide(tps, gt, out=np.zeros(len(c)), where=gt > 0)
    smooth = _suffix_max(precision, start, counts)
    # per class, the index of the first record with recall >= RECALL_POINTS[i]: the number
    # of records whose recall is below it (recall is non-decreasing within a class)
    below = np.searchsorted(RECALL_POINTS, recall, side="right")
    hist = np.bincount(c * 102 + below, minlength=n_cls * 102).reshape(n_cls, 102)
    first = np.cumsum(hist, axis=1)[:, :101]
    inside = first < counts[:, None]
    y = np.where(inside, smooth[np.minimum(start[:, None] + first, len(c) - 1)], 0.0)
    total = np.cumsum(y, axis=1)[:, -1]  # left to right, as Python's sum
    ap = np.where(num_gt > 0, total / len(RECALL_POINTS) * 100, 0.0)
    return ap, present


def _suffix_max(values: np.ndarray, start: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running maximum from the right within each class's slice (one call per class)."""
    out = np.empty_like(values)
    for lo, n in zip(start[counts > 0].tolist(), counts[counts > 0].tolist(), strict=True):
        out[lo : lo + n] = np.maximum.accumulate(values[lo : lo + n][::-1])[::-1]
    return out


def mean_ap(ap: np.ndarray, present: np.ndarray, order: np.ndarray | None = None) -> float:
    """tidecv ``get_mAP``: the mean AP of the present classes, summed in ``order``.

    Returns NaN when no class is present (tidecv raises ``ZeroDivisionError``).
    """
    idx = np.flatnonzero(present) if order is None else order[present[order]]
    if len(idx) == 0:
        return float("nan")
    return float(np.cumsum(ap[idx])[-1] / len(idx))
