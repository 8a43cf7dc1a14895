"""COCO panoptic PNGs: where they are, how they are read, and how they are checked against
their ``segments_info``.

A PNG's RGB encodes the segment id (``R + 256 G + 256² B``, 0 = VOID); the folder defaults to
the JSON path without ``.json``, as in panopticapi. Each image's two PNGs are checked as they
are read (:func:`read_image_pair`): that is where ids missing on either side, sizes that
differ and non-RGB PNGs are found.
"""

from __future__ import annotations

__all__ = [
    "ImagePair",
    "PanopticSource",
    "check_folders",
    "default_folder",
    "read_frames",
    "read_image_pair",
    "read_panoptic_png",
    "summarise_problems",
    "write_coco_panoptic",
]

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    InputError,
    Problem,
    cut_problems,
)
from benchmark_eval.io.jsonfile import write_json
from benchmark_eval.io.panoptic_json import ImageNames, image_label
from benchmark_eval.io.png import (
    bad_crc_chunks,
    decode_rgb,
    png_header,
    read_png_bytes,
    write_png,
)
from benchmark_eval.io.safe import png_size, read_head, resolve_inside
from benchmark_eval.masks.panoptic import (
    SegmentPairs,
    box_and_area,
    ids_to_rgb,
    rgb_to_ids,
    segment_pairs_rgb,
)
from benchmark_eval.schema.panoptic import (
    VOID,
    PanopticCategories,
    PanopticDataset,
    PanopticFrame,
    Segments,
)


@dataclass(frozen=True)
class PanopticSource:
    """A checked panoptic JSON and the folder its PNGs are in.

    Attributes:
        dataset: The JSON content.
        folder: The PNG folder (``None``: in-memory JSON without a folder; reading a PNG
            then fails with a message saying so).
        names: Original image ids by number, when the adapter renumbered them (problems
            name images by those).
        allow_outside: Follow ``file_name`` symlinks that lead out of :attr:`folder` (the
            user's opt-in, ``--allow-symlinks``); absolute names and ``..`` never are.
    """

    dataset: PanopticDataset
    folder: Path | None
    names: ImageNames | None = None
    allow_outside: bool = False

    def image_label(self, i: int) -> str:
        """How problems name the image of annotation record ``i``."""
        return image_label(self.dataset.image_ids[i], self.names)

    def png_path(self, i: int) -> Path:
        """The PNG of annotation record ``i``, inside :attr:`folder`
        (:func:`io.safe.resolve_inside`).

        Raises:
            ConfigError: In-memory JSON without a folder.
            FormatError: A ``file_name`` leading outside the folder.
        """
        if self.folder is None:
            raise ConfigError(f"{self.dataset.source}: no PNG folder given for in-memory JSON")
        return resolve_inside(self.folder, self.dataset.file_names[i],
                              where=self.dataset.source, allow_outside=self.allow_outside,
                              record=i, field="annotations")

    @functools.cached_property
    def _image_rows(self) -> np.ndarray | None:
        images = self.dataset.images
        return None if images is None else images.lookup(self.dataset.image_ids)

    def declared_size(self, i: int) -> tuple[int, int] | None:
        """``(height, width)`` of annotation record ``i``'s image in ``images[]``, if listed."""
        images, rows = self.dataset.images, self._image_rows
        if images is None or rows is None or rows[i] < 0:
            return None
        return int(images.heights[rows[i]]), int(images.widths[rows[i]])

    def size_mismatches(self) -> list[str]:
        """The images whose PNG header gives another size than ``images[]`` (panopticapi
        never reads ``images[]``: the PNG size is used), as ``"139 (PNG 640x480,
        images[] 641x480)"``; PNGs that cannot be read are left to the readers."""
        out = []
        for i in range(len(self.dataset) if self.dataset.images is not None else 0):
            declared = self.declared_size(i)
            try:
                found = png_size(read_head(self.png_path(i), 24)) if declared else None
            except InputError:
                continue
            if found is not None and declared is not None and found != declared:
                out.append(f"{self.image_label(i)} (PNG {found[1]}x{found[0]}, images[]"
                           f" {declared[1]}x{declared[0]})")
        return out


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


def check_folders(*sources: tuple[PanopticSource, str]) -> None:
    """Every ``(source, option name)`` has a PNG folder, and it exists.

    Raises:
        ConfigError: In-memory JSON without a folder.
        FormatError: The folder does not exist.
    """
    for src, option in sources:
        if src.folder is None:
            raise ConfigError(f"{src.dataset.source}: give the PNG folder ({option}) for JSON"
                              " passed as an object")
        if not src.folder.is_dir():
            raise FormatError(Problem(str(src.folder), f"PNG folder not found (for"
                                                       f" {src.dataset.source}; {option})"))


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
            ``"json-id-absent"``; with ``files``: ``"images-size"``, ``"png-crc"``) for
            summaries.
        id_maps: ``(GT, prediction)`` id maps, when asked for (``keep_id_maps``) and there
            are no problems; else ``None``.
    """

    image_id: int
    pairs: SegmentPairs | None
    problems: list[tuple[str, Problem]]
    id_maps: tuple[np.ndarray, np.ndarray] | None = None

    def error(self) -> InputError:
        """The exception ``evaluate`` raises for :attr:`problems`: :class:`FormatError` if a
        PNG is unreadable, else :class:`ConsistencyError`."""
        unreadable = any(kind == "png-unreadable" for kind, _ in self.problems)
        cls = FormatError if unreadable else ConsistencyError
        return cls([p for _, p in self.problems])


def _png(src: PanopticSource, row: int, problems: list[tuple[str, Problem]]) -> Path | None:
    try:
        return src.png_path(row)
    except InputError as exc:
        problems.extend(("png-unreadable", p) for p in exc.problems)
        return None


def _decode(path: Path | None, problems: list[tuple[str, Problem]], decoder: str | None,
            size_problem: Callable[[int, int], Problem | None] | None = None, *,
            files: bool = False) -> np.ndarray | None:
    """The PNG decoded; ``size_problem(height, width)`` is asked about the header's size
    first (a problem: the file is not inflated). ``files``: also report chunks with a wrong
    CRC (accepted by Pillow, hence by panopticapi and ``evaluate``)."""
    if path is None:
        return None
    try:
        data = read_png_bytes(path)
        header = png_header(data, path)
        found = size_problem(header.height, header.width) if size_problem else None
        if found is not None:
            problems.append(("png-size", found))
            return None
        crc = bad_crc_chunks(data) if files else []
        if crc:
            problems.append(("png-crc", Problem(
                str(path), f"corrupt file: wrong CRC in its {', '.join(sorted(set(crc)))}"
                           " chunk(s) (panopticapi's Pillow ignores IDAT CRCs and scores the"
                           " pixels; evaluate does the same)")))
        return decode_rgb(data, path, decoder=decoder)
    except InputError as exc:
        problems.extend(("png-unreadable", p) for p in exc.problems)
        return None


def _compare_ids(present: np.ndarray, pixels: np.ndarray, segments: Segments, image: str,
                 png: Path | None, json_name: str, record: int) -> list[tuple[str, Problem]]:
    """Segment ids found in a PNG versus its ``segments_info``, both directions."""
    in_png = dict(zip(present.tolist(), pixels.tolist(), strict=True))
    in_png.pop(VOID, None)
    listed = segments.ids.tolist()
    if in_png.keys() == set(listed):  # the common case, checked on small Python sets
        return []
    out: list[tuple[str, Problem]] = [("png-id-unlisted", Problem(
        str(png), f"segment {sid} is in the PNG ({n} pixels) but not in segments_info"
                  f" (image_id={image}, {json_name})"))
        for sid, n in in_png.items() if sid not in set(listed)]
    out.extend(("json-id-absent", Problem(
        json_name, f"segment {sid} (category {int(segments.category_ids[j])}) is in"
                   f" segments_info but not in the PNG (image_id={image}, file={png})",
        j, f"annotations[{record}].segments_info"))
        for j, sid in enumerate(listed) if sid not in in_png)
    return out


def read_image_pair(gt: PanopticSource, gt_row: int, pred: PanopticSource, pred_row: int,
                    *, decoder: str | None = None, keep_id_maps: bool = False,
                    files: bool = False) -> ImagePair:
    """Decode one image's two PNGs, count pair overlaps and check ids against the JSONs.

    Problems are collected, never raised: the caller decides whether to stop. With
    ``keep_id_maps``, the two decoded id maps come back too (Boundary PQ needs them).
    ``files`` (``validate``) also reports what panopticapi accepts silently: a GT PNG whose
    size differs from its ``images[]`` record (panopticapi never reads ``images[]``; the PNG
    size is used) and chunks with a wrong CRC.
    """
    image_id = int(gt.dataset.image_ids[gt_row])
    image = gt.image_label(gt_row)
    problems: list[tuple[str, Problem]] = []
    gt_png, pred_png = _png(gt, gt_row, problems), _png(pred, pred_row, problems)
    declared = gt.declared_size(gt_row) if files else None

    def listed_size(h: int, w: int) -> None:
        if declared is not None and declared != (h, w):
            problems.append(("images-size", Problem(
                str(gt_png), f"is {w}x{h} pixels but images[] of {gt.dataset.source} says"
                             f" {declared[1]}x{declared[0]} (image_id={image}; panopticapi"
                             " uses the PNG size)")))

    gt_rgb = _decode(gt_png, problems, decoder, listed_size, files=files)

    def other_size(ph: int, pw: int) -> Problem | None:
        if gt_rgb is None or (ph, pw) == gt_rgb.shape[:2]:
            return None
        h, w = gt_rgb.shape[:2]
        return Problem(str(pred_png), f"is {pw}x{ph} pixels but the ground-truth PNG {gt_png}"
                                      f" is {w}x{h} (image_id={image})")

    pred_rgb = _decode(pred_png, problems, decoder, other_size, files=files)
    pairs = None
    if gt_rgb is not None and pred_rgb is not None:
        pairs = segment_pairs_rgb(gt_rgb, pred_rgb)
    # an image whose partner could not be read is still checked on its own
    gt_pairs = pairs if pairs is not None or gt_rgb is None else segment_pairs_rgb(gt_rgb,
                                                                                   gt_rgb)
    pred_pairs = (pairs if pairs is not None or pred_rgb is None
                  else segment_pairs_rgb(pred_rgb, pred_rgb))
    if gt_pairs is not None:
        problems += _compare_ids(*gt_pairs.gt_areas(), gt.dataset.image_segments(gt_row),
                                 image, gt_png, gt.dataset.source, gt_row)
    if pred_pairs is not None:
        problems += _compare_ids(*pred_pairs.pred_areas(),
                                 pred.dataset.image_segments(pred_row), image, pred_png,
                                 pred.dataset.source, pred_row)
    id_maps = None
    if keep_id_maps and not problems and gt_rgb is not None and pred_rgb is not None:
        id_maps = (rgb_to_ids(gt_rgb), rgb_to_ids(pred_rgb))
    return ImagePair(image_id, pairs if not problems else None, problems, id_maps)


_KIND_TEXT = {
    "png-unreadable": "unreadable or non-RGB PNGs",
    "png-size": "prediction PNGs whose size differs from the ground truth's",
    "png-id-unlisted": "segment ids in a PNG but not in its segments_info",
    "json-id-absent": "segments in segments_info but not in their PNG",
    "images-size": "ground-truth PNGs whose size differs from images[]",
    "png-crc": "PNGs with a wrong chunk CRC",
}


def summarise_problems(problems: Sequence[tuple[str, Problem]]) -> list[Problem]:
    """The problems grouped by kind, each group cut by :func:`errors.cut_problems`
    (kinds in the order they first occur)."""
    by_kind: dict[str, list[Problem]] = {}
    for kind, p in problems:
        by_kind.setdefault(kind, []).append(p)
    return [q for kind, group in by_kind.items()
            for q in cut_problems(group, kind=_KIND_TEXT.get(kind, kind))]


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
        problems = _compare_ids(present, pixels, segments, src.image_label(i), path,
                                data.source, i)
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
