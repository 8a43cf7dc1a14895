"""The common in-memory schema every adapter produces and every protocol consumes.

No file IO here: adapters in :mod:`benchmark_eval.io` fill these containers.
"""

from benchmark_eval.schema.instances import (
    Categories,
    Images,
    InstanceDataset,
    Instances,
    MaskRuns,
    Predictions,
)
from benchmark_eval.schema.keypoints import KeypointDataset, Keypoints
from benchmark_eval.schema.panoptic import (
    PanopticCategories,
    PanopticDataset,
    PanopticFrame,
    Segments,
)

__all__ = [
    "Categories",
    "Images",
    "InstanceDataset",
    "Instances",
    "KeypointDataset",
    "Keypoints",
    "MaskRuns",
    "PanopticCategories",
    "PanopticDataset",
    "PanopticFrame",
    "Predictions",
    "Segments",
]
