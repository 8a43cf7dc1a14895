"""PR curves, calibration and per-image diagnostics of an evaluation, worked by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmark_eval import evaluate
from benchmark_eval.analysis.calibration import calibration
from benchmark_eval.analysis.curves import iou_index, pr_curves
from benchmark_eval.analysis.diagnostics import image_diagnostics
from benchmark_eval.errors import ConfigError


def _scene() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    # image 1: g1 a [0,0,10,10], g2 b [20,20,10,10], g3 a [50,50,10,10]
    # image 2: g4 a [0,0,10,10]
    boxes = [(1, 1, [0, 0, 10, 10]), (1, 2, [20, 20, 10, 10]), (1, 1, [50, 50, 10, 10]),
             (2, 1, [0, 0, 10, 10])]
    gt = {"images": [{"id": 1, "width": 100, "height": 100},
                     {"id": 2, "width": 100, "height": 100}],
          "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
          "annotations": [{"id": i + 1, "image_id": im, "category_id": c, "bbox": b,
                           "area": 100.0, "iscrowd": 0}
                          for i, (im, c, b) in enumerate(boxes)]}
    # d1 a .9 on g1: TP; d2 a .8 on g2 (class b): FP; d3 b .7 on nothing: FP;
    # d4 a .6 on g1 again: FP (duplicate); d5 a .95 on g4 (image 2): TP
    dets = [(1, 1, [0, 0, 10, 10], 0.9), (1, 1, [20, 20, 10, 10], 0.8),
            (1, 2, [80, 80, 10, 10], 0.7), (1, 1, [0, 0, 10, 10], 0.6),
            (2, 1, [0, 0, 10, 10], 0.95)]
    pred = [{"image_id": im, "category_id": c, "bbox": b, "score": s}
            for im, c, b, s in dets]
    return gt, pred


@pytest.fixture(scope="module")
def result() -> Any:
    gt, pred = _scene()
    return evaluate("coco-bbox", gt=gt, pred=pred)


def test_calibration_by_hand(result: Any) -> None:
    c = calibration(result)
    # one detection per bin: 9 (.9, .95: both TP), 8 (.8 FP), 7 (.7 FP), 6 (.6 FP)
    np.testing.assert_array_equal(c.count, [0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    np.testing.assert_allclose(c.confidence[6:], [0.6, 0.7, 0.8, 0.925])
    np.testing.assert_allclose(c.accuracy[6:], [0, 0, 0, 1])
    assert np.isnan(c.accuracy[0])
    # gaps .6, .7, .8, .075 -> ECE = (.6 + .7 + .8 + 2 * .075) / 5 = 0.45, MCE = .8
    assert c.ece == pytest.approx(0.45)
    assert c.mce == pytest.approx(0.8)
    # a: bins 6 (.6), 8 (.8), 9 (.9, .95 correct: gap .075): (.6 + .8 + .15) / 4 = .3875
    assert c.per_class_ece == pytest.approx({1: 0.3875, 2: 0.7})
    assert c.to_report()["accuracy"][0] is None


def test_curves_by_hand(result: Any) -> None:
    a, b = pr_curves(result)
    # a in pycocotools order: .95 TP, .9 TP, .8 FP, .6 FP; 3 GT of a
    np.testing.assert_allclose(a.raw_recall, [1 / 3, 2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(a.raw_precision, [1, 1, 2 / 3, 1 / 2])
    np.testing.assert_allclose(a.raw_score, [0.95, 0.9, 0.8, 0.6])
    # interpolated: 1 up to recall 2/3 (points 0 .. 0.66), 0 after
    np.testing.assert_array_equal(a.precision, np.r_[np.ones(67), np.zeros(34)])
    np.testing.assert_allclose(b.raw_precision, [0.0])
    assert a.to_report(points=2)["raw_recall"] == pytest.approx([1 / 3, 2 / 3])
    assert iou_index(result.params.iou_thresholds, 0.75) == 5
    with pytest.raises(ConfigError, match="not one of"):
        pr_curves(result, iou=0.52)


def test_diagnostics_by_hand(result: Any) -> None:
    gt_images = np.array([1, 1, 1, 2])
    d = image_diagnostics(result, gt_images)
    np.testing.assert_array_equal(d.image_ids, [1, 2])  # image 1 has the errors
    np.testing.assert_array_equal(d.tp, [1, 1])
    np.testing.assert_array_equal(d.fp, [3, 0])
    np.testing.assert_array_equal(d.fn, [2, 0])
    # f1 = 2 / (2 + 3 + 2); AP of image 1 pooled: .9 TP, .8, .7, .6 FP, 3 GT: precision 1
    # up to recall 1/3 -> recall points 0 .. 0.33 (34 of 101)
    np.testing.assert_allclose(d.f1, [2 / 7, 1.0])
    np.testing.assert_allclose(d.ap, [34 / 101, 1.0])
    assert d.to_report(top=1)["worst"] == [
        {"image_id": 1, "tp": 1, "fp": 3, "fn": 2, "f1": 2 / 7, "ap": 34 / 101}]


def test_diagnostics_images_without_detections_or_gt(result: Any) -> None:
    # an image with GT but no detection: fn only, AP 0; one with neither: f1 = AP = 1
    d = image_diagnostics(result, np.array([1, 1, 1, 2, 3]))
    row = int(np.flatnonzero(d.image_ids == 3)[0])
    assert (d.fn[row], d.ap[row], d.f1[row]) == (1, 0.0, 0.0)
