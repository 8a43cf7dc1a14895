"""Mergeable evaluation state of the ``semantic`` protocols.

The state is one int64 confusion matrix summed over images (plus, for per-image Dice, four
count vectors per image). Every metric of every rule derives from it, so states of disjoint
image sets merge by addition in any order, and one state can be computed under any rule.
"""

from __future__ import annotations

__all__ = ["GT_NONE", "GT_VALID", "PRED", "TP", "SemanticState"]

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchmark_eval.protocols.state import MergeableState, concatenated, same, summed

# Rows of ``image_stats[i]``: per class, counted on one image.
TP = 0  # GT k predicted k
GT_VALID = 1  # GT k predicted as some class
GT_NONE = 2  # GT k predicted as no class (ignore index, or out of range when allowed)
PRED = 3  # predicted k on a pixel whose GT is a class (not ignored)


@dataclass(frozen=True, eq=False)
class SemanticState(MergeableState):
    """Sufficient statistics of a semantic-segmentation evaluation over some images.

    ``merge``, ``identity``, ``save`` and ``load`` come from
    :class:`~benchmark_eval.protocols.state.MergeableState`.

    Attributes:
        fingerprint: Identifies the counting parameters (``num_classes``, ``ignore_index``,
            label mapping, encoding...); only equal fingerprints merge.
        confusion: ``(C+1, C+1)`` int64. ``confusion[g, p]`` counts pixels with GT class
            ``g`` and predicted class ``p``; row ``C`` holds GT pixels equal to the ignore
            index, column ``C`` predictions that are no class.
        n_images: Images counted.
        image_names: Per-image mode only: the images, in the order of ``image_stats``.
        image_stats: ``(N, 4, C)`` int64, per image the :data:`TP`, :data:`GT_VALID`,
            :data:`GT_NONE` and :data:`PRED` counts per class; ``N = 0`` unless per-image
            statistics were requested.
    """

    label: ClassVar[str] = "semantic"

    fingerprint: str = same()  # first: checked before the matrices are added
    confusion: np.ndarray = summed()
    n_images: int = summed()
    image_names: tuple[str, ...] = concatenated()
    image_stats: np.ndarray = concatenated()

    @property
    def num_classes(self) -> int:
        """C."""
        return int(self.confusion.shape[0]) - 1

    @classmethod
    def empty(cls, num_classes: int, fingerprint: str) -> SemanticState:
        """The identity of :meth:`merge` for ``num_classes`` classes."""
        c = num_classes
        return cls(confusion=np.zeros((c + 1, c + 1), dtype=np.int64), n_images=0,
                   image_names=(), image_stats=np.zeros((0, 4, c), dtype=np.int64),
                   fingerprint=fingerprint)
