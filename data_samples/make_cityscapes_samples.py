"""Write the tiny Cityscapes sample in ``data_samples/cityscapes/``.

Three 256x128 street scenes as Cityscapes polygon annotations (``*_gtFine_polygons.json``:
sky, buildings, vegetation, sidewalk, road, a pole, cars, persons, a rider, a bicycle, a car
group, a license plate, the ego vehicle, out-of-roi corners), painted into
``*_gtFine_labelIds.png`` / ``*_gtFine_instanceIds.png`` by ``benchmark-eval convert
cityscapes-polygons`` and into COCO panoptic by ``cityscapes-to-panoptic``; and predictions in
the three official formats, made from the same polygons moved by a pixel or two, with a car
called a truck, a missed person, a false positive and void ids on the road.

Seeded: running it again gives byte-identical files.

Usage: ``python data_samples/make_cityscapes_samples.py [OUT_DIR]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmark_eval.convert_cityscapes import (  # noqa: E402
    convert_cityscapes_polygons,
    convert_cityscapes_to_panoptic,
    panoptic_segments,
    polygons_to_maps,
)
from benchmark_eval.masks.panoptic import ids_to_rgb  # noqa: E402

SEED = 11
W, H = 128, 64  # drawing grid; the images are twice as large
SCALE = 2
KEYS = ("samplecity_000000_000019", "samplecity_000001_000019", "samplecity_000002_000019")


def _box(x0: float, y0: float, x1: float, y1: float) -> list[list[int]]:
    return [[int(x0), int(y0)], [int(x1), int(y0)], [int(x1), int(y1)], [int(x0), int(y1)]]


def _scene(rng: np.random.Generator) -> list[dict[str, Any]]:
    """Objects in painting order (later ones on top)."""
    horizon = int(rng.integers(20, 28))
    objects = [("sky", _box(0, 0, W, horizon)),
               ("building", _box(0, 6, int(rng.integers(40, 60)), horizon + 4)),
               ("vegetation", _box(int(rng.integers(70, 90)), 10, W, horizon + 2)),
               ("sidewalk", _box(0, horizon + 2, W, horizon + 10)),
               ("road", [[0, horizon + 8], [W, horizon + 8], [W, H], [0, H]]),
               ("pole", _box(60, 4, 62, horizon + 8)),
               ("out of roi", [[0, 0], [10, 0], [0, 8]])]
    for _ in range(int(rng.integers(2, 4))):
        x, y = int(rng.integers(5, W - 30)), int(rng.integers(horizon + 6, H - 18))
        objects.append(("car", [[x, y + 4], [x + 6, y], [x + 20, y], [x + 26, y + 6],
                                [x + 26, y + 12], [x, y + 12]]))
        objects.append(("license plate", _box(x + 10, y + 9, x + 15, y + 11)))
    for _ in range(int(rng.integers(1, 3))):
        x, y = int(rng.integers(5, W - 10)), int(rng.integers(horizon - 2, horizon + 6))
        objects.append(("person", [[x, y], [x + 4, y], [x + 5, y + 16], [x - 1, y + 16]]))
    objects.append(("rider", _box(100, horizon, 104, horizon + 12)))
    objects.append(("bicycle", _box(98, horizon + 8, 108, horizon + 16)))
    objects.append(("cargroup", _box(110, horizon + 4, W, horizon + 12)))
    objects.append(("ego vehicle", [[20, H], [40, H - 5], [88, H - 5], [108, H]]))
    return [{"label": label, "polygon": [[SCALE * x, SCALE * y] for x, y in poly]}
            for label, poly in objects]


def _moved(objects: list[dict[str, Any]], rng: np.random.Generator) -> list[dict[str, Any]]:
    """The prediction's view: things moved by up to 2 px; one car is a truck, one person
    missed, a spurious car on the sidewalk, a patch of 'static' on the road."""
    out = []
    first_car, first_person = True, True
    for obj in objects:
        label, poly = obj["label"], obj["polygon"]
        if label in ("car", "person", "rider", "bicycle"):
            dx, dy = (SCALE * int(v) for v in rng.integers(-2, 3, size=2))
            poly = [[x + dx, y + dy] for x, y in poly]
        if label == "car" and first_car:
            label, first_car = "truck", False
        if label == "person" and first_person:
            first_person = False
            continue
        out.append({"label": label, "polygon": poly})
    for label, box in (("car", _box(30, 33, 40, 37)), ("static", _box(64, 50, 70, 54))):
        out.append({"label": label, "polygon": [[SCALE * x, SCALE * y] for x, y in box]})
    return out


def _instance_predictions(instances: np.ndarray, key: str, folder: Path,
                          rng: np.random.Generator) -> str:
    lines = []
    for j, value in enumerate(np.unique(instances[instances >= 1000]).tolist()):
        name = f"masks/{key}_{j}.png"
        Image.fromarray((instances == value).astype(np.uint8) * 255).save(folder / name)
        lines.append(f"{name} {value // 1000} {round(float(rng.uniform(0.5, 1.0)), 3)}")
    return "\n".join(lines) + "\n"


def make(out: Path) -> list[Path]:
    """Write every sample file under ``out``; returns them, sorted."""
    rng = np.random.default_rng(SEED)
    gt = out / "gtFine" / "val" / "samplecity"
    results = out / "results"
    for folder in (gt, results / "semantic", results / "instance" / "masks",
                   results / "panoptic"):
        folder.mkdir(parents=True, exist_ok=True)
    panoptic: list[dict[str, Any]] = []
    for key in KEYS:
        objects = _scene(rng)
        size = {"imgWidth": SCALE * W, "imgHeight": SCALE * H}
        (gt / f"{key}_gtFine_polygons.json").write_text(json.dumps(
            {**size, "objects": objects}, indent=1) + "\n")
        pred = {**size, "objects": _moved(objects, rng)}
        labels, instances = (np.asarray(m) for m in polygons_to_maps(pred))
        Image.fromarray(labels).save(results / "semantic" / f"{key}_pred.png")
        (results / "instance" / f"{key}_pred.txt").write_text(
            _instance_predictions(instances, key, results / "instance", rng))
        id_map, info = panoptic_segments(instances)
        Image.fromarray(ids_to_rgb(id_map)).save(results / "panoptic" / f"{key}_pred.png")
        panoptic.append({"image_id": key, "file_name": f"{key}_pred.png", "segments_info": [
            {"id": s["id"], "category_id": s["category_id"]} for s in info]})
    convert_cityscapes_polygons(out / "gtFine", out / "gtFine")
    convert_cityscapes_to_panoptic(out / "gtFine" / "val",
                                   out / "gtFine" / "cityscapes_panoptic_val.json")
    (results / "panoptic.json").write_text(json.dumps({"annotations": panoptic}, indent=1)
                                           + "\n")
    return sorted(p for p in out.rglob("*") if p.is_file())


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "cityscapes"
    files = make(target)
    print(f"wrote {len(files)} files under {target}")
