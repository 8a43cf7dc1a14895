"""``medical`` against MedPy 0.5.2, MONAI 1.6 and nnU-Net v2 2.8, all live, on seeded
volumes with the nasty cases (``medical_generators.nasty_cases``).

* MedPy ``dc`` / ``hd`` / ``hd95`` / ``assd`` (``voxelspacing``): bit for bit (``==``).
  MedPy raises on an empty mask, where we report NaN. Its ``dc`` means to return 1.0 when
  both masks are empty (``except ZeroDivisionError``), but on numpy 2 ``count_nonzero``
  returns a numpy integer, so ``2.0 * 0 / 0.0`` is NaN with a RuntimeWarning: the
  ``nnunet`` rule's value (``empty_is_one`` gives the intended 1.0).
* MONAI ``DiceMetric``, ``MeanIoU``, ``HausdorffDistanceMetric`` (plain and
  ``percentile=95``), ``SurfaceDistanceMetric(symmetric=True)``, ``SurfaceDiceMetric``: our
  ``monai`` rule, to float32 precision (MONAI returns float32 tensors).
* nnU-Net ``compute_metrics_on_folder``: ``tests_nnunet/`` (a separate command in the
  README: nnU-Net's extra ``nnunet-parity`` pulls several GB of torch).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from medical_generators import LABELS, Case, nasty_cases, write_cases
from medpy.metric import binary as medpy

import benchmark_eval
from benchmark_eval.report.medical import MedicalResult

CASES = nasty_cases()
F32 = {"rtol": 2e-6, "atol": 2e-6}  # MONAI's float32 distances and quantiles


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_cases(CASES, tmp_path_factory.mktemp("medical"))


def _ours(gt: Path, pred: Path, **params: Any) -> MedicalResult:
    result = benchmark_eval.evaluate("medical", gt=gt, pred=pred, labels=LABELS, **params)
    assert isinstance(result, MedicalResult)
    return result


def _header(spacing: tuple[float, ...]) -> tuple[float, ...]:
    """The spacing as a NIfTI header stores it (pixdim is float32): what every tool reads."""
    return tuple(float(np.float32(s)) for s in spacing)


def _row(result: MedicalResult, rule: str, metric: str, case: str) -> np.ndarray:
    n = result.computed.case_names.index(case)
    return result.computed.rules[rule].per_case[metric][n]


def test_medpy_bit_for_bit(folders: tuple[Path, Path]) -> None:
    result = _ours(*folders)
    compared = 0
    for c in CASES:
        for k, label in enumerate(LABELS):
            p, g = c.pred == label, c.gt == label
            with np.errstate(invalid="ignore"):  # MedPy's 0 / 0, see the module docstring
                theirs = medpy.dc(p, g)
            ours = _row(result, "nnunet", "Dice", c.name)[k]
            assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), c.name
            if not p.any() or not g.any():
                with pytest.raises(RuntimeError):
                    medpy.hd(p, g, voxelspacing=_header(c.spacing))
                for m in ("HD", "HD95", "ASSD"):
                    assert math.isnan(_row(result, "nnunet", m, c.name)[k]), (c.name, m)
                continue
            for m, fn in (("HD", medpy.hd), ("HD95", medpy.hd95), ("ASSD", medpy.assd)):
                ours = _row(result, "nnunet", m, c.name)[k]
                assert ours == fn(p, g, voxelspacing=_header(c.spacing)), (c.name, label, m)
                compared += 1
    assert compared >= 3 * 2 * 8


def test_medpy_isotropic_default_spacing(tmp_path: Path) -> None:
    """MedPy without ``voxelspacing`` is unit spacing: NumPy volumes with spacing 1."""
    c = CASES[0]
    for side, vol in (("gt", c.gt), ("pred", c.pred)):
        (tmp_path / side).mkdir()
        np.save(tmp_path / side / f"{c.name}.npy", vol)
    result = _ours(tmp_path / "gt", tmp_path / "pred", spacing=(1.0,))
    for k, label in enumerate(LABELS):
        p, g = c.pred == label, c.gt == label
        assert _row(result, "nnunet", "HD95", c.name)[k] == medpy.hd95(p, g)
        assert _row(result, "nnunet", "ASSD", c.name)[k] == medpy.assd(p, g)


def _one_hot(vol: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.stack([vol == v for v in (0, *LABELS)])[None].astype(np.float32))


def _monai(c: Case) -> dict[str, np.ndarray]:
    from monai import metrics as mm

    yp, y, sp = _one_hot(c.pred), _one_hot(c.gt), _header(c.spacing)
    tol = [1.0] * len(LABELS)
    kw: dict[str, Any] = {"include_background": False, "reduction": "none"}
    out = {
        "Dice": mm.DiceMetric(**kw)(yp, y),
        "IoU": mm.MeanIoU(**kw)(yp, y),
        "HD": mm.HausdorffDistanceMetric(**kw)(yp, y, spacing=sp),
        "HD95": mm.HausdorffDistanceMetric(percentile=95, **kw)(yp, y, spacing=sp),
        "ASSD": mm.SurfaceDistanceMetric(symmetric=True, **kw)(yp, y, spacing=sp),
        "NSD": mm.SurfaceDiceMetric(tol, **kw)(yp, y, spacing=sp),
    }
    return {k: v.numpy()[0].astype(np.float64) for k, v in out.items()}


@pytest.mark.filterwarnings("ignore:the (ground truth|prediction) of class")
@pytest.mark.filterwarnings("ignore:monai.metrics.utils get_mask_edges:FutureWarning")
def test_monai_rule_live(folders: tuple[Path, Path]) -> None:
    result = _ours(*folders, empty_rule="monai")
    for c in CASES:
        theirs = _monai(c)
        for m, values in theirs.items():
            ours = _row(result, "monai", m, c.name)
            np.testing.assert_allclose(ours, values, **F32, err_msg=f"{c.name} {m}")
