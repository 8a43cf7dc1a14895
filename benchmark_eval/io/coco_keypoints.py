"""COCO keypoints files (``person_keypoints_*.json`` and keypoint results) <-> the schema.

Reproduces what pycocotools 2.0.11 reads for ``COCOeval(iouType="keypoints")``: the instance
fields of :mod:`benchmark_eval.io.coco_gt` plus each annotation's ``keypoints`` and
``num_keypoints``; for results, ``COCO.loadRes``' area rule (the box's ``w * h`` when record 0
has a ``bbox``, else the extent of all keypoints). Refuses what it would crash on or silently
mis-score: keypoint arrays whose length is not 3 × the category's keypoints, GT visibility
flags other than 0 / 1 / 2, non-finite coordinates.
"""

from __future__ import annotations

__all__ = [
    "RawKeypointResults",
    "attach_keypoint_results",
    "check_crowdpose_ground_truth",
    "check_keypoint_results",
    "check_keypoints_ground_truth",
    "keypoint_areas",
    "keypoint_column",
    "load_crowdpose_ground_truth",
    "load_keypoints_ground_truth",
    "parse_crowdpose_ground_truth",
    "parse_keypoints_ground_truth",
    "read_keypoint_results",
]

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.errors import InputError, Notice, Problem
from benchmark_eval.io.coco_gt import parse_coco_ground_truth
from benchmark_eval.io.coco_results import RawResults, attach_coco_results, read_coco_results
from benchmark_eval.io.jsonfile import Source, open_source
from benchmark_eval.io.records import _NUMBER, ProblemList, float_column, int_column
from benchmark_eval.schema import (
    Categories,
    InstanceDataset,
    KeypointDataset,
    Keypoints,
    Predictions,
)

_FLAGS = (0, 1, 2)  # COCO visibility: not labelled, labelled but hidden, labelled and visible


def keypoint_column(records: list[dict[str, Any]], field: str,
                    problems: ProblemList) -> Keypoints | None:
    """The ``keypoints`` list of every record as :class:`Keypoints` after recording its
    problems (not triplets, not numbers, non-finite ``x`` / ``y``); None when some record
    has no list at all. Rows with problems hold zeros, and count -1 if not triplets."""
    values: list[Any] = [r.get("keypoints") for r in records]
    bad_type = np.fromiter((type(v) is not list for v in values), dtype=bool, count=len(values))
    problems.add_where(bad_type, field, "keypoints missing or not a list", lambda i: (
        "missing required field 'keypoints'" if values[i] is None else
        f"'keypoints' must be a list of numbers, got {type(values[i]).__name__}"))
    if bad_type.any():
        return None
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    fast = _same_length_numbers(values, lengths)
    if fast is not None:
        return _checked(fast.reshape(len(values), -1, 3), lengths // 3, field, problems)
    bad_len = (lengths % 3 != 0) | (lengths == 0)
    problems.add_where(bad_len, field, "keypoints not triplets",
                       lambda i: "'keypoints' must hold x, y, v triplets (a non-zero multiple"
                                 f" of 3 values), got {lengths[i]} values")
    flat = list(itertools.chain.from_iterable(values))
    if not set(map(type, flat)) <= _NUMBER:
        not_num = np.array([any(type(x) not in _NUMBER for x in v) for v in values])
        problems.add_where(not_num, field, "keypoints not numbers",
                           lambda i: "'keypoints' must be numbers, got " + next(
                               repr(x) for x in values[i] if type(x) not in _NUMBER))
        flat = [x if type(x) in _NUMBER else 0 for x in flat]
    n_slots = -(-int(lengths.max()) // 3) if len(lengths) else 0
    rows = np.zeros((len(values), n_slots * 3))
    starts = np.cumsum(lengths) - lengths
    rows[np.repeat(np.arange(len(values)), lengths),
         np.arange(len(flat)) - np.repeat(starts, lengths)] = np.array(flat, dtype=np.float64)
    return _checked(rows.reshape(len(values), n_slots, 3), np.where(bad_len, -1, lengths // 3),
                    field, problems)


def _same_length_numbers(values: list[Any], lengths: np.ndarray) -> np.ndarray | None:
    """``(N, L)`` float64 when every list has the same length L (a multiple of 3) and numpy
    reads all of them as numbers (ints, floats; booleans count as 0 / 1), else None."""
    if not len(lengths) or lengths[0] % 3 or not lengths[0] or (lengths != lengths[0]).any():
        return None
    try:
        arr = np.array(values)  # dtype inferred: strings, None, lists would not give numbers
    except (ValueError, TypeError, OverflowError):
        return None
    return arr.astype(np.float64) if arr.ndim == 2 and arr.dtype.kind in "fiu" else None


def _checked(out: np.ndarray, counts: np.ndarray, field: str,
             problems: ProblemList) -> Keypoints:
    """:class:`Keypoints` of ``(N, J, 3)`` triplets after naming non-finite ``x`` / ``y``."""
    xy = out[:, :, :2]
    bad_xy = np.asarray(~np.isfinite(xy).all(axis=(1, 2)))
    problems.add_where(bad_xy, field, "keypoint coordinate not finite", lambda i: (
        "'keypoints' has a non-finite coordinate at keypoint"
        f" {int(np.flatnonzero(~np.isfinite(xy[i]).all(axis=1))[0])}, expected finite x, y"))
    return Keypoints(xy=np.ascontiguousarray(xy), flags=np.ascontiguousarray(out[:, :, 2]),
                     counts=counts)


def _declared_counts(categories: Categories, problems: ProblemList) -> np.ndarray:
    """``len(keypoints)`` of each category record that names its keypoints, else -1."""
    out = np.full(len(categories), -1, dtype=np.int64)
    for i, rec in enumerate(categories.records):
        names = rec.get("keypoints")
        if isinstance(names, list):
            out[i] = len(names)
        elif names is not None:
            problems.add(f"'keypoints' must be a list of keypoint names, got"
                         f" {type(names).__name__}", i, "categories")
    return out


def _category_counts(dataset: InstanceDataset, kp: Keypoints,
                     problems: ProblemList) -> np.ndarray:
    """Keypoints per category: declared by its names, else those of its first annotation;
    every annotation must have its category's count."""
    cats = dataset.categories
    counts = _declared_counts(cats, problems)
    rows = cats.lookup(dataset.instances.category_ids)
    first_rows, first = np.unique(rows, return_index=True)
    undeclared = counts[first_rows] < 0
    counts[first_rows[undeclared]] = kp.counts[first[undeclared]]
    _check_counts(kp, counts[rows], dataset.instances.category_ids, cats, "annotations",
                  problems)
    return counts


def _check_counts(kp: Keypoints, expected: np.ndarray, category_ids: np.ndarray,
                  cats: Categories, field: str, problems: ProblemList) -> None:
    """A problem for every object whose keypoint count is not its category's."""
    names = cats.names
    rows = cats.lookup(category_ids)
    problems.add_where((expected >= 0) & (kp.counts >= 0) & (kp.counts != expected), field,
                       "keypoints length differs from category", lambda i: (
        f"'keypoints' has {3 * int(kp.counts[i])} values; category {int(category_ids[i])}"
        f" ({names[rows[i]]!r}) has {int(expected[i])} keypoints, so 3 x {int(expected[i])}"
        f" = {3 * int(expected[i])} are expected"), consistency=True)


def parse_keypoints_ground_truth(data: Any, name: str
                                 ) -> tuple[KeypointDataset | None, ProblemList, list[Notice]]:
    """Check and convert a parsed keypoints GT; None when there are problems."""
    dataset, problems, notices = parse_coco_ground_truth(data, name, boxes=True, masks=False)
    anns = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(anns, list) or not all(isinstance(a, dict) for a in anns):
        return None, problems, notices
    field = "annotations"
    kp = keypoint_column(anns, field, problems)
    num = int_column(anns, "num_keypoints", field, problems)
    if num is not None:
        problems.add_where(num < 0, field, "num_keypoints negative",
                           lambda i: f"'num_keypoints' must be >= 0, got {int(num[i])}")
    if kp is not None:
        slot = np.arange(kp.flags.shape[1])[None, :] < kp.counts[:, None]
        bad = np.asarray((slot & ~np.isin(kp.flags, _FLAGS)).any(axis=1))
        problems.add_where(bad, field, "visibility flag not 0/1/2", lambda i: (
            "'keypoints' visibility flags must be 0, 1 or 2, got"
            f" {float(kp.flags[i][slot[i] & ~np.isin(kp.flags[i], _FLAGS)][0])!r}"))
    if dataset is None or kp is None:
        return None, problems, notices
    counts = _category_counts(dataset, kp, problems)
    if problems or num is None:
        return None, problems, notices
    gt = KeypointDataset(dataset=dataset, keypoints=kp, num_keypoints=num,
                         category_counts=counts)
    return gt, problems, notices + _num_keypoints_notice(gt)


def _num_keypoints_notice(gt: KeypointDataset) -> list[Notice]:
    labelled = (gt.keypoints.flags > 0).sum(axis=1)
    differ = np.flatnonzero(labelled != gt.num_keypoints)
    if not len(differ):
        return []
    return [Notice(
        "num-keypoints-mismatch",
        f"{len(differ)} annotation(s) have a 'num_keypoints' that is not their count of"
        f" labelled keypoints (first at annotations[{differ[0]}]); pycocotools ignores a GT"
        " whose num_keypoints is 0 but measures OKS over the keypoints flagged v > 0."
        " Reproduced.",
    )]


def load_keypoints_ground_truth(source: Source, *, name: str | None = None
                                ) -> tuple[KeypointDataset, list[Notice]]:
    """Read a COCO keypoints ground truth (a path or the parsed dict).

    Raises:
        InputError: Listing every problem found, each with file and record index.
    """
    data, name = open_source(source, name or "<gt>")
    gt, problems, notices = parse_keypoints_ground_truth(data, name)
    if problems or gt is None:
        raise problems.error()
    return gt, notices


def check_keypoints_ground_truth(source: Source) -> tuple[KeypointDataset | None, list[Problem]]:
    """Like :func:`load_keypoints_ground_truth` but returns the problems."""
    try:
        data, name = open_source(source, "<gt>")
    except InputError as exc:
        return None, exc.problems
    gt, problems, _ = parse_keypoints_ground_truth(data, name)
    return (gt if not problems else None), problems.summarise()


@dataclass
class RawKeypointResults:
    """A keypoint results list read and checked on its own (before its GT is known)."""

    raw: RawResults
    keypoints: Keypoints | None


def read_keypoint_results(source: Source, *, name: str | None = None) -> RawKeypointResults:
    """Phase one of ``loadRes`` for keypoint results: ids, scores, boxes, keypoints."""
    data, name = open_source(source, name or "<pred>")
    raw = read_coco_results(data, name, boxes=False, masks=False, keypoints=True)
    if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
        return RawKeypointResults(raw=raw, keypoints=None)
    if not raw.area_from_box and "segmentation" in data[0]:
        raw.problems.add("record 0 has 'segmentation' but no 'bbox', so pycocotools would take"
                         " every area from the masks; not supported for keypoint results"
                         " (drop 'segmentation' or give every record a 'bbox')", 0, "results")
    return RawKeypointResults(raw=raw, keypoints=keypoint_column(data, "results", raw.problems))


def keypoint_areas(kp: Keypoints) -> np.ndarray:
    """``loadRes``' area of keypoint results without boxes: the extent of all keypoints
    (whatever their flags), ``(max x - min x) * (max y - min y)``."""
    x, y = kp.xy[:, :, 0], kp.xy[:, :, 1]
    if (kp.counts != kp.xy.shape[1]).any():  # some rows are padded: keep their slots out
        slot = np.arange(kp.xy.shape[1])[None, :] < kp.counts[:, None]
        return ((np.where(slot, x, -np.inf).max(axis=1) - np.where(slot, x, np.inf).min(axis=1))
                * (np.where(slot, y, -np.inf).max(axis=1) - np.where(slot, y, np.inf).min(axis=1)))
    return (x.max(axis=1) - x.min(axis=1)) * (y.max(axis=1) - y.min(axis=1))


def attach_keypoint_results(raw: RawKeypointResults, gt: KeypointDataset
                            ) -> tuple[Predictions | None, Keypoints | None, ProblemList,
                                       list[Notice]]:
    """Phase two: ids against the GT and each keypoint count against its category's."""
    r, kp = raw.raw, raw.keypoints
    areas = None
    if kp is not None and r.category_ids is not None:
        cats = gt.dataset.categories
        rows = cats.lookup(r.category_ids)
        expected = np.where(rows >= 0, gt.category_counts[np.maximum(rows, 0)], -1)
        _check_counts(kp, expected, r.category_ids, cats, "results", r.problems)
        if not r.area_from_box and not r.problems:
            areas = keypoint_areas(kp)
    preds, problems, notices = attach_coco_results(r, gt.dataset, boxes=False, masks=False,
                                                   areas=areas)
    if problems or preds is None or kp is None:
        return None, None, problems, notices
    return preds, kp, problems, notices


def check_keypoint_results(source: Source, gt: KeypointDataset) -> list[Problem]:
    """Every problem of a keypoint results file against its GT."""
    try:
        raw = read_keypoint_results(source)
    except InputError as exc:
        return exc.problems
    return attach_keypoint_results(raw, gt)[2].summarise()


def parse_crowdpose_ground_truth(data: Any, name: str) -> tuple[
        KeypointDataset | None, np.ndarray | None, ProblemList, list[Notice]]:
    """A CrowdPose GT: a keypoints GT whose annotations may lack ``area`` (CrowdPose's do;
    0 is used, inside the one ``all`` range) and whose images carry ``crowdIndex``.

    Returns:
        The dataset, the ``crowdIndex`` per image row (None on problems), the problems and
        the notices.
    """
    anns = data.get("annotations") if isinstance(data, dict) else None
    if isinstance(anns, list):  # a shallow copy: the caller's records are not changed
        data = {**data, "annotations": [
            {**a, "area": 0.0} if isinstance(a, dict) and "area" not in a else a
            for a in anns]}
    gt, problems, notices = parse_keypoints_ground_truth(data, name)
    images = data.get("images") if isinstance(data, dict) else None
    crowd_index = None
    if isinstance(images, list) and all(isinstance(r, dict) for r in images):
        crowd_index = float_column(images, "crowdIndex", "images", problems)
    if problems or gt is None or crowd_index is None:
        return None, None, problems, notices
    return gt, crowd_index, problems, notices


def load_crowdpose_ground_truth(source: Source, *, name: str | None = None
                                ) -> tuple[KeypointDataset, np.ndarray, list[Notice]]:
    """Read a CrowdPose ground truth (``crowdpose_test.json``) or the parsed dict.

    Raises:
        InputError: Listing every problem found, each with file and record index.
    """
    data, name = open_source(source, name or "<gt>")
    gt, crowd_index, problems, notices = parse_crowdpose_ground_truth(data, name)
    if problems or gt is None or crowd_index is None:
        raise problems.error()
    return gt, crowd_index, notices


def check_crowdpose_ground_truth(source: Source) -> tuple[KeypointDataset | None, list[Problem]]:
    """Like :func:`load_crowdpose_ground_truth` but returns the problems."""
    try:
        data, name = open_source(source, "<gt>")
    except InputError as exc:
        return None, exc.problems
    gt, _, problems, _ = parse_crowdpose_ground_truth(data, name)
    return (gt if not problems else None), problems.summarise()
