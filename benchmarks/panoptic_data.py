"""Seeded generators of COCO-panoptic-like benchmark sets.

``synthetic`` (default): images of the usual COCO sizes (about 640x480), the 133 COCO
panoptic categories (80 things, 53 stuff; read from the panopticapi sample in ``tests/data``),
one segment per stuff class per image (a Voronoi partition with ragged, superpixel-like
boundaries), star-shaped things with jagged outlines drawn over it, ~1 % crowd regions, VOID
rings around some things and VOID patches, 24-bit segment ids near the category colour as
panopticapi's ``IdGenerator`` makes them. Predictions re-render each scene with moved stuff
boundaries, shifted and rescaled things, missed and class-swapped things, false positives and
a little VOID. PNGs are written by Pillow with its defaults, as panopticapi's converters do;
their decoding cost per pixel (Pillow and libspng) matches the two real COCO val2017 PNGs.

``real-sample``: variations of those two real COCO images (mirrored or not) as ground truth,
and predictions made by shifting them a few pixels, renumbering ids, dropping 12 % and
relabelling 6 % of the things.

Usage: ``python benchmarks/panoptic_data.py --images 2000 --seed 0 [--source real-sample]
[--out DIR] [--force]``
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _data as gen
import numpy as np
import orjson
from PIL import Image
from synth import ColorIds, ids_to_rgb, pixel_box

GENERATOR_VERSION = 2
CATEGORIES_FILE = (Path(__file__).resolve().parents[1] / "tests" / "data"
                   / "panopticapi_sample" / "panoptic_examples.json")
SIZES = ((640, 480), (480, 640), (640, 427), (427, 640), (500, 375), (640, 360), (612, 612))
SIZE_WEIGHTS = (0.35, 0.15, 0.2, 0.1, 0.08, 0.07, 0.05)
HARMONICS = 14  # shape harmonics of things (more: more ragged outlines)
FINE_NOISE = 0.006  # amplitude of the fine boundary noise of stuff regions


@dataclass(frozen=True)
class GenConfig:
    """Generator settings (stored in ``meta.json``; a change regenerates the cache)."""

    images: int = 2000
    seed: int = 0
    source: str = "synthetic"  # or "real-sample": variations of panopticapi's two COCO images
    things_per_image: float = 7.0  # Poisson mean
    stuff_seeds: tuple[int, int] = (3, 9)  # Voronoi seeds per image (several may share a class)
    crowd_share: float = 0.012  # share of things drawn as a crowd region
    void_ring_share: float = 0.3  # share of things with a VOID outline
    void_patch_mean: float = 0.7  # Poisson mean of VOID patches per GT image
    miss_rate: float = 0.15  # things the prediction misses
    swap_rate: float = 0.06  # things predicted with another category
    stuff_swap_rate: float = 0.1  # stuff seeds predicted with another stuff category
    false_positives: float = 1.5  # Poisson mean of extra predicted things per image
    pred_void_patch_mean: float = 0.2  # Poisson mean of VOID patches per prediction


@dataclass(frozen=True)
class DatasetPaths:
    """Files of one generated dataset (folders follow panopticapi: JSON path minus .json)."""

    root: Path

    @property
    def gt(self) -> Path:
        """Ground-truth JSON."""
        return self.root / "gt.json"

    @property
    def pred(self) -> Path:
        """Predictions JSON."""
        return self.root / "pred.json"

    @property
    def meta(self) -> Path:
        """Settings, counts and generation time."""
        return self.root / "meta.json"

    def complete(self, cfg: GenConfig) -> bool:
        """True when the files exist and were made by this generator version with ``cfg``."""
        return gen.is_current(self.meta, (self.gt, self.pred), GENERATOR_VERSION, cfg)


def default_dir(images: int, seed: int, source: str = "synthetic") -> Path:
    """Cache folder ``benchmarks/.data/panoptic[-real]-<seed>-<images>``."""
    name = "panoptic" if source == "synthetic" else "panoptic-real"
    return gen.DATA_ROOT / f"{name}-{seed}-{images}"


def load_categories() -> list[dict[str, Any]]:
    """The 133 COCO panoptic categories (id, name, isthing, color...)."""
    return list(orjson.loads(CATEGORIES_FILE.read_bytes())["categories"])


# --------------------------------------------------------------------------------------------
# Scenes: a list of layers painted in order onto an id map
# --------------------------------------------------------------------------------------------


@dataclass
class Thing:
    """A star-shaped object: centre, mean radius, harmonic shape, category."""

    cx: float
    cy: float
    r: float
    amp: np.ndarray
    phase: np.ndarray
    category: int
    crowd: bool = False
    void_ring: bool = False


@dataclass
class Scene:
    """Everything needed to render one id map."""

    h: int
    w: int
    seeds: np.ndarray  # (S, 2) stuff seed positions (x, y)
    seed_weight: np.ndarray  # (S,) anisotropy of the distance
    seed_category: list[int]
    noise: np.ndarray  # (S, h/40+2, w/40+2) low-frequency distance noise
    fine: np.ndarray  # (S, h/6+2, w/6+2) fine noise: ragged, superpixel-like boundaries
    things: list[Thing]
    void_patches: list[tuple[float, float, float]]  # (cx, cy, r)


def _star(thing: Thing, h: int, w: int, grow: float = 0.0
          ) -> tuple[slice, slice, np.ndarray] | None:
    """The thing's mask inside its bounding box (rows, cols, bool mask)."""
    reach = thing.r * (1 + float(np.abs(thing.amp).sum())) + grow + 1
    y0, y1 = max(0, int(thing.cy - reach)), min(h, int(thing.cy + reach) + 1)
    x0, x1 = max(0, int(thing.cx - reach)), min(w, int(thing.cx + reach) + 1)
    if y0 >= y1 or x0 >= x1:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dx, dy = xx - thing.cx, yy - thing.cy
    theta = np.arctan2(dy, dx)
    k = np.arange(2, 2 + len(thing.amp))[:, None, None]
    radius = thing.r * (1 + (thing.amp[:, None, None]
                             * np.cos(k * theta + thing.phase[:, None, None])).sum(0))
    return slice(y0, y1), slice(x0, x1), np.hypot(dx, dy) <= radius + grow


def _smooth(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Bilinear upsampling of a coarse noise grid to ``(rows, cols)``."""
    gy = np.linspace(0, grid.shape[0] - 1, rows)
    gx = np.linspace(0, grid.shape[1] - 1, cols)
    y0 = np.minimum(gy.astype(int), grid.shape[0] - 2)
    x0 = np.minimum(gx.astype(int), grid.shape[1] - 2)
    fy, fx = (gy - y0)[:, None], (gx - x0)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return np.asarray(top * (1 - fy) + bottom * fy)


def _stuff_labels(scene: Scene) -> np.ndarray:
    """Index of the winning stuff seed per pixel (noisy, anisotropic Voronoi)."""
    h, w = scene.h, scene.w
    ys, xs = np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64)
    best = np.full((h, w), np.inf)
    label = np.zeros((h, w), dtype=np.int64)
    for s, ((sx, sy), wgt) in enumerate(zip(scene.seeds, scene.seed_weight, strict=True)):
        noise = (_smooth(scene.noise[s], h, w) * 0.03
                 + _smooth(scene.fine[s], h, w) * FINE_NOISE) * (h * w)
        d = ((ys - sy)[:, None] ** 2 * wgt + ((xs - sx) ** 2 / wgt)[None, :] + noise)
        closer = d < best
        best[closer], label[closer] = d[closer], s
    return label


def render(scene: Scene, ids: dict[int, int], thing_ids: list[int]) -> np.ndarray:
    """Paint the scene into an int64 id map (0 = VOID).

    Args:
        ids: Segment id per stuff category.
        thing_ids: Segment id per thing (aligned with ``scene.things``).
    """
    seed_ids = np.array([ids[c] for c in scene.seed_category], dtype=np.int64)
    out = seed_ids[_stuff_labels(scene)]
    for thing, sid in zip(scene.things, thing_ids, strict=True):
        if thing.void_ring:
            ring = _star(thing, scene.h, scene.w, grow=2.0)
            if ring is not None:
                rs, cs, m = ring
                out[rs, cs][m] = 0
        drawn = _star(thing, scene.h, scene.w)
        if drawn is not None:
            rs, cs, m = drawn
            out[rs, cs][m] = sid
    yy, xx = np.ogrid[: scene.h, : scene.w]
    for cx, cy, r in scene.void_patches:
        out[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 0
    return out


# --------------------------------------------------------------------------------------------
# Ground truth and prediction scenes
# --------------------------------------------------------------------------------------------


def _thing(rng: np.random.Generator, cfg: GenConfig, h: int, w: int, category: int) -> Thing:
    area = math.exp(rng.uniform(math.log(150), math.log(0.25 * h * w)))
    crowd = bool(rng.random() < cfg.crowd_share)
    if crowd:
        area = max(area, 0.05 * h * w)
    return Thing(
        cx=float(rng.uniform(0, w)), cy=float(rng.uniform(0, h)),
        r=math.sqrt(area / math.pi),
        amp=rng.uniform(0, 0.25, HARMONICS) / np.arange(2, 2 + HARMONICS) ** 0.7,
        phase=rng.uniform(0, 2 * math.pi, HARMONICS), category=category, crowd=crowd,
        void_ring=bool(rng.random() < cfg.void_ring_share),
    )


def gt_scene(rng: np.random.Generator, cfg: GenConfig, h: int, w: int,
             things: list[int], stuff: list[int]) -> Scene:
    """A ground-truth scene: stuff partition, things, VOID."""
    n_seeds = int(rng.integers(*cfg.stuff_seeds))
    classes = rng.choice(stuff, size=max(2, n_seeds // 2 + 1), replace=False).tolist()
    thing_weights = np.exp(-np.arange(len(things)) / 12.0)  # skewed: "person" most frequent
    image_things = rng.choice(things, size=3, replace=False, p=thing_weights / thing_weights.sum())
    return Scene(
        h=h, w=w,
        seeds=np.column_stack([rng.uniform(0, w, n_seeds), rng.uniform(0, h, n_seeds)]),
        seed_weight=np.exp(rng.normal(0, 0.5, n_seeds)),
        seed_category=[int(c) for c in rng.choice(classes, size=n_seeds)],
        noise=rng.normal(0, 1, (n_seeds, h // 40 + 2, w // 40 + 2)),
        fine=rng.normal(0, 1, (n_seeds, h // 6 + 2, w // 6 + 2)),
        things=[_thing(rng, cfg, h, w, int(rng.choice(image_things)))
                for _ in range(rng.poisson(cfg.things_per_image))],
        void_patches=[(float(rng.uniform(0, w)), float(rng.uniform(0, h)),
                       float(rng.uniform(5, 40))) for _ in range(rng.poisson(cfg.void_patch_mean))],
    )


def pred_scene(rng: np.random.Generator, cfg: GenConfig, gt: Scene,
               things: list[int], stuff: list[int]) -> Scene:
    """A prediction of ``gt``: moved boundaries, missed/swapped/extra things, little VOID."""
    n = len(gt.seeds)
    category = [int(rng.choice(stuff)) if rng.random() < cfg.stuff_swap_rate else c
                for c in gt.seed_category]
    pred_things = []
    for t in gt.things:
        if rng.random() < cfg.miss_rate * (2.0 if t.r < 12 else 1.0):
            continue
        cat = int(rng.choice(things)) if rng.random() < cfg.swap_rate else t.category
        jitter = 0.12 * t.r
        pred_things.append(Thing(
            cx=t.cx + float(rng.normal(0, jitter)), cy=t.cy + float(rng.normal(0, jitter)),
            r=t.r * float(np.exp(rng.normal(0, 0.12))),
            amp=t.amp + rng.normal(0, 0.01, HARMONICS),
            phase=t.phase + rng.normal(0, 0.2, HARMONICS), category=cat))
    for _ in range(rng.poisson(cfg.false_positives)):
        pred_things.append(_thing(rng, cfg, gt.h, gt.w, int(rng.choice(things))))
        pred_things[-1].crowd = pred_things[-1].void_ring = False
    return Scene(
        h=gt.h, w=gt.w, seeds=gt.seeds + rng.normal(0, 6, (n, 2)),
        seed_weight=gt.seed_weight * np.exp(rng.normal(0, 0.1, n)), seed_category=category,
        noise=gt.noise + rng.normal(0, 0.1, gt.noise.shape),
        fine=0.6 * gt.fine + 0.8 * rng.normal(0, 1, gt.fine.shape), things=pred_things,
        void_patches=[(float(rng.uniform(0, gt.w)), float(rng.uniform(0, gt.h)),
                       float(rng.uniform(3, 15)))
                      for _ in range(rng.poisson(cfg.pred_void_patch_mean))],
    )


def _segments(id_map: np.ndarray, category_of: dict[int, int], crowd: set[int]
              ) -> list[dict[str, Any]]:
    """``segments_info`` of the ids present in the map: area and bbox from the pixels."""
    ids, counts = np.unique(id_map, return_counts=True)
    out = []
    for sid, area in zip(ids.tolist(), counts.tolist(), strict=True):
        if sid == 0:
            continue
        out.append({
            "id": sid, "category_id": category_of[sid], "iscrowd": int(sid in crowd),
            "area": area, "bbox": pixel_box(id_map == sid),
        })
    return out


def _paint(rng: np.random.Generator, scene: Scene, ids: ColorIds
           ) -> tuple[np.ndarray, list[dict[str, Any]]]:
    stuff_ids = {c: ids.new(c) for c in dict.fromkeys(scene.seed_category)}
    thing_ids = [ids.new(t.category) for t in scene.things]
    id_map = render(scene, stuff_ids, thing_ids)
    category_of = {v: k for k, v in stuff_ids.items()}
    category_of.update({sid: t.category for sid, t in zip(thing_ids, scene.things, strict=True)})
    crowd = {sid for sid, t in zip(thing_ids, scene.things, strict=True) if t.crowd}
    return id_map, _segments(id_map, category_of, crowd)


def _real_image(rng: np.random.Generator, image_id: int, root: Path
                ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A variation of one of panopticapi's two real COCO val2017 ground truths (mirrored or
    not) and a prediction of it: shifted by a few pixels, new ids, 12 % of the things
    missed, 6 % given another category, no crowd."""
    sample = orjson.loads(CATEGORIES_FILE.read_bytes())
    colors = {c["id"]: c["color"] for c in sample["categories"]}
    things = [c["id"] for c in sample["categories"] if c["isthing"]]
    ann = sample["annotations"][int(rng.integers(len(sample["annotations"])))]
    rgb = np.asarray(Image.open(CATEGORIES_FILE.with_suffix("") / ann["file_name"]))
    gt_map = rgb.astype(np.int64) @ np.array([1, 256, 65536])
    if rng.random() < 0.5:
        gt_map = gt_map[:, ::-1]
    info = {s["id"]: s for s in ann["segments_info"]}
    gt_segments = _segments(gt_map, {k: v["category_id"] for k, v in info.items()},
                            {k for k, v in info.items() if v["iscrowd"]})
    dy, dx = (int(v) for v in rng.integers(-6, 7, 2))
    shifted = np.roll(gt_map, (dy, dx), axis=(0, 1))
    ids = ColorIds(rng, colors, 30)
    pred_map = np.zeros_like(gt_map)
    category_of = {}
    for s in gt_segments:
        cat = s["category_id"]
        if cat in things and rng.random() < 0.12:
            continue
        if cat in things and rng.random() < 0.06:
            cat = int(rng.choice(things))
        sid = ids.new(cat)
        pred_map[shifted == s["id"]] = sid
        category_of[sid] = cat
    h, w = gt_map.shape
    name = f"{image_id:012d}"
    Image.fromarray(ids_to_rgb(gt_map)).save(root / "gt" / f"{name}.png")
    Image.fromarray(ids_to_rgb(pred_map)).save(root / "pred" / f"{name}.png")
    image = {"id": image_id, "file_name": f"{name}.jpg", "height": h, "width": w}
    return (image,
            {"image_id": image_id, "file_name": f"{name}.png", "segments_info": gt_segments},
            {"image_id": image_id, "file_name": f"{name}.png",
             "segments_info": _segments(pred_map, category_of, set())})


def _make_image(args: tuple[GenConfig, int, Path]) -> tuple[dict[str, Any], dict[str, Any],
                                                            dict[str, Any]]:
    cfg, index, root = args
    rng = np.random.default_rng([cfg.seed, index])
    if cfg.source == "real-sample":
        return _real_image(rng, 1000 + 37 * index, root)
    cats = load_categories()
    colors = {c["id"]: c["color"] for c in cats}
    things = [c["id"] for c in cats if c["isthing"]]
    stuff = [c["id"] for c in cats if not c["isthing"]]
    w, h = SIZES[int(rng.choice(len(SIZES), p=SIZE_WEIGHTS))]
    image_id = 1000 + 37 * index
    name = f"{image_id:012d}"
    gt = gt_scene(rng, cfg, h, w, things, stuff)
    gt_map, gt_segments = _paint(rng, gt, ColorIds(rng, colors, 30))
    pred_map, pred_segments = _paint(rng, pred_scene(rng, cfg, gt, things, stuff),
                                     ColorIds(rng, colors, 30))
    Image.fromarray(ids_to_rgb(gt_map)).save(root / "gt" / f"{name}.png")
    Image.fromarray(ids_to_rgb(pred_map)).save(root / "pred" / f"{name}.png")
    image = {"id": image_id, "file_name": f"{name}.jpg", "height": h, "width": w}
    return (image,
            {"image_id": image_id, "file_name": f"{name}.png", "segments_info": gt_segments},
            {"image_id": image_id, "file_name": f"{name}.png", "segments_info": pred_segments})


def generate(cfg: GenConfig, out: Path, processes: int | None = None) -> dict[str, Any]:
    """Generate the dataset into ``out`` (in parallel processes) and return its metadata."""
    t0 = time.perf_counter()
    paths = DatasetPaths(out)
    for sub in ("gt", "pred"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    jobs = [(cfg, i, out) for i in range(cfg.images)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        rows = pool.map(_make_image, jobs, chunksize=16)
    images, gt_anns, pred_anns = (list(x) for x in zip(*rows, strict=True))
    cats = load_categories()
    paths.gt.write_bytes(orjson.dumps({"images": images, "annotations": gt_anns,
                                       "categories": cats}))
    paths.pred.write_bytes(orjson.dumps({"annotations": pred_anns}))
    segs = [s for a in gt_anns for s in a["segments_info"]]
    pred_segs = [s for a in pred_anns for s in a["segments_info"]]
    return gen.write_meta(paths.meta, GENERATOR_VERSION, cfg, {
        "images": len(images),
        "gt_segments": len(segs),
        "gt_crowd": sum(s["iscrowd"] for s in segs),
        "pred_segments": len(pred_segs),
        "max_segment_id": max(s["id"] for s in segs),
        "png_bytes": sum(p.stat().st_size for sub in ("gt", "pred")
                         for p in (out / sub).iterdir()),
    }, t0)


def ensure_dataset(images: int = 2000, seed: int = 0, out: Path | None = None,
                   force: bool = False, source: str = "synthetic") -> DatasetPaths:
    """Return the cached dataset for (images, seed, source), generating it when missing."""
    cfg = GenConfig(images=images, seed=seed, source=source)
    return gen.cached(DatasetPaths(out or default_dir(images, seed, source)), cfg, force, generate)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: generate (or locate) the data and print its metadata."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    gen.add_data_arguments(ap, 2000)
    ap.add_argument("--source", choices=("synthetic", "real-sample"), default="synthetic",
                    help="synthetic scenes, or variations of the two real COCO images")
    args = ap.parse_args(argv)
    paths = ensure_dataset(args.images, args.seed, args.out, args.force, args.source)
    return gen.print_dataset(paths)


if __name__ == "__main__":
    raise SystemExit(main())
