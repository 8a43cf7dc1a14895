"""Seeded COCO panoptic cases with the corner cases of panopticapi's ``pq_compute``.

Each case is a set of images, each a ground-truth and a predicted segment-id map painted
from rectangles (so every pixel count below is exact and worked by hand), plus the
``segments_info`` tables. :func:`write_case` writes the COCO panoptic files: ``gt.json`` +
``gt/`` and ``pred.json`` + ``pred/`` (the folders panopticapi derives from the JSON names).

Hand-made cases (per-image pixel counts in comments):

* ``iou_exactly_half``: IoU exactly 0.5 (not a match: FP + FN) next to IoU 51/100 (a match).
* ``void_half``: unmatched predictions with exactly 50 % (counted FP) and 51 % (ignored) of
  their pixels on VOID.
* ``crowd``: predictions over a crowd region of their own class (ignored) and of another
  class (FP); one half on VOID and half on the crowd (together > 50 %: ignored).
* ``two_crowds``: two crowd regions of one class; only the last listed one can hide a
  prediction (panopticapi keeps one crowd segment per category in a dict).
* ``category_presence``: categories only in the ground truth, only in predictions, in
  neither (left out of N), thing and stuff.
* ``void_bleed``: a stuff prediction spilling over GT VOID (removed from the union) and
  over another segment.
* ``large_ids``: segment ids above 65535, up to 256³ - 1, on both sides.
* ``area_differs``: ground-truth JSON areas that differ from the PNG's pixel counts
  (panopticapi uses the JSON's in the union).
* ``empty_images``: an all-VOID prediction and an all-VOID ground truth.
* ``random``: seeded scenes of random rectangles mixing everything above.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from synth import ids_to_rgb, pixel_box

# (id, name, isthing): a COCO-like subset with gapped ids, things and stuff
CATEGORIES: tuple[tuple[int, str, int], ...] = (
    (1, "person", 1), (2, "bicycle", 1), (3, "car", 1), (18, "dog", 1), (44, "bottle", 1),
    (92, "banner", 0), (118, "floor-wood", 0), (184, "tree-merged", 0), (187, "sky", 0),
    (199, "wall-other", 0),
)


@dataclass
class Side:
    """One side (ground truth or prediction) of one image."""

    id_map: np.ndarray
    segments: list[dict[str, Any]] = field(default_factory=list)

    def paint(self, sid: int, category: int, *rects: tuple[int, int, int, int],
              crowd: int = 0, area: int | None = None) -> None:
        """Paint rectangles ``(y0, y1, x0, x1)`` with segment ``sid`` and list it.

        Args:
            area: JSON area; default: the segment's pixel count after painting.
        """
        for y0, y1, x0, x1 in rects:
            self.id_map[y0:y1, x0:x1] = sid
        self.segments.append({"id": sid, "category_id": category, "iscrowd": crowd,
                              "_area": area})


@dataclass
class Image_:
    """One image of a case."""

    image_id: int
    gt: Side
    pred: Side


def _image(image_id: int, h: int, w: int) -> Image_:
    return Image_(image_id, Side(np.zeros((h, w), np.int64)), Side(np.zeros((h, w), np.int64)))


def _finish(side: Side) -> list[dict[str, Any]]:
    """segments_info: drop ids painted over completely, fill areas and boxes."""
    out = []
    for s in side.segments:
        mask = side.id_map == s["id"]
        if not mask.any():
            continue
        area = int(mask.sum()) if s["_area"] is None else s["_area"]
        out.append({"id": s["id"], "category_id": s["category_id"], "iscrowd": s["iscrowd"],
                    "area": area, "bbox": pixel_box(mask)})
    return out


# ------------------------------------------------------------------------- hand-made cases


def iou_exactly_half(rng: np.random.Generator) -> list[Image_]:
    im = _image(1, 40, 60)
    # GT 10x10 = 100 px; prediction 5x10 = 50 px inside it: I=50, U=100+50-50=100 -> 0.5
    im.gt.paint(101, 1, (0, 10, 0, 10))
    im.pred.paint(201, 1, (0, 5, 0, 10))
    # GT 100 px; prediction 51 px inside (5 rows + 1 px): I=51, U=100 -> 0.51 > 0.5
    im.gt.paint(102, 1, (20, 30, 0, 10))
    im.pred.paint(202, 1, (20, 25, 0, 10), (25, 26, 0, 1))
    # stuff: GT 20x20 = 400 px, prediction 200 px inside + 200 px on VOID: the VOID part
    # leaves the union, I=200, U=400+400-200-200=400 -> exactly 0.5 again
    im.gt.paint(103, 187, (0, 20, 30, 50))
    im.pred.paint(203, 187, (10, 20, 30, 50), (20, 30, 30, 50))
    return [im]


def void_half(rng: np.random.Generator) -> list[Image_]:
    im = _image(2, 30, 40)
    im.gt.paint(11, 3, (0, 10, 0, 10))
    # unmatched car prediction: 20 px on GT segment 11 (other class), 20 px on VOID:
    # exactly 50 % on VOID -> a false positive
    im.pred.paint(21, 18, (8, 10, 0, 10), (10, 12, 0, 10))
    # 20 px on VOID + 19 px on GT segment 12 (other class): 20/39 > 50 % -> ignored
    im.gt.paint(12, 3, (20, 30, 0, 10))
    im.pred.paint(22, 44, (18, 20, 0, 10), (20, 22, 0, 9), (22, 23, 0, 1))
    # a 1-pixel prediction entirely on VOID: ignored
    im.pred.paint(23, 2, (15, 16, 30, 31))
    return [im]


def crowd(rng: np.random.Generator) -> list[Image_]:
    im = _image(3, 40, 60)
    im.gt.paint(31, 1, (0, 20, 0, 20), crowd=1)  # crowd of persons, 400 px
    im.gt.paint(32, 1, (25, 35, 0, 10))  # a person, 100 px
    # person prediction 100 px: 60 on the person crowd, 40 on VOID -> ignored
    im.pred.paint(41, 1, (14, 20, 0, 10), (20, 24, 0, 10))
    # dog prediction on the person crowd (other class): 100 px, 100 on crowd -> FP
    im.pred.paint(42, 18, (0, 10, 10, 20))
    # person prediction: 30 px on the crowd + 25 on VOID + 45 on a wall: 55 % -> ignored
    im.gt.paint(33, 199, (0, 40, 40, 60))
    im.pred.paint(43, 1, (10, 13, 10, 20), (10, 15, 20, 25), (0, 9, 40, 45))
    # person prediction matching the person GT well: 90 px inside -> TP
    im.pred.paint(44, 1, (25, 34, 0, 10))
    # a crowd is never a false negative and never matched: a prediction equal to it
    im.gt.paint(34, 3, (30, 40, 20, 30), crowd=1)
    im.pred.paint(45, 3, (30, 40, 20, 30))
    return [im]


def two_crowds(rng: np.random.Generator) -> list[Image_]:
    im = _image(4, 30, 60)
    im.gt.paint(51, 1, (0, 10, 0, 10), crowd=1)  # listed first: forgotten by the dict
    im.gt.paint(52, 1, (0, 10, 20, 30), crowd=1)  # listed last: the one kept
    # prediction covering the first crowd: 100 px on a crowd the official code forgot -> FP
    im.pred.paint(61, 1, (0, 10, 0, 10))
    # prediction covering the last crowd -> ignored
    im.pred.paint(62, 1, (0, 10, 20, 30))
    # the same image with the crowd segments listed the other way round
    im2 = _image(5, 30, 60)
    im2.gt.paint(52, 1, (0, 10, 20, 30), crowd=1)
    im2.gt.paint(51, 1, (0, 10, 0, 10), crowd=1)
    im2.pred.paint(61, 1, (0, 10, 0, 10))
    im2.pred.paint(62, 1, (0, 10, 20, 30))
    return [im, im2]


def category_presence(rng: np.random.Generator) -> list[Image_]:
    im = _image(6, 30, 60)
    im.gt.paint(71, 2, (0, 10, 0, 10))  # bicycle: only in GT -> FN
    im.pred.paint(81, 44, (0, 10, 20, 30))  # bottle: only predicted -> FP
    im.gt.paint(72, 118, (15, 30, 0, 60))  # floor-wood: only in GT (stuff)
    im.pred.paint(82, 92, (15, 30, 0, 60))  # banner: only predicted (stuff)
    # car, dog, tree-merged, sky, wall-other, person: in neither -> out of N
    return [im]


def void_bleed(rng: np.random.Generator) -> list[Image_]:
    im = _image(7, 40, 40)
    im.gt.paint(91, 187, (0, 20, 0, 40))  # sky 800 px; rows 20-24 are VOID
    im.gt.paint(92, 184, (25, 40, 0, 40))  # tree 600 px
    # sky prediction: all 800 sky px + 200 VOID px + 80 tree px
    im.pred.paint(93, 187, (0, 25, 0, 40), (25, 27, 0, 40))
    # I=800, U=1080+800-800-200=880 -> 0.909
    im.pred.paint(94, 184, (27, 40, 0, 40))  # tree 520 px: I=520, U=520+600-520 -> 0.867
    return [im]


def large_ids(rng: np.random.Generator) -> list[Image_]:
    im = _image(8, 30, 30)
    im.gt.paint(65535, 1, (0, 10, 0, 10))
    im.gt.paint(65536, 1, (10, 20, 0, 10))
    im.gt.paint(256**3 - 1, 187, (20, 30, 0, 30))
    im.pred.paint(256**3 - 2, 1, (0, 10, 0, 9))
    im.pred.paint(65537 * 255, 1, (10, 20, 0, 10))
    im.pred.paint(1, 187, (20, 30, 0, 29))
    im.pred.paint(256**2, 187, (0, 10, 20, 30))
    return [im]


def area_differs(rng: np.random.Generator) -> list[Image_]:
    im = _image(9, 30, 30)
    # JSON says 60 px, PNG has 100: I=55, U=55+60-55=60 -> 0.917
    im.gt.paint(111, 1, (0, 10, 0, 10), area=60)
    im.pred.paint(121, 1, (0, 5, 0, 10), (5, 6, 0, 5))
    # JSON says 300 px, PNG has 100: I=100, U=100+300-100=300 -> 0.333, no match
    im.gt.paint(112, 187, (10, 20, 0, 10), area=300)
    im.pred.paint(122, 187, (10, 20, 0, 10))
    return [im]


def empty_images(rng: np.random.Generator) -> list[Image_]:
    a = _image(10, 20, 20)
    a.gt.paint(131, 1, (0, 10, 0, 10))
    a.gt.paint(132, 199, (10, 20, 0, 20))  # prediction all VOID: two FN
    b = _image(11, 20, 20)
    b.pred.paint(141, 199, (0, 20, 0, 20))  # ground truth all VOID: prediction ignored
    return [a, b]


def random_case(rng: np.random.Generator, n_images: int = 6) -> list[Image_]:
    """Random rectangles: stuff bands, things, crowds, VOID, shifted/relabelled predictions."""
    things = [c for c, _, t in CATEGORIES if t]
    stuff = [c for c, _, t in CATEGORIES if not t]
    out = []
    for k in range(n_images):
        h, w = (int(v) for v in rng.integers(24, 64, 2))
        im = _image(100 + k, h, w)
        taken = set()

        def new_id(taken: set[int] = taken) -> int:
            while True:
                sid = int(rng.choice([rng.integers(1, 256), rng.integers(1, 256**3)]))
                if sid not in taken:
                    taken.add(sid)
                    return sid

        for side, jitter in ((im.gt, 0), (im.pred, 1)):
            rr = np.random.default_rng([int(rng.integers(1 << 30)), k])
            bands = np.sort(rr.choice(np.arange(1, h), size=min(2, h - 1), replace=False))
            for y0, y1 in zip([0, *bands.tolist()], [*bands.tolist(), h], strict=True):
                side.paint(new_id(), int(rr.choice(stuff)), (y0, y1, 0, w))
            for _ in range(int(rr.integers(2, 7))):
                y0, x0 = int(rr.integers(0, h - 4)), int(rr.integers(0, w - 4))
                y1, x1 = y0 + int(rr.integers(3, h // 2)), x0 + int(rr.integers(3, w // 2))
                side.paint(new_id(), int(rr.choice(things)), (y0, y1, x0, x1),
                           crowd=int(jitter == 0 and rr.random() < 0.15))
            if rr.random() < 0.7:  # VOID patch
                y0, x0 = int(rr.integers(0, h - 2)), int(rr.integers(0, w - 2))
                side.id_map[y0:y0 + int(rr.integers(2, 12)), x0:x0 + int(rr.integers(2, 12))] = 0
        # make predictions partly agree: copy some GT segments, shifted by a pixel or two
        for s in im.gt.segments:
            if s["iscrowd"] or rng.random() < 0.4:
                continue
            mask = im.gt.id_map == s["id"]
            dy, dx = (int(v) for v in rng.integers(-2, 3, 2))
            mask = np.roll(mask, (dy, dx), axis=(0, 1))
            sid = new_id()
            im.pred.id_map[mask] = sid
            cat = s["category_id"] if rng.random() < 0.9 else int(rng.choice(things))
            im.pred.segments.append({"id": sid, "category_id": cat, "iscrowd": 0,
                                     "_area": None})
        out.append(im)
    return out


CASES: dict[str, Callable[[np.random.Generator], list[Image_]]] = {
    "iou_exactly_half": iou_exactly_half,
    "void_half": void_half,
    "crowd": crowd,
    "two_crowds": two_crowds,
    "category_presence": category_presence,
    "void_bleed": void_bleed,
    "large_ids": large_ids,
    "area_differs": area_differs,
    "empty_images": empty_images,
    "random": random_case,
}
CASE_NAMES = tuple(CASES)


def make_case(name: str, seed: int = 0) -> list[Image_]:
    """The images of a named case (``random`` depends on the seed)."""
    return CASES[name](np.random.default_rng(seed))


def categories_json(isthing_only: bool | None = None) -> list[dict[str, Any]]:
    """The category records (optionally only things or only stuff)."""
    return [{"id": c, "name": n, "isthing": t, "supercategory": n, "color": [c, c, c]}
            for c, n, t in CATEGORIES if isthing_only is None or bool(t) == isthing_only]


def write_case(images: list[Image_], root: Path,
               categories: list[dict[str, Any]] | None = None) -> tuple[Path, Path]:
    """Write ``gt.json`` + ``gt/*.png`` and ``pred.json`` + ``pred/*.png`` under ``root``."""
    categories = categories if categories is not None else categories_json()
    docs: dict[str, dict[str, Any]] = {}
    for name in ("gt", "pred"):
        (root / name).mkdir(parents=True, exist_ok=True)
        anns = []
        for im in images:
            side = im.gt if name == "gt" else im.pred
            file_name = f"{im.image_id:012d}.png"
            Image.fromarray(ids_to_rgb(side.id_map)).save(root / name / file_name)
            anns.append({"image_id": im.image_id, "file_name": file_name,
                         "segments_info": _finish(side)})
        docs[name] = {"annotations": anns}
    h_w = {im.image_id: im.gt.id_map.shape for im in images}
    docs["gt"]["images"] = [{"id": i, "height": h, "width": w, "file_name": f"{i:012d}.jpg"}
                            for i, (h, w) in h_w.items()]
    docs["gt"]["categories"] = categories
    for name, doc in docs.items():
        (root / f"{name}.json").write_text(json.dumps(doc))
    return root / "gt.json", root / "pred.json"
