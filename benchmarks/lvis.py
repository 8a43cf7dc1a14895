"""LVIS speed benchmark: lvis-api 0.5.3 vs benchmark_eval lvis-bbox / lvis-segm vs a floor.

Every measurement runs end to end (import, read the JSON files, evaluate, summarize) in a fresh
subprocess, which reports its wall time, peak RSS and the 13 ``LVISEval.results`` as JSON on
stdout. lvis-api takes minutes at full scale; ``--official-images M`` also times it on the
first M images and extrapolates per image (labelled as such).

Usage: ``python benchmarks/lvis.py [--images 5000] [--seed 0] [--iou-type bbox|segm|both]
[--official-images M] [--repeat K] [--skip-official] [--json OUT]``
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()  # the worker's clock starts before any heavy import

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import _harness as bench  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MAX_DETS = 300  # LVIS' per-image cap
PACKAGES = ("numpy", "orjson", "pycocotools", "lvis", "hotcoco", "benchmark-eval")
KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf",
        "AR@300", "ARs@300", "ARm@300", "ARl@300")


# --------------------------------------------------------------------------------------------
# Worker side: one tool, one iou type, in a fresh process
# --------------------------------------------------------------------------------------------


def _run_lvis_api(iou: str, gt: str, pred: str, workers: int) -> list[float]:
    """lvis-api 0.5.3: LVIS, LVISResults, LVISEval(...).run(), print_results()."""
    import warnings

    import numpy as np

    if not hasattr(np, "float"):  # lvis 0.5.3 calls np.float, removed in numpy 1.24
        setattr(np, "float", float)  # noqa: B010
    # this script is itself called lvis.py: import the package, not the script's folder
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    from lvis import LVIS, LVISEval, LVISResults

    warnings.simplefilter("ignore", DeprecationWarning)  # its logger.warn calls
    lvis_gt = LVIS(gt)
    ev = LVISEval(lvis_gt, LVISResults(lvis_gt, pred), iou)
    ev.run()
    ev.print_results()
    return [float(ev.results[k]) for k in KEYS]


def _run_hotcoco(iou: str, gt: str, pred: str, workers: int) -> list[float]:
    """hotcoco 1.3.0 (Rust): its lvis-api-shaped LVIS, LVISResults (300 per image), LVISeval."""
    from hotcoco import LVIS, LVISeval, LVISResults

    lvis_gt = LVIS(gt)
    ev = LVISeval(lvis_gt, LVISResults(lvis_gt, pred), iou)
    ev.run()
    results = ev.get_results()
    return [float(results[k]) for k in KEYS]


def _run_benchmark_eval(iou: str, gt: str, pred: str, workers: int) -> list[float]:
    """benchmark_eval.evaluate with the given number of worker processes."""
    import benchmark_eval  # type: ignore[import-not-found,unused-ignore]

    result = benchmark_eval.evaluate(f"lvis-{iou}", gt=gt, pred=pred, workers=workers)
    return [float(result.results[k]) for k in KEYS]


def _capped(dts: list[bench.Record]) -> Any:
    """Indices of the detections LVIS keeps: the top 300 scores of each image (stable)."""
    import numpy as np

    img = np.fromiter((d["image_id"] for d in dts), dtype=np.int64, count=len(dts))
    score = np.fromiter((d["score"] for d in dts), dtype=np.float64, count=len(dts))
    order = np.lexsort((np.arange(len(dts)), -score, img))
    s = img[order]
    rank = np.arange(len(s)) - np.searchsorted(s, s, side="left")
    return np.sort(order[rank < MAX_DETS])


def _pairs(gt_data: bench.Record, dts: list[bench.Record], keep: Any) -> tuple[Any, Any]:
    """(detection row, GT row) of every overlap to compute: kept detections x the GT of the
    same (image, category)."""
    import numpy as np

    anns = gt_data["annotations"]
    ncat = max(c["id"] for c in gt_data["categories"]) + 1
    g_key = np.fromiter((a["image_id"] * ncat + a["category_id"] for a in anns),
                        dtype=np.int64, count=len(anns))
    d_key = np.fromiter((dts[i]["image_id"] * ncat + dts[i]["category_id"]
                         for i in keep.tolist()), dtype=np.int64, count=len(keep))
    g_order = np.argsort(g_key, kind="stable")
    g_sorted = g_key[g_order]
    lo = np.searchsorted(g_sorted, d_key, side="left")
    n = np.searchsorted(g_sorted, d_key, side="right") - lo
    di = np.repeat(keep, n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    return di, g_order[np.repeat(lo, n) + offset]


def _floor_bbox(gt_data: bench.Record, dts: list[bench.Record]) -> int:
    """Every box IoU LVISEval needs, in one vectorised shot."""
    import numpy as np

    di, gi = _pairs(gt_data, dts, _capped(dts))
    d_box = np.array([d["bbox"] for d in dts], dtype=np.float64).reshape(-1, 4)
    g_box = np.array([a["bbox"] for a in gt_data["annotations"]],
                     dtype=np.float64).reshape(-1, 4)
    a, b = d_box[di], g_box[gi]
    iw = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return int(iou.size)


def _gt_rles(gt_data: bench.Record) -> list[Any]:
    """Compressed RLE of every GT annotation (polygons rasterised one image at a time)."""
    from pycocotools import mask as mask_utils

    size = {im["id"]: (im["height"], im["width"]) for im in gt_data["images"]}
    by_image: dict[int, list[int]] = {}
    anns = gt_data["annotations"]
    for i, a in enumerate(anns):
        by_image.setdefault(a["image_id"], []).append(i)
    out: list[Any] = [None] * len(anns)
    for img, rows in by_image.items():
        h, w = size[img]
        polys = [p for i in rows for p in anns[i]["segmentation"]]
        rles = mask_utils.frPyObjects(polys, h, w)
        start = 0
        for i in rows:
            k = len(anns[i]["segmentation"])
            part = rles[start:start + k]
            out[i] = part[0] if k == 1 else mask_utils.merge(part)
            start += k
    return out


def _floor_segm(gt_data: bench.Record, dts: list[bench.Record]) -> int:
    """GT polygons to RLE and every mask IoU LVISEval needs, per (image, category)."""
    import numpy as np
    from pycocotools import mask as mask_utils

    di, gi = _pairs(gt_data, dts, _capped(dts))
    g_rles = _gt_rles(gt_data)
    # group the pairs by detection's (image, category): one mask.iou call per group
    anns = gt_data["annotations"]
    g_key = np.fromiter((anns[g]["image_id"] * 10_000 + anns[g]["category_id"]
                         for g in gi.tolist()), dtype=np.int64, count=len(gi))
    order = np.lexsort((gi, di, g_key))
    bounds = np.flatnonzero(np.diff(g_key[order])) + 1
    pairs = 0
    for grp in np.split(order, bounds):
        if not len(grp):
            continue
        d_rows = np.unique(di[grp]).tolist()
        g_rows = np.unique(gi[grp]).tolist()
        ious = mask_utils.iou([dts[d]["segmentation"] for d in d_rows],
                              [g_rles[g] for g in g_rows], [0] * len(g_rows))
        pairs += int(np.size(ious))
    return pairs


RUNNERS: dict[str, Callable[[str, str, str, int], list[float]]] = {
    "floor": bench.floor(_floor_segm, _floor_bbox),  # every overlap LVISEval needs
    "lvis-api": _run_lvis_api,
    "hotcoco": _run_hotcoco,
    "benchmark_eval": _run_benchmark_eval,
}


def worker(tool: str, iou: str, gt: str, pred: str, workers: int) -> bench.Record:
    """Run one measurement in this process and describe it."""
    return bench.worker_record(lambda: RUNNERS[tool](iou, gt, pred, workers), _T_START)


# --------------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------------


def _job(label: str, tool: str, iou: str, gt: Path, pred: Path, workers: int, images: int
         ) -> tuple[str, list[str], bench.Record]:
    """One measurement for :func:`_harness.measure_all`."""
    args = ["--worker", tool, "--iou-type", iou, "--gt", str(gt), "--pred", str(pred),
            "--workers", str(workers)]
    return label, args, {"tool": tool, "workers": workers, "images": images}


def _official_seconds(records: list[bench.Record], images: int) -> tuple[float | None, str]:
    """lvis-api seconds at full scale: measured, else extrapolated per image from a subset."""
    for r in records:
        if r["tool"] == "lvis-api" and r.get("images") == images and "seconds" in r:
            return r["seconds"], "measured"
    for r in records:
        if r["tool"] == "lvis-api" and "seconds" in r:
            return r["seconds"] * images / r["images"], f"extrapolated from {r['images']} images"
    return None, ""


def _reference(records: list[bench.Record], images: int) -> bench.Record | None:
    """The row whose results the others are compared with, at the same scale."""
    for tool in ("lvis-api", "hotcoco", "benchmark_eval"):
        for r in records:
            if r["tool"] == tool and r.get("images") == images and r.get("stats"):
                return r
    return None


def _row(r: bench.Record, t_api: float | None, t_floor: float | None,
         ref: bench.Record | None) -> str:
    """One line of the table."""
    name = bench.row_name(r)
    if "seconds" not in r:
        return f"{name:<40}{'n/a':>9}   ({r.get('error', '')})"
    t = r["seconds"]
    same_scale = r is not ref and ref is not None and ref.get("images") == r.get("images")
    diff = bench.max_diff(r["stats"], ref["stats"]) if same_scale and ref else "-"
    return (f"{name:<40}{t:>9.2f}{r.get('cpu_seconds', 0):>9.2f}{bench.peak_text(r):>11}"
            f"{bench.ratio(t_api, t):>10}{bench.ratio(t, t_floor):>9}{diff:>12}")


def _table(iou: str, records: list[bench.Record], meta: bench.Record) -> str:
    """Human-readable result table of one iou type."""
    images = meta["images"]
    full = [r for r in records if r.get("images") == images]
    sub = [r for r in records if r.get("images") != images]
    t_api, how = _official_seconds(records, images)
    t_floor = next((r["seconds"] for r in full if r["tool"] == "floor" and "seconds" in r),
                   None)
    head = (f"LVIS {iou}: {images} images, {meta['gt_instances']:,} GT, "
            f"{meta['detections']:,} detections (max {meta['detections_per_image']['max']}"
            f" per image); {bench.CORES} cores")
    cols = (f"{'tool':<40}{'seconds':>9}{'cpu s':>9}{'peak MB':>11}{'vs lvis':>10}"
            f"{'x floor':>9}{'max|d|':>12}")
    lines = [head, cols, "-" * len(cols)]
    ref = _reference(records, images)
    lines += [_row(r, t_api, t_floor, ref) for r in full]
    if t_api is not None and how != "measured":
        lines.append(f"{'lvis-api, EXTRAPOLATED (see below)':<40}{t_api:>9.1f}")
    for m in sorted({r["images"] for r in sub}):
        rows = [r for r in sub if r["images"] == m]
        t_sub = next((r["seconds"] for r in rows if r["tool"] == "lvis-api" and "seconds" in r),
                     None)
        lines.append(f"on the first {m} images only:")
        lines += [_row(r, t_sub, None, _reference(rows, m)) for r in rows]
    if any(r.get("background_cores", 0) > bench.BUSY_WARN for r in records):
        lines.append(f"* other processes used > {bench.BUSY_WARN} cores meanwhile: timing is noisy")
    if t_api is not None and how != "measured":
        lines.append(f"'vs lvis' at full scale uses lvis-api's time {how}, x {images} / "
                     f"{how.split()[-2]} (per-image extrapolation, not a measurement)")
    lines.append(bench.hotcoco_line(full))
    if ref:
        lines.append(f"max|d|: largest abs difference of the 13 results against {ref['label']}"
                     + ("; on a subset, against lvis-api on the same images" if sub else ""))
        lines.append("reference results: " + " ".join(
            f"{k}={v:.4f}" for k, v in zip(KEYS, ref["stats"], strict=True)))
    return "\n".join(lines)


def _entries(skip_official: bool, official_images: int | None, images: int
             ) -> list[tuple[str, str, int, int]]:
    """(label, tool, workers, images) of every measurement, in table order."""
    out = [("floor", "floor", 1, images)]
    if not skip_official and official_images is None:
        out.append(("lvis-api 0.5.3", "lvis-api", 1, images))
    out.append(("hotcoco 1.3.0", "hotcoco", 1, images))
    out.append(("benchmark_eval (1 worker)", "benchmark_eval", 1, images))
    if bench.CORES > 1:
        out.append((f"benchmark_eval ({bench.CORES} workers)", "benchmark_eval", bench.CORES,
                    images))
    if official_images is not None:
        if not skip_official:
            out.append((f"lvis-api 0.5.3 ({official_images} images)", "lvis-api", 1,
                        official_images))
        out.append((f"benchmark_eval (1 worker, {official_images} images)", "benchmark_eval",
                    1, official_images))
    return out


def run_iou(iou: str, root: Path, args: argparse.Namespace, meta: bench.Record
            ) -> list[bench.Record]:
    """All measurements of one iou type; prints its table."""
    print(f"[{iou}] measuring ...", file=sys.stderr, flush=True)
    jobs = []
    for label, tool, workers, n in _entries(args.skip_official, args.official_images,
                                            meta["images"]):
        gt, pred = root / "gt.json", root / f"{iou}.json"
        if n != meta["images"]:
            gt, pred = root / f"gt-{n}.json", root / f"{iou}-{n}.json"
        jobs.append(_job(label, tool, iou, gt, pred, workers, n))
    records = bench.measure_all(Path(__file__).resolve(), jobs, REPO, args.repeat)
    cache = root / f"official-{iou}.json"
    cached = json.loads(cache.read_text()) if cache.exists() else []
    if args.skip_official:
        for rec in cached:
            rec["cached"] = True
        records[1:1] = [r for r in cached if r["images"] == meta["images"]]
        records += [r for r in cached if r["images"] != meta["images"]]
    else:  # keep the other scale's cached measurement
        fresh = [r for r in records if r["tool"] == "lvis-api" and "seconds" in r]
        scales = {r["images"] for r in fresh}
        keep = [r for r in cached if r["images"] not in scales]
        cache.write_text(json.dumps(keep + fresh, indent=1))
    print(_table(iou, records, meta) + "\n", flush=True)
    return records


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (driver, or ``--worker`` inside a measurement subprocess)."""
    ap = bench.parser(__doc__, 5000, RUNNERS, iou_types=True)
    ap.add_argument("--official-images", type=int, default=None, metavar="M",
                    help="time lvis-api on the first M images only (and benchmark_eval there"
                         " too, for the agreement check); its full-scale time is extrapolated"
                         " per image and labelled as such")
    ap.add_argument("--skip-official", action="store_true",
                    help="do not run lvis-api; reuse its cached measurements")
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.iou_type, args.gt, args.pred, args.workers)))
        return 0
    if args.official_images is not None and not 0 < args.official_images < args.images:
        ap.error("--official-images must be between 1 and --images - 1")

    subset = [] if args.official_images is None else ["--subset", args.official_images]
    root, meta = bench.generated(HERE / "lvis_data.py", "--images", args.images, "--seed",
                                 args.seed, *subset)
    results = bench.per_iou_type(args.iou_type, lambda iou: run_iou(iou, root, args, meta))
    bench.write_results(args.json, meta, PACKAGES, args.repeat, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
