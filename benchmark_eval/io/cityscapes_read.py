"""Reading Cityscapes files, checked: label-id and instance-id maps, predicted masks,
prediction lists (the official instance result format), one semantic image's three maps.

Grayscale PNGs go through :mod:`benchmark_eval.io.pngdecode` (libdeflate, into reused output
arrays) and fall back to :mod:`benchmark_eval.io.png`. Problems name the file and, for
prediction lists, the line. The search for the files is in :mod:`benchmark_eval.io.cityscapes`.
"""

from __future__ import annotations

__all__ = [
    "InstanceLine",
    "PredictionList",
    "load_semantic_image",
    "mask_of_line",
    "read_instance_ids",
    "read_label_ids",
    "read_mask",
    "read_prediction_list",
    "train_ids_to_ids",
]

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmark_eval.errors import ConsistencyError, FormatError, InputError, Problem
from benchmark_eval.io.png import (
    check_png,
    decode_gray,
    pillow_image,
    png_header,
    read_png_bytes,
)
from benchmark_eval.io.pngdecode import Allocate, OutputBuffers, decode_grayscale
from benchmark_eval.io.safe import quote, read_regular
from benchmark_eval.schema.cityscapes import LABEL_BY_ID, LABEL_BY_TRAIN_ID, train_id_to_id_table

if TYPE_CHECKING:
    from benchmark_eval.io.cityscapes import SemanticJob


# --------------------------------------------------------------------------------- readers


def _png_bytes(path: str | Path, expected: tuple[int, ...] | None = None) -> bytes:
    """The file's bytes, its header's size checked against the pixel limit and ``expected``
    (a mask's ground-truth size) before anything is inflated."""
    data = read_png_bytes(path)
    header = png_header(data, path)
    if expected is not None and (header.height, header.width) != tuple(expected):
        raise ConsistencyError(Problem(str(path), f"mask is {header.width}x{header.height}"
                                                  f" (WxH) but the ground truth is"
                                                  f" {expected[1]}x{expected[0]}"))
    check_png(data, path)
    return data


def _label_ids(data: bytes, path: str | Path, allocate: Allocate | None) -> np.ndarray:
    decoded = decode_grayscale(data, allocate=allocate)
    return decoded if decoded is not None else decode_gray(data, path)


def read_label_ids(path: str | Path, *, allocate: Allocate | None = None) -> np.ndarray:
    """A single-channel label-id PNG as ``(H, W)`` integers (the values
    ``np.array(Image.open(path))`` gives, decoded with libdeflate when possible).

    Args:
        path: The PNG.
        allocate: Gives the output array of the fast decoder (reused buffers).

    Raises:
        FormatError: Unreadable, over the pixel limit, or several channels (e.g. a
            colour-coded prediction).
    """
    return _label_ids(_png_bytes(path), path, allocate)


def read_instance_ids(path: str | Path, *, allocate: Allocate | None = None) -> np.ndarray:
    """An instance-id PNG (16-bit, ``label * 1000 + k`` or a plain label id) as ``(H, W)``.

    Raises:
        FormatError: Unreadable, or several channels.
    """
    return read_label_ids(path, allocate=allocate)


def read_mask(path: str | Path, *, allocate: Allocate | None = None,
              expected: tuple[int, ...] | None = None
              ) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """A predicted instance mask as ``(H, W)`` (non-zero pixels belong to the instance), and
    the box of its non-zero pixels when the decoder found it (first row, last row + 1, first
    column, last column + 1; all -1 for an empty mask), else None.

    8-bit grayscale and 1-bit PNGs are used as decoded; any other kind is converted to
    8-bit grayscale by Pillow first (``Image.convert("L")``, as the official script does), so
    e.g. a palette index whose colour is black is background.

    Raises:
        FormatError: Not a readable PNG.
        ConsistencyError: Not of the ``expected`` size (checked on the header first).
    """
    data = _png_bytes(path, expected)
    header = check_png(data, path)
    if header.color_type == 0 and header.bit_depth == 8:
        box = np.full(4, -2, dtype=np.int64)
        mask = decode_grayscale(data, box=box, allocate=allocate)
        if mask is not None and box[0] != -2:
            r0, r1, c0, c1 = (int(v) for v in box)
            return mask, (r0, r1, c0, c1)
    if header.color_type == 0 and header.bit_depth in (1, 8):
        return decode_gray(data, path), None
    return np.asarray(pillow_image(data, path).convert("L")), None


# ---------------------------------------------------------------------- instance predictions


@dataclass(frozen=True)
class InstanceLine:
    """One predicted instance of a prediction text file.

    Attributes:
        line: 1-based line number in the text file.
        mask: The mask PNG (absolute, normalised path).
        label_id: Cityscapes label id.
        score: Confidence.
    """

    line: int
    mask: str
    label_id: int
    score: float


@dataclass(frozen=True)
class PredictionList:
    """A parsed prediction text file.

    Attributes:
        lines: Valid lines; a mask listed twice appears once, at its first position with its
            last label and score (the official script keeps them in a dict).
        problems: Malformed lines, each naming the file and line.
        duplicates: Lines whose mask was already listed.
    """

    lines: list[InstanceLine]
    problems: list[Problem]
    duplicates: int


def _label_id(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value.is_integer() else None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


class _RealPaths:
    """Whether paths inside a folder stay there once symlinks are resolved; folders are
    resolved once each (a list names many masks in few folders)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self._dirs: dict[str, str] = {}

    def inside(self, path: str) -> bool:
        if os.path.islink(path):
            return _inside(os.path.realpath(path), self.root)
        folder = os.path.dirname(path)
        real = self._dirs.get(folder)
        if real is None:
            real = self._dirs[folder] = os.path.realpath(folder)
        return _inside(real, self.root)


def _parse_line(text: str, n: int, base: str, root: str, where: str,
                real: _RealPaths | None) -> InstanceLine | str:
    """The line as an :class:`InstanceLine`, or what is wrong with it (quoting at most a
    few characters of it: a list may be any file)."""
    fields = text.split()
    if len(fields) != 3:
        return (f"expected 'MASK.png LABEL_ID CONFIDENCE' (3 fields), got {len(fields)}:"
                f" {quote(text.strip())}")
    rel, label_text, score_text = fields
    if os.path.isabs(rel):
        return f"mask path {quote(rel)} is absolute; expected a path relative to {where}"
    mask = os.path.normpath(os.path.join(base, rel))
    if not _inside(mask, root):
        return f"mask path {quote(rel)} leaves the prediction folder {root}"
    if real is not None and not real.inside(mask):
        return (f"mask path {quote(rel)} leaves the prediction folder {root} through a"
                " symlink (refused)")
    label_id = _label_id(label_text)
    if label_id is None:
        return f"label id {quote(label_text)} is not an integer"
    if label_id not in LABEL_BY_ID:
        shown = str(label_id) if abs(label_id) < 10**6 else quote(label_text)
        return f"label id {shown} is not in the Cityscapes label table (0..33, -1)"
    try:
        score = float(score_text)
    except ValueError:
        score = math.nan
    if not math.isfinite(score):
        return f"confidence {quote(score_text)} is not a finite number"
    return InstanceLine(n, mask, label_id, score)


def read_prediction_list(path: str | Path, root: str | Path, *,
                         allow_outside: bool = False) -> PredictionList:
    """Parse a prediction text file; blank lines are skipped.

    Args:
        path: The text file.
        root: The prediction folder every mask must stay in.
        allow_outside: Follow symlinks leading out of ``root`` (``--allow-symlinks``;
            paths with ``..`` or absolute stay refused).

    Raises:
        FormatError: The file cannot be read, is not text, or is a symlink leading out of
            ``root`` (problems of single lines are returned).
    """
    path = Path(path)
    root_abs = os.path.abspath(root)
    real = None if allow_outside else _RealPaths(root_abs)
    if real is not None and not real.inside(os.path.abspath(path)):
        raise FormatError(Problem(str(path), f"leaves the prediction folder {root_abs} through"
                                             " a symlink (refused)"))
    try:
        text = read_regular(path, where=str(path)).decode()
    except UnicodeDecodeError as exc:
        raise FormatError(Problem(str(path), f"cannot read the prediction list: not text"
                                             f" ({exc.reason} at byte {exc.start})")) from exc
    base = os.path.dirname(os.path.abspath(path))
    by_mask: dict[str, InstanceLine] = {}
    problems: list[Problem] = []
    duplicates = 0
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parsed = _parse_line(line, n, base, root_abs, "the text file's folder", real)
        if isinstance(parsed, str):
            problems.append(Problem(str(path), f"line {n}: {parsed}"))
            continue
        if parsed.mask in by_mask:
            duplicates += 1
            first = by_mask[parsed.mask]
            parsed = InstanceLine(first.line, parsed.mask, parsed.label_id, parsed.score)
        by_mask[parsed.mask] = parsed
    return PredictionList(list(by_mask.values()), problems, duplicates)


# ------------------------------------------------------------------------ one image, checked


def _size(a: np.ndarray) -> str:
    return f"{a.shape[1]}x{a.shape[0]}" if a.ndim == 2 else f"shape {a.shape}"


_TRAIN_TO_ID = train_id_to_id_table()


def train_ids_to_ids(pred: np.ndarray, where: str) -> np.ndarray:
    """A train-id map as label ids (255 -> ``unlabeled``).

    Raises:
        ConsistencyError: A value that is not a train id, naming ``where``.
    """
    present = np.flatnonzero(np.bincount(pred.reshape(-1), minlength=256)) if (
        pred.dtype == np.uint8) else np.unique(pred)
    bad = [int(v) for v in present.tolist() if not 0 <= v < 256 or _TRAIN_TO_ID[v] < 0]
    if bad:
        valid = sorted(t for t in LABEL_BY_TRAIN_ID if t >= 0)
        raise ConsistencyError(Problem(where, f"predicted values {bad[:10]} are not"
                                              f" Cityscapes train ids {valid}"))
    return _TRAIN_TO_ID[pred].astype(np.uint8)


def load_semantic_image(job: SemanticJob, *, train_ids: bool = False,
                        buffers: OutputBuffers | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The GT label ids, GT instance ids and predicted label ids of one image, checked.

    Args:
        job: The image's files.
        train_ids: The prediction holds train ids (mapped to label ids).
        buffers: Reused output arrays (the maps are then only valid until the next image).

    Raises:
        FormatError: An unreadable or multi-channel PNG.
        ConsistencyError: Sizes differ (naming both files), or a value that is not a train id.
    """
    get = buffers.allocator if buffers is not None else (lambda role: None)
    labels = read_label_ids(job.gt_labels, allocate=get("labels"))
    instances = read_instance_ids(job.gt_instances, allocate=get("instances"))
    if instances.shape != labels.shape:
        raise ConsistencyError(Problem(str(job.gt_instances), f"is {_size(instances)} (WxH)"
                                       f" but {job.gt_labels} is {_size(labels)}"))
    data = read_png_bytes(job.pred)
    header = png_header(data, job.pred)  # the size is checked before inflating
    pred = (_label_ids(data, job.pred, get("pred"))
            if (header.height, header.width) == labels.shape else np.zeros((0, 0), np.uint8))
    if pred.shape != labels.shape:
        raise ConsistencyError(Problem(str(job.pred), f"prediction is {header.width}x"
                                       f"{header.height} (WxH)"
                                       f" but the ground truth {job.gt_labels} is"
                                       f" {_size(labels)}"))
    return labels, instances, train_ids_to_ids(pred, str(job.pred)) if train_ids else pred


def mask_of_line(line: InstanceLine, listing: str | Path, shape: tuple[int, ...], *,
                 allocate: Allocate | None = None
                 ) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """The mask of a prediction line (and its box, see :func:`read_mask`), checked against
    the GT size.

    Raises:
        FormatError: Missing or unreadable mask (naming the mask, the line and the list).
        ConsistencyError: The mask's size differs from the ground truth's.
    """
    try:
        mask, box = read_mask(line.mask, allocate=allocate, expected=shape)
    except InputError as exc:
        raise type(exc)([Problem(p.file, f"{p.message} (line {line.line} of {listing})")
                         for p in exc.problems]) from None
    if mask.shape != shape:
        raise ConsistencyError(Problem(str(line.mask), f"mask is {_size(mask)} (WxH) but the"
                                       f" ground truth is {shape[1]}x{shape[0]} (line"
                                       f" {line.line} of {listing})"))
    return mask, box
