"""The COCO panoptic adapter: a JSON file plus a PNG folder per side, read and checked.

The JSON is checked once, column-wise (:mod:`benchmark_eval.io.panoptic_json`); the PNGs are
checked image by image against their ``segments_info`` as they are read
(:mod:`benchmark_eval.io.panoptic_png`). :func:`load_panoptic` (``evaluate``: stops at the
first problem) and :func:`check_panoptic` (``validate``: collects them) turn what the user
gave into :class:`PanopticInputs`, folders checked and every GT image paired with its
prediction.
"""

from __future__ import annotations

__all__ = [
    "PanopticFiles",
    "PanopticInputs",
    "Source",
    "check_coco_panoptic",
    "check_panoptic",
    "load_coco_panoptic",
    "load_panoptic",
]

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import (
    InputError,
    MissingPredictionError,
    Notice,
    Problem,
    input_notice,
    strict_problems,
)
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.panoptic_json import ImageNames, match_predictions, parse_coco_panoptic
from benchmark_eval.io.panoptic_png import PanopticSource, check_folders, default_folder
from benchmark_eval.schema.panoptic import PanopticDataset

Source = str | Path | dict[str, Any]
Folder = str | Path | None


def _name(source: Any, name: str) -> str:
    return str(source) if isinstance(source, (str, Path)) else name


def _open(source: Source, name: str) -> tuple[Any, str]:
    if isinstance(source, (str, Path)):
        return read_json(source), str(source)
    return source, name


def _folder(source: Source, folder: Folder) -> Path | None:
    if folder is not None:
        return Path(folder)
    return default_folder(source) if isinstance(source, (str, Path)) else None


def load_coco_panoptic(source: Source, folder: Folder = None, *,
                       ground_truth: PanopticDataset | None = None, name: str | None = None,
                       names: ImageNames | None = None) -> PanopticSource:
    """Read and check a COCO panoptic JSON (ground truth, or predictions of ``ground_truth``).

    Args:
        source: JSON path or parsed dict.
        folder: PNG folder; default: the JSON path without ``.json``.
        ground_truth: For predictions: the ground truth whose categories and images they
            must use. Prediction ``categories`` are not read (panopticapi uses the ground
            truth's); ``iscrowd`` and ``area`` are not read (areas come from the PNG).
        name: How problems name an in-memory ``source`` (default ``<gt>`` / ``<pred>``).
        names: Original image ids by number, when the adapter renumbered them.

    Raises:
        InputError: Listing every problem of the JSON.
        ConfigError: No folder given and none can be derived from the path.
    """
    data, where = _open(source, name or ("<gt>" if ground_truth is None else "<pred>"))
    dataset, problems = parse_coco_panoptic(data, where, ground_truth=ground_truth,
                                            names=names)
    if problems or dataset is None:
        raise problems.error()
    return PanopticSource(dataset, _folder(source, folder), names)


def check_coco_panoptic(source: Source, *, ground_truth: PanopticDataset | None = None,
                        name: str | None = None, names: ImageNames | None = None
                        ) -> tuple[PanopticDataset | None, list[Problem]]:
    """Like :func:`load_coco_panoptic` (JSON only) but returns the problems."""
    try:
        data, where = _open(source, name or ("<gt>" if ground_truth is None else "<pred>"))
    except InputError as exc:
        return None, exc.problems
    dataset, problems = parse_coco_panoptic(data, where, ground_truth=ground_truth,
                                            names=names)
    return (dataset if not problems else None), problems.summarise()


@dataclass(frozen=True)
class PanopticFiles:
    """What the user gave for both sides, before anything is read.

    Attributes:
        gt, pred: JSON paths or parsed dicts.
        gt_dir, pred_dir: PNG folders; default: the JSON path without ``.json``.
        gt_name, pred_name: How problems name in-memory JSON.
        names: Original image ids by number, when an adapter renumbered them (Cityscapes).
    """

    gt: Source
    pred: Source
    gt_dir: Folder = None
    pred_dir: Folder = None
    gt_name: str = "<gt>"
    pred_name: str = "<pred>"
    names: ImageNames | None = None


@dataclass(frozen=True)
class PanopticInputs:
    """Both sides checked, ready to be read image by image.

    Attributes:
        gt, pred: The checked JSONs and their PNG folders.
        pred_rows: The prediction row of every ground-truth row, ``(I,)`` int64.
        notices: What panopticapi silently skips (:func:`unmatched_notice`).
    """

    gt: PanopticSource
    pred: PanopticSource
    pred_rows: np.ndarray
    notices: tuple[Notice, ...] = ()

    def counts(self) -> dict[str, int]:
        """Segments read: GT segments, GT crowd segments, predicted segments used."""
        seg, offsets = self.gt.dataset.segments, self.pred.dataset.offsets
        return {"gt_segments": len(seg), "gt_crowd": int(seg.iscrowd.sum()),
                "pred_segments": int((offsets[self.pred_rows + 1]
                                      - offsets[self.pred_rows]).sum())}


def unmatched_notice(gt: PanopticDataset, pred: PanopticDataset) -> tuple[Notice, ...]:
    """What panopticapi's pairing skips: prediction annotations of images the GT does not
    have (``pq_compute`` iterates the GT's annotations) and all but the last prediction of
    an image (its ``{image_id: annotation}`` dict)."""
    notices = []
    ids = pred.image_ids
    order = np.argsort(ids, kind="stable")
    earlier = np.sort(order[:-1][ids[order[:-1]] == ids[order[1:]]])
    if len(earlier):
        notices.append(input_notice(
            "duplicate-prediction-image", "prediction annotation(s) share their image_id with"
            " a later one", "panopticapi keeps the last annotation of an image. Reproduced.",
            file=pred.source, rows=earlier, field="annotations",
            hint="give each image one annotation"))
    unknown = np.flatnonzero(gt.lookup(pred.image_ids) < 0)
    if not len(unknown):
        return tuple(notices)
    return (*notices, input_notice(
        "prediction-image-unknown", "prediction annotation(s) are for images not in the"
        " ground truth", "panopticapi never reads them (it iterates the ground truth's"
        " annotations). Reproduced.", file=pred.source, rows=unknown, field="annotations",
        hint="check the image ids, or evaluate against the matching ground truth"),)


def load_panoptic(files: PanopticFiles) -> PanopticInputs:
    """Both JSONs read and checked, folders checked, predictions paired (``evaluate``).

    Raises:
        InputError: The first side with problems (every problem of its JSON), a missing
            folder, or GT images without a prediction.
        ConfigError: A folder is neither given nor derivable.
    """
    gt = load_coco_panoptic(files.gt, files.gt_dir, name=files.gt_name, names=files.names)
    pred = load_coco_panoptic(files.pred, files.pred_dir, ground_truth=gt.dataset,
                              name=files.pred_name, names=files.names)
    check_folders((gt, "gt_dir"), (pred, "pred_dir"))
    return PanopticInputs(gt, pred, match_predictions(gt.dataset, pred.dataset,
                                                      names=files.names),
                          unmatched_notice(gt.dataset, pred.dataset))


def check_panoptic(files: PanopticFiles) -> tuple[PanopticInputs | None, list[Problem]]:
    """Every JSON-level problem (``validate``); the inputs when the PNGs can be read."""
    gt_set, problems = check_coco_panoptic(files.gt, name=files.gt_name, names=files.names)
    if gt_set is None:
        return None, [*problems, Problem(_name(files.pred, files.pred_name),
                                         "not checked: the ground truth has problems")]
    pred_set, pred_problems = check_coco_panoptic(files.pred, ground_truth=gt_set,
                                                  name=files.pred_name, names=files.names)
    problems += pred_problems
    if pred_set is None:
        return None, problems
    try:
        rows = match_predictions(gt_set, pred_set, names=files.names)
    except MissingPredictionError as exc:
        return None, problems + exc.problems
    gt = PanopticSource(gt_set, _folder(files.gt, files.gt_dir), files.names)
    pred = PanopticSource(pred_set, _folder(files.pred, files.pred_dir), files.names)
    try:
        check_folders((gt, "gt_dir"), (pred, "pred_dir"))
    except InputError as exc:
        return None, problems + exc.problems
    notices = unmatched_notice(gt_set, pred_set)
    return PanopticInputs(gt, pred, rows, notices), problems + strict_problems(notices)
