"""Cityscapes converters: gtFine -> COCO panoptic, gtFine -> COCO instances, polygons -> PNGs.

The implementation is :mod:`benchmark_eval.converters.cityscapes` (the polygon painting
:mod:`benchmark_eval.io.cityscapes_polygons`); this module keeps their public names
importable from ``benchmark_eval.convert_cityscapes``.
"""

from benchmark_eval.converters.cityscapes import (
    convert_cityscapes_polygons,
    convert_cityscapes_to_instances,
    convert_cityscapes_to_panoptic,
    panoptic_categories,
    panoptic_segments,
    segment_boxes,
)
from benchmark_eval.io.cityscapes_polygons import CategoryIds, polygons_to_maps

__all__ = ["CategoryIds", "convert_cityscapes_polygons", "convert_cityscapes_to_instances",
           "convert_cityscapes_to_panoptic", "panoptic_categories", "panoptic_segments",
           "polygons_to_maps", "segment_boxes"]
