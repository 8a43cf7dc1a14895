"""Files the COCO converters write (:mod:`benchmark_eval.converters.coco_panoptic`).

* :func:`write_panoptic_dataset`: COCO panoptic (JSON + PNG folder) with an ``images`` table,
  each PNG named like its image with ``.png`` (``<image id, 12 digits>.png`` without one).
* :func:`write_instances_dataset`: COCO instances JSON from a panoptic file: its ``images``
  (or a table built from the PNG sizes) and other top-level fields are kept.
* :func:`write_label_pngs`: a folder of label PNGs.
"""

from __future__ import annotations

__all__ = ["write_instances_dataset", "write_label_pngs", "write_panoptic_dataset"]

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.io.jsonfile import write_json
from benchmark_eval.io.panoptic_png import write_coco_panoptic
from benchmark_eval.io.png import write_png
from benchmark_eval.io.safe import resolve_inside
from benchmark_eval.schema import Images
from benchmark_eval.schema.panoptic import PanopticCategories, PanopticDataset, PanopticFrame


def write_panoptic_dataset(frames: Sequence[PanopticFrame], categories: PanopticCategories,
                           images: Images, json_path: str | Path,
                           folder: str | Path | None = None) -> Path:
    """Write ``frames`` as COCO panoptic with ``images`` as its image table.

    Returns:
        The PNG folder (default: ``json_path`` without ``.json``).
    """
    file_names = images.file_names or [""] * len(images)
    png_names = {int(i): (Path(n).with_suffix(".png").name if n else f"{int(i):012d}.png")
                 for i, n in zip(images.ids.tolist(), file_names, strict=True)}
    records = [{"id": int(i), "height": int(h), "width": int(w),
                "file_name": n or f"{int(i):012d}.jpg"}
               for i, h, w, n in zip(images.ids.tolist(), images.heights.tolist(),
                                     images.widths.tolist(), file_names, strict=True)]
    return write_coco_panoptic(frames, categories, json_path, folder, file_names=png_names,
                               extra={"images": records})


def write_instances_dataset(json_path: str | Path, dataset: PanopticDataset,
                            frames: Sequence[PanopticFrame], annotations: list[dict[str, Any]],
                            *, things_only: bool = False) -> None:
    """Write ``annotations`` as the COCO instances JSON of the panoptic ``dataset``.

    ``images`` is the panoptic file's table, else one record per frame (its size and PNG
    name); ``categories`` are the panoptic records (things only with ``things_only``).
    """
    images = dataset.info.get("images")
    if not isinstance(images, list):
        images = [{"id": f.image_id, "height": int(f.id_map.shape[0]),
                   "width": int(f.id_map.shape[1]), "file_name": name}
                  for f, name in zip(frames, dataset.file_names, strict=True)]
    cats = dataset.categories
    keep = cats.isthing if things_only else np.ones(len(cats), bool)
    categories = [dict(r) for r, k in zip(cats.records, keep.tolist(), strict=True) if k]
    extra = {k: v for k, v in dataset.info.items() if k != "images"}
    write_json(json_path, {**extra, "images": images, "annotations": annotations,
                           "categories": categories})


def write_label_pngs(folder: str | Path, names: Iterable[str],
                     label_maps: Iterable[np.ndarray]) -> Path:
    """Write each label map as ``folder / name`` (created if needed); returns the folder.

    Raises:
        FormatError: A name (a ``file_name`` of the input) leading outside ``folder``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, label_map in zip(names, label_maps, strict=True):
        target = resolve_inside(out, name, where=f"output file name for {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_png(target, label_map)
    return out
