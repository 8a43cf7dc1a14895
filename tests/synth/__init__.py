"""Synthetic-data building blocks shared by the tests, ``data_samples/make_*.py`` and
``benchmarks/*_data.py``: COCO run-length encoding, shapes and masks, COCO records, and
panoptic id maps.

Not part of the package and not installed: the tests import it with ``tests/`` on
``sys.path`` (``tests/conftest.py``), the scripts after inserting ``tests/`` themselves.
Every function is deterministic; those that draw take the caller's
``numpy.random.Generator`` and draw in a fixed order, so seeded outputs stay bit-identical.
"""

from synth.coco import (
    dataset,
    main,
    mask_annotation,
    object_parts,
    results_from_masks,
    write_json_files,
    write_sample,
)
from synth.panoptic import ColorIds, ids_to_rgb
from synth.rle import (
    compressed_rle,
    decode_rle,
    encode_mask,
    polygons_mask,
    rle_areas,
    rle_string,
    uncompressed_counts,
    uncompressed_rle,
)
from synth.shapes import (
    ellipse_mask,
    pixel_box,
    rect_mask,
    rect_polygon,
    roll_mask,
    shift_mask,
    star_points,
    star_polygon,
    tight_bbox,
)

__all__ = [
    "ColorIds",
    "compressed_rle",
    "dataset",
    "decode_rle",
    "ellipse_mask",
    "encode_mask",
    "ids_to_rgb",
    "main",
    "mask_annotation",
    "object_parts",
    "pixel_box",
    "polygons_mask",
    "rect_mask",
    "rect_polygon",
    "results_from_masks",
    "rle_areas",
    "rle_string",
    "roll_mask",
    "shift_mask",
    "star_points",
    "star_polygon",
    "tight_bbox",
    "uncompressed_counts",
    "uncompressed_rle",
    "write_json_files",
    "write_sample",
]
