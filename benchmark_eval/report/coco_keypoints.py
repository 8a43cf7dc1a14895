"""Result of ``coco-keypoints``: :class:`~benchmark_eval.report.coco.CocoResult` with
pycocotools' 10-line keypoint summary and per-class ``AP, AP50, AP75, AR``."""

from __future__ import annotations

__all__ = ["KeypointsResult"]

from dataclasses import dataclass

from benchmark_eval.protocols.coco_keypoints import KEYPOINT_SUMMARY, SUMMARY_MAX_DETS
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
