"""The Cityscapes label table, declared once, with lookups by id, train id and name.

The 35 labels of cityscapesScripts 2.3.0 ``helpers/labels.py``: every Cityscapes protocol,
adapter and converter reads them from here. Ids ``0 .. 33`` appear in ``*_labelIds.png``;
``license plate`` has id -1 and is never painted. Instance-id maps hold ``id * 1000 + k`` for
individual objects and the plain label id for group regions (``cargroup`` ...) and for
classes without instances.

Example:
    >>> LABEL_BY_NAME["car"].id, LABEL_BY_ID[26].train_id, LABEL_BY_TRAIN_ID[255].name
    (26, 13, 'unlabeled')
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "EVAL_LABEL_IDS",
    "INSTANCE_CLASSES",
    "LABELS",
    "LABEL_BY_ID",
    "LABEL_BY_NAME",
    "LABEL_BY_TRAIN_ID",
    "NUM_LABEL_IDS",
    "VOID_LABEL_IDS",
    "CityscapesLabel",
    "category_label_ids",
    "id_to_train_id_table",
    "train_id_to_id_table",
]

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class CityscapesLabel:
    """One row of the label table.

    Attributes:
        name: Unique name, e.g. ``"car"``.
        id: Value in label-id maps (``-1``: never painted).
        train_id: Value in train-id maps (255: ignored in training; -1: never painted).
        category: Category name, e.g. ``"vehicle"``.
        category_id: Category index ``0 .. 7``.
        has_instances: Objects of this class are annotated one by one.
        ignore_in_eval: Pixels with this ground truth are left out of every evaluation.
        color: RGB colour of the official colour maps.
    """

    name: str
    id: int
    train_id: int
    category: str
    category_id: int
    has_instances: bool
    ignore_in_eval: bool
    color: tuple[int, int, int]


def _label(row: tuple[str, int, int, str, int, int, int, tuple[int, int, int]]
           ) -> CityscapesLabel:
    name, id_, train_id, category, category_id, instances, ignore, color = row
    return CityscapesLabel(name, id_, train_id, category, category_id, bool(instances),
                           bool(ignore), color)


# name, id, trainId, category, categoryId, hasInstances, ignoreInEval, color
LABELS: tuple[CityscapesLabel, ...] = tuple(_label(r) for r in (
    ("unlabeled", 0, 255, "void", 0, 0, 1, (0, 0, 0)),
    ("ego vehicle", 1, 255, "void", 0, 0, 1, (0, 0, 0)),
    ("rectification border", 2, 255, "void", 0, 0, 1, (0, 0, 0)),
    ("out of roi", 3, 255, "void", 0, 0, 1, (0, 0, 0)),
    ("static", 4, 255, "void", 0, 0, 1, (0, 0, 0)),
    ("dynamic", 5, 255, "void", 0, 0, 1, (111, 74, 0)),
    ("ground", 6, 255, "void", 0, 0, 1, (81, 0, 81)),
    ("road", 7, 0, "flat", 1, 0, 0, (128, 64, 128)),
    ("sidewalk", 8, 1, "flat", 1, 0, 0, (244, 35, 232)),
    ("parking", 9, 255, "flat", 1, 0, 1, (250, 170, 160)),
    ("rail track", 10, 255, "flat", 1, 0, 1, (230, 150, 140)),
    ("building", 11, 2, "construction", 2, 0, 0, (70, 70, 70)),
    ("wall", 12, 3, "construction", 2, 0, 0, (102, 102, 156)),
    ("fence", 13, 4, "construction", 2, 0, 0, (190, 153, 153)),
    ("guard rail", 14, 255, "construction", 2, 0, 1, (180, 165, 180)),
    ("bridge", 15, 255, "construction", 2, 0, 1, (150, 100, 100)),
    ("tunnel", 16, 255, "construction", 2, 0, 1, (150, 120, 90)),
    ("pole", 17, 5, "object", 3, 0, 0, (153, 153, 153)),
    ("polegroup", 18, 255, "object", 3, 0, 1, (153, 153, 153)),
    ("traffic light", 19, 6, "object", 3, 0, 0, (250, 170, 30)),
    ("traffic sign", 20, 7, "object", 3, 0, 0, (220, 220, 0)),
    ("vegetation", 21, 8, "nature", 4, 0, 0, (107, 142, 35)),
    ("terrain", 22, 9, "nature", 4, 0, 0, (152, 251, 152)),
    ("sky", 23, 10, "sky", 5, 0, 0, (70, 130, 180)),
    ("person", 24, 11, "human", 6, 1, 0, (220, 20, 60)),
    ("rider", 25, 12, "human", 6, 1, 0, (255, 0, 0)),
    ("car", 26, 13, "vehicle", 7, 1, 0, (0, 0, 142)),
    ("truck", 27, 14, "vehicle", 7, 1, 0, (0, 0, 70)),
    ("bus", 28, 15, "vehicle", 7, 1, 0, (0, 60, 100)),
    ("caravan", 29, 255, "vehicle", 7, 1, 1, (0, 0, 90)),
    ("trailer", 30, 255, "vehicle", 7, 1, 1, (0, 0, 110)),
    ("train", 31, 16, "vehicle", 7, 1, 0, (0, 80, 100)),
    ("motorcycle", 32, 17, "vehicle", 7, 1, 0, (0, 0, 230)),
    ("bicycle", 33, 18, "vehicle", 7, 1, 0, (119, 11, 32)),
    ("license plate", -1, -1, "vehicle", 7, 0, 1, (0, 0, 142)),
))

LABEL_BY_ID = MappingProxyType({lb.id: lb for lb in LABELS})
LABEL_BY_NAME = MappingProxyType({lb.name: lb for lb in LABELS})
LABEL_BY_TRAIN_ID = MappingProxyType({lb.train_id: lb for lb in reversed(LABELS)})
"""Train id -> label; where several labels share a train id the first in the table wins
(255 -> ``unlabeled``), as the official inverse mapping."""

NUM_LABEL_IDS = 1 + max(lb.id for lb in LABELS)
"""34: label ids are ``0 .. 33``."""

CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(lb.category for lb in LABELS))
"""Category names in table order: void, flat, construction, object, nature, sky, human,
vehicle."""

EVAL_LABEL_IDS: tuple[int, ...] = tuple(lb.id for lb in LABELS
                                        if lb.id >= 0 and not lb.ignore_in_eval)
"""The 19 evaluated label ids, ascending."""

VOID_LABEL_IDS: tuple[int, ...] = tuple(lb.id for lb in LABELS if lb.ignore_in_eval)
"""Label ids ignored in evaluation (including -1, license plate)."""

INSTANCE_CLASSES: tuple[str, ...] = tuple(lb.name for lb in LABELS
                                          if lb.has_instances and not lb.ignore_in_eval)
"""The 8 classes of instance-level evaluation, in table order."""


def category_label_ids(category: str, *, evaluated_only: bool) -> tuple[int, ...]:
    """Label ids (``>= 0``) of a category, optionally only those not ignored in evaluation."""
    return tuple(lb.id for lb in LABELS if lb.category == category and lb.id >= 0
                 and not (evaluated_only and lb.ignore_in_eval))


def train_id_to_id_table() -> np.ndarray:
    """``(256,)`` int16: label id of each train-id value, -1 where it is not a train id."""
    table = np.full(256, -1, dtype=np.int16)
    for train_id, label in LABEL_BY_TRAIN_ID.items():
        if 0 <= train_id < 256 and label.id >= 0:
            table[train_id] = label.id
    return table


def id_to_train_id_table() -> np.ndarray:
    """``(NUM_LABEL_IDS,)`` uint8: train id of each label id."""
    return np.array([LABEL_BY_ID[i].train_id for i in range(NUM_LABEL_IDS)], dtype=np.uint8)
