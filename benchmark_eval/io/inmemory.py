"""What pycocotools users hold in memory, as the JSON the adapters read.

``pycocotools.coco.COCO`` (and lvis-api ``LVIS``) objects give their ``dataset``; a results
``COCO`` (``loadRes``) gives its annotations; an ``N x 7`` array is read as
``COCO.loadNumpyAnnotations`` reads it (``[image_id, x, y, w, h, score, category_id]``).
Records are normalised only where they hold non-JSON values: numpy / tuple ``bbox``, numpy
scalar ``score``, RLE ``counts`` as bytes (what ``pycocotools.mask.encode`` returns), a dense
bool or 0/1 mask as ``segmentation``. The caller's records are never modified.
"""

from __future__ import annotations

__all__ = ["coerce_records", "instance_subsets", "results_data", "unwrap_dataset"]

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from benchmark_eval.io.jsonfile import open_source
from benchmark_eval.masks.encode import encode_mask

_JSON_BOX = frozenset({list, type(None)})


def unwrap_dataset(source: Any) -> Any:
    """A ``COCO`` / ``LVIS`` object's ``dataset`` (annotations normalised); else ``source``."""
    dataset = getattr(source, "dataset", None)
    if isinstance(dataset, dict) and not isinstance(source, dict):
        source = dataset
    if isinstance(source, dict) and isinstance(source.get("annotations"), list):
        anns = coerce_records(source["annotations"])
        if anns is not source["annotations"]:
            source = {**source, "annotations": anns}
    return source


def results_data(source: Any) -> Any:
    """Results as a list of records: a results ``COCO`` object's annotations, an ``N x 7``
    array's rows, or the list itself (normalised)."""
    dataset = getattr(source, "dataset", None)
    if isinstance(dataset, dict) and isinstance(dataset.get("annotations"), list):
        source = dataset["annotations"]
    if isinstance(source, np.ndarray) and source.ndim == 2 and source.shape[1] == 7:
        source = [{"image_id": int(r[0]), "bbox": [float(r[1]), float(r[2]), float(r[3]),
                                                   float(r[4])],
                   "score": float(r[5]), "category_id": int(r[6])} for r in source]
    return coerce_records(source) if isinstance(source, list) else source


def coerce_records(records: list[Any]) -> list[Any]:
    """``records`` with non-JSON values converted (a new list of new dicts where needed;
    ``records`` itself when every value is already JSON)."""
    if not records or not set(map(type, records)) <= {dict}:
        return records
    boxes_ok = set(map(type, [r.get("bbox") for r in records])) <= _JSON_BOX
    scores_ok = set(map(type, [r.get("score", 0.0) for r in records])) <= {float, int}
    segs = [r.get("segmentation") for r in records]
    seg_types = set(map(type, segs))
    segs_ok = seg_types <= {list, dict, type(None)}
    if segs_ok and dict in seg_types:
        counts = [s.get("counts") for s in segs if type(s) is dict]
        segs_ok = bytes not in set(map(type, counts))
    if boxes_ok and scores_ok and segs_ok:
        return records
    return [_coerce(r) for r in records]


def _coerce(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    box = out.get("bbox")
    if isinstance(box, (tuple, np.ndarray)):
        out["bbox"] = [float(x) for x in np.asarray(box, dtype=np.float64).reshape(-1)]
    score = out.get("score")
    if isinstance(score, np.generic):
        out["score"] = score.item()
    seg = out.get("segmentation")
    if isinstance(seg, np.ndarray) and seg.ndim == 2:
        out["segmentation"] = encode_mask(seg)
    elif isinstance(seg, dict) and isinstance(seg.get("counts"), bytes):
        out["segmentation"] = {**seg, "counts": seg["counts"].decode("ascii")}
    if isinstance(out.get("segmentation"), dict) and isinstance(
            out["segmentation"].get("size"), (tuple, np.ndarray)):
        out["segmentation"] = {**out["segmentation"],
                               "size": [int(x) for x in out["segmentation"]["size"]]}
    return out


def instance_subsets(source: Any) -> Callable[[Iterable[int] | None], dict[str, Any]]:
    """For per-batch evaluation: a function giving the COCO / LVIS ground truth (a path,
    dict or ``COCO`` object, read once) restricted to some image ids (every category kept,
    so the category axis does not change), or whole (None)."""
    data, _ = open_source(source, "<gt>")
    data = unwrap_dataset(data)
    images = {img["id"]: img for img in data.get("images", []) if isinstance(img, dict)}
    anns: defaultdict[Any, list[dict[str, Any]]] = defaultdict(list)
    for ann in data.get("annotations", []):
        anns[ann.get("image_id")].append(ann)

    def subset(image_ids: Iterable[int] | None = None) -> dict[str, Any]:
        if image_ids is None:
            return data
        ids = [int(i) for i in image_ids]
        return {**data, "images": [images[i] for i in ids if i in images],
                "annotations": [a for i in ids for a in anns.get(i, ())]}

    return subset
