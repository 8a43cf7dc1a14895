"""Write the tiny semantic-segmentation sample in ``data_samples/semantic/`` (seeded).

Usage::

    python data_samples/make_semantic_samples.py            # writes data_samples/semantic/
    python data_samples/make_semantic_samples.py OUT_DIR    # writes OUT_DIR/

Label maps are 8-bit single-channel PNGs written with Pillow, built from numpy only. See
``data_samples/README.md`` for what the files contain.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

SEED = 20240607
OUT_DIR = Path(__file__).resolve().parent / "semantic"
CLASSES = ("road", "building", "vegetation", "sky", "car")
IGNORE = 255
# name, (height, width); very different sizes on purpose
IMAGES = (("street_01", (48, 64)), ("street_02", (32, 32)), ("street_03", (64, 40)),
          ("street_04", (12, 80)))


def _scene(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Sky on top, building / vegetation in the middle, road below, a car or two, and an
    ignored (255) band along the bottom edge like an ego-vehicle mask."""
    gt = np.zeros((h, w), np.uint8)
    horizon = int(h * rng.uniform(0.25, 0.4))
    ground = int(h * rng.uniform(0.6, 0.75))
    gt[:horizon] = 3
    split = int(w * rng.uniform(0.3, 0.7))
    gt[horizon:ground, :split] = 1
    gt[horizon:ground, split:] = 2
    gt[ground:] = 0
    for _ in range(int(rng.integers(1, 3))):
        x = int(rng.integers(0, max(1, w - w // 4)))
        gt[ground - h // 8:ground + h // 10, x:x + w // 4] = 4
    gt[h - max(1, h // 16):] = IGNORE
    return gt


def _predict(rng: np.random.Generator, gt: np.ndarray, index: int) -> np.ndarray:
    """The GT shifted by a pixel or two, with some confusions; the third image misses its
    cars (predicted as road) and the fourth hallucinates vegetation in the sky."""
    pred = np.roll(gt, (int(rng.integers(-2, 3)), int(rng.integers(-2, 3))), axis=(0, 1))
    pred[pred == IGNORE] = 0  # a model predicts a class everywhere
    noise = rng.random(gt.shape) < 0.04
    pred[noise] = rng.integers(0, len(CLASSES), int(noise.sum()))
    if index == 2:
        pred[pred == 4] = 0
    if index == 3:
        pred[: gt.shape[0] // 4, : gt.shape[1] // 5] = 2
    return pred.astype(np.uint8)


def make(out_dir: Path = OUT_DIR) -> list[Path]:
    """Write the sample under ``out_dir``; returns the files written."""
    rng = np.random.default_rng(SEED)
    written = []
    for sub in ("gt", "pred", "binary_gt", "binary_pred"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for i, (name, (h, w)) in enumerate(IMAGES):
        gt = _scene(rng, h, w)
        pred = _predict(rng, gt, i)
        # binary masks (0 / 255): the cars as foreground, no ignore value
        files = {"gt": gt, "pred": pred,
                 "binary_gt": np.where(gt == 4, 255, 0).astype(np.uint8),
                 "binary_pred": np.where(pred == 4, 255, 0).astype(np.uint8)}
        for sub, array in files.items():
            path = out_dir / sub / f"{name}.png"
            Image.fromarray(array).save(path)
            written.append(path)
    params = {"protocol": "semantic", "description": "the data_samples/semantic classes",
              "num_classes": len(CLASSES), "class_names": list(CLASSES),
              "ignore_index": IGNORE}
    path = out_dir / "params.json"
    path.write_text(json.dumps(params, indent=2) + "\n")
    written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    for p in make(target):
        print(p)
