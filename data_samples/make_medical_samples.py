"""Write the tiny medical sample in ``data_samples/medical/`` (seeded, byte-identical on
re-run), and the synthetic-volume helpers shared by the tests and ``benchmarks/medical.py``.

Five cases of 48x40x20 voxels at 0.8 x 0.8 x 2.5 mm (anisotropic, as CT), labels 1 ("organ")
and 2 ("lesion"), as ``gt/CASE.nii.gz`` and ``pred/CASE.nii.gz``:

* ``case_000``, ``case_001``: both labels in GT and prediction, the prediction shifted;
* ``case_002``: no lesion in the GT, a false-positive lesion predicted (empty reference);
* ``case_003``: a lesion in the GT, none predicted (empty prediction);
* ``case_004``: no lesion on either side (both empty: the rules disagree), and the organ
  touches the volume border.

Usage: ``python data_samples/make_medical_samples.py [OUT_DIR]``
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

SEED = 15
SHAPE = (48, 40, 20)
SPACING = (0.8, 0.8, 2.5)
LABELS = (1, 2)


def ellipsoid(shape: tuple[int, ...], centre: np.ndarray, radii: np.ndarray,
              spacing: tuple[float, ...]) -> np.ndarray:
    """Boolean ellipsoid of ``radii`` mm around ``centre`` (voxel coordinates)."""
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    dist = sum(((g - c) * s / r) ** 2
               for g, c, r, s in zip(grids, centre, radii, spacing, strict=True))
    return np.asarray(dist <= 1.0)


def random_volume(rng: np.random.Generator, shape: tuple[int, ...],
                  spacing: tuple[float, ...], labels: tuple[int, ...], *,
                  size_mm: float = 8.0) -> np.ndarray:
    """A uint8 label volume with one random ellipsoid per label (later labels on top)."""
    vol = np.zeros(shape, dtype=np.uint8)
    extent = np.array(shape) * np.array(spacing)
    for label in labels:
        radii = rng.uniform(0.5, 1.5, len(shape)) * size_mm / (1 + 0.5 * (label - 1))
        centre = rng.uniform(0.2, 0.8, len(shape)) * extent / np.array(spacing)
        vol[ellipsoid(shape, centre, radii, spacing)] = label
    return vol


def perturb(rng: np.random.Generator, vol: np.ndarray, *, shift: int = 2,
            noise: float = 0.002) -> np.ndarray:
    """A prediction: ``vol`` shifted by up to ``shift`` voxels per axis, a few voxels flipped."""
    pred = np.roll(vol, tuple(int(s) for s in rng.integers(-shift, shift + 1, vol.ndim)),
                   axis=tuple(range(vol.ndim)))
    flip = rng.random(vol.shape) < noise
    present = np.unique(vol)
    pred[flip] = rng.choice(present, int(flip.sum()))
    return pred


def nifti_bytes(array: np.ndarray, spacing: tuple[float, ...], *,
                origin: tuple[float, ...] = (0.0, 0.0, 0.0)) -> bytes:
    """A gzipped NIfTI-1 file of ``array`` (no time stamp: reproducible bytes)."""
    import nibabel as nib

    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = origin
    img = nib.Nifti1Image(array, affine)
    img.header.set_zooms(spacing)
    img.header.set_xyzt_units("mm")
    return gzip.compress(img.to_bytes(), compresslevel=6, mtime=0)


def sample_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The sample's ``(gt, pred)`` volumes by case name."""
    rng = np.random.default_rng(SEED)
    cases = {}
    for i in range(5):
        gt = random_volume(rng, SHAPE, SPACING, LABELS)
        pred = perturb(rng, gt)
        if i == 2:
            gt[gt == 2] = 1
            pred[:4, :4, :2] = 2
        elif i == 3:
            pred[pred == 2] = 0
        elif i == 4:
            gt[gt == 2] = pred[pred == 2] = 1
            gt[:, :6, :] = pred[:, :5, :] = 1  # the organ reaches the border
        cases[f"case_{i:03d}"] = (gt, pred)
    return cases


def make(out_dir: Path) -> list[Path]:
    """Write ``gt/`` and ``pred/`` under ``out_dir``; returns the files written."""
    written = []
    for name, (gt, pred) in sample_cases().items():
        for side, vol in (("gt", gt), ("pred", pred)):
            path = out_dir / side / f"{name}.nii.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(nifti_bytes(vol, SPACING))
            written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "medical"
    for p in make(target):
        print(p)
