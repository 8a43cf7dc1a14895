"""Detection confusion matrix, P / R / F1 and most-confused pairs on hand-worked examples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmark_eval.analysis.confusion import detection_confusion, most_confused
from benchmark_eval.io.coco_gt import load_coco_ground_truth
from benchmark_eval.io.coco_results import load_coco_results
from benchmark_eval.schema import Predictions


def _gt(boxes: list[tuple[int, list[float], int]]) -> dict[str, Any]:
    return {
        "images": [{"id": 1, "width": 100, "height": 100}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [{"id": i + 1, "image_id": 1, "category_id": c, "bbox": b,
                         "area": b[2] * b[3], "iscrowd": crowd}
                        for i, (c, b, crowd) in enumerate(boxes)],
    }


def _load(gt: dict[str, Any], dets: list[tuple[int, list[float], float]]) -> Any:
    dataset, _ = load_coco_ground_truth(gt, boxes=True, masks=False)
    results = [{"image_id": 1, "category_id": c, "bbox": b, "score": s} for c, b, s in dets]
    preds, _ = load_coco_results(results, dataset, boxes=True, masks=False)
    return dataset, preds


# GT: g1 a [0,0,10,10], g2 b [20,20,10,10], g3 a [50,50,10,10].
GT = _gt([(1, [0, 0, 10, 10], 0), (2, [20, 20, 10, 10], 0), (1, [50, 50, 10, 10], 0)])
# d1 a .9 on g1 (TP); d2 a .8 on g2 (GT b taken as a); d3 b .7 on nothing (background);
# d4 a .6 on g1 again (g1 is taken: background). g3 is missed.
DETS = [(1, [0, 0, 10, 10], 0.9), (1, [20, 20, 10, 10], 0.8), (2, [80, 80, 10, 10], 0.7),
        (1, [0, 0, 10, 10], 0.6)]


def test_matrix_and_pr_by_hand() -> None:
    c = detection_confusion(*_load(GT, DETS))
    # rows gt a, gt b, background; columns pred a, pred b, missed
    np.testing.assert_array_equal(c.matrix, [[1, 0, 1], [1, 0, 0], [1, 1, 0]])
    # a: TP 1 of 3 detections, 1 of 2 GT: P 1/3, R 1/2, F1 = 2(1/6)/(5/6) = 0.4
    np.testing.assert_allclose(c.precision, [1 / 3, 0.0])
    np.testing.assert_allclose(c.recall, [0.5, 0.0])
    np.testing.assert_allclose(c.f1, [0.4, 0.0])
    # sweep of a: >= .9: P 1, R .5, F1 2/3; >= .8: .5/.5, .5; >= .6: .4 -> best .9
    # b: its one detection is wrong -> F1 0 at .7
    np.testing.assert_allclose(c.best_threshold, [0.9, 0.7])
    np.testing.assert_allclose(c.best_f1, [2 / 3, 0.0])
    np.testing.assert_allclose(c.best_precision, [1.0, 0.0])
    np.testing.assert_allclose(c.best_recall, [0.5, 0.0])
    # one threshold for all classes, mean F1 over a and b: >= .9: (2/3 + 0) / 2 = 1/3;
    # >= .8: (.5 + 0) / 2; >= .7: b's detection adds nothing; >= .6: (.4 + 0) / 2
    assert c.macro_threshold == 0.9
    assert c.macro_f1 == pytest.approx(1 / 3)
    assert c.to_report()["most_confused"] == [
        {"gt": "b", "pred": "a", "count": 1, "fraction": 1.0}]


def test_score_threshold_drops_before_matching_is_unchanged() -> None:
    # >= .65 drops d4 only: column a = 1 + 1 -> P_a = 1/2, R_a = 1/2, F1_a = 1/2
    c = detection_confusion(*_load(GT, DETS), score_threshold=0.65)
    np.testing.assert_array_equal(c.matrix, [[1, 0, 1], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_allclose(c.f1, [0.5, 0.0])
    # >= .85 keeps d1 only: g2 becomes missed
    c = detection_confusion(*_load(GT, DETS), score_threshold=0.85)
    np.testing.assert_array_equal(c.matrix, [[1, 0, 1], [0, 0, 1], [0, 0, 0]])
    assert np.isnan(c.precision[1])
    assert np.isnan(c.f1[1])


def test_iou_threshold_ties_and_crowd() -> None:
    # d [0,0,10,10] vs g1 [0,0,10,20] (IoU 0.5) and g2 [0,0,20,10] (IoU 0.5): the last GT
    # in (class, annotation) order wins the tie, pycocotools' >= rule: g2 (class b).
    gt = _gt([(1, [0, 0, 10, 20], 0), (2, [0, 0, 20, 10], 0), (1, [60, 60, 10, 10], 1)])
    c = detection_confusion(*_load(gt, [(1, [0, 0, 10, 10], 0.5),
                                        (1, [60, 60, 10, 10], 0.4)]))
    # the crowd GT takes no part: the second detection is a background false positive
    np.testing.assert_array_equal(c.matrix, [[0, 0, 1], [1, 0, 0], [1, 0, 0]])
    c = detection_confusion(*_load(gt, [(1, [0, 0, 10, 10], 0.5)]), iou_threshold=0.51)
    np.testing.assert_array_equal(c.matrix, [[0, 0, 1], [0, 0, 1], [1, 0, 0]])


def test_max_dets_cuts_per_image_by_score() -> None:
    c = detection_confusion(*_load(GT, DETS), max_dets=2)  # d1, d2 kept
    np.testing.assert_array_equal(c.matrix, [[1, 0, 1], [1, 0, 0], [0, 0, 0]])


def test_no_detections() -> None:
    dataset, _ = _load(GT, DETS)
    z = np.zeros(0, dtype=np.int64)
    none = Predictions(image_ids=z, category_ids=z, areas=np.zeros(0), boxes=np.zeros((0, 4)),
                       scores=np.zeros(0))
    c = detection_confusion(dataset, none)
    np.testing.assert_array_equal(c.matrix, [[0, 0, 2], [0, 0, 1], [0, 0, 0]])
    assert np.isnan(c.precision).all()
    assert np.isnan(c.best_threshold).all()
    assert c.per_class()[1]["recall"] == 0.0


def test_most_confused_ranks_and_slices() -> None:
    # rows truth, columns prediction, plus an "ignored" row / "no class" column to slice off
    m = np.array([[5, 3, 0, 9],
                  [1, 7, 3, 9],
                  [0, 4, 2, 9],
                  [9, 9, 9, 9]])
    names = ["road", "car", "bus"]
    # off-diagonal: car->bus... (0,1)=3, (1,0)=1, (1,2)=3, (2,1)=4; ties by row then column
    assert most_confused(m[:3, :3], names, top=3) == [
        {"gt": "bus", "pred": "car", "count": 4, "fraction": 4 / 6},
        {"gt": "road", "pred": "car", "count": 3, "fraction": 3 / 8},
        {"gt": "car", "pred": "bus", "count": 3, "fraction": 3 / 11},
    ]
    # only classes 1 and 2 (e.g. the evaluated ones): fractions over the kept columns
    assert most_confused(m[:3, :3], names, classes=[1, 2]) == [
        {"gt": "bus", "pred": "car", "count": 4, "fraction": 4 / 6},
        {"gt": "car", "pred": "bus", "count": 3, "fraction": 3 / 10},
    ]
    assert most_confused(np.eye(3, dtype=np.int64), names) == []


@pytest.mark.parametrize("iou_type", ["bbox"])
def test_report_round_trips_json(iou_type: str) -> None:
    import orjson

    r = detection_confusion(*_load(GT, DETS), iou_type=iou_type).to_report()
    assert orjson.loads(orjson.dumps(r))["matrix"] == [[1, 0, 1], [1, 0, 0], [1, 1, 0]]


def test_macro_threshold_takes_the_lowest_on_ties() -> None:
    # one GT (class a), found by an a detection at .9: mean F1 over the classes with GT
    # (a only) is 1 at >= .9. b has no GT, so its detection at .8 leaves the mean at 1:
    # .9 and .8 tie and the lower, more inclusive threshold is taken.
    gt = _gt([(1, [0, 0, 10, 10], 0)])
    c = detection_confusion(*_load(gt, [(1, [0, 0, 10, 10], 0.9), (2, [50, 50, 9, 9], 0.8)]))
    assert c.macro_threshold == 0.8
    assert c.macro_f1 == 1.0
    assert np.isnan(c.best_f1[1])  # b: no GT, F1 undefined at every threshold


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matrix_totals_are_the_inputs(seed: int) -> None:
    # every non-crowd GT is in exactly one cell of its row, every kept detection in exactly
    # one cell of its column, whatever the scene
    from coco_generators import make_case  # tests/parity, on the path (conftest.py)

    gt, results = make_case("mixed", "bbox", seed)
    dataset, _ = load_coco_ground_truth(gt, boxes=True, masks=False)
    preds, _ = load_coco_results(results, dataset, boxes=True, masks=False)
    for thr in (0.0, 0.5):
        c = detection_confusion(dataset, preds, score_threshold=thr, max_dets=None)
        k = len(c.category_ids)
        cls = np.searchsorted(c.category_ids, dataset.instances.category_ids)
        plain = ~dataset.instances.iscrowd.astype(bool)
        np.testing.assert_array_equal(c.matrix[:k].sum(axis=1),
                                      np.bincount(cls[plain], minlength=k))
        kept = preds.scores >= thr
        np.testing.assert_array_equal(
            c.matrix[:, :k].sum(axis=0),
            np.bincount(np.searchsorted(c.category_ids, preds.category_ids[kept]),
                        minlength=k))
        assert c.matrix[k, k] == 0


def test_plotting_stays_out_of_import() -> None:
    import subprocess
    import sys

    code = ("import sys, benchmark_eval, benchmark_eval.cli, benchmark_eval.analysis;"
            " print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
