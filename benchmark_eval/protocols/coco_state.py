"""Mergeable evaluation state of the COCO instance protocols.

The state holds sufficient statistics only: one record per kept detection (its category,
image, rank within its image/category, score and outcome per area range and IoU threshold)
and the number of non-ignored GT per category and area range (also per GT instance, for
resampling images: ``benchmark_eval.stats``). States of disjoint image sets
merge by concatenation and addition, in any order: :func:`accumulate` restores the canonical
order pycocotools uses (category, score descending, image id, rank) before sorting on ties.
"""


from __future__ import annotations

__all__ = ["FP", "IGNORED", "TP", "CocoState"]

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchmark_eval.protocols.state import MergeableState, concatenated, same, summed

# Outcome codes per detection, area range and IoU threshold.
FP = 0  # unmatched, not ignored
TP = 1  # matched to a non-ignored GT
IGNORED = 2  # matched to an ignored GT, or unmatched and outside the area range


def _no_records() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class CocoState(MergeableState):
    """Sufficient statistics of a COCO (or LVIS) evaluation over some set of images.

    Attributes:
        category_ids: The K axis (sorted GT category ids, or ``[-1]`` class-agnostic).
        det_category: Index into ``category_ids`` per detection, shape ``(N,)``, int64.
        det_image: Image id per detection, int64.
        det_rank: Rank of the detection in its image (and category) by score, int64.
        det_score: Score, float64.
        det_outcome: Outcome code per detection, area range and IoU threshold, shape
            ``(N, A, T)``, uint8 (:data:`FP`, :data:`TP`, :data:`IGNORED`).
        gt_count: Non-ignored GT per category and area range, shape ``(K, A)``, int64.
        n_images: Images evaluated.
        fingerprint: Identifies the parameters; states only merge with equal fingerprints.
        gt_image: Image id per GT instance, ``(G,)`` int64 (the per-image split of
            ``gt_count``, for the bootstrap over images).
        gt_category: Index into ``category_ids`` per GT instance, int64.
        gt_counted: Per GT instance, bit ``a`` set when it is non-ignored in area range
            ``a``, int64 (``gt_count[k, a]`` counts the instances of ``k`` with bit ``a``).
    """

    label: ClassVar[str] = "COCO"

    category_ids: np.ndarray = same()
    det_category: np.ndarray = concatenated()
    det_image: np.ndarray = concatenated()
    det_rank: np.ndarray = concatenated()
    det_score: np.ndarray = concatenated()
    det_outcome: np.ndarray = concatenated()
    gt_count: np.ndarray = summed()
    n_images: int = summed()
    fingerprint: str = same()
    gt_image: np.ndarray = concatenated(default_factory=_no_records)
    gt_category: np.ndarray = concatenated(default_factory=_no_records)
    gt_counted: np.ndarray = concatenated(default_factory=_no_records)

    @classmethod
    def empty(cls, category_ids: np.ndarray, n_area: int, n_thr: int,
              fingerprint: str) -> CocoState:
        """The identity of :meth:`merge` for these axes and parameters."""
        z = np.zeros(0, dtype=np.int64)
        return cls(
            category_ids=np.asarray(category_ids, dtype=np.int64), det_category=z,
            det_image=z, det_rank=z, det_score=np.zeros(0),
            det_outcome=np.zeros((0, n_area, n_thr), dtype=np.uint8),
            gt_count=np.zeros((len(category_ids), n_area), dtype=np.int64), n_images=0,
            fingerprint=fingerprint,
        )
