"""Mergeable evaluation state of ``coco-panoptic``: per category (iou_sum, tp, fp, fn).

panopticapi's ``PQStat`` holds exactly these four numbers per category and merges the
per-process statistics with ``+=``. States of disjoint image sets merge by addition, in any
order (the float ``iou`` sums can differ in the last bit with the grouping).
"""

from __future__ import annotations

__all__ = ["PanopticState"]

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark_eval.errors import ConfigError


@dataclass(frozen=True)
class PanopticState:
    """Sufficient statistics of a panoptic evaluation over some set of images.

    Attributes:
        category_ids: The K axis: the ground truth's category ids in file order, int64.
        iou: Sum of the IoU of true-positive matches per category, shape ``(K,)``, float64.
        tp: Matched (ground truth, prediction) pairs per category, ``(K,)``, int64.
        fp: Unmatched predictions not ignored per category, ``(K,)``, int64.
        fn: Unmatched non-crowd ground-truth segments per category, ``(K,)``, int64.
        n_images: Images evaluated.
    """

    category_ids: np.ndarray
    iou: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    n_images: int = 0

    @classmethod
    def empty(cls, category_ids: np.ndarray) -> PanopticState:
        """The identity of :meth:`merge`."""
        k = len(category_ids)
        z = np.zeros(k, dtype=np.int64)
        return cls(category_ids=np.asarray(category_ids, dtype=np.int64),
                   iou=np.zeros(k, dtype=np.float64), tp=z, fp=z.copy(), fn=z.copy())

    def merge(self, other: PanopticState) -> PanopticState:
        """Combine the statistics of two disjoint image sets (associative, commutative)."""
        if not np.array_equal(self.category_ids, other.category_ids):
            raise ConfigError("cannot merge panoptic states built with different category lists")
        return PanopticState(
            category_ids=self.category_ids, iou=self.iou + other.iou, tp=self.tp + other.tp,
            fp=self.fp + other.fp, fn=self.fn + other.fn,
            n_images=self.n_images + other.n_images,
        )

    def save(self, path: str | Path) -> None:
        """Write the state to an ``.npz`` file (for sharded or cluster runs)."""
        buf = io.BytesIO()
        np.savez_compressed(buf, category_ids=self.category_ids, iou=self.iou, tp=self.tp,
                            fp=self.fp, fn=self.fn, n_images=np.int64(self.n_images))
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> PanopticState:
        """Read a state written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls(category_ids=z["category_ids"], iou=z["iou"], tp=z["tp"], fp=z["fp"],
                       fn=z["fn"], n_images=int(z["n_images"]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PanopticState):
            return NotImplemented
        return (self.n_images == other.n_images
                and all(np.array_equal(getattr(self, f), getattr(other, f))
                        for f in ("category_ids", "iou", "tp", "fp", "fn")))

    __hash__ = None  # type: ignore[assignment]
