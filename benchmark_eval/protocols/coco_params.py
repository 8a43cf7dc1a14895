"""Parameters of the COCO instance protocols (``coco-bbox``, ``coco-segm``, ``coco-boundary``).

The defaults reproduce pycocotools 2.0.11 ``cocoeval.Params.setDetParams``; ``coco-boundary``
adds boundary-iou-api's ``dilation_ratio`` (:class:`BoundaryParams`).
"""

from __future__ import annotations

__all__ = ["AreaRange", "BoundaryParams", "CocoParams", "official_iou_thresholds",
           "official_recall_thresholds"]

import itertools
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from benchmark_eval.masks.boundary import DEFAULT_DILATION_RATIO


def official_iou_thresholds() -> tuple[float, ...]:
    """0.50:0.05:0.95 built with ``np.linspace`` as pycocotools does.

    ``np.arange`` would give 0.8500000000000001 where linspace gives 0.85; the summary's
    ``iouThr == .75`` lookup relies on the linspace values.
    """
    return tuple(float(x) for x in np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1))


def official_recall_thresholds() -> tuple[float, ...]:
    """0:0.01:1 (101 points) built with ``np.linspace`` as pycocotools does."""
    return tuple(float(x) for x in np.linspace(0.0, 1.0, int(np.round((1.0 - 0.0) / 0.01)) + 1))


class AreaRange(BaseModel):
    """A named, inclusive range of GT ``area`` (pixels): ``lo <= area <= hi`` is in range."""

    model_config = ConfigDict(frozen=True)

    label: str
    lo: float
    hi: float


_OFFICIAL_AREAS = (
    AreaRange(label="all", lo=0.0**2, hi=1e5**2),
    AreaRange(label="small", lo=0.0**2, hi=32.0**2),
    AreaRange(label="medium", lo=32.0**2, hi=96.0**2),
    AreaRange(label="large", lo=96.0**2, hi=1e5**2),
)


class CocoParams(BaseModel):
    """Evaluation parameters; the defaults are the official COCO detection preset.

    Attributes:
        iou_thresholds: IoU thresholds ``t``; a match needs ``IoU >= t``.
        recall_thresholds: Recall points at which interpolated precision is sampled.
        max_detections: Detections kept per image and category, highest score first
            (sorted ascending, as pycocotools sorts ``maxDets``).
        area_ranges: Size buckets on the GT ``area`` field (and the detection's area for
            unmatched detections). The first range is the one per-class metrics use.
            ``recall_thresholds`` and ``area_ranges`` may be empty, as in pycocotools
            (then AP, resp. every value, is undefined).
        class_agnostic: Match detections to GT of any category (pycocotools ``useCats=0``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    iou_thresholds: Annotated[tuple[float, ...], Field(min_length=1)] = Field(
        default_factory=official_iou_thresholds
    )
    # pycocotools accepts empty recThrs (every AP -1) and areaRng (every stat -1)
    recall_thresholds: tuple[float, ...] = Field(default_factory=official_recall_thresholds)
    max_detections: Annotated[tuple[int, ...], Field(min_length=1)] = (1, 10, 100)
    area_ranges: tuple[AreaRange, ...] = _OFFICIAL_AREAS
    class_agnostic: bool = False

    @field_validator("max_detections")
    @classmethod
    def _sorted_positive(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(m < 1 for m in v):
            raise ValueError(f"max_detections must be >= 1, got {list(v)}")
        return tuple(sorted(v))

    @field_validator("iou_thresholds", "recall_thresholds")
    @classmethod
    def _unit_interval(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not (0.0 <= x <= 1.0) for x in v):
            raise ValueError(f"thresholds must lie in [0, 1], got {list(v)}")
        return v

    @field_validator("recall_thresholds")
    @classmethod
    def _ascending(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        # precision is sampled at the first detection reaching each recall threshold in turn
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError(f"recall_thresholds must be strictly ascending, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _unique_area_labels(self) -> CocoParams:
        labels = [a.label for a in self.area_ranges]
        if len(set(labels)) != len(labels):
            raise ValueError(f"area range labels must be unique, got {labels}")
        return self

    @property
    def iou_array(self) -> np.ndarray:
        """IoU thresholds as a float64 array, shape ``(T,)``."""
        return np.asarray(self.iou_thresholds, dtype=np.float64)

    @property
    def recall_array(self) -> np.ndarray:
        """Recall thresholds as a float64 array, shape ``(R,)``."""
        return np.asarray(self.recall_thresholds, dtype=np.float64)

    @property
    def area_array(self) -> np.ndarray:
        """Area bounds, shape ``(A, 2)``, float64."""
        return np.asarray([[a.lo, a.hi] for a in self.area_ranges],
                          dtype=np.float64).reshape(-1, 2)


class BoundaryParams(CocoParams):
    """Parameters of ``coco-boundary``: the COCO preset plus the boundary band width.

    Attributes:
        boundary_dilation_ratio: Band width as a fraction of the image diagonal,
            ``d = max(1, round(ratio * sqrt(h² + w²)))`` (boundary-iou-api
            ``COCOeval(dilation_ratio=0.02)``).
    """

    boundary_dilation_ratio: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = (
        DEFAULT_DILATION_RATIO)
