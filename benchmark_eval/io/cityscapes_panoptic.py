"""The Cityscapes panoptic adapter: ``cityscapes_panoptic_val.json`` + PNGs as COCO panoptic.

cityscapesScripts 2.3.0 ``evalPanopticSemanticLabeling.py`` reads COCO panoptic files whose
image ids are strings (``frankfurt_000000_000294``). The schema numbers images, so the ids
are numbered 1, 2, ... in ground-truth annotation order on the way in; the number -> id table
travels with the inputs and problems name the original ids. Categories come from the GT JSON
(label ids or train ids, as ``csCreatePanopticImgs`` wrote them).
"""

from __future__ import annotations

__all__ = ["cityscapes_panoptic_files"]

from pathlib import Path
from typing import Any

from benchmark_eval.errors import ConsistencyError, Problem, cut_problems
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.io.panoptic import Folder, PanopticFiles, Source
from benchmark_eval.io.panoptic_png import default_folder

_Key = str | int


def _key(record: Any, field: str) -> _Key | None:
    value = record.get(field) if isinstance(record, dict) else None
    return value if isinstance(value, (str, int)) else None


def _renumber(records: Any, field: str, numbers: dict[_Key, int]) -> list[Any]:
    out = []
    for r in records or []:
        key = _key(r, field)
        out.append(dict(r, **{field: numbers[key]}) if key in numbers else r)
    return out


def _numbered(gt: Any, pred: Any, pred_name: str) -> tuple[Any, Any, dict[int, Any]]:
    """Copies of both JSONs with image ids numbered 1, 2, ... in GT annotation order, and
    the number -> original id table (malformed files pass unchanged: the COCO panoptic
    checks report them).

    Raises:
        ConsistencyError: Prediction image ids that are not in the ground truth.
    """
    gt_anns = gt.get("annotations") if isinstance(gt, dict) else None
    pred_anns = pred.get("annotations") if isinstance(pred, dict) else None
    if not isinstance(gt_anns, list) or not isinstance(pred_anns, list):
        return gt, pred, {}
    numbers: dict[_Key, int] = {}
    for a in gt_anns:
        key = _key(a, "image_id")
        if key is not None and key not in numbers:
            numbers[key] = len(numbers) + 1
    unknown = [Problem(pred_name, f"image_id {a['image_id']!r} is not in the ground"
                                  " truth's annotations", i, "annotations")
               for i, a in enumerate(pred_anns)
               if _key(a, "image_id") is not None and a["image_id"] not in numbers]
    if unknown:
        raise ConsistencyError(cut_problems(unknown))
    gt_out = dict(gt, annotations=_renumber(gt_anns, "image_id", numbers),
                  images=_renumber(gt.get("images"), "id", numbers))
    pred_out = dict(pred, annotations=_renumber(pred_anns, "image_id", numbers))
    return gt_out, pred_out, {v: k for k, v in numbers.items()}


def _png_folder(source: Source, folder: Folder) -> Folder:
    if folder is not None or not isinstance(source, (str, Path)):
        return folder
    return default_folder(source)


def cityscapes_panoptic_files(gt: Source, pred: Source, gt_dir: Folder = None,
                              pred_dir: Folder = None) -> PanopticFiles:
    """Both JSONs read and numbered, the PNG folders resolved, ready for
    :func:`~benchmark_eval.io.panoptic.load_panoptic` / ``check_panoptic``.

    Raises:
        InputError: A JSON file cannot be read, or predictions name unknown images.
        ConfigError: A folder is neither given nor derivable from the JSON path.
    """
    gt_name = str(gt) if isinstance(gt, (str, Path)) else "<gt>"
    pred_name = str(pred) if isinstance(pred, (str, Path)) else "<pred>"
    gt_data = read_json(gt) if isinstance(gt, (str, Path)) else gt
    pred_data = read_json(pred) if isinstance(pred, (str, Path)) else pred
    gt_num, pred_num, names = _numbered(gt_data, pred_data, pred_name)
    return PanopticFiles(gt=gt_num, pred=pred_num, gt_dir=_png_folder(gt, gt_dir),
                         pred_dir=_png_folder(pred, pred_dir), gt_name=gt_name,
                         pred_name=pred_name, names=names)
