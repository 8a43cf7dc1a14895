"""Seeded COCO-like cases that exercise every branch of tidecv 1.0.1's error analysis.

Built on :class:`coco_generators.Scene` (GT as integer rectangles, detections as boxes whose
masks are the boxes rounded outwards), so each case renders for ``bbox`` and ``segm``. A
detection's overlap with its GT is set by shifting the GT box sideways by a fraction ``f`` of
its width: IoU = (1 - f) / (1 + f), so ``f = 1/3`` gives exactly 0.5 and ``f = 9/11`` 0.1.

Named cases (:data:`TIDE_CASES`) isolate one rule each; :func:`tide_mixed` mixes them all.
"""

from __future__ import annotations

__all__ = ["TIDE_CASES", "TIDE_CASE_NAMES", "make_tide_case", "tide_mixed"]

from collections.abc import Callable
from typing import Any

import numpy as np
from coco_generators import Scene

Case = Callable[[np.random.Generator], Scene]
_SIZE = (120, 160)  # image height, width


def _scene(n_images: int, categories: tuple[int, ...] = (1, 2, 3, 5)) -> Scene:
    scene = Scene()
    scene.add_categories(list(categories))
    for i in range(n_images):
        scene.add_image(100 + 7 * i, _SIZE[1], _SIZE[0])
    return scene


def _gt(scene: Scene, rng: np.random.Generator, image: int, cat: int, **kw: Any) -> list[float]:
    w, h = (int(v) for v in rng.integers(12, 40, size=2))
    x, y = int(rng.integers(0, _SIZE[1] - w)), int(rng.integers(0, _SIZE[0] - h))
    scene.add_rect_gt(image, cat, x, y, w, h, **kw)
    return [float(x), float(y), float(w), float(h)]


def _shifted(box: list[float], f: float, up: bool = False) -> list[float]:
    """``box`` moved by ``f`` of its width (or height): IoU (1 - f) / (1 + f) with it."""
    x, y, w, h = box
    return [x, round(y + f * h, 4), w, h] if up else [round(x + f * w, 4), y, w, h]


def _score(rng: np.random.Generator, ties: bool) -> float:
    return float(rng.integers(1, 6)) / 5 if ties else round(float(rng.uniform(0.05, 1.0)), 6)


def _background(scene: Scene, rng: np.random.Generator, image: int, cat: int,
                score: float) -> None:
    """A detection in the image's far corner (GT are drawn elsewhere by the cases)."""
    scene.add_det(image, cat, score, box=[float(rng.integers(0, 5)), float(rng.integers(0, 5)),
                                          4.0, 4.0])


def case_duplicates(rng: np.random.Generator) -> Scene:
    """Several same-class detections on one GT: one TP, the rest duplicates."""
    scene = _scene(2)
    for image in (100, 107):
        box = _gt(scene, rng, image, 1)
        for k in range(4):
            scene.add_det(image, 1, _score(rng, ties=k % 2 == 0), box=_shifted(box, 0.05 * k))
    return scene


def case_class_confusion(rng: np.random.Generator) -> Scene:
    """Right place, wrong class: on a GT nobody matched (fixable) and on a matched one."""
    scene = _scene(2)
    a = _gt(scene, rng, 100, 1)
    b = _gt(scene, rng, 100, 2)
    scene.add_det(100, 3, 0.9, box=_shifted(a, 0.1))
    scene.add_det(100, 5, 0.8, box=_shifted(a, 0.2))  # second Cls error on the same GT
    scene.add_det(100, 2, 0.7, box=b)
    scene.add_det(100, 1, 0.95, box=_shifted(b, 0.1))  # Cls on a used GT: not fixable
    c = _gt(scene, rng, 107, 3)
    scene.add_det(107, 1, 0.6, box=c)
    return scene


def case_localisation(rng: np.random.Generator) -> Scene:
    """Poor boxes (IoU in [0.1, 0.5]), several on one GT, and one on a used GT."""
    scene = _scene(2)
    a = _gt(scene, rng, 100, 1)
    for f in (0.4, 0.5, 0.7):
        scene.add_det(100, 1, _score(rng, ties=True), box=_shifted(a, f))
    b = _gt(scene, rng, 107, 2)
    scene.add_det(107, 2, 0.9, box=b)
    scene.add_det(107, 2, 0.5, box=_shifted(b, 0.6, up=True))
    return scene


def case_both(rng: np.random.Generator) -> Scene:
    """Wrong class and poorly localised: "both" (fixed by dropping it)."""
    scene = _scene(1)
    a = _gt(scene, rng, 100, 1)
    scene.add_det(100, 2, 0.9, box=_shifted(a, 0.6))
    scene.add_det(100, 1, 0.3, box=a)
    return scene


def case_background_and_missed(rng: np.random.Generator) -> Scene:
    """Detections far from any GT, GT nobody found, an image without GT, one without
    detections, and a category with detections but no GT at all."""
    scene = _scene(4)
    _gt(scene, rng, 100, 1)
    _gt(scene, rng, 100, 2)
    box = _gt(scene, rng, 107, 1)
    _gt(scene, rng, 121, 3)  # image 121: GT only
    scene.add_det(107, 1, 0.8, box=box)
    for image in (100, 107, 114):  # image 114: detections only
        _background(scene, rng, image, int(rng.choice([1, 2, 5])), _score(rng, ties=False))
    return scene


def case_crowd(rng: np.random.Generator) -> Scene:
    """Crowd regions: unmatched detections of the crowd's class inside it are ignored (crowd
    IoU > 0.5), others not; an ignored detection can still be a fixable Loc error."""
    scene = _scene(2)
    crowd = _gt(scene, rng, 100, 1, iscrowd=1)
    scene.add_det(100, 1, 0.9, box=_shifted(crowd, 0.2))
    scene.add_det(100, 2, 0.8, box=_shifted(crowd, 0.2))  # other class: not ignored
    scene.add_det(100, 1, 0.7, box=_shifted(crowd, 0.6))  # crowd IoU 0.4: not ignored
    crowd_b = [20.0, 20.0, 60.0, 60.0]
    scene.add_rect_gt(107, 2, 20, 20, 60, 60, iscrowd=1)
    scene.add_rect_gt(107, 2, 20, 20, 30, 30)
    scene.add_det(107, 2, 0.95, box=[35.0, 20.0, 30.0, 30.0])  # Loc on the GT, inside crowd
    scene.add_det(107, 2, 0.4, box=[38.0, 20.0, 30.0, 30.0])
    scene.add_det(107, 2, 0.6, box=crowd_b)
    return scene


def case_exact_thresholds(rng: np.random.Generator) -> Scene:
    """IoU exactly 0.5 (matches; on a used GT: Loc, not Dupe) and exactly 0.1 (Loc)."""
    scene = _scene(3)
    a = [10.0, 10.0, 30.0, 30.0]
    scene.add_rect_gt(100, 1, 10, 10, 30, 30)
    scene.add_det(100, 1, 0.9, box=_shifted(a, 1 / 3))  # IoU 0.5: a TP
    scene.add_det(100, 1, 0.8, box=a)  # best is the used GT at IoU 1: duplicate
    scene.add_rect_gt(107, 1, 10, 10, 30, 30)
    scene.add_det(107, 1, 0.9, box=a)
    scene.add_det(107, 1, 0.8, box=_shifted(a, 1 / 3))  # IoU 0.5 with a used GT: Loc
    scene.add_rect_gt(114, 2, 10, 10, 30, 30)
    scene.add_det(114, 2, 0.7, box=[37.0, 10.0, 3.0, 30.0])  # IoU 0.1 exactly
    scene.add_det(114, 3, 0.6, box=[37.0, 10.0, 3.0, 30.0])
    return scene


def case_equal_iou(rng: np.random.Generator) -> Scene:
    """Equal IoU with two GT: tidecv takes the first in annotation order, for matching and
    for the GT an error points at."""
    scene = _scene(1)
    scene.add_rect_gt(100, 1, 10, 10, 20, 20)
    scene.add_rect_gt(100, 1, 30, 10, 20, 20)
    scene.add_rect_gt(100, 2, 10, 50, 20, 20)
    scene.add_rect_gt(100, 2, 30, 50, 20, 20)
    scene.add_det(100, 1, 0.9, box=[20.0, 10.0, 20.0, 20.0])  # IoU 1/3 with both
    scene.add_det(100, 3, 0.8, box=[20.0, 50.0, 20.0, 20.0])
    scene.add_det(100, 2, 0.7, box=[10.0, 50.0, 40.0, 20.0])  # IoU 0.5 with both
    return scene


def case_score_ties(rng: np.random.Generator) -> Scene:
    """TPs and FPs of one class with equal scores, within and across images."""
    scene = _scene(3)
    for image in (100, 107, 114):
        for _ in range(3):
            box = _gt(scene, rng, image, 1)
            scene.add_det(image, 1, 0.5, box=box if rng.random() < 0.6 else _shifted(box, 0.5))
        _background(scene, rng, image, 1, 0.5)
    return scene


def case_many_detections(rng: np.random.Generator) -> Scene:
    """More than 100 detections in an image, with a score tie across the cut."""
    scene = _scene(2)
    boxes = [_gt(scene, rng, 100, int(rng.choice([1, 2]))) for _ in range(6)]
    for k in range(130):
        box = boxes[k % 6]
        scene.add_det(100, int(rng.choice([1, 2, 3])), 0.5 if 90 <= k < 110 else
                      _score(rng, ties=False), box=_shifted(box, float(rng.uniform(0, 0.9))))
    _gt(scene, rng, 107, 1)
    _background(scene, rng, 107, 1, 0.2)
    return scene


def tide_mixed(rng: np.random.Generator) -> Scene:
    """Random images mixing every error kind, crowd regions and tied scores."""
    scene = _scene(int(rng.integers(3, 8)), categories=(1, 2, 3, 5, 8))
    cats = [1, 2, 3, 5]  # 8: listed, never annotated
    ties = bool(rng.random() < 0.5)
    for image in [img["id"] for img in scene.images]:
        for _ in range(int(rng.integers(0, 6))):
            cat = int(rng.choice(cats))
            crowd = rng.random() < 0.1
            box = _gt(scene, rng, image, cat, iscrowd=int(crowd))
            for kind in rng.choice(6, size=int(rng.integers(0, 4))).tolist():
                other = int(rng.choice([c for c in [*cats, 8] if c != cat]))
                f = float(rng.choice([0.0, 0.1, 1 / 3, 0.5, 0.7, 9 / 11]))
                det_cat = cat if kind in (0, 1, 2) else other
                scene.add_det(image, det_cat, _score(rng, ties), box=_shifted(box, f, kind == 2))
        for _ in range(int(rng.integers(0, 3))):
            _background(scene, rng, image, int(rng.choice([*cats, 8])), _score(rng, ties))
    if not any(a["iscrowd"] == 0 for a in scene.annotations):  # else tidecv divides by 0
        image = scene.images[0]["id"]
        scene.add_det(image, 1, 0.5, box=_gt(scene, rng, image, 1))
    return scene


TIDE_CASES: dict[str, Case] = {
    "duplicates": case_duplicates,
    "class_confusion": case_class_confusion,
    "localisation": case_localisation,
    "both": case_both,
    "background_and_missed": case_background_and_missed,
    "crowd": case_crowd,
    "exact_thresholds": case_exact_thresholds,
    "equal_iou": case_equal_iou,
    "score_ties": case_score_ties,
    "many_detections": case_many_detections,
}
TIDE_CASE_NAMES: tuple[str, ...] = tuple(TIDE_CASES)


def make_tide_case(name: str, iou_type: str, seed: int = 0
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(gt_dict, results_list)`` of a named case (or ``"mixed"``) for ``"bbox"``/``"segm"``."""
    rng = np.random.default_rng(seed)
    scene = tide_mixed(rng) if name == "mixed" else TIDE_CASES[name](rng)
    return scene.render(iou_type)
