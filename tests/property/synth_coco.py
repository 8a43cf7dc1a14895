"""A small seeded generator of COCO instance data for the property, unit and CLI tests.

:func:`make_case` returns a :class:`Case`: a COCO ground-truth dict and two results lists
(``segm`` with compressed RLE masks, ``bbox`` with boxes) describing the same detections.
Everything is plain JSON data, so a case can be written to files or handed to pycocotools.

What a case contains (all drawn from one ``numpy.random.Generator``):

* images of different sizes (some large enough for the ``large`` area bucket), the last one
  without annotations;
* non-contiguous category ids, one of them possibly without ground truth;
* ground-truth objects as rectangle polygons, convex polygons, two-part polygons and
  (``crowd=True``) crowd regions as uncompressed RLE; ``area`` and ``bbox`` come from the
  rasterised mask;
* detections near most objects (shifted masks, jittered boxes), a few duplicates, some with
  the wrong category, and false positives; scores on a coarse grid (``ties=True``) so equal
  scores occur, or all distinct.
"""

from __future__ import annotations

__all__ = [
    "Case",
    "encode_mask",
    "make_case",
    "perfect_results",
    "uncompressed_counts",
]

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from synth import (
    encode_mask,
    mask_annotation,
    polygons_mask,
    rect_mask,
    rect_polygon,
    shift_mask,
    star_polygon,
    tight_bbox,
    uncompressed_counts,
)


@dataclass(frozen=True)
class Case:
    """One generated dataset.

    Attributes:
        gt: COCO instance ground truth (``images``, ``annotations``, ``categories``).
        segm: Results with compressed RLE ``segmentation`` (no ``bbox``), one per detection.
        bbox: Results with ``bbox``, same detections and scores as ``segm``.
    """

    gt: dict[str, Any]
    segm: list[dict[str, Any]]
    bbox: list[dict[str, Any]]

    def results(self, iou_type: str) -> list[dict[str, Any]]:
        """A deep copy of the results for ``"segm"`` or ``"bbox"``."""
        return copy.deepcopy(self.segm if iou_type == "segm" else self.bbox)


def _convex_polygon(rng: np.random.Generator, cx: float, cy: float, r: float) -> list[float]:
    return star_polygon(rng, cx, cy, r, int(rng.integers(5, 9)), 0.6, 2)


def _random_parts(rng: np.random.Generator, h: int, w: int, kind: str) -> list[list[float]]:
    big = rng.random() < 0.3 and min(h, w) > 100
    if kind == "rect":
        bw = float(rng.integers(98, w - 1)) if big else float(rng.integers(3, max(4, w // 2)))
        bh = float(rng.integers(98, h - 1)) if big else float(rng.integers(3, max(4, h // 2)))
        x, y = float(rng.integers(0, w - int(bw))), float(rng.integers(0, h - int(bh)))
        return [rect_polygon(x, y, bw, bh)]
    r = float(rng.uniform(3, min(h, w) / (2 if big else 4)))
    cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
    if kind == "poly":
        return [_convex_polygon(rng, cx, cy, r)]
    # two parts: a polygon and a small rectangle elsewhere in the image
    bw, bh = float(rng.integers(3, 8)), float(rng.integers(3, 8))
    x, y = float(rng.integers(0, w - 8)), float(rng.integers(0, h - 8))
    return [_convex_polygon(rng, cx, cy, r), rect_polygon(x, y, bw, bh)]


@dataclass
class _Builder:
    rng: np.random.Generator
    ties: bool
    annotations: list[dict[str, Any]]
    dets: list[tuple[int, int, np.ndarray, list[float]]]  # image, category, mask, box

    def add_gt(self, image_id: int, cat: int, mask: np.ndarray, seg: Any, crowd: bool) -> None:
        self.annotations.append(mask_annotation(len(self.annotations) + 1, image_id, cat, seg,
                                                mask, iscrowd=int(crowd)))

    def add_dets_near(self, image_id: int, cat: int, mask: np.ndarray,
                      cat_ids: list[int]) -> None:
        rng = self.rng
        for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):
            dx, dy = (int(v) for v in rng.integers(-3, 4, size=2))
            moved = shift_mask(mask, dx, dy)
            if not moved.any():
                continue
            box = tight_bbox(moved)
            box = [round(v + float(rng.normal(0, 0.7)), 2) for v in box[:2]] + [
                round(max(0.5, v + float(rng.normal(0, 1.0))), 2) for v in box[2:]]
            label = cat if rng.random() < 0.85 else int(rng.choice(cat_ids))
            self.dets.append((image_id, label, moved, box))

    def add_false_positive(self, image_id: int, h: int, w: int, cat_ids: list[int]) -> None:
        rng = self.rng
        bw, bh = int(rng.integers(2, max(3, w // 3))), int(rng.integers(2, max(3, h // 3)))
        x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        mask = rect_mask(h, w, x, y, bw, bh)
        self.dets.append((image_id, int(rng.choice(cat_ids)), mask, tight_bbox(mask)))

    def scores(self) -> list[float]:
        n = len(self.dets)
        if self.ties:
            return [float(s) for s in self.rng.choice(np.round(np.linspace(0.1, 1.0, 10), 2), n)]
        return [round(float(s), 6) for s in self.rng.permutation(np.linspace(0.05, 0.99, n))]


def make_case(
    seed: int, *, n_images: int = 6, cat_ids: tuple[int, ...] = (1, 3, 7, 9),
    crowd: bool = True, ties: bool = True,
) -> Case:
    """Generate a case from ``seed`` (see the module docstring for what it contains)."""
    rng = np.random.default_rng(seed)
    b = _Builder(rng=rng, ties=ties, annotations=[], dets=[])
    images = []
    image_ids = (rng.permutation(np.arange(1, 4 * n_images))[:n_images] * 7).tolist()
    used_cats = list(cat_ids[:-1]) if len(cat_ids) > 1 else list(cat_ids)
    for k, image_id in enumerate(image_ids):
        h, w = int(rng.integers(24, 150)), int(rng.integers(24, 150))
        images.append({"id": int(image_id), "height": h, "width": w,
                       "file_name": f"{image_id:06d}.jpg"})
        n_obj = 0 if k == n_images - 1 and n_images > 1 else int(rng.integers(1, 6))
        for _ in range(n_obj):
            cat = int(rng.choice(used_cats))
            kind = str(rng.choice(["rect", "poly", "multi", "crowd" if crowd else "rect"],
                                  p=[0.35, 0.35, 0.2, 0.1]))
            parts = _random_parts(rng, h, w, "rect" if kind == "crowd" else kind)
            mask = polygons_mask(parts, h, w)
            if not mask.any():
                continue
            if kind == "crowd":
                seg: Any = {"size": [h, w], "counts": uncompressed_counts(mask)}
                b.add_gt(int(image_id), cat, mask, seg, crowd=True)
            else:
                b.add_gt(int(image_id), cat, mask, parts, crowd=False)
            b.add_dets_near(int(image_id), cat, mask, list(cat_ids))
        for _ in range(int(rng.integers(0, 3))):
            b.add_false_positive(int(image_id), h, w, list(cat_ids))
    if not b.dets:  # results files must not be empty
        img = images[0]
        b.add_false_positive(img["id"], img["height"], img["width"], list(cat_ids))
    scores = b.scores()
    segm, bbox = [], []
    for (image_id, cat, mask, box), score in zip(b.dets, scores, strict=True):
        segm.append({"image_id": image_id, "category_id": cat,
                     "segmentation": encode_mask(mask), "score": score})
        bbox.append({"image_id": image_id, "category_id": cat, "bbox": box, "score": score})
    order = rng.permutation(len(images))
    gt = {
        "info": {"description": f"synthetic case seed={seed}"},
        "images": [images[i] for i in order],
        "annotations": b.annotations,
        "categories": [{"id": c, "name": f"cat{c}", "supercategory": "thing"} for c in cat_ids],
    }
    return Case(gt=gt, segm=segm, bbox=bbox)


def perfect_results(gt: dict[str, Any], iou_type: str) -> list[dict[str, Any]]:
    """One detection per non-crowd GT object, equal to it (its mask or box), score 1.0."""
    sizes = {img["id"]: (img["height"], img["width"]) for img in gt["images"]}
    out = []
    for ann in gt["annotations"]:
        if ann["iscrowd"]:
            continue
        rec: dict[str, Any] = {"image_id": ann["image_id"], "category_id": ann["category_id"],
                               "score": 1.0}
        if iou_type == "bbox":
            rec["bbox"] = list(ann["bbox"])
        else:
            h, w = sizes[ann["image_id"]]
            rec["segmentation"] = encode_mask(polygons_mask(ann["segmentation"], h, w))
        out.append(rec)
    return out
