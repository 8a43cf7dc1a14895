"""Semantic-segmentation speed benchmark: ``benchmark_eval`` vs PNG decoding alone vs a plain loop.

Data: ``--pairs`` ADE20K-sized pairs (512x512, 150 classes; GT 0..150 with 0 = "other", as
ADE20K's annotations; predictions 0..149), seeded, cached under
``benchmarks/.data/semantic-<seed>-<pairs>/``. Each map is a Voronoi partition with wavy
borders over 8-40 regions (a skewed class frequency), predictions with shifted borders,
swapped regions and speckle; 8-bit PNGs written by Pillow.

Rows (the files are read once first, so every row decodes from the page cache):

* ``decode Pillow`` / ``decode pyspng``: read both PNGs of every pair, nothing else (pyspng
  only if installed); in 1 process and in one fork-based process per core.
* ``benchmark_eval``: ``evaluate("semantic", ..., params="semantic-ade20k",
  workers=1 | all cores)``: pairing, decoding (Pillow), checks, counting, metrics.
* ``reference loop``: mmseg's formula as a plain per-image loop (Pillow decode, zero-label
  shift, ignore mask, three ``np.histogram`` calls like ``torch.histc``), 1 process.

Each row is the best of ``--repeat`` runs; ``x decode`` is its time over Pillow decoding with
the same number of processes. ``other load`` is the number of cores other processes kept busy
during the row (``/proc/stat`` minus this process tree's CPU time); rows marked ``*`` ran on a
busy machine.

Usage: ``python benchmarks/semantic.py [--pairs 2000] [--seed 0] [--repeat 1] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _harness import best_time  # noqa: E402

import benchmark_eval  # noqa: E402
from benchmark_eval.io.png import read_label_map  # noqa: E402

GENERATOR_VERSION = 1
SIZE = 512
CLASSES = 150
CORES = os.cpu_count() or 1
CONFIG = REPO / "benchmark_eval" / "presets" / "semantic-ade20k.json"
BUSY_WARN = 0.25


# ----------------------------------------------------------------------------------- data


def _partition(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Seed points and the wavy-Voronoi owner of every pixel."""
    seeds = rng.uniform(0, SIZE, size=(k, 2))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=4)
    yy += 6 * np.sin(xx / 23 + phase[0]) + 3 * np.sin(xx / 7 + phase[1])
    xx += 6 * np.sin(yy / 19 + phase[2]) + 3 * np.sin(yy / 5 + phase[3])
    return seeds, _owner(seeds, yy, xx)


def _owner(seeds: np.ndarray, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    best = np.full(yy.shape, np.inf, np.float32)
    owner = np.zeros(yy.shape, np.int32)
    for i, (sy, sx) in enumerate(seeds):
        d = (yy - sy) ** 2 + (xx - sx) ** 2
        closer = d < best
        best[closer] = d[closer]
        owner[closer] = i
    return owner


def _pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(8, 41))
    freq = 1.0 / np.arange(1, CLASSES + 1) ** 0.9  # a few frequent classes, a long tail
    labels = rng.choice(CLASSES, size=k, p=freq / freq.sum()) + 1  # 1..150
    labels[rng.random(k) < 0.08] = 0  # "other" regions (ignored after the shift)
    seeds, owner = _partition(rng, k)
    gt = labels[owner].astype(np.uint8)
    # prediction: borders moved (seeds jittered), some regions swapped, speckle
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
    gt, pred = _pair(seed * 1_000_003 + i)
    Image.fromarray(gt).save(root / "gt" / f"{i:06d}.png")
    Image.fromarray(pred).save(root / "pred" / f"{i:06d}.png")


def make_data(pairs: int, seed: int) -> Path:
    """Generate (or reuse) the data set; returns its folder."""
    root = HERE / ".data" / f"semantic-{seed}-{pairs}"
    meta = root / "meta.json"
    settings = {"generator": GENERATOR_VERSION, "pairs": pairs, "seed": seed, "size": SIZE,
                "classes": CLASSES}
    if meta.exists() and json.loads(meta.read_text()).get("settings") == settings:
        return root
    for sub in ("gt", "pred"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(CORES) as pool:
        pool.map(_write, [(root, seed, i) for i in range(pairs)], chunksize=16)
    size = sum(p.stat().st_size for p in root.rglob("*.png"))
    meta.write_text(json.dumps({"settings": settings, "seconds": time.perf_counter() - start,
                                "png_bytes": size}, indent=2))
    return root


# -------------------------------------------------------------------------------- timings

_FILES: list[tuple[Path, Path]] = []


def _decode_pillow(bounds: tuple[int, int]) -> int:
    for g, p in _FILES[bounds[0]:bounds[1]]:
        read_label_map(g)
        read_label_map(p)
    return bounds[1] - bounds[0]


def _decode_pyspng(bounds: tuple[int, int]) -> int:
    import pyspng

    for g, p in _FILES[bounds[0]:bounds[1]]:
        pyspng.load(g.read_bytes())
        pyspng.load(p.read_bytes())
    return bounds[1] - bounds[0]


def _in_processes(fn: Callable[[tuple[int, int]], int], processes: int) -> None:
    n = len(_FILES)
    if processes == 1:
        fn((0, n))
        return
    step = 32
    shards = [(a, min(n, a + step)) for a in range(0, n, step)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        assert sum(pool.imap_unordered(fn, shards)) == n


def _reference_loop(root: Path) -> float:
    """mmseg ``IoUMetric`` as a plain loop (``np.histogram`` standing in for torch.histc)."""
    areas = np.zeros((4, CLASSES))
    for g, p in _FILES:
        label = np.asarray(Image.open(g)).astype(np.int64)
        pred = np.asarray(Image.open(p)).astype(np.int64)
        label[label == 0] = 256  # reduce_zero_label: 0 -> 255 after the shift
        label -= 1
        mask = label != 255
        pred, label = pred[mask], label[mask]
        inter = pred[pred == label]
        hist = [np.histogram(x, bins=CLASSES, range=(0, CLASSES - 1))[0]
                for x in (inter, pred, label)]
        areas += np.stack([hist[0], hist[1] + hist[2] - hist[0], hist[1], hist[2]])
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.nanmean(areas[0] / areas[1]))


def _ours(root: Path, workers: int) -> float:
    params = {k: v for k, v in json.loads(CONFIG.read_text()).items()
              if k not in ("protocol", "description")}
    r = benchmark_eval.evaluate("semantic", gt=root / "gt", pred=root / "pred", params=params,
                                workers=workers)
    assert r.counts["images"] == len(_FILES)
    return float(r.metrics["mIoU"] or 0.0)


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any, float]:
    """Best of ``repeat`` runs: its seconds, value, and the other processes' cores."""
    best = best_time(fn, repeat)
    return best["seconds"], best["value"], best["other_load"]


def run(pairs: int, seed: int, repeat: int) -> dict[str, Any]:
    """Time every row; returns the records."""
    root = make_data(pairs, seed)
    _FILES[:] = [(g, root / "pred" / g.name) for g in sorted((root / "gt").glob("*.png"))]
    for g, p in _FILES:  # into the page cache
        g.read_bytes()
        p.read_bytes()
    rows: dict[str, dict[str, Any]] = {}
    decoders: list[tuple[str, Callable[[tuple[int, int]], int]]] = [("Pillow", _decode_pillow)]
    try:
        import pyspng  # noqa: F401

        decoders.append(("pyspng", _decode_pyspng))
    except ImportError:
        pass
    for procs in sorted({1, CORES}):
        for name, fn in decoders:
            seconds, _, load = _time(lambda fn=fn, procs=procs: _in_processes(fn, procs),
                                     repeat)
            rows[f"decode {name}, {procs} proc"] = {"seconds": seconds,
                                                    "background_cores": load}
        seconds, miou, load = _time(lambda procs=procs: _ours(root, procs), repeat)
        rows[f"benchmark_eval, {procs} worker{'s' if procs > 1 else ''}"] = {
            "seconds": seconds, "mIoU": miou, "background_cores": load,
            "x_decode": seconds / rows[f"decode Pillow, {procs} proc"]["seconds"]}
    seconds, ref_miou, load = _time(lambda: _reference_loop(root), repeat)
    rows["reference loop (mmseg formula), 1 proc"] = {
        "seconds": seconds, "mIoU": ref_miou, "background_cores": load}
    for row in rows.values():
        row["pairs_per_s"] = len(_FILES) / row["seconds"]
    return {"pairs": len(_FILES), "cores": CORES, "rows": rows,
            "data": json.loads((root / "meta.json").read_text())}


def _print(result: dict[str, Any]) -> None:
    print(f"{result['pairs']} pairs of {SIZE}x{SIZE}, {CLASSES} classes, {result['cores']} cores,"
          f" {result['data']['png_bytes'] / 2 / result['pairs'] / 1024:.1f} KiB per PNG")
    print(f"{'row':<40} {'seconds':>8} {'pairs/s':>8} {'x decode':>9} {'mIoU':>10}"
          f" {'other load':>10}")
    for name, row in result["rows"].items():
        x = f"{row['x_decode']:.2f}x" if "x_decode" in row else ""
        miou = f"{row['mIoU']:.6f}" if "mIoU" in row else ""
        busy = row["background_cores"]
        flag = " *" if busy > BUSY_WARN else ""
        print(f"{name:<40} {row['seconds']:8.2f} {row['pairs_per_s']:8.1f} {x:>9} {miou:>10}"
              f" {busy:8.2f} c{flag}")
    print(f"other load: cores used by other processes during the row (* above {BUSY_WARN}:"
          " noisy, rerun on an idle machine)")


def main() -> None:
    """Parse arguments, run, print (and save) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="best of K runs per row")
    parser.add_argument("--json", type=Path, help="also save the records here")
    args = parser.parse_args()
    result = run(args.pairs, args.seed, args.repeat)
    _print(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
