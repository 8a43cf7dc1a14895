"""Result of ``coco-keypoints``: :class:`~benchmark_eval.report.coco.CocoResult` with
pycocotools' 10-line keypoint summary and per-class ``AP, AP50, AP75, AR``."""

from __future__ import annotations

__all__ = ["CrowdPoseResult", "KeypointsResult"]

from dataclasses import dataclass

from benchmark_eval.protocols.coco_keypoints import KEYPOINT_SUMMARY, SUMMARY_MAX_DETS
from benchmark_eval.protocols.crowdpose import CROWDPOSE_SPLITS
from benchmark_eval.report.coco import CocoResult, summary_line
from benchmark_eval.report.common import per_class_table

PER_CLASS_KEYS = ("AP", "AP50", "AP75", "AR")


@dataclass(frozen=True, kw_only=True)
class KeypointsResult(CocoResult):
    """Outcome of ``coco-keypoints``: ``stats`` holds the 10 numbers of pycocotools
    ``COCOeval.stats`` for keypoints (-1 where undefined), ``metrics`` them by
    ``KEYPOINT_METRIC_KEYS``; ``per_class``: ``{"AP", "AP50", "AP75", "AR"}``; ``precision``
    ``(T, R, K, A, M)`` and ``recall`` ``(T, K, A, M)`` as ``COCOeval.eval``."""

    def summary_lines(self) -> list[str]:
        """pycocotools' 10 keypoint summary lines (``_summarizeKps``), in its format."""
        thr = self.params.iou_thresholds
        return [summary_line(ap, iou, area, SUMMARY_MAX_DETS, float(v), thr)
                for (ap, iou, area), v in zip(KEYPOINT_SUMMARY, self.stats, strict=True)]

    def per_class_lines(self) -> list[str]:
        """A per-category table (AP, AP50, AP75, AR ×100)."""
        return per_class_table(self.category_ids, self.category_names, self.per_class,
                               PER_CLASS_KEYS)


@dataclass(frozen=True, kw_only=True)
class CrowdPoseResult(KeypointsResult):
    """Outcome of ``crowdpose``: ``stats`` holds faster-coco-eval's 9 ``keypoints_crowd``
    numbers (AP, AP50, AP75, AR, AR50, AR75 at area ``all``; AP easy / medium / hard);
    ``precision`` / ``recall`` have 4 area entries: ``all``, then the easy / medium / hard
    images."""

    def summary_lines(self) -> list[str]:
        """faster-coco-eval's 9 summary lines (``_summarizeKps_crowd``), in its format."""
        p = self.params
        last, thr = p.max_detections[-1], p.iou_thresholds
        rows = [(True, None), (True, 0.5), (True, 0.75), (False, None), (False, 0.5),
                (False, 0.75)]
        lines = [summary_line(ap, iou, p.area_ranges[0].label, last, float(v), thr)
                 for (ap, iou), v in zip(rows, self.stats[:6], strict=True)]
        iou_s = f"{thr[0]:0.2f}:{thr[-1]:0.2f}"
        lines += [f" {'Average Precision':<18} (AP) @[ IoU={iou_s:<9} | type={split:>6s} |"
                  f" maxDets={last:>3d} ] = {float(v):0.3f}"
                  for split, v in zip(CROWDPOSE_SPLITS, self.stats[6:], strict=True)]
        return lines
