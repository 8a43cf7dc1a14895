"""COCO results files <-> the common schema (:class:`Predictions`).

Reproduces pycocotools 2.0.11 ``COCO.loadRes`` in two phases, so the (larger) results can be
read while the ground truth is: :func:`read_coco_results` checks what needs no GT (types,
finite scores in [0, 1], boxes, masks against their own size), :func:`attach_coco_results`
checks ids and mask sizes against the GT.
"""

from __future__ import annotations

__all__ = [
    "RawResults",
    "attach_coco_results",
    "attach_or_raise",
    "check_coco_results",
    "check_results_against",
    "decode_result_masks",
    "load_coco_results",
    "parse_coco_results",
    "read_coco_results",
    "read_results_source",
]

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import InputError, Notice, Problem, input_notice, strict_problems
from benchmark_eval.io.coco_segm import (
    Rle,
    check_compressed,
    rasterize_by_size,
    result_masks,
    result_polygons,
)
from benchmark_eval.io.inmemory import results_data
from benchmark_eval.io.jsonfile import Source, open_source
from benchmark_eval.io.records import ProblemList, float_column, int_column, vector_column
from benchmark_eval.masks import rle_boxes
from benchmark_eval.schema import InstanceDataset, MaskRuns, Predictions


def load_coco_results(
    source: Source, gt: InstanceDataset, *, boxes: bool = True, masks: bool = False,
    name: str | None = None,
) -> tuple[Predictions, list[Notice]]:
    """Read a COCO results file (or an already-loaded list) against its ground truth.

    Reproduces pycocotools ``COCO.loadRes``: the first record decides whether areas come
    from boxes (``bbox`` present) or masks; a missing ``bbox`` is derived from the mask.

    Args:
        source: Path to the JSON results file, or the parsed list.
        gt: The ground truth the results refer to.
        boxes: Load boxes (for ``coco-bbox``).
        masks: Load and check masks (for ``coco-segm``).
        name: How to call the source in messages (default: its path, or ``"<pred>"``).

    Raises:
        InputError: Listing every problem, each with file and record index.
    """
    raw = read_results_source(source, boxes=boxes, masks=masks, name=name)
    return attach_or_raise(raw, gt, boxes=boxes, masks=masks)


def check_coco_results(
    source: Source, gt: InstanceDataset, *, boxes: bool = True, masks: bool = False
) -> list[Problem]:
    """Like :func:`load_coco_results` but returns every problem instead of raising."""
    try:
        data, name = open_source(source, "<pred>")
    except InputError as exc:
        return exc.problems
    _, problems, notices = parse_coco_results(results_data(data), name, gt, boxes=boxes,
                                              masks=masks)
    return problems.summarise() + strict_problems(notices)


def check_results_against(gt: InstanceDataset | None, gt_problems: list[Problem],
                          source: Source, *, boxes: bool, masks: bool) -> list[Problem]:
    """The problems of a checked ground truth, then those of the results against it (not
    checked when the GT could not be read)."""
    if gt is None:
        where = str(source) if isinstance(source, (str, Path)) else "<pred>"
        return [*gt_problems, Problem(where, "not checked: the ground truth has problems")]
    return gt_problems + check_coco_results(source, gt, boxes=boxes, masks=masks)


@dataclass
class RawResults:
    """A results list read and checked on its own, before its ground truth is known.

    Everything that does not need the GT (types, finite scores, boxes, RLE decoding
    against the mask's own size) is done here, so it can overlap with reading the GT;
    :func:`attach_coco_results` then checks ids and sizes against the GT.
    """

    name: str
    problems: ProblemList
    image_ids: np.ndarray | None = None
    category_ids: np.ndarray | None = None
    scores: np.ndarray | None = None
    area_from_box: bool = False
    boxes: np.ndarray | None = None  # NaN rows: no box in the record
    masks: list[Rle] | None = None
    mask_counts: list[Any] | None = None  # the masks' compressed ``counts`` (str or bytes)
    mask_sizes: np.ndarray | None = None
    mask_area: np.ndarray | None = None
    mask_runs: MaskRuns | None = None
    notices: list[Notice] = field(default_factory=list)
    # records whose mask ``annToRLE`` rasterises at the image's size (``result_polygons``):
    # their rows and polygons, until the GT gives the sizes
    deferred: tuple[np.ndarray, list[Any]] | None = None


def read_coco_results(data: Any, name: str, *, boxes: bool, masks: bool,
                      decode: bool = True, keypoints: bool = False) -> RawResults:
    """Phase one of ``loadRes``: everything that does not need the ground truth.

    Args:
        decode: Decode and check the masks now; with False, call
            :func:`decode_result_masks` later (to keep only some masks' runs).
        keypoints: Keypoint results: record 0 may carry neither ``bbox`` nor
            ``segmentation`` (``loadRes`` then takes areas from the keypoints).
    """
    raw = RawResults(name=name, problems=ProblemList(name))
    problems, where = raw.problems, "results"
    if not isinstance(data, list):
        problems.add("a results file must be a JSON list of detections, got "
                     f"{type(data).__name__}")
        return raw
    if not data:
        return _no_results(raw, boxes=boxes, masks=masks)
    if not all(isinstance(r, dict) for r in data):
        bad = np.array([not isinstance(r, dict) for r in data])
        problems.add_where(bad, where, "record not an object",
                           lambda i: f"record is {type(data[i]).__name__}, expected an object")
        return raw
    raw.image_ids = int_column(data, "image_id", where, problems)
    raw.category_ids = int_column(data, "category_id", where, problems)
    scores = raw.scores = float_column(data, "score", where, problems)
    if scores is not None:
        outside = np.flatnonzero((scores < 0) | (scores > 1))
        if len(outside):
            raw.notices.append(input_notice(
                "score-outside-unit", "detection(s) have a score outside [0, 1]",
                "pycocotools only uses the scores' order, so they are scored as given.",
                file=name, rows=outside, field=where,
                hint="apply the sigmoid / softmax if these are logits"))
    first_box = data[0].get("bbox")
    raw.area_from_box = first_box is not None and first_box != []
    if not raw.area_from_box and "segmentation" not in data[0] and not keypoints:
        problems.add("record 0 has neither 'bbox' nor 'segmentation'", 0, where)
        return raw
    if raw.area_from_box or boxes:
        raw.boxes = _result_boxes(data, problems, raw.area_from_box)
    if masks or (boxes and not raw.area_from_box):
        if raw.area_from_box and masks and raw.boxes is not None:
            data = _defer_polygons(raw, data, raw.boxes)
        parsed = result_masks(data, problems)
        if parsed is not None:
            raw.masks, raw.mask_counts, raw.mask_sizes = parsed
        if decode:
            decode_result_masks(raw)
    return raw


def _no_results(raw: RawResults, *, boxes: bool, masks: bool) -> RawResults:
    """An empty results list, scored as if ``loadRes`` accepted it (it fails on
    ``anns[0]``): no detections, AP 0 wherever the GT has objects (as faster-coco-eval)."""
    raw.image_ids = np.zeros(0, dtype=np.int64)
    raw.category_ids = np.zeros(0, dtype=np.int64)
    raw.scores = np.zeros(0, dtype=np.float64)
    raw.area_from_box = boxes
    raw.boxes = np.zeros((0, 4), dtype=np.float64)
    if masks:
        raw.masks, raw.mask_counts, raw.mask_sizes = [], [], np.zeros((0, 2), dtype=np.int64)
        decode_result_masks(raw)
    raw.notices.append(input_notice(
        "empty-results", "detections: the results list is empty",
        "pycocotools' loadRes fails on it (IndexError); scored as no detections: AP 0"
        " where the ground truth has objects.", file=raw.name, rows=[], field="results",
        hint="check that the model produced detections"))
    return raw


def _defer_polygons(raw: RawResults, data: list[dict[str, Any]], boxes: np.ndarray
                    ) -> list[dict[str, Any]]:
    """Set polygon and box-only records aside until the image sizes are known."""
    data, poly, absent, polygons = result_polygons(data, boxes, raw.problems)
    if not polygons:
        return data
    raw.deferred = (np.concatenate([poly, absent]), polygons)
    if len(poly):
        raw.notices.append(input_notice(
            "result-polygons", "detection(s) give their segmentation as polygons",
            "the first result has a 'bbox', so pycocotools' loadRes keeps them and"
            " annToRLE rasterises them at the image size. Reproduced.", file=raw.name,
            rows=poly, field="results", hint="encode the masks as RLE"))
    if len(absent):
        raw.notices.append(input_notice(
            "box-results-for-segm", "detection(s) have a 'bbox' and no 'segmentation'",
            "pycocotools' loadRes turns each box into a rectangle polygon mask. Reproduced.",
            file=raw.name, rows=absent, field="results",
            hint="these look like box results: use coco-bbox"))
    return data


def read_results_source(source: Source, *, boxes: bool, masks: bool, decode: bool = True,
                        name: str | None = None) -> RawResults:
    """:func:`read_coco_results` of a path (named by it) or a parsed list (``"<pred>"``)."""
    data, name = open_source(source, name or "<pred>")
    return read_coco_results(results_data(data), name, boxes=boxes, masks=masks,
                             decode=decode)


def attach_or_raise(raw: RawResults, gt: InstanceDataset, *, boxes: bool, masks: bool
                    ) -> tuple[Predictions, list[Notice]]:
    """:func:`attach_coco_results`, raising the problems of both phases.

    Raises:
        InputError: Listing every problem, each with file and record index.
    """
    preds, problems, notices = attach_coco_results(raw, gt, boxes=boxes, masks=masks)
    if problems or preds is None:
        raise problems.error()
    return preds, notices


def attach_coco_results(raw: RawResults, gt: InstanceDataset, *, boxes: bool, masks: bool,
                        areas: np.ndarray | None = None
                        ) -> tuple[Predictions | None, ProblemList, list[Notice]]:
    """Phase two of ``loadRes``: ids and mask sizes against the ground truth.

    Args:
        areas: The detections' areas when neither boxes nor masks give them (keypoints).
    """
    problems, where = raw.problems, "results"
    image_ids, category_ids = raw.image_ids, raw.category_ids
    rows = None
    notices = list(raw.notices)
    if image_ids is not None:
        rows = gt.images.lookup(image_ids)
        problems.add_where(rows < 0, where, "unknown image_id",
                           lambda i: f"image_id {int(image_ids[i])} is not in the ground truth",
                           consistency=True)
    if category_ids is not None:
        unknown = np.flatnonzero(gt.categories.lookup(category_ids) < 0)
        if len(unknown):
            notices.append(input_notice(
                "result-category-unknown", "detection(s) have a category_id that is not a"
                " ground-truth category", "pycocotools never evaluates them"
                " (getAnnIds(catIds=...)). Reproduced.", file=raw.name, rows=unknown,
                field=where, hint="check the category id mapping (e.g. contiguous 0..K-1"
                " indices instead of the dataset's category ids)"))
    if rows is not None and raw.deferred is not None and not problems:
        _rasterize_deferred(raw, gt, rows)
    if rows is not None and raw.mask_sizes is not None:
        size, images = raw.mask_sizes, gt.images
        expect = np.stack([images.heights[rows], images.widths[rows]], axis=1)
        problems.add_where((rows >= 0) & (size != expect).any(axis=1), where,
                           "mask size differs from image", lambda i: (
            f"mask size {size[i].tolist()} differs from the image size {expect[i].tolist()}"
            f" (image_id {int(images.ids[rows[i]])})"), consistency=True)
    if problems or image_ids is None or category_ids is None or raw.scores is None:
        return None, problems, notices
    box_arr = raw.boxes
    if box_arr is not None and np.isnan(box_arr).any() and raw.masks is not None:
        missing = np.flatnonzero(np.isnan(box_arr[:, 0]))
        box_arr[missing] = rle_boxes([raw.masks[i] for i in missing.tolist()])
    if raw.area_from_box and box_arr is not None:
        areas = box_arr[:, 2] * box_arr[:, 3]
    elif areas is None:
        areas = raw.mask_area
    if areas is None:
        return None, problems, notices
    if raw.area_from_box and masks and len(image_ids):
        notices.insert(0, _SEGM_WITH_BBOX)
    preds = Predictions(image_ids=image_ids, category_ids=category_ids, scores=raw.scores,
                        areas=areas, boxes=box_arr if boxes else None,
                        masks=raw.masks if masks else None, area_from_box=raw.area_from_box,
                        mask_runs=raw.mask_runs if masks else None)
    return preds, problems, notices


def _rasterize_deferred(raw: RawResults, gt: InstanceDataset, rows: np.ndarray) -> None:
    """Rasterise the deferred polygons at their images' sizes, then decode every mask."""
    if raw.deferred is None or raw.masks is None or raw.mask_counts is None or (
            raw.mask_sizes is None):
        return
    index, polygons = raw.deferred
    img = rows[index]
    heights, widths = gt.images.heights[img], gt.images.widths[img]
    for i, rle in zip(index.tolist(), rasterize_by_size(polygons, heights, widths),
                      strict=True):
        raw.masks[i], raw.mask_counts[i] = rle, rle["counts"]
    raw.mask_sizes[index] = np.stack([heights, widths], axis=1)
    raw.deferred = None
    decode_result_masks(raw)


def parse_coco_results(
    data: Any, name: str, gt: InstanceDataset, *, boxes: bool, masks: bool
) -> tuple[Predictions | None, ProblemList, list[Notice]]:
    """Check and convert a parsed results list; None when there are problems."""
    raw = read_coco_results(data, name, boxes=boxes, masks=masks)
    return attach_coco_results(raw, gt, boxes=boxes, masks=masks)


_SEGM_WITH_BBOX = Notice(
    "segm-results-with-bbox",
    "the first result carries 'bbox', so pycocotools (loadRes) takes every detection's area"
    " from its box, not its mask, when sorting detections into the small/medium/large"
    " buckets. Reproduced; drop 'bbox' from segm results to bucket by mask area.",
)


def _result_boxes(data: list[dict[str, Any]], problems: ProblemList,
                  required: bool) -> np.ndarray | None:
    """Boxes of the records that have one; rows without a box are NaN (filled from masks).

    When ``required`` (record 0 has a box), pycocotools takes every area from the box, so
    a record without one is an error (pycocotools itself fails with a KeyError).
    """
    has_box = np.fromiter(("bbox" in r for r in data), dtype=bool, count=len(data))
    if required and not has_box.all():
        problems.add_where(~has_box, "results", "missing bbox", lambda i: (
            "missing 'bbox' (record 0 has one, so pycocotools takes every record's area from"
            " its box)"))
        return None
    out = np.full((len(data), 4), np.nan)
    rows = np.flatnonzero(has_box)
    got = vector_column(data, "bbox", "results", problems, 4, rows=rows)
    if got is None:
        return None
    problems.add_where(
        (got[:, 2] < 0) | (got[:, 3] < 0), "results", "negative bbox size",
        lambda j: f"bbox width and height must be >= 0, got {got[j].tolist()}")
    out[rows] = got
    return out


def decode_result_masks(raw: RawResults, store: np.ndarray | None = None) -> None:
    """Decode and check every result mask against its own size (areas, runs).

    Args:
        store: Keep the decoded runs of these detections only (bool per record); the
            others are still checked, and their runs are empty.
    """
    if raw.masks is None or raw.mask_sizes is None or raw.deferred is not None:
        return  # deferred polygons: decoded once rasterised (attach_coco_results)
    check = check_compressed(raw.masks, range(len(raw.masks)), "results", raw.problems,
                              sizes=raw.mask_sizes, store=store, counts=raw.mask_counts)
    raw.mask_area, raw.mask_runs = check.area, check.runs
