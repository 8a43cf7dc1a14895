"""Medical volumes: NIfTI (``.nii`` / ``.nii.gz``, via nibabel) and NumPy (``.npy`` /
``.npz``) label maps, paired by case name between a GT and a prediction folder.

Every read goes through the safe file layer: regular files only, the compressed size capped
(:func:`~benchmark_eval.io.safe.read_regular`), and the voxel count read from the header and
capped (:func:`~benchmark_eval.io.safe.check_pixels`) before a voxel is decompressed. A GT and
a prediction must share the grid (shape, spacing, affine): a mismatch is an error, never a
silent resample (nnU-Net's ``evaluate_folder`` trusts the files; MedPy and MONAI take arrays).
nibabel is imported on first use (the ``[medical]`` extra).
"""

from __future__ import annotations

__all__ = ["MAX_VOXELS", "SUFFIXES", "CasePair", "Volume", "check_grid", "pair_cases",
           "read_dataset_json", "read_volume"]

import gzip
import io
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from benchmark_eval import errors
from benchmark_eval.errors import ConsistencyError, FormatError, InputError, Problem, cut_problems
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.safe import MAX_FILE_BYTES, check_pixels, quote, read_regular

SUFFIXES = (".nii.gz", ".nii", ".npz", ".npy")
MAX_VOXELS = 1 << 30  # one volume: 1G voxels (e.g. 1024 x 1024 x 1024)
_NIFTI1_HEADER, _NIFTI2_HEADER = 348, 540
_SPACING_RTOL = 1e-5  # spacing / affine agreement, relative (SimpleITK-style tolerance)
_AFFINE_ATOL = 1e-4  # mm


class CasePair(NamedTuple):
    """One case: its name (the file name without suffix) and both files."""

    name: str
    gt: Path
    pred: Path


@dataclass(frozen=True)
class Volume:
    """A label volume: integer array in file axis order, voxel spacing (mm) per axis, and
    the voxel-to-world affine (``diag(spacing)`` for NumPy files)."""

    array: np.ndarray
    spacing: tuple[float, ...]
    affine: np.ndarray


def case_name(path: Path) -> str | None:
    """``path``'s name without a volume suffix, or None if it is not a volume file."""
    name = path.name
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _cases(folder: Path, side: str) -> tuple[dict[str, Path], list[Problem]]:
    if not folder.is_dir():
        raise InputError(Problem(str(folder), f"the {side} folder does not exist or is not"
                                              " a folder"))
    found: dict[str, Path] = {}
    problems = []
    for path in sorted(folder.iterdir()):
        name = case_name(path)
        if name is None or path.name.startswith("."):
            continue
        if name in found:
            problems.append(Problem(str(path), f"case {name!r} is also {found[name].name};"
                                               " keep one file per case"))
        found[name] = path
    return found, problems


def pair_cases(gt_dir: str | Path, pred_dir: str | Path) -> list[CasePair]:
    """The cases of both folders, matched by name, sorted by name.

    Raises:
        InputError: A folder is missing or empty, a case has two files, or a case is on
            one side only (every such case is listed).
    """
    gt, gt_problems = _cases(Path(gt_dir), "GT")
    pred, pred_problems = _cases(Path(pred_dir), "prediction")
    if gt_problems or pred_problems:
        raise ConsistencyError(gt_problems + pred_problems)
    if not gt:
        raise InputError(Problem(str(gt_dir), f"no volume ({', '.join(SUFFIXES)}) in the"
                                              " GT folder"))
    missing = [Problem(str(Path(pred_dir) / (n + _suffix(p))),
                       f"case {n!r} has no prediction (GT file {p})")
               for n, p in gt.items() if n not in pred]
    extra = [Problem(str(p), f"case {n!r} has no GT file in {gt_dir}")
             for n, p in pred.items() if n not in gt]
    if missing:
        raise errors.MissingPredictionError(cut_problems(missing, kind="cases without a prediction")
                                     + cut_problems(extra))
    if extra:
        raise ConsistencyError(cut_problems(extra, kind="predictions without a GT case"))
    return [CasePair(n, gt[n], pred[n]) for n in sorted(gt)]


def _suffix(path: Path) -> str:
    name = case_name(path) or ""
    return path.name[len(name):]


def read_volume(path: str | Path, *, spacing: tuple[float, ...] | None = None,
                max_voxels: int = MAX_VOXELS) -> Volume:
    """One label volume, checked before it is allocated.

    Args:
        spacing: Voxel size per axis in mm: required for ``.npy`` / ``.npz``; for NIfTI it
            must match the header if given.
        max_voxels: Largest voxel count accepted (read from the header first).

    Raises:
        InputError: Not a regular file, too large, truncated or corrupt, not an integer
            label map, or (NumPy) no spacing given.
    """
    where = str(path)
    data = read_regular(path, max_bytes=MAX_FILE_BYTES)
    if where.endswith((".npy", ".npz")):
        array = _read_numpy(data, where, max_voxels)
        if spacing is None:
            raise FormatError(Problem(where, "NumPy volumes carry no voxel spacing: give"
                                             " spacing= (--spacing)"))
        sp = _spacing_for(spacing, array.ndim, where)
        return Volume(_labels(array, where), sp, np.diag([*sp, 1.0]))
    vol = _read_nifti(data, where, max_voxels)
    if spacing is not None:
        _check_close(_spacing_for(spacing, vol.array.ndim, where), vol.spacing, where,
                     "header spacing differs from the given spacing")
    return vol


def _spacing_for(spacing: tuple[float, ...], ndim: int, where: str) -> tuple[float, ...]:
    sp = tuple(float(s) for s in spacing)
    if len(sp) == 1:
        sp = sp * ndim
    if len(sp) != ndim or not all(math.isfinite(s) and s > 0 for s in sp):
        raise FormatError(Problem(where, f"spacing {sp} does not fit a {ndim}-D volume;"
                                         f" expected {ndim} positive numbers"))
    return sp


def _labels(array: np.ndarray, where: str) -> np.ndarray:
    """``array`` as integer labels; float volumes must hold whole numbers."""
    if array.dtype.kind in "biu":
        return array.view(np.uint8) if array.dtype.kind == "b" else array
    if array.dtype.kind == "f":
        as_int = array.astype(np.int64)
        if np.array_equal(as_int, array):
            return as_int
        raise FormatError(Problem(where, "holds non-integer values; expected a label map"))
    raise FormatError(Problem(where, f"has dtype {array.dtype}; expected integer labels"))


def _inflate(data: bytes, where: str, limit: int) -> bytes:
    """Gunzip at most ``limit`` bytes (a bomb stops there): one zlib call for the usual
    single-member file, :mod:`gzip` for multi-member ones."""
    try:
        inflater = zlib.decompressobj(wbits=31)
        out = inflater.decompress(data, limit)
        if len(out) >= limit or (inflater.eof and not inflater.unused_data):
            return out
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            return f.read(limit)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(Problem(where, f"corrupt or truncated gzip data: {exc}")) from None


def _read_nifti(data: bytes, where: str, max_voxels: int) -> Volume:
    import nibabel as nib  # lazy: the optional [medical] extra

    gz = where.endswith(".gz")
    head = _inflate(data, where, _NIFTI2_HEADER) if gz else data[:_NIFTI2_HEADER]
    size = int.from_bytes(head[:4], "little") if len(head) >= 4 else 0
    if size not in (_NIFTI1_HEADER, _NIFTI2_HEADER):
        size = int.from_bytes(head[:4], "big") if len(head) >= 4 else 0
    klass = {_NIFTI1_HEADER: nib.Nifti1Image, _NIFTI2_HEADER: nib.Nifti2Image}.get(size)
    if klass is None or len(head) < size:
        raise FormatError(Problem(where, "not a NIfTI-1 or NIfTI-2 file (bad header size)"))
    try:
        header = klass.header_class.from_fileobj(io.BytesIO(head[:size]))
        shape = tuple(int(d) for d in header.get_data_shape())
        itemsize = header.get_data_dtype().itemsize
        offset = int(header.get_data_offset())
    except Exception as exc:  # nibabel raises many types on a bad header
        raise FormatError(Problem(where, f"unreadable NIfTI header: {exc}")) from None
    check_pixels((*shape, 1, 1), where=where, max_pixels=max_voxels)
    need = offset + math.prod(shape) * itemsize
    raw = _inflate(data, where, need + 1) if gz else data
    if len(raw) < need:
        raise FormatError(Problem(where, f"truncated: {len(raw)} bytes of image data, the"
                                         f" header declares {need}"))
    try:
        zooms = tuple(float(z) for z in header.get_zooms()[: len(shape)])
        affine = np.asarray(header.get_best_affine(), dtype=np.float64)  # nibabel's img.affine
        if header.get_slope_inter() == (None, None):  # unscaled: a view, no copy
            array = np.frombuffer(raw, dtype=header.get_data_dtype(), count=math.prod(shape),
                                  offset=offset).reshape(shape, order="F")
        else:
            img = klass.from_bytes(raw if len(raw) == need or not gz else raw[:need])
            array = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types on bad data
        raise FormatError(Problem(where, f"unreadable NIfTI data: {exc}")) from None
    if len(shape) > 3 and any(d != 1 for d in shape[3:]):
        raise FormatError(Problem(where, f"volume of shape {shape}; expected one 3-D label"
                                         " map (no time or channel axis)"))
    array = array.reshape(shape[:3]) if len(shape) > 3 else array
    return Volume(_labels(array, where), _spacing_for(zooms[: array.ndim], array.ndim, where),
                  affine)


def _read_numpy(data: bytes, where: str, max_voxels: int) -> np.ndarray:
    buf = io.BytesIO(data)
    try:
        if where.endswith(".npz"):
            return _read_npz(buf, where, max_voxels)
        fmt = np.lib.format
        version = fmt.read_magic(buf)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else (
            fmt.read_array_header_2_0)
        shape, _, _ = read_header(buf)
        check_pixels((*shape, 1, 1), where=where, max_pixels=max_voxels)
        buf.seek(0)
        return np.asarray(np.load(buf, allow_pickle=False))
    except InputError:
        raise
    except Exception as exc:  # numpy raises ValueError, OSError, EOFError...
        raise FormatError(Problem(where, f"unreadable NumPy file: {exc}")) from None


def _read_npz(buf: io.BytesIO, where: str, max_voxels: int) -> np.ndarray:
    import zipfile

    with zipfile.ZipFile(buf) as z:
        members = z.infolist()
        if len(members) != 1:
            raise FormatError(Problem(where, f"holds {len(members)} arrays; expected one"))
        if members[0].file_size > max_voxels * 8 + 4096:
            raise FormatError(Problem(where, f"array of {members[0].file_size} bytes is over"
                                             " the size limit"))
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        array: np.ndarray = npz[npz.files[0]]
    check_pixels((*array.shape, 1, 1), where=where, max_pixels=max_voxels)
    return array


def _check_close(a: tuple[float, ...] | np.ndarray, b: tuple[float, ...] | np.ndarray,
                 where: str, what: str) -> None:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or not np.allclose(x, y, rtol=_SPACING_RTOL, atol=_AFFINE_ATOL):
        raise ConsistencyError(Problem(where, f"{what}: {_fmt(y)} vs {_fmt(x)}"))


def _fmt(a: np.ndarray) -> str:
    return np.array2string(a, precision=6, separator=", ").replace("\n", "")


def check_grid(case: CasePair, gt: Volume, pred: Volume) -> None:
    """Refuse a prediction on another grid than its GT (shape, spacing, affine).

    Raises:
        ConsistencyError: Naming the case and the prediction file.
    """
    where = f"{case.pred} (case {case.name!r})"
    if gt.array.shape != pred.array.shape:
        raise ConsistencyError(Problem(where, f"prediction has shape {pred.array.shape} but"
                                              f" the GT {case.gt.name} has {gt.array.shape}"))
    _check_close(gt.spacing, pred.spacing, where,
                 f"voxel spacing differs from the GT {case.gt.name} (prediction vs GT)")
    _check_close(gt.affine, pred.affine, where,
                 f"affine (direction / origin) differs from the GT {case.gt.name}"
                 " (prediction vs GT); resample the prediction onto the GT grid")


@dataclass(frozen=True)
class DatasetLabels:
    """The label part of an nnU-Net v2 ``dataset.json``.

    Attributes:
        labels: Foreground labels (background 0 and the ignore label left out), sorted.
        regions: Region-based training: each foreground region as its label tuple, in file
            order; empty when the labels are plain integers.
        names: One name per evaluated label or region.
        ignore_label: The value of the ``"ignore"`` entry, or None.
    """

    labels: tuple[int, ...]
    regions: tuple[tuple[int, ...], ...]
    names: tuple[str, ...]
    ignore_label: int | None


def read_dataset_json(path: str | Path) -> DatasetLabels:
    """Labels, regions and ignore label of an nnU-Net v2 ``dataset.json``
    (``"labels": {"background": 0, "liver": 1, "tumour": [1, 2], "ignore": 3}``).

    Raises:
        InputError: Unreadable file, or ``labels`` is not a name -> int / int list map.
    """
    data = read_json(path)
    where = str(path)
    labels = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(labels, dict) or not labels:
        raise FormatError(Problem(where, "expected a 'labels' object (name -> label)",
                                  field="labels"))
    ignore: int | None = None
    entries: dict[str, tuple[int, ...]] = {}
    for name, value in labels.items():
        vals = _label_values(value, where, name)
        if name == "ignore":
            if len(vals) != 1:
                raise FormatError(Problem(where, "the ignore label must be one integer",
                                          field="labels"))
            ignore = vals[0]
        elif set(vals) != {0}:  # background is not scored
            entries[name] = vals
    if any(len(v) > 1 for v in entries.values()):  # nnU-Net's has_regions
        values = sorted({v for r in entries.values() for v in r})
        return DatasetLabels(tuple(values), tuple(entries.values()), tuple(entries), ignore)
    order = sorted(entries, key=lambda n: entries[n][0])
    return DatasetLabels(tuple(entries[n][0] for n in order), (), tuple(order), ignore)


def _label_values(value: Any, where: str, name: str) -> tuple[int, ...]:
    vals = value if isinstance(value, list) else [value]
    if not vals or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                           for v in vals):
        raise FormatError(Problem(where, f"label {quote(name)}: expected a non-negative"
                                         f" integer or a list of them, got {quote(value)}",
                                  field="labels"))
    return tuple(int(v) for v in vals)
