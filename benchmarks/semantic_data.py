"""Seeded generator of ADE20K-like semantic label-map pairs (for ``semantic.py``).

``--images`` pairs of 512x512 8-bit label PNGs (written by Pillow): ground truth 0..150 with
0 = "other" as in ADE20K's annotations, predictions 0..149. Each map is a Voronoi partition
with wavy borders over 8-40 regions (a skewed class frequency); predictions move the
borders (jittered seeds), swap ~20 % of the regions' labels and add 1 % speckle. Cached
under ``benchmarks/.data/semantic-<seed>-<images>/`` (``gt/``, ``pred/``, ``meta.json``).

Usage: ``python benchmarks/semantic_data.py [--images 2000] [--seed 0] [--out DIR] [--force]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from collections.abc import Sequence
from pathlib import Path

import _data as gen
import numpy as np
from PIL import Image

GENERATOR_VERSION = 1
SIZE = 512
CLASSES = 150


def _owner(seeds: np.ndarray, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Index of the nearest seed of every pixel."""
    best = np.full(yy.shape, np.inf, np.float32)
    owner = np.zeros(yy.shape, np.int32)
    for i, (sy, sx) in enumerate(seeds):
        d = (yy - sy) ** 2 + (xx - sx) ** 2
        closer = d < best
        best[closer] = d[closer]
        owner[closer] = i
    return owner


def _partition(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Seed points and the wavy-Voronoi owner of every pixel."""
    seeds = rng.uniform(0, SIZE, size=(k, 2))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=4)
    yy += 6 * np.sin(xx / 23 + phase[0]) + 3 * np.sin(xx / 7 + phase[1])
    xx += 6 * np.sin(yy / 19 + phase[2]) + 3 * np.sin(yy / 5 + phase[3])
    return seeds, _owner(seeds, yy, xx)


def pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One (ground truth, prediction) pair of uint8 label maps."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(8, 41))
    freq = 1.0 / np.arange(1, CLASSES + 1) ** 0.9  # a few frequent classes, a long tail
    labels = rng.choice(CLASSES, size=k, p=freq / freq.sum()) + 1  # 1..150
    labels[rng.random(k) < 0.08] = 0  # "other" regions (ignored after the shift)
    seeds, owner = _partition(rng, k)
    gt = labels[owner].astype(np.uint8)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    pred_owner = _owner(seeds + rng.normal(0, 12, size=seeds.shape), yy, xx)
    pred_labels = np.where(labels == 0, rng.integers(1, CLASSES + 1, size=k), labels) - 1
    swap = rng.random(k) < 0.2
    pred_labels[swap] = rng.integers(0, CLASSES, size=int(swap.sum()))
    pred = pred_labels[pred_owner].astype(np.uint8)
    speckle = rng.random(pred.shape) < 0.01
    pred[speckle] = rng.integers(0, CLASSES, size=int(speckle.sum()))
    return gt, pred


def _write(args: tuple[Path, int, int]) -> None:
    root, seed, i = args
    gt, pred = pair(seed * 1_000_003 + i)
    Image.fromarray(gt).save(root / "gt" / f"{i:06d}.png")
    Image.fromarray(pred).save(root / "pred" / f"{i:06d}.png")


def make_data(pairs: int, seed: int, root: Path | None = None, force: bool = False) -> Path:
    """Generate (or reuse) the data set; returns its folder."""
    root = root or gen.DATA_ROOT / f"semantic-{seed}-{pairs}"
    meta = root / "meta.json"
    settings = {"generator": GENERATOR_VERSION, "pairs": pairs, "seed": seed, "size": SIZE,
                "classes": CLASSES}
    if (not force and meta.exists()
            and json.loads(meta.read_text()).get("settings") == settings):
        return root
    for sub in ("gt", "pred"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        pool.map(_write, [(root, seed, i) for i in range(pairs)], chunksize=16)
    size = sum(p.stat().st_size for p in root.rglob("*.png"))
    meta.write_text(json.dumps({"settings": settings, "images": pairs, "size": SIZE,
                                "classes": CLASSES, "seconds": time.perf_counter() - start,
                                "png_bytes": size}, indent=2))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (or locate) the set; print its folder, then its metadata."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    gen.add_data_arguments(ap, 2000)
    args = ap.parse_args(argv)
    root = make_data(args.images, args.seed, args.out, args.force)
    print(root)
    print((root / "meta.json").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
