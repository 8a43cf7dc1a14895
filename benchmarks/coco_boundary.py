"""Boundary AP speed benchmark: benchmark_eval ``coco-boundary`` vs faster-coco-eval vs the floor.

faster-coco-eval 1.8.0 ``COCOeval_faster(iouType="boundary")`` is the reference (boundary-iou-api
itself is not on PyPI). Every measurement runs end to end (import, read the JSON files,
evaluate, summarize) in a fresh subprocess, which reports its wall time, CPU time, peak RSS and
the 12 summary numbers as JSON on stdout. The data is ``coco_data.py``'s COCO-scale set (the
issue's ~190k detections at the default ``--det-scale 0.4``).

Usage: ``python benchmarks/coco_boundary.py [--images 5000] [--seed 0] [--det-scale 0.4]
[--repeat K] [--skip-official] [--json OUT]``
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()  # the worker's clock starts before any heavy import

import json  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import _harness as bench  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MAX_DETS = 100
RATIO = 0.02
PACKAGES = ("numpy", "orjson", "pycocotools", "faster-coco-eval", "benchmark-eval")


# --------------------------------------------------------------------------------------------
# Worker side: one tool in a fresh process
# --------------------------------------------------------------------------------------------


def _run_faster_coco_eval(gt: str, pred: str, workers: int) -> list[float]:
    """faster-coco-eval with its defaults (boundaries on ``min(cores, 4)`` threads)."""
    from faster_coco_eval import COCO, COCOeval_faster

    coco_gt = COCO(gt)
    coco_dt = coco_gt.loadRes(pred)
    ev = COCOeval_faster(coco_gt, coco_dt, "boundary", boundary_dilation_ratio=RATIO,
                         print_function=lambda *a, **k: None)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(v) for v in ev.stats[:12]]


def _run_benchmark_eval(gt: str, pred: str, workers: int) -> list[float]:
    """benchmark_eval.evaluate("coco-boundary") with the given number of worker processes."""
    import benchmark_eval  # type: ignore[import-not-found,unused-ignore]

    result = benchmark_eval.evaluate("coco-boundary", gt=gt, pred=pred, workers=workers)
    return [float(v) for v in result.stats]


def _gt_counts(gt_data: bench.Record) -> tuple[list[bytes], list[int], list[int], list[int]]:
    """Compressed RLE strings, (height, width) and (image, category) key of every GT mask
    (all polygon parts of an image rasterised by pycocotools in one call)."""
    from pycocotools import mask as mask_utils

    size = {im["id"]: (im["height"], im["width"]) for im in gt_data["images"]}
    by_image: dict[int, list[bench.Record]] = {}
    for ann in gt_data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    counts: list[bytes] = []
    hs, ws, keys = [], [], []
    for image_id, anns in by_image.items():
        h, w = size[image_id]
        parts = [p for a in anns if isinstance(a["segmentation"], list)
                 for p in a["segmentation"]]
        rles = iter(mask_utils.frPyObjects(parts, h, w) if parts else [])
        for ann in anns:
            seg = ann["segmentation"]
            if isinstance(seg, list):
                pieces = [next(rles) for _ in seg]
                rle = pieces[0] if len(pieces) == 1 else mask_utils.merge(pieces)
            elif isinstance(seg["counts"], list):
                rle = mask_utils.frPyObjects(seg, h, w)
            else:
                rle = seg
            c = rle["counts"]
            counts.append(c if isinstance(c, bytes) else c.encode())
            hs.append(h)
            ws.append(w)
            keys.append(image_id * 1000 + ann["category_id"])
    return counts, hs, ws, keys


def _pairs(d_key: np.ndarray, g_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (detection, GT) index pair with equal keys."""
    g_order = np.argsort(g_key, kind="stable")
    g_sorted = g_key[g_order]
    lo = np.searchsorted(g_sorted, d_key, side="left")
    n = np.searchsorted(g_sorted, d_key, side="right") - lo
    di = np.repeat(np.arange(len(d_key)), n)
    gi = g_order[np.repeat(lo, n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)]
    return di, gi


def _boxes_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) > np.maximum(a[:, 0], b[:, 0]))
            & (np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) > np.maximum(a[:, 1], b[:, 1])))


def _run_floor(gt: str, pred: str, workers: int) -> list[float]:
    """The overlaps the Boundary AP needs, with benchmark_eval's C kernels and nothing else:
    parse both files, decode every mask (GT polygons through pycocotools), mask IoU of every
    (top-100 detection, GT) pair of an (image, category) whose boxes overlap, boundaries of
    the masks of the pairs with mask IoU >= 0.5 (below, min(mask IoU, boundary IoU) cannot
    reach the lowest threshold), and their boundary IoU. No checks, matching, accumulation
    or summary."""
    from benchmark_eval.masks import check_compressed_rles, pair_mask_iou
    from benchmark_eval.masks.boundary import boundary_dilation, mask_boundaries

    gt_data, dts = bench.parsed(gt, pred)
    g_counts, g_h, g_w, g_keys = _gt_counts(gt_data)
    d_key = np.array([d["image_id"] * 1000 + d["category_id"] for d in dts], dtype=np.int64)
    d_score = np.array([d["score"] for d in dts], dtype=np.float64)
    order = np.lexsort((-d_score, d_key))
    rank = np.arange(len(dts)) - np.searchsorted(d_key[order], d_key[order], side="left")
    keep = order[rank < MAX_DETS]
    d_size = np.array([dts[i]["segmentation"]["size"] for i in keep.tolist()], dtype=np.int64)
    d_h, d_w = d_size[:, 0], d_size[:, 1]
    d_runs = check_compressed_rles(
        [dts[i]["segmentation"]["counts"].encode() for i in keep.tolist()], d_h, d_w).runs
    gh, gw = np.array(g_h, dtype=np.int64), np.array(g_w, dtype=np.int64)
    g_runs = check_compressed_rles(g_counts, gh, gw).runs
    assert d_runs is not None
    assert g_runs is not None
    crowd = np.array([a.get("iscrowd", 0) for a in gt_data["annotations"]], dtype=np.uint8)
    di, gi = _pairs(d_key[keep], np.array(g_keys, dtype=np.int64))
    near = _boxes_overlap(d_runs.boxes[di], g_runs.boxes[gi])
    di, gi = di[near], gi[near]
    iou = pair_mask_iou(d_runs, g_runs, di, gi, crowd[gi])
    both = (iou >= 0.5) & (crowd[gi] == 0)
    dd, d_idx = np.unique(di[both], return_inverse=True)
    gg, g_idx = np.unique(gi[both], return_inverse=True)
    d_band = mask_boundaries(d_runs, dd, d_h[dd], d_w[dd],
                             boundary_dilation(d_h[dd], d_w[dd], RATIO))
    g_band = mask_boundaries(g_runs, gg, gh[gg], gw[gg], boundary_dilation(gh[gg], gw[gg], RATIO))
    iou[both] = np.minimum(iou[both], pair_mask_iou(d_band, g_band, d_idx, g_idx,
                                                    np.zeros(len(d_idx), dtype=np.uint8)))
    return []


RUNNERS: dict[str, Callable[[str, str, int], list[float]]] = {
    "floor": _run_floor,
    "faster-coco-eval": _run_faster_coco_eval,
    "benchmark_eval": _run_benchmark_eval,
}


def worker(tool: str, gt: str, pred: str, workers: int) -> bench.Record:
    """Run one measurement in this process and describe it."""
    return bench.worker_record(lambda: RUNNERS[tool](gt, pred, workers), _T_START)


# --------------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------------


def _entries(skip_official: bool) -> list[tuple[str, str, int]]:
    """(label, tool, workers) of every measurement, in table order."""
    out = [("floor", "floor", 1)]
    if not skip_official:
        out.append(("faster-coco-eval", "faster-coco-eval", 1))
    out.append(("benchmark_eval (1 worker)", "benchmark_eval", 1))
    out.append(("benchmark_eval (2 workers)", "benchmark_eval", 2))
    return out


def measure(label: str, tool: str, gt: Path, pred: Path, workers: int, repeat: int) -> bench.Record:
    """Best (lowest seconds) of ``repeat`` fresh-process runs."""
    args = ["--worker", tool, "--gt", str(gt), "--pred", str(pred), "--workers", str(workers)]
    return bench.measure(Path(__file__).resolve(), args, REPO, repeat, label, tool=tool,
                          workers=workers)


def _table(records: list[bench.Record], meta: bench.Record) -> str:
    """Human-readable result table."""
    by_label = {r["label"]: r for r in records if "seconds" in r}
    t_fce = by_label.get("faster-coco-eval", {}).get("seconds")
    t_floor = by_label.get("floor", {}).get("seconds")
    ref = by_label.get("faster-coco-eval", {}).get("stats")
    lines = [
        f"COCO boundary (ratio {RATIO}): {meta['images']} images, {meta['gt_instances']:,} GT,"
        f" {meta['detections']:,} detections; {bench.CORES} cores",
        f"{'tool':<32}{'seconds':>9}{'cpu s':>8}{'peak MB':>10}{'vs faster':>11}"
        f"{'x floor':>9}{'max|dstats|':>13}{'load':>6}",
    ]
    lines.append("-" * len(lines[1]))
    for r in records:
        if "seconds" not in r:
            lines.append(f"{bench.row_name(r):<32}{'n/a':>9}   ({r.get('error', '')})")
            continue
        lines.append(f"{bench.row_name(r):<32}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.2f}"
                     f"{bench.peak_text(r):>10}{bench.ratio(t_fce, r['seconds']):>11}"
                     f"{bench.ratio(r['seconds'], t_floor):>9}{bench.max_diff(r['stats'], ref):>13}"
                     f"{r.get('load_before', 0):>6.1f}")
    if any(r.get("background_cores", 0) > bench.BUSY_WARN for r in records):
        lines.append(f"* other processes used > {bench.BUSY_WARN} cores meanwhile: timing is noisy")
    if ref:
        lines.append("faster-coco-eval stats: " + " ".join(f"{v:.4f}" for v in ref))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (driver, or ``--worker`` inside a measurement subprocess)."""
    ap = bench.parser(__doc__, 5000, RUNNERS)
    ap.add_argument("--det-scale", type=float, default=0.4,
                    help="generator detection scale (0.4: the issue's ~190k detections)")
    ap.add_argument("--skip-official", action="store_true",
                    help="reuse the last faster-coco-eval measurement on this data")
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.gt, args.pred, args.workers)))
        return 0

    root, meta = bench.generated(HERE / "coco_data.py", "--images", args.images, "--seed",
                                 args.seed, "--det-scale", args.det_scale)
    records = [measure(label, tool, root / "gt.json", root / "segm.json", workers, args.repeat)
               for label, tool, workers in _entries(args.skip_official)]
    bench.merge_cached(records, root / "official-boundary.json", args.skip_official,
                 lambda r: r["tool"] == "faster-coco-eval")
    print(_table(records, meta), flush=True)
    bench.write_results(args.json, meta, PACKAGES, args.repeat, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
