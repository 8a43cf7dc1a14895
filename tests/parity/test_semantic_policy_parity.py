"""The ``mmseg`` rule's ``label_map`` maps the GT only, as mmseg does (its ``LoadAnnotations``
maps the annotation; the model's predictions are class indices): the numbers equal mmseg's
``IoUMetric`` on the GT mapped and the predictions as they are."""

from __future__ import annotations

import numpy as np
import pytest
from semantic_generators import generic_case
from semantic_references import mmseg_reference
from test_semantic_parity import TOL, _close, _ours, _per_class


@pytest.mark.parametrize("seed", range(4))
def test_mmseg_label_map_maps_the_gt_only(seed: int) -> None:
    c = 4 + seed % 4
    pairs = generic_case(seed, c)
    # the GT files hold class ids rotated by one; label_map rotates them back. Mapping the
    # predictions too (the other rules) would rotate them away from their classes.
    label_map = {(k + 1) % c: k for k in range(c)}
    on_disk = [(n, np.where(g < c, (g + 1) % c, g).astype(np.uint8), p) for n, g, p in pairs]
    ref = mmseg_reference([(p, g) for _, g, p in pairs], c)
    ours = _ours(on_disk, num_classes=c, rule="mmseg", out_of_range="no-class",
                 label_map=label_map)
    assert np.allclose(_per_class(ours, "IoU"), ref.iou, rtol=0, atol=TOL, equal_nan=True)
    for key, value in (("mIoU", ref.miou), ("mAcc", ref.macc), ("aAcc", ref.aacc)):
        assert _close(ours.metrics[key], value), key

    both = _ours(on_disk, num_classes=c, rule="detectron2", out_of_range="no-class",
                 label_map=label_map)
    assert not np.allclose(_per_class(both, "IoU"), ref.iou, equal_nan=True)
