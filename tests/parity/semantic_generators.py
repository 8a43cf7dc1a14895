"""Seeded label-map pairs with the cases semantic evaluators disagree on.

Every generator returns ``[(name, gt, pred), ...]`` of uint8 ``(H, W)`` maps: piecewise-constant
regions (like real label maps, so PNGs compress as they do) plus pixel noise.
"""

from __future__ import annotations

__all__ = ["CITYSCAPES_VALID_IDS", "CITYSCAPES_VOID_IDS", "Pairs", "blocky", "cityscapes_case",
           "generic_case"]

import numpy as np
from cityscapesscripts.helpers.labels import labels as cs_labels

Pairs = list[tuple[str, np.ndarray, np.ndarray]]

# from the cityscapesScripts label table: ids evaluated, and ids ignored in evaluation
CITYSCAPES_VALID_IDS = tuple(lb.id for lb in cs_labels if lb.id >= 0 and not lb.ignoreInEval)
CITYSCAPES_VOID_IDS = tuple(lb.id for lb in cs_labels if lb.id >= 0 and lb.ignoreInEval)
_SIZES = ((64, 128), (17, 23), (128, 96), (5, 7), (40, 40))


def blocky(rng: np.random.Generator, shape: tuple[int, int], values: np.ndarray | list[int],
           block: int = 8) -> np.ndarray:
    """A map of ``block``-sized regions, each a random choice of ``values``."""
    h, w = shape
    grid = rng.choice(np.asarray(values), size=(-(-h // block), -(-w // block)))
    return np.repeat(np.repeat(grid, block, axis=0), block, axis=1)[:h, :w].astype(np.uint8)


def _noise(rng: np.random.Generator, a: np.ndarray, values: np.ndarray | list[int],
           rate: float) -> np.ndarray:
    out = a.copy()
    hit = rng.random(a.shape) < rate
    out[hit] = rng.choice(np.asarray(values), size=int(hit.sum()))
    return out


def _blob(rng: np.random.Generator, a: np.ndarray, value: int) -> None:
    h, w = a.shape
    y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
    a[y:y + max(1, h // 4), x:x + max(1, w // 4)] = value


def cityscapes_case(seed: int) -> Pairs:
    """Label-id maps (ids 0..33): void GT regions, a class never predicted, a class only
    predicted, a class absent everywhere, void ids predicted on valid pixels, an all-void
    image, and images of very different sizes."""
    rng = np.random.default_rng(seed)
    valid = np.array(CITYSCAPES_VALID_IDS)
    void = np.array(CITYSCAPES_VOID_IDS)
    never_predicted, only_predicted, absent = rng.choice(valid, size=3, replace=False)
    gt_values = np.setdiff1d(np.concatenate([valid, void[:4]]), [only_predicted, absent])
    pairs: Pairs = []
    for i, shape in enumerate(_SIZES[: 3 + seed % 3]):
        gt = blocky(rng, shape, gt_values, block=int(rng.integers(3, 12)))
        if i == 1:
            gt[:] = rng.choice(void)  # nothing to evaluate on this image
        pred = _noise(rng, gt, gt_values, 0.15)
        pred = _noise(rng, pred, void, 0.05)  # void ids predicted, also on valid pixels
        pred[pred == never_predicted] = only_predicted if i == 0 else valid[0]
        pred[pred == absent] = valid[1]
        _blob(rng, pred, int(only_predicted))
        pairs.append((f"city_{seed:03d}_{i:06d}", gt, pred))
    return pairs


def generic_case(seed: int, num_classes: int, ignore_index: int = 255, *,
                 out_of_range: bool = True) -> Pairs:
    """Class-index maps in ``[0, num_classes)`` with ignore pixels, a hallucinated class (only
    predicted), a class absent everywhere, predictions equal to ``num_classes`` (when
    ``out_of_range``) and to the ignore index, and images of very different sizes."""
    rng = np.random.default_rng(seed)
    classes = np.arange(num_classes)
    hallucinated, absent = rng.choice(classes, size=2, replace=False)
    gt_values = np.setdiff1d(classes, [hallucinated, absent])
    pairs: Pairs = []
    for i, shape in enumerate(_SIZES[: 2 + seed % 4]):
        gt = blocky(rng, shape, gt_values, block=int(rng.integers(2, 10)))
        gt = _noise(rng, gt, [ignore_index], 0.05)
        pred = _noise(rng, gt, gt_values, 0.2)
        pred[pred == ignore_index] = gt_values[0]
        pred[pred == absent] = gt_values[-1]
        _blob(rng, pred, int(hallucinated))
        extras = [num_classes, ignore_index] if out_of_range else [ignore_index]
        pred = _noise(rng, pred, extras, 0.03)
        pairs.append((f"img{i}", gt, pred))
    return pairs
