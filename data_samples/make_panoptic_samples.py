"""Write the tiny COCO panoptic sample in ``data_samples/panoptic/``.

Three street-like scenes (96x64, 64x48, 80x40) with stuff (sky, road, building), things
(person, car), a crowd of persons, VOID borders, and a prediction for each: shifted and
resized things, a missed car, a person predicted as a car, a car on the crowd, stuff spilling
into VOID. Segment ids follow panopticapi's scheme (near the category colour, so above 65535).
Seeded: running it again gives byte-identical files.

Usage: ``python data_samples/make_panoptic_samples.py [OUT_DIR]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from synth import ColorIds, ids_to_rgb, pixel_box  # noqa: E402

SEED = 7
CATEGORIES = [
    {"id": 1, "name": "person", "supercategory": "person", "isthing": 1, "color": [220, 20, 60]},
    {"id": 3, "name": "car", "supercategory": "vehicle", "isthing": 1, "color": [0, 0, 142]},
    {"id": 149, "name": "road", "supercategory": "ground", "isthing": 0,
     "color": [128, 64, 128]},
    {"id": 178, "name": "building-other-merged", "supercategory": "building", "isthing": 0,
     "color": [70, 70, 70]},
    {"id": 187, "name": "sky-other-merged", "supercategory": "sky", "isthing": 0,
     "color": [70, 130, 180]},
]
COLORS = {c["id"]: np.array(c["color"]) for c in CATEGORIES}

# per image: (height, width, horizon row, building columns, things as
# (category, crowd, y0, y1, x0, x1)), and how the prediction changes each thing
SCENES = [
    (64, 96, 24, (0, 40), [(1, 0, 30, 56, 10, 20), (3, 0, 40, 58, 50, 80),
                           (1, 1, 28, 50, 82, 95)]),
    (48, 64, 16, (40, 64), [(3, 0, 20, 40, 5, 30), (3, 0, 25, 35, 40, 50),
                            (1, 0, 18, 44, 52, 58)]),
    (40, 80, 14, (0, 0), [(1, 0, 16, 38, 30, 38)]),
]


def _paint(h: int, w: int, horizon: int, building: tuple[int, int],
           things: list[tuple[int, int, int, int, int, int]], rng: np.random.Generator,
           void_border: bool) -> tuple[np.ndarray, list[dict[str, object]]]:
    new_id = ColorIds(rng, COLORS, 20).new
    ids = np.zeros((h, w), dtype=np.int64)
    segments: list[dict[str, object]] = []

    def add(category: int, crowd: int, mask: np.ndarray) -> None:
        sid = new_id(category)
        ids[mask] = sid
        segments.append({"id": sid, "category_id": category, "iscrowd": crowd})

    yy, xx = np.mgrid[:h, :w]
    add(187, 0, yy < horizon)
    if building[1] > building[0]:
        add(178, 0, (yy < horizon + 6) & (xx >= building[0]) & (xx < building[1]))
    add(149, 0, yy >= horizon + 6)
    for category, crowd, y0, y1, x0, x1 in things:
        cy, cx, ry, rx = (y0 + y1) / 2, (x0 + x1) / 2, (y1 - y0) / 2, (x1 - x0) / 2
        add(category, crowd, ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1)
    if void_border:
        ids[(yy == horizon + 5) | (xx == 0)] = 0  # an unlabelled band, as annotators leave
    for s in segments:
        mask = ids == s["id"]
        s["area"] = int(mask.sum())
        s["bbox"] = pixel_box(mask)
    return ids, [s for s in segments if s["area"]]


def _predicted(things: list[tuple[int, int, int, int, int, int]], k: int
               ) -> list[tuple[int, int, int, int, int, int]]:
    out = []
    for j, (category, crowd, y0, y1, x0, x1) in enumerate(things):
        if (k, j) == (1, 1):
            continue  # the small car is missed
        if (k, j) == (1, 2):
            category = 3  # a person predicted as a car
        if crowd:  # the crowd of persons predicted as one car and one person
            out.append((3, 0, y0, (y0 + y1) // 2, x0, x1))
            out.append((1, 0, (y0 + y1) // 2, y1, x0, x1))
            continue
        out.append((category, 0, y0 + 1, y1 + 2, x0 - 1, x1 + (j % 3)))
    return out


def make(out: Path = HERE / "panoptic") -> list[Path]:
    """Write ``gt.json``, ``gt/``, ``pred.json``, ``pred/`` under ``out``; return the files."""
    rng = np.random.default_rng(SEED)
    written: list[Path] = []
    docs: dict[str, dict[str, object]] = {"gt": {"annotations": []}, "pred": {"annotations": []}}
    images = []
    for k, (h, w, horizon, building, things) in enumerate(SCENES):
        image_id = 100 + k
        name = f"{image_id:012d}.png"
        images.append({"id": image_id, "height": h, "width": w,
                       "file_name": f"{image_id:012d}.jpg"})
        for side, scene_things, shift, border in (("gt", things, 0, True),
                                                  ("pred", _predicted(things, k), 2, False)):
            ids, segments = _paint(h, w, horizon + shift, building, scene_things, rng, border)
            folder = out / side
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(ids_to_rgb(ids)).save(folder / name)
            written.append(folder / name)
            docs[side]["annotations"].append(  # type: ignore[attr-defined]
                {"image_id": image_id, "file_name": name, "segments_info": segments})
    docs["gt"]["images"] = images
    docs["gt"]["categories"] = CATEGORIES
    for side, doc in docs.items():
        path = out / f"{side}.json"
        path.write_text(json.dumps(doc, indent=1) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in make(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "panoptic"):
        print(path)
