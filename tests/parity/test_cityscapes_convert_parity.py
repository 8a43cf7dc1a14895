"""Polygons -> label-id and instance-id maps against cityscapesScripts 2.3.0's own
``json2labelImg.createLabelImage`` and ``json2instanceImg.createInstanceImage`` (painting
order, groups, deleted objects, license plates, train ids)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cityscapesscripts.helpers.annotation import Annotation
from cityscapesscripts.preparation.json2instanceImg import createInstanceImage
from cityscapesscripts.preparation.json2labelImg import createLabelImage
from PIL import Image

from benchmark_eval.convert_cityscapes import convert_cityscapes_polygons, polygons_to_maps
from benchmark_eval.schema.cityscapes import LABELS

NAMES = [lb.name for lb in LABELS] + ["cargroup", "persongroup", "bicyclegroup", "polegroup"]


def _polygons(seed: int) -> dict[str, Any]:
    """A scene of random overlapping polygons, some deleted, some off the image."""
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(60, 120)), int(rng.integers(40, 90))
    objects = []
    for _ in range(40):
        n = int(rng.integers(3, 9))
        cx, cy, r = rng.uniform(-10, w + 10), rng.uniform(-10, h + 10), rng.uniform(2, 30)
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        polygon = [[int(cx + r * np.cos(a)), int(cy + r * np.sin(a))] for a in angles]
        obj: dict[str, Any] = {"label": str(rng.choice(NAMES)), "polygon": polygon}
        if rng.random() < 0.1:
            obj["deleted"] = 1
        objects.append(obj)
    return {"imgWidth": w, "imgHeight": h, "objects": objects}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("encoding", ["labelIds", "trainIds"])
def test_painting_matches_json2label_and_json2instance(seed: int, encoding: str,
                                                       tmp_path: Path) -> None:
    data = _polygons(seed)
    path = tmp_path / "x_000000_000000_gtFine_polygons.json"
    path.write_text(json.dumps(data))
    annotation = Annotation()
    annotation.fromJsonFile(str(path))
    official = "trainIds" if encoding == "trainIds" else "ids"
    labels, instances = polygons_to_maps(data, encoding=encoding)
    assert np.array_equal(np.asarray(labels), np.asarray(createLabelImage(annotation,
                                                                          official)))
    theirs = np.asarray(createInstanceImage(annotation, official))
    assert np.array_equal(np.asarray(instances), theirs)
    assert (theirs >= 1000).any()  # instances were numbered


def test_converted_files_hold_the_official_maps(tmp_path: Path) -> None:
    data = _polygons(9)
    src = tmp_path / "gtFine" / "val" / "x"
    src.mkdir(parents=True)
    (src / "x_000000_000001_gtFine_polygons.json").write_text(json.dumps(data))
    done = convert_cityscapes_polygons(tmp_path / "gtFine", tmp_path / "out")
    assert done["images"] == 1
    annotation = Annotation()
    annotation.fromJsonFile(str(src / "x_000000_000001_gtFine_polygons.json"))
    out = tmp_path / "out" / "val" / "x"
    labels = np.asarray(Image.open(out / "x_000000_000001_gtFine_labelIds.png"))
    instances = np.asarray(Image.open(out / "x_000000_000001_gtFine_instanceIds.png"))
    assert np.array_equal(labels, np.asarray(createLabelImage(annotation, "ids")))
    # the official script cannot save its mode-I image with this Pillow (13); its pixels are
    # what we write, as 16-bit
    assert instances.dtype == np.uint16
    assert np.array_equal(instances, np.asarray(createInstanceImage(annotation, "ids")))
