"""Cityscapes gtFine files for the converters: finding them, and polygons painted into maps.

cityscapesScripts 2.3.0 ``preparation/json2labelImg.py`` and ``json2instanceImg.py``:
polygons are painted with Pillow's ``ImageDraw.polygon`` in file order (later objects on
top), ``<label>group`` is read as a group of ``<label>``, deleted objects and label ids below
0 are skipped, and instances are numbered ``id * 1000 + k`` per class in file order.
"""

from __future__ import annotations

__all__ = [
    "CATEGORY_IDS",
    "POLYGON_SUFFIX",
    "CategoryIds",
    "check_category_ids",
    "gtfine_files",
    "polygon_map_paths",
    "polygons_to_maps",
    "read_polygons",
    "write_polygon_maps",
]

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw

from benchmark_eval.errors import ConfigError, ConsistencyError, FormatError, Problem
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.png import write_png
from benchmark_eval.io.safe import check_pixels, quote
from benchmark_eval.schema.cityscapes import LABEL_BY_NAME

CategoryIds = Literal["labelIds", "trainIds"]
CATEGORY_IDS: tuple[CategoryIds, ...] = ("labelIds", "trainIds")
"""Category / pixel values: label ids, or train ids (the official ``--use-train-id``)."""
POLYGON_SUFFIX = "_gtFine_polygons.json"
_MAP_NAMES = {"labelIds": ("labelIds", "instanceIds"),
              "trainIds": ("labelTrainIds", "instanceTrainIds")}


def check_category_ids(category_ids: str) -> None:
    """Raises ConfigError unless ``category_ids`` is one of :data:`CATEGORY_IDS`."""
    if category_ids not in CATEGORY_IDS:
        raise ConfigError(f"category ids must be 'labelIds' or 'trainIds', got {category_ids!r}")


def gtfine_files(root: str | Path, suffix: str) -> list[Path]:
    """Every ``*<suffix>`` file under ``root`` (recursively), in sorted path order.

    Raises:
        FormatError: ``root`` is not a folder, or holds no such file.
    """
    root = Path(root)
    if not root.is_dir():
        raise FormatError(Problem(str(root), "ground-truth folder not found"))
    files = sorted(root.rglob(f"*{suffix}"))
    if not files:
        raise FormatError(Problem(str(root), f"no *{suffix} files found"))
    return files


def read_polygons(path: Path) -> dict[str, Any]:
    """A ``*_gtFine_polygons.json``: an object with ``imgWidth``, ``imgHeight``, ``objects``.

    Raises:
        FormatError: Unreadable, or not such an object.
    """
    data = read_json(path)
    if not isinstance(data, dict) or not {"imgWidth", "imgHeight"} <= data.keys():
        raise FormatError(Problem(str(path), "expected an object with imgWidth,"
                                             " imgHeight and objects"))
    return data


def _objects(data: Any, where: str) -> Iterator[tuple[str, bool, list[tuple[Any, Any]]]]:
    """``(label name, is group, polygon)`` of every object that is not deleted."""
    objects = data.get("objects", [])
    if not isinstance(objects, list):
        raise FormatError(Problem(where, f"'objects' must be a list, got {quote(objects)}"))
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or "label" not in obj or "polygon" not in obj:
            raise FormatError(Problem(where, "expected an object with 'label' and 'polygon'",
                                      i, "objects"))
        if obj.get("deleted", 0):
            continue
        name, group = str(obj["label"]), False
        if name not in LABEL_BY_NAME and name.endswith("group"):
            name, group = name[: -len("group")], True
        if name not in LABEL_BY_NAME:
            raise ConsistencyError(Problem(where, f"label {obj['label']!r} is not in the"
                                                  " Cityscapes label table", i, "objects"))
        yield name, group, _points(obj["polygon"], where, i)


def _point(p: Any) -> bool:
    return (isinstance(p, list) and len(p) == 2
            and all(type(v) in (int, float) and math.isfinite(v) for v in p))


def _points(polygon: Any, where: str, i: int) -> list[tuple[float, float]]:
    """The ``[[x, y], ...]`` of object ``i``, each a pair of finite numbers."""
    bad = next((p for p in polygon if not _point(p)), None) if isinstance(
        polygon, list) else polygon
    if bad is not None or not isinstance(polygon, list):
        raise FormatError(Problem(where, f"'polygon' must be a list of [x, y] number pairs,"
                                         f" got {quote(bad)}", i, "objects"))
    return [(p[0], p[1]) for p in polygon]


def _image_size(data: dict[str, Any], where: str) -> tuple[int, int]:
    """``(imgWidth, imgHeight)``, positive integers within the pixel limit."""
    w, h = data["imgWidth"], data["imgHeight"]
    for key, v in (("imgWidth", w), ("imgHeight", h)):
        if type(v) is not int or v <= 0:
            raise FormatError(Problem(where, f"'{key}' must be a positive integer, got"
                                             f" {quote(v)}"))
    check_pixels((h, w), where=where)
    return w, h


def polygons_to_maps(data: dict[str, Any], *, encoding: CategoryIds = "labelIds",
                     where: str = "<polygons>") -> tuple[Image.Image, Image.Image]:
    """The label image (mode ``L``) and instance image (mode ``I``) of a polygon JSON.

    Raises:
        FormatError: A malformed object, or an image size that is not positive or over the
            pixel limit (checked before anything is allocated).
        ConsistencyError: An unknown label.
    """
    check_category_ids(encoding)
    train = encoding == "trainIds"
    size = _image_size(data, where)
    unlabeled = LABEL_BY_NAME["unlabeled"]
    background = unlabeled.train_id if train else unlabeled.id
    labels = Image.new("L", size, background)
    instances = Image.new("I", size, background)
    draw_labels, draw_instances = ImageDraw.Draw(labels), ImageDraw.Draw(instances)
    counters: dict[str, int] = {}
    for name, group, polygon in _objects(data, where):
        label = LABEL_BY_NAME[name]
        if label.id < 0:
            continue
        value = label.train_id if train else label.id
        draw_labels.polygon(polygon, fill=value)
        if label.has_instances and not group and value != 255:
            value = value * 1000 + counters.get(name, 0)
            counters[name] = counters.get(name, 0) + 1
        if value >= 0:
            draw_instances.polygon(polygon, fill=value)
    return labels, instances


def _as_uint16(image: Image.Image, where: Path) -> np.ndarray:
    """A mode ``I`` image as uint16 (current Pillow cannot write mode ``I`` to PNG)."""
    values = np.asarray(image)
    if values.size and int(values.max()) > 65535:
        raise ConsistencyError(Problem(str(where), f"instance id {int(values.max())} does not"
                                                   " fit a 16-bit PNG"))
    return values.astype(np.uint16)


def polygon_map_paths(path: Path, root: Path, out_dir: Path, *,
                      encoding: CategoryIds = "labelIds") -> tuple[Path, Path]:
    """The label and instance PNGs :func:`write_polygon_maps` writes for ``path``."""
    target = out_dir / path.parent.relative_to(root)
    stem = path.name[: -len("_polygons.json")]
    label, instance = _MAP_NAMES[encoding]
    return target / f"{stem}_{label}.png", target / f"{stem}_{instance}.png"


def write_polygon_maps(path: Path, root: Path, out_dir: Path, *,
                       encoding: CategoryIds = "labelIds") -> None:
    """Paint the polygon JSON ``path`` (under ``root``) into ``*_gtFine_labelIds.png`` and
    ``*_gtFine_instanceIds.png`` (``*_labelTrainIds.png`` / ``*_instanceTrainIds.png`` with
    train ids), at the same place under ``out_dir`` as ``path`` is under ``root``."""
    labels, instances = polygons_to_maps(read_polygons(path), encoding=encoding,
                                         where=str(path))
    label_png, instance_png = polygon_map_paths(path, root, out_dir, encoding=encoding)
    label_png.parent.mkdir(parents=True, exist_ok=True)
    labels.save(label_png)
    write_png(instance_png, _as_uint16(instances, path))
