"""Seeded LVIS parity cases: COCO-style scenes from ``coco_generators`` plus federated fields.

Each case adds to a COCO case: per-image ``neg_category_ids`` (some detected categories are
listed, some not, so the federated filter drops detections), ``not_exhaustive_category_ids``
(unmatched detections of those categories are not false positives), ``ignore`` flags and a
category ``frequency``. The LVIS traps are separate cases:

* ``over_cap``: an image with more than 300 detections whose only true positive is ranked
  exactly 300th (kept) or 301st (cut), with score ties straddling the cut;
* ``gt_also_negative``: a category annotated in an image and also listed as negative there;
* ``empty_frequency_group``: no rare categories at all (``APr`` is -1);
* ``all_not_exhaustive``: every annotated category of an image is not exhaustive;
* ``zero_areas``: detections with a zero-width box or an empty mask, and GT whose ``area``
  field is 0 (lvis-api's ``get_ann_ids`` leaves both out).
"""

from __future__ import annotations

__all__ = ["LVIS_CASES", "make_lvis_case"]

import copy
from typing import Any

import numpy as np
from coco_generators import make_case

LVIS_CASES = ("mixed", "crowd_uncompressed_rle", "score_ties_across_images", "ignore_field",
              "area_borders", "many_detections", "equal_iou_two_gts", "empty_images",
              "over_cap", "gt_also_negative", "empty_frequency_group", "zero_areas",
              "all_not_exhaustive")


def _federate(gt: dict[str, Any], results: list[dict[str, Any]], rng: np.random.Generator,
              *, also_negative: bool = False, all_not_exhaustive: bool = False,
              no_rare: bool = False, ignore_rate: float = 0.1) -> None:
    cat_ids = [c["id"] for c in gt["categories"]]
    present: dict[int, set[int]] = {im["id"]: set() for im in gt["images"]}
    for a in gt["annotations"]:
        present[a["image_id"]].add(a["category_id"])
    predicted: dict[int, set[int]] = {im["id"]: set() for im in gt["images"]}
    for r in results:
        predicted[r["image_id"]].add(r["category_id"])
    for im in gt["images"]:
        pos = sorted(present[im["id"]])
        absent = [c for c in sorted(predicted[im["id"]] | set(cat_ids)) if c not in pos]
        neg = [c for c in absent if rng.random() < 0.5]
        if also_negative and pos:
            neg.append(pos[0])
        im["neg_category_ids"] = [int(c) for c in neg]
        chosen = pos if all_not_exhaustive else [c for c in pos if rng.random() < 0.3]
        im["not_exhaustive_category_ids"] = [int(c) for c in chosen]
    groups = ("c", "f") if no_rare else ("r", "c", "f")
    for c in gt["categories"]:
        c["frequency"] = str(rng.choice(groups))
    for a in gt["annotations"]:
        a.pop("iscrowd", None) if rng.random() < 0.5 else None
        if rng.random() < ignore_rate:
            a["ignore"] = 1


def _over_cap(iou_type: str, rng: np.random.Generator, rank: int
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    gt, results = make_case("single", iou_type, 0)
    image = gt["images"][0]["id"]
    target = next(r for r in results if r["image_id"] == image)
    fillers = []
    for i in range(330):
        fp = copy.deepcopy(target)
        if iou_type == "bbox":
            fp["bbox"] = [1.0 + (i % 20), 1.0, 2.0, 2.0]
        fillers.append(fp)
    # scores: `rank` fillers above the true positive, the rest below; ties around 300
    top = np.sort(rng.uniform(0.5, 0.9, rank))[::-1]
    for fp, s in zip(fillers, top, strict=False):
        fp["score"] = float(np.round(s, 1))
    for fp in fillers[rank:]:
        fp["score"] = 0.1
    tp = copy.deepcopy(target)
    tp["score"] = 0.1 if rank >= 300 else 0.3
    if iou_type == "segm":
        # the fillers must not overlap the object: reuse the mask of another image's object
        other = [r for r in results if r["image_id"] != image]
        for fp in fillers:
            fp["segmentation"] = copy.deepcopy(other[0]["segmentation"]) if other and (
                other[0]["segmentation"]["size"] == target["segmentation"]["size"]) else (
                fp["segmentation"])
    rest = [r for r in results if r["image_id"] != image]  # tp is the image's only match
    return gt, [*fillers[:rank], tp, *fillers[rank:], *rest]


def _zero_areas(gt: dict[str, Any], results: list[dict[str, Any]], rng: np.random.Generator
                ) -> None:
    from pycocotools import mask as mask_utils

    for a in gt["annotations"][::4]:
        a["area"] = 0
    for r in results[::3]:
        if "bbox" in r:
            r["bbox"][2] = 0.0
        if "segmentation" in r:
            h, w = r["segmentation"]["size"]
            empty = mask_utils.encode(np.zeros((h, w), dtype=np.uint8, order="F"))
            r["segmentation"] = {"size": [h, w], "counts": empty["counts"].decode()}
        r["score"] = float(rng.choice([0.99, r["score"]]))


def make_lvis_case(name: str, iou_type: str, seed: int = 0
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(gt, results)`` of an LVIS case for ``"bbox"``/``"segm"``."""
    rng = np.random.default_rng(1000 + seed)
    if name == "over_cap":
        gt, results = _over_cap(iou_type, rng, 299 if seed % 2 == 0 else 300)
    else:
        base = {"gt_also_negative": "mixed", "empty_frequency_group": "mixed",
                "all_not_exhaustive": "mixed", "zero_areas": "mixed"}.get(name, name)
        gt, results = make_case(base, iou_type, seed)
        if name == "zero_areas":
            _zero_areas(gt, results, rng)
    _federate(gt, results, rng, also_negative=name == "gt_also_negative",
              all_not_exhaustive=name == "all_not_exhaustive",
              no_rare=name == "empty_frequency_group",
              ignore_rate=0.0 if name == "over_cap" else 0.1)
    return gt, results
