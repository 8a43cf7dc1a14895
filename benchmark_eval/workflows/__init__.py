"""Every protocol, by name: the registry the API and the CLI dispatch through."""

from benchmark_eval.workflows import cityscapes, coco, coco_keypoints, lvis, panoptic, semantic
from benchmark_eval.workflows.base import Progress, Result, Workflow

__all__ = ["WORKFLOWS", "Progress", "Result", "Workflow"]

WORKFLOWS: dict[str, Workflow] = {
    w.name: w for w in (*coco.WORKFLOWS, *coco_keypoints.WORKFLOWS, *lvis.WORKFLOWS,
                        *semantic.WORKFLOWS, *panoptic.WORKFLOWS, *cityscapes.WORKFLOWS)}
