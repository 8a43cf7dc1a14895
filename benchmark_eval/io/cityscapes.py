"""Cityscapes files: ground-truth folders, prediction folders and the official result formats.

* **Ground truth**: a root searched recursively for ``*_gtFine_labelIds.png`` and
  ``*_gtFine_instanceIds.png``. An image is keyed by ``<city>_<seq>_<frame>``, the first three
  ``_``-separated parts of its name (cityscapesScripts ``getCsFileInfo``).
* **Predictions**, found as cityscapesScripts 2.3.0 ``getPrediction`` finds them: the one
  file named ``<city>_<seq>_<frame>*.png`` (semantic) or ``*.txt`` (instance) anywhere under
  the prediction folder; none or several is an error naming the image.
* **Instance predictions**: one text file per image, a line ``MASK.png LABEL_ID CONFIDENCE``
  per predicted instance; the mask path is relative to the text file's folder (the
  prediction folder when the text files are at its top) and must stay inside the
  prediction folder. Any non-zero mask pixel belongs to the instance.

This module finds the files; :mod:`benchmark_eval.io.cityscapes_read` reads them.
"""

from __future__ import annotations

__all__ = [
    "GT_INSTANCE_SUFFIX",
    "GT_LABEL_SUFFIX",
    "GroundTruthFiles",
    "InstanceJob",
    "Pairing",
    "PredictionFolder",
    "SemanticJob",
    "image_key",
    "pair_instance",
    "pair_semantic",
    "scan_ground_truth",
]

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path

from benchmark_eval.errors import (
    ConsistencyError,
    InputError,
    MissingPredictionError,
    Problem,
    cut_problems,
)

GT_LABEL_SUFFIX = "_gtFine_labelIds.png"
GT_INSTANCE_SUFFIX = "_gtFine_instanceIds.png"


def image_key(name: str) -> str | None:
    """``<city>_<seq>_<frame>`` of a Cityscapes file name, or None if it has not the
    official 5 or 6 parts (``<city>_<seq>_<frame>_<type>[_<type2>].<ext>``).

    Example:
        >>> image_key("frankfurt_000000_000294_gtFine_labelIds.png")
        'frankfurt_000000_000294'
    """
    parts = os.path.basename(name).split("_")
    parts = parts[:-1] + parts[-1].split(".")
    if len(parts) not in (5, 6):
        return None
    return "_".join(parts[:3])


# ----------------------------------------------------------------------------- ground truth


@dataclass(frozen=True)
class GroundTruthFiles:
    """The GT images under a root.

    Attributes:
        root: The folder searched.
        label_ids: Image key -> ``*_gtFine_labelIds.png``.
        instance_ids: Image key -> ``*_gtFine_instanceIds.png``.
        problems: Missing folder, unparseable names, an image found twice.
    """

    root: Path
    label_ids: dict[str, Path]
    instance_ids: dict[str, Path]
    problems: list[Problem]


def scan_ground_truth(root: str | Path) -> GroundTruthFiles:
    """Find every ``*_gtFine_labelIds.png`` and ``*_gtFine_instanceIds.png`` under ``root``."""
    root = Path(root)
    found: dict[str, dict[str, Path]] = {GT_LABEL_SUFFIX: {}, GT_INSTANCE_SUFFIX: {}}
    problems: list[Problem] = []
    if not root.is_dir():
        what = "not a directory" if root.exists() else "ground-truth folder not found"
        return GroundTruthFiles(root, {}, {}, [Problem(str(root), what)])
    for suffix, table in found.items():
        for path in sorted(root.rglob(f"*{suffix}")):
            key = image_key(path.name)
            if key is None or not path.is_file():
                problems.append(Problem(str(path), "not a Cityscapes file name: expected"
                                                   f" <city>_<seq>_<frame>{suffix}"))
            elif key in table:
                problems.append(Problem(str(path), f"image {key} found twice: also"
                                                   f" {table[key]}"))
            else:
                table[key] = path
    return GroundTruthFiles(root, found[GT_LABEL_SUFFIX], found[GT_INSTANCE_SUFFIX], problems)


# ------------------------------------------------------------------------------ predictions


class PredictionFolder:
    """The files of one suffix under a prediction folder, searchable by image key.

    ``find(key)`` returns the files whose name matches ``<key>*<suffix>`` (the official
    ``fnmatch`` pattern: the name starts with the key and ends with the suffix).
    """

    def __init__(self, root: str | Path, suffix: str) -> None:
        self.root = Path(root)
        self.suffix = suffix
        entries: list[tuple[str, Path]] = []
        for folder, _, files in os.walk(self.root):
            entries += [(f, Path(folder) / f) for f in files if f.endswith(suffix)]
        entries.sort()
        self._names = [n for n, _ in entries]
        self._paths = [p for _, p in entries]

    def __len__(self) -> int:
        return len(self._names)

    def find(self, key: str) -> list[Path]:
        """Every file named ``<key>*<suffix>``, sorted by name."""
        i = bisect.bisect_left(self._names, key)
        out = []
        while i < len(self._names) and self._names[i].startswith(key):
            if len(self._names[i]) >= len(key) + len(self.suffix):
                out.append(self._paths[i])
            i += 1
        return out


@dataclass(frozen=True)
class SemanticJob:
    """One image of ``cityscapes-semantic``: its key, GT label ids, GT instance ids,
    predicted label ids."""

    key: str
    gt_labels: Path
    gt_instances: Path
    pred: Path


@dataclass(frozen=True)
class InstanceJob:
    """One image of ``cityscapes-instance``: its key, GT instance ids, prediction list."""

    key: str
    gt_instances: Path
    pred: Path


@dataclass(frozen=True)
class Pairing:
    """GT images with their predictions.

    Attributes:
        jobs: One per image, sorted by key.
        missing: GT images without a prediction.
        problems: Every other problem (folders, names, duplicates, ambiguous predictions).
    """

    jobs: list[SemanticJob] | list[InstanceJob]
    missing: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def all_problems(self) -> list[Problem]:
        """``problems`` then ``missing``, each cut to a readable length."""
        return cut_problems(self.problems) + cut_problems(self.missing)

    def error(self) -> InputError:
        """What ``evaluate`` raises when there are problems."""
        cls = ConsistencyError if self.problems else MissingPredictionError
        return cls(self.all_problems())


def _prediction(folder: PredictionFolder, key: str, gt: Path, missing: list[Problem],
                problems: list[Problem]) -> Path | None:
    hits = folder.find(key)
    if len(hits) == 1:
        return hits[0]
    pattern = f"{key}*{folder.suffix}"
    if not hits:
        missing.append(Problem(str(gt), f"no prediction for image {key}: no file {pattern}"
                                        f" under {folder.root}"))
    else:
        shown = ", ".join(str(p) for p in hits[:5]) + (" ..." if len(hits) > 5 else "")
        problems.append(Problem(str(gt), f"{len(hits)} predictions for image {key} match"
                                         f" {pattern}: {shown}; expected exactly one"))
    return None


def _start(gt: str | Path, pred: str | Path, suffix: str, gt_suffix: str
           ) -> tuple[GroundTruthFiles, PredictionFolder | None, list[Problem]]:
    """The GT files, the prediction folder (None if it is not one) and the problems so far
    (``gt_suffix``: the GT files every image needs)."""
    files = scan_ground_truth(gt)
    problems = list(files.problems)
    root = Path(pred)
    folder = None
    if not root.is_dir():
        problems.append(Problem(str(root), "not a directory" if root.exists()
                                else "prediction folder not found"))
    else:
        folder = PredictionFolder(root, suffix)
    needed = files.label_ids if gt_suffix == GT_LABEL_SUFFIX else files.instance_ids
    if not needed and not files.problems:
        problems.append(Problem(str(files.root), f"no *{gt_suffix} files found"))
    return files, folder, problems


def pair_semantic(gt: str | Path, pred: str | Path) -> Pairing:
    """Every GT image (``*_gtFine_labelIds.png`` and its ``*_gtFine_instanceIds.png``) with
    its predicted label-id PNG."""
    files, folder, problems = _start(gt, pred, ".png", GT_LABEL_SUFFIX)
    missing: list[Problem] = []
    jobs: list[SemanticJob] = []
    for key, labels in sorted(files.label_ids.items()):
        instances = files.instance_ids.get(key)
        if instances is None:
            problems.append(Problem(str(labels), f"no {key}{GT_INSTANCE_SUFFIX} beside it"
                                                 " (the instance ids are needed for iIoU)"))
            continue
        if folder is not None and (p := _prediction(folder, key, labels, missing, problems)):
            jobs.append(SemanticJob(key, labels, instances, p))
    return Pairing(jobs, missing, problems)


def pair_instance(gt: str | Path, pred: str | Path) -> Pairing:
    """Every GT image (``*_gtFine_instanceIds.png``) with its prediction text file."""
    files, folder, problems = _start(gt, pred, ".txt", GT_INSTANCE_SUFFIX)
    missing: list[Problem] = []
    jobs: list[InstanceJob] = []
    for key, instances in sorted(files.instance_ids.items()):
        if folder is not None and (p := _prediction(folder, key, instances, missing,
                                                    problems)):
            jobs.append(InstanceJob(key, instances, p))
    return Pairing(jobs, missing, problems)
