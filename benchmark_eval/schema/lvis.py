"""LVIS federated annotation: which categories were checked in which image."""

from __future__ import annotations

__all__ = ["FREQUENCIES", "FederatedLabels"]

from dataclasses import dataclass

import numpy as np

# LVIS category frequency groups, in lvis-api's order (rare: < 10 training images,
# common: 10-99, frequent: >= 100).
FREQUENCIES = ("r", "c", "f")


@dataclass(frozen=True)
class FederatedLabels:
    """Per-image category lists of an LVIS ground truth, as (image id, category id) pairs.

    Attributes:
        neg_image, neg_category: ``neg_category_ids``: checked and absent from the image.
        not_exhaustive_image, not_exhaustive_category: ``not_exhaustive_category_ids``:
            present but not every instance is annotated.
        frequency: Per row of the category table, an index into :data:`FREQUENCIES`.
    """

    neg_image: np.ndarray
    neg_category: np.ndarray
    not_exhaustive_image: np.ndarray
    not_exhaustive_category: np.ndarray
    frequency: np.ndarray
