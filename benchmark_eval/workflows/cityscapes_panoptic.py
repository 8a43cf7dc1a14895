"""Workflow ``cityscapes-panoptic``: the ``coco-panoptic`` workflow on Cityscapes files.

cityscapesScripts 2.3.0 ``evaluation/evalPanopticSemanticLabeling.py`` is a copy of
panopticapi ``pq_compute`` (same matching, same ``pq_average``) reading Cityscapes panoptic
JSON, whose image ids are strings; the adapter
(:func:`benchmark_eval.io.cityscapes_panoptic.cityscapes_panoptic_files`) numbers them and
problems name the original ids.
"""

from __future__ import annotations

__all__ = ["WORKFLOW"]

from benchmark_eval.io.cityscapes_panoptic import cityscapes_panoptic_files
from benchmark_eval.workflows.panoptic import panoptic_workflow

WORKFLOW = panoptic_workflow("cityscapes-panoptic", files_of=cityscapes_panoptic_files)
