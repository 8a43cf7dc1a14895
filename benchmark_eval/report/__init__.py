"""Results as typed objects, and their renderings (text tables, JSON reports)."""

from benchmark_eval.report.coco import CocoResult, coco_per_class_table, coco_summary_lines

__all__ = ["CocoResult", "coco_per_class_table", "coco_summary_lines"]
