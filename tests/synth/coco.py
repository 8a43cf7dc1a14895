"""COCO records built from masks: ground-truth annotations, ``segm`` / ``bbox`` results, and
the compact JSON files the samples are written as."""

from __future__ import annotations

__all__ = ["dataset", "main", "mask_annotation", "object_parts", "results_from_masks",
           "write_json_files", "write_sample"]

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synth.rle import encode_mask
from synth.shapes import rect_polygon, star_polygon


def dataset(description: str, images: list[dict[str, Any]],
            annotations: list[dict[str, Any]], categories: list[dict[str, Any]]
            ) -> dict[str, Any]:
    """A ground-truth file of the samples: ``info`` (version 1.0, 2024), no licenses."""
    return {
        "info": {"description": description, "version": "1.0", "year": 2024},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def object_parts(rng: np.random.Generator, kind: str, geometry: tuple[Any, ...]
                 ) -> list[list[float]]:
    """Polygon parts of a sample object: ``"poly"`` a 7-vertex star ``(cx, cy, r)`` (radii
    0.7-1 r, 1 decimal), ``"rect"`` ``(x, y, w, h)``, ``"multi"`` a star and a rectangle."""
    if kind == "poly":
        return [star_polygon(rng, *geometry, 7, 0.7, 1)]
    if kind == "rect":
        return [rect_polygon(*geometry)]
    return [star_polygon(rng, *geometry[0], 7, 0.7, 1), rect_polygon(*geometry[1])]


def mask_annotation(ann_id: int, image_id: int, category_id: int, segmentation: Any,
                    mask: np.ndarray, iscrowd: int | None = None) -> dict[str, Any]:
    """A ground-truth record whose ``area`` and ``bbox`` are what pycocotools computes from
    ``mask`` (``iscrowd`` left out when ``None``)."""
    from pycocotools import mask as mask_utils

    rle = encode_mask(mask)
    ann = {"id": ann_id, "image_id": image_id, "category_id": category_id,
           "segmentation": segmentation, "area": float(mask_utils.area(rle)),
           "bbox": [float(v) for v in mask_utils.toBbox(rle)]}
    if iscrowd is not None:
        ann["iscrowd"] = iscrowd
    return ann


def results_from_masks(rng: np.random.Generator,
                       dets: Iterable[tuple[int, int, np.ndarray, float]], box_jitter: float
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``segm`` (compressed RLE) and ``bbox`` results of ``(image, category, mask, score)``
    detections; each box is the mask's tight box plus ``N(0, box_jitter)`` noise (one draw
    of 4 per detection), at least 1 px wide and high, rounded to 2 decimals."""
    from pycocotools import mask as mask_utils

    segm, bbox = [], []
    for image_id, cat, mask, score in dets:
        rle = encode_mask(mask)
        segm.append({"image_id": image_id, "category_id": cat, "segmentation": rle,
                     "score": score})
        tight = mask_utils.toBbox(rle)
        jitter = rng.normal(0.0, box_jitter, size=4)
        box = [round(float(v), 2) for v in np.maximum(tight + jitter, [0, 0, 1, 1])]
        bbox.append({"image_id": image_id, "category_id": cat, "bbox": box, "score": score})
    return segm, bbox


def write_json_files(out_dir: Path, docs: Mapping[str, Any]) -> list[Path]:
    """Write each ``name -> data`` as compact JSON plus a newline; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in docs.items():
        path = out_dir / name
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        written.append(path)
    return written


def write_sample(out_dir: Path, gt_name: str, seed: int, ground_truth: Callable[..., Any],
                 detections: Callable[..., Any], box_jitter: float) -> list[Path]:
    """Write a seeded sample: ``gt, masks = ground_truth(rng)`` as ``gt_name``, and
    ``detections(rng, gt, masks)`` as ``results_segm.json`` / ``results_bbox.json``
    (:func:`results_from_masks`), all drawn from one ``default_rng(seed)`` in that order."""
    rng = np.random.default_rng(seed)
    gt, masks = ground_truth(rng)
    dets = detections(rng, gt, masks)
    segm, bbox = results_from_masks(rng, dets, box_jitter)
    return write_json_files(out_dir, {gt_name: gt, "results_segm.json": segm,
                                      "results_bbox.json": bbox})


def main(make: Callable[[Path], list[Path]], default: Path) -> None:
    """A sample script's command line: ``make(OUT_DIR or default)``, one line per file."""
    for path in make(Path(sys.argv[1]) if len(sys.argv) > 1 else default):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
