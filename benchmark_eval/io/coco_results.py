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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import InputError, Notice, Problem
from benchmark_eval.io.coco_segm import Rle, check_compressed, result_masks
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
    _, problems, _ = parse_coco_results(data, name, gt, boxes=boxes, masks=masks)
    return problems.summarise()


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
    problems, field = raw.problems, "results"
    if not isinstance(data, list):
        problems.add("a results file must be a JSON list of detections, got "
                     f"{type(data).__name__}")
        return raw
    if not data:
        problems.add("the results file has no detections")
        return raw
    if not all(isinstance(r, dict) for r in data):
        bad = np.array([not isinstance(r, dict) for r in data])
        problems.add_where(bad, field, "record not an object",
                           lambda i: f"record is {type(data[i]).__name__}, expected an object")
        return raw
    raw.image_ids = int_column(data, "image_id", field, problems)
    raw.category_ids = int_column(data, "category_id", field, problems)
    scores = raw.scores = float_column(data, "score", field, problems)
    if scores is not None:
        problems.add_where((scores < 0) | (scores > 1), field, "score outside [0, 1]",
                           lambda i: f"score {float(scores[i])!r} is outside [0, 1]")
    first_box = data[0].get("bbox")
    raw.area_from_box = first_box is not None and first_box != []
    if not raw.area_from_box and "segmentation" not in data[0] and not keypoints:
        problems.add("record 0 has neither 'bbox' nor 'segmentation'", 0, field)
        return raw
    if raw.area_from_box or boxes:
        raw.boxes = _result_boxes(data, problems, raw.area_from_box)
    if masks or (boxes and not raw.area_from_box):
        parsed = result_masks(data, problems)
        if parsed is not None:
            raw.masks, raw.mask_counts, raw.mask_sizes = parsed
        if decode:
            decode_result_masks(raw)
    return raw


def read_results_source(source: Source, *, boxes: bool, masks: bool, decode: bool = True,
                        name: str | None = None) -> RawResults:
    """:func:`read_coco_results` of a path (named by it) or a parsed list (``"<pred>"``)."""
    data, name = open_source(source, name or "<pred>")
    return read_coco_results(data, name, boxes=boxes, masks=masks, decode=decode)


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
    problems, field = raw.problems, "results"
    image_ids, category_ids = raw.image_ids, raw.category_ids
    rows = None
    if image_ids is not None:
        rows = gt.images.lookup(image_ids)
        problems.add_where(rows < 0, field, "unknown image_id",
                           lambda i: f"image_id {int(image_ids[i])} is not in the ground truth",
                           consistency=True)
    if category_ids is not None:
        problems.add_where(
            gt.categories.lookup(category_ids) < 0, field, "unknown category_id",
            lambda i: f"category_id {int(category_ids[i])} is not a ground-truth category",
            consistency=True)
    if rows is not None and raw.mask_sizes is not None:
        size, images = raw.mask_sizes, gt.images
        expect = np.stack([images.heights[rows], images.widths[rows]], axis=1)
        problems.add_where((rows >= 0) & (size != expect).any(axis=1), field,
                           "mask size differs from image", lambda i: (
            f"mask size {size[i].tolist()} differs from the image size {expect[i].tolist()}"
            f" (image_id {int(images.ids[rows[i]])})"), consistency=True)
    if problems or image_ids is None or category_ids is None or raw.scores is None:
        return None, problems, []
    box_arr = raw.boxes
    if box_arr is not None and np.isnan(box_arr).any() and raw.masks is not None:
        missing = np.flatnonzero(np.isnan(box_arr[:, 0]))
        box_arr[missing] = rle_boxes([raw.masks[i] for i in missing.tolist()])
    if raw.area_from_box and box_arr is not None:
        areas = box_arr[:, 2] * box_arr[:, 3]
    elif areas is None:
        areas = raw.mask_area
    if areas is None:
        return None, problems, []
    notices = [_SEGM_WITH_BBOX] if raw.area_from_box and masks else []
    preds = Predictions(image_ids=image_ids, category_ids=category_ids, scores=raw.scores,
                        areas=areas, boxes=box_arr if boxes else None,
                        masks=raw.masks if masks else None, area_from_box=raw.area_from_box,
                        mask_runs=raw.mask_runs if masks else None)
    return preds, problems, notices


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
    if raw.masks is None or raw.mask_sizes is None:
        return
    check = check_compressed(raw.masks, range(len(raw.masks)), "results", raw.problems,
                              sizes=raw.mask_sizes, store=store, counts=raw.mask_counts)
    raw.mask_area, raw.mask_runs = check.area, check.runs
