"""The Cityscapes workflows, in registry order: ``cityscapes-semantic``
(:mod:`~benchmark_eval.workflows.cityscapes_semantic`), ``cityscapes-instance``
(:mod:`~benchmark_eval.workflows.cityscapes_instance`) and ``cityscapes-panoptic``
(:mod:`~benchmark_eval.workflows.cityscapes_panoptic`)."""

from __future__ import annotations

__all__ = ["WORKFLOWS"]

from benchmark_eval.workflows.cityscapes_instance import WORKFLOW as INSTANCE_WORKFLOW
from benchmark_eval.workflows.cityscapes_panoptic import WORKFLOW as PANOPTIC_WORKFLOW
from benchmark_eval.workflows.cityscapes_semantic import WORKFLOW as SEMANTIC_WORKFLOW

WORKFLOWS = (SEMANTIC_WORKFLOW, INSTANCE_WORKFLOW, PANOPTIC_WORKFLOW)
