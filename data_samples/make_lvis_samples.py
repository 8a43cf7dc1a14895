"""Write the tiny LVIS sample in ``data_samples/lvis/`` (seeded, reproducible).

Usage::

    python data_samples/make_lvis_samples.py            # writes data_samples/lvis/*.json
    python data_samples/make_lvis_samples.py OUT_DIR    # writes OUT_DIR/*.json

Only numpy and ``pycocotools.mask`` are used; GT masks are rasterised by pycocotools itself,
so ``area`` and ``bbox`` agree with what lvis-api sees. What the sample exercises:

* 6 images, 8 categories in the three frequency groups (``r``, ``c``, ``f``); one GT with
  ``ignore: 1``; objects in every area range (one large, > 96² px); a two-part polygon;
* ``neg_category_ids`` on every image but one, ``not_exhaustive_category_ids`` on two;
* detections: a TP for most objects (one missed), a duplicate, an FP of a negative-listed
  category (counted), detections of categories neither annotated nor negative on their image
  (dropped by the federated filter), unmatched detections of not-exhaustive categories
  (ignored), a detection on the ignored GT (ignored);
* image 6 has 305 detections: LVIS keeps its 300 best; the apple TP there has exactly the
  300th score but comes last in the file, so the stable cut drops it (a ``score-ties``
  warning is reported).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import synth  # noqa: E402

SEED = 20240715
OUT_DIR = HERE / "lvis"

CATEGORIES = [
    {"id": 1, "name": "apple", "synset": "apple.n.01", "frequency": "f"},
    {"id": 2, "name": "bagel", "synset": "bagel.n.01", "frequency": "c"},
    {"id": 3, "name": "banana", "synset": "banana.n.02", "frequency": "f"},
    {"id": 4, "name": "cider", "synset": "cider.n.01", "frequency": "r"},
    {"id": 5, "name": "dog", "synset": "dog.n.01", "frequency": "f"},
    {"id": 6, "name": "egg_roll", "synset": "egg_roll.n.01", "frequency": "r"},
    {"id": 7, "name": "ferret", "synset": "ferret.n.02", "frequency": "c"},
    {"id": 8, "name": "gondola", "synset": "gondola.n.02", "frequency": "r"},  # never annotated
]

# (id, height, width, neg_category_ids, not_exhaustive_category_ids)
IMAGES: list[tuple[int, int, int, list[int], list[int]]] = [
    (1, 120, 160, [2, 4], []),
    (2, 150, 200, [5], [3]),  # banana not exhaustive
    (3, 96, 128, [1, 7], []),
    (4, 200, 150, [], []),
    (5, 64, 64, [3, 6], [5]),  # dog not exhaustive
    (6, 80, 100, [2], []),  # 305 detections
]

# Ground-truth objects: (image id, category id, kind, geometry, ignore)
#   "poly": convex polygon (cx, cy, radius); "rect": (x, y, w, h);
#   "multi": two parts ((cx, cy, r), (x, y, w, h))
OBJECTS: list[tuple[int, int, str, tuple[Any, ...], int]] = [
    (1, 1, "poly", (40.0, 60.0, 22.0), 0),
    (1, 1, "poly", (75.0, 55.0, 16.0), 0),
    (1, 5, "rect", (100.0, 70.0, 45.0, 30.0), 0),
    (2, 3, "rect", (10.0, 20.0, 60.0, 40.0), 0),
    (2, 3, "poly", (120.0, 50.0, 15.0), 0),  # missed
    (2, 7, "multi", ((150.0, 110.0, 18.0), (172.0, 80.0, 20.0, 15.0)), 0),
    (3, 2, "poly", (60.0, 50.0, 20.0), 0),
    (3, 4, "rect", (90.0, 60.0, 25.0, 20.0), 0),
    (4, 5, "rect", (10.0, 20.0, 120.0, 130.0), 0),  # large (> 96^2 px)
    (4, 6, "poly", (110.0, 170.0, 10.0), 0),
    (4, 1, "poly", (40.0, 170.0, 12.0), 1),  # ignore: 1
    (5, 5, "poly", (30.0, 30.0, 10.0), 0),
    (6, 7, "rect", (20.0, 20.0, 30.0, 25.0), 0),
    (6, 1, "poly", (70.0, 55.0, 12.0), 0),
]
MISSED = (5,)  # annotation ids without a detection


def _ground_truth(rng: np.random.Generator) -> tuple[dict[str, Any], list[np.ndarray]]:
    sizes = {i: (h, w) for i, h, w, _, _ in IMAGES}
    annotations, masks = [], []
    for image_id, cat, kind, geo, ignore in OBJECTS:
        h, w = sizes[image_id]
        parts = synth.object_parts(rng, kind, geo)
        mask = synth.polygons_mask(parts, h, w)
        ann = synth.mask_annotation(len(annotations) + 1, image_id, cat, parts, mask)
        if ignore:
            ann["ignore"] = 1
        annotations.append(ann)
        masks.append(mask)
    images = [{"id": i, "height": h, "width": w, "file_name": f"{i:012d}.jpg",
               "neg_category_ids": neg, "not_exhaustive_category_ids": nel}
              for i, h, w, neg, nel in IMAGES]
    return synth.dataset("benchmark_eval tiny LVIS sample (synthetic)", images, annotations,
                   CATEGORIES), masks


Det = tuple[int, int, np.ndarray, float]


def _crowded_image(rng: np.random.Generator, masks: list[np.ndarray]) -> list[Det]:
    """Image 6: the ferret TP, 303 low-score detections, then the apple TP tied at the cut."""
    h, w = 80, 100
    dets: list[Det] = [(6, 7, synth.roll_mask(masks[12], 1, 1), 0.9)]
    for _ in range(303):
        x, y = (int(v) for v in rng.integers(0, 90, size=2))
        cat = 8 if rng.random() < 0.7 else 2  # gondola: not federated; bagel: negative, an FP
        dets.append((6, cat, synth.rect_mask(h, w, min(x, 92), min(y, 72), 8, 8),
                     round(float(rng.uniform(0.05, 0.3)), 2)))
    scores = sorted((d[3] for d in dets), reverse=True)
    # ranked after its ties: cut
    dets.append((6, 1, synth.roll_mask(masks[13], -1, 0), scores[299]))
    return dets


def _detections(rng: np.random.Generator, gt: dict[str, Any],
                masks: list[np.ndarray]) -> list[Det]:
    """(image id, category id, mask, score) per detection, in results-file order."""
    dets: list[Det] = []
    for ann, mask in zip(gt["annotations"], masks, strict=True):
        if ann["id"] in MISSED or ann["image_id"] == 6:
            continue
        dx, dy = (int(v) for v in rng.integers(-2, 3, size=2))
        dets.append((ann["image_id"], ann["category_id"], synth.roll_mask(mask, dx, dy),
                     round(float(rng.uniform(0.4, 0.95)), 3)))
    dets += [
        (1, 1, synth.roll_mask(masks[0], 5, 4), 0.35),  # duplicate of the first apple: an FP
        (1, 2, synth.rect_mask(120, 160, 120, 5, 25, 20), 0.7),  # bagel, negative here: an FP
        (1, 8, synth.rect_mask(120, 160, 5, 90, 30, 25), 0.97),  # gondola: dropped (not federated)
        (2, 3, synth.rect_mask(150, 200, 150, 10, 30, 20), 0.85),  # banana, not exhaustive: ignored
        (3, 7, synth.rect_mask(96, 128, 5, 70, 20, 20), 0.6),  # ferret, negative here: an FP
        (3, 5, synth.rect_mask(96, 128, 100, 5, 20, 15), 0.8),  # dog: dropped (not federated)
        (4, 1, synth.roll_mask(masks[10], 1, 0), 0.9),  # on the ignored apple: ignored
        (5, 3, synth.rect_mask(64, 64, 40, 40, 15, 15), 0.45),  # banana, negative here: an FP
        (5, 5, synth.rect_mask(64, 64, 2, 45, 12, 12), 0.5),  # dog, not exhaustive here: ignored
    ]
    order = rng.permutation(len(dets))
    return [dets[i] for i in order] + _crowded_image(rng, masks)


def make(out_dir: Path = OUT_DIR) -> list[Path]:
    """Write ``annotations.json``, ``results_segm.json`` and ``results_bbox.json``."""
    return synth.write_sample(out_dir, "annotations.json", SEED, _ground_truth, _detections, 0.5)


if __name__ == "__main__":
    synth.main(make, OUT_DIR)
