"""LVIS' federated rules (``protocols.lvis``) on hand-worked cases.

Every case is small enough to work out on paper; the working is in the comments. Boxes are
axis-aligned squares: a detection either equals a GT box (IoU 1 at every threshold) or is
far from every GT box (IoU 0), so each category's precision / recall curve is a short list.
With lvis-api's 101 recall thresholds ``r`` and the precision envelope ``pr``, a category's
AP at one IoU threshold is ``mean(pr[searchsorted(rc, r, "left")])`` (0 past the end).
Masks (``segm``) are the same squares rasterised, so both iou types give the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pydantic import ValidationError

import benchmark_eval
from benchmark_eval.errors import ConfigError
from benchmark_eval.protocols.coco_params import official_iou_thresholds
from benchmark_eval.protocols.lvis import LVIS_METRIC_KEYS, LvisParams

Json = Any
H = W = 100
# one category per frequency group; ids 1 (apple, f), 2 (bagel, c), 3 (cider, r)
APPLE, BAGEL, CIDER = 1, 2, 3
CATEGORIES = [{"id": APPLE, "name": "apple", "frequency": "f"},
              {"id": BAGEL, "name": "bagel", "frequency": "c"},
              {"id": CIDER, "name": "cider", "frequency": "r"}]
A = [0, 0, 10, 10]  # GT boxes (area 100: "small")
B = [0, 0, 20, 20]
C = [40, 40, 20, 20]
FAR = [70, 70, 10, 10]  # overlaps no GT box


def _poly(box: list[int]) -> list[list[int]]:
    x, y, w, h = box
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def _image(image_id: int, neg: list[int] | None = None,
           not_exhaustive: list[int] | None = None) -> dict[str, Json]:
    return {"id": image_id, "height": H, "width": W, "neg_category_ids": neg or [],
            "not_exhaustive_category_ids": not_exhaustive or []}


def _gt(images: list[dict[str, Json]], anns: list[tuple[int, int, list[int]]],
        **extra: dict[str, Json]) -> dict[str, Json]:
    """anns: (image id, category id, box); ``extra[str(k)]`` updates annotation k (0-based)."""
    out = []
    for k, (img, cat, box) in enumerate(anns):
        ann = {"id": k + 1, "image_id": img, "category_id": cat, "bbox": [float(v) for v in box],
               "area": float(box[2] * box[3]), "segmentation": _poly(box)}
        ann.update(extra.get(f"a{k}", {}))
        out.append(ann)
    return {"images": images, "categories": CATEGORIES, "annotations": out}


def _rle(box: list[int]) -> dict[str, Json]:
    rle = mask_utils.merge(mask_utils.frPyObjects(_poly(box), H, W)) if box[2] and box[3] else (
        mask_utils.encode(np.zeros((H, W), dtype=np.uint8, order="F")))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def _dets(iou_type: str, dets: list[tuple[int, int, list[int], float]]) -> list[dict[str, Json]]:
    """dets: (image id, category id, box, score) in results-file order."""
    key = "bbox" if iou_type == "bbox" else "segmentation"
    return [{"image_id": img, "category_id": cat, "score": score,
             key: [float(v) for v in box] if iou_type == "bbox" else _rle(box)}
            for img, cat, box, score in dets]


def _evaluate(iou_type: str, gt: dict[str, Json], dets: list[dict[str, Json]],
              **options: Json) -> benchmark_eval.LvisResult:
    return benchmark_eval.evaluate(f"lvis-{iou_type}", gt=gt, pred=dets, workers=1, **options)


IOU_TYPES = pytest.mark.parametrize("iou_type", ["bbox", "segm"])


def approx(value: float) -> Any:
    """lvis-api's precision is ``tp / (tp + fp + np.spacing(1))``: "1" is 1 - 2.2e-16."""
    return pytest.approx(value, abs=1e-12)  # recall (tp / n_gt) is exact: compared with ==


# --------------------------------------------------------------------------- 300 per image


@IOU_TYPES
@pytest.mark.parametrize("tp_first", [True, False])
def test_cap_per_image_with_a_tie_at_the_cut_keeps_the_earlier_record(
        iou_type: str, tp_first: bool) -> None:
    # Image 1 has one apple (A). 301 detections on it, in this file order:
    #   299 ciders at 0.900, 0.899, ..., 0.602 (cider is neither annotated nor negative on
    #   image 1), then two apples at exactly 0.5: the TP on A and an FP far away, in either
    #   order.
    # LVISResults.limit_dets_per_image sorts the image's 301 detections by score (a stable
    # sort) and keeps 300: the 299 ciders and the *first* of the two 0.5 apples; the cap
    # counts every category, before the federated filter. Then the 299 ciders are dropped
    # (not federated), leaving one apple detection:
    #   TP first: apple has 1 GT, 1 TP  -> rc = [1], pr = [1]  -> AP = AR = 1
    #   FP first: apple has 1 GT, 1 FP  -> rc = [0], pr = [0]  -> AP = AR = 0
    # bagel and cider have no GT: -1, left out of every mean.
    fillers = [(1, CIDER, FAR, round(0.9 - 0.001 * i, 3)) for i in range(299)]
    tp, fp = (1, APPLE, A, 0.5), (1, APPLE, FAR, 0.5)
    dets = fillers + ([tp, fp] if tp_first else [fp, tp])
    r = _evaluate(iou_type, _gt([_image(1)], [(1, APPLE, A)]), _dets(iou_type, dets))
    expected = 1.0 if tp_first else 0.0
    for key in ("AP", "AP50", "AP75", "APs", "APf", "AR@300", "ARs@300"):
        assert r.results[key] == approx(expected), key
    for key in ("APm", "APl", "APr", "APc", "ARm@300", "ARl@300"):
        assert r.results[key] == -1, key
        assert r.metrics[key] is None
    assert r.counts["detections"] == 301
    assert r.counts["detections_beyond_max_dets"] == 1
    assert r.counts["detections_not_federated"] == 299
    assert r.counts["detections_evaluated"] == 1
    assert "score-ties" in [w.code for w in r.warnings]


def test_cap_is_per_image_not_global() -> None:
    # 200 detections on each of two images (400 in all): nothing is beyond 300 per image.
    # Each image has one apple found by its top detection; the other 199 are apple FPs with
    # lower scores. Apple: 2 GT; sorted: the two TPs (0.9 on image 1 sorts before 0.9 on
    # image 2: ties go by image id) then 398 FPs -> pr = 1 up to recall 1 -> AP = AR = 1.
    dets = []
    for img in (1, 2):
        dets.append((img, APPLE, A, 0.9))
        dets += [(img, APPLE, FAR, 0.5)] * 199
    gt = _gt([_image(1), _image(2)], [(1, APPLE, A), (2, APPLE, A)])
    r = _evaluate("bbox", gt, _dets("bbox", dets))
    assert r.counts["detections_beyond_max_dets"] == 0
    assert r.results["AP"] == approx(1.0)
    assert r.results["AR@300"] == 1.0


# ------------------------------------------------------------------------- federated filter


@IOU_TYPES
@pytest.mark.parametrize("cider_negative", [False, True])
def test_federated_filter(iou_type: str, cider_negative: bool) -> None:
    # Image 1: one apple (A); bagel listed in neg_category_ids; cider not listed (unless
    #   cider_negative). Image 2: one bagel (B) and one cider (C).
    # Detections:
    #   img 1 apple  A   0.90  TP
    #   img 1 bagel  FAR 0.80  bagel is negative on image 1: kept, an FP
    #   img 2 bagel  B   0.70  TP
    #   img 1 cider  FAR 0.95  cider neither annotated nor negative on image 1: DROPPED
    #                          (kept, an FP, when cider_negative)
    #   img 2 cider  C   0.60  TP
    # apple: [TP]                       -> AP 1
    # bagel: [FP 0.8, TP 0.7]: rc = [0, 1], pr = [0, 1/2] -> envelope [1/2, 1/2]
    #        r = 0 -> index 0, r > 0 -> index 1: AP = 1/2
    # cider: [TP] -> AP 1; when cider_negative: [FP 0.95, TP 0.6] -> AP 1/2 as bagel
    # AP = mean(1, 1/2, AP_cider) = 5/6 (2/3); APf = 1, APc = 1/2, APr = AP_cider;
    # every GT is found: AR@300 = 1.
    neg = [BAGEL, CIDER] if cider_negative else [BAGEL]
    gt = _gt([_image(1, neg=neg), _image(2)], [(1, APPLE, A), (2, BAGEL, B), (2, CIDER, C)])
    dets = [(1, APPLE, A, 0.9), (1, BAGEL, FAR, 0.8), (2, BAGEL, B, 0.7),
            (1, CIDER, FAR, 0.95), (2, CIDER, C, 0.6)]
    r = _evaluate(iou_type, gt, _dets(iou_type, dets))
    ap_cider = 0.5 if cider_negative else 1.0
    assert r.results["AP"] == approx((1 + 0.5 + ap_cider) / 3)
    assert r.results["APf"] == approx(1.0)
    assert r.results["APc"] == approx(0.5)
    assert r.results["APr"] == approx(ap_cider)
    assert r.results["AR@300"] == 1.0
    assert r.per_class[BAGEL]["AP"] == approx(0.5)
    assert r.counts["detections_not_federated"] == (0 if cider_negative else 1)
    assert r.counts["detections_evaluated"] == (5 if cider_negative else 4)
    assert r.counts["detections_beyond_max_dets"] == 0


def test_detection_on_an_image_without_any_judged_category_is_dropped() -> None:
    # Image 2 has no GT and no negatives: its bagel detection is not federated. Image 1's
    # apple is found: AP = AR = 1, and the bagel FP never reaches bagel's (empty) curve.
    gt = _gt([_image(1), _image(2)], [(1, APPLE, A)])
    r = _evaluate("bbox", gt, _dets("bbox", [(1, APPLE, A, 0.5), (2, APPLE, A, 0.9)]))
    assert r.counts["detections_not_federated"] == 1
    assert r.results["AP"] == approx(1.0)


# ---------------------------------------------------------------------------- not exhaustive


@IOU_TYPES
@pytest.mark.parametrize("not_exhaustive", [True, False])
def test_not_exhaustive_unmatched_is_ignored_matched_is_a_tp(
        iou_type: str, not_exhaustive: bool) -> None:
    # Image 1: one apple (A); apple in not_exhaustive_category_ids (or not).
    # Detections: apple FAR 0.9 (matches nothing), apple A 0.6 (the TP).
    #   not exhaustive: the unmatched detection is ignored -> [TP] -> AP = 1
    #   exhaustive:     [FP, TP] -> rc = [0, 1], pr envelope [1/2, 1/2] -> AP = 1/2
    # The matched detection counts as a TP either way: AR@300 = 1.
    gt = _gt([_image(1, not_exhaustive=[APPLE] if not_exhaustive else [])], [(1, APPLE, A)])
    r = _evaluate(iou_type, gt, _dets(iou_type, [(1, APPLE, FAR, 0.9), (1, APPLE, A, 0.6)]))
    assert r.results["AP"] == approx(1.0 if not_exhaustive else 0.5)
    assert r.results["AR@300"] == 1.0
    assert r.counts["detections_evaluated"] == 2  # ignored, not dropped


def test_not_exhaustive_is_per_image() -> None:
    # apple is not exhaustive on image 1 only. Image 2's unmatched apple (0.9) is an FP:
    # sorted: FP 0.9 (img 2, not ignored), FP 0.8 (img 1, ignored), TP 0.7 (img 1), TP 0.6
    # (img 2): counted [FP, TP, TP] with 2 GT -> rc = [0, 1/2, 1], pr = [0, 1/2, 2/3]
    # -> envelope [2/3, 2/3, 2/3] -> AP = 2/3; AR = 1.
    gt = _gt([_image(1, not_exhaustive=[APPLE]), _image(2)], [(1, APPLE, A), (2, APPLE, A)])
    dets = [(2, APPLE, FAR, 0.9), (1, APPLE, FAR, 0.8), (1, APPLE, A, 0.7), (2, APPLE, A, 0.6)]
    r = _evaluate("bbox", gt, _dets("bbox", dets))
    assert r.results["AP"] == approx(2 / 3)
    assert r.results["AR@300"] == 1.0


# ------------------------------------------------------------------------------ ignored GT


@IOU_TYPES
def test_ignored_gt_is_not_counted_and_absorbs_its_detection(iou_type: str) -> None:
    # Image 1: apple A with ignore=1, apple C (not ignored).
    # Detections: apple A 0.95 (matches the ignored GT: ignored, not an FP), apple C 0.8 (TP).
    # Counted: 1 GT, [TP] -> AP = AR = 1. (Were A's detection an FP: [FP, TP] -> AP 1/2.)
    gt = _gt([_image(1)], [(1, APPLE, A), (1, APPLE, C)], a0={"ignore": 1})
    r = _evaluate(iou_type, gt, _dets(iou_type, [(1, APPLE, A, 0.95), (1, APPLE, C, 0.8)]))
    assert r.results["AP"] == approx(1.0)
    assert r.results["AR@300"] == 1.0
    assert r.counts["gt_ignored"] == 1


def test_ignore_is_honoured_unlike_pycocotools() -> None:
    # Same image, only C is detected (0.8). LVIS: the ignored A does not count: 1 GT,
    # 1 TP -> AP = AR = 1. pycocotools (coco-bbox, same files) replaces 'ignore' by
    # iscrowd = 0: 2 GT, rc = [1/2], pr = [1] -> thresholds 0.00 ... 0.50 (51 of 101)
    # read precision 1, the rest 0 -> AP = 51/101, AR@100 = 1/2.
    gt = _gt([_image(1)], [(1, APPLE, A), (1, APPLE, C)], a0={"ignore": 1})
    dets = _dets("bbox", [(1, APPLE, C, 0.8)])
    lvis = _evaluate("bbox", gt, dets)
    assert lvis.results["AP"] == approx(1.0)
    assert lvis.results["AR@300"] == 1.0
    coco = benchmark_eval.evaluate("coco-bbox", gt=gt, pred=dets, workers=1)
    assert coco.metrics["AP"] == approx(51 / 101)
    assert coco.metrics["AR100"] == 0.5


# ------------------------------------------------------------------------------ parameters


def test_params_defaults_are_lvis_api_params() -> None:
    p = LvisParams()
    # lvis-api Params: np.linspace(0.5, 0.95, round((0.95 - 0.5) / 0.05) + 1), 101 recalls
    assert p.iou_thresholds == tuple(np.linspace(0.5, 0.95, 10).tolist())
    assert p.iou_thresholds == official_iou_thresholds()
    assert p.recall_thresholds == tuple(np.linspace(0.0, 1.0, 101).tolist())
    assert p.max_dets == 300
    assert [(a.label, a.lo, a.hi) for a in p.area_ranges] == [
        ("all", 0.0, 1e10), ("small", 0.0, 32.0**2), ("medium", 32.0**2, 96.0**2),
        ("large", 96.0**2, 1e10)]
    assert p.engine_params().max_detections == (300,)


@pytest.mark.parametrize("bad", [{"max_dets": 0}, {"max_dets": -5}, {"iou_thresholds": ()},
                                 {"recall_thresholds": ()}, {"area_ranges": ()},
                                 {"max_detections": [300]}, {"max_dets": "many"}])
def test_params_validation(bad: dict[str, Json]) -> None:
    with pytest.raises(ValidationError):
        LvisParams(**bad)
    gt = _gt([_image(1)], [(1, APPLE, A)])
    with pytest.raises(ConfigError, match="invalid parameters"):
        _evaluate("bbox", gt, _dets("bbox", [(1, APPLE, A, 0.5)]), params=bad)


def test_params_are_frozen() -> None:
    p = LvisParams()
    with pytest.raises(ValidationError):
        p.max_dets = 100  # type: ignore[misc]


def test_custom_max_dets_cuts_and_renames_the_recall_keys() -> None:
    # max_dets = 1: image 1 keeps only its top detection, a negative-listed bagel FP (0.9);
    # the apple TP (0.5) is cut. apple: 1 GT, no detection -> recall 0, precision 0:
    # AP = AR@1 = 0 (bagel has no GT anywhere: -1).
    gt = _gt([_image(1, neg=[BAGEL])], [(1, APPLE, A)])
    dets = _dets("bbox", [(1, APPLE, A, 0.5), (1, BAGEL, FAR, 0.9)])
    r = _evaluate("bbox", gt, dets, params={"max_dets": 1})
    assert list(r.results) == [*LVIS_METRIC_KEYS[:9], "AR@1", "ARs@1", "ARm@1", "ARl@1"]
    assert r.results["AP"] == approx(0.0)
    assert r.results["AR@1"] == 0.0
    assert r.counts["detections_beyond_max_dets"] == 1
    assert "maxDets=  1" in r.render(per_class=False).splitlines()[0]
    default = _evaluate("bbox", gt, dets)
    assert default.results["AP"] == approx(1.0)
    assert list(default.results) == list(LVIS_METRIC_KEYS)


def test_custom_iou_thresholds() -> None:
    # One apple (A = [0, 0, 10, 10]) and one detection [0, 0, 10, 8]: IoU = 80/100 = 0.8.
    # Thresholds (0.5, 0.85): a TP at 0.5, unmatched at 0.85 -> AP = (1 + 0) / 2;
    # AP50 is the 0.5 slice (1); AP75 has no 0.75 threshold: an empty slice, so -1.
    gt = _gt([_image(1)], [(1, APPLE, A)])
    dets = [{"image_id": 1, "category_id": APPLE, "score": 0.9, "bbox": [0.0, 0.0, 10.0, 8.0]}]
    r = _evaluate("bbox", gt, dets, params={"iou_thresholds": [0.5, 0.85]})
    assert r.results["AP"] == approx(0.5)
    assert r.results["AP50"] == approx(1.0)
    assert r.results["AP75"] == -1
    assert r.precision.shape == (2, 101, 3, 4)


# ------------------------------------------------------------------------------------ counts


def test_counts_a_detection_beyond_the_cap_once() -> None:
    # max_dets = 1, image 1 (one apple), detections: cider FAR 0.9, cider FAR 0.8, apple A 0.7.
    # The cap keeps only the 0.9 cider: beyond = 2 (the 0.8 cider and the apple, though the
    # 0.8 cider is also not federated). The kept cider is then dropped: not_federated = 1.
    gt = _gt([_image(1)], [(1, APPLE, A)])
    dets = _dets("bbox", [(1, CIDER, FAR, 0.9), (1, CIDER, FAR, 0.8), (1, APPLE, A, 0.7)])
    r = _evaluate("bbox", gt, dets, params={"max_dets": 1})
    assert r.counts == {"gt_instances": 1, "gt_ignored": 0, "detections": 3,
                        "detections_beyond_max_dets": 2, "detections_not_federated": 1,
                        "detections_zero_area": 0, "gt_zero_area": 0,
                        "detections_evaluated": 0, "images": 1}
    assert r.results["AR@1"] == 0.0


# --------------------------------------------------------------- zero areas (lvis-api drops)
#
# LVISEval._prepare loads GT and detections with
#   get_ann_ids(img_ids=..., cat_ids=...) -> area_rng = [0, inf],
#   keeps only ``_ann["area"] > area_rng[0] and _ann["area"] < area_rng[1]``
# so a GT annotation whose 'area' is 0 and a detection whose area is 0 (a box of width or
# height 0: LVISResults sets area = w * h; an empty mask: area = mask.area = 0) never take
# part: not matched, not counted, and a GT dropped this way does not make its category
# "present" on the image for the federated filter.


@IOU_TYPES
def test_zero_area_detection_is_dropped_like_lvis_api(iou_type: str) -> None:
    # Image 1: one apple (A). Detections: apple A 0.8 (TP) and, with a higher score, an
    # apple of zero area (box [40, 40, 0, 5] / an all-zero mask).
    # lvis-api: the zero-area detection is not loaded -> [TP] -> AP = 1.
    # (Counted as an FP it would give [FP, TP] -> AP = 1/2.)
    gt = _gt([_image(1)], [(1, APPLE, A)])
    dets = _dets(iou_type, [(1, APPLE, A, 0.8), (1, APPLE, [40, 40, 0, 5], 0.9)])
    r = _evaluate(iou_type, gt, dets)
    assert r.results["AR@300"] == 1.0
    assert r.results["AP"] == approx(1.0)


def test_zero_area_gt_is_dropped_like_lvis_api() -> None:
    # Image 1: apple A (area 100) and apple C whose 'area' field is 0. One detection, A 0.9.
    # lvis-api: C is not loaded -> 1 GT, [TP] -> AP = AR = 1 (counting C: AR = 1/2).
    gt = _gt([_image(1)], [(1, APPLE, A), (1, APPLE, C)], a1={"area": 0.0})
    r = _evaluate("bbox", gt, _dets("bbox", [(1, APPLE, A, 0.9)]))
    assert r.results["AR@300"] == 1.0
    assert r.results["AP"] == approx(1.0)


def test_zero_area_gt_does_not_make_its_category_present() -> None:
    # Image 1: apple A, and bagel B with 'area' 0 (its only bagel). Detections: apple A 0.9,
    # bagel B 0.8. lvis-api drops the bagel GT, so bagel is neither present nor negative on
    # image 1: the bagel detection is not federated, bagel has no GT: APc = -1.
    gt = _gt([_image(1)], [(1, APPLE, A), (1, BAGEL, B)], a1={"area": 0.0})
    r = _evaluate("bbox", gt, _dets("bbox", [(1, APPLE, A, 0.9), (1, BAGEL, B, 0.8)]))
    assert r.results["APc"] == -1
    assert r.counts["detections_not_federated"] == 1


def test_params_from_the_lvis_preset_and_the_result_state() -> None:
    gt = _gt([_image(1)], [(1, APPLE, A)])
    dets = _dets("bbox", [(1, APPLE, A, 0.5)])
    r = _evaluate("bbox", gt, dets, params="lvis")
    assert r.params == LvisParams()
    assert r.metrics == _evaluate("bbox", gt, dets).metrics
    assert r.state.n_images == 1
    assert "state" not in r.to_report()
