"""Seeded generators of small COCO instance cases (ground truth + results) for parity tests.

A generator takes a ``numpy.random.Generator`` and returns a :class:`Scene`: images, categories,
ground-truth annotations and detections, each detection carrying both a box (used for ``bbox``
results) and a mask (used for ``segm`` results). :func:`make_case` renders a scene as
``(gt_dict, results_list)`` for one IoU type. Everything rendered is plain JSON data (``int``,
``float``, ``str``, ``list``, ``dict``), so it can also be written to files.

The named cases in :data:`NASTY_CASES` each isolate one behaviour of pycocotools that an
independent implementation can get wrong; :func:`mixed_random` mixes all of them at random.
Masks always have the size of their image; ground-truth ``area``/``bbox`` agree with the
mask (polygon area by the shoelace formula, as in the COCO files) except where a case says
otherwise. Results are never empty and only use image ids of the ground truth (pycocotools
fails on both). RLE, rectangles, ellipses, shifts and tight boxes are the shared blocks of
``tests/synth``.
"""

from __future__ import annotations

__all__ = [
    "CASE_NAMES",
    "NASTY_CASES",
    "Det",
    "Scene",
    "make_case",
    "mixed_random",
    "polygon_mask",
]

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from synth import (
    compressed_rle,
    ellipse_mask,
    rect_mask,
    rect_polygon,
    shift_mask,
    star_points,
    tight_bbox,
    uncompressed_rle,
)

Box = list[float]

# --------------------------------------------------------------------------------------------
# Shapes (the shared ones come from tests/synth)
# --------------------------------------------------------------------------------------------


def polygon_mask(height: int, width: int, polygon: Sequence[float]) -> np.ndarray:
    """Even-odd fill of a polygon sampled at pixel centres.

    Only an approximation of pycocotools' rasteriser: the generators use it to place detections
    near a polygon ground truth, never as an expected value.
    """
    xs = np.asarray(polygon[0::2], dtype=np.float64)
    ys = np.asarray(polygon[1::2], dtype=np.float64)
    rows, cols = np.ogrid[0:height, 0:width]
    py = rows + 0.5
    px = cols + 0.5
    inside = np.zeros((height, width), dtype=bool)
    for x1, y1, x2, y2 in zip(xs, ys, np.roll(xs, -1), np.roll(ys, -1), strict=True):
        if y1 == y2:
            continue
        crosses = (y1 > py) != (y2 > py)
        x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < x_cross)
    return inside


def shoelace_area(polygon: Sequence[float]) -> float:
    xs = np.asarray(polygon[0::2], dtype=np.float64)
    ys = np.asarray(polygon[1::2], dtype=np.float64)
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2.0)


def star_polygon(
    rng: np.random.Generator, cx: float, cy: float, radius: float, vertices: int
) -> list[float]:
    xs, ys = star_points(rng, cx, cy, radius, vertices, 0.5)
    xs, ys = np.round(xs, 2), np.round(ys, 2)
    return [float(v) for pair in zip(xs, ys, strict=True) for v in pair]


def _grow(mask: np.ndarray, grow: bool) -> np.ndarray:
    neighbours = [shift_mask(mask, dx, dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    out = mask.copy()
    for other in neighbours:
        out = out | other if grow else out & other
    return out


# --------------------------------------------------------------------------------------------
# Scene
# --------------------------------------------------------------------------------------------


@dataclass
class Det:
    """One detection: ``box`` is its bbox result, ``mask`` its segm result."""

    image_id: int
    category_id: int
    score: float
    box: Box
    mask: np.ndarray


@dataclass
class GtObject:
    """A ground truth as the generators see it (to place detections near it)."""

    image_id: int
    category_id: int
    box: Box
    mask: np.ndarray
    iscrowd: int


@dataclass
class Scene:
    """Builder of one case. ``segm_bbox`` says which segm results carry ``bbox``:
    ``"none"``, ``"all"`` or ``"not_first"`` (every record but the first)."""

    images: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    dets: list[Det] = field(default_factory=list)
    objects: list[GtObject] = field(default_factory=list)
    segm_bbox: str = "none"
    next_ann_id: int = 1

    def add_categories(self, ids: Sequence[int]) -> None:
        """Categories in the given (deliberately not always sorted) order."""
        for cid in ids:
            self.categories.append(
                {"id": int(cid), "name": f"cat{int(cid)}", "supercategory": "thing"}
            )

    def add_image(self, image_id: int, width: int, height: int) -> int:
        self.images.append(
            {
                "id": int(image_id),
                "width": int(width),
                "height": int(height),
                "file_name": f"{int(image_id):012d}.jpg",
            }
        )
        return int(image_id)

    def size(self, image_id: int) -> tuple[int, int]:
        """``(height, width)`` of an image."""
        for image in self.images:
            if image["id"] == image_id:
                return image["height"], image["width"]
        raise KeyError(image_id)

    def _new_ann_id(self, ann_id: int | None) -> int:
        if ann_id is None:
            ann_id = self.next_ann_id
            self.next_ann_id += 1
        return int(ann_id)

    def add_gt(
        self,
        image_id: int,
        category_id: int,
        mask: np.ndarray,
        *,
        fmt: str = "rle",
        iscrowd: int = 0,
        area: float | None = None,
        bbox: Box | None = None,
        ann_id: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A ground truth given by its mask, stored as ``fmt`` = ``"rle"`` (uncompressed
        counts) or ``"rle_str"`` (compressed string)."""
        assert mask.shape == self.size(image_id), "mask must have the image size"
        segmentation = uncompressed_rle(mask) if fmt == "rle" else compressed_rle(mask)
        ann = {
            "id": self._new_ann_id(ann_id),
            "image_id": int(image_id),
            "category_id": int(category_id),
            "segmentation": segmentation,
            "area": int(mask.sum()) if area is None else area,
            "bbox": tight_bbox(mask) if bbox is None else bbox,
            "iscrowd": int(iscrowd),
            **extra,
        }
        self.annotations.append(ann)
        self.objects.append(GtObject(image_id, category_id, ann["bbox"], mask, int(iscrowd)))
        return ann

    def add_polygon_gt(
        self,
        image_id: int,
        category_id: int,
        polygons: Sequence[Sequence[float]],
        *,
        area: float | None = None,
        bbox: Box | None = None,
        ann_id: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A (non-crowd) ground truth given as one or more polygon parts."""
        height, width = self.size(image_id)
        parts = [[float(v) for v in poly] for poly in polygons]
        assert all(len(p) >= 6 and len(p) % 2 == 0 for p in parts)
        xs = [v for p in parts for v in p[0::2]]
        ys = [v for p in parts for v in p[1::2]]
        assert 0 <= min(xs) <= max(xs) <= width, "polygon outside the image"
        assert 0 <= min(ys) <= max(ys) <= height, "polygon outside the image"
        mask = np.zeros((height, width), dtype=bool)
        for poly in parts:
            mask |= polygon_mask(height, width, poly)
        box = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        ann = {
            "id": self._new_ann_id(ann_id),
            "image_id": int(image_id),
            "category_id": int(category_id),
            "segmentation": parts,
            "area": sum(shoelace_area(p) for p in parts) if area is None else area,
            "bbox": box if bbox is None else bbox,
            "iscrowd": 0,
            **extra,
        }
        self.annotations.append(ann)
        self.objects.append(GtObject(image_id, category_id, ann["bbox"], mask, 0))
        return ann

    def add_rect_gt(
        self, image_id: int, category_id: int, x: int, y: int, w: int, h: int, **kwargs: Any
    ) -> dict[str, Any]:
        """An integer rectangle; ``fmt="polygon"`` stores it as a 4-corner polygon."""
        if kwargs.get("fmt") == "polygon":
            kwargs.pop("fmt")
            return self.add_polygon_gt(image_id, category_id, [rect_polygon(x, y, w, h)], **kwargs)
        height, width = self.size(image_id)
        return self.add_gt(image_id, category_id, rect_mask(height, width, x, y, w, h), **kwargs)

    def add_det(
        self,
        image_id: int,
        category_id: int,
        score: float,
        *,
        box: Sequence[float] | None = None,
        mask: np.ndarray | None = None,
    ) -> Det:
        """A detection from a box (its mask is the box rounded outwards), a mask (its box is
        the tight box) or both."""
        height, width = self.size(image_id)
        if mask is None:
            assert box is not None
            x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
            x1, y1 = int(np.ceil(box[0] + box[2])), int(np.ceil(box[1] + box[3]))
            mask = rect_mask(height, width, x0, y0, x1 - x0, y1 - y0)
        assert mask.shape == (height, width), "mask must have the image size"
        assert mask.any(), "detection masks are never empty"
        det_box = tight_bbox(mask) if box is None else list(box)
        det = Det(int(image_id), int(category_id), score, det_box, mask)
        self.dets.append(det)
        return det

    def render(self, iou_type: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if iou_type not in ("bbox", "segm"):
            raise ValueError(iou_type)
        gt = {
            "info": {"description": "benchmark_eval generated parity case"},
            "images": copy.deepcopy(self.images),
            "annotations": copy.deepcopy(self.annotations),
            "categories": copy.deepcopy(self.categories),
        }
        results = []
        for i, det in enumerate(self.dets):
            res: dict[str, Any] = {"image_id": det.image_id, "category_id": det.category_id}
            with_box = iou_type == "bbox" or self.segm_bbox == "all"
            with_box = with_box or (self.segm_bbox == "not_first" and i > 0)
            if iou_type == "segm":
                res["segmentation"] = compressed_rle(det.mask)
            if with_box:
                res["bbox"] = list(det.box)
            res["score"] = det.score
            results.append(res)
        assert results, "pycocotools cannot load an empty results list"
        return gt, results


# --------------------------------------------------------------------------------------------
# Random building blocks
# --------------------------------------------------------------------------------------------


def _unique_scores(rng: np.random.Generator, n: int) -> list[float]:
    return [float(v) / 1e6 for v in rng.choice(np.arange(1, 1_000_000), size=n, replace=False)]


def _jitter_box(rng: np.random.Generator, box: Box, spread: float, size: tuple[int, int]) -> Box:
    height, width = size
    x, y, w, h = box
    x0 = x + rng.normal(0.0, spread * max(w, 1.0))
    y0 = y + rng.normal(0.0, spread * max(h, 1.0))
    x1 = x0 + w * float(np.exp(rng.normal(0.0, spread)))
    y1 = y0 + h * float(np.exp(rng.normal(0.0, spread)))
    x0, y0 = float(np.clip(x0, 0.0, width - 1.0)), float(np.clip(y0, 0.0, height - 1.0))
    x1, y1 = float(np.clip(x1, x0 + 1.0, width)), float(np.clip(y1, y0 + 1.0, height))
    x0, y0 = round(x0, 2), round(y0, 2)
    return [x0, y0, round(x1 - x0, 2), round(y1 - y0, 2)]


def _perturb_mask(rng: np.random.Generator, obj: GtObject, spread: float) -> np.ndarray:
    reach = max(1, round(spread * max(obj.box[2], obj.box[3])))
    dx, dy = (int(v) for v in rng.integers(-reach, reach + 1, size=2))
    mask = shift_mask(obj.mask, dx, dy)
    change = rng.integers(0, 3)
    if change == 1:
        mask = _grow(mask, grow=True)
    elif change == 2 and _grow(mask, grow=False).any():
        mask = _grow(mask, grow=False)
    return mask if mask.any() else obj.mask.copy()


def _det_near(
    scene: Scene, rng: np.random.Generator, obj: GtObject, category_id: int, score: float
) -> Det:
    spread = float(rng.choice([0.01, 0.03, 0.08, 0.2]))
    size = scene.size(obj.image_id)
    box = _jitter_box(rng, obj.box, spread, size)
    if not obj.mask.any():
        return scene.add_det(obj.image_id, category_id, score, box=box)
    mask = _perturb_mask(rng, obj, spread)
    return scene.add_det(obj.image_id, category_id, score, box=box, mask=mask)


def _random_det(
    scene: Scene, rng: np.random.Generator, image_id: int, category_id: int, score: float
) -> Det:
    height, width = scene.size(image_id)
    w = float(rng.uniform(2.0, width / 2.0))
    h = float(rng.uniform(2.0, height / 2.0))
    x = float(rng.uniform(0.0, width - w))
    y = float(rng.uniform(0.0, height - h))
    box = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
    mask = ellipse_mask(height, width, x + w / 2, y + h / 2, w / 2, h / 2)
    if not mask.any():
        mask = rect_mask(height, width, int(x), int(y), 1, 1)
    return scene.add_det(image_id, category_id, score, box=box, mask=mask)


def _random_polygon_gt(
    scene: Scene, rng: np.random.Generator, image_id: int, cid: int, parts: int, **kw: Any
) -> None:
    height, width = scene.size(image_id)
    polys = []
    for _ in range(parts):
        radius = float(rng.uniform(3.0, max(min(width, height) / (2.0 + parts), 4.0)))
        cx = float(rng.uniform(radius, width - radius))
        cy = float(rng.uniform(radius, height - radius))
        polys.append(star_polygon(rng, cx, cy, radius, int(rng.integers(5, 10))))
    scene.add_polygon_gt(image_id, cid, polys, **kw)


def _random_blob(rng: np.random.Generator, height: int, width: int, big: bool) -> np.ndarray:
    low, high = (0.2, 0.45) if big else (0.0, 0.2)
    rx = float(rng.uniform(max(low * width, 2.0), max(high * width, 2.5)))
    ry = float(rng.uniform(max(low * height, 2.0), max(high * height, 2.5)))
    cx = float(rng.uniform(rx, width - rx))
    cy = float(rng.uniform(ry, height - ry))
    if rng.random() < 0.5:
        return ellipse_mask(height, width, cx, cy, rx, ry)
    return rect_mask(height, width, int(cx - rx), int(cy - ry), int(2 * rx), int(2 * ry))


_GT_KINDS = (
    "polygon",
    "multipolygon",
    "rect_polygon",
    "rle",
    "rle_str",
    "large",
    "crowd",
    "border",
)
_GT_KIND_P = (0.28, 0.1, 0.1, 0.12, 0.12, 0.08, 0.12, 0.08)


def _random_gt(
    scene: Scene, rng: np.random.Generator, image_id: int, cid: int, quirks: bool
) -> None:
    height, width = scene.size(image_id)
    kind = str(rng.choice(_GT_KINDS, p=_GT_KIND_P))
    kw: dict[str, Any] = {}
    if quirks and rng.random() < 0.08:
        kw["ignore"] = int(rng.integers(0, 2))
    if quirks and rng.random() < 0.06:
        kw["area"] = round(float(rng.uniform(0.0, 12000.0)), 2)
    if kind in ("polygon", "multipolygon"):
        _random_polygon_gt(scene, rng, image_id, cid, 1 if kind == "polygon" else 2, **kw)
    elif kind == "rect_polygon":
        w, h = int(rng.integers(2, width // 2)), int(rng.integers(2, height // 2))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        scene.add_rect_gt(image_id, cid, x, y, w, h, fmt="polygon", **kw)
    elif kind == "border" and min(width, height) > 33:
        x, y = int(rng.integers(0, width - 32)), int(rng.integers(0, height - 32))
        scene.add_rect_gt(image_id, cid, x, y, 32, 32, fmt="polygon", **kw)
    else:
        mask = _random_blob(rng, height, width, big=kind in ("crowd", "large"))
        crowd = int(kind == "crowd")
        fmt = "rle_str" if kind == "rle_str" or (crowd and rng.random() < 0.4) else "rle"
        scene.add_gt(image_id, cid, mask, fmt=fmt, iscrowd=crowd, **kw)


def _random_dets(scene: Scene, rng: np.random.Generator, cat_ids: list[int]) -> None:
    for obj in list(scene.objects):
        for _ in range(int(rng.choice([0, 1, 1, 1, 2, 3]))):
            cid = obj.category_id if rng.random() < 0.9 else int(rng.choice(cat_ids))
            _det_near(scene, rng, obj, cid, 0.0)
    for image in scene.images:
        for _ in range(int(rng.integers(0, 4))):
            _random_det(scene, rng, image["id"], int(rng.choice(cat_ids)), 0.0)
    if not scene.dets:
        _random_det(scene, rng, scene.images[0]["id"], cat_ids[0], 0.0)


def _assign_scores(scene: Scene, rng: np.random.Generator, decimals: int | None) -> None:
    if decimals is None:
        scores = _unique_scores(rng, len(scene.dets))
    else:
        scores = [round(float(v), decimals) for v in rng.random(len(scene.dets))]
    for det, score in zip(scene.dets, scores, strict=True):
        det.score = score


def mixed_random(rng: np.random.Generator, *, quirks: bool = True) -> Scene:
    """A random scene over every feature. ``quirks=False`` leaves out everything that makes
    the package warn (score ties, annotation id 0, ``ignore`` fields, segm results with
    ``bbox``) and GT ``area`` fields that disagree with the mask."""
    scene = Scene()
    cat_ids = [int(c) for c in rng.choice(np.arange(1, 31), size=int(rng.integers(2, 6)))]
    cat_ids = list(dict.fromkeys(cat_ids))
    scene.add_categories(cat_ids)
    gt_cats = cat_ids[:-1] if len(cat_ids) > 1 and rng.random() < 0.3 else cat_ids
    decimals: int | None = None
    if quirks:
        scene.next_ann_id = 0 if rng.random() < 0.15 else int(rng.integers(1, 1000))
        decimals = int(rng.choice([2, 3, 6]))
        scene.segm_bbox = str(rng.choice(["none", "all", "not_first"], p=[0.5, 0.35, 0.15]))
    n_images = int(rng.integers(3, 8))
    for image_id in rng.choice(np.arange(1, 500), size=n_images, replace=False):
        width, height = (int(v) for v in rng.integers(40, 241, size=2))
        scene.add_image(int(image_id), width, height)
        for _ in range(int(rng.integers(0, 7))):
            _random_gt(scene, rng, int(image_id), int(rng.choice(gt_cats)), quirks)
    _random_dets(scene, rng, cat_ids)
    order = rng.permutation(len(scene.dets))
    scene.dets = [scene.dets[i] for i in order]
    _assign_scores(scene, rng, decimals)
    return scene


# --------------------------------------------------------------------------------------------
# Named nasty cases
# --------------------------------------------------------------------------------------------


def case_clean(rng: np.random.Generator) -> Scene:
    """Random scene without any warning-worthy feature (unique scores, ids from 1...)."""
    return mixed_random(rng, quirks=False)


def case_single(rng: np.random.Generator) -> Scene:
    """One image, one ground truth, one perfect detection."""
    scene = Scene()
    scene.add_categories([1])
    img = scene.add_image(1, 64, 48)
    scene.add_rect_gt(img, 1, 10, 8, 30, 20)
    scene.add_det(img, 1, float(rng.uniform(0.1, 0.9)), box=[10, 8, 30, 20])
    return scene


def case_no_gt_at_all(rng: np.random.Generator) -> Scene:
    """Categories and images but no annotation: every precision/recall entry is -1."""
    scene = Scene()
    scene.add_categories([2, 1])
    for image_id in (3, 1):
        scene.add_image(image_id, 50, 40)
    scores = _unique_scores(rng, 4)
    for i, score in enumerate(scores):
        scene.add_det((3, 1)[i % 2], 1 + i % 2, score, box=[2 + 5 * i, 3, 10, 12])
    return scene


def case_score_ties_within_image(rng: np.random.Generator) -> Scene:
    """Equal scores in one image and category: the input order decides, also at the
    maxDets cut (12 equal scores, true positives listed last)."""
    scene = Scene()
    scene.add_categories([2, 1])
    img = scene.add_image(7, 120, 100)
    for x in (5, 40, 80):
        scene.add_rect_gt(img, 1, x, 10, 20, 20)
    scene.add_det(img, 1, 0.5, box=[60, 60, 20, 20])  # FP listed before the TP of equal score
    scene.add_det(img, 1, 0.5, box=[5, 10, 20, 20])
    scene.add_det(img, 1, 0.7, box=[40, 10, 20, 20])  # two identical detections
    scene.add_det(img, 1, 0.7, box=[40, 10, 20, 20])
    scene.add_det(img, 1, 0.3, box=[80, 10, 20, 20])  # TP listed before the FP
    scene.add_det(img, 1, 0.3, box=[0, 70, 15, 15])
    img2 = scene.add_image(3, 100, 100)
    scene.add_rect_gt(img2, 2, 10, 10, 30, 30)
    scene.add_rect_gt(img2, 2, 60, 10, 30, 30)
    for _ in range(10):
        x, y = (int(v) for v in rng.integers(0, 80, size=2))
        scene.add_det(img2, 2, 0.9, box=[x, 50 + y // 4, 15, 15])
    scene.add_det(img2, 2, 0.9, box=[10, 10, 30, 30])
    scene.add_det(img2, 2, 0.9, box=[60, 10, 30, 30])
    img3 = scene.add_image(5, 60, 60)
    scene.add_rect_gt(img3, 1, 5, 5, 30, 30)
    scene.add_det(img3, 1, 1.0, box=[30, 30, 20, 20])  # maxDets=1 keeps the FP
    scene.add_det(img3, 1, 1.0, box=[5, 5, 30, 30])
    return scene


def case_score_ties_across_images(rng: np.random.Generator) -> Scene:
    """Equal scores in different images: accumulation orders them by image id (then input
    order), not by the order of the results list."""
    scene = Scene()
    scene.add_categories([1, 2])
    for image_id in (30, 10, 20):
        scene.add_image(image_id, 80, 60)
        scene.add_rect_gt(image_id, 1, 5, 5, 25, 25)
        scene.add_rect_gt(image_id, 2, 40, 20, 30, 30, fmt="polygon")
    jitter = float(rng.integers(0, 3))
    scene.add_det(30, 1, 0.6, box=[5, 5, 25, 25])  # TP
    scene.add_det(20, 1, 0.6, box=[50 + jitter, 5, 20, 10])  # FP
    scene.add_det(10, 1, 0.6, box=[45, 40, 20, 15])  # FP, first after sorting by image
    scene.add_det(20, 1, 0.6, box=[6, 5, 25, 25])  # TP
    scene.add_det(10, 1, 0.4, box=[5, 5, 25, 25])  # TP
    scene.add_det(30, 2, 0.6, box=[40, 20, 30, 30])
    scene.add_det(10, 2, 0.6, box=[0, 35, 20, 20])
    scene.add_det(20, 2, 0.6, box=[40, 20, 30, 28])
    scene.add_det(10, 2, 0.6, box=[40, 20, 30, 30])
    scene.add_det(30, 2, 0.6, box=[5, 5, 25, 25])  # ties across categories too
    return scene


def _crowd_scene(rng: np.random.Generator, fmt: str) -> Scene:
    scene = Scene()
    scene.add_categories([1, 2])
    img = scene.add_image(1, 160, 120)
    # crowd listed before the regular ground truths: evaluation sorts crowds last
    scene.add_gt(img, 1, ellipse_mask(120, 160, 60, 60, 40, 30), fmt=fmt, iscrowd=1)
    scene.add_rect_gt(img, 1, 50, 50, 24, 24, fmt="polygon")
    scene.add_rect_gt(img, 1, 120, 10, 30, 30)
    scene.add_det(img, 1, 0.9, box=[50, 50, 24, 24])  # TP on the regular GT inside the crowd
    scene.add_det(img, 1, 0.85, box=[51, 50, 24, 24])  # GT taken: falls back on the crowd
    for i, score in enumerate((0.8, 0.7, 0.6, 0.5)):  # several detections on one crowd
        scene.add_det(img, 1, score, box=[30 + 8 * i, 45 + 3 * i, 6 + i, 8])
    scene.add_det(img, 1, 0.65, box=[80, 50, 40, 20])  # about half inside the crowd
    scene.add_det(img, 1, 0.4, box=[120, 10, 30, 30])
    scene.add_det(img, 1, 0.75, box=[130, 90, 20, 20])  # FP
    img2 = scene.add_image(2, 90, 70)  # category 2 only has a crowd ground truth
    scene.add_gt(img2, 2, _random_blob(rng, 70, 90, big=True), fmt=fmt, iscrowd=1)
    for score in (0.9, 0.3, 0.2):
        scene.add_det(img2, 2, score, box=[30, 25, 10, 10])
    scene.add_det(img2, 2, 0.55, box=[0, 0, 5, 5])
    img3 = scene.add_image(3, 80, 80)
    scene.add_gt(img3, 1, rect_mask(80, 80, 0, 0, 80, 20), fmt=fmt, iscrowd=1)
    scene.add_rect_gt(img3, 1, 10, 40, 20, 20)
    scene.add_det(img3, 1, 0.95, box=[10, 30, 20, 30])  # overlaps regular GT and the crowd
    scene.add_det(img3, 1, 0.45, box=[60, 60, 15, 15])
    return scene


def case_crowd_uncompressed_rle(rng: np.random.Generator) -> Scene:
    """Crowd regions as uncompressed RLE (as in the COCO files), several detections on one."""
    return _crowd_scene(rng, "rle")


def case_crowd_compressed_rle(rng: np.random.Generator) -> Scene:
    """The same with the crowd regions as compressed RLE strings."""
    return _crowd_scene(rng, "rle_str")


def case_empty_images(rng: np.random.Generator) -> Scene:
    """Images without ground truth, without detections, with neither, only crowds."""
    scene = Scene()
    scene.add_categories([1, 2])
    for image_id in (5, 6, 7, 8, 9, 4):
        scene.add_image(image_id, 64, 64)
    scene.add_rect_gt(5, 1, 10, 10, 20, 20)  # GT only
    scores = iter(_unique_scores(rng, 8))
    scene.add_det(6, 1, next(scores), box=[10, 10, 20, 20])  # detections only
    scene.add_det(6, 2, next(scores), box=[30, 30, 20, 20])
    scene.add_rect_gt(8, 2, 20, 20, 30, 30, fmt="polygon")  # both
    scene.add_det(8, 2, next(scores), box=[21, 20, 30, 30])
    scene.add_det(8, 2, next(scores), box=[0, 0, 10, 10])
    scene.add_gt(9, 1, rect_mask(64, 64, 0, 0, 64, 32), iscrowd=1)  # only a crowd, no dets
    scene.add_det(4, 2, next(scores), box=[3, 3, 10, 10])  # only detections of category 2
    return scene


def case_category_presence(rng: np.random.Generator) -> Scene:
    """Categories (listed unsorted) in both / GT only / predictions only / neither, and one
    whose ground truth and predictions are in different images."""
    scene = Scene()
    scene.add_categories([5, 1, 4, 2, 3])
    a = scene.add_image(11, 80, 80)
    b = scene.add_image(12, 80, 80)
    scene.add_rect_gt(a, 1, 5, 5, 30, 30)
    scene.add_rect_gt(b, 1, 40, 40, 30, 30, fmt="polygon")
    scene.add_rect_gt(a, 2, 40, 5, 30, 30)
    scene.add_rect_gt(a, 5, 5, 40, 30, 30)
    scores = iter(_unique_scores(rng, 7))
    scene.add_det(a, 1, next(scores), box=[5, 5, 30, 28])
    scene.add_det(b, 1, next(scores), box=[40, 40, 30, 30])
    scene.add_det(a, 3, next(scores), box=[40, 5, 30, 30])
    scene.add_det(b, 3, next(scores), box=[0, 0, 20, 20])
    scene.add_det(b, 5, next(scores), box=[5, 40, 30, 30])  # same place, other image
    scene.add_det(b, 5, next(scores), box=[50, 5, 20, 20])
    scene.add_det(a, 1, next(scores), box=[50, 50, 20, 20])
    return scene


def case_pred_unlisted_category(rng: np.random.Generator) -> Scene:
    """Predictions of a category id missing from the GT's categories: pycocotools drops
    them (also when class-agnostic)."""
    scene = Scene()
    scene.add_categories([1, 2])
    img = scene.add_image(1, 80, 60)
    scene.add_rect_gt(img, 1, 5, 5, 30, 30)
    scene.add_rect_gt(img, 2, 40, 20, 30, 30)
    scores = iter(_unique_scores(rng, 5))
    scene.add_det(img, 9, 0.99, box=[5, 5, 30, 30])
    scene.add_det(img, 1, next(scores), box=[5, 5, 30, 30])
    scene.add_det(img, 9, next(scores), box=[40, 20, 30, 30])
    scene.add_det(img, 2, next(scores), box=[42, 20, 30, 30])
    scene.add_det(img, 2, next(scores), box=[0, 40, 15, 15])
    return scene


def case_area_borders(rng: np.random.Generator) -> Scene:
    """GT areas exactly 32**2 and 96**2 (in both neighbouring buckets), one pixel off, and
    unmatched detections whose area is exactly on, or one ulp off, a border."""
    scene = Scene()
    scene.add_categories([1])
    img = scene.add_image(1, 240, 220)
    scene.add_rect_gt(img, 1, 5, 5, 32, 32)  # area 1024 (int)
    scene.add_rect_gt(img, 1, 50, 5, 32, 32, fmt="polygon")  # area 1024.0
    scene.add_rect_gt(img, 1, 5, 60, 96, 96)  # 9216
    scene.add_rect_gt(img, 1, 110, 60, 96, 96, fmt="polygon")  # 9216.0
    scene.add_rect_gt(img, 1, 150, 5, 31, 33)  # 1023
    scene.add_rect_gt(img, 1, 190, 5, 25, 41)  # 1025
    scene.add_rect_gt(img, 1, 100, 160, 50, 50, area=1024.0000000000002)
    scene.add_rect_gt(img, 1, 160, 160, 50, 50, area=9215.999999999998)
    scores = iter(_unique_scores(rng, 24))
    matched: list[list[float]] = [
        [5, 5, 32, 32],
        [50, 5, 32, 32],
        [5, 60, 96, 96],
        [150, 5, 31, 33],
    ]
    for box in matched:
        scene.add_det(img, 1, next(scores), box=box)
    scene.add_det(img, 1, next(scores), box=[190, 5, 25, 41])
    scene.add_det(img, 1, next(scores), box=[100, 160, 50, 50])
    scene.add_det(img, 1, next(scores), box=[160, 160, 50, 50])
    img2 = scene.add_image(2, 240, 200)  # unmatched detections with border areas
    unmatched: tuple[list[float], ...] = (
        [0, 0, 32, 32],
        [40, 0, 16, 64],
        [60, 0, 31, 33],
        [100, 0, 25, 41],
        [0, 100, 96, 96],
        [100, 100, 97, 95],
        [130, 0, 10.24, 100.0],  # 1024.0 in floating point
        [150, 0, 25.6, 40.0],
    )
    for box in unmatched:
        scene.add_det(img2, 1, next(scores), box=box)
    img3 = scene.add_image(3, 240, 200)  # box areas one ulp off the borders (w * h in doubles)
    for box in (
        [0.0, 0.0, 5.12, 199.99999999999997],  # 1023.9999999999999
        [10, 0, 5.13, 199.61013645224176],  # 1024.0000000000002
        [20, 0, 46.08, 199.99999999999997],  # 9215.999999999998
        [70, 0, 46.09, 199.95660663918423],  # 9216.000000000002
    ):
        scene.add_det(img3, 1, next(scores), box=box)
    scene.add_rect_gt(img3, 1, 150, 150, 20, 20)
    return scene


def case_many_detections(rng: np.random.Generator) -> Scene:
    """More than 100 detections of one class in one image; true positives ranked around the
    cut at 100 (and 10, 1)."""
    scene = Scene()
    scene.add_categories([1, 2])
    img = scene.add_image(1, 200, 160)
    gt_boxes = [[10, 10, 30, 30], [60, 10, 30, 30], [110, 10, 30, 30], [160, 10, 30, 30]]
    for box in gt_boxes:
        scene.add_rect_gt(img, 1, *box)
    scene.add_rect_gt(img, 2, 10, 60, 40, 40)
    scores1 = sorted(_unique_scores(rng, 130), reverse=True)
    tp_rank = {0: 0, 99: 1, 100: 2, 120: 3}
    for rank, score in enumerate(scores1):
        if rank in tp_rank:
            scene.add_det(img, 1, score, box=gt_boxes[tp_rank[rank]])
        else:
            x, y = (int(v) for v in rng.integers(0, 190, size=2))
            scene.add_det(img, 1, score, box=[x, 50 + y // 2, 8, 8])
    scores2 = sorted(_unique_scores(rng, 101), reverse=True)
    for rank, score in enumerate(scores2):
        if rank == 100:
            scene.add_det(img, 2, score, box=[10, 60, 40, 40])
        else:
            x, y = (int(v) for v in rng.integers(60, 150, size=2))
            scene.add_det(img, 2, score, box=[x, y, 10, 10])
    img2 = scene.add_image(2, 80, 80)
    scene.add_rect_gt(img2, 1, 5, 5, 30, 30)
    scene.add_rect_gt(img2, 1, 40, 40, 30, 30)
    scene.add_det(img2, 1, 0.999999, box=[5, 5, 30, 30])
    scene.add_det(img2, 1, 0.5, box=[40, 40, 30, 25])
    scene.add_det(img2, 1, 0.0000005, box=[0, 40, 20, 20])
    order = rng.permutation(len(scene.dets))
    scene.dets = [scene.dets[i] for i in order]
    return scene


def case_annotation_id_zero(rng: np.random.Generator) -> Scene:
    """A ground truth with id 0: pycocotools records matches by id, so a detection matched to
    it counts as unmatched."""
    scene = Scene()
    scene.next_ann_id = 0
    scene.add_categories([1])
    img = scene.add_image(1, 100, 60)
    scene.add_rect_gt(img, 1, 5, 5, 30, 30)  # id 0
    scene.add_rect_gt(img, 1, 50, 5, 30, 30, fmt="polygon")
    scene.add_rect_gt(img, 1, 10, 40, 12, 12)
    scores = sorted(_unique_scores(rng, 5), reverse=True)
    scene.add_det(img, 1, scores[0], box=[5, 5, 30, 30])
    scene.add_det(img, 1, scores[1], box=[6, 6, 30, 30])
    scene.add_det(img, 1, scores[2], box=[50, 5, 30, 30])
    scene.add_det(img, 1, scores[3], box=[10, 40, 12, 12])
    scene.add_det(img, 1, scores[4], box=[70, 40, 20, 15])
    return scene


def case_ignore_field(rng: np.random.Generator) -> Scene:
    """Ground truths carrying ``ignore``: pycocotools replaces it by ``iscrowd``."""
    scene = Scene()
    scene.add_categories([1])
    img = scene.add_image(1, 120, 80)
    scene.add_rect_gt(img, 1, 5, 5, 30, 30, ignore=1)
    scene.add_gt(img, 1, rect_mask(80, 120, 40, 5, 30, 30), iscrowd=1, ignore=0)
    scene.add_rect_gt(img, 1, 80, 5, 30, 30, fmt="polygon", ignore=True)
    scene.add_rect_gt(img, 1, 5, 45, 30, 30, ignore=0)
    scores = iter(_unique_scores(rng, 5))
    for box in ([5, 5, 30, 30], [40, 5, 30, 30], [80, 5, 30, 30], [5, 45, 30, 30]):
        scene.add_det(img, 1, next(scores), box=box)
    scene.add_det(img, 1, next(scores), box=[60, 50, 20, 20])
    return scene


def _bbox_area_scene(rng: np.random.Generator) -> Scene:
    scene = Scene()
    scene.add_categories([1])
    img = scene.add_image(1, 220, 200)
    scene.add_rect_gt(img, 1, 5, 5, 40, 40)
    scene.add_polygon_gt(img, 1, [star_polygon(rng, 160, 150, 35, 7)])
    scores = iter(_unique_scores(rng, 8))
    scene.add_det(img, 1, next(scores), box=[5, 5, 40, 40])
    obj = scene.objects[1]
    scene.add_det(img, 1, next(scores), mask=obj.mask)
    # ellipses: mask area below a border, box area above it (box not tight: a detector box)
    for cx, cy, r, box in (
        (70, 30, 18, [51.5, 11.5, 37.0, 37.0]),
        (60, 140, 50, [9.0, 89.0, 102.0, 102.0]),
        (140, 30, 17.5, [122.0, 12.0, 35.0, 35.0]),
    ):
        mask = ellipse_mask(200, 220, cx, cy, r, r)
        scene.add_det(img, 1, next(scores), box=box, mask=mask)
    scene.add_det(img, 1, next(scores), box=[180, 5, 31, 33])
    return scene


def case_segm_results_with_bbox(rng: np.random.Generator) -> Scene:
    """segm results that carry ``bbox``: pycocotools takes their area from the box."""
    scene = _bbox_area_scene(rng)
    scene.segm_bbox = "all"
    return scene


def case_segm_results_bbox_not_first(rng: np.random.Generator) -> Scene:
    """Only later segm results carry ``bbox``: pycocotools looks at the first record only, so
    all areas come from the masks."""
    scene = _bbox_area_scene(rng)
    scene.segm_bbox = "not_first"
    return scene


def case_polygon_multipart(rng: np.random.Generator) -> Scene:
    """Polygon ground truths made of several parts (disjoint, touching, overlapping)."""
    scene = Scene()
    scene.add_categories([1, 2])
    img = scene.add_image(1, 160, 100)
    scene.add_polygon_gt(img, 1, [rect_polygon(5, 5, 20, 20), rect_polygon(40, 5, 20, 20)])
    scene.add_polygon_gt(
        img,
        1,
        [rect_polygon(5, 50, 20, 20), rect_polygon(25, 50, 20, 20), rect_polygon(35, 60, 20, 30)],
    )
    parts = [star_polygon(rng, 110, 30, 20, 8), star_polygon(rng, 130, 70, 15, 6)]
    scene.add_polygon_gt(img, 2, parts)
    scores = iter(_unique_scores(rng, 7))
    scene.add_det(img, 1, next(scores), box=[5, 5, 20, 20])  # one part only
    scene.add_det(img, 1, next(scores), box=[5, 5, 55, 20])  # both parts and the gap
    scene.add_det(img, 1, next(scores), box=[5, 50, 50, 40])
    for obj in scene.objects[2:]:
        scene.add_det(img, 2, next(scores), mask=obj.mask)
        _det_near(scene, rng, obj, 2, next(scores))
    scene.add_det(img, 2, next(scores), box=[90, 80, 15, 15])
    return scene


def case_rle_noncrowd(rng: np.random.Generator) -> Scene:
    """Non-crowd ground truths as uncompressed and compressed RLE, one starting at pixel
    (0, 0) (counts start with 0), one ending in the last pixel."""
    scene = Scene()
    scene.add_categories([1])
    img = scene.add_image(1, 90, 70)
    scene.add_gt(img, 1, rect_mask(70, 90, 0, 0, 25, 20), fmt="rle")
    scene.add_gt(img, 1, rect_mask(70, 90, 70, 50, 20, 20), fmt="rle")
    scene.add_gt(img, 1, ellipse_mask(70, 90, 45, 35, 15, 10), fmt="rle_str")
    scene.add_gt(img, 1, _random_blob(rng, 70, 90, big=False), fmt="rle_str")
    scores = iter(_unique_scores(rng, 8))
    for obj in list(scene.objects):
        _det_near(scene, rng, obj, 1, next(scores))
        scene.add_det(img, 1, next(scores), mask=obj.mask)
    return scene


def case_equal_iou_two_gts(rng: np.random.Generator) -> Scene:
    """A detection with the same IoU to two ground truths: the later one in evaluation order
    (non-ignored first, then annotation order) wins."""
    scene = Scene()
    scene.add_categories([1, 2])
    img = scene.add_image(1, 120, 100)
    scene.add_rect_gt(img, 1, 10, 10, 20, 20)  # A
    scene.add_rect_gt(img, 1, 14, 10, 20, 20)  # B, same IoU 18/22 with the first det
    scene.add_det(img, 1, 0.9, box=[12, 10, 20, 20])
    scene.add_det(img, 1, 0.8, box=[14, 10, 20, 20])  # exactly B: gets A (IoU 16/24) or nothing
    scene.add_rect_gt(img, 1, 60, 10, 20, 20)  # two identical ground truths
    scene.add_rect_gt(img, 1, 60, 10, 20, 20)
    scene.add_det(img, 1, 0.7, box=[60, 10, 20, 20])
    scene.add_det(img, 1, 0.6, box=[61, 10, 19, 20])
    # a crowd listed first with the same IoU as a regular ground truth: regular wins
    scene.add_gt(img, 1, rect_mask(100, 120, 10, 50, 20, 20), iscrowd=1)
    scene.add_rect_gt(img, 1, 10, 50, 20, 20)
    scene.add_det(img, 1, 0.5, box=[10, 50, 20, 20])
    scene.add_det(img, 1, 0.4, box=[10, 50, 20, 20])
    # category 2: equal IoU ties in the other category for class-agnostic evaluation
    scene.add_rect_gt(img, 2, 60, 50, 20, 20)
    scene.add_rect_gt(img, 1, 64, 50, 20, 20)
    scene.add_det(img, 2, 0.9, box=[62, 50, 20, 20])
    scene.add_det(img, 1, float(rng.choice([0.35, 0.95])), box=[62, 50, 20, 20])
    return scene


def case_iou_at_thresholds(rng: np.random.Generator) -> Scene:
    """Detections whose IoU is exactly k/20 (0.45 ... 1.0) with a 20x20 ground truth, and
    crowd overlaps of exactly 0.5."""
    scene = Scene()
    scene.add_categories([1])
    img = scene.add_image(1, 400, 80)
    heights = list(range(9, 21))
    scores = sorted(_unique_scores(rng, len(heights) + 2), reverse=True)
    order = rng.permutation(len(heights))
    for slot, k in enumerate(order):
        x = 5 + 32 * slot
        scene.add_rect_gt(img, 1, x, 5, 20, 20)
        scene.add_det(img, 1, scores[k], box=[x, 5, 20, heights[k]])
    scene.add_gt(img, 1, rect_mask(80, 400, 5, 40, 20, 20), iscrowd=1)
    scene.add_det(img, 1, scores[-2], box=[5, 40, 20, 40])  # inter / det area = 0.5
    scene.add_rect_gt(img, 1, 60, 40, 20, 20)
    scene.add_det(img, 1, scores[-1], box=[60, 40, 20, 20])
    return scene


def case_area_field_mismatch(rng: np.random.Generator) -> Scene:
    """GT ``area`` fields that disagree with the mask (pycocotools buckets by the field) and a
    stale GT ``bbox`` (used as is by bbox evaluation)."""
    scene = Scene()
    scene.add_categories([1])
    img = scene.add_image(1, 160, 120)
    scene.add_rect_gt(img, 1, 5, 5, 20, 20, area=2000.0)  # mask small, field medium
    scene.add_rect_gt(img, 1, 40, 5, 50, 50, fmt="polygon", area=500.0)  # medium, field small
    scene.add_rect_gt(img, 1, 100, 5, 40, 40, area=0.0)
    scene.add_rect_gt(img, 1, 10, 70, 30, 30, area=1e7)
    scene.add_rect_gt(img, 1, 60, 70, 30, 30, bbox=[55.0, 65.0, 50.0, 50.0])
    scores = iter(_unique_scores(rng, 7))
    for obj in list(scene.objects):
        scene.add_det(img, 1, next(scores), box=[float(v) for v in tight_bbox(obj.mask)])
    scene.add_det(img, 1, next(scores), box=[100, 70, 50, 45])
    scene.add_det(img, 1, next(scores), box=[140, 100, 15, 15])
    return scene


def case_class_mixup(rng: np.random.Generator) -> Scene:
    """Detections of the wrong class and equal scores across classes; ground truths of the
    higher category id listed first (class-agnostic evaluation orders by category id)."""
    scene = Scene()
    scene.add_categories([3, 1])
    img = scene.add_image(1, 100, 80)
    scene.add_rect_gt(img, 3, 10, 10, 20, 20)
    scene.add_rect_gt(img, 1, 14, 10, 20, 20)
    scene.add_rect_gt(img, 1, 50, 40, 30, 30, fmt="polygon")
    scene.add_det(img, 3, 0.8, box=[12, 10, 20, 20])
    scene.add_det(img, 1, 0.8, box=[12, 10, 20, 20])
    scene.add_det(img, 3, 0.8, box=[50, 40, 30, 30])
    scene.add_det(img, 1, 0.5, box=[51, 40, 30, 30])
    scene.add_det(img, 1, float(rng.choice([0.2, 0.9])), box=[70, 5, 20, 20])
    return scene


NASTY_CASES: dict[str, Callable[[np.random.Generator], Scene]] = {
    "clean": case_clean,
    "single": case_single,
    "no_gt_at_all": case_no_gt_at_all,
    "score_ties_within_image": case_score_ties_within_image,
    "score_ties_across_images": case_score_ties_across_images,
    "crowd_uncompressed_rle": case_crowd_uncompressed_rle,
    "crowd_compressed_rle": case_crowd_compressed_rle,
    "empty_images": case_empty_images,
    "category_presence": case_category_presence,
    "pred_unlisted_category": case_pred_unlisted_category,
    "area_borders": case_area_borders,
    "many_detections": case_many_detections,
    "annotation_id_zero": case_annotation_id_zero,
    "ignore_field": case_ignore_field,
    "segm_results_with_bbox": case_segm_results_with_bbox,
    "segm_results_bbox_not_first": case_segm_results_bbox_not_first,
    "polygon_multipart": case_polygon_multipart,
    "rle_noncrowd": case_rle_noncrowd,
    "equal_iou_two_gts": case_equal_iou_two_gts,
    "iou_at_thresholds": case_iou_at_thresholds,
    "area_field_mismatch": case_area_field_mismatch,
    "class_mixup": case_class_mixup,
}

CASE_NAMES: tuple[str, ...] = tuple(NASTY_CASES)


def make_case(
    name: str, iou_type: str, seed: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(gt_dict, results_list)`` of a named case (or ``"mixed"``) for ``"bbox"``/``"segm"``.

    The scene depends on ``name`` and ``seed`` only, so bbox and segm see the same objects.
    """
    rng = np.random.default_rng(seed)
    scene = mixed_random(rng) if name == "mixed" else NASTY_CASES[name](rng)
    return scene.render(iou_type)
