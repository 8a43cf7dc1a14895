"""Panoptic data in the common schema: segment-id maps plus segments tables.

A panoptic image is a map of segment ids, shape ``(H, W)`` (0 = VOID), and a table with one
row per segment (COCO panoptic's ``segments_info``). A dataset keeps every image's segments in
one flat table with offsets, so no per-segment Python objects exist. No file IO here.
"""

from __future__ import annotations

__all__ = [
    "MAX_SEGMENT_ID",
    "VOID",
    "PanopticCategories",
    "PanopticDataset",
    "PanopticFrame",
    "Segments",
]

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark_eval.schema.instances import IdTable, Images, lookup_rows

VOID = 0  # segment id of unlabelled pixels (RGB 0, 0, 0 in COCO panoptic PNGs)
MAX_SEGMENT_ID = 256**3 - 1  # largest id an RGB pixel can encode (R + 256 G + 256² B)


@dataclass(frozen=True)
class PanopticCategories(IdTable):
    """Category table of a panoptic dataset.

    Attributes:
        ids: Category ids, shape ``(K,)``, int64, unique, in file order.
        names: Category names ("" when absent).
        isthing: Thing (True) or stuff (False) per category, shape ``(K,)``, bool.
        records: The raw category records, for converters that write them back.
    """

    ids: np.ndarray
    names: tuple[str, ...]
    isthing: np.ndarray
    records: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Segments:
    """A segments table (``segments_info``), of one image or of many concatenated.

    Attributes:
        ids: Segment ids, shape ``(N,)``, int64, in ``1 .. MAX_SEGMENT_ID``.
        category_ids: Category id per segment, int64.
        iscrowd: Crowd flag, bool.
        areas: The ``area`` field in pixels, float64; NaN where the file has none
            (predictions: their areas come from the PNG).
    """

    ids: np.ndarray
    category_ids: np.ndarray
    iscrowd: np.ndarray
    areas: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, rows: slice | np.ndarray) -> Segments:
        return Segments(ids=self.ids[rows], category_ids=self.category_ids[rows],
                        iscrowd=self.iscrowd[rows], areas=self.areas[rows])

    @classmethod
    def empty(cls) -> Segments:
        """A table without rows."""
        z = np.zeros(0, dtype=np.int64)
        return cls(ids=z, category_ids=z, iscrowd=np.zeros(0, dtype=bool),
                   areas=np.zeros(0, dtype=np.float64))

    @classmethod
    def build(cls, ids: Any, category_ids: Any, iscrowd: Any = None,
              areas: Any = None) -> Segments:
        """A table from sequences (iscrowd defaults to 0, areas to NaN)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        n = len(ids)
        return cls(
            ids=ids, category_ids=np.asarray(category_ids, dtype=np.int64).reshape(n),
            iscrowd=(np.zeros(n, dtype=bool) if iscrowd is None
                     else np.asarray(iscrowd, dtype=bool).reshape(n)),
            areas=(np.full(n, np.nan) if areas is None
                   else np.asarray(areas, dtype=np.float64).reshape(n)),
        )


@dataclass(frozen=True)
class PanopticFrame:
    """One panoptic image in memory.

    Attributes:
        image_id: The image id.
        id_map: Segment id per pixel, shape ``(H, W)``, int64, 0 = VOID.
        segments: The image's segments table.
    """

    image_id: int
    id_map: np.ndarray
    segments: Segments


@dataclass(frozen=True)
class PanopticDataset:
    """The JSON half of a COCO panoptic dataset or prediction (the PNGs stay on disk).

    Attributes:
        image_ids: Image id per annotation record, shape ``(I,)``, int64, unique.
        file_names: PNG file name per annotation record.
        categories: The category table (a prediction uses its ground truth's).
        segments: Every image's segments, concatenated in annotation order.
        offsets: Image ``i`` owns ``segments[offsets[i]:offsets[i + 1]]``, shape ``(I + 1,)``.
        images: The ``images`` table when the file has one (sizes, original file names).
        source: Where it came from (file path or ``"<gt>"`` / ``"<pred>"``), for messages.
        info: The file's ``info`` object, for converters.
    """

    image_ids: np.ndarray
    file_names: tuple[str, ...]
    categories: PanopticCategories
    segments: Segments
    offsets: np.ndarray
    images: Images | None = None
    source: str = "<gt>"
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.image_ids)

    def image_segments(self, i: int) -> Segments:
        """The segments table of annotation record ``i``."""
        return self.segments[int(self.offsets[i]):int(self.offsets[i + 1])]

    def lookup(self, image_ids: np.ndarray) -> np.ndarray:
        """Annotation row of each image id; -1 for ids without a record."""
        return lookup_rows(self.image_ids, image_ids)
