"""Mergeable evaluation state of the ``semantic`` protocols.

The state is one int64 confusion matrix summed over images (plus, for per-image Dice, four
count vectors per image). Every metric of every rule derives from it, so states of disjoint
image sets merge by addition in any order, and one state can be computed under any rule.
"""

from __future__ import annotations

__all__ = ["GT_NONE", "GT_VALID", "PRED", "TP", "SemanticState"]

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark_eval.errors import ConfigError

# Rows of ``image_stats[i]``: per class, counted on one image.
TP = 0  # GT k predicted k
GT_VALID = 1  # GT k predicted as some class
GT_NONE = 2  # GT k predicted as no class (ignore index, or out of range when allowed)
PRED = 3  # predicted k on a pixel whose GT is a class (not ignored)


@dataclass(frozen=True)
class SemanticState:
    """Sufficient statistics of a semantic-segmentation evaluation over some images.

    Attributes:
        confusion: ``(C+1, C+1)`` int64. ``confusion[g, p]`` counts pixels with GT class
            ``g`` and predicted class ``p``; row ``C`` holds GT pixels equal to the ignore
            index, column ``C`` predictions that are no class.
        n_images: Images counted.
        image_names: Per-image mode only: the images, in the order of ``image_stats``.
        image_stats: ``(N, 4, C)`` int64, per image the :data:`TP`, :data:`GT_VALID`,
            :data:`GT_NONE` and :data:`PRED` counts per class; ``N = 0`` unless per-image
            statistics were requested.
        fingerprint: Identifies the counting parameters; only equal fingerprints merge.
    """

    confusion: np.ndarray
    n_images: int
    image_names: tuple[str, ...]
    image_stats: np.ndarray
    fingerprint: str

    @property
    def num_classes(self) -> int:
        """C."""
        return int(self.confusion.shape[0]) - 1

    @classmethod
    def empty(cls, num_classes: int, fingerprint: str) -> SemanticState:
        """The identity of :meth:`merge`."""
        c = num_classes
        return cls(confusion=np.zeros((c + 1, c + 1), dtype=np.int64), n_images=0,
                   image_names=(), image_stats=np.zeros((0, 4, c), dtype=np.int64),
                   fingerprint=fingerprint)

    def merge(self, other: SemanticState) -> SemanticState:
        """Combine the statistics of two disjoint image sets (associative, commutative)."""
        if other.fingerprint != self.fingerprint or other.confusion.shape != self.confusion.shape:
            raise ConfigError("cannot merge semantic states counted with different parameters"
                              " (num_classes, ignore_index, label mapping, encoding...)")
        return SemanticState(
            confusion=self.confusion + other.confusion,
            n_images=self.n_images + other.n_images,
            image_names=self.image_names + other.image_names,
            image_stats=np.concatenate([self.image_stats, other.image_stats]),
            fingerprint=self.fingerprint,
        )

    def save(self, path: str | Path) -> None:
        """Write the state to an ``.npz`` file (for sharded or cluster runs)."""
        buf = io.BytesIO()
        np.savez_compressed(
            buf, confusion=self.confusion, n_images=np.int64(self.n_images),
            image_names=np.array(self.image_names, dtype=np.str_),
            image_stats=self.image_stats, fingerprint=np.str_(self.fingerprint),
        )
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> SemanticState:
        """Read a state written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            confusion = z["confusion"]
            c = confusion.shape[0] - 1
            return cls(
                confusion=confusion, n_images=int(z["n_images"]),
                image_names=tuple(str(n) for n in z["image_names"]),
                image_stats=z["image_stats"].reshape(-1, 4, c),
                fingerprint=str(z["fingerprint"]),
            )
