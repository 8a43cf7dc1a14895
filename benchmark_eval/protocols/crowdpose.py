"""Protocol ``crowdpose``: CrowdPose keypoint AP, as faster-coco-eval 1.8.0
``COCOeval_faster(iouType="keypoints_crowd", use_area=False)`` computes it (the
crowdposetools evaluation).

``coco-keypoints`` with three changes (``core/cocoeval.py``): OKS divides by
``bbox_h * bbox_w * 0.53`` instead of the ``area`` field (CrowdPose GT has none); one area
range, ``all``, with the 6 AP / AR numbers at the last ``maxDets``; and AP on the easy /
medium / hard images by ``crowdIndex`` (``get_type_result``), each the mean of
``precision[:, :, :, 0, :]`` of an evaluation restricted to those images, **including its -1
entries**, rounded to 4 decimals. Here the three restricted evaluations are three more area
ranges whose GT and detections outside the split's images are ignored, which gives the same
precision arrays in one pass.
"""

from __future__ import annotations

__all__ = ["CROWDPOSE_METRIC_KEYS", "CROWDPOSE_SPLITS", "compute_crowdpose",
           "crowdpose_notices", "engine_params", "prepare_crowdpose", "split_of"]

import dataclasses

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.coco import CocoMetrics
from benchmark_eval.protocols.coco_accumulate import accumulate, summary_value
from benchmark_eval.protocols.coco_keypoints import (
    KeypointsTask,
    keypoint_per_class,
    prepare_keypoints,
)
from benchmark_eval.protocols.coco_keypoints_params import CrowdPoseParams
from benchmark_eval.protocols.coco_params import AreaRange
from benchmark_eval.protocols.coco_state import CocoState
from benchmark_eval.protocols.undefined import none_if_undefined
from benchmark_eval.schema import KeypointDataset, Keypoints, Predictions

CROWDPOSE_METRIC_KEYS = ("AP", "AP50", "AP75", "AR", "AR50", "AR75", "AP_easy", "AP_medium",
                         "AP_hard")
CROWDPOSE_SPLITS = ("easy", "medium", "hard")
# (AP?, OKS threshold or None) of the first six stats, all at area "all", last maxDets.
_SUMMARY = ((True, None), (True, 0.5), (True, 0.75), (False, None), (False, 0.5),
            (False, 0.75))
_OKS_AREA_FACTOR = 0.53  # crowdposetools: tmparea = bbox[3] * bbox[2] * 0.53
_SPLIT_DECIMALS = 4  # get_type_result: round(np.mean(score), 4)


def split_of(crowd_index: np.ndarray, thresholds: tuple[float, float]) -> np.ndarray:
    """0 (easy), 1 (medium) or 2 (hard) per image: ``< first``, ``< second``, else."""
    first, second = thresholds
    return np.where(crowd_index < first, 0, np.where(crowd_index < second, 1, 2))


def engine_params(params: CrowdPoseParams) -> CrowdPoseParams:
    """The params with the three split ranges appended to the area ranges (same bounds as
    the first; membership is by image, see :func:`prepare_crowdpose`)."""
    base = params.area_ranges[0]
    splits = tuple(AreaRange(label=s, lo=base.lo, hi=base.hi) for s in CROWDPOSE_SPLITS)
    return params.model_copy(update={"area_ranges": (*params.area_ranges, *splits)})


def prepare_crowdpose(gt: KeypointDataset, crowd_index: np.ndarray, preds: Predictions,
                      pred_kp: Keypoints, params: CrowdPoseParams) -> KeypointsTask:
    """:func:`~benchmark_eval.protocols.coco_keypoints.prepare_keypoints` with the OKS area
    ``h * w * 0.53`` and the split ranges (an object is outside a split's range when its
    image is not in the split).

    Args:
        crowd_index: ``crowdIndex`` per row of ``gt.dataset.images``.
    """
    engine = engine_params(params)
    boxes = gt.dataset.instances.boxes
    assert boxes is not None
    task = prepare_keypoints(gt, preds, pred_kp, engine,
                             oks_areas=boxes[:, 3] * boxes[:, 2] * _OKS_AREA_FACTOR)
    p = task.prepared
    split = split_of(crowd_index[gt.dataset.images.lookup(p.image_ids)],
                     params.crowd_index_thresholds)  # per image rank
    n_base = len(params.area_ranges)

    def outside(image_rank: np.ndarray) -> np.ndarray:
        out = np.zeros((len(image_rank), n_base + len(CROWDPOSE_SPLITS)), dtype=bool)
        out[:, n_base:] = split[image_rank][:, None] != np.arange(len(CROWDPOSE_SPLITS))
        return out

    prepared = dataclasses.replace(p, gt_outside=outside(p.gt_image),
                                   det_outside=outside(p.det_image))
    return dataclasses.replace(task, prepared=prepared, params=engine)


def compute_crowdpose(state: CocoState, params: CrowdPoseParams) -> CocoMetrics:
    """faster-coco-eval's ``_summarizeKps_crowd``: 6 numbers at area ``all`` and the last
    ``maxDets``, then the easy / medium / hard AP (mean of all precision entries of the
    split, -1 included, rounded to 4 decimals; -1 for a split without images)."""
    engine = engine_params(params)
    acc = accumulate(state, engine)
    last = params.max_detections[-1]
    values = [summary_value(acc, engine, ap, iou, params.area_ranges[0].label, last)
              for ap, iou in _SUMMARY]
    n_base = len(params.area_ranges)
    values += [float(np.round(np.mean(acc.precision[:, :, :, a, :]), _SPLIT_DECIMALS))
               for a in range(n_base, n_base + len(CROWDPOSE_SPLITS))]
    stats = np.array(values)
    metrics = {k: none_if_undefined(v) for k, v in zip(CROWDPOSE_METRIC_KEYS, stats,
                                                        strict=True)}
    return CocoMetrics(accumulated=acc, stats=stats, metrics=metrics,
                       per_class=keypoint_per_class(acc, engine))


def crowdpose_notices(gt: KeypointDataset, crowd_index: np.ndarray,
                      params: CrowdPoseParams) -> list[Notice]:
    """A notice per split whose images hold no scored GT of some category: its precision
    is -1 there, and the reference averages those -1 into the split's AP."""
    inst, images = gt.dataset.instances, gt.dataset.images
    split = split_of(crowd_index, params.crowd_index_thresholds)
    scored = ~inst.iscrowd & (gt.num_keypoints > 0)
    gt_split = split[images.lookup(inst.image_ids)]
    out = []
    for s, name in enumerate(CROWDPOSE_SPLITS):
        if not (split == s).any():
            continue
        present = set(inst.category_ids[scored & (gt_split == s)].tolist())
        missing = [int(c) for c in np.unique(gt.dataset.categories.ids) if c not in present]
        if missing:
            out.append(Notice(
                "crowdpose-split-missing-category",
                f"the {name} images have no scored GT of category {missing[0]}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                + f"; faster-coco-eval averages their -1 precision into AP_{name}, which can"
                " even be negative. Reproduced."))
    return out
