"""Mergeable evaluation state of ``coco-panoptic``: per category (iou_sum, tp, fp, fn).

panopticapi's ``PQStat`` holds exactly these four numbers per category and merges the
per-process statistics with ``+=``. States of disjoint image sets merge by addition, in any
order (the float ``iou`` sums can differ in the last bit with the grouping, so the runner
merges shards in shard order and one process keeps one running sum).
"""

from __future__ import annotations

__all__ = ["PanopticState"]

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchmark_eval.protocols.state import MergeableState, concatenated, same, summed


def _no_mismatches() -> np.ndarray:
    return np.zeros((0, 4), dtype=np.float64)


def _no_images() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class PanopticState(MergeableState):
    """Sufficient statistics of a panoptic evaluation over some set of images.

    Attributes:
        category_ids: The K axis: the ground truth's category ids in file order, int64.
        iou: Sum of the IoU of true-positive matches per category, shape ``(K,)``, float64.
        tp: Matched (ground truth, prediction) pairs per category, ``(K,)``, int64.
        fp: Unmatched predictions not ignored per category, ``(K,)``, int64.
        fn: Unmatched non-crowd ground-truth segments per category, ``(K,)``, int64.
        n_images: Images evaluated.
        area_mismatches: Ground-truth segments whose JSON ``area`` differs from their pixel
            count, rows ``(image id, segment id, JSON area, pixels)`` in image order,
            ``(M, 4)`` float64 (for the ``gt-area-mismatch`` notice).
        image_ids: The images evaluated, in evaluation order, ``(n,)`` int64.
        image_rows: Per image, how many rows of ``row_*`` follow for it, ``(n,)`` int64.
        row_category: Per (image, category with a segment) row, the category index.
        row_stats: Per row, that image's ``(iou, tp, fp, fn)`` of the category, ``(R, 4)``
            float64: the per-image split of the four sums, for the bootstrap over images
            (``benchmark_eval.stats``).
    """

    label: ClassVar[str] = "panoptic"

    category_ids: np.ndarray = same()
    iou: np.ndarray = summed()
    tp: np.ndarray = summed()
    fp: np.ndarray = summed()
    fn: np.ndarray = summed()
    n_images: int = summed(default=0)
    area_mismatches: np.ndarray = concatenated(default_factory=_no_mismatches)
    image_ids: np.ndarray = concatenated(default_factory=_no_images)
    image_rows: np.ndarray = concatenated(default_factory=_no_images)
    row_category: np.ndarray = concatenated(default_factory=_no_images)
    row_stats: np.ndarray = concatenated(default_factory=_no_mismatches)

    @classmethod
    def empty(cls, category_ids: np.ndarray) -> PanopticState:
        """The identity of :meth:`merge` on the category axis ``category_ids``."""
        k = len(category_ids)
        return cls(category_ids=np.asarray(category_ids, dtype=np.int64),
                   iou=np.zeros(k, dtype=np.float64), tp=np.zeros(k, dtype=np.int64),
                   fp=np.zeros(k, dtype=np.int64), fn=np.zeros(k, dtype=np.int64))
