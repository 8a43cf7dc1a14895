"""Mergeable evaluation state of the COCO instance protocols.

The state holds sufficient statistics only: one record per kept detection (its category,
image, rank within its image/category, score and outcome per area range and IoU threshold)
and the number of non-ignored GT per category and area range. States of disjoint image sets
merge by concatenation and addition, in any order: :func:`accumulate` restores the canonical
order pycocotools uses (category, score descending, image id, rank) before sorting on ties.
"""

from __future__ import annotations

__all__ = ["FP", "IGNORED", "TP", "CocoState"]

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark_eval.errors import ConfigError

# Outcome codes per detection, area range and IoU threshold.
FP = 0  # unmatched, not ignored
TP = 1  # matched to a non-ignored GT
IGNORED = 2  # matched to an ignored GT, or unmatched and outside the area range


@dataclass(frozen=True)
class CocoState:
    """Sufficient statistics of a COCO evaluation over some set of images.

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
    """

    category_ids: np.ndarray
    det_category: np.ndarray
    det_image: np.ndarray
    det_rank: np.ndarray
    det_score: np.ndarray
    det_outcome: np.ndarray
    gt_count: np.ndarray
    n_images: int
    fingerprint: str

    @classmethod
    def empty(cls, category_ids: np.ndarray, n_area: int, n_thr: int,
              fingerprint: str) -> CocoState:
        """The identity of :meth:`merge`."""
        z = np.zeros(0, dtype=np.int64)
        return cls(
            category_ids=np.asarray(category_ids, dtype=np.int64), det_category=z,
            det_image=z, det_rank=z, det_score=np.zeros(0),
            det_outcome=np.zeros((0, n_area, n_thr), dtype=np.uint8),
            gt_count=np.zeros((len(category_ids), n_area), dtype=np.int64), n_images=0,
            fingerprint=fingerprint,
        )

    def merge(self, other: CocoState) -> CocoState:
        """Combine the statistics of two disjoint image sets (associative, commutative)."""
        if other.fingerprint != self.fingerprint or not np.array_equal(
            other.category_ids, self.category_ids
        ):
            raise ConfigError("cannot merge COCO states built with different parameters or"
                              " category lists")
        return CocoState(
            category_ids=self.category_ids,
            det_category=np.concatenate([self.det_category, other.det_category]),
            det_image=np.concatenate([self.det_image, other.det_image]),
            det_rank=np.concatenate([self.det_rank, other.det_rank]),
            det_score=np.concatenate([self.det_score, other.det_score]),
            det_outcome=np.concatenate([self.det_outcome, other.det_outcome]),
            gt_count=self.gt_count + other.gt_count,
            n_images=self.n_images + other.n_images,
            fingerprint=self.fingerprint,
        )

    def save(self, path: str | Path) -> None:
        """Write the state to an ``.npz`` file (for sharded or cluster runs)."""
        buf = io.BytesIO()
        np.savez_compressed(
            buf, category_ids=self.category_ids, det_category=self.det_category,
            det_image=self.det_image, det_rank=self.det_rank, det_score=self.det_score,
            det_outcome=self.det_outcome, gt_count=self.gt_count,
            n_images=np.int64(self.n_images), fingerprint=np.str_(self.fingerprint),
        )
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> CocoState:
        """Read a state written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls(
                category_ids=z["category_ids"], det_category=z["det_category"],
                det_image=z["det_image"], det_rank=z["det_rank"], det_score=z["det_score"],
                det_outcome=z["det_outcome"], gt_count=z["gt_count"],
                n_images=int(z["n_images"]), fingerprint=str(z["fingerprint"]),
            )
