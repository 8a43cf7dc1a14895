"""Converters between COCO instances, COCO panoptic and semantic label maps.

* :func:`instances_to_panoptic`: COCO instance annotations (a dataset, or a results list with
  its ground truth for the images) plus optional stuff annotations (COCO-stuff format) ->
  panoptic frames. Overlapping masks are an error unless an :data:`OVERLAP_RULES` rule is
  chosen. Like panopticapi ``converters/detection2panoptic_coco_format.py`` (which always
  refuses overlaps), instance categories are things and stuff-file categories are stuff.
* :func:`panoptic_to_instances`: one COCO annotation per segment with a compressed-RLE mask
  (panopticapi ``converters/panoptic2detection_coco_format.py``).
* :func:`panoptic_to_semantic`: a label map per image, category id per pixel and a VOID
  value elsewhere (panopticapi ``converters/panoptic2semantic_segmentation.py``, PNG mode).

The ``convert_*`` functions read and write files (through :mod:`benchmark_eval.io.converted`);
the others work on the common schema. :data:`CONVERTERS` are their ``benchmark-eval convert``
entries.
"""

from __future__ import annotations

__all__ = [
    "CONVERTERS",
    "OVERLAP_RULES",
    "convert_instances_to_panoptic",
    "convert_panoptic_to_instances",
    "convert_panoptic_to_semantic",
    "instances_to_panoptic",
    "panoptic_to_instances",
    "panoptic_to_semantic",
]

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.converters.base import (
    Converter,
    add_force,
    add_json_output,
    check_outputs,
    png_folder,
    wrote_instances,
    wrote_panoptic,
)
from benchmark_eval.errors import ConfigError, ConsistencyError, Problem, cut_problems
from benchmark_eval.io.coco_gt import load_coco_ground_truth
from benchmark_eval.io.coco_results import load_coco_results
from benchmark_eval.io.converted import (
    write_instances_dataset,
    write_label_pngs,
    write_panoptic_dataset,
)
from benchmark_eval.io.panoptic import Source, load_coco_panoptic
from benchmark_eval.io.panoptic_png import default_folder, read_frames
from benchmark_eval.io.safe import check_pixels
from benchmark_eval.masks.panoptic import box_and_area, id_map_rles, runs_to_pixels
from benchmark_eval.masks.rle import decode_masks
from benchmark_eval.schema import Images, InstanceDataset, MaskRuns
from benchmark_eval.schema.panoptic import VOID, PanopticCategories, PanopticFrame, Segments

OVERLAP_RULES = ("error", "first-wins", "higher-score-wins", "smaller-wins")
"""How :func:`instances_to_panoptic` resolves pixels claimed by several masks:

* ``error`` (default): any overlap is an error naming the image and both annotations;
* ``first-wins``: the annotation listed first keeps the pixel (instances before stuff);
* ``higher-score-wins``: the detection with the higher score keeps it, ties by file order
  (results files only);
* ``smaller-wins``: the smaller mask keeps it (small objects stay visible), ties by file
  order.

A mask that loses all its pixels is dropped (counted in the returned notices).
"""


@dataclass(frozen=True)
class _Objects:
    """Masks of one source, as rows."""

    name: str
    image_ids: np.ndarray
    category_ids: np.ndarray
    iscrowd: np.ndarray
    scores: np.ndarray | None
    labels: list[str]  # how to name each row in messages
    runs: MaskRuns | None
    rles: list[dict[str, Any]] | None

    def pixels(self, row: int) -> np.ndarray:
        """Column-major flat indices of the mask of ``row``."""
        if self.runs is not None:
            a, b = int(self.runs.offsets[row]), int(self.runs.offsets[row + 1])
            return runs_to_pixels(self.runs.runs[a:b])
        assert self.rles is not None
        return np.flatnonzero(decode_masks([self.rles[row]])[:, :, 0].T)


def _dataset_objects(data: InstanceDataset) -> _Objects:
    inst = data.instances
    return _Objects(data.source, inst.image_ids, inst.category_ids, inst.iscrowd, None,
                    [f"annotation id {int(i)}" for i in inst.ids], inst.mask_runs, inst.masks)


def _categories(parts: Iterable[tuple[InstanceDataset, bool]]) -> PanopticCategories:
    ids: list[int] = []
    names: list[str] = []
    isthing: list[bool] = []
    records: list[dict[str, Any]] = []
    for data, thing in parts:
        for cid, name, rec in zip(data.categories.ids.tolist(), data.categories.names,
                                  data.categories.records, strict=True):
            if cid in ids:
                raise ConsistencyError(Problem(data.source, f"category id {cid} is also a"
                                                            " category of the instances file"))
            ids.append(cid)
            names.append(name)
            isthing.append(bool(rec.get("isthing", int(thing))))
            records.append(dict(rec))
    return PanopticCategories(ids=np.array(ids, dtype=np.int64), names=tuple(names),
                              isthing=np.array(isthing, dtype=bool), records=tuple(records))


def _order(objs: list[tuple[_Objects, int]], rule: str,
           sizes: list[int]) -> list[int]:
    """Painting order of one image's masks (earlier ones keep contested pixels)."""
    index = list(range(len(objs)))
    if rule == "higher-score-wins":
        scores = [o.scores[r] if o.scores is not None else 0.0 for o, r in objs]
        return sorted(index, key=lambda k: -scores[k])
    if rule == "smaller-wins":
        return sorted(index, key=lambda k: sizes[k])
    return index


def _paint_image(image_id: int, h: int, w: int, objs: list[tuple[_Objects, int]], rule: str,
                 problems: list[Problem]) -> tuple[PanopticFrame, int]:
    """One image's masks into a frame; segment ids are 1.. in file order."""
    pixels = [o.pixels(r) for o, r in objs]
    canvas = np.zeros(h * w, dtype=np.int64)  # column-major, like the masks
    for k in _order(objs, rule, [len(p) for p in pixels]):
        idx = pixels[k]
        owner = canvas[idx]
        taken = owner != VOID
        if rule == "error" and taken.any():
            (o, r), (p, q) = objs[k], objs[int(owner[taken][0]) - 1]
            problems.append(Problem(o.name, f"{o.labels[r]} overlaps {p.labels[q]} ({p.name}) on"
                                            f" {int(taken.sum())} pixels (image_id={image_id});"
                                            " choose an overlap rule to resolve overlaps"))
        canvas[idx[~taken]] = k + 1
    id_map = canvas.reshape(w, h).T.copy()
    present = np.isin(np.arange(1, len(objs) + 1), id_map)
    kept = np.flatnonzero(present)
    segments = Segments.build(kept + 1, [objs[k][0].category_ids[objs[k][1]] for k in kept],
                              [objs[k][0].iscrowd[objs[k][1]] for k in kept])
    return PanopticFrame(image_id, id_map, segments), int((~present).sum())


def instances_to_panoptic(instances: Source | list[Any], *, stuff: Source | None = None,
                          images: Source | None = None, overlap: str = "error"
                          ) -> tuple[PanopticCategories, Images, list[PanopticFrame], int]:
    """COCO instance masks (+ stuff masks) to panoptic frames.

    Args:
        instances: A COCO instances dataset (path or dict), or a results list (path or
            list; then ``images`` gives the images and categories).
        stuff: Optional COCO-format stuff annotations on the same images.
        images: The COCO dataset a results list refers to.
        overlap: One of :data:`OVERLAP_RULES`.

    Returns:
        The categories (``isthing`` from the records, else 1 for instances and 0 for stuff),
        the image table, one frame per image (all images, in file order) and the number of
        masks dropped because other masks took all their pixels.

    Raises:
        ConfigError: Unknown rule, or ``higher-score-wins`` without scores.
        InputError: Invalid inputs, or overlaps under the ``error`` rule.
    """
    if overlap not in OVERLAP_RULES:
        raise ConfigError(f"unknown overlap rule {overlap!r}; choose one of"
                          f" {', '.join(OVERLAP_RULES)}")
    sources: list[_Objects] = []
    if images is not None:
        base, _ = load_coco_ground_truth(images, boxes=False, masks=True)
        preds, _ = load_coco_results(instances, base, boxes=False, masks=True)
        sources.append(_Objects(str(instances) if isinstance(instances, (str, Path))
                                else "<results>", preds.image_ids, preds.category_ids,
                                np.zeros(len(preds), dtype=bool), preds.scores,
                                [f"result [{i}]" for i in range(len(preds))],
                                preds.mask_runs, preds.masks))
    else:
        base, _ = load_coco_ground_truth(instances, boxes=False, masks=True)
        sources.append(_dataset_objects(base))
    parts = [(base, True)]
    if stuff is not None:
        extra, _ = load_coco_ground_truth(stuff, boxes=False, masks=True)
        _same_images(base, extra)
        sources.append(_dataset_objects(extra))
        parts.append((extra, False))
    if overlap == "higher-score-wins" and sources[0].scores is None:
        raise ConfigError("overlap rule 'higher-score-wins' needs scores: give a results"
                          " file and --images")
    return (_categories(parts), base.images, *_paint_all(base.images, sources, overlap))


def _same_images(base: InstanceDataset, other: InstanceDataset) -> None:
    rows = base.images.lookup(other.images.ids)
    bad = [Problem(other.source, f"image {int(i)} is not an image of {base.source}", k,
                   "images") for k, i in enumerate(other.images.ids.tolist()) if rows[k] < 0]
    ok = rows >= 0
    differ = ok.copy()
    differ[ok] = ((base.images.heights[rows[ok]] != other.images.heights[ok])
                  | (base.images.widths[rows[ok]] != other.images.widths[ok]))
    bad += [Problem(other.source, f"image {int(other.images.ids[k])} has another size than in"
                                  f" {base.source}", int(k), "images")
            for k in np.flatnonzero(differ).tolist()]
    if bad:
        raise ConsistencyError(bad)


def _paint_all(images: Images, sources: list[_Objects], rule: str
               ) -> tuple[list[PanopticFrame], int]:
    per_image: dict[int, list[tuple[_Objects, int]]] = {int(i): [] for i in images.ids}
    for src in sources:
        for r, image_id in enumerate(src.image_ids.tolist()):
            per_image[image_id].append((src, r))
    problems: list[Problem] = []
    frames = []
    dropped = 0
    for image_id, h, w in zip(images.ids.tolist(), images.heights.tolist(),
                              images.widths.tolist(), strict=True):
        check_pixels((h, w), where=f"images[] of image {image_id}")  # before allocating
        frame, lost = _paint_image(image_id, h, w, per_image[image_id], rule, problems)
        frames.append(frame)
        dropped += lost
    if problems:
        raise ConsistencyError(cut_problems(problems, kind="overlapping masks"))
    return frames, dropped


def panoptic_to_instances(frames: Iterable[PanopticFrame], categories: PanopticCategories,
                          *, things_only: bool = False) -> list[dict[str, Any]]:
    """COCO instance annotations, one per segment, with compressed-RLE masks.

    ``id`` runs from 1; ``area`` is the segment's JSON area when it has one (as panopticapi
    keeps ``segments_info``), else its pixel count; ``bbox`` is the mask's tight box.
    """
    out: list[dict[str, Any]] = []
    for frame in frames:
        seg = frame.segments
        keep = np.ones(len(seg), dtype=bool)
        if things_only:
            keep = categories.isthing[categories.lookup(seg.category_ids)]
        rows = np.flatnonzero(keep)
        rles = id_map_rles(frame.id_map, seg.ids[rows])
        areas, boxes = box_and_area(frame.id_map, seg.ids[rows])
        for j, rle, area, box in zip(rows.tolist(), rles, areas.tolist(), boxes.tolist(),
                                     strict=True):
            json_area = float(seg.areas[j])
            out.append({
                "id": len(out) + 1, "image_id": frame.image_id,
                "category_id": int(seg.category_ids[j]), "iscrowd": int(seg.iscrowd[j]),
                "area": area if np.isnan(json_area) else _number(json_area),
                "bbox": [float(v) for v in box],
                "segmentation": {"size": list(rle["size"]), "counts": rle["counts"].decode()},
            })
    return out


def _number(v: float) -> float | int:
    return int(v) if v.is_integer() else v


def panoptic_to_semantic(frame: PanopticFrame, *, void: int = 0) -> np.ndarray:
    """Category id per pixel, ``void`` on VOID; uint8 when everything fits, else uint16."""
    seg = frame.segments
    top = max([void, *seg.category_ids.tolist()])
    dtype = np.uint8 if top <= 255 else np.uint16
    order = np.argsort(seg.ids)
    lut_ids = seg.ids[order]
    pos = np.minimum(np.searchsorted(lut_ids, frame.id_map), max(len(lut_ids) - 1, 0))
    labelled = (lut_ids[pos] == frame.id_map) if len(lut_ids) else np.zeros(
        frame.id_map.shape, dtype=bool)
    out = np.full(frame.id_map.shape, void, dtype=dtype)
    out[labelled] = seg.category_ids[order][pos[labelled]]
    return out


# ------------------------------------------------------------------------------ file level


def convert_instances_to_panoptic(instances: Source | list[Any], out_json: str | Path, *,
                                  out_dir: str | Path | None = None,
                                  stuff: Source | None = None, images: Source | None = None,
                                  overlap: str = "error", force: bool = False
                                  ) -> dict[str, Any]:
    """Write COCO panoptic (JSON + PNG folder) from instance (+ stuff) masks; outputs are
    checked first (:func:`~benchmark_eval.converters.base.check_outputs`).

    Returns:
        A summary: ``images``, ``segments``, ``dropped`` (masks that lost every pixel under
        the overlap rule), ``png_dir``.
    """
    check_outputs(files=[out_json], folders=[out_dir or default_folder(out_json)],
                  inputs=[instances, stuff, images], force=force)
    categories, table, frames, dropped = instances_to_panoptic(
        instances, stuff=stuff, images=images, overlap=overlap)
    folder = write_panoptic_dataset(frames, categories, table, out_json, out_dir)
    return {"images": len(frames), "segments": sum(len(f.segments) for f in frames),
            "dropped": dropped, "png_dir": str(folder)}


def convert_panoptic_to_instances(panoptic: Source, out_json: str | Path, *,
                                  panoptic_dir: str | Path | None = None,
                                  things_only: bool = False, force: bool = False
                                  ) -> dict[str, Any]:
    """Write a COCO instances JSON (RLE masks) from COCO panoptic files."""
    check_outputs(files=[out_json], inputs=png_folder(panoptic, panoptic_dir), force=force)
    src = load_coco_panoptic(panoptic, panoptic_dir)
    frames = list(read_frames(src))
    annotations = panoptic_to_instances(frames, src.dataset.categories, things_only=things_only)
    write_instances_dataset(out_json, src.dataset, frames, annotations, things_only=things_only)
    return {"images": len(frames), "annotations": len(annotations)}


def convert_panoptic_to_semantic(panoptic: Source, out_dir: str | Path, *,
                                 panoptic_dir: str | Path | None = None,
                                 void: int = 0, force: bool = False) -> dict[str, Any]:
    """Write one semantic label PNG per image (same file names as the panoptic PNGs, kept
    inside ``out_dir``)."""
    check_outputs(folders=[out_dir], inputs=png_folder(panoptic, panoptic_dir), force=force)
    if not 0 <= void <= 65535:
        raise ConfigError(f"the VOID value must be in 0..65535, got {void}")
    src = load_coco_panoptic(panoptic, panoptic_dir)
    used = set(src.dataset.categories.ids.tolist())
    if void in used:
        raise ConfigError(f"the VOID value {void} is also a category id; choose another")
    out = write_label_pngs(out_dir, src.dataset.file_names,
                           (panoptic_to_semantic(f, void=void) for f in read_frames(src)))
    return {"images": len(src.dataset), "out_dir": str(out)}


# ------------------------------------------------------------------------------------ CLI


def _panoptic_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--panoptic", required=True, type=Path, metavar="PANOPTIC.json")
    parser.add_argument("--panoptic-dir", type=Path, metavar="DIR",
                        help="PNG folder (default: PANOPTIC.json without .json)")


def _instances_to_panoptic_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instances", required=True, type=Path, metavar="INSTANCES.json",
                        help="COCO instances dataset, or a results list (then give --images)")
    parser.add_argument("--stuff", type=Path, metavar="STUFF.json",
                        help="COCO-format stuff annotations on the same images")
    parser.add_argument("--images", type=Path, metavar="GT.json",
                        help="for a results list: the COCO dataset it refers to (images,"
                             " categories)")
    parser.add_argument("--overlap", choices=OVERLAP_RULES, default="error",
                        help="pixels claimed by several masks: 'error' (default) lists them;"
                             " 'first-wins' keeps the first listed; 'higher-score-wins' the"
                             " higher score (results); 'smaller-wins' the smaller mask")
    add_json_output(parser, "PANOPTIC.json", png_folder=True)


def _panoptic_to_instances_arguments(parser: argparse.ArgumentParser) -> None:
    _panoptic_input(parser)
    add_json_output(parser, "INSTANCES.json")
    parser.add_argument("--things-only", action="store_true", help="leave stuff segments out")


def _panoptic_to_semantic_arguments(parser: argparse.ArgumentParser) -> None:
    _panoptic_input(parser)
    parser.add_argument("--out-dir", required=True, type=Path, metavar="DIR")
    parser.add_argument("--void", type=int, default=0, metavar="VALUE",
                        help="label of VOID pixels (default 0, as panopticapi's converter)")
    add_force(parser)


CONVERTERS = (
    Converter(
        "instances-to-panoptic", "COCO instances (+ stuff) -> COCO panoptic JSON + PNGs",
        convert_instances_to_panoptic, _instances_to_panoptic_arguments, wrote_panoptic,
        details="Instance categories become things, stuff categories stuff (unless the"
                " records carry 'isthing'); segment ids are 1, 2, ... per image."),
    Converter(
        "panoptic-to-instances", "COCO panoptic -> COCO instances with RLE masks",
        convert_panoptic_to_instances, _panoptic_to_instances_arguments, wrote_instances,
        details="One annotation per segment, crowd flags and JSON areas kept."),
    Converter(
        "panoptic-to-semantic", "COCO panoptic -> semantic label PNGs (category id per pixel)",
        convert_panoptic_to_semantic, _panoptic_to_semantic_arguments,
        lambda done, _: f"wrote {done['images']} label PNGs to {done['out_dir']}",
        details="One PNG per image, named like the panoptic PNG (8-bit, or 16-bit when an id"
                " exceeds 255)."),
)
"""The ``benchmark-eval convert`` entries of this module."""
