"""Write the tiny COCO instance sample in ``data_samples/coco/`` (seeded, reproducible).

Usage::

    python data_samples/make_samples.py            # writes data_samples/coco/*.json
    python data_samples/make_samples.py OUT_DIR    # writes OUT_DIR/*.json

Only numpy and ``pycocotools.mask`` are used. Ground-truth masks are rasterised by
pycocotools itself (``frPyObjects`` + ``merge``), so ``area`` and ``bbox`` agree with what
the official tools see. See ``data_samples/README.md`` for what the files contain.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import synth  # noqa: E402

SEED = 20240601
OUT_DIR = HERE / "coco"

CATEGORIES = [
    {"id": 1, "name": "person", "supercategory": "person"},
    {"id": 2, "name": "bicycle", "supercategory": "vehicle"},
    {"id": 3, "name": "car", "supercategory": "vehicle"},
    {"id": 18, "name": "dog", "supercategory": "animal"},
]

# (id, height, width); image 6 has no annotations
IMAGES = [(1, 120, 160), (2, 96, 128), (3, 200, 150), (4, 64, 64), (5, 150, 200), (6, 80, 100)]

# Ground-truth objects: (image id, category id, kind, geometry).
#   "poly":  convex polygon, (cx, cy, radius)
#   "rect":  rectangle polygon, (x, y, w, h)
#   "multi": an object in two parts (occluded), ((cx, cy, r), (x, y, w, h))
#   "crowd": crowd region stored as uncompressed RLE, (x, y, w, h) with ragged edges
OBJECTS: list[tuple[int, int, str, tuple[Any, ...]]] = [
    (1, 1, "poly", (40.0, 60.0, 22.0)),
    (1, 1, "poly", (70.0, 55.0, 18.0)),  # overlaps the first person
    (1, 18, "rect", (100.0, 80.0, 40.0, 25.0)),
    (2, 3, "multi", ((40.0, 40.0, 20.0), (75.0, 30.0, 22.0, 18.0))),
    (2, 2, "poly", (100.0, 70.0, 14.0)),
    (3, 3, "rect", (10.0, 30.0, 125.0, 110.0)),  # large (> 96^2 pixels)
    (3, 1, "poly", (120.0, 170.0, 12.0)),
    (4, 18, "poly", (30.0, 32.0, 8.0)),  # small (< 32^2 pixels)
    (5, 1, "crowd", (20.0, 40.0, 110.0, 70.0)),
    (5, 1, "poly", (165.0, 60.0, 15.0)),
    (5, 2, "rect", (150.0, 100.0, 35.0, 30.0)),
]


def _ground_truth(rng: np.random.Generator) -> tuple[dict[str, Any], list[np.ndarray]]:
    sizes = {i: (h, w) for i, h, w in IMAGES}
    annotations, masks = [], []
    for image_id, cat, kind, geo in OBJECTS:
        h, w = sizes[image_id]
        if kind == "crowd":
            x, y, bw, bh = (int(v) for v in geo)
            mask = synth.rect_mask(h, w, x, y, bw, bh)
            ragged = rng.random((h, w)) < 0.3  # fray the border
            mask[y : y + 3, x : x + bw] &= ragged[y : y + 3, x : x + bw]
            seg: Any = {"size": [h, w], "counts": synth.uncompressed_counts(mask)}
        else:
            parts = synth.object_parts(rng, kind, geo)
            mask = synth.polygons_mask(parts, h, w)
            seg = parts
        annotations.append(synth.mask_annotation(len(annotations) + 1, image_id, cat, seg, mask,
                                           iscrowd=int(kind == "crowd")))
        masks.append(mask)
    images = [{"id": i, "file_name": f"{i:012d}.jpg", "height": h, "width": w}
              for i, h, w in IMAGES]
    return synth.dataset("benchmark_eval tiny COCO sample (synthetic)", images, annotations,
                   CATEGORIES), masks


def _detections(rng: np.random.Generator, gt: dict[str, Any],
                masks: list[np.ndarray]) -> list[tuple[int, int, np.ndarray, float]]:
    """(image id, category id, mask, score) per detection."""
    dets = []
    for ann, mask in zip(gt["annotations"], masks, strict=True):
        if ann["id"] == 5:  # the bicycle on image 2 is missed
            continue
        dx, dy = (int(v) for v in rng.integers(-3, 4, size=2))
        score = round(float(rng.uniform(0.3, 0.95)), 3)
        dets.append((ann["image_id"], ann["category_id"], synth.roll_mask(mask, dx, dy), score))
    # a duplicate of the first person, lower score (a false positive once the first matched)
    dets.append((1, 1, synth.roll_mask(masks[0], 5, 4), 0.25))
    # a tie: a second detection with exactly the score of the car on image 3
    car_score = next(d[3] for d in dets if d[0] == 3 and d[1] == 3)
    dets.append((3, 3, synth.rect_mask(200, 150, 20, 150, 40, 40), car_score))
    # false positives: a dog on the empty image 6 and a wrong class on image 4
    empty = np.zeros((80, 100), dtype=bool)
    empty[20:45, 30:70] = True
    dets.append((6, 18, empty, 0.6))
    dets.append((4, 1, synth.roll_mask(masks[7], 1, 0), 0.4))
    order = rng.permutation(len(dets))
    return [dets[i] for i in order]


def make(out_dir: Path = OUT_DIR) -> list[Path]:
    """Write ``instances.json``, ``results_segm.json`` and ``results_bbox.json``."""
    return synth.write_sample(out_dir, "instances.json", SEED, _ground_truth, _detections, 0.8)


if __name__ == "__main__":
    synth.main(make, OUT_DIR)
