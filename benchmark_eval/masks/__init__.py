"""Mask and box geometry: the only code that calls ``pycocotools.mask``."""

import importlib.util

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

KERNELS = {
    "rle": "benchmark_eval.masks._rle",
    "boundary": "benchmark_eval.masks._boundary",
    "panoptic": "benchmark_eval.masks._panoptic",
    "cityscapes": "benchmark_eval.masks._cityscapes",
    "pngfilter": "benchmark_eval.io._pngfilter",
}
"""The optional C extensions (pyproject ``ext-modules``), by short name: each has a numpy
fallback giving the same numbers, slower (an install without a C compiler)."""


def compiled_kernels() -> dict[str, bool]:
    """Whether each of :data:`KERNELS` was built (found without importing it)."""
    return {name: importlib.util.find_spec(module) is not None
            for name, module in KERNELS.items()}


def missing_kernels() -> list[str]:
    """The :data:`KERNELS` not built, for the warning that the slower fallbacks run."""
    return [name for name, built in compiled_kernels().items() if not built]


__all__ = [
    "KERNELS",
    "RleCheck",
    "box_iou_pairs",
    "can_rasterize",
    "check_compressed_rles",
    "combine_runs",
    "compiled_kernels",
    "compress_uncompressed",
    "has_kernels",
    "mask_iou",
    "missing_kernels",
    "pair_mask_iou",
    "polygons_to_rles",
    "rasterize_polygons",
    "rle_areas",
    "rle_boxes",
]
