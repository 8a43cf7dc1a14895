"""Seeded 3-D label volumes with the cases where the medical tools disagree or break.

Every case has labels 1 and 2 on a small grid; ``nasty_cases`` covers an empty reference,
an empty prediction, both empty, single voxels, anisotropic spacing, objects touching the
volume border and a perfect prediction. Volumes come from ``data_samples``' helpers (one
synthetic-data helper for samples, tests and benchmarks).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

_SAMPLES = Path(__file__).resolve().parents[2] / "data_samples" / "make_medical_samples.py"


def samples_module() -> ModuleType:
    """``data_samples/make_medical_samples.py`` as a module."""
    if "make_medical_samples" in sys.modules:
        return sys.modules["make_medical_samples"]
    spec = importlib.util.spec_from_file_location("make_medical_samples", _SAMPLES)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_medical_samples"] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Case:
    """One case: name, GT and prediction volumes (uint8), spacing in mm."""

    name: str
    gt: np.ndarray
    pred: np.ndarray
    spacing: tuple[float, float, float]


LABELS = (1, 2)


def nasty_cases(seed: int = 3, shape: tuple[int, int, int] = (32, 28, 16)) -> list[Case]:
    """Random cases plus every corner case, all on ``shape``."""
    m = samples_module()
    rng = np.random.default_rng(seed)
    aniso = (0.7, 0.9, 3.0)
    cases = []
    for i in range(4):
        sp = aniso if i % 2 else (1.0, 1.0, 1.0)
        gt = m.random_volume(rng, shape, sp, LABELS, size_mm=6.0)
        cases.append(Case(f"random_{i}", gt, m.perturb(rng, gt, noise=0.001), sp))
    gt = m.random_volume(rng, shape, aniso, LABELS, size_mm=6.0)
    pred = m.perturb(rng, gt)
    e_ref = gt.copy()
    e_ref[e_ref == 2] = 0
    cases.append(Case("empty_reference", e_ref, pred, aniso))
    e_pred = pred.copy()
    e_pred[e_pred == 2] = 0
    cases.append(Case("empty_prediction", gt, e_pred, aniso))
    cases.append(Case("both_empty", e_ref, e_pred, aniso))
    single_g, single_p = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    single_g[5, 6, 7] = 1
    single_p[9, 2, 7] = 1
    single_g[10, 10, 3] = single_p[10, 10, 3] = 2  # a matched single voxel
    cases.append(Case("single_voxels", single_g, single_p, aniso))
    border_g, border_p = gt.copy(), pred.copy()
    border_g[:3, :, :] = 1
    border_p[:2, :, :] = 1
    border_g[:, :, -2:] = 2
    border_p[:, -4:, -1:] = 2
    cases.append(Case("touching_border", border_g, border_p, (0.5, 0.5, 2.0)))
    cases.append(Case("perfect", gt, gt.copy(), aniso))
    return cases


def write_cases(cases: list[Case], folder: Path, *, spacing: tuple[float, ...] | None = None
                ) -> tuple[Path, Path]:
    """Write ``gt/NAME.nii.gz`` and ``pred/NAME.nii.gz`` (each case's spacing, or
    ``spacing`` for all); returns both folders."""
    m = samples_module()
    gt_dir, pred_dir = folder / "gt", folder / "pred"
    gt_dir.mkdir(parents=True, exist_ok=True)
    pred_dir.mkdir(parents=True, exist_ok=True)
    for c in cases:
        sp = spacing or c.spacing
        (gt_dir / f"{c.name}.nii.gz").write_bytes(m.nifti_bytes(c.gt, sp))
        (pred_dir / f"{c.name}.nii.gz").write_bytes(m.nifti_bytes(c.pred, sp))
    return gt_dir, pred_dir
