"""Write the tiny COCO keypoints sample in ``data_samples/coco_keypoints/`` (seeded).

Usage::

    python data_samples/make_keypoints_samples.py            # writes data_samples/coco_keypoints/
    python data_samples/make_keypoints_samples.py OUT_DIR    # writes OUT_DIR/*.json

numpy only. See ``data_samples/README.md`` for what the files contain.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20261206
OUT_DIR = Path(__file__).resolve().parent / "coco_keypoints"
NAMES = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
         "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
         "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
            [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6],
            [5, 7]]
# A standing person in a unit box: (x, y) of the 17 keypoints.
POSE = np.array([[.50, .08], [.54, .06], [.46, .06], [.58, .08], [.42, .08], [.65, .22],
                 [.35, .22], [.72, .38], [.28, .38], [.75, .52], [.25, .52], [.60, .55],
                 [.40, .55], [.62, .75], [.38, .75], [.63, .95], [.37, .95]])
IMAGES = [(1, 480, 640), (2, 427, 640), (3, 640, 480), (4, 375, 500)]  # image 4: no people
# (image id, box [x, y, w, h], labelled keypoints, iscrowd)
PEOPLE: list[tuple[int, list[float], int, int]] = [
    (1, [40.0, 60.0, 120.0, 300.0], 17, 0),   # large
    (1, [300.0, 120.0, 40.0, 90.0], 12, 0),   # medium, partly labelled
    (1, [420.0, 200.0, 30.0, 60.0], 0, 0),    # no labelled keypoint: ignored
    (2, [100.0, 50.0, 80.0, 200.0], 15, 0),
    (2, [250.0, 40.0, 300.0, 350.0], 0, 1),   # a crowd of people
    (3, [60.0, 100.0, 90.0, 240.0], 17, 0),
]


def _keypoints(rng: np.random.Generator, box: list[float], n_labelled: int
               ) -> list[float | int]:
    x, y, w, h = box
    xy = POSE * [w, h] + [x, y]
    flags = np.zeros(17, dtype=int)
    flags[rng.permutation(17)[:n_labelled]] = rng.choice([1, 2], n_labelled, p=[0.2, 0.8])
    out: list[float | int] = []
    for (px, py), v in zip(xy.round(1), flags, strict=True):
        out += [float(px), float(py), int(v)] if v else [0, 0, 0]
    return out


def _detection(rng: np.random.Generator, image_id: int, box: list[float], noise: float,
               score: float) -> dict[str, Any]:
    x, y, w, h = box
    xy = POSE * [w, h] + [x, y] + rng.normal(0.0, noise * np.sqrt(w * h), (17, 2))
    conf = rng.uniform(0.2, 1.0, 17)  # per-keypoint confidences (pycocotools ignores them)
    kps = np.column_stack([xy, conf]).round(2).ravel()
    return {"image_id": image_id, "category_id": 1, "keypoints": [float(v) for v in kps],
            "score": score}


def make(out_dir: Path = OUT_DIR) -> list[Path]:
    """Write ``person_keypoints.json`` and ``results_keypoints.json``; return the paths."""
    rng = np.random.default_rng(SEED)
    anns = []
    for i, (image_id, box, n_lab, crowd) in enumerate(PEOPLE, start=1):
        kps = _keypoints(rng, box, 0 if crowd else n_lab)
        anns.append({"id": i, "image_id": image_id, "category_id": 1, "iscrowd": crowd,
                     "bbox": box, "area": round(box[2] * box[3] * 0.55, 1),
                     "num_keypoints": int(sum(v > 0 for v in kps[2::3])), "keypoints": kps})
    gt = {
        "info": {"description": "benchmark_eval keypoints sample", "version": "1.0"},
        "images": [{"id": i, "height": h, "width": w, "file_name": f"{i:012d}.jpg"}
                   for i, h, w in IMAGES],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "supercategory": "person",
                        "keypoints": NAMES, "skeleton": SKELETON}],
    }
    dets = [_detection(rng, image_id, box, 0.03, round(float(rng.uniform(0.5, 0.99)), 3))
            for image_id, box, _, crowd in PEOPLE if not crowd]
    dets[1]["score"] = dets[0]["score"]  # a score tie
    dets.append(_detection(rng, 1, [300.0, 120.0, 40.0, 90.0], 0.3, 0.41))  # a poor duplicate
    dets.append(_detection(rng, 2, [300.0, 80.0, 100.0, 250.0], 0.02, 0.6))  # on the crowd
    dets.append(_detection(rng, 4, [100.0, 100.0, 60.0, 150.0], 0.02, 0.35))  # image 4: FP
    order = rng.permutation(len(dets))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "person_keypoints.json", out_dir / "results_keypoints.json"]
    for path, data in zip(paths, (gt, [dets[k] for k in order]), strict=True):
        path.write_text(json.dumps(data, indent=1) + "\n")
    return paths


if __name__ == "__main__":
    for p in make(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR):
        print(p)
