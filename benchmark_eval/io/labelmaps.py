"""Label-map pairs for the ``semantic`` protocols: folders, list files, in-memory maps.

A *collection* of label maps is a folder (single-channel ``.png`` files and ``.npy`` arrays,
searched recursively; an image's name is its path below the folder without the suffix) or a
mapping ``{name: map}``, where a map is a file path, an ``(H, W)`` integer array, or a
callable returning one (how converted sources such as panoptic -> semantic plug in without
being read up front). GT and predictions are paired by name, or by a list file.

Only this module and :mod:`benchmark_eval.io.png` touch the files.
"""

from __future__ import annotations

__all__ = [
    "LabelMapPair",
    "MapSource",
    "Maps",
    "Pairing",
    "load_label_map",
    "pair_label_maps",
]

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark_eval.errors import (
    ConsistencyError,
    FormatError,
    InputError,
    MissingPredictionError,
    Problem,
    cut_problems,
)
from benchmark_eval.io.png import read_label_map

MapSource = str | Path | np.ndarray | Callable[[], np.ndarray]
Maps = str | Path | Mapping[str, MapSource]
SUFFIXES = (".png", ".npy")


@dataclass(frozen=True)
class LabelMapPair:
    """One image: its name, GT map and predicted map (path, array or loader).

    Attributes:
        name: Identifies the image (file stem or relative path without suffix, or key).
        gt: Where the GT map comes from.
        pred: Where the predicted map comes from.
    """

    name: str
    gt: MapSource
    pred: MapSource

    def where(self, side: str) -> str:
        """The file a problem of ``side`` (``"gt"`` or ``"pred"``) is reported against."""
        source = self.gt if side == "gt" else self.pred
        if isinstance(source, (str, Path)):
            return str(source)
        return f"<{side}>[{self.name}]"


def load_label_map(source: MapSource, where: str) -> np.ndarray:
    """A ``(H, W)`` integer label map from a PNG, an ``.npy`` file, an array or a loader.

    Raises:
        FormatError: Unreadable file or a value that is not an array (naming ``where``).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix.lower() != ".npy":
            return read_label_map(path)
        try:
            return np.asarray(np.load(path, allow_pickle=False))
        except FileNotFoundError as exc:
            raise FormatError(Problem(where, "file not found")) from exc
        except (OSError, ValueError) as exc:
            raise FormatError(Problem(where, f"not a readable .npy array: {exc}")) from exc
    value = source() if callable(source) else source
    if not isinstance(value, np.ndarray):
        raise FormatError(Problem(where, f"got {type(value).__name__}, expected a numpy array"))
    return value


def _scan(root: Path, side: str, problems: list[Problem]) -> dict[str, Path]:
    if not root.is_dir():
        problems.append(Problem(str(root), "not a directory" if root.exists()
                                else "directory not found"))
        return {}
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        name = path.relative_to(root).with_suffix("").as_posix()
        if name in found:
            problems.append(Problem(str(path), f"two {side} maps named '{name}': also"
                                               f" {found[name]}"))
            continue
        found[name] = path
    if not found:
        problems.append(Problem(str(root), f"no {side} label maps (*.png, *.npy) found"))
    return found


def _collection(maps: Maps, side: str, problems: list[Problem]) -> dict[str, MapSource]:
    if isinstance(maps, (str, Path)):
        return dict(_scan(Path(maps), side, problems))
    if isinstance(maps, Mapping):
        return {str(k): v for k, v in maps.items()}
    problems.append(Problem(f"<{side}>", f"got {type(maps).__name__}, expected a folder or a"
                                         " mapping {name: array, path or loader}"))
    return {}


def _read_list(list_file: str | Path, problems: list[Problem]) -> list[tuple[int, list[str]]]:
    try:
        text = Path(list_file).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(list_file), f"cannot read the list file: {exc}"))
        return []
    entries = []
    for i, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) > 2:
            problems.append(Problem(str(list_file), f"line {i}: expected NAME or GT PRED,"
                                                    f" got {len(fields)} fields"))
            continue
        entries.append((i, fields))
    if not entries and not problems:
        problems.append(Problem(str(list_file), "the list file names no images"))
    return entries


def _listed_pairs(gt: dict[str, MapSource], pred: dict[str, MapSource], gt_root: Path | None,
                  pred_root: Path | None, list_file: str | Path, problems: list[Problem],
                  missing: list[Problem]) -> list[LabelMapPair]:
    pairs = []
    for line, fields in _read_list(list_file, problems):
        if len(fields) == 2:
            if gt_root is None or pred_root is None:
                problems.append(Problem(str(list_file), f"line {line}: GT PRED file pairs need"
                                                        " --gt and --pred folders"))
                continue
            g, p = gt_root / fields[0], pred_root / fields[1]
            name = Path(fields[0]).with_suffix("").as_posix()
            if not g.is_file():
                problems.append(Problem(str(g), f"listed on line {line} of {list_file} but"
                                                " not found"))
            elif not p.is_file():
                missing.append(Problem(str(p), f"no prediction for {g} (line {line})"))
            else:
                pairs.append(LabelMapPair(name, g, p))
            continue
        name = Path(fields[0]).with_suffix("").as_posix() if Path(
            fields[0]).suffix.lower() in SUFFIXES else fields[0]
        if name not in gt:
            problems.append(Problem(str(list_file), f"line {line}: no ground truth named"
                                                    f" '{name}'"))
        elif name not in pred:
            missing.append(Problem(_where(gt[name], "gt", name), f"no prediction named '{name}'"
                                                                  f" (line {line})"))
        else:
            pairs.append(LabelMapPair(name, gt[name], pred[name]))
    return pairs


def _where(source: MapSource, side: str, name: str) -> str:
    return str(source) if isinstance(source, (str, Path)) else f"<{side}>[{name}]"


@dataclass(frozen=True)
class Pairing:
    """GT and predictions paired.

    Attributes:
        pairs: One per image, sorted by name.
        missing: GT maps without a prediction.
        problems: Every other pairing problem (folders, list file, duplicates, predictions
            without GT).
    """

    pairs: list[LabelMapPair]
    missing: list[Problem]
    problems: list[Problem]

    def all_problems(self) -> list[Problem]:
        """``missing`` then ``problems``, each kind cut to a readable length."""
        return cut_problems(self.missing) + cut_problems(self.problems)

    def error(self) -> InputError:
        """What ``evaluate`` raises when there are problems."""
        cls = ConsistencyError if self.problems else MissingPredictionError
        return cls(self.all_problems())


def pair_label_maps(gt: Maps, pred: Maps, *, list_file: str | Path | None = None) -> Pairing:
    """Pair GT and predicted maps by name (or by ``list_file``), sorted by name.

    A list file has one image per line: a name (looked up in both collections) or a GT
    file and a prediction file relative to the two folders; ``#`` starts a comment.
    """
    problems: list[Problem] = []
    missing: list[Problem] = []
    gt_maps = _collection(gt, "gt", problems)
    pred_maps = _collection(pred, "pred", problems)
    roots = [Path(m) if isinstance(m, (str, Path)) else None for m in (gt, pred)]
    if list_file is not None:
        pairs = _listed_pairs(gt_maps, pred_maps, roots[0], roots[1], list_file, problems,
                              missing)
    else:
        pairs = [LabelMapPair(n, gt_maps[n], pred_maps[n]) for n in gt_maps if n in pred_maps]
        missing += [Problem(_where(gt_maps[n], "gt", n), f"no prediction named '{n}'")
                    for n in gt_maps if n not in pred_maps]
        problems += [Problem(_where(pred_maps[n], "pred", n), f"prediction '{n}' has no"
                                                              " ground truth")
                     for n in pred_maps if n not in gt_maps and gt_maps]
    names = [p.name for p in pairs]
    if len(set(names)) != len(names):
        problems.append(Problem(str(list_file), "an image is listed more than once"))
    return Pairing(sorted(pairs, key=lambda p: p.name), missing, problems)

