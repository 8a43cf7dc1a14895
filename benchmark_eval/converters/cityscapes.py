"""Cityscapes converters: gtFine -> COCO panoptic, gtFine -> COCO instances, polygons -> PNGs.

* :func:`panoptic_segments` / :func:`convert_cityscapes_to_panoptic`: cityscapesScripts
  2.3.0 ``preparation/createPanopticImgs.py`` (``csCreatePanopticImgs``): every value of an
  instance-id map whose label is evaluated becomes a segment with that value as its id
  (``iscrowd`` 1 for group regions of classes with instances), the PNG holds the id as
  ``(id % 256, id // 256, id // 65536)``, image ids are ``<city>_<seq>_<frame>`` strings,
  categories are label ids or train ids.
* :func:`convert_cityscapes_to_instances`: the same segments of the 8 classes with
  instances as a COCO instances JSON with compressed-RLE masks (groups as ``iscrowd`` 1),
  so Cityscapes can be scored with ``coco-segm`` / ``coco-bbox``.
* :func:`convert_cityscapes_polygons`: ``preparation/json2labelImg.py`` and
  ``json2instanceImg.py``; the painting is
  :func:`benchmark_eval.io.cityscapes_polygons.polygons_to_maps`.

The ``convert_*`` functions read and write files; the others work on arrays.
:data:`CONVERTERS` are their ``benchmark-eval convert`` entries.
"""

from __future__ import annotations

__all__ = [
    "CONVERTERS",
    "convert_cityscapes_polygons",
    "convert_cityscapes_to_instances",
    "convert_cityscapes_to_panoptic",
    "panoptic_categories",
    "panoptic_segments",
    "segment_boxes",
]

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.converters.base import (
    Converter,
    add_force,
    add_json_output,
    check_outputs,
    wrote_instances,
    wrote_panoptic,
)
from benchmark_eval.converters.coco_panoptic import panoptic_to_instances
from benchmark_eval.errors import ConfigError, ConsistencyError, Problem
from benchmark_eval.io.cityscapes import GT_INSTANCE_SUFFIX
from benchmark_eval.io.cityscapes_polygons import (
    CATEGORY_IDS,
    POLYGON_SUFFIX,
    CategoryIds,
    check_category_ids,
    gtfine_files,
    polygon_map_paths,
    write_polygon_maps,
)
from benchmark_eval.io.cityscapes_read import read_instance_ids
from benchmark_eval.io.jsonfile import write_json
from benchmark_eval.io.png import write_png
from benchmark_eval.masks.panoptic import ids_to_rgb
from benchmark_eval.schema.cityscapes import LABEL_BY_ID, LABELS
from benchmark_eval.schema.panoptic import PanopticCategories, PanopticFrame, Segments


def _category_id(label_id: int, category_ids: CategoryIds) -> int:
    label = LABEL_BY_ID[label_id]
    return label.train_id if category_ids == "trainIds" else label.id


def panoptic_categories(category_ids: CategoryIds = "labelIds") -> list[dict[str, Any]]:
    """The ``categories`` records: every label not ignored in evaluation, in table order."""
    return [{"id": lb.train_id if category_ids == "trainIds" else lb.id, "name": lb.name,
             "color": list(lb.color), "supercategory": lb.category,
             "isthing": int(lb.has_instances)} for lb in LABELS if not lb.ignore_in_eval]


def _runs_by_row(id_map: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of equal values: value, row, first column, last column + 1."""
    w = id_map.shape[1]
    flat = id_map.reshape(-1)
    start = np.ones(flat.size, dtype=bool)
    start[1:] = flat[1:] != flat[:-1]
    start[::w] = True
    first = np.flatnonzero(start)
    end = np.r_[first[1:], flat.size]
    return flat[first].astype(np.int64), first // w, first % w, end - first + first % w


def segment_boxes(id_map: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every value of ``id_map`` (ascending), its pixel count and ``[x, y, w, h]`` box."""
    values, rows, x0, x1 = _runs_by_row(id_map)
    order = np.argsort(values, kind="stable")
    values, rows, x0, x1 = values[order], rows[order], x0[order], x1[order]
    start = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(values) else (
        np.zeros(0, dtype=np.intp))
    areas = np.add.reduceat(x1 - x0, start) if len(values) else np.zeros(0, np.int64)
    top, bottom = np.minimum.reduceat(rows, start), np.maximum.reduceat(rows, start)
    left, right = np.minimum.reduceat(x0, start), np.maximum.reduceat(x1, start)
    boxes = np.stack([left, top, right - left, bottom - top + 1], axis=1)
    return values[start], areas, boxes


def panoptic_segments(instances: np.ndarray, *, category_ids: CategoryIds = "labelIds",
                      where: str = "<instances>") -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The panoptic id map and ``segments_info`` of one instance-id map.

    Raises:
        ConsistencyError: A value whose label is not in the table (naming ``where``).
    """
    values, areas, boxes = segment_boxes(instances)
    labels = np.where(values < 1000, values, values // 1000)
    unknown = [int(v) for v, lb in zip(values.tolist(), labels.tolist(), strict=True)
               if lb not in LABEL_BY_ID or lb < 0]
    if unknown:
        raise ConsistencyError(Problem(where, f"instance ids {unknown[:10]} have no label in"
                                              " the Cityscapes table"))
    keep = np.array([not LABEL_BY_ID[lb].ignore_in_eval for lb in labels.tolist()], bool)
    info = []
    for v, lb, area, box in zip(values[keep].tolist(), labels[keep].tolist(),
                                areas[keep].tolist(), boxes[keep].tolist(), strict=True):
        crowd = int(v < 1000 and LABEL_BY_ID[lb].has_instances)
        info.append({"id": v, "category_id": _category_id(lb, category_ids), "area": area,
                     "bbox": box, "iscrowd": crowd})
    kept = np.zeros(int(values.max()) + 1 if len(values) else 1, dtype=bool)
    kept[values[keep]] = True
    id_map = np.where(kept[instances], instances, 0).astype(np.int64)
    return id_map, info


def convert_cityscapes_to_panoptic(gt_root: str | Path, out_json: str | Path, *,
                                   out_dir: str | Path | None = None,
                                   category_ids: CategoryIds = "labelIds",
                                   force: bool = False) -> dict[str, Any]:
    """Write COCO panoptic (JSON + PNG folder) from every ``*_gtFine_instanceIds.png``.

    Args:
        gt_root: Searched recursively; files are processed in sorted path order.
        out_json: The JSON to write.
        out_dir: The PNG folder; default: ``out_json`` without ``.json``.
        category_ids: ``"labelIds"`` or ``"trainIds"`` (``--use-train-id``).
        force: Overwrite existing outputs (never an input; checked before any work).

    Returns:
        A summary: ``images``, ``segments``, ``png_dir``.
    """
    check_category_ids(category_ids)
    folder = Path(out_dir) if out_dir is not None else Path(out_json).with_suffix("")
    check_outputs(files=[out_json], folders=[folder], inputs=[gt_root], force=force)
    folder.mkdir(parents=True, exist_ok=True)
    images, annotations, segments = [], [], 0
    for path in gtfine_files(gt_root, GT_INSTANCE_SUFFIX):
        instances = read_instance_ids(path)
        id_map, info = panoptic_segments(instances, category_ids=category_ids,
                                         where=str(path))
        name = path.name
        key = name.replace(GT_INSTANCE_SUFFIX, "")
        png = name.replace("_instanceIds.png", "_panoptic.png")
        write_png(folder / png, ids_to_rgb(id_map))
        images.append({"id": key, "width": int(instances.shape[1]),
                       "height": int(instances.shape[0]),
                       "file_name": name.replace("_instanceIds.png", "_leftImg8bit.png")})
        annotations.append({"image_id": key, "file_name": png, "segments_info": info})
        segments += len(info)
    write_json(out_json, {"images": images, "annotations": annotations,
                          "categories": panoptic_categories(category_ids)})
    return {"images": len(images), "segments": segments, "png_dir": str(folder)}


def convert_cityscapes_to_instances(gt_root: str | Path, out_json: str | Path, *,
                                    category_ids: CategoryIds = "labelIds",
                                    force: bool = False) -> dict[str, Any]:
    """Write a COCO instances JSON (compressed-RLE masks) of the 8 classes with instances.

    Images get ids 1, 2, ... in sorted path order (``file_name``
    ``<city>_<seq>_<frame>_leftImg8bit.png``, ``cityscapes_id`` the Cityscapes key);
    individual instances are ``iscrowd`` 0, group regions ``iscrowd`` 1.
    """
    check_category_ids(category_ids)
    check_outputs(files=[out_json], inputs=[gt_root], force=force)
    records = [c for c in panoptic_categories(category_ids) if c["isthing"]]
    table = PanopticCategories(ids=np.array([c["id"] for c in records], dtype=np.int64),
                               names=tuple(c["name"] for c in records),
                               isthing=np.ones(len(records), dtype=bool),
                               records=tuple(records))
    images, frames = [], []
    for n, path in enumerate(gtfine_files(gt_root, GT_INSTANCE_SUFFIX), start=1):
        instances = read_instance_ids(path)
        id_map, info = panoptic_segments(instances, category_ids=category_ids,
                                         where=str(path))
        key = path.name.replace(GT_INSTANCE_SUFFIX, "")
        images.append({"id": n, "width": int(instances.shape[1]),
                       "height": int(instances.shape[0]),
                       "file_name": f"{key}_leftImg8bit.png", "cityscapes_id": key})
        things = [s for s in info if s["category_id"] in set(table.ids.tolist())]
        seg = Segments.build([s["id"] for s in things], [s["category_id"] for s in things],
                             [s["iscrowd"] for s in things], [s["area"] for s in things])
        frames.append(PanopticFrame(image_id=n, id_map=id_map, segments=seg))
    annotations = panoptic_to_instances(frames, table, things_only=True)
    write_json(out_json, {"images": images, "annotations": annotations,
                          "categories": records})
    return {"images": len(images), "annotations": len(annotations)}


def convert_cityscapes_polygons(root: str | Path, out_dir: str | Path, *,
                                encoding: CategoryIds = "labelIds", force: bool = False
                                ) -> dict[str, Any]:
    """Paint every ``*_gtFine_polygons.json`` under ``root`` into ``*_gtFine_labelIds.png``
    and ``*_gtFine_instanceIds.png`` (``*_labelTrainIds.png`` / ``*_instanceTrainIds.png``
    with train ids), mirroring the folder tree under ``out_dir`` (which may be ``root``, as
    the official scripts write beside the JSON). Existing PNGs are overwritten only with
    ``force``; every output is checked before anything is painted."""
    root, out = Path(root), Path(out_dir)
    files = gtfine_files(root, POLYGON_SUFFIX)
    check_outputs(folders=[out], force=True)  # it may hold files: the tree is mirrored
    existing = [t for path in files
                for t in polygon_map_paths(path, root, out, encoding=encoding) if t.exists()]
    if existing and not force:
        raise ConfigError(f"refusing to overwrite {existing[0]} and {len(existing) - 1}"
                          " other PNGs (use --force)")
    for path in files:
        write_polygon_maps(path, root, out, encoding=encoding)
    return {"images": len(files), "out_dir": str(out)}


# ------------------------------------------------------------------------------------ CLI


def _arguments(looks_for: str, output: Callable[[argparse.ArgumentParser], None], *,
               gt: str = "gt_root", ids: str = "category_ids"
               ) -> Callable[[argparse.ArgumentParser], None]:
    """The options of one ``cityscapes-*`` conversion: ``--gt`` (searched for ``*looks_for``;
    parameter ``gt``), ``--ids`` (parameter ``ids``), then those ``output`` adds."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--gt", dest=gt, required=True, type=Path, metavar="GT_ROOT",
                            help=f"folder searched recursively for *{looks_for}")
        parser.add_argument("--ids", dest=ids, choices=CATEGORY_IDS, default="labelIds",
                            help="category / pixel values: label ids (default) or train ids")
        output(parser)

    return add_arguments


def _polygon_maps_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out-dir", required=True, type=Path, metavar="DIR",
                        help="where the PNGs go (the folder tree under --gt is mirrored)")
    add_force(parser)


CONVERTERS = (
    Converter(
        "cityscapes-to-panoptic", "Cityscapes gtFine instance ids -> COCO panoptic JSON +"
                                  " PNGs (as csCreatePanopticImgs)",
        convert_cityscapes_to_panoptic,
        _arguments(GT_INSTANCE_SUFFIX,
                   lambda p: add_json_output(p, "PANOPTIC.json", png_folder=True)),
        wrote_panoptic),
    Converter(
        "cityscapes-to-instances", "Cityscapes gtFine instance ids -> COCO instances with RLE"
                                   " masks (8 classes with instances)",
        convert_cityscapes_to_instances,
        _arguments(GT_INSTANCE_SUFFIX, lambda p: add_json_output(p, "INSTANCES.json")),
        wrote_instances),
    Converter(
        "cityscapes-polygons", "Cityscapes *_gtFine_polygons.json -> label-id and instance-id"
                               " PNGs (as json2labelImg / json2instanceImg)",
        convert_cityscapes_polygons,
        _arguments(POLYGON_SUFFIX, _polygon_maps_output, gt="root", ids="encoding"),
        lambda done, _: f"wrote label and instance PNGs of {done['images']} images to"
                        f" {done['out_dir']}"),
)
"""The ``benchmark-eval convert cityscapes-*`` entries."""
