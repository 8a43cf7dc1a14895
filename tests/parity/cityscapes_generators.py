"""Seeded Cityscapes-like scenes with the cases the official scripts treat specially.

A scene is a label-id map, an instance-id map and predictions of both kinds, on small maps:

* GT: stuff regions (evaluated and void labels, ``parking`` / ``polegroup`` ignored ones),
  instances ``label * 1000 + k`` of the 8 evaluated classes (some under 100 pixels), group
  regions (the plain label id in the instance map), ``caravan`` / ``trailer`` instances and
  groups (classes ignored in evaluation);
* semantic predictions: the GT with moved borders and noise, void ids predicted on valid
  pixels, a class only predicted, a class never predicted, category confusions;
* instance predictions: shifted / grown / shrunk copies of GT instances with confidences
  rounded to 1 or 2 decimals (ties), duplicates, predictions under 100 pixels, on void and
  on group regions, on small instances, false positives on stuff, masks of other labels
  (skipped officially), empty masks, 1-bit / palette / RGB masks, and an empty prediction
  file.
"""

from __future__ import annotations

__all__ = ["Scene", "make_case", "write_case"]

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

STUFF = (7, 8, 11, 17, 21, 23)  # road, sidewalk, building, pole, vegetation, sky
VOID = (0, 1, 3, 4, 5, 6, 9, 18)  # void labels and ignored ones (parking, polegroup)
THINGS = (24, 25, 26, 27, 28, 31, 32, 33)  # the evaluated instance classes
IGNORED_THINGS = (29, 30)  # caravan, trailer
_SIZES = ((96, 128), (80, 112), (120, 96), (64, 160))


@dataclass
class Scene:
    """One image: GT maps and predictions.

    Attributes:
        key: ``<city>_<seq>_<frame>``.
        labels: ``(H, W)`` uint8 label ids.
        instances: ``(H, W)`` uint16 instance ids.
        pred: ``(H, W)`` uint8 predicted label ids.
        masks: ``(label_id, confidence, mask, format)``; format ``"L"``, ``"1"``, ``"P"``,
            ``"RGB"``.
    """

    key: str
    labels: np.ndarray
    instances: np.ndarray
    pred: np.ndarray
    masks: list[tuple[int, float, np.ndarray, str]] = field(default_factory=list)


def _ellipse(shape: tuple[int, int], cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return ((yy - cy) / max(ry, 0.5)) ** 2 + ((xx - cx) / max(rx, 0.5)) ** 2 <= 1.0


def _stuff(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    block = int(rng.integers(8, 24))
    values = np.array([*STUFF, *STUFF, *VOID])
    grid = rng.choice(values, size=(-(-h // block), -(-w // block)))
    return np.repeat(np.repeat(grid, block, 0), block, 1)[:h, :w].astype(np.uint16)


def _things(rng: np.random.Generator, inst: np.ndarray, classes: tuple[int, ...]) -> None:
    """Paint instances (some small), group regions and ignored-class instances."""
    h, w = inst.shape
    counter: dict[int, int] = {}
    for _ in range(int(rng.integers(6, 12))):
        label = int(rng.choice(classes))
        r = rng.choice([2.5, 4.0, 7.0, 12.0, 18.0])  # 2.5 and 4 give < 100 pixels
        m = _ellipse(inst.shape, rng.uniform(0, h), rng.uniform(0, w), r * rng.uniform(0.6, 1.4),
                     r * rng.uniform(0.6, 1.4))
        k = counter.get(label, 0)
        counter[label] = k + 1
        inst[m] = label * 1000 + k
    for label in rng.choice([*classes, *IGNORED_THINGS], size=2):
        m = _ellipse(inst.shape, rng.uniform(0, h), rng.uniform(0, w), 8, 10)
        inst[m] = int(label)  # a group region
    for label in IGNORED_THINGS:
        m = _ellipse(inst.shape, rng.uniform(0, h), rng.uniform(0, w), 6, 6)
        inst[m] = label * 1000


def _semantic_pred(rng: np.random.Generator, labels: np.ndarray, only_pred: int,
                   never_pred: int) -> np.ndarray:
    pred = np.roll(labels, int(rng.integers(-2, 3)), axis=int(rng.integers(0, 2))).copy()
    noise = rng.random(labels.shape) < 0.04
    pred[noise] = rng.choice([*STUFF, *THINGS, *VOID], size=int(noise.sum()))
    confuse = (pred == 26) & (rng.random(labels.shape) < 0.2)
    pred[confuse] = rng.choice([27, 29, 24], size=int(confuse.sum()))  # truck, caravan, person
    pred[pred == never_pred] = 7
    h, w = labels.shape
    pred[_ellipse(labels.shape, h / 2, w / 3, 5, 9)] = only_pred
    return pred.astype(np.uint8)


def _shifted(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.roll(mask, (int(rng.integers(-1, 2)), int(rng.integers(-1, 2))), axis=(0, 1))
    if rng.random() < 0.3:  # grow
        out = out | np.roll(out, 1, axis=0) | np.roll(out, 1, axis=1)
    elif rng.random() < 0.3:  # shrink
        out = out & np.roll(out, 1, axis=0) & np.roll(out, -1, axis=1)
    return out


def _score(rng: np.random.Generator) -> float:
    return round(float(rng.uniform(0.05, 1.0)), int(rng.choice([1, 2, 6])))


def _instance_preds(rng: np.random.Generator, scene: Scene, never_pred: int) -> None:
    inst = scene.instances
    shape = inst.shape
    fmt = ["L", "L", "L", "1", "P", "RGB"]
    pickable = [t for t in THINGS if t != never_pred]
    for value in np.unique(inst).tolist():
        label = value // 1000 if value >= 1000 else value
        if (label not in THINGS and label not in IGNORED_THINGS) or rng.random() < 0.15:
            continue
        if label == never_pred:
            continue
        mask = _shifted(inst == value, rng)
        pred_label = label if rng.random() < 0.85 else int(rng.choice(pickable))
        scene.masks.append((pred_label, _score(rng), mask, str(rng.choice(fmt))))
        if rng.random() < 0.35:  # a duplicate of the same object
            scene.masks.append((pred_label, _score(rng), _shifted(inst == value, rng), "L"))
    h, w = shape
    void = np.isin(scene.labels, VOID)
    for _ in range(3):  # false positives on stuff, on void, small ones
        label = int(rng.choice(pickable))
        scene.masks.append((label, _score(rng), _ellipse(shape, rng.uniform(0, h),
                            rng.uniform(0, w), 5, 7), "L"))
    ys, xs = np.nonzero(void)
    if len(ys):
        i = int(rng.integers(0, len(ys)))
        blob = _ellipse(shape, ys[i], xs[i], 4, 4) & void
        scene.masks.append((int(rng.choice(pickable)), _score(rng), blob, "L"))
    scene.masks.append((int(rng.choice(pickable)), 0.5, _ellipse(shape, h / 3, w / 2, 2, 3),
                        "L"))
    scene.masks.append((7, 0.9, _ellipse(shape, h / 2, w / 2, 6, 6), "L"))  # road: skipped
    scene.masks.append((29, 0.8, _ellipse(shape, h / 4, w / 4, 6, 6), "L"))  # caravan: skipped
    scene.masks.append((26, 0.7, np.zeros(shape, dtype=bool), "L"))  # empty mask


def make_case(seed: int, images: int = 3) -> list[Scene]:
    """``images`` scenes; the last has no instance prediction (an empty prediction file)."""
    rng = np.random.default_rng(seed)
    only_pred, never_pred = (int(v) for v in rng.choice(THINGS, size=2, replace=False))
    gt_things = tuple(t for t in THINGS if t != only_pred)
    scenes = []
    for i in range(images):
        shape = _SIZES[(seed + i) % len(_SIZES)]
        inst = _stuff(rng, shape)
        _things(rng, inst, gt_things)
        labels = np.where(inst < 1000, inst, inst // 1000).astype(np.uint8)
        scene = Scene(f"city{seed}_{i:06d}_{seed * 7 + i:06d}", labels, inst,
                      _semantic_pred(rng, labels, only_pred, never_pred))
        if i < images - 1:
            _instance_preds(rng, scene, never_pred)
        scenes.append(scene)
    # every predicted class gets one clear false positive on stuff, so no class ends up
    # with predictions but no TP/FP record at all (the official script crashes there)
    first = scenes[0]
    stuff = np.flatnonzero(np.isin(first.labels, STUFF))
    for j, label in enumerate(sorted({m[0] for s in scenes for m in s.masks
                                      if m[0] in THINGS})):
        spot = np.zeros(first.labels.size, dtype=bool)
        spot[stuff[3 * j:3 * j + 3]] = True
        first.masks.append((label, 0.33, spot.reshape(first.labels.shape), "L"))
    return scenes


def _save_mask(mask: np.ndarray, path: Path, fmt: str, rng: np.random.Generator) -> None:
    if fmt == "1":
        Image.fromarray(mask).save(path)
    elif fmt == "P":
        img = Image.fromarray(mask.astype(np.uint8), mode="P")
        img.putpalette([0, 0, 0, 0, 0, 1] + [200] * 762)  # index 1 is almost black
        img.save(path)
    elif fmt == "RGB":
        rgb = np.zeros((*mask.shape, 3), dtype=np.uint8)
        rgb[mask] = (int(rng.integers(1, 4)), 0, 0)  # dim red: 0 after convert("L")
        rgb[mask & (np.arange(mask.shape[1]) % 2 == 0)] = (255, 255, 255)
        Image.fromarray(rgb).save(path)
    else:
        Image.fromarray(mask.astype(np.uint8) * 255).save(path)


def write_case(scenes: list[Scene], root: Path) -> tuple[Path, Path, Path]:
    """Write GT and predictions under ``root``; returns (gt root, semantic predictions,
    instance predictions)."""
    gt, sem, ins = root / "gtFine" / "val", root / "pred_sem", root / "pred_inst"
    rng = np.random.default_rng(0)
    for scene in scenes:
        city = scene.key.split("_")[0]
        (gt / city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(scene.labels).save(gt / city / f"{scene.key}_gtFine_labelIds.png")
        Image.fromarray(scene.instances).save(gt / city / f"{scene.key}_gtFine_instanceIds.png")
        (sem / city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(scene.pred).save(sem / city / f"{scene.key}_pred.png")
        (ins / "masks").mkdir(parents=True, exist_ok=True)
        lines = []
        for j, (label, score, mask, fmt) in enumerate(scene.masks):
            name = f"masks/{scene.key}_{j}.png"
            _save_mask(mask, ins / name, fmt, rng)
            lines.append(f"{name} {label} {score!r}\n")
        (ins / f"{scene.key}_pred.txt").write_text("".join(lines))
    return gt, sem, ins
