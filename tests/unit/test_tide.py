"""TIDE breakdown on a hand-worked example, and its AP building block.

The example: one 100x100 image, two classes. Ground truth (annotation order):

    A class 1 [0, 0, 10, 10]    B class 1 [50, 50, 10, 10]
    C class 2 [0, 50, 10, 10]   D class 2 [80, 80, 10, 10]   E class 2 [30, 30, 10, 10]

Detections (class, score, box) and what tidecv makes of them:

    d1 1 .90 [0, 0, 10, 10]   IoU 1 with A                   -> TP (A used)
    d2 1 .80 [0, 0, 10, 10]   best is A, already used        -> Dupe
    d3 1 .70 [55, 50, 10, 10] IoU 50/150 = 1/3 with B        -> Loc, fixable (B unused)
    d4 1 .60 [0, 50, 10, 10]  IoU 1 with C (class 2)         -> Cls, fixable (C unused)
    d5 2 .50 [80, 0, 10, 10]  no overlap                     -> Bkg
    d8 2 .45 [85, 0, 10, 10]  no overlap                     -> Bkg
    d6 2 .40 [5, 0, 10, 10]   IoU 1/3 with A (class 1) only  -> Both
    d7 2 .30 [30, 30, 10, 10] IoU 1 with E                   -> TP
    D: unused, no fixable error points at it                 -> Miss

AP per class (101 recall points r = i/100, precision made non-increasing from the right):

    class 1, 2 GT: T F F F, recall stays 1/2 -> 51 points (r <= .5) at precision 1
        AP1 = 51/101*100 = 5100/101
    class 2, 3 GT: F F F T, recall 1/3, precision 1/4 -> 34 points (r <= .33) at 1/4
        AP2 = 8.5/101*100 = 850/101
    AP = (5100 + 850) / 202 = 2975/101 = 29.4554...

Each fix, then dAP = AP after - 2975/101:

    Cls  d4 -> TP of class 2 at .6: class 2 = T F F F T, precision (1, .5, 1/3, .25, .4) ->
         34 points at 1 and 33 (r in (1/3, 2/3]) at .4: AP2 = 47.2/101*100 = 4720/101;
         AP = 4910/101, dAP = 1935/101
    Loc  d3 -> TP of class 1: T F T F, recall (.5, .5, 1, 1), smoothed (1, 2/3, 2/3, .5):
         51 points at 1, 50 at 2/3: AP1 = 25300/303; AP = 13925/303, dAP = 5000/303
    Both d6 dropped: class 2 = F F T, 34 points at 1/3: AP2 = 3400/303; dAP = 425/303
    Dupe d2 dropped: class 1 still T F F with recall 1/2: dAP = 0
    Bkg  d5, d8 dropped: class 2 = F T, 34 points at 1/2: AP2 = 1700/101; dAP = 425/101
    Miss D no longer counted: class 2 has 2 GT, recall 1/2 at precision 1/4, 51 points:
         AP2 = 1275/101; AP = 6375/202, dAP = 425/202
    FalsePos (TPs score 1, FPs 0): class 1 unchanged, class 2 = T F F F: 34 points at 1:
         AP2 = 3400/101; dAP = 1275/101
    FalseNeg (GT = TPs): class 1 = 1 GT, all 101 points at 1: 100; class 2 = 1 GT,
         101 points at 1/4: 25; AP = 62.5, dAP = 3337.5/101
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from benchmark_eval.analysis import MAIN_ERRORS, SPECIAL_ERRORS, tide
from benchmark_eval.analysis.tide_ap import RECALL_POINTS, class_ap, mean_ap, visiting_key
from benchmark_eval.analysis.tide_lvis import lvis_class_regions
from benchmark_eval.errors import ConfigError
from benchmark_eval.schema import Categories, Images, InstanceDataset, Instances, Predictions
from benchmark_eval.schema.lvis import FederatedLabels

GT_BOXES = [(1, [0, 0, 10, 10]), (1, [50, 50, 10, 10]), (2, [0, 50, 10, 10]),
            (2, [80, 80, 10, 10]), (2, [30, 30, 10, 10])]
DETS = [(1, 0.9, [0, 0, 10, 10]), (1, 0.8, [0, 0, 10, 10]), (1, 0.7, [55, 50, 10, 10]),
        (1, 0.6, [0, 50, 10, 10]), (2, 0.5, [80, 0, 10, 10]), (2, 0.45, [85, 0, 10, 10]),
        (2, 0.4, [5, 0, 10, 10]), (2, 0.3, [30, 30, 10, 10])]
BASE = 2975 / 101
EXPECTED_MAIN = {"Cls": 1935 / 101, "Loc": 5000 / 303, "Both": 425 / 303, "Dupe": 0.0,
                 "Bkg": 425 / 101, "Miss": 425 / 202}
EXPECTED_SPECIAL = {"FalsePos": 1275 / 101, "FalseNeg": 3337.5 / 101}


def _example(dets: list[tuple[int, float, list[int]]] = DETS
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    anns = []
    for i, (cat, (x, y, w, h)) in enumerate(GT_BOXES):
        poly = [x, y, x + w, y, x + w, y + h, x, y + h]
        anns.append({"id": i + 1, "image_id": 1, "category_id": cat, "bbox": [x, y, w, h],
                     "area": w * h, "iscrowd": 0, "segmentation": [poly]})
    gt = {"images": [{"id": 1, "width": 100, "height": 100, "file_name": "1.jpg"}],
          "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "annotations": anns}
    return gt, [{"image_id": 1, "category_id": c, "score": s, "bbox": b} for c, s, b in dets]


def test_hand_worked_example() -> None:
    r = tide(*_example(), iou_type="bbox")
    assert r.ap == pytest.approx(BASE, abs=1e-12)
    assert r.main == pytest.approx(EXPECTED_MAIN, abs=1e-12)
    assert r.special == pytest.approx(EXPECTED_SPECIAL, abs=1e-12)
    assert r.counts == {"Cls": 1, "Loc": 1, "Both": 1, "Dupe": 1, "Bkg": 2, "Miss": 1}


def test_report_and_text() -> None:
    r = tide(*_example(), iou_type="bbox")
    report = r.to_report()
    assert list(report) == ["main", "special"]
    assert tuple(report["main"]) == MAIN_ERRORS
    assert tuple(report["special"]) == SPECIAL_ERRORS
    text = str(r)
    assert text.startswith("bbox AP @ 50: 29.46\n")
    assert "Main Errors" in text
    assert "Special Error" in text
    assert "   dAP    19.16    16.50     1.40     0.00     4.21     2.10  " in text


def test_results_order_does_not_matter_without_ties() -> None:
    gt, res = _example()
    assert tide(gt, res[::-1], iou_type="bbox") == tide(gt, res, iou_type="bbox")


def test_max_dets_per_image() -> None:
    """Only the 100 best detections of an image count: 100 background boxes above the TP
    push it out, leaving AP 0 and nothing to fix but the misses."""
    dets = [(2, 0.99, [80, 0, 10, 10])] * 100 + [(1, 0.1, [0, 0, 10, 10])]
    r = tide(*_example(dets), iou_type="bbox")
    assert r.ap == 0.0
    assert r.counts["Bkg"] == 100
    assert r.counts["Miss"] == 5


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="'bbox' or 'segm'"):
        tide(*_example(), iou_type="boundary")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'coco' or 'lvis'"):
        tide(*_example(), gt_format="voc")  # type: ignore[arg-type]


def test_class_ap_recall_points() -> None:
    """Class 0: T F T with 4 GT -> recall (.25, .25, .5), precision (1, .5, 2/3), smoothed
    (1, 2/3, 2/3): 26 points (r <= .25) at 1 and 25 at 2/3 -> (26 + 50/3) / 101 * 100.
    Class 1 has records but no GT: AP 0 yet counted; class 2 has neither: left out."""
    cls = np.array([0, 0, 0, 1])
    score = np.array([0.9, 0.8, 0.7, 0.5])
    tp = np.array([True, False, True, False])
    ap, present = class_ap(cls, visiting_key(score, np.arange(4)), tp, np.array([4, 0, 0]))
    assert ap[0] == pytest.approx((26 + 50 / 3) / 101 * 100, abs=1e-12)
    assert ap[1] == 0.0
    assert present.tolist() == [True, True, False]
    assert mean_ap(ap, present) == pytest.approx(ap[0] / 2, abs=1e-12)
    assert math.isnan(mean_ap(ap, np.zeros(3, dtype=bool)))


def test_class_ap_ties_follow_tiebreak() -> None:
    """Equal scores: the tiebreak order decides whether the TP comes first."""
    cls, score = np.zeros(2, dtype=np.int64), np.array([0.5, 0.5])
    tp = np.array([True, False])
    first, _ = class_ap(cls, visiting_key(score, np.array([0, 1])), tp, np.array([1]))
    second, _ = class_ap(cls, visiting_key(score, np.array([1, 0])), tp, np.array([1]))
    assert first[0] == 100.0
    assert second[0] == pytest.approx(50.0, abs=1e-12)  # precision 1/2 at every point


def test_recall_points_are_tidecv_divisions() -> None:
    assert RECALL_POINTS.tolist() == [i / 100 for i in range(101)]


def test_lvis_class_regions() -> None:
    """tidecv's LVIS loader ignores, per image, the categories neither annotated nor negative
    there, and the not-exhaustive ones."""
    ids = np.array
    gt = InstanceDataset(
        images=Images(ids=ids([1, 2]), heights=ids([10, 10]), widths=ids([10, 10])),
        categories=Categories(ids=ids([1, 2, 3]), names=("a", "b", "c")),
        instances=Instances(ids=ids([1, 2]), image_ids=ids([1, 2]), category_ids=ids([1, 2]),
                            areas=ids([1.0, 1.0]), iscrowd=np.zeros(2, dtype=bool)))
    fed = FederatedLabels(neg_image=ids([1]), neg_category=ids([2]),
                          not_exhaustive_image=ids([2]), not_exhaustive_category=ids([2]),
                          frequency=ids([0, 0, 0]))
    image, category = ids([1, 1, 1, 2, 2, 2]), ids([1, 2, 3, 1, 2, 3])
    preds = Predictions(image_ids=image, category_ids=category, scores=np.ones(6),
                        areas=np.ones(6))
    # (1,1) annotated, (1,2) negative: judged; (1,3), (2,1), (2,3) unchecked and (2,2) not
    # exhaustive: covered by a whole-image ignore region
    assert lvis_class_regions(gt, fed, preds).tolist() == [False, False, True, True, True, True]
