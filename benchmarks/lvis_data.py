"""Seeded generator of a synthetic, LVIS-val-like federated instance segmentation benchmark set.

The ground truth mimics LVIS val: ~5k images of the usual COCO sizes, 1,203 categories in the
three LVIS frequency groups (``r`` ~37 %, ``c`` ~38 %, ``f`` ~25 % of the categories, with
instance counts heavily skewed toward the frequent ones), ~12 polygon instances per image over
small / medium / large areas (no crowd), and the federated fields: per image ~5-10
``neg_category_ids`` (checked, absent) and ``not_exhaustive_category_ids`` (~10 % of the present
categories). Results have ~300 detections per image (the LVIS cap; ~20 % of the images have
more, so the cut matters, ~10 % fewer) spread over many categories: perturbed copies of the
ground truth, copies with a wrong label, and background false positives of present, negative
and unchecked categories (the latter are dropped by the federated filter). Scores are partly
rounded, so ties occur, also at the 300th detection of an image.

Files (``benchmarks/.data/lvis-<seed>-<images>/``, git-ignored): ``gt.json``, ``bbox.json``,
``segm.json`` (compressed RLE, no ``bbox``), ``meta.json``. ``--subset M`` also writes
``gt-<M>.json`` / ``bbox-<M>.json`` / ``segm-<M>.json``: the first M images (all categories)
and their results, for timing a slow tool on part of the set.

Usage: ``python benchmarks/lvis_data.py --images 5000 --seed 0 [--out DIR] [--force]
[--subset M]``
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _data as gen
import numpy as np
import orjson
from pycocotools import mask as mask_utils
from synth import rle_areas

GENERATOR_VERSION = 1
FREQUENCIES = ("r", "c", "f")

@dataclass(frozen=True)
class GenConfig:
    """Knobs of the generator (stored in ``meta.json``; a change regenerates the cache)."""

    images: int = 5000
    seed: int = 0
    categories: int = 1203
    frequency_share: tuple[float, float, float] = (0.37, 0.38, 0.25)  # r / c / f categories
    # log-mean instance weight per frequency group: ~1 % / ~12 % / ~87 % of the instances
    frequency_weight: tuple[float, float, float] = (-0.5, 1.8, 4.1)
    mean_instances: float = 12.5
    count_dispersion: float = 2.0  # negative binomial shape of instances per image
    category_alpha: float = 2.5  # Polya urn: ~4-5 categories per image
    log10_area_mean: float = 3.05  # ~44 % small / 36 % medium / 20 % large
    log10_area_sd: float = 0.95
    multipart_rate: float = 0.08
    negatives: tuple[int, int] = (5, 10)  # neg_category_ids per image (inclusive)
    not_exhaustive_rate: float = 0.1  # share of present categories listed as not exhaustive
    dets_per_image: int = 300
    over_cap_rate: float = 0.2  # images with 301-420 detections
    under_cap_rate: float = 0.1  # images with 60-299 detections
    miss_rate: tuple[float, float, float] = (0.3, 0.12, 0.05)  # small / medium / large
    extra_copies: float = 2.0  # Poisson mean of same-class duplicates per detected object
    confused_copies: float = 2.0  # Poisson mean of wrong-label copies per detected object
    # background false positives: share labelled with a present / a negative category; the
    # rest take any category (mostly neither: dropped by the federated filter)
    fp_present_share: float = 0.15
    fp_negative_share: float = 0.25
    score_decimals: tuple[float, float] = (0.3, 0.2)  # share rounded to 2 / 3 decimals


class DatasetPaths(gen.CocoSetFiles):
    """Files of one generated dataset."""

    def complete(self, cfg: GenConfig) -> bool:
        """True when all files exist and were made by this generator version with ``cfg``."""
        return self.current(GENERATOR_VERSION, cfg)

    def subset(self, images: int) -> dict[str, Path]:
        """Files of the first ``images`` images (see :func:`write_subset`)."""
        return {k: self.root / f"{k}-{images}.json" for k in ("gt", "bbox", "segm")}


def default_dir(images: int, seed: int) -> Path:
    """Cache folder ``benchmarks/.data/lvis-<seed>-<images>``."""
    return gen.DATA_ROOT / f"lvis-{seed}-{images}"


# --------------------------------------------------------------------------------------------
# Shapes (vectorised: many star-shaped blobs with the same vertex count at once)
# --------------------------------------------------------------------------------------------


def _vertex_count(area: np.ndarray) -> np.ndarray:
    """Vertices per blob, growing with size, in a few buckets (so blobs batch well)."""
    n = 6 + 0.45 * np.sqrt(area)
    buckets = np.array([8, 12, 16, 24, 32, 48, 64])
    return buckets[np.minimum(np.searchsorted(buckets, n), len(buckets) - 1)]


def _blobs(rng: np.random.Generator, cx: np.ndarray, cy: np.ndarray, area: np.ndarray,
           n: int) -> np.ndarray:
    """Random star-shaped polygons ``(m, n, 2)`` of roughly ``area`` px centred at (cx, cy)."""
    m = len(area)
    theta = (np.arange(n) + rng.uniform(-0.35, 0.35, (m, n))) * (2 * math.pi / n)
    k = np.arange(2, 6)[None, :, None]
    amp = rng.uniform(0, 0.3, (m, 4, 1)) / k
    phase = rng.uniform(0, 2 * math.pi, (m, 4, 1))
    r = 1 + (amp * np.cos(k * theta[:, None, :] + phase)).sum(1) + rng.normal(0, 0.04, (m, n))
    r = np.maximum(r, 0.25)
    stretch = np.exp(rng.normal(0, 0.45, (m, 1)))
    rot = rng.uniform(0, math.pi, (m, 1))
    x, y = r * np.cos(theta) * stretch, r * np.sin(theta) / stretch
    px, py = np.cos(rot) * x - np.sin(rot) * y, np.sin(rot) * x + np.cos(rot) * y
    shoelace = 0.5 * np.abs((px * np.roll(py, 1, 1) - py * np.roll(px, 1, 1)).sum(1))
    scale = np.sqrt(area / shoelace)[:, None]
    return np.stack([px * scale + cx[:, None], py * scale + cy[:, None]], 2)


def _make_blobs(rng: np.random.Generator, cx: np.ndarray, cy: np.ndarray,
                area: np.ndarray) -> list[np.ndarray]:
    """One ``(V, 2)`` polygon per entry, vertex count by size."""
    out: list[np.ndarray] = [np.zeros((0, 2))] * len(area)
    nv = _vertex_count(area)
    for n in np.unique(nv).tolist():
        idx = np.flatnonzero(nv == n)
        for i, poly in zip(idx.tolist(), _blobs(rng, cx[idx], cy[idx], area[idx], n),
                           strict=True):
            out[i] = poly
    return out


def _flat(objects: list[list[np.ndarray]], w: int, h: int) -> list[list[list[float]]]:
    """Clip every part of every object to the image and flatten it to COCO's
    ``[x0, y0, x1, y1, ...]`` (2 decimals), in one numpy pass."""
    parts = [p for obj in objects for p in obj]
    if not parts:
        return [[] for _ in objects]
    flat = np.round(np.clip(np.concatenate(parts), 0, (w, h)), 2).ravel().tolist()
    ends = np.cumsum([2 * len(p) for p in parts]).tolist()
    starts = [0, *ends[:-1]]
    it = iter(zip(starts, ends, strict=True))
    return [[flat[a:b] for a, b in (next(it) for _ in obj)] for obj in objects]


def _encode(objects: list[list[list[float]]], h: int, w: int) -> list[dict[str, Any]]:
    """Merged compressed RLE of each object's flattened polygons (one batch per image)."""
    flat = [p for parts in objects for p in parts]
    if not flat:
        return []
    rles = mask_utils.frPyObjects(flat, h, w)
    out, start = [], 0
    for parts in objects:
        group = rles[start:start + len(parts)]
        out.append(group[0] if len(group) == 1 else mask_utils.merge(group))
        start += len(parts)
    return out


# --------------------------------------------------------------------------------------------
# Categories
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Categories:
    """Category table: frequency group and instance weight per category (index = id - 1)."""

    frequency: np.ndarray  # 0 r, 1 c, 2 f
    cum: np.ndarray  # cumulative instance distribution
    cum_flat: np.ndarray  # flatter distribution for negatives and false-positive labels


def _categories(cfg: GenConfig) -> _Categories:
    rng = np.random.default_rng([cfg.seed, 1_000_003])
    n = cfg.categories
    counts = np.floor(np.array(cfg.frequency_share) * n).astype(int)
    counts[2] = n - counts[:2].sum()
    frequency = rng.permutation(np.repeat(np.arange(3), counts))  # ids are not grouped
    log_w = np.array(cfg.frequency_weight)[frequency] + rng.normal(0, 0.7, n)
    weight = np.exp(log_w)

    def cum(wt: np.ndarray) -> np.ndarray:
        c = np.cumsum(wt / wt.sum())
        c[-1] = 1.0
        return c

    return _Categories(frequency=frequency, cum=cum(weight), cum_flat=cum(weight ** 0.4))


def _draw(rng: np.random.Generator, cum: np.ndarray, size: int) -> np.ndarray:
    """Category indices drawn from a cumulative distribution."""
    return np.searchsorted(cum, rng.random(size), side="right")


def _image_categories(rng: np.random.Generator, n: int, cats: _Categories,
                      alpha: float) -> list[int]:
    """Polya urn: instances of one image cluster into few categories, marginals kept."""
    fresh = _draw(rng, cats.cum, n).tolist()
    u = rng.random(n)
    out: list[int] = []
    for i in range(n):
        if i and u[i] < i / (i + alpha):
            out.append(out[int(rng.integers(i))])
        else:
            out.append(fresh[i])
    return out


# --------------------------------------------------------------------------------------------
# One image: ground truth and detections
# --------------------------------------------------------------------------------------------


@dataclass
class _Image:
    """Everything generated for one image."""

    record: dict[str, Any]
    anns: list[dict[str, Any]]
    segm: list[dict[str, Any]]
    bbox: list[dict[str, Any]]


def _ground_truth(rng: np.random.Generator, cfg: GenConfig, cats: _Categories, n: int,
                  w: int, h: int) -> tuple[list[int], list[list[np.ndarray]]]:
    """Category index and polygons (one or two parts) of each GT object."""
    labels = _image_categories(rng, n, cats, cfg.category_alpha)
    area = np.clip(10 ** rng.normal(cfg.log10_area_mean, cfg.log10_area_sd, n), 12.0,
                   0.6 * w * h)
    cx, cy = rng.uniform(0, w, n), rng.uniform(0, h, n)
    multi = rng.random(n) < cfg.multipart_rate
    main = _make_blobs(rng, cx, cy, np.where(multi, 0.75 * area, area))
    polys = [[p] for p in main]
    idx = np.flatnonzero(multi)
    if len(idx):
        ang = rng.uniform(0, 2 * math.pi, len(idx))
        dist = np.sqrt(0.75 * area[idx] / math.pi) * rng.uniform(1.1, 1.8, len(idx))
        extra = _make_blobs(rng, cx[idx] + dist * np.cos(ang), cy[idx] + dist * np.sin(ang),
                            area[idx] / 4)
        for i, p in zip(idx.tolist(), extra, strict=True):
            polys[i].append(p)
    return labels, polys


def _perturb(rng: np.random.Generator, parts: list[np.ndarray], size: float,
             err: float) -> list[np.ndarray]:
    """Shifted / scaled / jittered copy of an object's polygons; ``err`` ~ 0 (good) .. 1."""
    centre = parts[0].mean(0)
    scale = np.exp(rng.normal(0, 0.22 * err, 2))
    shift = rng.normal(0, 0.3 * err * size, 2)
    return [(p - centre) * scale + centre + shift + rng.normal(0, 0.04 * err * size + 0.3,
                                                               p.shape) for p in parts]


def _object_detections(rng: np.random.Generator, cfg: GenConfig, cats: _Categories,
                       labels: list[int], polys: list[list[np.ndarray]], areas: np.ndarray,
                       present: list[int]) -> tuple[list[int], list[list[np.ndarray]], list[float]]:
    """Detections made from the GT objects: a good copy, duplicates, wrong-label copies."""
    out_cat, out_poly, out_score = [], [], []
    for label, parts, area in zip(labels, polys, areas.tolist(), strict=True):
        size_class = 0 if area < 32**2 else 1 if area < 96**2 else 2
        if area <= 0 or rng.random() < cfg.miss_rate[size_class]:
            continue
        hardness = (1.6, 1.1, 0.8)[size_class]
        same = 1 + int(rng.poisson(cfg.extra_copies))
        for j in range(same + int(rng.poisson(cfg.confused_copies))):
            err = min(1.0, rng.beta(1.3, 4.0) * hardness * (1.0 if j == 0 else 1.8))
            score = 0.95 - 0.7 * err - (0.3 * rng.random() if j else 0.0) + rng.normal(0, 0.08)
            cat = label
            if j >= same:  # same region, another label (often another present one), low score
                cat = (present[int(rng.integers(len(present)))] if rng.random() < 0.4
                       else int(_draw(rng, cats.cum_flat, 1)[0]))
                score *= rng.uniform(0.05, 0.5)
            out_cat.append(cat)
            out_poly.append(_perturb(rng, parts, math.sqrt(area), err))
            out_score.append(score)
    return out_cat, out_poly, out_score


def _background(rng: np.random.Generator, cfg: GenConfig, cats: _Categories, m: int, w: int,
                h: int, present: list[int], negative: list[int]
                ) -> tuple[list[int], list[list[np.ndarray]], list[float]]:
    """``m`` background false positives (mostly low scores, many categories)."""
    if m <= 0:
        return [], [], []
    u = rng.random(m)
    label = _draw(rng, cats.cum_flat, m)
    if present:
        pick = u < cfg.fp_present_share
        label[pick] = np.asarray(present)[rng.integers(len(present), size=int(pick.sum()))]
    pick = (u >= cfg.fp_present_share) & (u < cfg.fp_present_share + cfg.fp_negative_share)
    label[pick] = np.asarray(negative)[rng.integers(len(negative), size=int(pick.sum()))]
    area = np.clip(10 ** rng.normal(cfg.log10_area_mean + 0.1, cfg.log10_area_sd, m), 12.0,
                   0.6 * w * h)
    polys = _make_blobs(rng, rng.uniform(0, w, m), rng.uniform(0, h, m), area)
    score = 0.0001 + 0.6 * rng.beta(0.8, 6.0, m)
    return label.tolist(), [[p] for p in polys], score.tolist()


def _target_detections(rng: np.random.Generator, cfg: GenConfig) -> int:
    u = rng.random()
    if u < cfg.over_cap_rate:
        return cfg.dets_per_image + int(rng.integers(1, 121))
    if u < cfg.over_cap_rate + cfg.under_cap_rate:
        return int(rng.integers(60, cfg.dets_per_image))
    return cfg.dets_per_image


def _federated_fields(rng: np.random.Generator, cfg: GenConfig, cats: _Categories,
                      present: list[int]) -> tuple[list[int], list[int]]:
    """``neg_category_ids`` (absent categories) and ``not_exhaustive_category_ids`` (indices)."""
    want = int(rng.integers(cfg.negatives[0], cfg.negatives[1] + 1))
    negative: list[int] = []
    while len(negative) < want:
        c = int(_draw(rng, cats.cum_flat, 1)[0])
        if c not in present and c not in negative:
            negative.append(c)
    not_exhaustive = [c for c in present if rng.random() < cfg.not_exhaustive_rate]
    return sorted(negative), not_exhaustive


def make_image(cfg: GenConfig, cats: _Categories, index: int, image_id: int, w: int, h: int,
               n: int, first_ann_id: int) -> _Image:
    """Ground truth and results of one image (its own random stream: order independent)."""
    rng = np.random.default_rng([cfg.seed, index])
    labels, polys = _ground_truth(rng, cfg, cats, n, w, h)
    gt_flat = _flat(polys, w, h)
    rles = _encode(gt_flat, h, w)
    areas = rle_areas(rles).astype(np.float64)
    boxes = mask_utils.toBbox(rles).tolist() if rles else []
    present = sorted({labels[i] for i in range(n) if areas[i] > 0})
    negative, not_exhaustive = _federated_fields(rng, cfg, cats, present)
    anns = []
    for i in np.flatnonzero(areas > 0).tolist():
        anns.append({"id": first_ann_id + len(anns), "image_id": image_id,
                     "category_id": labels[i] + 1,
                     "segmentation": gt_flat[i],
                     "area": float(areas[i]), "bbox": boxes[i]})
    record = {"id": image_id, "width": w, "height": h,
              "coco_url": f"http://images.cocodataset.org/val2017/{image_id:012d}.jpg",
              "neg_category_ids": [c + 1 for c in negative],
              "not_exhaustive_category_ids": [c + 1 for c in not_exhaustive]}

    d_cat, d_poly, d_score = _object_detections(rng, cfg, cats, labels, polys, areas, present)
    m = _target_detections(rng, cfg) - len(d_cat)
    b_cat, b_poly, b_score = _background(rng, cfg, cats, m, w, h, present, negative)
    d_cat, d_poly = d_cat + b_cat, d_poly + b_poly
    d_rles = _encode(_flat(d_poly, w, h), h, w)
    keep = np.flatnonzero(rle_areas(d_rles) > 0)  # empty masks: no detection
    keep = keep[rng.permutation(len(keep))]  # results-file order: not sorted by score
    scores = gen.round_scores(rng, np.array(d_score + b_score)[keep], 0.0001,
                          cfg.score_decimals).tolist()
    d_boxes = mask_utils.toBbox([d_rles[k] for k in keep.tolist()]) if len(keep) else []
    jit = rng.normal(0, 0.03, (len(keep), 4))
    segm, bbox = [], []
    for k, score, box, j in zip(keep.tolist(), scores, d_boxes, jit, strict=True):
        cat = d_cat[k] + 1
        segm.append({"image_id": image_id, "category_id": cat, "score": score,
                     "segmentation": {"size": [h, w],
                                      "counts": d_rles[k]["counts"].decode("ascii")}})
        bw, bh = max(box[2] * (1 + j[2]), 1.0), max(box[3] * (1 + j[3]), 1.0)
        bbox.append({"image_id": image_id, "category_id": cat, "score": score,
                     "bbox": [round(float(box[0] + j[0] * box[2]), 2),
                              round(float(box[1] + j[1] * box[3]), 2),
                              round(float(bw), 2), round(float(bh), 2)]})
    return _Image(record, anns, segm, bbox)


# --------------------------------------------------------------------------------------------
# Whole set
# --------------------------------------------------------------------------------------------


def make_dataset(cfg: GenConfig) -> tuple[dict[str, Any], list[dict[str, Any]],
                                          list[dict[str, Any]]]:
    """``(gt, segm results, bbox results)``."""
    cats = _categories(cfg)
    rng = np.random.default_rng([cfg.seed, 1_000_004])
    sizes, size_idx, image_ids = gen.coco_images(rng, cfg.images)
    shape = cfg.count_dispersion
    mean_extra = cfg.mean_instances - 1
    counts = np.minimum(1 + rng.negative_binomial(shape, shape / (shape + mean_extra),
                                                  cfg.images), 80)
    images, anns, segm, bbox = [], [], [], []
    for i, (img_id, si, n) in enumerate(zip(image_ids.tolist(), size_idx.tolist(),
                                            counts.tolist(), strict=True)):
        w, h = (int(v) for v in sizes[si])
        im = make_image(cfg, cats, i, img_id, w, h, n, len(anns) + 1)
        images.append(im.record)
        anns += im.anns
        segm += im.segm
        bbox += im.bbox
    inst = np.bincount([a["category_id"] - 1 for a in anns], minlength=cfg.categories)
    img_count = np.zeros(cfg.categories, dtype=int)
    for cat_ids in {(a["image_id"], a["category_id"] - 1) for a in anns}:
        img_count[cat_ids[1]] += 1
    categories = [{"id": c + 1, "name": f"synthetic_{c + 1:04d}", "synset": f"s{c + 1}.n.01",
                   "frequency": FREQUENCIES[int(cats.frequency[c])],
                   "image_count": int(img_count[c]), "instance_count": int(inst[c])}
                  for c in range(cfg.categories)]
    gt = {"info": {"description": "synthetic LVIS-val-like benchmark set", "version": "1.0"},
          "licenses": [], "images": images, "annotations": anns, "categories": categories}
    return gt, segm, bbox


def _summary(gt: dict[str, Any], segm: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts that describe the generated set."""
    anns, images = gt["annotations"], gt["images"]
    freq = {c["id"]: c["frequency"] for c in gt["categories"]}
    areas = np.array([a["area"] for a in anns])
    per_image = np.bincount(np.searchsorted(sorted(i["id"] for i in images),
                                            [d["image_id"] for d in segm]),
                            minlength=len(images))
    present = {(a["image_id"], a["category_id"]) for a in anns}
    negative = {(im["id"], c) for im in images for c in im["neg_category_ids"]}
    judged_pairs = present | negative
    judged = sum((d["image_id"], d["category_id"]) in judged_pairs for d in segm)
    return {
        "images": len(images),
        "categories": {g: sum(f == g for f in freq.values()) for g in FREQUENCIES},
        "gt_instances": len(anns),
        "instance_share": {g: round(sum(freq[a["category_id"]] == g for a in anns)
                                    / max(len(anns), 1), 4) for g in FREQUENCIES},
        "size_share": gen.size_share(areas),
        "present_pairs": len(present),
        "neg_category_ids": sum(len(im["neg_category_ids"]) for im in images),
        "not_exhaustive_category_ids": sum(len(im["not_exhaustive_category_ids"])
                                           for im in images),
        "detections": len(segm),
        "detections_per_image": {"min": int(per_image.min()) if len(segm) else 0,
                                 "median": float(np.median(per_image)),
                                 "max": int(per_image.max(initial=0))},
        "images_over_cap": int((per_image > 300).sum()),
        "detections_over_cap": int(np.clip(per_image - 300, 0, None).sum()),
        "detections_in_judged_categories": judged,
        "score_tie_share": round(1 - len({d["score"] for d in segm}) / max(len(segm), 1), 4),
    }


def generate(cfg: GenConfig, out: Path) -> dict[str, Any]:
    """Generate the dataset into ``out`` and return its metadata."""
    t0 = time.perf_counter()
    gt, segm, bbox = make_dataset(cfg)
    paths = DatasetPaths(out)
    out.mkdir(parents=True, exist_ok=True)
    paths.gt.write_bytes(orjson.dumps(gt))
    paths.segm.write_bytes(orjson.dumps(segm))
    paths.bbox.write_bytes(orjson.dumps(bbox))
    for old in out.glob("*-*.json"):  # subsets of a previous version
        old.unlink()
    return gen.write_meta(paths.meta, GENERATOR_VERSION, cfg, _summary(gt, segm), t0,
                      (paths.gt, paths.segm, paths.bbox))


def write_subset(paths: DatasetPaths, images: int) -> dict[str, Path]:
    """The first ``images`` images of the set (every category kept) and their results."""
    files = paths.subset(images)
    if all(p.exists() for p in files.values()):
        return files
    gt = orjson.loads(paths.gt.read_bytes())
    gt["images"] = gt["images"][:images]
    keep = {im["id"] for im in gt["images"]}
    gt["annotations"] = [a for a in gt["annotations"] if a["image_id"] in keep]
    files["gt"].write_bytes(orjson.dumps(gt))
    for kind in ("bbox", "segm"):
        res = orjson.loads(getattr(paths, kind).read_bytes())
        files[kind].write_bytes(orjson.dumps([r for r in res if r["image_id"] in keep]))
    return files


def ensure_dataset(images: int = 5000, seed: int = 0, out: Path | None = None,
                   force: bool = False) -> DatasetPaths:
    """Return the cached dataset for (images, seed), generating it when missing."""
    cfg = GenConfig(images=images, seed=seed)
    return gen.cached(DatasetPaths(out or default_dir(images, seed)), cfg, force, generate)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: prints the folder, then the metadata."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    gen.add_data_arguments(ap, 5000)
    ap.add_argument("--subset", type=int, default=None, metavar="M",
                    help="also write the first M images as gt-M.json / bbox-M.json /"
                         " segm-M.json")
    args = ap.parse_args(argv)
    paths = ensure_dataset(args.images, args.seed, args.out, args.force)
    if args.subset is not None and args.subset < args.images:
        write_subset(paths, args.subset)
    return gen.print_dataset(paths)


if __name__ == "__main__":
    raise SystemExit(main())
