"""A real client, live: torchmetrics' ``MeanAveragePrecision(backend="pycocotools")`` on
seeded inputs, once with real pycocotools and once after ``init_as_pycocotools()``: equal
results. Needs torch, torchvision and torchmetrics: a separate venv and command (the README's), as
torchvision needs the several-GB torch 2.14.1 build that the test extra's torch 2.13.0 CPU
build excludes."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
import torch
import torchvision  # noqa: F401  (MeanAveragePrecision needs it)
from torchmetrics import detection

from benchmark_eval import compat

_MODULES = ("pycocotools", "pycocotools.coco", "pycocotools.cocoeval", "pycocotools.mask")


def _inputs(seed: int, masks: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    preds, target = [], []
    for _ in range(6):
        n_gt, n_dt = int(rng.integers(1, 6)), int(rng.integers(0, 9))
        xy = rng.uniform(0, 60, (n_gt, 2))
        gt_boxes = np.c_[xy, xy + rng.uniform(5, 40, (n_gt, 2))]
        pick = rng.integers(0, n_gt, n_dt)
        dt_boxes = gt_boxes[pick] + rng.normal(0, 4, (n_dt, 4))
        dt_boxes[:, 2:] = np.maximum(dt_boxes[:, 2:], dt_boxes[:, :2] + 1)
        t = {"boxes": torch.tensor(gt_boxes, dtype=torch.float32),
             "labels": torch.tensor(rng.integers(0, 3, n_gt))}
        p = {"boxes": torch.tensor(dt_boxes, dtype=torch.float32),
             "scores": torch.tensor(rng.uniform(0, 1, n_dt), dtype=torch.float32),
             "labels": torch.tensor(rng.integers(0, 3, n_dt))}
        if masks:
            t["masks"] = _masks(gt_boxes)
            p["masks"] = _masks(dt_boxes)
        target.append(t)
        preds.append(p)
    return preds, target


def _masks(boxes: np.ndarray) -> Any:
    out = np.zeros((len(boxes), 100, 100), dtype=bool)
    for i, (x0, y0, x1, y1) in enumerate(np.clip(boxes, 0, 100).astype(int)):
        out[i, y0:y1, x0:x1] = True
    return torch.tensor(out)


def _compute(iou_type: str, seed: int) -> dict[str, Any]:
    metric = detection.MeanAveragePrecision(backend="pycocotools", iou_type=iou_type,
                                            class_metrics=True)
    preds, target = _inputs(seed, iou_type == "segm")
    metric.update(preds[:3], target[:3])
    metric.update(preds[3:], target[3:])
    return {k: v.numpy() for k, v in metric.compute().items()}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_torchmetrics_gives_the_same_results(iou_type: str, seed: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    real = _compute(iou_type, seed)
    for name in _MODULES:
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name))
    compat.init_as_pycocotools()
    ours = _compute(iou_type, seed)
    assert set(ours) == set(real)
    for key, value in real.items():
        np.testing.assert_allclose(ours[key], value, rtol=0, atol=1e-6, err_msg=key)
