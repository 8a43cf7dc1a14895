"""Seeded COCO keypoints cases for the parity tests: person-like GT with the traps of
``COCOeval(iouType="keypoints")``, and keypoint detections around them.

Traps (each case turns some on): GT without labelled keypoints (OKS to the doubled box),
``num_keypoints`` disagreeing with the flags, crowd people, more than 20 people and
detections in an image, rounded scores (ties), GT areas on the medium / large borders
(32², 96²), zero-area GT, images without GT and without detections, annotation id 0,
detected keypoints far outside the box, results with and without ``bbox`` (the area rule of
``loadRes``), and a 14-keypoint (CrowdPose-like) category.
"""

from __future__ import annotations

__all__ = ["CASE_NAMES", "CROWDPOSE_SIGMAS", "crowdpose_case", "make_keypoint_case"]

from typing import Any

import numpy as np

CROWDPOSE_SIGMAS = (0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087,
                    0.089, 0.089, 0.079, 0.079)

CASE_NAMES = ("mixed", "crowded", "borders", "no_labelled", "with_bbox", "empty_sides",
              "crowdpose14", "two_categories", "crowdpose14_two")


def _person(rng: np.random.Generator, n_kpts: int, box: list[float], p_label: float
            ) -> tuple[list[float], int]:
    x, y, w, h = box
    kx = rng.uniform(x, x + w, n_kpts)
    ky = rng.uniform(y, y + h, n_kpts)
    v = np.where(rng.random(n_kpts) < p_label, rng.choice([1, 2], n_kpts), 0)
    kx, ky = np.where(v > 0, np.round(kx, 1), 0.0), np.where(v > 0, np.round(ky, 1), 0.0)
    trip = np.stack([kx, ky, v], axis=1).ravel()
    return [float(t) if i % 3 < 2 else int(t) for i, t in enumerate(trip)], int((v > 0).sum())


def _box(rng: np.random.Generator, size: tuple[int, int], area: float | None) -> list[float]:
    h_img, w_img = size
    if area is None:
        w = float(rng.uniform(8, 0.8 * w_img))
        h = float(rng.uniform(8, 0.8 * h_img))
    else:
        w = float(np.sqrt(area) * rng.uniform(0.8, 1.25))
        h = area / w
    return [round(float(rng.uniform(0, w_img - w)), 2), round(float(rng.uniform(0, h_img - h)), 2),
            w, h]


def make_keypoint_case(name: str, seed: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(gt, results)`` of one case, deterministic in ``(name, seed)``."""
    rng = np.random.default_rng([seed, CASE_NAMES.index(name)])
    n_kpts = 14 if name.startswith("crowdpose14") else 17
    cats = [{"id": 1, "name": "person", "supercategory": "person",
             "keypoints": [f"k{i}" for i in range(n_kpts)], "skeleton": [[1, 2]]}]
    if name in ("two_categories", "crowdpose14_two"):
        cats.append({"id": 3, "name": "mannequin", "supercategory": "person",
                     "keypoints": [f"k{i}" for i in range(n_kpts)], "skeleton": []})
    n_images = 12 if name != "crowded" else 4
    images = [{"id": 10 + 3 * i, "height": 480, "width": 640, "file_name": f"{i}.jpg"}
              for i in range(n_images)]
    anns: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for img in images:
        _image(rng, name, img["id"], n_kpts, anns, results)
    if name == "mixed" and anns:
        anns[0]["id"] = 0
    for r in results:
        if name == "with_bbox":
            xs, ys = r["keypoints"][0::3], r["keypoints"][1::3]
            r["bbox"] = [min(xs), min(ys), max(xs) - min(xs) + 3.0, max(ys) - min(ys) + 3.0]
    order = rng.permutation(len(results))
    gt = {"info": {"description": f"keypoints case {name}"}, "images": images,
          "annotations": anns, "categories": cats}
    return gt, [results[k] for k in order]


def _image(rng: np.random.Generator, name: str, image_id: int, n_kpts: int,
           anns: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    """The GT people of one image and their detections (appended), plus false positives."""
    borders = (32.0**2, 96.0**2, 32.0**2 - 0.5, 96.0**2 + 0.5, 0.0)
    i = (image_id - 10) // 3
    n_people = int(rng.integers(22, 30)) if name == "crowded" else int(rng.poisson(3))
    if name == "empty_sides" and i % 3 == 0:
        n_people = 0
    for _ in range(n_people):
        area = None
        if name in ("borders", "mixed") and rng.random() < 0.3:
            area = float(rng.choice(borders))
        box = _box(rng, (480, 640), area if area else None)
        crowd = name in ("mixed", "crowded") and rng.random() < 0.08
        p_label = 0.0 if (crowd or (name == "no_labelled" and rng.random() < 0.5)) else 0.7
        kps, n_lab = _person(rng, n_kpts, box, p_label)
        num = n_lab
        if name in ("mixed", "no_labelled") and rng.random() < 0.1:
            num = int(rng.integers(0, 3))  # disagrees with the flags
        gt_area = area if area is not None else round(box[2] * box[3] * 0.6, 2)
        if name == "mixed" and rng.random() < 0.03:
            gt_area = 0.0
        cat = 3 if name in ("two_categories", "crowdpose14_two") and rng.random() < 0.4 else 1
        anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": cat,
                     "bbox": box, "area": gt_area, "iscrowd": int(crowd),
                     "keypoints": kps, "num_keypoints": num})
        results += _detections(rng, name, image_id, cat, box, kps, gt_area, n_kpts)
    if name != "empty_sides" or i % 3 != 1:
        for _ in range(int(rng.poisson(2 if name != "crowded" else 6))):
            box = _box(rng, (480, 640), None)
            kps, _ = _person(rng, n_kpts, box, 1.0)
            results.append(_det(rng, name, image_id, 1, kps, n_kpts))
    else:
        results[:] = [r for r in results if r["image_id"] != image_id]


def _det(rng: np.random.Generator, name: str, image_id: int, cat: int, kps: list[float],
         n_kpts: int) -> dict[str, Any]:
    score = float(rng.random())
    if rng.random() < 0.4:
        score = round(score, 1)  # ties
    trip = np.array(kps, dtype=np.float64).reshape(n_kpts, 3)
    trip[:, 2] = np.round(rng.random(n_kpts), 3)  # a keypoint score, not a flag
    return {"image_id": image_id, "category_id": cat, "score": score,
            "keypoints": [float(v) for v in trip.ravel()]}


def _detections(rng: np.random.Generator, name: str, image_id: int, cat: int,
                box: list[float], kps: list[float], area: float, n_kpts: int
                ) -> list[dict[str, Any]]:
    """0-3 detections of one GT person: noisy copies, some far outside the box."""
    out = []
    x, y, w, h = box
    scale = np.sqrt(max(area, 1.0))
    for _ in range(int(rng.choice([0, 1, 1, 2, 3]))):
        trip = np.array(kps, dtype=np.float64).reshape(n_kpts, 3)
        fill = trip[:, 2] == 0
        trip[fill, 0] = rng.uniform(x, x + w, int(fill.sum()))
        trip[fill, 1] = rng.uniform(y, y + h, int(fill.sum()))
        trip[:, :2] += rng.normal(0, rng.choice([0.01, 0.05, 0.15]) * scale, (n_kpts, 2))
        if rng.random() < 0.15:  # far outside the doubled box
            trip[:, 0] += rng.choice([-1, 1]) * 3 * w
        if rng.random() < 0.1:
            trip[:, :2] = trip[:1, :2]  # all on one point: zero keypoint extent
        det = _det(rng, name, image_id, cat, list(trip.ravel()), n_kpts)
        det["keypoints"] = [round(v, 2) for v in det["keypoints"]]
        out.append(det)
    return out


def crowdpose_case(seed: int, splits: str = "all") -> tuple[dict[str, Any], list[Any]]:
    """The 14-keypoint case as CrowdPose writes it: no ``area``, a ``crowdIndex`` per image.

    ``splits="no_hard"`` leaves the hard split empty; ``"no_mannequin_easy"`` has a second
    category with no GT (and no detections) on the easy images, so the reference's easy AP
    averages -1 entries.
    """
    two = splits == "no_mannequin_easy"
    gt, res = make_keypoint_case("crowdpose14_two" if two else "crowdpose14", seed)
    rng = np.random.default_rng(seed)
    for im in gt["images"]:
        im["crowdIndex"] = round(float(rng.random()) * (0.79 if splits == "no_hard" else 1), 2)
    gt["images"][0]["crowdIndex"] = 0.2  # on the easy / medium border
    easy = {im["id"] for im in gt["images"] if im["crowdIndex"] < 0.2}
    for record in [*gt["annotations"], *res]:
        if record["image_id"] in easy:
            record["category_id"] = 1
    for a in gt["annotations"]:
        del a["area"]
    return gt, res
