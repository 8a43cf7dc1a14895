"""COCO instance ground truth and COCO results files <-> the common schema.

Reproduces what pycocotools 2.0.11 ``COCO`` / ``COCO.loadRes`` / ``COCO.annToRLE`` make of
the files, and refuses what they would silently mis-score: unknown ids, duplicate
annotation ids, masks of the wrong size, malformed RLE or polygons, non-finite scores.
"""

from __future__ import annotations

__all__ = [
    "RawResults",
    "attach_coco_results",
    "check_coco_ground_truth",
    "check_coco_results",
    "decode_result_masks",
    "load_coco_ground_truth",
    "load_coco_results",
    "open_source",
    "parse_coco_ground_truth",
    "parse_coco_results",
    "read_coco_results",
]

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import InputError, Notice, Problem
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.records import (
    REQUIRED,
    ProblemList,
    float_column,
    int_column,
    vector_column,
)
from benchmark_eval.masks import (
    RleCheck,
    can_rasterize,
    check_compressed_rles,
    combine_runs,
    compress_uncompressed,
    polygons_to_rles,
    rasterize_polygons,
    rle_boxes,
)
from benchmark_eval.schema import (
    Categories,
    Images,
    InstanceDataset,
    Instances,
    MaskRuns,
    Predictions,
)

Source = str | Path | dict[str, Any] | list[Any]
Rle = dict[str, Any]


def open_source(source: Source, default_name: str) -> tuple[Any, str]:
    """Parsed JSON and the name to use in messages (the path, or ``default_name``)."""
    if isinstance(source, (str, Path)):
        return read_json(source), str(source)
    return source, default_name


# ----------------------------------------------------------------------------- ground truth


def load_coco_ground_truth(
    source: Source, *, boxes: bool = True, masks: bool = False, name: str | None = None
) -> tuple[InstanceDataset, list[Notice]]:
    """Read a COCO instance ground-truth file (or an already-loaded dict).

    Args:
        source: Path to the JSON file, or the parsed dict.
        boxes: Require and load each annotation's ``bbox``.
        masks: Require and load each annotation's ``segmentation`` as compressed RLE
            (polygons rasterised by pycocotools, as ``COCO.annToRLE`` does).
        name: How to call the source in messages (default: its path, or ``"<gt>"``).

    Raises:
        InputError: Listing every problem found, each with file and record index.
    """
    data, name = open_source(source, name or "<gt>")
    dataset, problems, notices = parse_coco_ground_truth(data, name, boxes=boxes, masks=masks)
    if problems or dataset is None:
        raise problems.error()
    return dataset, notices


def check_coco_ground_truth(
    source: Source, *, boxes: bool = True, masks: bool = False
) -> tuple[InstanceDataset | None, list[Problem]]:
    """Like :func:`load_coco_ground_truth` but returns the problems instead of raising."""
    try:
        data, name = open_source(source, "<gt>")
    except InputError as exc:
        return None, exc.problems
    dataset, problems, _ = parse_coco_ground_truth(data, name, boxes=boxes, masks=masks)
    return (dataset if not problems else None), problems.summarise()


def _top_level_list(data: Any, key: str, problems: ProblemList) -> list[Any] | None:
    value = data.get(key)
    if not isinstance(value, list):
        got = "missing" if value is None else type(value).__name__
        problems.add(f"'{key}' must be a list, got {got}")
        return None
    if not all(isinstance(r, dict) for r in value):
        for i, r in enumerate(value):
            if not isinstance(r, dict):
                problems.add(f"record is {type(r).__name__}, expected an object", i, key,
                             kind=f"{key} record not an object")
        return None
    return value


def _unique(ids: np.ndarray, field: str, problems: ProblemList) -> None:
    order = np.argsort(ids, kind="stable")
    dup = order[1:][ids[order[1:]] == ids[order[:-1]]]
    for i in dup:
        problems.add(f"duplicate id {int(ids[i])}", int(i), field, kind=f"duplicate {field} id",
                     consistency=True)


def _parse_images(data: dict[str, Any], problems: ProblemList, sizes: bool) -> Images | None:
    records = _top_level_list(data, "images", problems)
    if records is None:
        return None
    ids = int_column(records, "id", "images", problems)
    h = int_column(records, "height", "images", problems, default=REQUIRED if sizes else None)
    w = int_column(records, "width", "images", problems, default=REQUIRED if sizes else None)
    if ids is not None:
        _unique(ids, "images", problems)
    if sizes and h is not None and w is not None:
        for i in np.flatnonzero((h <= 0) | (w <= 0)):
            problems.add(f"height and width must be positive, got {int(h[i])}x{int(w[i])}",
                         int(i), "images", kind="image size not positive")
    if ids is None or (sizes and (h is None or w is None)):
        return None
    zeros = np.zeros(len(ids), dtype=np.int64)
    names = tuple(str(r.get("file_name", "")) for r in records)
    return Images(ids=ids, heights=h if h is not None else zeros,
                  widths=w if w is not None else zeros, file_names=names)


def _parse_categories(data: dict[str, Any], problems: ProblemList) -> Categories | None:
    records = _top_level_list(data, "categories", problems)
    if records is None:
        return None
    ids = int_column(records, "id", "categories", problems)
    if ids is None:
        return None
    _unique(ids, "categories", problems)
    names = tuple(str(r.get("name", "")) for r in records)
    return Categories(ids=ids, names=names, records=tuple(records))


@dataclass
class _AnnotationColumns:
    """Annotation fields as arrays; ``None`` where the field had problems."""

    ids: np.ndarray | None
    image_ids: np.ndarray | None
    category_ids: np.ndarray | None
    areas: np.ndarray | None
    iscrowd: np.ndarray
    ignore: np.ndarray
    boxes: np.ndarray | None


def _flag_column(anns: list[dict[str, Any]], key: str, problems: ProblemList) -> np.ndarray:
    """A 0/1 flag (JSON int or bool, absent = 0) of every annotation, as bool."""
    raw = [a.get(key, 0) for a in anns]
    if not set(map(type, raw)) <= {int, bool} or not set(raw) <= {0, 1}:
        bad = np.array([type(v) not in (int, bool) or v not in (0, 1) for v in raw])
        problems.add_where(bad, "annotations", f"{key} not 0/1",
                           lambda i: f"'{key}' must be 0 or 1, got {raw[i]!r}")
        return np.zeros(len(anns), dtype=bool)
    return np.array(raw, dtype=bool)


def _annotation_columns(anns: list[dict[str, Any]], problems: ProblemList,
                        boxes: bool) -> _AnnotationColumns:
    field = "annotations"
    ids = int_column(anns, "id", field, problems)
    image_ids = int_column(anns, "image_id", field, problems)
    category_ids = int_column(anns, "category_id", field, problems)
    areas = float_column(anns, "area", field, problems)
    iscrowd = _flag_column(anns, "iscrowd", problems)
    ignore = _flag_column(anns, "ignore", problems)
    box_arr = vector_column(anns, "bbox", field, problems, 4) if boxes else None
    if box_arr is not None:
        problems.add_where(
            (box_arr[:, 2] < 0) | (box_arr[:, 3] < 0), field, "negative bbox size",
            lambda i: f"bbox width and height must be >= 0, got {box_arr[i].tolist()}")
    if areas is not None:
        problems.add_where(areas < 0, field, "negative area",
                           lambda i: f"'area' is negative ({areas[i]})")
    return _AnnotationColumns(ids=ids, image_ids=image_ids, category_ids=category_ids,
                              areas=areas, iscrowd=iscrowd, ignore=ignore, boxes=box_arr)


def _check_references(cols: _AnnotationColumns, images: Images, categories: Categories,
                      problems: ProblemList) -> np.ndarray | None:
    """Duplicate ids and ids that point nowhere; returns the image row per annotation.

    Runs on whichever columns parsed, so one malformed field does not hide these problems.
    """
    field = "annotations"
    ids, image_ids, category_ids = cols.ids, cols.image_ids, cols.category_ids
    if ids is not None:
        _unique(ids, field, problems)
    if category_ids is not None:
        problems.add_where(
            categories.lookup(category_ids) < 0, field, "unknown category_id",
            lambda i: f"category_id {int(category_ids[i])} is not in 'categories'",
            consistency=True)
    if image_ids is None:
        return None
    row = images.lookup(image_ids)
    problems.add_where(row < 0, field, "unknown image_id",
                       lambda i: f"image_id {int(image_ids[i])} is not in 'images'",
                       consistency=True)
    return row


def parse_coco_ground_truth(
    data: Any, name: str, *, boxes: bool, masks: bool
) -> tuple[InstanceDataset | None, ProblemList, list[Notice]]:
    """Check and convert parsed COCO GT; the dataset is None when there are problems."""
    problems = ProblemList(name)
    if not isinstance(data, dict):
        problems.add(f"expected a COCO ground-truth object, got {type(data).__name__}")
        return None, problems, []
    images = _parse_images(data, problems, sizes=masks)
    categories = _parse_categories(data, problems)
    anns = _top_level_list(data, "annotations", problems)
    if images is None or categories is None or anns is None:
        return None, problems, []
    cols = _annotation_columns(anns, problems, boxes)
    row = _check_references(cols, images, categories, problems)
    if (problems or row is None or cols.ids is None or cols.image_ids is None
            or cols.category_ids is None or cols.areas is None):
        return None, problems, []
    mask_list, mask_runs = _gt_masks(anns, row, images, problems) if masks else (None, None)
    if problems:
        return None, problems, []
    has_ignore = np.fromiter(("ignore" in a for a in anns), dtype=bool, count=len(anns))
    instances = Instances(ids=cols.ids, image_ids=cols.image_ids,
                          category_ids=cols.category_ids, areas=cols.areas,
                          iscrowd=cols.iscrowd, boxes=cols.boxes, masks=mask_list,
                          has_ignore=has_ignore, ignore=cols.ignore, mask_runs=mask_runs)
    dataset = InstanceDataset(images=images, categories=categories, instances=instances,
                              source=name, info=dict(data.get("info") or {}))
    return dataset, problems, _gt_notices(cols.ids, has_ignore, cols.iscrowd, anns)


def _gt_notices(
    ids: np.ndarray, has_ignore: np.ndarray, iscrowd: np.ndarray, anns: list[dict[str, Any]]
) -> list[Notice]:
    notices = []
    zero = np.flatnonzero(ids == 0)
    if len(zero):
        notices.append(Notice(
            "annotation-id-zero",
            f"{len(zero)} ground-truth annotation(s) have id 0 (first at annotations[{zero[0]}]);"
            " pycocotools records matches by id, so a detection matched to id 0 counts as a"
            " false positive. Reproduced; renumber the annotations to avoid it.",
        ))
    if has_ignore.any():
        idx = np.flatnonzero(has_ignore)
        differ = [int(i) for i in idx if bool(anns[i]["ignore"]) != bool(iscrowd[i])]
        notices.append(Notice(
            "ignore-overridden",
            f"{len(idx)} annotation(s) carry an 'ignore' field; pycocotools replaces it by"
            f" 'iscrowd', so it has no effect ({len(differ)} differ from iscrowd"
            + (f", first at annotations[{differ[0]}]" if differ else "") + "). Reproduced.",
        ))
    return notices


def _gt_masks(
    anns: list[dict[str, Any]], row: np.ndarray, images: Images, problems: ProblemList
) -> tuple[list[Rle] | None, MaskRuns | None]:
    """The masks of every annotation, as ``COCO.annToRLE`` makes them.

    With the C kernels: decoded runs only (polygons rasterised by pycocotools' own
    ``rleFrPoly`` in one call, RLE decoded and checked in one call). Without: compressed
    RLE dicts from pycocotools' Python API, one ``frPyObjects`` call per image size.
    """
    segs: list[Any] = [a.get("segmentation") for a in anns]
    is_poly = np.fromiter((type(s) is list for s in segs), dtype=bool, count=len(segs))
    poly_rows = np.flatnonzero(is_poly)
    flat = _polygon_numbers([segs[i] for i in poly_rows.tolist()])
    if flat is None:
        for i in poly_rows.tolist():
            _polygon_ok(segs[i], i, problems)
    heights, widths = images.heights[row], images.widths[row]
    rle_rows = np.flatnonzero(~is_poly)
    rles: list[Any] = [_gt_rle(segs[i], int(heights[i]), int(widths[i]), i, problems)
                       for i in rle_rows.tolist()]
    if problems or flat is None:
        return None, None
    if can_rasterize():
        coords, part_lengths = flat
        parts_per_object = np.fromiter((len(segs[i]) for i in poly_rows.tolist()),
                                       dtype=np.int64, count=len(poly_rows))
        poly_runs = rasterize_polygons(coords, part_lengths, parts_per_object,
                                       heights[poly_rows], widths[poly_rows])
        check = _check_compressed(rles, rle_rows.tolist(), "annotations", problems)
        if problems or check.runs is None:
            return None, None
        return None, combine_runs([(poly_rows, poly_runs), (rle_rows, check.runs)], len(segs))
    out: list[Any] = [None] * len(anns)
    size_key = heights * (int(widths.max(initial=0)) + 1) + widths
    for key in np.unique(size_key[poly_rows]):
        idx = poly_rows[size_key[poly_rows] == key].tolist()
        for i, rle in zip(idx, polygons_to_rles([segs[i] for i in idx], int(heights[idx[0]]),
                                                int(widths[idx[0]])), strict=True):
            out[i] = rle
    for i, rle in zip(rle_rows.tolist(), rles, strict=True):
        out[i] = rle
    check = _check_compressed(out, list(range(len(out))), "annotations", problems)
    return (None, None) if problems else (out, check.runs)


def _gt_rle(seg: Any, h: int, w: int, i: int, problems: ProblemList) -> Rle | None:
    """A GT RLE segmentation as compressed RLE; ``None`` after recording a problem."""
    if not isinstance(seg, dict):
        got = "missing" if seg is None else type(seg).__name__
        problems.add(f"'segmentation' must be polygons or RLE, got {got}", i, "annotations",
                     kind="segmentation missing or malformed")
        return None
    if not _rle_header_ok(seg, h, w, i, "annotations", problems):
        return None
    if isinstance(seg["counts"], list):
        if not _uncompressed_ok(seg["counts"], h, w, i, problems):
            return None
        rle: Rle = compress_uncompressed([seg], h, w)[0]
        return rle
    return seg


# pycocotools' rleFrPoly scales coordinates by 5 into a C int and allocates along the
# outline: beyond this it overflows or exhausts memory (a segfault, not an error).
MAX_COORDINATE = 2.0**20


def _polygon_numbers(polys: list[list[Any]]) -> tuple[np.ndarray, np.ndarray] | None:
    """All polygon coordinates (float64) and numbers per part, if every polygon is a
    non-empty list of even lists of >= 6 finite numbers within :data:`MAX_COORDINATE`
    (one bulk check); else None."""
    if not all(polys):
        return None
    parts = [part for poly in polys for part in poly]
    if not set(map(type, parts)) <= {list}:
        return None
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    if ((lengths < 6) | (lengths % 2 == 1)).any():
        return None
    numbers = list(itertools.chain.from_iterable(parts))
    if not set(map(type, numbers)) <= {int, float}:
        return None
    coords = np.array(numbers, dtype=np.float64)
    ok = np.isfinite(coords).all() and np.abs(coords).max(initial=0.0) <= MAX_COORDINATE
    return (coords, lengths) if ok else None


def _polygon_ok(seg: list[Any], i: int, problems: ProblemList) -> bool:
    if not seg:
        problems.add("'segmentation' is an empty polygon list", i, "annotations",
                     kind="empty polygon list")
        return False
    for part in seg:
        if (not isinstance(part, list) or len(part) < 6 or len(part) % 2
                or not all(type(x) in (int, float) and math.isfinite(x) for x in part)):
            n = len(part) if isinstance(part, list) else type(part).__name__
            problems.add(
                f"polygon part must be an even list of >= 6 finite numbers, got {n}", i,
                "annotations", kind="malformed polygon")
            return False
        if max(abs(x) for x in part) > MAX_COORDINATE:
            problems.add(f"polygon coordinate beyond +-{MAX_COORDINATE:g} pixels (pycocotools'"
                         " rasteriser would overflow)", i, "annotations",
                         kind="polygon coordinate out of range")
            return False
    return True


def _rle_header_ok(seg: dict[str, Any], h: int, w: int, i: int, field: str,
                   problems: ProblemList) -> bool:
    size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(type(x) is int for x in size)):
        problems.add(f"RLE 'size' must be [height, width], got {size!r}", i, field,
                     kind="malformed RLE size")
        return False
    if not isinstance(counts, (str, list)):
        problems.add(f"RLE 'counts' must be a string or a list, got {type(counts).__name__}",
                     i, field, kind="malformed RLE counts")
        return False
    if size != [h, w]:
        problems.add(f"mask size {size} differs from the image size [{h}, {w}]", i, field,
                     kind="mask size differs from image", consistency=True)
        return False
    return True


_MAX_RUN = 2**32 - 1  # pycocotools stores run lengths as uint32


def _uncompressed_ok(counts: list[Any], h: int, w: int, i: int, problems: ProblemList,
                     field: str = "annotations") -> bool:
    if (not set(map(type, counts)) <= {int} or any(c < 0 or c > _MAX_RUN for c in counts)
            or sum(counts) != h * w):
        problems.add(f"uncompressed RLE counts must be non-negative integers (< 2^32) summing"
                     f" to h*w = {h * w}", i, field, kind="malformed uncompressed RLE")
        return False
    return True


def _check_compressed(rles: Sequence[Rle], index: Sequence[int], field: str,
                      problems: ProblemList, *, sizes: np.ndarray | None = None,
                      store: np.ndarray | None = None,
                      counts: Sequence[Any] | None = None) -> RleCheck:
    """Decode and check compressed RLE dicts; problems name the records by ``index``.

    Args:
        sizes: The masks' ``[h, w]`` if already known, ``(N, 2)``.
        store: Keep the decoded runs of these masks only (all are checked).
        counts: The masks' ``counts`` if already extracted.
    """
    if counts is None:
        counts = [r["counts"] for r in rles]
    if sizes is None:
        sizes = np.array([r["size"] for r in rles], dtype=np.int64).reshape(-1, 2)
    check = check_compressed_rles(counts, sizes[:, 0], sizes[:, 1], store=store)
    for j in np.flatnonzero(~check.ok).tolist():
        problems.add(check.reason[j], index[j], field, kind=f"{field}: malformed RLE")
    return check


# ----------------------------------------------------------------------------- results


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
    data, name = open_source(source, name or "<pred>")
    preds, problems, notices = parse_coco_results(data, name, gt, boxes=boxes, masks=masks)
    if problems or preds is None:
        raise problems.error()
    return preds, notices


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
                      decode: bool = True) -> RawResults:
    """Phase one of ``loadRes``: everything that does not need the ground truth.

    Args:
        decode: Decode and check the masks now; with False, call
            :func:`decode_result_masks` later (to keep only some masks' runs).
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
    if not raw.area_from_box and "segmentation" not in data[0]:
        problems.add("record 0 has neither 'bbox' nor 'segmentation'", 0, field)
        return raw
    if raw.area_from_box or boxes:
        raw.boxes = _result_boxes(data, problems, raw.area_from_box)
    if masks or (boxes and not raw.area_from_box):
        _read_result_masks(data, raw)
        if decode:
            decode_result_masks(raw)
    return raw


def attach_coco_results(raw: RawResults, gt: InstanceDataset, *, boxes: bool, masks: bool
                        ) -> tuple[Predictions | None, ProblemList, list[Notice]]:
    """Phase two of ``loadRes``: ids and mask sizes against the ground truth."""
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
    areas = box_arr[:, 2] * box_arr[:, 3] if raw.area_from_box and box_arr is not None else (
        raw.mask_area)
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


def _result_segmentations(data: list[dict[str, Any]], problems: ProblemList
                          ) -> tuple[list[Rle], list[Any], np.ndarray] | None:
    """The RLE dicts, their ``counts`` and their sizes ``(N, 2)``; ``None`` after recording
    problems. One pass per field; the record-by-record walk only runs on failure."""
    field = "results"
    segs: list[Any] = [r.get("segmentation") for r in data]
    try:
        counts = [s["counts"] for s in segs]
        sizes = [s["size"] for s in segs]
        well_formed = set(map(type, counts)) <= {str, list}
    except (KeyError, TypeError):
        well_formed = False
    if not well_formed:
        bad = np.array([not (isinstance(s, dict) and "size" in s
                             and isinstance(s.get("counts"), (str, list))) for s in segs])
        problems.add_where(bad, field, "segmentation not RLE", lambda i: (
            "missing 'segmentation'" if segs[i] is None else
            "'segmentation' must be an RLE object with 'size' and 'counts' (pycocotools"
            " takes no polygons in results)"))
        return None
    if not (set(map(type, sizes)) <= {list} and set(map(len, sizes)) <= {2}
            and set(map(type, itertools.chain.from_iterable(sizes))) <= {int}):
        bad = np.array([not (isinstance(z, list) and len(z) == 2
                             and all(type(x) is int for x in z)) for z in sizes])
        problems.add_where(bad, field, "malformed RLE size",
                           lambda i: f"RLE 'size' must be [height, width], got {sizes[i]!r}")
        return None
    return segs, counts, np.array(sizes, dtype=np.int64).reshape(-1, 2)


def _read_result_masks(data: list[dict[str, Any]], raw: RawResults) -> None:
    """Masks as compressed RLE, decoded and checked against their own size."""
    field, problems = "results", raw.problems
    parsed = _result_segmentations(data, problems)
    if parsed is None:
        return
    segs, counts, size = parsed
    rles: list[Rle] = segs
    bad = np.zeros(len(segs), dtype=bool)
    if list in set(map(type, counts)):  # uncompressed RLE in results: converted one by one
        rles = list(segs)
        for i in [i for i, c in enumerate(counts) if type(c) is list]:
            h, w = int(size[i, 0]), int(size[i, 1])
            if _uncompressed_ok(counts[i], h, w, i, problems, field):
                rles[i] = compress_uncompressed([segs[i]], h, w)[0]
                counts[i] = rles[i]["counts"]
            else:
                bad[i] = True
    if bad.any():  # still check the other masks, so validate lists every problem
        ok = np.flatnonzero(~bad).tolist()
        _check_compressed([rles[i] for i in ok], ok, field, problems, sizes=size[ok])
        return
    raw.masks, raw.mask_counts, raw.mask_sizes = rles, counts, size


def decode_result_masks(raw: RawResults, store: np.ndarray | None = None) -> None:
    """Decode and check every result mask against its own size (areas, runs).

    Args:
        store: Keep the decoded runs of these detections only (bool per record); the
            others are still checked, and their runs are empty.
    """
    if raw.masks is None or raw.mask_sizes is None:
        return
    check = _check_compressed(raw.masks, range(len(raw.masks)), "results", raw.problems,
                              sizes=raw.mask_sizes, store=store, counts=raw.mask_counts)
    raw.mask_area, raw.mask_runs = check.area, check.runs
