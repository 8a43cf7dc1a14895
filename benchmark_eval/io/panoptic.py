"""COCO panoptic files <-> the common schema, with every inconsistency named.

The format (cocodataset/panopticapi, ``evaluation.py`` and ``converters/``): a JSON file whose
``annotations`` give, per image, a PNG ``file_name`` and its ``segments_info`` (``id``,
``category_id``, ``iscrowd``, ``area``), plus ``categories`` with ``isthing``; and a folder of
PNGs whose RGB encodes the segment id (``R + 256 G + 256² B``, 0 = VOID). The folder defaults
to the JSON path without ``.json``, as in panopticapi.

The JSON is checked once, column-wise (:func:`load_coco_panoptic`). The PNGs are checked
image by image against their ``segments_info`` as they are read (:func:`read_image_pair`):
that is where ids missing on either side, sizes that differ and non-RGB PNGs are found.
"""

from __future__ import annotations

__all__ = [
    "ImagePair",
    "PanopticSource",
    "check_coco_panoptic",
    "default_folder",
    "load_coco_panoptic",
    "match_predictions",
    "parse_coco_panoptic",
    "read_frames",
    "read_image_pair",
    "read_panoptic_png",
    "summarise_problems",
    "write_coco_panoptic",
]

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    InputError,
    MissingPredictionError,
    Problem,
)
from benchmark_eval.io.jsonfile import read_json, write_json
from benchmark_eval.io.png import decode_rgb, read_png_bytes, write_png
from benchmark_eval.io.records import MAX_LISTED, ProblemList, int_column
from benchmark_eval.masks.panoptic import (
    SegmentPairs,
    box_and_area,
    ids_to_rgb,
    rgb_to_ids,
    segment_pairs_rgb,
)
from benchmark_eval.schema import Images
from benchmark_eval.schema.panoptic import (
    MAX_SEGMENT_ID,
    VOID,
    PanopticCategories,
    PanopticDataset,
    PanopticFrame,
    Segments,
)

Source = str | Path | dict[str, Any]
_BOOL_INT = frozenset({int, bool})
_NUMBER = frozenset({int, float})


@dataclass(frozen=True)
class PanopticSource:
    """A checked panoptic JSON and the folder its PNGs are in.

    Attributes:
        dataset: The JSON content.
        folder: The PNG folder (``None``: in-memory JSON without a folder; reading a PNG
            then fails with a message saying so).
    """

    dataset: PanopticDataset
    folder: Path | None

    def png_path(self, i: int) -> Path:
        """The PNG of annotation record ``i``."""
        if self.folder is None:
            raise ConfigError(f"{self.dataset.source}: no PNG folder given for in-memory JSON")
        return self.folder / self.dataset.file_names[i]


def default_folder(json_path: str | Path) -> Path:
    """The PNG folder panopticapi assumes: the JSON path without its ``.json`` suffix.

    panopticapi uses ``json_file.replace('.json', '')``, which also edits ``.json`` inside
    directory names; only a trailing suffix is removed here.

    Raises:
        ConfigError: The path does not end in ``.json``.
    """
    path = Path(json_path)
    if path.suffix.lower() != ".json":
        raise ConfigError(f"cannot derive the PNG folder from {path} (it does not end in"
                          " .json): give the folder explicitly")
    return path.with_suffix("")


def _open(source: Source, default_name: str) -> tuple[Any, str]:
    if isinstance(source, (str, Path)):
        return read_json(source), str(source)
    return source, default_name


def _folder(source: Source, folder: str | Path | None) -> Path | None:
    if folder is not None:
        return Path(folder)
    return default_folder(source) if isinstance(source, (str, Path)) else None


def load_coco_panoptic(source: Source, folder: str | Path | None = None, *,
                       ground_truth: PanopticDataset | None = None) -> PanopticSource:
    """Read and check a COCO panoptic JSON (ground truth, or predictions of ``ground_truth``).

    Args:
        source: JSON path or parsed dict.
        folder: PNG folder; default: the JSON path without ``.json``.
        ground_truth: For predictions: the ground truth whose categories and images they
            must use. Prediction ``categories`` are not read (panopticapi uses the ground
            truth's); ``iscrowd`` and ``area`` are not read (areas come from the PNG).

    Raises:
        InputError: Listing every problem of the JSON.
        ConfigError: No folder given and none can be derived from the path.
    """
    data, name = _open(source, "<gt>" if ground_truth is None else "<pred>")
    dataset, problems = parse_coco_panoptic(data, name, ground_truth=ground_truth)
    if problems or dataset is None:
        raise problems.error()
    return PanopticSource(dataset, _folder(source, folder))


def check_coco_panoptic(source: Source, *, ground_truth: PanopticDataset | None = None
                        ) -> tuple[PanopticDataset | None, list[Problem]]:
    """Like :func:`load_coco_panoptic` (JSON only) but returns the problems."""
    try:
        data, name = _open(source, "<gt>" if ground_truth is None else "<pred>")
    except InputError as exc:
        return None, exc.problems
    dataset, problems = parse_coco_panoptic(data, name, ground_truth=ground_truth)
    return (dataset if not problems else None), problems.summarise()


# ------------------------------------------------------------------------------ the JSON


def _list_of_objects(data: dict[str, Any], key: str, problems: ProblemList) -> list[Any] | None:
    value = data.get(key)
    if not isinstance(value, list):
        got = "missing" if value is None else type(value).__name__
        problems.add(f"'{key}' must be a list, got {got}")
        return None
    bad = [i for i, r in enumerate(value) if not isinstance(r, dict)]
    for i in bad:
        problems.add(f"record is {type(value[i]).__name__}, expected an object", i, key,
                     kind=f"{key} record not an object")
    return None if bad else value


def _duplicates(keys: np.ndarray) -> np.ndarray:
    """Rows whose key equals an earlier row's."""
    order = np.argsort(keys, kind="stable")
    same = keys[order[1:]] == keys[order[:-1]]
    return np.sort(order[1:][same])


def _categories(data: dict[str, Any], problems: ProblemList) -> PanopticCategories | None:
    records = _list_of_objects(data, "categories", problems)
    if records is None:
        return None
    ids = int_column(records, "id", "categories", problems)
    isthing = [r.get("isthing") for r in records]
    for i, v in enumerate(isthing):
        if type(v) not in _BOOL_INT or v not in (0, 1):
            problems.add(f"'isthing' must be 0 or 1, got {v!r}", i, "categories",
                         kind="categories isthing not 0/1")
    if ids is None:
        return None
    for i in _duplicates(ids).tolist():
        problems.add(f"duplicate category id {int(ids[i])}", i, "categories",
                     kind="duplicate category id", consistency=True)
    return PanopticCategories(ids=ids, names=tuple(str(r.get("name", "")) for r in records),
                              isthing=np.array([v == 1 for v in isthing], dtype=bool),
                              records=tuple(records))


def _images(data: dict[str, Any]) -> Images | None:
    """The optional ``images`` table (panopticapi does not read it); None if unusable."""
    records = data.get("images")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    scratch = ProblemList("")
    ids = int_column(records, "id", "images", scratch)
    h = int_column(records, "height", "images", scratch)
    w = int_column(records, "width", "images", scratch)
    if ids is None or h is None or w is None or scratch:
        return None
    return Images(ids=ids, heights=h, widths=w,
                  file_names=tuple(str(r.get("file_name", "")) for r in records))


@dataclass
class _Flat:
    """Every ``segments_info`` record in one list, with where it came from."""

    records: list[Any]
    owner: np.ndarray  # annotation index per record
    position: np.ndarray  # index inside its segments_info

    def where(self, k: int) -> tuple[int, str]:
        return int(self.position[k]), f"annotations[{int(self.owner[k])}].segments_info"


def _flatten(anns: list[dict[str, Any]], problems: ProblemList) -> _Flat | None:
    raw = [a.get("segments_info") for a in anns]
    for i, v in enumerate(raw):
        if not isinstance(v, list):
            got = "missing" if v is None else type(v).__name__
            problems.add(f"'segments_info' must be a list, got {got}", i, "annotations",
                         kind="segments_info not a list")
    infos: list[list[Any]] = [v for v in raw if isinstance(v, list)]
    if len(infos) != len(raw):
        return None
    ok = True
    sizes = np.array([len(v) for v in infos], dtype=np.int64)
    flat = _Flat([r for v in infos for r in v], np.repeat(np.arange(len(anns)), sizes),
                 np.concatenate([np.arange(n) for n in sizes.tolist()] or [np.zeros(0, int)]))
    for k, r in enumerate(flat.records):
        if not isinstance(r, dict):
            j, field = flat.where(k)
            problems.add(f"segment record is {type(r).__name__}, expected an object", j, field,
                         kind="segment not an object")
            ok = False
    return flat if ok else None


def _segment_ints(flat: _Flat, key: str, problems: ProblemList,
                  default: int | None = None) -> np.ndarray | None:
    values = [r.get(key, default) for r in flat.records]
    kinds = set(map(type, values))
    if kinds <= {int} or (default is not None and kinds <= _BOOL_INT):
        return np.array(values, dtype=np.int64) if values else np.zeros(0, dtype=np.int64)
    for k, v in enumerate(values):
        if type(v) is not int and not (default is not None and type(v) is bool):
            j, field = flat.where(k)
            what = "missing" if v is None else repr(v)
            problems.add(f"segment '{key}' must be an integer, got {what}", j, field,
                         kind=f"segment '{key}' not an integer")
    return None


def _segment_areas(flat: _Flat, problems: ProblemList) -> np.ndarray | None:
    values = [r.get("area") for r in flat.records]
    if not set(map(type, values)) <= _NUMBER:
        for k, v in enumerate(values):
            if type(v) not in _NUMBER:
                j, field = flat.where(k)
                problems.add(f"segment 'area' must be a number, got "
                             f"{'missing' if v is None else repr(v)}", j, field,
                             kind="segment area not a number")
        return None
    areas = np.array(values, dtype=np.float64)
    for k in np.flatnonzero(~(np.isfinite(areas) & (areas > 0))).tolist():
        j, field = flat.where(k)
        problems.add(f"segment 'area' must be a positive pixel count, got {values[k]!r}",
                     j, field, kind="segment area not positive")
    return areas


def _check_segment_ids(flat: _Flat, ids: np.ndarray, image_ids: np.ndarray,
                       problems: ProblemList) -> None:
    bad = (ids <= VOID) | (ids > MAX_SEGMENT_ID)
    for k in np.flatnonzero(bad).tolist():
        j, field = flat.where(k)
        why = ("0 is VOID" if ids[k] == VOID else "ids must be in 1 .. 16777215 to fit an RGB"
               " pixel")
        problems.add(f"segment id {int(ids[k])} cannot be used ({why}; image_id="
                     f"{int(image_ids[flat.owner[k]])})", j, field, kind="segment id range")
    key = flat.owner * (MAX_SEGMENT_ID + 1) + (ids & MAX_SEGMENT_ID)
    for k in _duplicates(key).tolist():
        j, field = flat.where(k)
        problems.add(f"duplicate segment id {int(ids[k])} in image_id "
                     f"{int(image_ids[flat.owner[k]])}", j, field, kind="duplicate segment id",
                     consistency=True)


def _check_categories(flat: _Flat, cats: np.ndarray, image_ids: np.ndarray,
                      categories: PanopticCategories, problems: ProblemList) -> None:
    for k in np.flatnonzero(categories.lookup(cats) < 0).tolist():
        j, field = flat.where(k)
        problems.add(f"segment {flat.records[k].get('id')!r} of image_id "
                     f"{int(image_ids[flat.owner[k]])} has category_id {int(cats[k])}, which is"
                     " not in the ground truth's 'categories'", j, field,
                     kind="unknown segment category", consistency=True)


def _annotations(anns: list[dict[str, Any]], problems: ProblemList,
                 ground_truth: PanopticDataset | None) -> tuple[np.ndarray, list[str]] | None:
    image_ids = int_column(anns, "image_id", "annotations", problems)
    names = [a.get("file_name") for a in anns]
    for i, v in enumerate(names):
        if not isinstance(v, str) or not v:
            problems.add(f"'file_name' must be a PNG file name, got {v!r}", i, "annotations",
                         kind="file_name missing")
    if image_ids is None:
        return None
    for i in _duplicates(image_ids).tolist():
        problems.add(f"duplicate image_id {int(image_ids[i])} (one annotation per image)", i,
                     "annotations", kind="duplicate image_id", consistency=True)
    if ground_truth is not None:
        unknown = ground_truth.lookup(image_ids) < 0
        problems.add_where(unknown, "annotations", "prediction for unknown image",
                           lambda i: f"image_id {int(image_ids[i])} is not in the ground"
                                     " truth's annotations", consistency=True)
    return image_ids, [str(v) for v in names]


def parse_coco_panoptic(data: Any, name: str, *, ground_truth: PanopticDataset | None = None
                        ) -> tuple[PanopticDataset | None, ProblemList]:
    """Check parsed COCO panoptic JSON; the dataset is None when there are problems."""
    problems = ProblemList(name)
    if not isinstance(data, dict):
        problems.add(f"expected a COCO panoptic object with 'annotations', got "
                     f"{type(data).__name__}")
        return None, problems
    categories = (_categories(data, problems) if ground_truth is None
                  else ground_truth.categories)
    anns = _list_of_objects(data, "annotations", problems)
    if anns is None:
        return None, problems
    header = _annotations(anns, problems, ground_truth)
    flat = _flatten(anns, problems)
    if header is None or flat is None or categories is None:
        return None, problems
    image_ids, names = header
    ids = _segment_ints(flat, "id", problems)
    cats = _segment_ints(flat, "category_id", problems)
    is_gt = ground_truth is None
    crowd = _segment_ints(flat, "iscrowd", problems, default=0) if is_gt else None
    areas = _segment_areas(flat, problems) if is_gt else np.full(len(flat.records), np.nan)
    if crowd is not None:
        for k in np.flatnonzero((crowd != 0) & (crowd != 1)).tolist():
            j, field = flat.where(k)
            problems.add(f"segment 'iscrowd' must be 0 or 1, got {int(crowd[k])}", j, field,
                         kind="segment iscrowd not 0/1")
    if ids is not None:
        _check_segment_ids(flat, ids, image_ids, problems)
    if cats is not None:
        _check_categories(flat, cats, image_ids, categories, problems)
    if problems or ids is None or cats is None or areas is None:
        return None, problems
    offsets = np.zeros(len(anns) + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat.owner, minlength=len(anns)), out=offsets[1:])
    segments = Segments.build(ids, cats, crowd if crowd is not None else None, areas)
    extra = {k: v for k, v in data.items() if k not in ("annotations", "categories")}
    return PanopticDataset(image_ids=image_ids, file_names=tuple(names), categories=categories,
                           segments=segments, offsets=offsets, images=_images(data),
                           source=name, info=extra), problems


def match_predictions(gt: PanopticDataset, pred: PanopticDataset) -> np.ndarray:
    """The prediction row of every ground-truth image.

    Raises:
        MissingPredictionError: Ground-truth images without a prediction (panopticapi
            stops at the first with "no prediction for the image").
    """
    row = pred.lookup(gt.image_ids)
    missing = np.flatnonzero(row < 0)
    if len(missing):
        problems = [Problem(pred.source, f"no prediction for image_id {int(gt.image_ids[i])}"
                            f" (ground truth {gt.source} annotations[{i}])")
                    for i in missing[:MAX_LISTED].tolist()]
        if len(missing) > MAX_LISTED:
            problems.append(Problem(pred.source, f"... {len(missing) - MAX_LISTED} more images"
                                                 " without a prediction"))
        raise MissingPredictionError(problems)
    return row


# ------------------------------------------------------------------------------ the PNGs


def read_panoptic_png(path: Path, *, decoder: str | None = None) -> np.ndarray:
    """A panoptic PNG as decoded ``(H, W, 3|4)`` uint8 (see :func:`io.png.decode_rgb`)."""
    return decode_rgb(read_png_bytes(path), path, decoder=decoder)


@dataclass(frozen=True)
class ImagePair:
    """One ground-truth image and its prediction, read and checked.

    Attributes:
        image_id: The image.
        pairs: Pixel counts of every (GT id, predicted id) pair; ``None`` when there are
            problems.
        problems: What is wrong with the two PNGs against their ``segments_info``, each
            with a kind (``"png-unreadable"``, ``"png-size"``, ``"png-id-unlisted"``,
            ``"json-id-absent"``) for summaries.
        area_mismatches: GT segments whose JSON ``area`` differs from their pixel count,
            as ``(segment id, JSON area, pixels)``.
        id_maps: ``(GT, prediction)`` id maps, when asked for (``keep_id_maps``) and there
            are no problems; else ``None``.
    """

    image_id: int
    pairs: SegmentPairs | None
    problems: list[tuple[str, Problem]]
    area_mismatches: list[tuple[int, float, int]]
    id_maps: tuple[np.ndarray, np.ndarray] | None = None


def _decode(path: Path, problems: list[tuple[str, Problem]], decoder: str | None
            ) -> np.ndarray | None:
    try:
        return read_panoptic_png(path, decoder=decoder)
    except InputError as exc:
        problems.extend(("png-unreadable", p) for p in exc.problems)
        return None


def _compare_ids(present: np.ndarray, pixels: np.ndarray, segments: Segments, image_id: int,
                 png: Path, json_name: str, record: int) -> list[tuple[str, Problem]]:
    """Segment ids found in a PNG versus its ``segments_info``, both directions."""
    in_png = dict(zip(present.tolist(), pixels.tolist(), strict=True))
    in_png.pop(VOID, None)
    listed = segments.ids.tolist()
    if in_png.keys() == set(listed):  # the common case, checked on small Python sets
        return []
    out: list[tuple[str, Problem]] = [("png-id-unlisted", Problem(
        str(png), f"segment {sid} is in the PNG ({n} pixels) but not in segments_info"
                  f" (image_id={image_id}, {json_name})"))
        for sid, n in in_png.items() if sid not in set(listed)]
    out.extend(("json-id-absent", Problem(
        json_name, f"segment {sid} (category {int(segments.category_ids[j])}) is in"
                   f" segments_info but not in the PNG (image_id={image_id}, file={png})",
        j, f"annotations[{record}].segments_info"))
        for j, sid in enumerate(listed) if sid not in in_png)
    return out


def read_image_pair(gt: PanopticSource, gt_row: int, pred: PanopticSource, pred_row: int,
                    *, decoder: str | None = None, keep_id_maps: bool = False) -> ImagePair:
    """Decode one image's two PNGs, count pair overlaps and check ids against the JSONs.

    Problems are collected, never raised: the caller decides whether to stop. With
    ``keep_id_maps``, the two decoded id maps come back too (Boundary PQ needs them).
    """
    image_id = int(gt.dataset.image_ids[gt_row])
    gt_png, pred_png = gt.png_path(gt_row), pred.png_path(pred_row)
    problems: list[tuple[str, Problem]] = []
    gt_rgb = _decode(gt_png, problems, decoder)
    pred_rgb = _decode(pred_png, problems, decoder)
    if gt_rgb is not None and pred_rgb is not None and gt_rgb.shape[:2] != pred_rgb.shape[:2]:
        (h, w), (ph, pw) = gt_rgb.shape[:2], pred_rgb.shape[:2]
        problems.append(("png-size", Problem(
            str(pred_png), f"is {pw}x{ph} pixels but the ground-truth PNG {gt_png} is"
                           f" {w}x{h} (image_id={image_id})")))
        pred_rgb = None
    pairs = None
    if gt_rgb is not None and pred_rgb is not None:
        pairs = segment_pairs_rgb(gt_rgb, pred_rgb)
    # an image whose partner could not be read is still checked on its own
    gt_pairs = pairs if pairs is not None or gt_rgb is None else segment_pairs_rgb(gt_rgb,
                                                                                   gt_rgb)
    pred_pairs = (pairs if pairs is not None or pred_rgb is None
                  else segment_pairs_rgb(pred_rgb, pred_rgb))
    gt_segments = gt.dataset.image_segments(gt_row)
    mismatches: list[tuple[int, float, int]] = []
    if gt_pairs is not None:
        ids, pixels = gt_pairs.gt_areas()
        problems += _compare_ids(ids, pixels, gt_segments, image_id, gt_png,
                                 gt.dataset.source, gt_row)
        mismatches = _area_mismatches(ids, pixels, gt_segments)
    if pred_pairs is not None:
        ids, pixels = pred_pairs.pred_areas()
        problems += _compare_ids(ids, pixels, pred.dataset.image_segments(pred_row), image_id,
                                 pred_png, pred.dataset.source, pred_row)
    id_maps = None
    if keep_id_maps and not problems and gt_rgb is not None and pred_rgb is not None:
        id_maps = (rgb_to_ids(gt_rgb), rgb_to_ids(pred_rgb))
    return ImagePair(image_id, pairs if not problems else None, problems, mismatches, id_maps)


def _area_mismatches(ids: np.ndarray, pixels: np.ndarray, segments: Segments
                     ) -> list[tuple[int, float, int]]:
    pos = np.searchsorted(ids, segments.ids)
    found = pos < len(ids)
    found[found] = ids[pos[found]] == segments.ids[found]
    counted = np.zeros(len(segments), dtype=np.int64)
    counted[found] = pixels[pos[found]]
    differ = np.flatnonzero(found & (counted != segments.areas))
    return [(int(segments.ids[j]), float(segments.areas[j]), int(counted[j]))
            for j in differ.tolist()]


_KIND_TEXT = {
    "png-unreadable": "unreadable or non-RGB PNGs",
    "png-size": "prediction PNGs whose size differs from the ground truth's",
    "png-id-unlisted": "segment ids in a PNG but not in its segments_info",
    "json-id-absent": "segments in segments_info but not in their PNG",
}


def summarise_problems(problems: Sequence[tuple[str, Problem]]) -> list[Problem]:
    """At most :data:`MAX_LISTED` problems of each kind, then one line counting the rest."""
    out: list[Problem] = []
    per_kind: dict[str, int] = {}
    for kind, p in problems:
        per_kind[kind] = per_kind.get(kind, 0) + 1
        if per_kind[kind] <= MAX_LISTED:
            out.append(p)
    for kind, n in per_kind.items():
        if n > MAX_LISTED:
            out.append(Problem("<png>", f"... {n - MAX_LISTED} more: {_KIND_TEXT.get(kind, kind)}"))
    return out


# ------------------------------------------------------------------- frames (converters)


def read_frames(src: PanopticSource, *, decoder: str | None = None
                ) -> Iterator[PanopticFrame]:
    """Every image of a panoptic dataset as an in-memory frame, in annotation order.

    Raises:
        InputError: A PNG is unreadable or its ids disagree with its ``segments_info``.
    """
    data = src.dataset
    for i in range(len(data)):
        path = src.png_path(i)
        ids = rgb_to_ids(read_panoptic_png(path, decoder=decoder))
        present, pixels = np.unique(ids, return_counts=True)
        segments = data.image_segments(i)
        image_id = int(data.image_ids[i])
        problems = _compare_ids(present, pixels, segments, image_id, path, data.source, i)
        if problems:
            raise ConsistencyError([p for _, p in problems])
        yield PanopticFrame(image_id=image_id, id_map=ids, segments=segments)


def write_coco_panoptic(frames: Iterable[PanopticFrame], categories: PanopticCategories,
                        json_path: str | Path, folder: str | Path | None = None, *,
                        file_names: dict[int, str] | None = None,
                        extra: dict[str, Any] | None = None) -> Path:
    """Write frames as COCO panoptic: one RGB PNG per frame plus the JSON.

    Each segment's ``area`` and ``bbox`` are computed from its pixels; segments without
    pixels are left out (they could not be found in the PNG).

    Args:
        frames: The images.
        categories: Written as ``categories`` (records, with ``isthing``).
        json_path: The JSON to write.
        folder: The PNG folder; default: ``json_path`` without ``.json`` (panopticapi's).
        file_names: PNG file name per image id; default ``<image id, 12 digits>.png``.
        extra: Other top-level fields (``images``, ``info``, ``licenses``).

    Returns:
        The PNG folder.
    """
    out = Path(folder) if folder is not None else default_folder(json_path)
    out.mkdir(parents=True, exist_ok=True)
    names = file_names or {}
    annotations = []
    for frame in frames:
        name = names.get(frame.image_id, f"{frame.image_id:012d}.png")
        write_png(out / name, ids_to_rgb(frame.id_map))
        seg = frame.segments
        areas, boxes = box_and_area(frame.id_map, seg.ids)
        annotations.append({"image_id": frame.image_id, "file_name": name, "segments_info": [
            {"id": int(seg.ids[j]), "category_id": int(seg.category_ids[j]),
             "iscrowd": int(seg.iscrowd[j]), "area": int(areas[j]), "bbox": boxes[j].tolist()}
            for j in np.flatnonzero(areas > 0).tolist()]})
    records = [dict(r, isthing=int(t)) if isinstance(r, dict) else
               {"id": int(c), "name": n, "isthing": int(t)}
               for r, c, n, t in zip(categories.records or [None] * len(categories),
                                     categories.ids.tolist(), categories.names,
                                     categories.isthing.tolist(), strict=True)]
    write_json(json_path, {**(extra or {}), "annotations": annotations, "categories": records})
    return out
