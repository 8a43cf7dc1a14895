"""A ``pycocotools.coco.COCO``-compatible index (pycocotools 2.0.11's public API).

The index (``anns``, ``imgs``, ``cats``, ``imgToAnns``, ``catToImgs``) and the query methods
behave as pycocotools' do, including its duplicate-id rule (the last record of an id wins).
``loadRes`` returns a results index built as ``COCO.loadRes`` builds it (ids 1..N, ``area``,
``iscrowd``, box outlines as polygons for box results), on copies: the caller's list is not
modified, and the evaluator reads the original records. That index is only built when a
caller first reads ``dataset``, ``anns``, ``imgs``, ``cats``, ``imgToAnns`` or ``catToImgs``
(``COCOeval`` never does). Like pycocotools, it prints progress.
"""

from __future__ import annotations

__all__ = ["COCO"]

import contextlib
import copy
import io
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import FormatError, Problem
from benchmark_eval.io.inmemory import results_data
from benchmark_eval.io.jsonfile import read_json
from benchmark_eval.masks import compress_uncompressed, polygons_to_rles, rle_areas, rle_boxes
from benchmark_eval.masks.rle import decode_masks

Ann = dict[str, Any]
_INDEX = frozenset({"dataset", "anns", "imgs", "cats", "imgToAnns", "catToImgs"})


def _as_list(value: Any) -> list[Any]:
    """pycocotools' ``_isArrayLike`` rule: lists, tuples and arrays as they are, else one."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    return [value]


class COCO:
    """The COCO annotation index (``pycocotools.coco.COCO``).

    Args:
        annotation_file: A COCO JSON file to load and index; None for an empty index.
    """

    def __init__(self, annotation_file: str | Path | None = None) -> None:
        self.dataset: dict[str, Any] = {}
        self.anns: dict[Any, Ann] = {}
        self.cats: dict[Any, dict[str, Any]] = {}
        self.imgs: dict[Any, dict[str, Any]] = {}
        self.imgToAnns: defaultdict[Any, list[Ann]] = defaultdict(list)
        self.catToImgs: defaultdict[Any, list[Any]] = defaultdict(list)
        self._results: list[Ann] | None = None  # loadRes: the records as given
        self._pending: COCO | None = None  # loadRes: the GT whose index to build from
        if annotation_file is not None:
            print("loading annotations into memory...")
            tic = time.time()
            data = read_json(annotation_file)
            if not isinstance(data, dict):
                raise FormatError(Problem(str(annotation_file), "annotation file format "
                                          f"{type(data).__name__} not supported"))
            print(f"Done (t={time.time() - tic:0.2f}s)")
            self.dataset = data
            self.createIndex()

    def createIndex(self) -> None:
        """Build ``anns``, ``imgs``, ``cats``, ``imgToAnns`` and ``catToImgs``."""
        print("creating index...")
        anns: dict[Any, Ann] = {}
        imgs: dict[Any, dict[str, Any]] = {}
        cats: dict[Any, dict[str, Any]] = {}
        img_to_anns: defaultdict[Any, list[Ann]] = defaultdict(list)
        cat_to_imgs: defaultdict[Any, list[Any]] = defaultdict(list)
        for ann in self.dataset.get("annotations", []):
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
        for img in self.dataset.get("images", []):
            imgs[img["id"]] = img
        for cat in self.dataset.get("categories", []):
            cats[cat["id"]] = cat
        if "annotations" in self.dataset and "categories" in self.dataset:
            for ann in self.dataset["annotations"]:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
        print("index created!")
        self.anns, self.imgs, self.cats = anns, imgs, cats
        self.imgToAnns, self.catToImgs = img_to_anns, cat_to_imgs

    def info(self) -> None:
        """Print the dataset's ``info`` entries."""
        for key, value in self.dataset.get("info", {}).items():
            print(f"{key}: {value}")

    def getAnnIds(self, imgIds: Any = (), catIds: Any = (), areaRng: Sequence[float] = (),
                  iscrowd: bool | None = None) -> list[Any]:
        """Ids of the annotations on ``imgIds``, of ``catIds``, with ``area`` strictly inside
        ``areaRng`` and the given ``iscrowd`` (empty filters select everything)."""
        img_ids, cat_ids = _as_list(imgIds), _as_list(catIds)
        if not img_ids and not cat_ids and not areaRng:
            anns: Iterable[Ann] = self.dataset.get("annotations", [])
        else:
            anns = ([a for i in img_ids if i in self.imgToAnns for a in self.imgToAnns[i]]
                    if img_ids else self.dataset.get("annotations", []))
            if cat_ids:
                wanted = set(cat_ids)
                anns = [a for a in anns if a["category_id"] in wanted]
            if areaRng:
                lo, hi = areaRng[0], areaRng[1]
                anns = [a for a in anns if lo < a["area"] < hi]
        if iscrowd is None:
            return [a["id"] for a in anns]
        return [a["id"] for a in anns if a["iscrowd"] == iscrowd]

    def getCatIds(self, catNms: Any = (), supNms: Any = (), catIds: Any = ()) -> list[Any]:
        """Ids of the categories with these names, supercategories and ids."""
        names, sups, ids = _as_list(catNms), _as_list(supNms), _as_list(catIds)
        cats = self.dataset.get("categories", [])
        if names:
            cats = [c for c in cats if c["name"] in names]
        if sups:
            cats = [c for c in cats if c["supercategory"] in sups]
        if ids:
            cats = [c for c in cats if c["id"] in ids]
        return [c["id"] for c in cats]

    def getImgIds(self, imgIds: Any = (), catIds: Any = ()) -> list[Any]:
        """Ids of the images among ``imgIds`` that have an annotation of every ``catIds``."""
        img_ids, cat_ids = _as_list(imgIds), _as_list(catIds)
        if not img_ids and not cat_ids:
            return list(self.imgs.keys())
        ids = set(img_ids)
        for i, cat in enumerate(cat_ids):
            with_cat = set(self.catToImgs[cat])
            ids = with_cat if i == 0 and not ids else ids & with_cat
        return list(ids)

    def loadAnns(self, ids: Any = ()) -> list[Ann]:
        """The annotations with these ids."""
        return [self.anns[i] for i in _as_list(ids)]

    def loadCats(self, ids: Any = ()) -> list[dict[str, Any]]:
        """The categories with these ids."""
        return [self.cats[i] for i in _as_list(ids)]

    def loadImgs(self, ids: Any = ()) -> list[dict[str, Any]]:
        """The images with these ids."""
        return [self.imgs[i] for i in _as_list(ids)]

    def loadNumpyAnnotations(self, data: np.ndarray) -> list[Ann]:
        """Rows ``[image_id, x, y, w, h, score, category_id]`` as result records."""
        print("Converting ndarray to lists...")
        out = results_data(np.asarray(data))
        if not isinstance(out, list):
            raise FormatError(Problem("<ndarray>", f"expected an N x 7 array, got shape "
                                      f"{np.shape(data)}"))
        return out

    def loadRes(self, resFile: str | Path | np.ndarray | list[Ann]) -> COCO:
        """A results index over this GT's images (``COCO.loadRes``).

        Accepts a JSON path, an ``N x 7`` array or a list of records (also an empty list,
        which pycocotools cannot load: the evaluation then scores no detections).
        """
        print("Loading and preparing results...")
        tic = time.time()
        if isinstance(resFile, (str, Path)):
            records = read_json(resFile)
        elif isinstance(resFile, np.ndarray):
            records = self.loadNumpyAnnotations(resFile)
        else:
            records = resFile
        if not isinstance(records, list):
            raise FormatError(Problem(str(resFile) if isinstance(resFile, (str, Path))
                                      else "<pred>", "results in not an array of objects"))
        res = COCO.__new__(COCO)  # the index is built when first read (not by COCOeval)
        res._results = records
        res._pending = self
        print(f"DONE (t={time.time() - tic:0.2f}s)")
        return res

    def __getattr__(self, name: str) -> Any:
        """A results index (``loadRes``) builds ``dataset`` and the index on first use."""
        pending = self.__dict__.get("_pending")
        if name not in _INDEX or pending is None:
            raise AttributeError(name)
        self._pending = None
        self.dataset = {
            "info": copy.deepcopy(pending.dataset.get("info", {})),
            "images": list(pending.dataset.get("images", [])),
            "categories": copy.deepcopy(pending.dataset.get("categories", [])),
            "annotations": _indexed_results(results_data(self._results or [])),
        }
        with contextlib.redirect_stdout(io.StringIO()):
            self.createIndex()
        return getattr(self, name)

    def annToRLE(self, ann: Ann) -> dict[str, Any]:
        """The annotation's mask as compressed RLE, rasterising polygons at its image's
        size."""
        img = self.imgs[ann["image_id"]]
        h, w = int(img["height"]), int(img["width"])
        seg = ann["segmentation"]
        if isinstance(seg, list):
            return polygons_to_rles([seg], h, w)[0]
        if isinstance(seg.get("counts"), list):
            return compress_uncompressed([seg], h, w)[0]
        return dict(seg)

    def annToMask(self, ann: Ann) -> np.ndarray:
        """The annotation's mask, ``(H, W)`` uint8."""
        rle = self.annToRLE(ann)
        return np.asarray(decode_masks([rle])[:, :, 0])


def _indexed_results(records: list[Ann]) -> list[Ann]:
    """Result records as ``loadRes`` completes them (copies): ``id`` 1..N, ``iscrowd`` 0,
    ``area`` from the box when the first record has one (else from the mask), and the
    missing ``bbox`` / box-outline ``segmentation``."""
    if not records:
        return []
    out = [dict(r) for r in records]
    first_box = out[0].get("bbox")
    if first_box is not None and first_box != []:
        for i, r in enumerate(out):
            x, y, w, h = r["bbox"]
            r.setdefault("segmentation", [[x, y, x, y + h, x + w, y + h, x + w, y]])
            r["area"], r["id"], r["iscrowd"] = w * h, i + 1, 0
    elif "segmentation" in out[0]:
        rles = [r["segmentation"] for r in out]
        areas, boxes = rle_areas(rles), rle_boxes(rles)
        for i, r in enumerate(out):
            r["area"], r["id"], r["iscrowd"] = float(areas[i]), i + 1, 0
            r.setdefault("bbox", boxes[i].tolist())
    return out
