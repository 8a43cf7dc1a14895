"""Medical-segmentation speed benchmark: ``benchmark_eval`` vs MedPy 0.5.2 vs MONAI (if
installed) vs reading the NIfTI files, in the same run.

Data: ``--cases`` seeded cases (default 50) of 512x512x~200 voxels at 0.8 x 0.8 x 2.5 mm
with 5 labels (ellipsoidal organs of decreasing size), predictions shifted by up to 2 voxels
with a false-positive blob; gzipped NIfTI-1 written by ``data_samples/make_medical_samples``'
helpers, cached under ``benchmarks/.data/medical-<seed>-<cases>-<size>/``. ``--small``: 6
cases of 256x256x~80 (for a quick run).

Rows (the files are read once first, so every row reads from the page cache):

* ``read NIfTI``: ``io.nifti.read_volume`` of every GT and prediction file (gunzip + header
  checks), and plain ``nibabel.load(...).dataobj`` for comparison;
* ``benchmark_eval``: ``evaluate("medical", labels=1..5, workers=1)``: read, grid checks,
  counts, HD / HD95 / ASSD / NSD of every label, every rule;
* ``MedPy``: per label ``dc``, ``hd``, ``hd95``, ``assd`` with ``voxelspacing`` on the first
  ``--reference-cases`` cases (each call runs its own full-volume distance transforms), read
  with nibabel; extrapolated to all cases;
* ``MONAI``: ``DiceMetric``, ``HausdorffDistanceMetric`` (plain and ``percentile=95``),
  ``SurfaceDistanceMetric``, ``SurfaceDiceMetric`` on one-hot tensors, same cases,
  extrapolated.

Usage: ``python benchmarks/medical.py [--small] [--cases 50] [--reference-cases 2]
[--seed 0] [--json OUT]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import benchmark_eval  # noqa: E402
from benchmark_eval.io.nifti import pair_cases, read_volume  # noqa: E402

LABELS = (1, 2, 3, 4, 5)
SPACING = (0.8, 0.8, 2.5)
GENERATOR_VERSION = 1


def _samples() -> Any:
    path = REPO / "data_samples" / "make_medical_samples.py"
    spec = importlib.util.spec_from_file_location("make_medical_samples", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(out: Path, cases: int, size: int, depth: int, seed: int) -> Path:
    """Write (or find) the seeded set; returns its folder."""
    folder = out / f"medical-v{GENERATOR_VERSION}-{seed}-{cases}-{size}"
    if (folder / "done").exists():
        return folder
    m = _samples()
    rng = np.random.default_rng(seed)
    for i in range(cases):
        shape = (size, size, int(depth + rng.integers(-depth // 10, depth // 10 + 1)))
        gt = m.random_volume(rng, shape, SPACING, LABELS, size_mm=50.0 * size / 512)
        pred = m.perturb(rng, gt, noise=0.0)
        c = (rng.uniform(0.2, 0.8, 3) * np.array(shape)).astype(int)
        pred[c[0]:c[0] + 6, c[1]:c[1] + 6, c[2]:c[2] + 2] = LABELS[-1]  # a false positive
        for side, vol in (("gt", gt), ("pred", pred)):
            path = folder / side / f"case_{i:03d}.nii.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(m.nifti_bytes(vol, SPACING))
        print(f"  generated {i + 1}/{cases}", file=sys.stderr, end="\r")
    (folder / "done").write_text("")
    return folder


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def read_all(folder: Path) -> float:
    return timed(lambda: [read_volume(p) for c in pair_cases(folder / "gt", folder / "pred")
                          for p in (c.gt, c.pred)])[0]


def read_nibabel(folder: Path) -> float:
    import nibabel as nib

    def run() -> None:
        for c in pair_cases(folder / "gt", folder / "pred"):
            for p in (c.gt, c.pred):
                np.asanyarray(nib.load(p).dataobj)

    return timed(run)[0]


def medpy_case(gt_path: Path, pred_path: Path) -> float:
    import nibabel as nib
    from medpy.metric import binary as mb

    def run() -> None:
        gt = np.asanyarray(nib.load(gt_path).dataobj)
        img = nib.load(pred_path)
        pred = np.asanyarray(img.dataobj)
        sp = img.header.get_zooms()[:3]
        for label in LABELS:
            p, g = pred == label, gt == label
            mb.dc(p, g)
            if p.any() and g.any():
                mb.hd(p, g, voxelspacing=sp)
                mb.hd95(p, g, voxelspacing=sp)
                mb.assd(p, g, voxelspacing=sp)

    return timed(run)[0]


def monai_case(gt_path: Path, pred_path: Path) -> float | None:
    try:
        import torch
        from monai import metrics as mm
    except ImportError:
        return None
    import warnings

    import nibabel as nib

    def run() -> None:
        gt = np.asanyarray(nib.load(gt_path).dataobj)
        img = nib.load(pred_path)
        pred = np.asanyarray(img.dataobj)
        sp = [float(s) for s in img.header.get_zooms()[:3]]

        def hot(v: np.ndarray) -> Any:
            return torch.from_numpy(np.stack([v == k for k in (0, *LABELS)])[None])

        yp, y = hot(pred), hot(gt)
        kw: dict[str, Any] = {"include_background": False, "reduction": "none"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mm.DiceMetric(**kw)(yp.float(), y.float())
            mm.HausdorffDistanceMetric(**kw)(yp, y, spacing=sp)
            mm.HausdorffDistanceMetric(percentile=95, **kw)(yp, y, spacing=sp)
            mm.SurfaceDistanceMetric(symmetric=True, **kw)(yp, y, spacing=sp)
            mm.SurfaceDiceMetric([1.0] * len(LABELS), **kw)(yp, y, spacing=sp)

    return timed(run)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=None)
    ap.add_argument("--small", action="store_true", help="6 cases of 256x256x~80")
    ap.add_argument("--reference-cases", type=int, default=2,
                    help="cases MedPy and MONAI run on (extrapolated; 0 skips them)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    size, depth = (256, 80) if args.small else (512, 200)
    n = args.cases or (6 if args.small else 50)
    folder = generate(HERE / ".data", n, size, depth, args.seed)
    cases = pair_cases(folder / "gt", folder / "pred")
    read_all(folder)  # warm the page cache
    rows: dict[str, Any] = {"cases": n, "shape": f"{size}x{size}x~{depth}",
                            "labels": len(LABELS)}
    rows["read_ours_s"] = read_all(folder)
    rows["read_nibabel_s"] = read_nibabel(folder)
    rows["ours_s"], result = timed(lambda: benchmark_eval.evaluate(
        "medical", gt=folder / "gt", pred=folder / "pred", labels=LABELS, workers=1))
    rows["ours_all_cores_s"] = timed(lambda: benchmark_eval.evaluate(
        "medical", gt=folder / "gt", pred=folder / "pred", labels=LABELS, workers=0))[0]
    rows["ours_over_read"] = rows["ours_s"] / rows["read_ours_s"]
    rows["ours_over_read_nibabel"] = rows["ours_s"] / rows["read_nibabel_s"]
    k = min(args.reference_cases, n)
    if k:  # 0: skip the (slow) reference tools
        medpy = [medpy_case(c.gt, c.pred) for c in cases[:k]]
        rows["medpy_per_case_s"] = float(np.mean(medpy))
        rows["medpy_extrapolated_s"] = rows["medpy_per_case_s"] * n
        rows["medpy_over_ours"] = rows["medpy_extrapolated_s"] / rows["ours_s"]
        monai = [monai_case(c.gt, c.pred) for c in cases[:k]]
        if all(t is not None for t in monai):
            rows["monai_per_case_s"] = float(np.mean([t for t in monai if t is not None]))
            rows["monai_extrapolated_s"] = rows["monai_per_case_s"] * n
            rows["monai_over_ours"] = rows["monai_extrapolated_s"] / rows["ours_s"]
    rows["dice_foreground"] = result.to_report()["foreground_mean"]["Dice"]
    for key, value in rows.items():
        print(f"{key:<24} {value:.3f}" if isinstance(value, float) else f"{key:<24} {value}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
