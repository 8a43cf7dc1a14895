"""Seeded generator of a synthetic, COCO-val-scale instance segmentation benchmark set.

The ground truth mimics COCO val2017: ~5k images of the usual COCO sizes, ~36k instances over the
80 COCO categories with a skewed frequency (person ~30 %), polygon masks (some multi-part), ~1 %
crowd regions stored as *uncompressed* RLE, and areas / boxes computed from the masks with
pycocotools. Predictions are perturbed copies of the ground truth (several per object, with
jittered and partly tied scores) plus false positives, written as a ``segm`` results file
(compressed RLE, no ``bbox``) and a ``bbox`` results file.

Usage: ``python benchmarks/coco_data.py --images 5000 --seed 0 [--out DIR] [--force]``
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
from synth import decode_rle, rle_areas, uncompressed_counts

GENERATOR_VERSION = 3

# The 80 COCO categories with their official (gapped) ids.
COCO_CATEGORIES: tuple[tuple[int, str], ...] = (
    (1, "person"),
    (2, "bicycle"),
    (3, "car"),
    (4, "motorcycle"),
    (5, "airplane"),
    (6, "bus"),
    (7, "train"),
    (8, "truck"),
    (9, "boat"),
    (10, "traffic light"),
    (11, "fire hydrant"),
    (13, "stop sign"),
    (14, "parking meter"),
    (15, "bench"),
    (16, "bird"),
    (17, "cat"),
    (18, "dog"),
    (19, "horse"),
    (20, "sheep"),
    (21, "cow"),
    (22, "elephant"),
    (23, "bear"),
    (24, "zebra"),
    (25, "giraffe"),
    (27, "backpack"),
    (28, "umbrella"),
    (31, "handbag"),
    (32, "tie"),
    (33, "suitcase"),
    (34, "frisbee"),
    (35, "skis"),
    (36, "snowboard"),
    (37, "sports ball"),
    (38, "kite"),
    (39, "baseball bat"),
    (40, "baseball glove"),
    (41, "skateboard"),
    (42, "surfboard"),
    (43, "tennis racket"),
    (44, "bottle"),
    (46, "wine glass"),
    (47, "cup"),
    (48, "fork"),
    (49, "knife"),
    (50, "spoon"),
    (51, "bowl"),
    (52, "banana"),
    (53, "apple"),
    (54, "sandwich"),
    (55, "orange"),
    (56, "broccoli"),
    (57, "carrot"),
    (58, "hot dog"),
    (59, "pizza"),
    (60, "donut"),
    (61, "cake"),
    (62, "chair"),
    (63, "couch"),
    (64, "potted plant"),
    (65, "bed"),
    (67, "dining table"),
    (70, "toilet"),
    (72, "tv"),
    (73, "laptop"),
    (74, "mouse"),
    (75, "remote"),
    (76, "keyboard"),
    (77, "cell phone"),
    (78, "microwave"),
    (79, "oven"),
    (80, "toaster"),
    (81, "sink"),
    (82, "refrigerator"),
    (84, "book"),
    (85, "clock"),
    (86, "vase"),
    (87, "scissors"),
    (88, "teddy bear"),
    (89, "hair drier"),
    (90, "toothbrush"),
)
assert len(COCO_CATEGORIES) == 80

@dataclass(frozen=True)
class GenConfig:
    """Knobs of the generator (defaults give a COCO val2017-like set)."""

    images: int = 5000
    seed: int = 0
    mean_instances: float = 7.1  # + crowded scenes: ~7.4 per image like COCO val2017
    empty_image_rate: float = 0.01  # images without any annotation
    count_dispersion: float = 1.0  # NB shape of instances per image (low = heavy tail)
    person_share: float = 0.29  # + crowded scenes: ~30 %
    crowd_scene_rate: float = 0.01  # images with 20-45 instances, mostly persons
    category_alpha: float = 3.0  # Polya-urn concentration: ~3 categories per image like COCO
    log10_area_mean: float = 3.25  # ~41 % small / 38 % medium / 21 % large (COCO: 41/34/24)
    log10_area_sd: float = 0.95
    multipart_rate: float = 0.12
    crowd_rate: float = 0.01
    miss_rate: tuple[float, float, float] = (0.25, 0.08, 0.04)  # small / medium / large
    extra_copies: float = 5.0  # Poisson mean of same-class duplicates per detected object
    confused_copies: float = 3.75  # Poisson mean of low-score other-class detections per object
    false_positives: float = 25.0  # Poisson mean of background detections per image
    fp_in_image_cats: float = 0.3  # share of background detections using the image's categories
    confusion_flatness: float = 0.3  # exponent on weights of other-class labels (<1: flatter)
    score_decimals: tuple[float, float] = (0.25, 0.25)  # share rounded to 2 / 3 decimals
    vertex_jitter: float = 0.04  # per-vertex noise of detections (x error x object size)
    det_scale: float = 1.0  # multiplies every detection count (0.4: ~190k, ~38 per image)


class DatasetPaths(gen.CocoSetFiles):
    """Files of one generated dataset."""

    def complete(self, cfg: GenConfig) -> bool:
        """True when all files exist and were made by this generator version with ``cfg``."""
        return self.current(GENERATOR_VERSION, cfg)


def default_dir(images: int, seed: int, det_scale: float = 1.0) -> Path:
    """Cache folder ``benchmarks/.data/<name>-<seed>-<images>``."""
    name = "coco" if det_scale == 1.0 else f"coco_x{det_scale:g}"
    return gen.DATA_ROOT / f"{name}-{seed}-{images}"


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------


def _blob(rng: np.random.Generator, cx: float, cy: float, area: float) -> np.ndarray:
    """Random star-shaped polygon (V x 2) of roughly ``area`` px centred at (cx, cy)."""
    n = int(np.clip(round((6 + 0.45 * math.sqrt(area)) * rng.uniform(0.6, 1.4)), 5, 250))
    theta = (np.arange(n) + rng.uniform(-0.35, 0.35, n)) * (2 * math.pi / n)
    k = np.arange(2, 6)[:, None]
    amp = rng.uniform(0, 0.3, (4, 1)) / k
    phase = rng.uniform(0, 2 * math.pi, (4, 1))
    r = 1 + (amp * np.cos(k * theta + phase)).sum(0) + rng.normal(0, 0.04, n)
    r = np.maximum(r, 0.25)
    stretch = math.exp(rng.normal(0, 0.45))
    rot = rng.uniform(0, math.pi)
    x = r * np.cos(theta) * stretch
    y = r * np.sin(theta) / stretch
    c, s = math.cos(rot), math.sin(rot)
    pts = np.stack([c * x - s * y, s * x + c * y], 1)
    poly_area = 0.5 * abs(
        np.dot(pts[:, 0], np.roll(pts[:, 1], 1)) - np.dot(pts[:, 1], np.roll(pts[:, 0], 1))
    )
    pts *= math.sqrt(area / poly_area)
    pts += (cx, cy)
    return pts


def _object(
    rng: np.random.Generator, w: int, h: int, area: float, multipart: bool
) -> list[np.ndarray]:
    """Polygons (one or several parts) of one object inside a w x h image."""
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    if not multipart:
        return [_blob(rng, cx, cy, area)]
    parts = int(rng.integers(2, 4))
    main = 0.75 * area
    polys = [_blob(rng, cx, cy, main)]
    radius = math.sqrt(main / math.pi)
    for _ in range(parts - 1):
        ang = rng.uniform(0, 2 * math.pi)
        dist = radius * rng.uniform(1.1, 1.8)
        polys.append(
            _blob(rng, cx + dist * math.cos(ang), cy + dist * math.sin(ang), area / 4 / (parts - 1))
        )
    return polys


def _clip_round(polys: Sequence[np.ndarray], w: int, h: int) -> list[list[float]]:
    """Clip polygons to the image and flatten to COCO ``[x0, y0, x1, y1, ...]`` lists."""
    out = []
    for p in polys:
        q = np.round(np.clip(p, 0, (w, h)), 2)
        out.append(q.ravel().tolist())
    return out


# --------------------------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------------------------


@dataclass
class _Object:
    """One ground-truth object kept in memory for making detections."""

    image: int
    cat: int  # index into COCO_CATEGORIES
    polys: list[np.ndarray]
    area: float
    crowd: bool
    bbox: list[float]


def _category_weights(cfg: GenConfig) -> np.ndarray:
    """Skewed COCO-like category frequencies: person first, then an exponential tail."""
    tail = np.exp(-0.069 * np.arange(79))
    tail *= (1 - cfg.person_share) / tail.sum()
    return np.concatenate(([cfg.person_share], tail))


def _cumulative(weights: np.ndarray) -> np.ndarray:
    """Cumulative distribution of normalised weights (last entry exactly 1)."""
    cum = np.cumsum(weights / weights.sum())
    cum[-1] = 1.0
    return cum


def _draw(rng: np.random.Generator, cum: np.ndarray) -> int:
    """Draw one category index from a cumulative distribution."""
    return int(np.searchsorted(cum, rng.random(), side="right"))


def _image_categories(
    rng: np.random.Generator, n: int, cum_weights: np.ndarray, alpha: float
) -> list[int]:
    """Polya urn: instances of one image cluster into few categories, marginals kept."""
    cats: list[int] = []
    for i in range(n):
        if i and rng.random() < i / (i + alpha):
            cats.append(cats[int(rng.integers(i))])
        else:
            cats.append(_draw(rng, cum_weights))
    return cats


def _categories_of_image(
    rng: np.random.Generator, cfg: GenConfig, n: int, cum_w: np.ndarray
) -> list[int]:
    """Category index of each instance of one image; a few images are crowded person scenes."""
    if rng.random() >= cfg.crowd_scene_rate:
        return _image_categories(rng, n, cum_w, cfg.category_alpha)
    n = int(rng.integers(20, 46))
    persons = int(n * rng.uniform(0.75, 0.95))
    return [0] * persons + _image_categories(rng, n - persons, cum_w, cfg.category_alpha)


def _sample_area(rng: np.random.Generator, cfg: GenConfig, w: int, h: int) -> float:
    """Object area (px) from a log-normal spanning small / medium / large."""
    area = 10 ** rng.normal(cfg.log10_area_mean, cfg.log10_area_sd)
    return float(np.clip(area, 12.0, 0.7 * w * h))


def _encode_parts(polys: list[list[float]], h: int, w: int) -> dict[str, Any]:
    """Merged compressed RLE of a polygon list."""
    rles = mask_utils.frPyObjects(polys, h, w)
    merged: dict[str, Any] = rles[0] if len(rles) == 1 else mask_utils.merge(rles)
    return merged


def _crowd_object(
    rng: np.random.Generator, w: int, h: int, image_id: int, cat: int
) -> tuple[_Object, dict[str, Any]]:
    """A large crowd region (union of blobs) stored as uncompressed RLE."""
    cx, cy = rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)
    spread = rng.uniform(0.1, 0.3) * min(w, h)
    polys = [
        _blob(
            rng,
            cx + rng.normal(0, spread),
            cy + rng.normal(0, spread / 2),
            rng.uniform(0.3, 1.2) * spread**2,
        )
        for _ in range(int(rng.integers(3, 9)))
    ]
    rle = _encode_parts(_clip_round(polys, w, h), h, w)
    area = float(mask_utils.area(rle))
    bbox = [float(v) for v in mask_utils.toBbox(rle)]
    seg = {"counts": uncompressed_counts(decode_rle(rle)), "size": [h, w]}
    return _Object(image_id, cat, polys, area, True, bbox), seg


def _plain_object(
    rng: np.random.Generator, cfg: GenConfig, w: int, h: int, image_id: int, cat: int
) -> tuple[_Object, list[list[float]]]:
    """A regular (polygon) object with its mask area and box."""
    area = _sample_area(rng, cfg, w, h)
    multi = rng.random() < cfg.multipart_rate * (1.5 if area > 96**2 else 1.0)
    polys = _object(rng, w, h, area, bool(multi))
    seg = _clip_round(polys, w, h)
    rle = _encode_parts(seg, h, w)
    bbox = [float(v) for v in mask_utils.toBbox(rle)]
    return _Object(image_id, cat, polys, float(mask_utils.area(rle)), False, bbox), seg


def make_ground_truth(
    rng: np.random.Generator, cfg: GenConfig
) -> tuple[dict[str, Any], list[_Object], list[tuple[int, int]]]:
    """COCO ground-truth dict, the objects (for predictions) and per-image (w, h)."""
    sizes, size_idx, image_ids = gen.coco_images(rng, cfg.images)
    mean_extra = cfg.mean_instances / (1 - cfg.empty_image_rate) - 1
    shape = cfg.count_dispersion
    counts = 1 + rng.negative_binomial(shape, shape / (shape + mean_extra), cfg.images)
    counts[rng.random(cfg.images) < cfg.empty_image_rate] = 0
    counts = np.minimum(counts, 90)
    cum_w = _cumulative(_category_weights(cfg))

    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    objects: list[_Object] = []
    dims: list[tuple[int, int]] = []
    for img_id, si, n in zip(image_ids.tolist(), size_idx.tolist(), counts.tolist(), strict=True):
        w, h = (int(v) for v in sizes[si])
        dims.append((w, h))
        images.append({"id": img_id, "width": w, "height": h, "file_name": f"{img_id:012d}.jpg"})
        for cat in _categories_of_image(rng, cfg, n, cum_w):
            seg: Any
            if rng.random() < cfg.crowd_rate:
                obj, seg = _crowd_object(rng, w, h, img_id, cat)
            else:
                obj, seg = _plain_object(rng, cfg, w, h, img_id, cat)
            if obj.area < 1:
                continue
            objects.append(obj)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img_id,
                    "category_id": COCO_CATEGORIES[cat][0],
                    "segmentation": seg,
                    "area": obj.area,
                    "bbox": obj.bbox,
                    "iscrowd": int(obj.crowd),
                }
            )
    gt = {
        "info": {"description": "synthetic COCO-val-like benchmark set", "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": [{"id": i, "name": n, "supercategory": "object"} for i, n in COCO_CATEGORIES],
    }
    return gt, objects, dims


# --------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------


@dataclass
class _Det:
    """One detection before rasterisation."""

    cat: int
    polys: list[np.ndarray]
    score: float


def _perturb(
    rng: np.random.Generator, polys: list[np.ndarray], area: float, err: float, jitter: float
) -> list[np.ndarray]:
    """Shifted / scaled / jittered copy of an object's polygons; ``err`` ~ 0 (good) .. 1 (bad)."""
    size = math.sqrt(area)
    centre = np.concatenate(polys).mean(0)
    scale = np.exp(rng.normal(0, 0.22 * err, 2))
    shift = rng.normal(0, 0.3 * err * size, 2)
    out = []
    for p in polys:
        q = (p - centre) * scale + centre + shift
        q += rng.normal(0, jitter * err * size + 0.3, q.shape)
        out.append(q)
    return out


def _object_detections(
    rng: np.random.Generator, cfg: GenConfig, obj: _Object, cum_w: np.ndarray
) -> list[_Det]:
    """Detections made from one ground-truth object (possibly none: a miss)."""
    size_class = 0 if obj.area < 32**2 else 1 if obj.area < 96**2 else 2
    if obj.crowd:
        size_class = 2
    if rng.random() < cfg.miss_rate[size_class]:
        return []
    hardness = (1.6, 1.1, 0.8)[size_class]
    same = 1 + int(rng.poisson(cfg.extra_copies * cfg.det_scale))
    dets = []
    for j in range(same + int(rng.poisson(cfg.confused_copies * cfg.det_scale))):
        err = min(1.0, rng.beta(1.3, 4.0) * hardness * (1.0 if j == 0 else 1.8))
        polys = obj.polys
        if obj.crowd:  # detectors fire on parts of a crowd region
            polys = [polys[int(rng.integers(len(polys)))]]
        score = 0.97 - 0.75 * err - (0.25 if j else 0.0) * rng.random() + rng.normal(0, 0.1)
        cat = obj.cat
        if j >= same:  # same region, another class, low score
            cat = _draw(rng, cum_w)
            score *= rng.uniform(0.1, 0.6)
        dets.append(_Det(cat, _perturb(rng, polys, obj.area, err, cfg.vertex_jitter), score))
    return dets


def _background_detections(
    rng: np.random.Generator, cfg: GenConfig, w: int, h: int, cats: list[int], cum_w: np.ndarray
) -> list[_Det]:
    """False positives on background, mostly with low scores."""
    dets = []
    for _ in range(int(rng.poisson(cfg.false_positives * cfg.det_scale))):
        if cats and rng.random() < cfg.fp_in_image_cats:
            cat = cats[int(rng.integers(len(cats)))]
        else:
            cat = _draw(rng, cum_w)
        area = _sample_area(rng, cfg, w, h)
        polys = _object(rng, w, h, area, False)
        dets.append(_Det(cat, polys, 0.05 + 0.7 * rng.beta(1.0, 3.5)))
    return dets


def _rasterise_image(
    dets: list[_Det], w: int, h: int
) -> tuple[list[dict[str, Any]], list[list[float]], list[int]]:
    """Encode an image's detections to compressed RLE in one batch; drop empty masks."""
    flat: list[list[float]] = []
    owner: list[int] = []
    for k, d in enumerate(dets):
        parts = _clip_round(d.polys, w, h)
        flat.extend(parts)
        owner.extend([k] * len(parts))
    if not flat:
        return [], [], []
    rles = mask_utils.frPyObjects(flat, h, w)
    merged: list[dict[str, Any]] = []
    start = 0
    for k in range(len(dets)):
        stop = start
        while stop < len(owner) and owner[stop] == k:
            stop += 1
        group = rles[start:stop]
        merged.append(group[0] if len(group) == 1 else mask_utils.merge(group))
        start = stop
    areas = rle_areas(merged)
    boxes = mask_utils.toBbox(merged)
    keep = [k for k in range(len(dets)) if areas[k] > 0]
    segs = [{"size": [h, w], "counts": merged[k]["counts"].decode("ascii")} for k in keep]
    return segs, [boxes[k].tolist() for k in keep], keep


def make_predictions(
    rng: np.random.Generator,
    cfg: GenConfig,
    objects: list[_Object],
    dims: list[tuple[int, int]],
    image_ids: list[int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``segm`` and ``bbox`` result lists for the given ground truth."""
    cum_w = _cumulative(_category_weights(cfg) ** cfg.confusion_flatness)
    by_image: dict[int, list[_Object]] = {}
    for obj in objects:
        by_image.setdefault(obj.image, []).append(obj)
    segm: list[dict[str, Any]] = []
    bbox: list[dict[str, Any]] = []
    for img_id, (w, h) in zip(image_ids, dims, strict=True):
        objs = by_image.get(img_id, [])
        dets = [d for o in objs for d in _object_detections(rng, cfg, o, cum_w)]
        dets += _background_detections(rng, cfg, w, h, sorted({o.cat for o in objs}), cum_w)
        segs, boxes, keep = _rasterise_image(dets, w, h)
        scores = gen.round_scores(rng, np.array([dets[k].score for k in keep]), 0.01,
                              cfg.score_decimals)
        jitter = rng.normal(0, 0.03, (len(keep), 4))
        for seg, box, k, score, jit in zip(
            segs, boxes, keep, scores.tolist(), jitter.tolist(), strict=True
        ):
            cat_id = COCO_CATEGORIES[dets[k].cat][0]
            segm.append(
                {"image_id": img_id, "category_id": cat_id, "segmentation": seg, "score": score}
            )
            bw, bh = max(box[2] * (1 + jit[2]), 1.0), max(box[3] * (1 + jit[3]), 1.0)
            x = box[0] + jit[0] * box[2]
            y = box[1] + jit[1] * box[3]
            bbox.append(
                {
                    "image_id": img_id,
                    "category_id": cat_id,
                    "bbox": [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)],
                    "score": score,
                }
            )
    return segm, bbox


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _summary(gt: dict[str, Any], segm: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts that describe the generated set."""
    anns = gt["annotations"]
    areas = np.array([a["area"] for a in anns if not a["iscrowd"]])
    person = sum(a["category_id"] == 1 for a in anns)
    multi = sum(isinstance(a["segmentation"], list) and len(a["segmentation"]) > 1 for a in anns)
    per_image = np.bincount(
        np.searchsorted(sorted(i["id"] for i in gt["images"]), [d["image_id"] for d in segm]),
        minlength=len(gt["images"]),
    )
    return {
        "images": len(gt["images"]),
        "gt_instances": len(anns),
        "gt_crowd": sum(a["iscrowd"] for a in anns),
        "gt_multipart": multi,
        "person_share": round(person / max(len(anns), 1), 4),
        "size_share": gen.size_share(areas),
        "detections": len(segm),
        "detections_per_image_max": int(per_image.max(initial=0)),
    }


def generate(cfg: GenConfig, out: Path) -> dict[str, Any]:
    """Generate the dataset into ``out`` and return its metadata."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    gt, objects, dims = make_ground_truth(rng, cfg)
    image_ids = [img["id"] for img in gt["images"]]
    segm, bbox = make_predictions(rng, cfg, objects, dims, image_ids)
    paths = DatasetPaths(out)
    out.mkdir(parents=True, exist_ok=True)
    paths.gt.write_bytes(orjson.dumps(gt))
    paths.segm.write_bytes(orjson.dumps(segm))
    paths.bbox.write_bytes(orjson.dumps(bbox))
    return gen.write_meta(paths.meta, GENERATOR_VERSION, cfg, _summary(gt, segm), t0,
                      (paths.gt, paths.segm, paths.bbox))


def ensure_dataset(
    images: int = 5000,
    seed: int = 0,
    out: Path | None = None,
    force: bool = False,
    det_scale: float = 1.0,
) -> DatasetPaths:
    """Return the cached dataset for (images, seed, det_scale), generating it when missing."""
    cfg = GenConfig(images=images, seed=seed, det_scale=det_scale)
    paths = DatasetPaths(out or default_dir(images, seed, det_scale))
    return gen.cached(paths, cfg, force, generate)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    gen.add_data_arguments(ap, 5000)
    ap.add_argument("--det-scale", type=float, default=1.0, help="scale detection counts")
    args = ap.parse_args(argv)
    paths = ensure_dataset(args.images, args.seed, args.out, args.force, args.det_scale)
    return gen.print_dataset(paths)


if __name__ == "__main__":
    raise SystemExit(main())
