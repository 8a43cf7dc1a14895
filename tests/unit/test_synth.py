"""``tests/synth``: the shared synthetic-data blocks agree with pycocotools where both exist
(the parity generators encode RLE in pure Python, the samples through pycocotools)."""

from __future__ import annotations

import numpy as np
import pytest
from synth import (
    compressed_rle,
    decode_rle,
    encode_mask,
    pixel_box,
    shift_mask,
    tight_bbox,
    uncompressed_counts,
)


@pytest.mark.parametrize("seed", range(5))
def test_rle_writers_agree_with_pycocotools(seed: int) -> None:
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(seed)
    mask = rng.random((int(rng.integers(1, 40)), int(rng.integers(1, 40)))) < 0.4
    mask[0, 0] = bool(seed % 2)  # counts starting with a 0-run or not
    assert compressed_rle(mask) == encode_mask(mask)
    assert np.array_equal(decode_rle(encode_mask(mask)), mask)
    counts = uncompressed_counts(mask)
    assert sum(counts) == mask.size
    assert np.array_equal(decode_rle(mask_utils.frPyObjects(
        {"size": list(mask.shape), "counts": counts}, *mask.shape)), mask)
    assert tight_bbox(mask) == [float(v) for v in mask_utils.toBbox(encode_mask(mask))]


def test_boxes_and_shifts() -> None:
    mask = np.zeros((6, 8), dtype=bool)
    mask[1:3, 2:7] = True
    assert pixel_box(mask) == [2, 1, 5, 2]
    assert pixel_box(np.zeros((3, 3), dtype=bool)) == [0, 0, 0, 0]
    assert pixel_box(shift_mask(mask, 2, -1)) == [4, 0, 4, 2]  # clipped, not wrapped
