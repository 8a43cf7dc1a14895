"""Parameters of ``coco-keypoints``: pycocotools 2.0.11 ``cocoeval.Params.setKpParams``.

The engine parameters are :class:`~benchmark_eval.protocols.coco_params.CocoParams` with the
keypoint defaults (``maxDets = [20]``, area ranges all / medium / large) plus the per-keypoint
OKS constants ``kpt_oks_sigmas``.
"""

from __future__ import annotations

__all__ = ["COCO_OKS_SIGMAS", "CROWDPOSE_OKS_SIGMAS", "CrowdPoseParams", "KeypointsParams"]

from typing import Annotated

import numpy as np
from pydantic import Field, field_validator, model_validator

from benchmark_eval.protocols.coco_params import AreaRange, CocoParams

# The 17 person keypoints' sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
# ankles), as pycocotools writes them: the array of tenths divided by 10.0, so each value is
# exactly what ``np.array([.26, ...]) / 10.0`` gives (0.026000000000000002, not 0.026).
COCO_OKS_SIGMAS: tuple[float, ...] = tuple(float(s) for s in np.array(
    [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]
) / 10.0)

_KEYPOINT_AREAS = (
    AreaRange(label="all", lo=0.0**2, hi=1e5**2),
    AreaRange(label="medium", lo=32.0**2, hi=96.0**2),
    AreaRange(label="large", lo=96.0**2, hi=1e5**2),
)

Sigmas = Annotated[tuple[Annotated[float, Field(gt=0.0, allow_inf_nan=False)], ...],
                   Field(min_length=1)]


class KeypointsParams(CocoParams):
    """Parameters of ``coco-keypoints``; the defaults are the official COCO keypoint preset.

    Attributes:
        max_detections: ``(20,)`` (``Params.maxDets``); the summary looks up 20.
        area_ranges: all / medium / large on the GT ``area``.
        class_agnostic: Must stay False (pycocotools' ``computeOks`` finds no pairs
            under ``useCats=0``, so every detection is a false positive).
        kpt_oks_sigmas: Per-keypoint OKS constants ``σ``: one list for every category
            (pycocotools' single ``kpt_oks_sigmas``), or ``{category_id: list}`` to give
            categories their own (a category not in the mapping uses the COCO 17). A
            category's list must have as many values as it has keypoints.
    """

    max_detections: Annotated[tuple[int, ...], Field(min_length=1)] = (20,)
    area_ranges: Annotated[tuple[AreaRange, ...], Field(min_length=1)] = _KEYPOINT_AREAS
    kpt_oks_sigmas: Sigmas | dict[int, Sigmas] = COCO_OKS_SIGMAS

    @field_validator("kpt_oks_sigmas")
    @classmethod
    def _some_categories(cls, v: tuple[float, ...] | dict[int, tuple[float, ...]]
                         ) -> tuple[float, ...] | dict[int, tuple[float, ...]]:
        if isinstance(v, dict) and not v:
            raise ValueError("kpt_oks_sigmas: give a list, or a non-empty {category_id: list}")
        return v

    @model_validator(mode="after")
    def _per_category(self) -> KeypointsParams:
        # computeOks reads self._gts[imgId, -1] under useCats=0, which is always empty, so
        # pycocotools matches nothing: no official number to reproduce
        if self.class_agnostic:
            raise ValueError("class_agnostic is not supported for keypoints: pycocotools'"
                             " computeOks ignores useCats=0 and matches nothing")
        return self

    def sigmas_for(self, category_id: int) -> tuple[float, ...]:
        """The sigmas of one category."""
        s = self.kpt_oks_sigmas
        return s.get(int(category_id), COCO_OKS_SIGMAS) if isinstance(s, dict) else s


# CrowdPose's 14 keypoints (shoulders, elbows, wrists, hips, knees, ankles, head, neck), as
# its evaluation code (crowdposetools, faster-coco-eval's keypoints_crowd) lists them.
CROWDPOSE_OKS_SIGMAS: tuple[float, ...] = tuple(float(s) for s in np.array(
    [.79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89, .79, .79]) / 10.0)

_CROWDPOSE_AREAS = (AreaRange(label="all", lo=0.0**2, hi=1e5**2),)


class CrowdPoseParams(KeypointsParams):
    """Parameters of ``crowdpose``: faster-coco-eval 1.8.0 ``COCOeval_faster(iouType=
    "keypoints_crowd", use_area=False)``, the CrowdPose evaluation.

    Attributes:
        area_ranges: One range, ``all`` (the easy / medium / hard splits are by image).
        kpt_oks_sigmas: CrowdPose's 14 sigmas.
        crowd_index_thresholds: ``(first, second)``: an image is easy when its
            ``crowdIndex < first``, medium when ``< second``, else hard
            (``get_type_result(first=0.2, second=0.8)``).
    """

    area_ranges: Annotated[tuple[AreaRange, ...], Field(min_length=1)] = _CROWDPOSE_AREAS
    kpt_oks_sigmas: Sigmas | dict[int, Sigmas] = CROWDPOSE_OKS_SIGMAS
    crowd_index_thresholds: tuple[float, float] = (0.2, 0.8)
