"""``io.nifti`` and the ``medical`` workflow on bad input: every error names the case and the
file; ``validate`` lists every problem; shards and workers change nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

import benchmark_eval
from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    InputError,
    MissingPredictionError,
)
from benchmark_eval.io.nifti import pair_cases, read_dataset_json, read_volume
from benchmark_eval.report.medical import MedicalResult

SPACING = (0.8, 0.8, 2.5)


def _nifti(path: Path, array: np.ndarray, spacing: tuple[float, ...] = SPACING,
           affine: np.ndarray | None = None) -> Path:
    if affine is None:
        affine = np.diag([*spacing, 1.0])
    img = nib.Nifti1Image(array, affine)
    img.header.set_zooms((*spacing, 1.0)[: array.ndim])
    data = img.to_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def _volume(seed: int = 0) -> np.ndarray:
    vol = np.zeros((12, 10, 6), np.uint8)
    vol[2:7, 3:8, 1:4] = 1
    vol[6:9, 2:5, 2:5] = 2
    return np.roll(vol, seed, axis=0)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    for i in range(3):
        _nifti(tmp_path / "gt" / f"c{i}.nii.gz", _volume())
        _nifti(tmp_path / "pred" / f"c{i}.nii.gz", _volume(i))
    return tmp_path / "gt", tmp_path / "pred"


def _evaluate(gt: Path, pred: Path, **options: object) -> MedicalResult:
    options.setdefault("labels", (1, 2))
    result = benchmark_eval.evaluate("medical", gt=gt, pred=pred, **options)
    assert isinstance(result, MedicalResult)
    return result


def test_pairs_by_case_name(folders: tuple[Path, Path]) -> None:
    cases = pair_cases(*folders)
    assert [c.name for c in cases] == ["c0", "c1", "c2"]
    assert cases[0].pred.name == "c0.nii.gz"


def test_missing_cases_on_either_side_are_named(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    (pred / "c1.nii.gz").unlink()
    with pytest.raises(MissingPredictionError, match="case 'c1' has no prediction"):
        _evaluate(gt, pred)
    _nifti(pred / "c1.nii.gz", _volume())
    _nifti(pred / "extra.nii.gz", _volume())
    with pytest.raises(ConsistencyError, match="case 'extra' has no GT file"):
        _evaluate(gt, pred)


def test_two_files_for_one_case_are_refused(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    _nifti(gt / "c0.nii", _volume())
    with pytest.raises(ConsistencyError, match="case 'c0' is also"):
        pair_cases(gt, pred)


def test_truncated_and_corrupt_files(folders: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = folders
    data = (pred / "c2.nii.gz").read_bytes()
    (pred / "c2.nii.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"c2\.nii\.gz: (corrupt or truncated|truncated)"):
        _evaluate(gt, pred)
    raw = _nifti(tmp_path / "x.nii", _volume())
    raw.write_bytes(raw.read_bytes()[:-100])
    with pytest.raises(FormatError, match=r"truncated: .* the header declares"):
        read_volume(raw)
    raw.write_bytes(b"not a nifti file at all" * 20)
    with pytest.raises(FormatError, match="not a NIfTI-1 or NIfTI-2 file"):
        read_volume(raw)


def test_voxel_cap_is_checked_before_reading(tmp_path: Path) -> None:
    path = _nifti(tmp_path / "big.nii.gz", _volume())
    with pytest.raises(FormatError, match="over the 100 limit"):
        read_volume(path, max_voxels=100)


@pytest.mark.parametrize(("change", "message"), [
    ("shape", r"prediction has shape \(12, 10, 5\) but the GT c1\.nii\.gz has \(12, 10, 6\)"),
    ("spacing", "voxel spacing differs from the GT c1.nii.gz"),
    ("affine", r"affine \(direction / origin\) differs from the GT c1\.nii\.gz"),
])
def test_grid_mismatch_names_case_and_file(folders: tuple[Path, Path], change: str,
                                           message: str) -> None:
    gt, pred = folders
    vol, spacing, affine = _volume(), SPACING, None
    if change == "shape":
        vol = vol[:, :, :5]
    elif change == "spacing":
        spacing = (0.8, 0.8, 3.0)
    else:
        affine = np.diag([*SPACING, 1.0])
        affine[:3, 3] = (0, 0, 10.0)
    _nifti(pred / "c1.nii.gz", vol, spacing, affine)
    with pytest.raises(ConsistencyError, match=message) as exc:
        _evaluate(gt, pred)
    assert "case 'c1'" in str(exc.value)
    assert str(pred / "c1.nii.gz") in str(exc.value)


def test_labels_outside_the_list_name_the_file(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    with pytest.raises(ConsistencyError, match=r"gt/c0\.nii\.gz \(case 'c0'\): GT holds"
                                               r" values outside the label list: 2 \(27"
                                               r" voxels\); expected \[0, 1\]") as exc:
        _evaluate(gt, pred, labels=(1,))
    assert "pred/c0.nii.gz (case 'c0'): prediction holds values" in str(exc.value.problems[1])


def test_validate_lists_every_problem(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    (pred / "c0.nii.gz").write_bytes(b"\x1f\x8b broken")
    _nifti(pred / "c2.nii.gz", _volume()[:, :, :4])
    problems = benchmark_eval.validate("medical", gt=gt, pred=pred, labels=(1, 2))
    assert [Path(p.file.split(" ")[0]).name for p in problems] == ["c0.nii.gz", "c2.nii.gz"]
    assert benchmark_eval.validate("medical", gt=gt, pred=gt, labels=(1, 2)) == []


def test_numpy_volumes_need_a_spacing(tmp_path: Path) -> None:
    for side in ("gt", "pred"):
        (tmp_path / side).mkdir()
        np.save(tmp_path / side / "a.npy", _volume())
        np.savez_compressed(tmp_path / side / "b.npz", seg=_volume(1))
    with pytest.raises(FormatError, match="NumPy volumes carry no voxel spacing"):
        _evaluate(tmp_path / "gt", tmp_path / "pred")
    r = _evaluate(tmp_path / "gt", tmp_path / "pred", spacing=SPACING)
    assert r.computed.case_names == ("a", "b")
    assert r.metrics["1"]["Dice"] == 1.0


def test_numpy_and_nifti_give_the_same_numbers(folders: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    for side in ("gt", "pred"):
        (tmp_path / "np" / side).mkdir(parents=True)
        for i in range(3):
            vol = np.asarray(nib.load(folders[side == "pred"] / f"c{i}.nii.gz").dataobj)
            np.save(tmp_path / "np" / side / f"c{i}.npy", vol)
    header_spacing = tuple(float(np.float32(s)) for s in SPACING)  # NIfTI pixdim is float32
    a = _evaluate(*folders).to_report()
    b = _evaluate(tmp_path / "np" / "gt", tmp_path / "np" / "pred",
                  spacing=header_spacing).to_report()
    assert a["per_case"] == b["per_case"]


def test_non_label_volumes_are_refused(tmp_path: Path) -> None:
    path = _nifti(tmp_path / "f.nii.gz", _volume().astype(np.float32) + 0.5)
    with pytest.raises(FormatError, match="non-integer values"):
        read_volume(path)
    path = _nifti(tmp_path / "t.nii.gz", np.zeros((4, 4, 4, 2), np.uint8))
    with pytest.raises(FormatError, match="no time or channel axis"):
        read_volume(path)


def test_workers_and_shards_change_nothing(folders: tuple[Path, Path]) -> None:
    one = _evaluate(*folders, workers=1).to_report()
    two = _evaluate(*folders, workers=2).to_report()
    assert one == two


def test_dataset_json_labels_ignore_and_regions(tmp_path: Path,
                                                folders: tuple[Path, Path]) -> None:
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps({"labels": {"background": 0, "organ": 1, "lesion": 2,
                                           "ignore": 3}, "file_ending": ".nii.gz"}))
    ds = read_dataset_json(path)
    assert (ds.labels, ds.regions, ds.names, ds.ignore_label) == ((1, 2), (), ("organ",
                                                                             "lesion"), 3)
    r = _evaluate(*folders, labels=(), dataset_json=path)
    assert r.params.display_names() == ("organ", "lesion")
    assert r.params.ignore_label == 3
    path.write_text(json.dumps({"labels": {"background": 0, "whole": [1, 2], "core": 2}}))
    ds = read_dataset_json(path)
    assert (ds.labels, ds.regions) == ((1, 2), ((1, 2), (2,)))
    assert list(_evaluate(*folders, labels=(), dataset_json=path).metrics) == ["(1, 2)", "2"]
    with pytest.raises(ConfigError, match="contradict"):
        _evaluate(*folders, labels=(1,), dataset_json=path)
    path.write_text(json.dumps({"labels": {"organ": "one"}}))
    with pytest.raises(FormatError, match="label 'organ': expected a non-negative integer"):
        read_dataset_json(path)


def test_no_labels_is_a_config_error(folders: tuple[Path, Path]) -> None:
    with pytest.raises(ConfigError, match="medical needs the labels"):
        _evaluate(*folders, labels=())


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the GT folder does not exist"):
        _evaluate(tmp_path / "nope", tmp_path)


def test_multi_member_gzip_is_read(tmp_path: Path) -> None:
    raw = _nifti(tmp_path / "a.nii", _volume()).read_bytes()
    half = len(raw) // 2
    path = tmp_path / "a.nii.gz"
    path.write_bytes(gzip.compress(raw[:half], mtime=0) + gzip.compress(raw[half:], mtime=0))
    assert np.array_equal(read_volume(path).array, _volume())


def test_scaled_and_big_endian_volumes(tmp_path: Path) -> None:
    img = nib.Nifti1Image(_volume().astype(">i2"), np.diag([*SPACING, 1.0]))
    img.header.set_zooms(SPACING)
    (tmp_path / "be.nii").write_bytes(img.to_bytes())
    assert np.array_equal(read_volume(tmp_path / "be.nii").array, _volume())
    img = nib.Nifti1Image(_volume().astype(np.int16), np.diag([*SPACING, 1.0]))
    img.header.set_slope_inter(2.0, 0.0)
    (tmp_path / "s.nii").write_bytes(img.to_bytes())
    assert np.array_equal(read_volume(tmp_path / "s.nii").array, 2 * _volume())
