"""COCO instance ground truth and COCO results files <-> the common schema.

Reproduces what pycocotools 2.0.11 ``COCO`` / ``COCO.loadRes`` / ``COCO.annToRLE`` make of
the files, and refuses what they would silently mis-score: unknown ids, duplicate
annotation ids, masks of the wrong size, malformed RLE or polygons, non-finite scores.
"""

from __future__ import annotations

__all__ = [
    "check_coco_ground_truth",
    "check_coco_results",
    "load_coco_ground_truth",
    "load_coco_results",
]

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import ConsistencyError, FormatError, InputError, Notice, Problem
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.records import (
    REQUIRED,
    ProblemList,
    float_column,
    int_column,
    vector_column,
)
from benchmark_eval.masks import (
    check_compressed_rles,
    compress_uncompressed,
    polygons_to_rles,
    rle_boxes,
)
from benchmark_eval.schema import Categories, Images, InstanceDataset, Instances, Predictions

Source = str | Path | dict[str, Any] | list[Any]
Rle = dict[str, Any]


def _open(source: Source, default_name: str) -> tuple[Any, str]:
    if isinstance(source, (str, Path)):
        return read_json(source), str(source)
    return source, default_name


def _raise(problems: ProblemList, consistency: bool = False) -> None:
    if problems:
        cls = ConsistencyError if consistency else FormatError
        raise cls(problems.summarise())


# ----------------------------------------------------------------------------- ground truth


def load_coco_ground_truth(
    source: Source, *, boxes: bool = True, masks: bool = False
) -> tuple[InstanceDataset, list[Notice]]:
    """Read a COCO instance ground-truth file (or an already-loaded dict).

    Args:
        source: Path to the JSON file, or the parsed dict.
        boxes: Require and load each annotation's ``bbox``.
        masks: Require and load each annotation's ``segmentation`` as compressed RLE
            (polygons rasterised by pycocotools, as ``COCO.annToRLE`` does).

    Raises:
        InputError: Listing every problem found, each with file and record index.
    """
    data, name = _open(source, "<gt>")
    dataset, problems, notices = _parse_ground_truth(data, name, boxes=boxes, masks=masks)
    if problems or dataset is None:
        raise InputError(problems.summarise())
    return dataset, notices


def check_coco_ground_truth(
    source: Source, *, boxes: bool = True, masks: bool = False
) -> tuple[InstanceDataset | None, list[Problem]]:
    """Like :func:`load_coco_ground_truth` but returns the problems instead of raising."""
    try:
        data, name = _open(source, "<gt>")
    except InputError as exc:
        return None, exc.problems
    dataset, problems, _ = _parse_ground_truth(data, name, boxes=boxes, masks=masks)
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
        problems.add(f"duplicate id {int(ids[i])}", int(i), field, kind=f"duplicate {field} id")


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


def _parse_ground_truth(
    data: Any, name: str, *, boxes: bool, masks: bool
) -> tuple[InstanceDataset | None, ProblemList, list[Notice]]:
    problems = ProblemList(name)
    notices: list[Notice] = []
    if not isinstance(data, dict):
        problems.add(f"expected a COCO ground-truth object, got {type(data).__name__}")
        return None, problems, notices
    images = _parse_images(data, problems, sizes=masks)
    categories = _parse_categories(data, problems)
    anns = _top_level_list(data, "annotations", problems)
    if images is None or categories is None or anns is None:
        return None, problems, notices
    field = "annotations"
    ids = int_column(anns, "id", field, problems)
    image_ids = int_column(anns, "image_id", field, problems)
    category_ids = int_column(anns, "category_id", field, problems)
    areas = float_column(anns, "area", field, problems)
    crowd_raw = [a.get("iscrowd", 0) for a in anns]
    if not set(map(type, crowd_raw)) <= {int, bool} or not set(crowd_raw) <= {0, 1}:
        for i, v in enumerate(crowd_raw):
            if type(v) not in (int, bool) or v not in (0, 1):
                problems.add(f"'iscrowd' must be 0 or 1, got {v!r}", i, field,
                             kind="iscrowd not 0/1")
    iscrowd = np.array(crowd_raw, dtype=bool)
    if ids is not None:
        _unique(ids, field, problems)
    row = None
    if image_ids is not None:
        row = images.lookup(image_ids)
        for i in np.flatnonzero(row < 0):
            problems.add(f"image_id {int(image_ids[i])} is not in 'images'", int(i), field,
                         kind="unknown image_id")
    if category_ids is not None:
        for i in np.flatnonzero(categories.lookup(category_ids) < 0):
            problems.add(f"category_id {int(category_ids[i])} is not in 'categories'", int(i),
                         field, kind="unknown category_id")
    if areas is not None:
        for i in np.flatnonzero(areas < 0):
            problems.add(f"'area' is negative ({areas[i]})", int(i), field, kind="negative area")
    box_arr = vector_column(anns, "bbox", field, problems, 4) if boxes else None
    if box_arr is not None:
        for i in np.flatnonzero((box_arr[:, 2] < 0) | (box_arr[:, 3] < 0)):
            problems.add(f"bbox width and height must be >= 0, got {box_arr[i].tolist()}",
                         int(i), field, kind="negative bbox size")
    if problems or ids is None or image_ids is None or category_ids is None or areas is None:
        return None, problems, notices
    assert row is not None
    mask_list = _gt_masks(anns, row, images, problems) if masks else None
    if problems:
        return None, problems, notices
    has_ignore = np.fromiter(("ignore" in a for a in anns), dtype=bool, count=len(anns))
    notices.extend(_gt_notices(ids, has_ignore, iscrowd, anns))
    instances = Instances(ids=ids, image_ids=image_ids, category_ids=category_ids, areas=areas,
                          iscrowd=iscrowd, boxes=box_arr, masks=mask_list,
                          has_ignore=has_ignore)
    dataset = InstanceDataset(images=images, categories=categories, instances=instances,
                              source=name, info=dict(data.get("info") or {}))
    return dataset, problems, notices


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
) -> list[Rle]:
    """Compressed RLE for every annotation, rasterised per image as ``annToRLE`` does."""
    field = "annotations"
    segs = [a.get("segmentation") for a in anns]
    is_poly = np.fromiter((type(s) is list for s in segs), dtype=bool, count=len(segs))
    if not _polygons_ok([segs[i] for i in np.flatnonzero(is_poly)]):
        for i in np.flatnonzero(is_poly):
            _polygon_ok(segs[i], int(i), problems)
    out: list[Rle | None] = [None] * len(anns)
    compressed: list[int] = []
    order = np.argsort(row, kind="stable")
    bounds = np.flatnonzero(np.diff(row[order])) + 1
    for group in np.split(order, bounds) if len(order) else []:
        r = int(row[group[0]])
        h, w = int(images.heights[r]), int(images.widths[r])
        poly_idx = [i for i in group.tolist() if is_poly[i]]
        if poly_idx and not problems:
            rles = polygons_to_rles([segs[i] for i in poly_idx], h, w)
            for i, rle in zip(poly_idx, rles, strict=True):
                out[i] = rle
        for i in group.tolist():
            seg = segs[i]
            if is_poly[i]:
                continue
            if not isinstance(seg, dict):
                got = "missing" if seg is None else type(seg).__name__
                problems.add(f"'segmentation' must be polygons or RLE, got {got}", i, field,
                             kind="segmentation missing or malformed")
            elif _rle_header_ok(seg, h, w, i, field, problems):
                if isinstance(seg["counts"], list):
                    if _uncompressed_ok(seg["counts"], h, w, i, problems):
                        out[i] = compress_uncompressed([seg], h, w)[0]
                else:
                    out[i] = seg
                    compressed.append(i)
    if compressed:
        _check_compressed([out[i] for i in compressed], compressed, field, problems)  # type: ignore[misc]
    return [m for m in out if m is not None] if not problems else []


def _polygons_ok(polys: list[list[Any]]) -> bool:
    """Fast check that every polygon is a non-empty list of even lists of >= 6 numbers."""
    if not all(polys):
        return False
    parts = [part for poly in polys for part in poly]
    if not set(map(type, parts)) <= {list}:
        return False
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    if ((lengths < 6) | (lengths % 2 == 1)).any():
        return False
    numbers = list(itertools.chain.from_iterable(parts))
    if not set(map(type, numbers)) <= {int, float}:
        return False
    return bool(np.isfinite(np.array(numbers, dtype=np.float64)).all())


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
                     kind="mask size differs from image")
        return False
    return True


def _uncompressed_ok(counts: list[Any], h: int, w: int, i: int, problems: ProblemList) -> bool:
    if not set(map(type, counts)) <= {int} or any(c < 0 for c in counts) or sum(counts) != h * w:
        problems.add(f"uncompressed RLE counts must be non-negative integers summing to"
                     f" h*w = {h * w}", i, "annotations", kind="malformed uncompressed RLE")
        return False
    return True


def _check_compressed(rles: Sequence[Rle], index: Sequence[int], field: str,
                      problems: ProblemList) -> np.ndarray:
    counts = [c.encode() if isinstance(c, str) else c for c in (r["counts"] for r in rles)]
    sizes = np.array([r["size"] for r in rles], dtype=np.int64).reshape(-1, 2)
    check = check_compressed_rles(counts, sizes[:, 0], sizes[:, 1])
    for j in np.flatnonzero(~check.ok):
        problems.add(check.reason[j], int(index[j]), field, kind=f"{field}: malformed RLE")
    return check.area


# ----------------------------------------------------------------------------- results


def load_coco_results(
    source: Source, gt: InstanceDataset, *, boxes: bool = True, masks: bool = False
) -> tuple[Predictions, list[Notice]]:
    """Read a COCO results file (or an already-loaded list) against its ground truth.

    Reproduces pycocotools ``COCO.loadRes``: the first record decides whether areas come
    from boxes (``bbox`` present) or masks; a missing ``bbox`` is derived from the mask.

    Args:
        source: Path to the JSON results file, or the parsed list.
        gt: The ground truth the results refer to.
        boxes: Load boxes (for ``coco-bbox``).
        masks: Load and check masks (for ``coco-segm``).

    Raises:
        InputError: Listing every problem, each with file and record index.
    """
    data, name = _open(source, "<pred>")
    preds, problems, notices = _parse_results(data, name, gt, boxes=boxes, masks=masks)
    if problems or preds is None:
        raise ConsistencyError(problems.summarise())
    return preds, notices


def check_coco_results(
    source: Source, gt: InstanceDataset, *, boxes: bool = True, masks: bool = False
) -> list[Problem]:
    """Like :func:`load_coco_results` but returns every problem instead of raising."""
    try:
        data, name = _open(source, "<pred>")
    except InputError as exc:
        return exc.problems
    _, problems, _ = _parse_results(data, name, gt, boxes=boxes, masks=masks)
    return problems.summarise()


def _parse_results(
    data: Any, name: str, gt: InstanceDataset, *, boxes: bool, masks: bool
) -> tuple[Predictions | None, ProblemList, list[Notice]]:
    problems = ProblemList(name)
    notices: list[Notice] = []
    field = "results"
    if not isinstance(data, list):
        problems.add(f"a results file must be a JSON list of detections, got "
                     f"{type(data).__name__}")
        return None, problems, notices
    if not data:
        problems.add("the results file has no detections")
        return None, problems, notices
    if not all(isinstance(r, dict) for r in data):
        for i, r in enumerate(data):
            if not isinstance(r, dict):
                problems.add(f"record is {type(r).__name__}, expected an object", i, field,
                             kind="record not an object")
        return None, problems, notices
    image_ids = int_column(data, "image_id", field, problems)
    category_ids = int_column(data, "category_id", field, problems)
    scores = float_column(data, "score", field, problems)
    rows = None
    if image_ids is not None:
        rows = gt.images.lookup(image_ids)
        for i in np.flatnonzero(rows < 0):
            problems.add(f"image_id {int(image_ids[i])} is not in the ground truth", int(i),
                         field, kind="unknown image_id")
    if category_ids is not None:
        for i in np.flatnonzero(gt.categories.lookup(category_ids) < 0):
            problems.add(f"category_id {int(category_ids[i])} is not a ground-truth category",
                         int(i), field, kind="unknown category_id")
    if scores is not None:
        for i in np.flatnonzero((scores < 0) | (scores > 1)):
            problems.add(f"score {scores[i]!r} is outside [0, 1]", int(i), field,
                         kind="score outside [0, 1]")
    first_box = data[0].get("bbox")
    area_from_box = first_box is not None and first_box != []
    if not area_from_box and "segmentation" not in data[0]:
        problems.add("record 0 has neither 'bbox' nor 'segmentation'", 0, field)
        return None, problems, notices
    box_arr = None
    if area_from_box or boxes:
        has_box = np.fromiter(("bbox" in r for r in data), dtype=bool, count=len(data))
        if area_from_box and not has_box.all():
            for i in np.flatnonzero(~has_box):
                problems.add("missing 'bbox' (record 0 has one, so pycocotools takes every"
                             " record's area from its box)", int(i), field,
                             kind="missing bbox")
        else:
            box_arr = _result_boxes(data, has_box, problems)
    mask_list, mask_area = None, None
    if masks or (boxes and not area_from_box):
        if rows is not None:
            mask_list, mask_area = _result_masks(data, rows, gt.images, problems)
    if problems or image_ids is None or category_ids is None or scores is None:
        return None, problems, notices
    if box_arr is not None and np.isnan(box_arr).any():
        assert mask_list is not None
        missing = np.flatnonzero(np.isnan(box_arr[:, 0]))
        box_arr[missing] = rle_boxes([mask_list[i] for i in missing])
    if area_from_box:
        assert box_arr is not None
        areas = box_arr[:, 2] * box_arr[:, 3]
        if masks:
            notices.append(Notice(
                "segm-results-with-bbox",
                "the first result carries 'bbox', so pycocotools (loadRes) takes every"
                " detection's area from its box, not its mask, when sorting detections into"
                " the small/medium/large buckets. Reproduced; drop 'bbox' from segm results"
                " to bucket by mask area.",
            ))
    else:
        assert mask_area is not None
        areas = mask_area
    preds = Predictions(image_ids=image_ids, category_ids=category_ids, scores=scores,
                        areas=areas, boxes=box_arr if boxes else None,
                        masks=mask_list if masks else None, area_from_box=area_from_box)
    return preds, problems, notices


def _result_boxes(data: list[dict[str, Any]], has_box: np.ndarray,
                  problems: ProblemList) -> np.ndarray | None:
    """Boxes of the records that have one; rows without a box are NaN (filled from masks)."""
    out = np.full((len(data), 4), np.nan)
    rows = np.flatnonzero(has_box)
    got = vector_column(data, "bbox", "results", problems, 4, rows=rows)
    if got is None:
        return None
    for j in np.flatnonzero((got[:, 2] < 0) | (got[:, 3] < 0)):
        problems.add(f"bbox width and height must be >= 0, got {got[j].tolist()}",
                     int(rows[j]), "results", kind="negative bbox size")
    out[rows] = got
    return out


def _result_masks(
    data: list[dict[str, Any]], rows: np.ndarray, images: Images, problems: ProblemList
) -> tuple[list[Rle] | None, np.ndarray | None]:
    """Masks as compressed RLE, checked against image sizes, plus their areas."""
    field = "results"
    try:
        segs = [r["segmentation"] for r in data]
    except KeyError:
        for i, r in enumerate(data):
            if "segmentation" not in r:
                problems.add("missing 'segmentation'", i, field, kind="missing segmentation")
        return None, None
    ok = set(map(type, segs)) <= {dict}
    if ok:
        try:
            sizes = [s["size"] for s in segs]
            counts = [s["counts"] for s in segs]
        except KeyError:
            ok = False
    if not ok or not set(map(type, counts)) <= {str, list}:
        for i, s in enumerate(segs):
            if not (isinstance(s, dict) and "size" in s and isinstance(s.get("counts"),
                                                                         (str, list))):
                problems.add("'segmentation' must be an RLE object with 'size' and 'counts'"
                             " (results polygons are not supported by pycocotools)", i, field,
                             kind="segmentation not RLE")
        return None, None
    size_ok = set(map(type, sizes)) <= {list} and set(map(len, sizes)) <= {2}
    size_arr = np.array(sizes, dtype=np.int64) if size_ok else None
    if size_arr is None or size_arr.ndim != 2:
        for i, s in enumerate(sizes):
            if not (isinstance(s, list) and len(s) == 2 and all(type(x) is int for x in s)):
                problems.add(f"RLE 'size' must be [height, width], got {s!r}", i, field,
                             kind="malformed RLE size")
        return None, None
    known = rows >= 0
    expect = np.stack([images.heights[rows], images.widths[rows]], axis=1)
    wrong = known & (size_arr != expect).any(axis=1)
    for i in np.flatnonzero(wrong):
        problems.add(f"mask size {sizes[i]} differs from the image size "
                     f"{expect[i].tolist()} (image_id {int(images.ids[rows[i]])})", int(i),
                     field, kind="mask size differs from image")
    rles: list[Rle] = segs
    unc = [i for i, c in enumerate(counts) if type(c) is list]
    if unc:
        rles = list(segs)
        for i in unc:
            h, w = int(size_arr[i, 0]), int(size_arr[i, 1])
            if _uncompressed_ok(counts[i], h, w, i, problems):
                rles[i] = compress_uncompressed([segs[i]], h, w)[0]
    comp = np.flatnonzero(~wrong)
    area = np.zeros(len(segs), dtype=np.float64)
    if len(comp):
        area[comp] = _check_compressed([rles[i] for i in comp.tolist()], comp.tolist(), field,
                                       problems)
    return rles, area
