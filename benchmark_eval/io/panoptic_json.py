"""COCO panoptic JSON -> the common schema: ``annotations`` / ``segments_info`` records checked
column-wise, every inconsistency named.

The format (cocodataset/panopticapi, ``evaluation.py`` and ``converters/``): per image an
annotation with a PNG ``file_name`` and its ``segments_info`` (``id``, ``category_id``,
``iscrowd``, ``area``), plus ``categories`` with ``isthing``. Problems name images by
:func:`image_label`: their id, or the original id when an adapter renumbered them
(Cityscapes' string ids).
"""

from __future__ import annotations

__all__ = ["ImageNames", "image_label", "match_predictions", "parse_coco_panoptic"]

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import MissingPredictionError, Problem, cut_problems
from benchmark_eval.io.records import ProblemList, int_column
from benchmark_eval.schema import Images
from benchmark_eval.schema.instances import lookup_rows
from benchmark_eval.schema.panoptic import (
    MAX_SEGMENT_ID,
    VOID,
    PanopticCategories,
    PanopticDataset,
    Segments,
)

ImageNames = Mapping[int, Any]  # image id as numbered -> the file's own id (Cityscapes)
_BOOL_INT = frozenset({int, bool})
_NUMBER = frozenset({int, float})
_Label = Callable[[int], str]  # annotation row -> how problems name its image


def image_label(image_id: int | np.integer, names: ImageNames | None = None) -> str:
    """How problems name an image: its id, or (``names``) the original id's ``repr``.

    >>> image_label(3), image_label(3, {3: "frankfurt_000000_000294"})
    ('3', "'frankfurt_000000_000294'")
    """
    key = int(image_id)
    return str(key) if names is None else repr(names.get(key, key))




def _list_of_objects(data: dict[str, Any], key: str, problems: ProblemList) -> list[Any] | None:
    value = data.get(key)
    if not isinstance(value, list):
        got = "missing" if value is None else type(value).__name__
        problems.add(f"'{key}' must be a list, got {got}")
        return None
    bad = [i for i, r in enumerate(value) if not isinstance(r, dict)]
    for i in bad:
        problems.add(f"record is {type(value[i]).__name__}, expected an object", i, key,
                     kind=f"{key} record not an object")
    return None if bad else value


def _duplicates(keys: np.ndarray) -> np.ndarray:
    """Rows whose key equals an earlier row's."""
    order = np.argsort(keys, kind="stable")
    same = keys[order[1:]] == keys[order[:-1]]
    return np.sort(order[1:][same])


def _categories(data: dict[str, Any], problems: ProblemList) -> PanopticCategories | None:
    records = _list_of_objects(data, "categories", problems)
    if records is None:
        return None
    ids = int_column(records, "id", "categories", problems)
    isthing = [r.get("isthing") for r in records]
    for i, v in enumerate(isthing):
        if type(v) not in _BOOL_INT or v not in (0, 1):
            problems.add(f"'isthing' must be 0 or 1, got {v!r}", i, "categories",
                         kind="categories isthing not 0/1")
    if ids is None:
        return None
    for i in _duplicates(ids).tolist():
        problems.add(f"duplicate category id {int(ids[i])}", i, "categories",
                     kind="duplicate category id", consistency=True)
    return PanopticCategories(ids=ids, names=tuple(str(r.get("name", "")) for r in records),
                              isthing=np.array([v == 1 for v in isthing], dtype=bool),
                              records=tuple(records))


def _images(data: dict[str, Any]) -> Images | None:
    """The optional ``images`` table (panopticapi does not read it); None if unusable."""
    records = data.get("images")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    scratch = ProblemList("")
    ids = int_column(records, "id", "images", scratch)
    h = int_column(records, "height", "images", scratch)
    w = int_column(records, "width", "images", scratch)
    if ids is None or h is None or w is None or scratch:
        return None
    return Images(ids=ids, heights=h, widths=w,
                  file_names=tuple(str(r.get("file_name", "")) for r in records))


@dataclass
class _Flat:
    """Every ``segments_info`` record in one list, with where it came from."""

    records: list[Any]
    owner: np.ndarray  # annotation index per record
    position: np.ndarray  # index inside its segments_info

    def where(self, k: int) -> tuple[int, str]:
        return int(self.position[k]), f"annotations[{int(self.owner[k])}].segments_info"


def _flatten(anns: list[dict[str, Any]], problems: ProblemList) -> _Flat | None:
    raw = [a.get("segments_info") for a in anns]
    for i, v in enumerate(raw):
        if not isinstance(v, list):
            got = "missing" if v is None else type(v).__name__
            problems.add(f"'segments_info' must be a list, got {got}", i, "annotations",
                         kind="segments_info not a list")
    infos: list[list[Any]] = [v for v in raw if isinstance(v, list)]
    if len(infos) != len(raw):
        return None
    ok = True
    sizes = np.array([len(v) for v in infos], dtype=np.int64)
    flat = _Flat([r for v in infos for r in v], np.repeat(np.arange(len(anns)), sizes),
                 np.concatenate([np.arange(n) for n in sizes.tolist()] or [np.zeros(0, int)]))
    for k, r in enumerate(flat.records):
        if not isinstance(r, dict):
            j, field = flat.where(k)
            problems.add(f"segment record is {type(r).__name__}, expected an object", j, field,
                         kind="segment not an object")
            ok = False
    return flat if ok else None


def _segment_ints(flat: _Flat, key: str, problems: ProblemList,
                  default: int | None = None) -> np.ndarray | None:
    values = [r.get(key, default) for r in flat.records]
    kinds = set(map(type, values))
    if kinds <= {int} or (default is not None and kinds <= _BOOL_INT):
        try:
            return np.array(values, dtype=np.int64) if values else np.zeros(0, dtype=np.int64)
        except OverflowError:  # ids are RGB-encoded (< 2**24): this one can never match
            problems.add(f"segments_info '{key}' has integers outside the 64-bit range",
                         None, "segments_info")
            return None
    for k, v in enumerate(values):
        if type(v) is not int and not (default is not None and type(v) is bool):
            j, field = flat.where(k)
            what = "missing" if v is None else repr(v)
            problems.add(f"segment '{key}' must be an integer, got {what}", j, field,
                         kind=f"segment '{key}' not an integer")
    return None


def _segment_areas(flat: _Flat, problems: ProblemList) -> np.ndarray | None:
    values = [r.get("area") for r in flat.records]
    if not set(map(type, values)) <= _NUMBER:
        for k, v in enumerate(values):
            if type(v) not in _NUMBER:
                j, field = flat.where(k)
                problems.add(f"segment 'area' must be a number, got "
                             f"{'missing' if v is None else repr(v)}", j, field,
                             kind="segment area not a number")
        return None
    areas = np.array(values, dtype=np.float64)
    for k in np.flatnonzero(~(np.isfinite(areas) & (areas > 0))).tolist():
        j, field = flat.where(k)
        problems.add(f"segment 'area' must be a positive pixel count, got {values[k]!r}",
                     j, field, kind="segment area not positive")
    return areas


def _check_segment_ids(flat: _Flat, ids: np.ndarray, image: _Label,
                       problems: ProblemList) -> None:
    bad = (ids <= VOID) | (ids > MAX_SEGMENT_ID)
    for k in np.flatnonzero(bad).tolist():
        j, field = flat.where(k)
        why = ("0 is VOID" if ids[k] == VOID else "ids must be in 1 .. 16777215 to fit an RGB"
               " pixel")
        problems.add(f"segment id {int(ids[k])} cannot be used ({why}; image_id="
                     f"{image(flat.owner[k])})", j, field, kind="segment id range")
    key = flat.owner * (MAX_SEGMENT_ID + 1) + (ids & MAX_SEGMENT_ID)
    for k in _duplicates(key).tolist():
        j, field = flat.where(k)
        problems.add(f"duplicate segment id {int(ids[k])} in image_id "
                     f"{image(flat.owner[k])}", j, field, kind="duplicate segment id",
                     consistency=True)


def _check_categories(flat: _Flat, cats: np.ndarray, image: _Label,
                      categories: PanopticCategories, problems: ProblemList) -> None:
    for k in np.flatnonzero(categories.lookup(cats) < 0).tolist():
        j, field = flat.where(k)
        problems.add(f"segment {flat.records[k].get('id')!r} of image_id "
                     f"{image(flat.owner[k])} has category_id {int(cats[k])}, which is"
                     " not in the ground truth's 'categories'", j, field,
                     kind="unknown segment category", consistency=True)


def _annotations(anns: list[dict[str, Any]], problems: ProblemList,
                 ground_truth: PanopticDataset | None, names: ImageNames | None
                 ) -> tuple[np.ndarray, list[str]] | None:
    image_ids = int_column(anns, "image_id", "annotations", problems)
    file_names = [a.get("file_name") for a in anns]
    for i, v in enumerate(file_names):
        if not isinstance(v, str) or not v:
            problems.add(f"'file_name' must be a PNG file name, got {v!r}", i, "annotations",
                         kind="file_name missing")
    if image_ids is None:
        return None
    if ground_truth is None:  # GT only: a prediction's last one wins (io.panoptic notices)
        for i in _duplicates(image_ids).tolist():
            problems.add(f"duplicate image_id {image_label(image_ids[i], names)} (one"
                         " annotation per image)", i, "annotations", kind="duplicate image_id",
                         consistency=True)
    # predictions of images not in the ground truth: panopticapi never reads them (it
    # iterates the GT's annotations); io.panoptic.unmatched_notice reports them
    return image_ids, [str(v) for v in file_names]


def parse_coco_panoptic(data: Any, name: str, *, ground_truth: PanopticDataset | None = None,
                        names: ImageNames | None = None
                        ) -> tuple[PanopticDataset | None, ProblemList]:
    """Check parsed COCO panoptic JSON; the dataset is None when there are problems.

    Args:
        data: The parsed JSON.
        name: The file, for problems.
        ground_truth: For predictions: the ground truth whose categories and images they
            must use (prediction ``categories``, ``iscrowd`` and ``area`` are not read).
        names: Original image ids by number, when the adapter renumbered them.
    """
    problems = ProblemList(name)
    if not isinstance(data, dict):
        problems.add(f"expected a COCO panoptic object with 'annotations', got "
                     f"{type(data).__name__}")
        return None, problems
    categories = (_categories(data, problems) if ground_truth is None
                  else ground_truth.categories)
    anns = _list_of_objects(data, "annotations", problems)
    if anns is None:
        return None, problems
    header = _annotations(anns, problems, ground_truth, names)
    flat = _flatten(anns, problems)
    if header is None or flat is None or categories is None:
        return None, problems
    image_ids, file_names = header

    def image(row: int) -> str:
        return image_label(image_ids[row], names)

    ids = _segment_ints(flat, "id", problems)
    cats = _segment_ints(flat, "category_id", problems)
    is_gt = ground_truth is None
    crowd = _segment_ints(flat, "iscrowd", problems, default=0) if is_gt else None
    areas = _segment_areas(flat, problems) if is_gt else np.full(len(flat.records), np.nan)
    if crowd is not None:
        for k in np.flatnonzero((crowd != 0) & (crowd != 1)).tolist():
            j, field = flat.where(k)
            problems.add(f"segment 'iscrowd' must be 0 or 1, got {int(crowd[k])}", j, field,
                         kind="segment iscrowd not 0/1")
    if ids is not None:
        _check_segment_ids(flat, ids, image, problems)
    if cats is not None:
        _check_categories(flat, cats, image, categories, problems)
    if problems or ids is None or cats is None or areas is None:
        return None, problems
    offsets = np.zeros(len(anns) + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat.owner, minlength=len(anns)), out=offsets[1:])
    segments = Segments.build(ids, cats, crowd if crowd is not None else None, areas)
    extra = {k: v for k, v in data.items() if k not in ("annotations", "categories")}
    return PanopticDataset(image_ids=image_ids, file_names=tuple(file_names), categories=categories,
                           segments=segments, offsets=offsets, images=_images(data),
                           source=name, info=extra), problems


def match_predictions(gt: PanopticDataset, pred: PanopticDataset, *,
                      names: ImageNames | None = None) -> np.ndarray:
    """The prediction row of every ground-truth image.

    Raises:
        MissingPredictionError: Ground-truth images without a prediction (panopticapi
            stops at the first with "no prediction for the image").
    """
    # panopticapi's {image_id: annotation} dict keeps the last prediction of an image
    n = len(pred.image_ids)
    last = lookup_rows(pred.image_ids[::-1], gt.image_ids)
    row = np.where(last >= 0, n - 1 - last, -1)
    missing = np.flatnonzero(row < 0).tolist()
    if missing:
        raise MissingPredictionError(cut_problems(
            (Problem(pred.source, f"no prediction for image_id"
                                  f" {image_label(gt.image_ids[i], names)} (ground truth"
                                  f" {gt.source} annotations[{i}])") for i in missing),
            kind="images without a prediction"))
    return row
