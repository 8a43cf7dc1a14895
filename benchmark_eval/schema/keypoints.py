"""Keypoints of ground-truth objects and detections, as arrays aligned with their rows."""

from __future__ import annotations

__all__ = ["KeypointDataset", "Keypoints"]

from dataclasses import dataclass

import numpy as np

from benchmark_eval.schema.instances import InstanceDataset


@dataclass(frozen=True)
class Keypoints:
    """COCO ``keypoints`` triplets ``[x1, y1, v1, x2, ...]`` of N objects.

    Attributes:
        xy: Coordinates, shape ``(N, J, 2)``, float64; ``J`` is the largest count, slots
            past an object's own count are 0.
        flags: The third value of each triplet, shape ``(N, J)``, float64: the GT
            visibility flag (0 not labelled, 1 labelled but hidden, 2 visible); for
            detections whatever the file holds (pycocotools does not read it).
        counts: Keypoints of each object, shape ``(N,)``, int64.
    """

    xy: np.ndarray
    flags: np.ndarray
    counts: np.ndarray


@dataclass(frozen=True)
class KeypointDataset:
    """A COCO keypoints ground truth: the instance dataset and its keypoints.

    Attributes:
        dataset: Images, categories, objects (with ``bbox``, ``area``, ``iscrowd``).
        keypoints: Per object, aligned with ``dataset.instances``.
        num_keypoints: The ``num_keypoints`` field per object, int64.
        category_counts: Keypoints per category, aligned with ``dataset.categories``
            (``len(keypoints)`` of the category record, else the count its annotations
            share); -1 where unknown (no names and no annotations).
    """

    dataset: InstanceDataset
    keypoints: Keypoints
    num_keypoints: np.ndarray
    category_counts: np.ndarray
