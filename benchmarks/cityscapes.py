"""Cityscapes speed benchmark: ``benchmark_eval`` vs cityscapesScripts 2.3.0 vs decoding alone.

Data: ``--images`` Cityscapes-like 2048x1024 scenes, seeded, cached under
``benchmarks/.data/cityscapes-<seed>-<images>/``: a street layout with wavy borders (sky,
buildings, vegetation, sidewalk, road, poles, signs, void regions: ego vehicle,
rectification border, out of roi, static), about 25 instances per image (cars, persons,
riders, bicycles, some trucks / buses / motorcycles, a few under 100 pixels, car and person
groups, an occasional caravan), as ``*_gtFine_labelIds.png`` (8-bit) and
``*_gtFine_instanceIds.png`` (16-bit). Semantic predictions: the GT seen through a smooth
displacement field, with class confusions and blobs of wrong labels (8-bit label-id PNGs).
Instance predictions: about 37 binary masks per image (8-bit 0/255 PNGs): moved, grown or
shrunk copies of the GT instances, duplicates, false positives, relabelled objects.

Rows (each in a fresh process that first reads every file once, so it decodes from the page
cache and inherits no allocator state from another row):

* ``decode <decoder>``: read and decode every PNG the evaluation needs (semantic: GT label
  ids, GT instance ids, prediction; instance: GT instance ids and every mask of an
  evaluated class), nothing else; ``ours`` is the decoder ``benchmark_eval`` uses
  (``io.pngdecode``: libdeflate + our unfilter kernel, into reused output arrays),
  ``Pillow`` is ``np.asarray(Image.open(...))``.
* ``benchmark_eval``: ``evaluate("cityscapes-semantic" | "cityscapes-instance",
  workers=N)``: search, decoding, checks, counting, metrics.
* ``cityscapesScripts``: ``evalPixelLevelSemanticLabeling.evaluateImgLists`` (with iIoU), and
  for instances ``instances2dict`` + ``matchGtWithPreds`` + ``evaluateMatches`` +
  ``computeAverages`` (its own pipeline minus the two JSON dumps), one process as shipped,
  ``np.in1d`` restored for numpy >= 2.4, printing sent to /dev/null.

Each row is the best of ``--repeat`` runs. ``x decode``: the row's time over ``decode ours``
with the same number of processes; ``vs official``: cityscapesScripts' time over the row's.
``other load`` is the number of cores other processes kept busy during the row
(``/proc/stat`` minus this process tree's CPU time); rows marked ``*`` ran on a busy machine.
``max|d|`` compares every metric and per-class value with cityscapesScripts'.

Usage: ``python benchmarks/cityscapes.py [--images 100] [--seed 0] [--repeat 1]
[--skip-official] [--only semantic|instance] [--json OUT]``
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import json
import math
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _harness import best_time, stdout_silenced  # noqa: E402

import benchmark_eval  # noqa: E402
from benchmark_eval.io.cityscapes_read import read_label_ids  # noqa: E402
from benchmark_eval.io.png import read_label_map  # noqa: E402
from benchmark_eval.io.pngdecode import OutputBuffers  # noqa: E402

GENERATOR_VERSION = 1
H, W = 1024, 2048
CORES = os.cpu_count() or 1
BUSY_WARN = 0.25
_ENV = ("CITYSCAPES_DATASET", "CITYSCAPES_RESULTS", "CITYSCAPES_EXPORT_DIR")

# --------------------------------------------------------------------------------- data

_THINGS = ((26, 0.45), (24, 0.25), (25, 0.05), (33, 0.08), (32, 0.04), (27, 0.05),
           (28, 0.04), (31, 0.02), (29, 0.02))  # (label id, frequency)


def _wave(rng: np.random.Generator, n: int, amp: float, base: float) -> np.ndarray:
    x = np.arange(n, dtype=np.float32)
    out = np.full(n, base, dtype=np.float32)
    for period in (400, 130, 37):
        out += amp * (period / 400) * np.sin(x / period * 2 * np.pi + rng.uniform(0, 6.3))
    return out


def _layout(rng: np.random.Generator) -> np.ndarray:
    """Street-like stuff and void label ids, wavy borders."""
    yy = np.arange(H, dtype=np.float32)[:, None]
    lab = np.full((H, W), 23, dtype=np.uint8)  # sky
    horizon = _wave(rng, W, 60, H * rng.uniform(0.25, 0.4))
    lab[yy > horizon[None, :]] = 11  # building
    trees = _wave(rng, W, 90, H * 0.42)
    lab[(yy > trees[None, :]) & (np.sin(np.arange(W) / 90.0 + rng.uniform(0, 6))[None, :] > 0.3)
        ] = 21  # vegetation patches
    walk = _wave(rng, W, 25, H * 0.55)
    lab[yy > walk[None, :]] = 8  # sidewalk
    road = _wave(rng, W, 20, H * 0.62)
    lab[yy > road[None, :]] = 7  # road
    for _ in range(int(rng.integers(6, 14))):  # poles with signs
        x = int(rng.integers(0, W - 12))
        top = int(rng.integers(int(H * 0.15), int(H * 0.45)))
        lab[top:int(walk[x]), x:x + int(rng.integers(4, 12))] = 17
        lab[top:top + 30, x - 10:x + 22] = int(rng.choice([19, 20]))
    for label, frac in ((22, 0.05), (13, 0.04), (12, 0.03), (4, 0.02), (5, 0.01)):
        for _ in range(int(frac * 200)):
            y, x = int(rng.integers(int(H * 0.35), H - 50)), int(rng.integers(0, W - 80))
            lab[y:y + int(rng.integers(10, 60)), x:x + int(rng.integers(20, 120))] = label
    ego = (yy - H) ** 2 / (H * 0.12) ** 2 + ((np.arange(W) - W / 2) ** 2)[None, :] / (
        W * 0.45) ** 2 < 1
    lab[ego] = 1
    lab[:, :3] = lab[:, -3:] = 2  # rectification border
    lab[:3] = 2
    lab[:40, :60] = lab[:40, -60:] = 3  # out of roi
    return lab


def _paint_things(rng: np.random.Generator, lab: np.ndarray) -> np.ndarray:
    inst = lab.astype(np.uint16)
    labels, freq = zip(*_THINGS, strict=True)
    p = np.array(freq) / sum(freq)
    counters: dict[int, int] = {}
    for _ in range(int(rng.integers(18, 32))):
        label = int(rng.choice(labels, p=p))
        cy = rng.uniform(H * 0.45, H * 0.85)
        scale = (cy - H * 0.4) / (H * 0.45)  # nearer objects are larger
        ry = max(2.0, rng.uniform(10, 90) * scale * (1.8 if label in (24, 25) else 1.0))
        rx = max(2.0, ry * (0.5 if label in (24, 25, 33) else rng.uniform(1.2, 2.2)))
        cx = rng.uniform(0, W)
        y0, y1 = max(0, int(cy - ry)), min(H, int(cy + ry) + 1)
        x0, x1 = max(0, int(cx - rx)), min(W, int(cx + rx) + 1)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        k = counters.get(label, 0)
        counters[label] = k + 1
        inst[y0:y1, x0:x1][m] = label * 1000 + k
    for label in (26, 24):  # groups
        y, x = int(rng.integers(int(H * 0.5), int(H * 0.6))), int(rng.integers(0, W - 300))
        inst[y:y + 40, x:x + int(rng.integers(80, 300))] = label
    return inst


def _displace(rng: np.random.Generator, a: np.ndarray, amp: float) -> np.ndarray:
    """``a`` seen through a smooth displacement field (wavy, moved borders)."""
    dy = np.round(_wave(rng, W, amp, 0.0)).astype(np.intp)
    dx = np.round(_wave(rng, H, amp, 0.0)).astype(np.intp)
    rows = np.clip(np.arange(H)[:, None] + dy[None, :], 0, H - 1)
    cols = np.clip(np.arange(W)[None, :] + dx[:, None], 0, W - 1)
    return a[rows, cols]


def _semantic_pred(rng: np.random.Generator, lab: np.ndarray, inst: np.ndarray) -> np.ndarray:
    pred = _displace(rng, lab, 4.0)
    ids = np.unique(inst[inst >= 1000])
    for v in ids[rng.random(len(ids)) < 0.15]:  # whole objects confused
        pred[_displace(rng, inst == v, 3.0)] = int(rng.choice([26, 27, 24, 33]))
    for _ in range(150):  # blobs of wrong labels
        y, x = int(rng.integers(0, H - 20)), int(rng.integers(0, W - 20))
        pred[y:y + int(rng.integers(3, 20)), x:x + int(rng.integers(3, 20))] = int(
            rng.choice([7, 8, 11, 21, 23, 17, 26, 24, 0, 22]))
    return pred


def _instance_masks(rng: np.random.Generator, inst: np.ndarray
                    ) -> list[tuple[int, float, np.ndarray]]:
    out = []
    ids = np.unique(inst[inst >= 1000]).tolist()
    for v in ids:
        label = v // 1000
        if rng.random() < 0.1:
            continue
        ys, xs = np.nonzero(inst == v)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        for copy_i in range(1 + int(rng.random() < 0.35)):
            m = np.zeros((H, W), dtype=bool)
            dy, dx = (int(d) for d in rng.integers(-4, 5, size=2))
            sy0, sx0 = max(0, y0 + dy), max(0, x0 + dx)
            sub = inst[y0:y1, x0:x1] == v
            sub = sub[: H - sy0, : W - sx0]
            m[sy0:sy0 + sub.shape[0], sx0:sx0 + sub.shape[1]] = sub
            if rng.random() < 0.3:
                m[1:] |= m[:-1]
                m[:, 1:] |= m[:, :-1]
            pred_label = label if rng.random() < 0.85 else int(rng.choice([26, 27, 24, 25]))
            score = round(float(rng.uniform(0.3, 1.0) * (0.6 if copy_i else 1.0)), 3)
            out.append((pred_label, score, m))
    for _ in range(int(rng.integers(3, 8))):  # false positives
        m = np.zeros((H, W), dtype=bool)
        y, x = int(rng.integers(H // 3, H - 80)), int(rng.integers(0, W - 80))
        m[y:y + int(rng.integers(10, 80)), x:x + int(rng.integers(10, 80))] = True
        out.append((int(rng.choice([26, 24, 33])), round(float(rng.uniform(0.05, 0.6)), 3), m))
    return out


def _write(args: tuple[Path, int, int]) -> int:
    root, seed, i = args
    rng = np.random.default_rng(seed * 1_000_003 + i)
    key = f"bench_{seed:06d}_{i:06d}"
    lab = _layout(rng)
    inst = _paint_things(rng, lab)
    lab = np.where(inst < 1000, inst, inst // 1000).astype(np.uint8)
    gt = root / "gtFine" / "val" / "bench"
    Image.fromarray(lab).save(gt / f"{key}_gtFine_labelIds.png")
    Image.fromarray(inst).save(gt / f"{key}_gtFine_instanceIds.png")
    Image.fromarray(_semantic_pred(rng, lab, inst)).save(root / "pred_sem" / f"{key}_pred.png")
    lines = []
    for j, (label, score, m) in enumerate(_instance_masks(rng, inst)):
        name = f"masks/{key}_{j:03d}.png"
        Image.fromarray(m.astype(np.uint8) * 255).save(root / "pred_inst" / name)
        lines.append(f"{name} {label} {score}\n")
    (root / "pred_inst" / f"{key}_pred.txt").write_text("".join(lines))
    return len(lines)


def make_data(images: int, seed: int) -> Path:
    """Generate (or reuse) the data set; returns its folder."""
    root = HERE / ".data" / f"cityscapes-{seed}-{images}"
    meta = root / "meta.json"
    settings = {"generator": GENERATOR_VERSION, "images": images, "seed": seed,
                "size": [W, H]}
    if meta.exists() and json.loads(meta.read_text()).get("settings") == settings:
        return root
    for sub in ("gtFine/val/bench", "pred_sem", "pred_inst/masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(CORES) as pool:
        masks = pool.map(_write, [(root, seed, i) for i in range(images)], chunksize=2)
    meta.write_text(json.dumps({
        "settings": settings, "seconds": time.perf_counter() - start,
        "masks_per_image": sum(masks) / images,
        "kib_label_png": _kib(root.glob("gtFine/val/bench/*_labelIds.png")),
        "kib_instance_png": _kib(root.glob("gtFine/val/bench/*_instanceIds.png")),
        "kib_pred_png": _kib(root.glob("pred_sem/*.png")),
        "kib_mask_png": _kib(root.glob("pred_inst/masks/*.png"))}, indent=2))
    return root


def _kib(paths: Iterator[Path]) -> float:
    sizes = [p.stat().st_size for p in paths]
    return sum(sizes) / max(1, len(sizes)) / 1024


# ------------------------------------------------------------------------------ timings

_FILES: list[list[Path]] = []  # per image, the PNGs a row decodes
_EVALUATED = {"24", "25", "26", "27", "28", "31", "32", "33"}


def _decode(bounds: tuple[int, int], pillow: bool) -> int:
    buffers = OutputBuffers()  # ours: decoded into reused arrays, as benchmark_eval does
    for files in _FILES[bounds[0]:bounds[1]]:
        for role, f in enumerate(files):
            if pillow:
                read_label_map(f)
            else:
                read_label_ids(f, allocate=buffers.allocator(str(min(role, 3))))
    return bounds[1] - bounds[0]


def _decode_ours(bounds: tuple[int, int]) -> int:
    return _decode(bounds, False)


def _decode_pillow(bounds: tuple[int, int]) -> int:
    return _decode(bounds, True)


def _in_processes(fn: Callable[[tuple[int, int]], int], processes: int) -> None:
    n = len(_FILES)
    if processes == 1:
        fn((0, n))
        return
    shards = [(a, min(n, a + 4)) for a in range(0, n, 4)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        assert sum(pool.imap_unordered(fn, shards)) == n


@contextlib.contextmanager
def _official_env() -> Iterator[None]:
    """Unset CITYSCAPES_*, restore np.in1d, silence stdout (C level too)."""
    saved = {k: os.environ.pop(k) for k in _ENV if k in os.environ}
    added = not hasattr(np, "in1d")
    if added:
        setattr(np, "in1d", lambda a, b, assume_unique=False, invert=False: np.isin(  # noqa: B010
            np.asarray(a).ravel(), b, assume_unique=assume_unique, invert=invert))
    try:
        with stdout_silenced():
            yield
    finally:
        os.environ.update(saved)
        if added:
            delattr(np, "in1d")


def _official_semantic(root: Path) -> dict[str, Any]:
    with _official_env():
        ev = importlib.import_module("cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")
        args = copy.copy(ev.args)
        args.quiet, args.JSONOutput, args.evalInstLevelScore = True, False, True
        gts = sorted((root / "gtFine").rglob("*_gtFine_labelIds.png"))
        preds = [root / "pred_sem" / g.name.replace("_gtFine_labelIds", "_pred") for g in gts]
        r = ev.evaluateImgLists([str(p) for p in preds], [str(g) for g in gts], args)
    values = {"IoU_class": r["averageScoreClasses"], "iIoU_class": r["averageScoreInstClasses"],
              "IoU_category": r["averageScoreCategories"],
              "iIoU_category": r["averageScoreInstCategories"]}
    values.update({f"{n}/IoU": v for n, v in r["classScores"].items()})
    values.update({f"{n}/iIoU": v for n, v in r["classInstScores"].items()})
    return values


def _official_instance(root: Path) -> dict[str, Any]:
    with _official_env():
        ev = importlib.import_module(
            "cityscapesscripts.evaluation.evalInstanceLevelSemanticLabeling")
        args = copy.copy(ev.args)
        args.quiet, args.JSONOutput = True, False
        args.predictionPath = os.path.abspath(root / "pred_inst")
        ev.setInstanceLabels(args)
        gts = [str(g) for g in sorted((root / "gtFine").rglob("*_gtFine_instanceIds.png"))]
        txts = [str(root / "pred_inst" / Path(g).name.replace("_gtFine_instanceIds.png",
                                                              "_pred.txt")) for g in gts]
        matches = ev.matchGtWithPreds(txts, gts, ev.instances2dict(gts, False), args)
        avg = ev.computeAverages(ev.evaluateMatches(matches, args), args)
    values = {"AP": avg["allAp"], "AP50": avg["allAp50%"]}
    for n, v in avg["classes"].items():
        values[f"{n}/AP"], values[f"{n}/AP50"] = v["ap"], v["ap50%"]
    return values


def _ours(root: Path, protocol: str, workers: int) -> dict[str, Any]:
    pred = root / ("pred_sem" if protocol == "cityscapes-semantic" else "pred_inst")
    r: Any = benchmark_eval.evaluate(protocol, gt=root / "gtFine", pred=pred, workers=workers)
    values = dict(r.metrics)
    for n, v in r.per_class.items():
        values.update({f"{n}/{k}": x for k, x in v.items()})
    return {k: math.nan if v is None else float(v) for k, v in values.items()}


def _max_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    worst = 0.0
    for k, v in a.items():
        if k in b:
            x, y = float(v), float(b[k])
            if math.isnan(x) != math.isnan(y):
                return math.inf
            if not math.isnan(x):
                worst = max(worst, abs(x - y))
    return worst


def _files(root: Path, protocol: str) -> list[list[Path]]:
    gts = sorted((root / "gtFine").rglob("*_gtFine_labelIds.png"))
    out = []
    for g in gts:
        inst = g.with_name(g.name.replace("labelIds", "instanceIds"))
        key = g.name.replace("_gtFine_labelIds.png", "")
        if protocol == "cityscapes-semantic":
            out.append([g, inst, root / "pred_sem" / f"{key}_pred.png"])
        else:
            lines = (root / "pred_inst" / f"{key}_pred.txt").read_text().split()
            masks = [root / "pred_inst" / m for m, lb in zip(lines[::3], lines[1::3],
                                                              strict=True) if lb in _EVALUATED]
            out.append([inst, *masks])
    return out


_ROWS = ("decode ours", "decode Pillow", "benchmark_eval")


def _row(root: Path, protocol: str, row: str, procs: int, repeat: int) -> dict[str, Any]:
    """One row, timed in this (fresh) process after the files are in the page cache."""
    _FILES[:] = _files(root, protocol)
    for files in _FILES:
        for f in files:
            f.read_bytes()
    if row == "official":
        fn = _official_semantic if protocol == "cityscapes-semantic" else _official_instance
        return best_time(lambda: fn(root), repeat)
    if row == "benchmark_eval":
        return best_time(lambda: _ours(root, protocol, procs), repeat)
    decode = _decode_ours if row == "decode ours" else _decode_pillow
    return best_time(lambda: _in_processes(decode, procs), repeat)


def _in_fresh_process(args: list[str]) -> dict[str, Any]:
    """Run ``benchmarks/cityscapes.py --row ...`` and read its JSON record."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_protocol(root: Path, protocol: str, images: int, seed: int, repeat: int,
                 official: bool) -> dict[str, dict[str, Any]]:
    """Every row of one protocol, each in a fresh process (so no row inherits another's
    allocator state or page-cache order)."""
    base = ["--images", str(images), "--seed", str(seed), "--protocol", protocol]
    rows: dict[str, dict[str, Any]] = {}
    for procs in sorted({1, CORES}):
        for name in _ROWS:
            label = (f"{name}, {procs} worker{'s' if procs > 1 else ''}"
                     if name == "benchmark_eval" else f"{name}, {procs} proc")
            rows[label] = _in_fresh_process([*base, "--row", name, "--procs", str(procs),
                                             "--repeat", str(repeat)])
        ours = rows[f"benchmark_eval, {procs} worker{'s' if procs > 1 else ''}"]
        ours["x_decode"] = ours["seconds"] / rows[f"decode ours, {procs} proc"]["seconds"]
    if official:
        rows["cityscapesScripts 2.3.0, 1 proc"] = ref = _in_fresh_process(
            [*base, "--row", "official", "--procs", "1", "--repeat", "1"])
        for name, row in rows.items():
            if name.startswith("benchmark_eval"):
                row["vs_official"] = ref["seconds"] / row["seconds"]
                row["max_diff"] = _max_diff(row["value"], ref["value"])
    for row in rows.values():
        row.pop("value", None)
    return rows


def _print(protocol: str, rows: dict[str, dict[str, Any]], images: int) -> None:
    print(f"\n{protocol}: {images} images of {W}x{H}, {CORES} cores")
    print(f"{'row':<36} {'seconds':>8} {'ms/img':>7} {'x decode':>9} {'vs official':>11}"
          f" {'max|d|':>8} {'other load':>10}")
    for name, row in rows.items():
        x = f"{row['x_decode']:.2f}x" if "x_decode" in row else ""
        vs = f"{row['vs_official']:.1f}x" if "vs_official" in row else ""
        d = f"{row['max_diff']:.0e}" if "max_diff" in row else ""
        flag = " *" if row["other_load"] > BUSY_WARN else ""
        print(f"{name:<36} {row['seconds']:8.2f} {1000 * row['seconds'] / images:7.1f} {x:>9}"
              f" {vs:>11} {d:>8} {row['other_load']:8.2f} c{flag}")


def main() -> None:
    """Parse arguments, generate, time, print (and save) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="best of K runs per row")
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--only", choices=("semantic", "instance"))
    parser.add_argument("--json", type=Path, help="also save the records here")
    parser.add_argument("--row", choices=(*_ROWS, "official"), help=argparse.SUPPRESS)
    parser.add_argument("--protocol", help=argparse.SUPPRESS)
    parser.add_argument("--procs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = make_data(args.images, args.seed)
    if args.row is not None:  # a worker: time one row, print its record
        record = _row(root, args.protocol, args.row, args.procs, args.repeat)
        print(json.dumps(record))
        return
    meta = json.loads((root / "meta.json").read_text())
    print(f"data: {root} ({meta['masks_per_image']:.1f} masks per image; KiB per PNG: label"
          f" {meta['kib_label_png']:.0f}, instance {meta['kib_instance_png']:.0f}, prediction"
          f" {meta['kib_pred_png']:.0f}, mask {meta['kib_mask_png']:.1f})")
    result: dict[str, Any] = {"images": args.images, "cores": CORES, "data": meta}
    for kind in ("semantic", "instance"):
        if args.only in (None, kind):
            protocol = f"cityscapes-{kind}"
            result[protocol] = run_protocol(root, protocol, args.images, args.seed, args.repeat,
                                            not args.skip_official)
            _print(protocol, result[protocol], args.images)
    print(f"\nother load: cores used by other processes during the row (* above {BUSY_WARN}:"
          " noisy, rerun on an idle machine)")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
