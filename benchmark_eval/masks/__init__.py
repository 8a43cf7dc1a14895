"""Mask and box geometry: the only code that calls ``pycocotools.mask``."""

from benchmark_eval.masks.boxes import box_iou_pairs
from benchmark_eval.masks.rle import (
    RleCheck,
    can_rasterize,
    check_compressed_rles,
    combine_runs,
    compress_uncompressed,
    has_kernels,
    mask_iou,
    pair_mask_iou,
    polygons_to_rles,
    rasterize_polygons,
    rle_areas,
    rle_boxes,
)

__all__ = [
    "RleCheck",
    "box_iou_pairs",
    "can_rasterize",
    "check_compressed_rles",
    "combine_runs",
    "compress_uncompressed",
    "has_kernels",
    "mask_iou",
    "pair_mask_iou",
    "polygons_to_rles",
    "rasterize_polygons",
    "rle_areas",
    "rle_boxes",
]
