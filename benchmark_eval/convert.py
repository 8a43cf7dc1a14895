"""Converters between COCO instances, COCO panoptic and semantic label maps.

The implementation is :mod:`benchmark_eval.converters.coco_panoptic`; this module keeps its
public names importable from ``benchmark_eval.convert``.
"""

from benchmark_eval.converters.coco_panoptic import (
    OVERLAP_RULES,
    convert_instances_to_panoptic,
    convert_panoptic_to_instances,
    convert_panoptic_to_semantic,
    instances_to_panoptic,
    panoptic_to_instances,
    panoptic_to_semantic,
)

__all__ = ["OVERLAP_RULES", "convert_instances_to_panoptic", "convert_panoptic_to_instances",
           "convert_panoptic_to_semantic", "instances_to_panoptic", "panoptic_to_instances",
           "panoptic_to_semantic"]
