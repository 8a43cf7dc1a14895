"""Seeded generator of an Objects365-val-scale box detection set (for ``coco.py --dataset
objects365``).

80,000 images of COCO sizes, 365 categories (ids 1..365) with a long-tailed frequency (Zipf
exponent 1.0, ~6 categories per image), ~8 GT boxes per image (negative binomial, some
crowded scenes; 0.5 % crowd), log-normal areas (~45 % small / 35 % medium / 20 % large).
Results: 15 detections per image on average, 1.2M in all: jittered copies of most GT boxes
(misses 30 % small / 12 % medium / 6 % large), same-class duplicates, other-class copies and
background boxes; scores partly rounded to 2-3 decimals (ties). Only ``bbox``: Objects365 has
no masks. Files: ``gt.json``, ``bbox.json``, ``meta.json`` under
``benchmarks/.data/objects365-<seed>-<images>/``. Everything is vectorised (~1 min).

Usage: ``python benchmarks/objects365_data.py [--images 80000] [--seed 0] [--out DIR]
[--force]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _data as gen
import numpy as np
import orjson

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class O365Config:
    """Knobs of the generator (defaults: the Objects365 val scale hotcoco reports)."""

    images: int = 80_000
    seed: int = 0
    categories: int = 365
    mean_gt: float = 8.0  # GT boxes per image
    gt_dispersion: float = 2.0  # negative binomial shape (low: heavy tail)
    category_zipf: float = 1.0
    cats_per_image: float = 6.0
    crowd_rate: float = 0.005
    log10_area_mean: float = 3.3
    log10_area_sd: float = 0.85
    miss_rate: tuple[float, float, float] = (0.30, 0.12, 0.06)
    duplicates: float = 0.6  # Poisson mean of same-class duplicates per detected object
    confused: float = 0.3  # Poisson mean of other-class copies per detected object
    detections: int = 1_200_000  # total; background boxes fill up to it
    score_decimals: tuple[float, float] = (0.25, 0.25)


def _boxes(rng: np.random.Generator, area: np.ndarray, w: np.ndarray, h: np.ndarray
           ) -> np.ndarray:
    """``[x, y, w, h]`` boxes of the given areas, random aspect and place, inside the image."""
    aspect = np.exp(rng.normal(0.0, 0.5, area.size))
    bw = np.clip(np.sqrt(area * aspect), 1.0, w)
    bh = np.clip(area / bw, 1.0, h)
    x = rng.random(area.size) * (w - bw)
    y = rng.random(area.size) * (h - bh)
    return np.round(np.stack([x, y, bw, bh], axis=1), 2)


def _jitter(rng: np.random.Generator, box: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Boxes moved and rescaled by ``sd`` x their size."""
    wh = box[:, 2:4] * np.exp(rng.normal(0.0, 1.0, (len(box), 2)) * sd[:, None])
    xy = box[:, :2] + rng.normal(0.0, 1.0, (len(box), 2)) * sd[:, None] * box[:, 2:4]
    return np.round(np.concatenate([xy, np.maximum(wh, 1.0)], axis=1), 2)


def _ground_truth(rng: np.random.Generator, cfg: O365Config) -> dict[str, Any]:
    sizes, size_idx, _ = gen.coco_images(rng, cfg.images)
    ids = np.sort(rng.choice(4 * cfg.images, cfg.images, replace=False) + 1)
    iw, ih = sizes[size_idx, 0], sizes[size_idx, 1]
    p = cfg.gt_dispersion / (cfg.gt_dispersion + cfg.mean_gt)
    count = rng.negative_binomial(cfg.gt_dispersion, p, cfg.images)
    img = np.repeat(np.arange(cfg.images), count)
    freq = 1.0 / np.arange(1, cfg.categories + 1) ** cfg.category_zipf
    perm = rng.permutation(cfg.categories)  # frequency not ordered by id
    # each image draws a few categories, each box one of its image's categories
    n_cats = 1 + rng.poisson(cfg.cats_per_image - 1, cfg.images)
    pool = rng.choice(cfg.categories, (cfg.images, 16), p=freq / freq.sum())
    pick = (rng.random(img.size) * np.minimum(n_cats, 16)[img]).astype(np.int64)
    cat = perm[pool[img, pick]] + 1
    area = 10 ** rng.normal(cfg.log10_area_mean, cfg.log10_area_sd, img.size)
    area = np.clip(area, 4.0, (iw * ih)[img] * 0.9)
    box = _boxes(rng, area, iw[img].astype(float), ih[img].astype(float))
    return {"ids": ids, "w": iw, "h": ih, "img": img, "cat": cat, "box": box,
            "crowd": rng.random(img.size) < cfg.crowd_rate}


def _detections(rng: np.random.Generator, cfg: O365Config, g: dict[str, Any]
                ) -> dict[str, np.ndarray]:
    area = g["box"][:, 2] * g["box"][:, 3]
    bucket = np.digitize(area, [32**2, 96**2])
    found = rng.random(area.size) >= np.array(cfg.miss_rate)[bucket]
    src = np.flatnonzero(found & ~g["crowd"])
    dup = np.repeat(src, rng.poisson(cfg.duplicates, src.size))
    con = np.repeat(src, rng.poisson(cfg.confused, src.size))
    rows = np.concatenate([src, dup, con])
    kind = np.repeat([0, 1, 2], [src.size, dup.size, con.size])
    sd = np.array([0.05, 0.18, 0.10])[kind] * rng.uniform(0.5, 1.5, rows.size)
    box = _jitter(rng, g["box"][rows], sd)
    cat = g["cat"][rows].copy()
    other = kind == 2
    cat[other] = rng.integers(1, cfg.categories + 1, int(other.sum()))
    score = np.array([0.85, 0.45, 0.3])[kind] + rng.normal(0, 0.15, rows.size)
    img = g["img"][rows]
    n_bg = max(cfg.detections - rows.size, 0)
    bg_img = rng.integers(0, cfg.images, n_bg)
    bg_area = 10 ** rng.normal(cfg.log10_area_mean, cfg.log10_area_sd, n_bg)
    bg_area = np.clip(bg_area, 4.0, (g["w"] * g["h"])[bg_img] * 0.9)
    bg_box = _boxes(rng, bg_area, g["w"][bg_img].astype(float), g["h"][bg_img].astype(float))
    bg_cat = rng.integers(1, cfg.categories + 1, n_bg)
    img = np.concatenate([img, bg_img])
    order = np.argsort(img, kind="stable")
    return {"img": img[order], "cat": np.concatenate([cat, bg_cat])[order],
            "box": np.concatenate([box, bg_box])[order],
            "score": gen.round_scores(rng, np.concatenate(
                [score, rng.uniform(0.05, 0.5, n_bg)]), 0.05, cfg.score_decimals)[order]}


def generate(cfg: O365Config, root: Path) -> dict[str, Any]:
    """Write ``gt.json``, ``bbox.json`` and ``meta.json``; returns the metadata."""
    start = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    g = _ground_truth(rng, cfg)
    d = _detections(rng, cfg, g)
    root.mkdir(parents=True, exist_ok=True)
    ids = g["ids"].tolist()
    area = g["box"][:, 2] * g["box"][:, 3]
    gt = {
        "images": [{"id": i, "width": int(w), "height": int(h), "file_name": f"{i:08d}.jpg"}
                   for i, w, h in zip(ids, g["w"].tolist(), g["h"].tolist(), strict=True)],
        "annotations": [
            {"id": k + 1, "image_id": ids[im], "category_id": c, "bbox": b,
             "area": round(a, 2), "iscrowd": int(cr)}
            for k, (im, c, b, a, cr) in enumerate(zip(
                g["img"].tolist(), g["cat"].tolist(), g["box"].tolist(), area.tolist(),
                g["crowd"].tolist(), strict=True))],
        "categories": [{"id": c, "name": f"class_{c:03d}"}
                       for c in range(1, cfg.categories + 1)],
    }
    (root / "gt.json").write_bytes(orjson.dumps(gt))
    dets = [{"image_id": ids[im], "category_id": c, "bbox": b, "score": s}
            for im, c, b, s in zip(d["img"].tolist(), d["cat"].tolist(), d["box"].tolist(),
                                   d["score"].tolist(), strict=True)]
    (root / "bbox.json").write_bytes(orjson.dumps(dets))
    per_image = np.bincount(d["img"], minlength=cfg.images)
    summary = {"images": cfg.images, "categories": cfg.categories,
               "gt_instances": int(g["img"].size), "gt_crowd": int(g["crowd"].sum()),
               "size_share": gen.size_share(area), "detections": len(dets),
               "detections_per_image_max": int(per_image.max())}
    return gen.write_meta(root / "meta.json", GENERATOR_VERSION, cfg, summary, start,
                          [root / "gt.json", root / "bbox.json"])


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (or locate) the set; print its folder, then its metadata."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    gen.add_data_arguments(ap, 80_000)
    args = ap.parse_args(argv)
    cfg = O365Config(images=args.images, seed=args.seed,
                     detections=round(15 * args.images))
    root = args.out or gen.DATA_ROOT / f"objects365-{args.seed}-{args.images}"
    files = (root / "gt.json", root / "bbox.json")
    if args.force or not gen.is_current(root / "meta.json", files, GENERATOR_VERSION, cfg):
        generate(cfg, root)
    print(root)
    print((root / "meta.json").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
