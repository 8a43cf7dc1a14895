"""Adapters: the only code that reads or writes files."""

from benchmark_eval.io.coco_gt import check_coco_ground_truth, load_coco_ground_truth
from benchmark_eval.io.coco_results import check_coco_results, load_coco_results
from benchmark_eval.io.jsonfile import read_json, write_json

__all__ = [
    "check_coco_ground_truth",
    "check_coco_results",
    "load_coco_ground_truth",
    "load_coco_results",
    "read_json",
    "write_json",
]
