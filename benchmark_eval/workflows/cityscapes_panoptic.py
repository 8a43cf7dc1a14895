"""Workflow ``cityscapes-panoptic``: the ``coco-panoptic`` workflow on Cityscapes files.

cityscapesScripts 2.3.0 ``evaluation/evalPanopticSemanticLabeling.py`` is a copy of
panopticapi ``pq_compute`` (same matching, same ``pq_average``) reading Cityscapes panoptic
JSON, whose image ids are strings (``frankfurt_000000_000294``). The ids are numbered 1, 2,
... in ground-truth annotation order on the way in, the ``coco-panoptic`` workflow scores the
files, and problems name the original ids and files again. Categories come from the GT JSON
(label ids or train ids, as ``csCreatePanopticImgs`` wrote them).
"""

from __future__ import annotations

__all__ = ["WORKFLOW", "evaluate_cityscapes_panoptic", "validate_cityscapes_panoptic"]

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmark_eval.errors import ConsistencyError, InputError, Problem
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.panoptic import default_folder
from benchmark_eval.report.panoptic import PanopticResult
from benchmark_eval.workflows.base import LegacyWorkflow, Progress
from benchmark_eval.workflows.panoptic import WORKFLOWS as PANOPTIC_WORKFLOWS
from benchmark_eval.workflows.panoptic import evaluate_panoptic, validate_panoptic


def _numbered(gt: dict[str, Any], pred: dict[str, Any], gt_name: str, pred_name: str
              ) -> tuple[dict[str, Any], dict[str, Any], dict[int, Any]]:
    """Copies of both JSONs with image ids numbered 1, 2, ... in GT annotation order, and
    the number -> original id table. Raises on prediction ids absent from the GT."""
    numbers: dict[Any, int] = {}
    gt_anns = gt.get("annotations") if isinstance(gt, dict) else None
    pred_anns = pred.get("annotations") if isinstance(pred, dict) else None
    if not isinstance(gt_anns, list) or not isinstance(pred_anns, list):
        return gt, pred, {}  # coco-panoptic reports the malformed file
    for a in gt_anns:
        key = a.get("image_id") if isinstance(a, dict) else None
        if isinstance(key, (str, int)) and key not in numbers:
            numbers[key] = len(numbers) + 1
    unknown = [Problem(pred_name, f"image_id {a.get('image_id')!r} is not in the ground"
                                  " truth's annotations", i, "annotations")
               for i, a in enumerate(pred_anns) if isinstance(a, dict)
               and isinstance(a.get("image_id"), (str, int)) and a["image_id"] not in numbers]
    if unknown:
        raise ConsistencyError(unknown[:20])

    def renumber(data: dict[str, Any], lists: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        out = dict(data)
        for name, key in lists:
            out[name] = [dict(r, **{key: numbers[r[key]]}) if isinstance(r, dict) and
                         isinstance(r.get(key), (str, int)) and r[key] in numbers else r
                         for r in data.get(name) or []]
        return out

    return (renumber(gt, (("annotations", "image_id"), ("images", "id"))),
            renumber(pred, (("annotations", "image_id"),)), {v: k for k, v in numbers.items()})


_ID_IN_MESSAGE = re.compile(r"(image_id[= ])(\d+)")


def _renamed(problems: list[Problem], names: dict[int, Any], files: dict[str, str]
             ) -> list[Problem]:
    """Problems with the original image ids and file names put back."""
    def sub(m: re.Match[str]) -> str:
        return m.group(1) + repr(names.get(int(m.group(2)), int(m.group(2))))

    return [Problem(files.get(p.file, p.file), _ID_IN_MESSAGE.sub(sub, p.message), p.record,
                    p.field) for p in problems]


def _panoptic_inputs(gt: Any, pred: Any, gt_dir: Any, pred_dir: Any
                     ) -> tuple[dict[str, Any], dict[str, Any], dict[int, Any], dict[str, Any]]:
    gt_data = read_json(gt) if isinstance(gt, (str, Path)) else gt
    pred_data = read_json(pred) if isinstance(pred, (str, Path)) else pred
    files = {"<gt>": str(gt) if isinstance(gt, (str, Path)) else "<gt>",
             "<pred>": str(pred) if isinstance(pred, (str, Path)) else "<pred>"}
    gt_num, pred_num, names = _numbered(gt_data, pred_data, files["<gt>"], files["<pred>"])
    folders = {"gt_dir": gt_dir if gt_dir is not None or not isinstance(gt, (str, Path))
               else default_folder(gt),
               "pred_dir": pred_dir if pred_dir is not None or not isinstance(
                   pred, (str, Path)) else default_folder(pred)}
    return gt_num, pred_num, names, {"files": files, **folders}


def evaluate_cityscapes_panoptic(*, gt: Any, pred: Any, gt_dir: str | Path | None = None,
                                 pred_dir: str | Path | None = None, params: None = None,
                                 workers: int = 1, progress: Progress | None = None
                                 ) -> PanopticResult:
    """PQ / SQ / RQ of cityscapesScripts 2.3.0 ``evalPanopticSemanticLabeling`` (panopticapi
    ``pq_compute``) on Cityscapes panoptic JSON + PNGs (string image ids).

    Args:
        gt: ``cityscapes_panoptic_val.json`` (path or dict).
        pred: Predictions in the same format.
        gt_dir: GT PNG folder; default: ``gt`` without ``.json``.
        pred_dir: Prediction PNG folder; default: ``pred`` without ``.json``.
        params: Unused; must be None.
        workers: Processes; 0 = all cores.
        progress: Called with (images done, images total).
    """
    gt_num, pred_num, names, extra = _panoptic_inputs(gt, pred, gt_dir, pred_dir)
    try:
        result = evaluate_panoptic(gt=gt_num, pred=pred_num, gt_dir=extra["gt_dir"],
                                   pred_dir=extra["pred_dir"], params=params,
                                   workers=workers, progress=progress)
    except InputError as exc:
        raise type(exc)(_renamed(exc.problems, names, extra["files"])) from None
    return replace(result, protocol="cityscapes-panoptic")


def validate_cityscapes_panoptic(*, gt: Any, pred: Any, gt_dir: str | Path | None = None,
                                 pred_dir: str | Path | None = None, workers: int = 1
                                 ) -> list[Problem]:
    """Every problem of a Cityscapes panoptic submission: both JSONs, then every PNG."""
    try:
        gt_num, pred_num, names, extra = _panoptic_inputs(gt, pred, gt_dir, pred_dir)
    except InputError as exc:
        return exc.problems
    found = validate_panoptic(gt=gt_num, pred=pred_num, gt_dir=extra["gt_dir"],
                              pred_dir=extra["pred_dir"], workers=workers)
    return _renamed(found, names, extra["files"])


_COCO_PANOPTIC = next(w for w in PANOPTIC_WORKFLOWS if w.name == "coco-panoptic")

WORKFLOW = LegacyWorkflow(
    name="cityscapes-panoptic",
    summary="Cityscapes panoptic PQ/SQ/RQ (cityscapesScripts evalPanopticSemanticLabeling)",
    evaluate=evaluate_cityscapes_panoptic, validate=validate_cityscapes_panoptic,
    add_arguments=_COCO_PANOPTIC.add_arguments, cli_options=_COCO_PANOPTIC.cli_options,
    example="--gt gtFine/cityscapes_panoptic_val.json --pred results/panoptic.json")
