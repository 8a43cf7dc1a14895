"""COCO instance ground truth <-> the common schema (:class:`InstanceDataset`).

Reproduces what pycocotools 2.0.11 ``COCO`` makes of an instances file, and refuses what it
would silently mis-score: unknown or duplicate ids, negative sizes and areas, flags that are
not 0/1, malformed segmentations (:mod:`benchmark_eval.io.coco_segm`).
"""

from __future__ import annotations

__all__ = ["check_coco_ground_truth", "load_coco_ground_truth", "parse_coco_ground_truth"]

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import InputError, Notice, Problem, input_notice, strict_problems
from benchmark_eval.io.coco_segm import gt_masks
from benchmark_eval.io.inmemory import unwrap_dataset
from benchmark_eval.io.jsonfile import Source, open_source
from benchmark_eval.io.records import ProblemList, float_column, int_column, vector_column
from benchmark_eval.schema import Categories, Images, InstanceDataset, Instances


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
    dataset, problems, notices = parse_coco_ground_truth(unwrap_dataset(data), name,
                                                         boxes=boxes, masks=masks)
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
    dataset, problems, notices = parse_coco_ground_truth(unwrap_dataset(data), name,
                                                         boxes=boxes, masks=masks)
    return (dataset if not problems else None), problems.summarise() + strict_problems(notices)


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


def _last_rows(ids: np.ndarray) -> np.ndarray:
    """Per row, the last row with the same id (pycocotools' index dicts keep the last
    record of an id: ``imgs``, ``cats``, ``anns``)."""
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    new_group = np.r_[True, s[1:] != s[:-1]] if len(s) else np.zeros(0, dtype=bool)
    is_last = np.r_[new_group[1:], True] if len(s) else new_group
    out = np.empty_like(order)
    out[order] = order[is_last][np.cumsum(new_group) - 1]
    return out


def _parse_images(data: dict[str, Any], problems: ProblemList, sizes: bool
                  ) -> tuple[Images | None, np.ndarray]:
    """The image table and the rows without an integer height and width (only allowed
    when ``sizes`` is False: pycocotools never reads them for boxes)."""
    none = np.zeros(0, dtype=np.int64)
    records = _top_level_list(data, "images", problems)
    if records is None:
        return None, none
    ids = int_column(records, "id", "images", problems)
    if sizes:
        h = int_column(records, "height", "images", problems)
        w = int_column(records, "width", "images", problems)
    else:
        h, w, none = _optional_sizes(records)
    if sizes and h is not None and w is not None:
        for i in np.flatnonzero((h <= 0) | (w <= 0)):
            problems.add(f"height and width must be positive, got {int(h[i])}x{int(w[i])}",
                         int(i), "images", kind="image size not positive")
    if ids is None or h is None or w is None:
        return None, none
    names = tuple(str(r.get("file_name", "")) for r in records)
    return Images(ids=ids, heights=h, widths=w, file_names=names), none


def _optional_sizes(records: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heights and widths where they are integers (0 elsewhere), and the rows lacking one."""
    scratch = ProblemList("")
    h = int_column(records, "height", "images", scratch, default=None)
    w = int_column(records, "width", "images", scratch, default=None)
    if h is not None and w is not None:
        return h, w, np.zeros(0, dtype=np.int64)
    ok = np.array([type(r.get("height")) is int and type(r.get("width")) is int
                   for r in records], dtype=bool)
    hw = np.array([[r["height"], r["width"]] if k else [0, 0]
                   for r, k in zip(records, ok, strict=True)], dtype=np.int64).reshape(-1, 2)
    return hw[:, 0].copy(), hw[:, 1].copy(), np.flatnonzero(~ok)


def _parse_categories(data: dict[str, Any], problems: ProblemList) -> Categories | None:
    records = _top_level_list(data, "categories", problems)
    if records is None:
        return None
    ids = int_column(records, "id", "categories", problems)
    if ids is None:
        return None
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


def _check_references(cols: _AnnotationColumns, images: Images,
                      problems: ProblemList) -> np.ndarray | None:
    """Annotations on images that do not exist (pycocotools' ``annToRLE`` and ``loadRes``
    would fail with a KeyError); returns the image row per annotation."""
    image_ids = cols.image_ids
    if image_ids is None:
        return None
    row = images.lookup(image_ids)
    problems.add_where(row < 0, "annotations", "unknown image_id",
                       lambda i: f"image_id {int(image_ids[i])} is not in 'images'",
                       consistency=True)
    return row


def parse_coco_ground_truth(
    data: Any, name: str, *, boxes: bool, masks: bool
) -> tuple[InstanceDataset | None, ProblemList, list[Notice]]:
    """Check and convert parsed COCO GT; the dataset is None when there are problems.

    Duplicate ids are resolved as pycocotools' index resolves them (:func:`_deduplicate`),
    with a notice; annotations of a category not in ``categories`` are kept in the table
    and never evaluated (``getAnnIds(catIds=...)``), with a notice.
    """
    problems = ProblemList(name)
    if not isinstance(data, dict):
        problems.add(f"expected a COCO ground-truth object, got {type(data).__name__}")
        return None, problems, []
    dataset, notices, fixed = _parse(data, name, problems, boxes=boxes, masks=masks)
    if fixed is not None and not problems:
        dataset, more, _ = _parse(fixed, name, problems, boxes=boxes, masks=masks,
                                  resolved=True)
        notices += more
    return (None if problems else dataset), problems, notices


def _parse(data: dict[str, Any], name: str, problems: ProblemList, *, boxes: bool,
           masks: bool, resolved: bool = False
           ) -> tuple[InstanceDataset | None, list[Notice], dict[str, Any] | None]:
    """One parse; the third value is ``data`` with duplicate ids resolved, if it had any."""
    images, no_size = _parse_images(data, problems, sizes=masks)
    categories = _parse_categories(data, problems)
    anns = _top_level_list(data, "annotations", problems)
    if images is None or categories is None or anns is None:
        return None, [], None
    cols = _annotation_columns(anns, problems, boxes)
    row = _check_references(cols, images, problems)
    if (problems or row is None or cols.ids is None or cols.image_ids is None
            or cols.category_ids is None or cols.areas is None):
        return None, [], None
    fixed, notices = (None, []) if resolved else _deduplicate(
        data, name, images.ids, categories.ids, cols.ids)
    if fixed is not None:
        return None, notices, fixed
    mask_list, mask_runs = gt_masks(anns, row, images, problems) if masks else (None, None)
    if problems:
        return None, [], None
    has_ignore = np.fromiter(("ignore" in a for a in anns), dtype=bool, count=len(anns))
    instances = Instances(ids=cols.ids, image_ids=cols.image_ids,
                          category_ids=cols.category_ids, areas=cols.areas,
                          iscrowd=cols.iscrowd, boxes=cols.boxes, masks=mask_list,
                          has_ignore=has_ignore, ignore=cols.ignore, mask_runs=mask_runs)
    dataset = InstanceDataset(images=images, categories=categories, instances=instances,
                              source=name, info=_info(data))
    unknown = np.flatnonzero(categories.lookup(cols.category_ids) < 0)
    notices = [*_input_notices(name, no_size, unknown),
               *_gt_notices(cols.ids, has_ignore, cols.iscrowd, anns)]
    return dataset, notices, None


_DUPLICATES = {
    "images": "pycocotools' index keeps the last record of each image id",
    "categories": "pycocotools' index keeps the last record of each category id, and"
                  " evaluates the id once",
    "annotations": "pycocotools loads annotations by id, so each of them is replaced by the"
                   " last annotation with its id (which is then evaluated twice)",
}


def _deduplicate(data: dict[str, Any], name: str, image_ids: np.ndarray,
                 category_ids: np.ndarray, ann_ids: np.ndarray
                 ) -> tuple[dict[str, Any] | None, list[Notice]]:
    """``data`` as pycocotools' index sees it when ids repeat (``COCO.createIndex`` keeps
    the last record of an id; ``loadAnns(getAnnIds())`` maps every annotation to it), with
    a notice per table; ``(None, [])`` when every id is unique."""
    fixed: dict[str, Any] = {}
    notices = []
    for key, ids in (("images", image_ids), ("categories", category_ids),
                     ("annotations", ann_ids)):
        last = _last_rows(ids)
        dup = np.flatnonzero(last != np.arange(len(ids)))
        if not len(dup):
            continue
        records = data[key]
        if key == "annotations":
            fixed[key] = [records[j] for j in last.tolist()]
        else:
            fixed[key] = [r for i, r in enumerate(records) if last[i] == i]
        notices.append(input_notice(
            f"duplicate-{key[:-1].replace('categorie', 'category')}-id",
            f"{key} record(s) share their id with a later one", _DUPLICATES[key] + ".",
            file=name, rows=dup, field=key, hint=f"give every {key} record its own id"))
    return ({**data, **fixed} if fixed else None), notices


_GT_NOTICES = {  # code: (what, effect, field, hint)
    "image-size-missing": (
        "image(s) lack an integer height and width",
        "pycocotools never reads them for boxes, so they are not needed here.", "images",
        "add height and width (coco-segm and coco-boundary need them)"),
    "gt-category-unknown": (
        "annotation(s) have a category_id not in 'categories'",
        "pycocotools never evaluates them (getAnnIds(catIds=...)). Reproduced.",
        "annotations", "add the category to 'categories' or remove the annotations"),
}


def _input_notices(name: str, no_size: np.ndarray, unknown: np.ndarray) -> list[Notice]:
    rows = {"image-size-missing": no_size, "gt-category-unknown": unknown}
    return [input_notice(code, what, effect, file=name, rows=rows[code], field=field,
                         hint=hint)
            for code, (what, effect, field, hint) in _GT_NOTICES.items() if len(rows[code])]


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


def _info(data: dict[str, Any]) -> dict[str, Any]:
    """The ``info`` object, or ``{}``: pycocotools and lvis-api never read it, so an ``info``
    that is not an object does not stop the evaluation."""
    info = data.get("info")
    return dict(info) if isinstance(info, dict) else {}
