"""The protocol catalogue: every protocol's name, one-line summary, example and the family
module that holds its :class:`~benchmark_eval.workflows.base.Workflow`.

Standard library only, so that ``benchmark-eval --help`` and ``import benchmark_eval`` list
the protocols without importing numpy, pydantic or any family's adapters; the registry
(:data:`benchmark_eval.workflows.WORKFLOWS`) imports a family module when one of its
workflows is first looked up. A family's ``Workflow`` takes its summary and example from
here (:func:`entry`), so each is written once.
"""

from __future__ import annotations

__all__ = ["CATALOG", "Entry", "entry"]

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One protocol as ``--help`` lists it.

    Attributes:
        name: Protocol name, e.g. ``"coco-segm"``.
        module: The module under ``benchmark_eval.workflows`` whose ``WORKFLOWS`` holds it.
        summary: What it computes and which tool it reproduces (one line).
        example: The options of one example command line.
    """

    name: str
    module: str
    summary: str
    example: str = ""


_COCO_GT = "--gt instances_val2017.json --pred"
_PANOPTIC = "--gt panoptic_val2017.json --pred panoptic_results.json"

CATALOG: dict[str, Entry] = {e.name: e for e in (
    Entry("coco-bbox", "coco", "COCO box AP/AR (pycocotools 2.0.11 COCOeval, iouType='bbox')",
          f"{_COCO_GT} bbox_results.json"),
    Entry("coco-segm", "coco", "COCO mask AP/AR (pycocotools 2.0.11 COCOeval, iouType='segm')",
          f"{_COCO_GT} segm_results.json"),
    Entry("coco-boundary", "coco",
          "COCO Boundary AP/AR (boundary-iou-api COCOeval, iouType='boundary')",
          f"{_COCO_GT} segm_results.json"),
    Entry("coco-keypoints", "coco_keypoints",
          "COCO keypoint OKS AP/AR (pycocotools 2.0.11 COCOeval, iouType='keypoints')",
          "--gt person_keypoints_val2017.json --pred keypoints_results.json"),
    Entry("crowdpose", "coco_keypoints",
          "CrowdPose keypoint AP/AR, easy/medium/hard by crowdIndex (faster-coco-eval"
          " 1.8.0 keypoints_crowd)", "--gt crowdpose_test.json --pred keypoints_results.json"),
    Entry("lvis-bbox", "lvis", "LVIS federated box AP/AR, APr/APc/APf (lvis-api 0.5.3 LVISEval)",
          "--gt lvis_v1_val.json --pred bbox_results.json"),
    Entry("lvis-segm", "lvis",
          "LVIS federated mask AP/AR, APr/APc/APf (lvis-api 0.5.3 LVISEval)",
          "--gt lvis_v1_val.json --pred segm_results.json"),
    Entry("semantic", "semantic", "label maps: mIoU, mAcc, mDice, aAcc, fwIoU (mmseg /"
                                  " detectron2 / cityscapesScripts rules)",
          "--gt gt_dir/ --pred pred_dir/ --num-classes 150 --reduce-zero-label"),
    Entry("semantic-binary", "semantic",
          "binary masks: foreground IoU and Dice, per dataset or per image",
          "--gt masks/ --pred pred_masks/ --dice-averaging per-image"),
    Entry("coco-panoptic", "panoptic",
          "COCO panoptic PQ/SQ/RQ (panopticapi evaluation.py pq_compute)", _PANOPTIC),
    Entry("coco-panoptic-boundary", "panoptic",
          "COCO panoptic Boundary PQ (boundary-iou-api pq_compute, iou_type='boundary')",
          f"{_PANOPTIC} --dilation-ratio 0.02"),
    Entry("cityscapes-semantic", "cityscapes_semantic",
          "Cityscapes pixel-level IoU / iIoU, class and category (cityscapesScripts"
          " evalPixelLevelSemanticLabeling)", "--gt gtFine/val --pred results/"),
    Entry("cityscapes-instance", "cityscapes_instance",
          "Cityscapes instance-level AP / AP50 (cityscapesScripts"
          " evalInstanceLevelSemanticLabeling)", "--gt gtFine/val --pred results/"),
    Entry("cityscapes-panoptic", "cityscapes_panoptic",
          "Cityscapes panoptic PQ/SQ/RQ (cityscapesScripts evalPanopticSemanticLabeling)",
          "--gt gtFine/cityscapes_panoptic_val.json --pred results/panoptic.json"),
    Entry("medical", "medical",
          "3-D label volumes (NIfTI): per-label Dice, IoU, HD, HD95, ASSD, NSD"
          " (nnU-Net v2 / MedPy / MONAI rules)", "--gt GT_DIR --pred PRED_DIR --labels 1,2"),
)}


def entry(name: str) -> Entry:
    """The catalogue entry of protocol ``name`` (``KeyError`` when unknown)."""
    return CATALOG[name]
