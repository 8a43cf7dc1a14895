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

__all__ = ["Categories", "Images", "InstanceDataset", "Instances", "MaskRuns", "Predictions"]
