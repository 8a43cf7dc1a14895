"""Every protocol, by name: the registry the API and the CLI dispatch through."""

from benchmark_eval.workflows import cityscapes, coco, lvis, medical, panoptic, semantic
from benchmark_eval.workflows.base import LegacyWorkflow, Progress, Result, Workflow

__all__ = ["WORKFLOWS", "LegacyWorkflow", "Progress", "Result", "Workflow"]

WORKFLOWS: dict[str, Workflow | LegacyWorkflow] = {
    w.name: w for w in (*coco.WORKFLOWS, *lvis.WORKFLOWS, *semantic.WORKFLOWS,
                        *panoptic.WORKFLOWS, *cityscapes.WORKFLOWS,
                        *medical.WORKFLOWS)}
