"""Images, categories and instance annotations as columns of numpy arrays.

One row per object. Masks are pycocotools compressed RLE dicts (``{"size", "counts"}``)
kept in a list aligned with the rows; every other field is an array.
"""

from __future__ import annotations

__all__ = [
    "Categories",
    "IdTable",
    "Images",
    "InstanceDataset",
    "Instances",
    "MaskRuns",
    "ObjectColumns",
    "Predictions",
    "lookup_rows",
]

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class IdTable:
    """A table whose rows are keyed by unique ``ids`` (images, categories)."""

    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Row index of each id in ``ids``; -1 for ids not in the table."""
        return lookup_rows(self.ids, ids)


@dataclass(frozen=True)
class Images(IdTable):
    """Image table.

    Attributes:
        ids: Image ids, shape ``(I,)``, int64, unique.
        heights: Pixel heights, shape ``(I,)``, int64.
        widths: Pixel widths, shape ``(I,)``, int64.
        file_names: File name per image ("" when absent).
    """

    ids: np.ndarray
    heights: np.ndarray
    widths: np.ndarray
    file_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Categories(IdTable):
    """Category table.

    Attributes:
        ids: Category ids, shape ``(K,)``, int64, unique.
        names: Category names ("" when absent).
        records: The raw category records, for converters that must write them back.
    """

    ids: np.ndarray
    names: tuple[str, ...]
    records: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class MaskRuns:
    """Decoded run-length masks, all objects in one buffer.

    Runs alternate background / foreground starting with background, in column-major pixel
    order (pycocotools' RLE convention).

    Attributes:
        runs: Run lengths, uint32, all masks concatenated.
        offsets: Mask ``i`` is ``runs[offsets[i]:offsets[i + 1]]``, shape ``(N + 1,)``, int64.
        areas: Foreground pixels per mask, shape ``(N,)``, int64.
        boxes: A box containing each mask, ``[x, y, w, h]``, shape ``(N, 4)``, float64 (as
            pycocotools ``rleToBbox``: a run crossing columns spans the full height).
    """

    runs: np.ndarray
    offsets: np.ndarray
    areas: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        """Masks in the buffer."""
        return len(self.areas)


@dataclass(frozen=True, kw_only=True)
class ObjectColumns:
    """The columns ground-truth objects and detections share, one row per object.

    Attributes:
        image_ids: Image id per object, int64.
        category_ids: Category id per object, int64.
        areas: Area used for size buckets (pixels), float64.
        boxes: ``[x, y, w, h]``, shape ``(N, 4)``, float64, or ``None`` if not loaded.
        masks: Compressed RLE per object, or ``None`` if not loaded.
        mask_runs: The masks decoded (when the C kernel is available), aligned with rows.
    """

    image_ids: np.ndarray
    category_ids: np.ndarray
    areas: np.ndarray
    boxes: np.ndarray | None = None
    masks: list[dict[str, Any]] | None = None
    mask_runs: MaskRuns | None = None

    def __len__(self) -> int:
        return len(self.image_ids)


@dataclass(frozen=True, kw_only=True)
class Instances(ObjectColumns):
    """Ground-truth objects: :class:`ObjectColumns` (``areas``: the ``area`` field) and

    Attributes:
        ids: Annotation ids, shape ``(N,)``, int64.
        iscrowd: Crowd flag, bool.
        has_ignore: Whether the record carried an ``ignore`` field, bool.
        ignore: The ``ignore`` field's value (False when absent), bool. pycocotools replaces
            it by ``iscrowd``; lvis-api and boundary-iou-api honour it.
    """

    ids: np.ndarray
    iscrowd: np.ndarray
    has_ignore: np.ndarray | None = None
    ignore: np.ndarray | None = None


@dataclass(frozen=True, kw_only=True)
class Predictions(ObjectColumns):
    """Detections, in results-file order: :class:`ObjectColumns` (``areas``: box or mask
    area, as pycocotools ``loadRes`` decides from the first record) and

    Attributes:
        scores: Confidence, float64.
        area_from_box: True when ``areas`` came from the boxes.
    """

    scores: np.ndarray
    area_from_box: bool = False


@dataclass(frozen=True)
class InstanceDataset:
    """A ground-truth instance dataset: images, categories and objects.

    Attributes:
        images: The image table.
        categories: The category table.
        instances: The annotated objects.
        source: Where it came from (file path or ``"<gt>"``), used in messages.
    """

    images: Images
    categories: Categories
    instances: Instances
    source: str = "<gt>"
    info: dict[str, Any] = field(default_factory=dict)


def lookup_rows(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Vectorised dictionary lookup: position of each key in ``table``, -1 if absent."""
    keys = np.asarray(keys, dtype=np.int64)
    if len(table) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    order = np.argsort(table, kind="stable")
    sorted_ids = table[order]
    pos = np.searchsorted(sorted_ids, keys)
    pos_clipped = np.minimum(pos, len(table) - 1)
    found = sorted_ids[pos_clipped] == keys
    return np.where(found, order[pos_clipped], -1)
