"""COCO segmentations (polygons, compressed and uncompressed RLE) <-> decoded masks.

Reproduces ``COCO.annToRLE`` for ground truth (polygons rasterised by pycocotools'
``rleFrPoly``) and ``COCO.loadRes`` for results (RLE; polygons and box outlines under its
bbox branch), and refuses what pycocotools would
crash on or silently mis-score: malformed RLE, polygons beyond its rasteriser's range, masks
whose size is not the image's.
"""

from __future__ import annotations

__all__ = ["MAX_COORDINATE", "Rle", "check_compressed", "gt_masks", "rasterize_by_size",
           "result_masks", "result_polygons"]

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark_eval.io.records import ProblemList
from benchmark_eval.masks import (
    RleCheck,
    can_rasterize,
    check_compressed_rles,
    combine_runs,
    compress_uncompressed,
    polygons_to_rles,
    rasterize_polygons,
)
from benchmark_eval.schema import Images, MaskRuns

Rle = dict[str, Any]


def gt_masks(
    anns: list[dict[str, Any]], row: np.ndarray, images: Images, problems: ProblemList
) -> tuple[list[Rle] | None, MaskRuns | None]:
    """The masks of every annotation, as ``COCO.annToRLE`` makes them.

    With the C kernels: decoded runs only (polygons rasterised by pycocotools' own
    ``rleFrPoly`` in one call, RLE decoded and checked in one call). Without: compressed
    RLE dicts from pycocotools' Python API, one ``frPyObjects`` call per image size.
    """
    segs: list[Any] = [a.get("segmentation") for a in anns]
    is_poly = np.fromiter((type(s) is list for s in segs), dtype=bool, count=len(segs))
    poly_rows = np.flatnonzero(is_poly)
    flat = _polygon_numbers([segs[i] for i in poly_rows.tolist()])
    if flat is None:
        for i in poly_rows.tolist():
            _polygon_ok(segs[i], i, problems, "annotations")
    heights, widths = images.heights[row], images.widths[row]
    rle_rows = np.flatnonzero(~is_poly)
    rles: list[Any] = [_gt_rle(segs[i], int(heights[i]), int(widths[i]), i, problems)
                       for i in rle_rows.tolist()]
    if problems or flat is None:
        return None, None
    if can_rasterize():
        coords, part_lengths = flat
        parts_per_object = np.fromiter((len(segs[i]) for i in poly_rows.tolist()),
                                       dtype=np.int64, count=len(poly_rows))
        poly_runs = rasterize_polygons(coords, part_lengths, parts_per_object,
                                       heights[poly_rows], widths[poly_rows])
        check = check_compressed(rles, rle_rows.tolist(), "annotations", problems)
        if problems or check.runs is None:
            return None, None
        return None, combine_runs([(poly_rows, poly_runs), (rle_rows, check.runs)], len(segs))
    out: list[Any] = [None] * len(anns)
    for i, rle in zip(poly_rows.tolist(), rasterize_by_size(
            [segs[i] for i in poly_rows.tolist()], heights[poly_rows], widths[poly_rows]),
            strict=True):
        out[i] = rle
    for i, rle in zip(rle_rows.tolist(), rles, strict=True):
        out[i] = rle
    check = check_compressed(out, list(range(len(out))), "annotations", problems)
    return (None, None) if problems else (out, check.runs)


def rasterize_by_size(polygons: list[Any], heights: np.ndarray, widths: np.ndarray
                      ) -> list[Rle]:
    """Multi-part polygons as compressed RLE, each at its own image size (``annToRLE``:
    ``frPyObjects`` + ``merge``), one pycocotools call per distinct size."""
    out: list[Any] = [None] * len(polygons)
    size_key = heights * (int(widths.max(initial=0)) + 1) + widths
    for key in np.unique(size_key):
        idx = np.flatnonzero(size_key == key).tolist()
        for i, rle in zip(idx, polygons_to_rles([polygons[i] for i in idx],
                                                int(heights[idx[0]]), int(widths[idx[0]])),
                          strict=True):
            out[i] = rle
    return out


def _gt_rle(seg: Any, h: int, w: int, i: int, problems: ProblemList) -> Rle | None:
    """A GT RLE segmentation as compressed RLE; ``None`` after recording a problem."""
    if not isinstance(seg, dict):
        got = "missing" if seg is None else type(seg).__name__
        problems.add(f"'segmentation' must be polygons or RLE, got {got}", i, "annotations",
                     kind="segmentation missing or malformed")
        return None
    if not _rle_header_ok(seg, h, w, i, "annotations", problems):
        return None
    if isinstance(seg["counts"], list):
        if not _uncompressed_ok(seg["counts"], h, w, i, problems):
            return None
        rle: Rle = compress_uncompressed([seg], h, w)[0]
        return rle
    return seg


# pycocotools' rleFrPoly scales coordinates by 5 into a C int and allocates along the
# outline: beyond this it overflows or exhausts memory (a segfault, not an error).
MAX_COORDINATE = 2.0**20


def _polygon_numbers(polys: list[list[Any]]) -> tuple[np.ndarray, np.ndarray] | None:
    """All polygon coordinates (float64) and numbers per part, if every polygon is a
    non-empty list of even lists of >= 6 finite numbers within :data:`MAX_COORDINATE`
    (one bulk check); else None."""
    if not all(polys):
        return None
    parts = [part for poly in polys for part in poly]
    if not set(map(type, parts)) <= {list}:
        return None
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    if ((lengths < 6) | (lengths % 2 == 1)).any():
        return None
    numbers = list(itertools.chain.from_iterable(parts))
    if not set(map(type, numbers)) <= {int, float}:
        return None
    coords = np.array(numbers, dtype=np.float64)
    ok = np.isfinite(coords).all() and np.abs(coords).max(initial=0.0) <= MAX_COORDINATE
    return (coords, lengths) if ok else None


def _polygon_ok(seg: list[Any], i: int, problems: ProblemList, field: str) -> bool:
    if not seg:
        problems.add("'segmentation' is an empty polygon list", i, field,
                     kind="empty polygon list")
        return False
    for part in seg:
        if (not isinstance(part, list) or len(part) < 6 or len(part) % 2
                or not all(type(x) in (int, float) and math.isfinite(x) for x in part)):
            n = len(part) if isinstance(part, list) else type(part).__name__
            problems.add(
                f"polygon part must be an even list of >= 6 finite numbers, got {n}", i,
                field, kind="malformed polygon")
            return False
        if max(abs(x) for x in part) > MAX_COORDINATE:
            problems.add(f"polygon coordinate beyond +-{MAX_COORDINATE:g} pixels (pycocotools'"
                         " rasteriser would overflow)", i, field,
                         kind="polygon coordinate out of range")
            return False
    return True


def _rle_header_ok(seg: dict[str, Any], h: int, w: int, i: int, field: str,
                   problems: ProblemList) -> bool:
    size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(type(x) is int for x in size)):
        problems.add(f"RLE 'size' must be [height, width], got {size!r}", i, field,
                     kind="malformed RLE size")
        return False
    if not isinstance(counts, (str, list)):
        problems.add(f"RLE 'counts' must be a string or a list, got {type(counts).__name__}",
                     i, field, kind="malformed RLE counts")
        return False
    if size != [h, w]:
        problems.add(f"mask size {size} differs from the image size [{h}, {w}]", i, field,
                     kind="mask size differs from image", consistency=True)
        return False
    return True


_MAX_RUN = 2**32 - 1  # pycocotools stores run lengths as uint32


def _uncompressed_ok(counts: list[Any], h: int, w: int, i: int, problems: ProblemList,
                     field: str = "annotations") -> bool:
    if (not set(map(type, counts)) <= {int} or any(c < 0 or c > _MAX_RUN for c in counts)
            or sum(counts) != h * w):
        problems.add(f"uncompressed RLE counts must be non-negative integers (< 2^32) summing"
                     f" to h*w = {h * w}", i, field, kind="malformed uncompressed RLE")
        return False
    return True


def check_compressed(rles: Sequence[Rle], index: Sequence[int], field: str,
                      problems: ProblemList, *, sizes: np.ndarray | None = None,
                      store: np.ndarray | None = None,
                      counts: Sequence[Any] | None = None) -> RleCheck:
    """Decode and check compressed RLE dicts; problems name the records by ``index``.

    Args:
        sizes: The masks' ``[h, w]`` if already known, ``(N, 2)``.
        store: Keep the decoded runs of these masks only (all are checked).
        counts: The masks' ``counts`` if already extracted.
    """
    if counts is None:
        counts = [r["counts"] for r in rles]
    if sizes is None:
        sizes = np.array([r["size"] for r in rles], dtype=np.int64).reshape(-1, 2)
    check = check_compressed_rles(counts, sizes[:, 0], sizes[:, 1], store=store)
    for j in np.flatnonzero(~check.ok).tolist():
        problems.add(check.reason[j], index[j], field, kind=f"{field}: malformed RLE")
    return check


def _result_segmentations(data: list[dict[str, Any]], problems: ProblemList
                          ) -> tuple[list[Rle], list[Any], np.ndarray] | None:
    """The RLE dicts, their ``counts`` and their sizes ``(N, 2)``; ``None`` after recording
    problems. One pass per field; the record-by-record walk only runs on failure."""
    field = "results"
    segs: list[Any] = [r.get("segmentation") for r in data]
    try:
        counts = [s["counts"] for s in segs]
        sizes = [s["size"] for s in segs]
        well_formed = set(map(type, counts)) <= {str, list}
    except (KeyError, TypeError):
        well_formed = False
    if not well_formed:
        bad = np.array([not (isinstance(s, dict) and "size" in s
                             and isinstance(s.get("counts"), (str, list))) for s in segs])
        problems.add_where(bad, field, "segmentation not RLE", lambda i: (
            "missing 'segmentation'" if segs[i] is None else
            "'segmentation' must be an RLE object with 'size' and 'counts' (pycocotools'"
            " loadRes takes polygons in results only when the first result has a 'bbox')"))
        return None
    if not (set(map(type, sizes)) <= {list} and set(map(len, sizes)) <= {2}
            and set(map(type, itertools.chain.from_iterable(sizes))) <= {int}):
        bad = np.array([not (isinstance(z, list) and len(z) == 2
                             and all(type(x) is int for x in z)) for z in sizes])
        problems.add_where(bad, field, "malformed RLE size",
                           lambda i: f"RLE 'size' must be [height, width], got {sizes[i]!r}")
        return None
    return segs, counts, np.array(sizes, dtype=np.int64).reshape(-1, 2)


_PLACEHOLDER = {"segmentation": {"size": [0, 0], "counts": ""}}


def result_polygons(data: list[dict[str, Any]], boxes: np.ndarray, problems: ProblemList
                    ) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray, list[Any]]:
    """Under ``loadRes``' bbox branch (the first result has a ``bbox``), the records whose
    ``segmentation`` is polygons, or absent (then the box's outline ``[[x1, y1, x1, y2,
    x2, y2, x2, y1]]``): ``annToRLE`` rasterises them at their image's size.

    Returns:
        ``data`` with those records replaced by a placeholder RLE, the rows given as
        polygons, the rows without a segmentation, and every deferred row's polygons
        (rows: polygons first, then the box outlines, each ascending).
    """
    segs = [r.get("segmentation") for r in data]
    poly = np.array([i for i, g in enumerate(segs) if type(g) is list], dtype=np.int64)
    absent = np.array([i for i, g in enumerate(segs) if g is None], dtype=np.int64)
    if not len(poly) and not len(absent):
        return data, poly, absent, []
    polygons: list[Any] = [segs[i] for i in poly.tolist()]
    if _polygon_numbers(polygons) is None:
        for i in poly.tolist():
            _polygon_ok(segs[i], i, problems, "results")
    for x, y, w, h in boxes[absent].tolist():
        polygons.append([[x, y, x, y + h, x + w, y + h, x + w, y]])
    deferred = set(poly.tolist()) | set(absent.tolist())
    return ([_PLACEHOLDER if i in deferred else r for i, r in enumerate(data)], poly, absent,
            polygons)


def result_masks(data: list[dict[str, Any]], problems: ProblemList
                 ) -> tuple[list[Rle], list[Any], np.ndarray] | None:
    """The results' masks as compressed RLE (uncompressed RLE converted), their ``counts``
    and sizes ``(N, 2)``; ``None`` after recording problems (every mask is still checked,
    so ``validate`` lists every problem)."""
    field = "results"
    parsed = _result_segmentations(data, problems)
    if parsed is None:
        return None
    segs, counts, size = parsed
    rles: list[Rle] = segs
    bad = np.zeros(len(segs), dtype=bool)
    if list in set(map(type, counts)):  # uncompressed RLE in results: converted one by one
        rles = list(segs)
        for i in [i for i, c in enumerate(counts) if type(c) is list]:
            h, w = int(size[i, 0]), int(size[i, 1])
            if _uncompressed_ok(counts[i], h, w, i, problems, field):
                rles[i] = compress_uncompressed([segs[i]], h, w)[0]
                counts[i] = rles[i]["counts"]
            else:
                bad[i] = True
    if bad.any():  # still check the other masks, so validate lists every problem
        ok = np.flatnonzero(~bad).tolist()
        check_compressed([rles[i] for i in ok], ok, field, problems, sizes=size[ok])
        return None
    return rles, counts, size
