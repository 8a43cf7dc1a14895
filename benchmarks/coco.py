"""COCO speed benchmark: pycocotools vs faster-coco-eval vs benchmark_eval vs the floor.

Every measurement runs end to end (import, read the JSON files, evaluate, summarize) in a fresh
subprocess, which reports its wall time, peak RSS and the 12 summary numbers as JSON on stdout.

``--dataset objects365`` times the boxes of the Objects365-val-scale set of
``objects365_data.py`` instead (80,000 images, 365 categories, 1.2M detections; ``bbox``
only; pycocotools takes ~15 min there, ``--skip-official`` leaves the official tools out).

Usage: ``python benchmarks/coco.py [--images 5000] [--seed 0] [--iou-type segm|bbox|both]
[--repeat K] [--skip-official] [--json OUT] [--det-scale X] [--dataset coco|objects365]``
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
MAX_DETS = 100


# --------------------------------------------------------------------------------------------
# Worker side: one tool, one iou type, in a fresh process
# --------------------------------------------------------------------------------------------


def _run_pycocotools(iou: str, gt: str, pred: str, workers: int) -> list[float]:
    """pycocotools: COCO, loadRes, COCOeval.evaluate/accumulate/summarize."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    coco_gt = COCO(gt)
    coco_dt = coco_gt.loadRes(pred)
    ev = COCOeval(coco_gt, coco_dt, iou)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(v) for v in ev.stats]


def _run_faster_coco_eval(iou: str, gt: str, pred: str, workers: int) -> list[float]:
    """faster-coco-eval with its defaults (fused C++ evaluate+accumulate, threaded RLE IoU)."""
    from faster_coco_eval import COCO, COCOeval_faster

    coco_gt = COCO(gt)
    coco_dt = coco_gt.loadRes(pred)
    ev = COCOeval_faster(coco_gt, coco_dt, iou, print_function=lambda *a, **k: None)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(v) for v in ev.stats[:12]]


def _run_hotcoco(iou: str, gt: str, pred: str, workers: int) -> list[float]:
    """hotcoco 1.3.0 (Rust): its pycocotools-shaped COCO, loadRes, COCOeval."""
    from hotcoco import COCO, COCOeval

    coco_gt = COCO(gt)
    ev = COCOeval(coco_gt, coco_gt.loadRes(pred), iou)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(v) for v in ev.stats[:12]]


def _run_benchmark_eval(iou: str, gt: str, pred: str, workers: int) -> list[float]:
    """benchmark_eval.evaluate with the given number of worker processes."""
    import benchmark_eval  # type: ignore[import-not-found,unused-ignore]

    result = benchmark_eval.evaluate(f"coco-{iou}", gt=gt, pred=pred, workers=workers)
    return [float(v) for v in result.stats]


def _group(
    items: list[bench.Record], img_index: dict[int, int], ncat: int, cat_index: dict[int, int]
) -> Any:
    """Integer (image, category) key of every record as a numpy array."""
    import numpy as np

    return np.fromiter(
        (img_index[r["image_id"]] * ncat + cat_index[r["category_id"]] for r in items),
        dtype=np.int64,
        count=len(items),
    )


def _floor_bbox(gt_data: bench.Record, dts: list[bench.Record]) -> int:
    """All (top-100 dt) x gt box IoUs of every (image, category), in one vectorised shot."""
    import numpy as np

    anns = gt_data["annotations"]
    img_index = {im["id"]: i for i, im in enumerate(gt_data["images"])}
    cat_index = {c["id"]: i for i, c in enumerate(gt_data["categories"])}
    ncat = len(cat_index)
    g_key = _group(anns, img_index, ncat, cat_index)
    g_box = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4)
    g_crowd = np.array([a.get("iscrowd", 0) for a in anns], dtype=bool)
    d_key = _group(dts, img_index, ncat, cat_index)
    d_box = np.array([d["bbox"] for d in dts], dtype=np.float64).reshape(-1, 4)
    d_score = np.array([d["score"] for d in dts], dtype=np.float64)

    order = np.lexsort((-d_score, d_key))  # by key, then score descending (stable)
    keys = d_key[order]
    rank = np.arange(keys.size) - np.searchsorted(keys, keys, side="left")
    keep = order[rank < MAX_DETS]

    g_order = np.argsort(g_key, kind="stable")
    g_sorted = g_key[g_order]
    lo = np.searchsorted(g_sorted, d_key[keep], side="left")
    n = np.searchsorted(g_sorted, d_key[keep], side="right") - lo
    di = np.repeat(keep, n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    gi = g_order[np.repeat(lo, n) + offset]

    a, b = d_box[di], g_box[gi]
    iw = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    d_area = a[:, 2] * a[:, 3]
    union = np.where(g_crowd[gi], d_area, d_area + b[:, 2] * b[:, 3] - inter)
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return int(iou.size)


def _gt_rles(anns: list[bench.Record], h: int, w: int) -> list[Any]:
    """Compressed RLEs of ground-truth polygons / uncompressed RLEs (polygons in one batch)."""
    from pycocotools import mask as mask_utils

    out: list[Any] = [None] * len(anns)
    polys: list[list[float]] = []
    owner: list[int] = []
    for i, ann in enumerate(anns):
        seg = ann["segmentation"]
        if isinstance(seg, list):
            polys.extend(seg)
            owner.extend([i] * len(seg))
        elif isinstance(seg["counts"], list):
            out[i] = mask_utils.frPyObjects(seg, h, w)
        else:
            out[i] = seg
    if polys:
        parts: dict[int, list[Any]] = {}
        for i, rle in zip(owner, mask_utils.frPyObjects(polys, h, w), strict=True):
            parts.setdefault(i, []).append(rle)
        for i, rles in parts.items():
            out[i] = rles[0] if len(rles) == 1 else mask_utils.merge(rles)
    return out


def _floor_segm(gt_data: bench.Record, dts: list[bench.Record]) -> int:
    """GT to RLE and all (top-100 dt) x gt mask IoUs per (image, category) with mask.iou."""
    from pycocotools import mask as mask_utils

    size = {im["id"]: (im["height"], im["width"]) for im in gt_data["images"]}
    gts: dict[tuple[int, int], list[bench.Record]] = {}
    for ann in gt_data["annotations"]:
        gts.setdefault((ann["image_id"], ann["category_id"]), []).append(ann)
    groups: dict[tuple[int, int], list[bench.Record]] = {}
    for d in dts:
        groups.setdefault((d["image_id"], d["category_id"]), []).append(d)
    pairs = 0
    for key, dets in groups.items():
        g_anns = gts.get(key)
        if not g_anns:
            continue
        h, w = size[key[0]]
        dets.sort(key=lambda d: -d["score"])
        d_rles = [d["segmentation"] for d in dets[:MAX_DETS]]
        crowd = [int(a.get("iscrowd", 0)) for a in g_anns]
        ious = mask_utils.iou(d_rles, _gt_rles(g_anns, h, w), crowd)
        pairs += len(d_rles) * len(g_anns) if len(ious) else 0
    return pairs


RUNNERS: dict[str, Callable[[str, str, str, int], list[float]]] = {
    "floor": bench.floor(_floor_segm, _floor_bbox),  # every overlap COCOeval needs
    "pycocotools": _run_pycocotools,
    "faster-coco-eval": _run_faster_coco_eval,
    "hotcoco": _run_hotcoco,
    "benchmark_eval": _run_benchmark_eval,
}


def worker(tool: str, iou: str, gt: str, pred: str, workers: int) -> bench.Record:
    """Run one measurement in this process and describe it."""
    return bench.worker_record(lambda: RUNNERS[tool](iou, gt, pred, workers), _T_START)


# --------------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------------

OFFICIAL = ("pycocotools", "faster-coco-eval")
PACKAGES = ("numpy", "orjson", "pycocotools", "faster-coco-eval", "hotcoco", "benchmark-eval")


def _entries(skip_official: bool) -> list[tuple[str, str, int]]:
    """(label, tool, workers) of every measurement, in table order."""
    out = [("floor", "floor", 1)]
    if not skip_official:
        out += [("pycocotools", "pycocotools", 1), ("faster-coco-eval", "faster-coco-eval", 1)]
    out += [("hotcoco 1.3.0", "hotcoco", 1), ("benchmark_eval (1 worker)", "benchmark_eval", 1)]
    if bench.CORES > 1:
        out.append((f"benchmark_eval ({bench.CORES} workers)", "benchmark_eval", bench.CORES))
    return out


def _job(label: str, tool: str, iou: str, gt: Path, pred: Path, workers: int
         ) -> tuple[str, list[str], bench.Record]:
    """One measurement for :func:`_harness.measure_all`."""
    args = ["--worker", tool, "--iou-type", iou, "--gt", str(gt), "--pred", str(pred),
            "--workers", str(workers)]
    return label, args, {"tool": tool, "workers": workers}


def _table(iou: str, records: list[bench.Record], meta: bench.Record) -> str:
    """Human-readable result table of one iou type."""
    by_tool = {r["label"]: r for r in records if "seconds" in r}
    t_pyc = by_tool.get("pycocotools", {}).get("seconds")
    t_fce = by_tool.get("faster-coco-eval", {}).get("seconds")
    t_floor = by_tool.get("floor", {}).get("seconds")
    ref_rec = (by_tool.get("pycocotools") or by_tool.get("faster-coco-eval")
               or by_tool.get("hotcoco 1.3.0"))
    ref = ref_rec["stats"] if ref_rec else None
    head = (
        f"COCO {iou}: {meta['images']} images, {meta['gt_instances']:,} GT, "
        f"{meta['detections']:,} detections; {bench.CORES} cores"
    )
    cols = (
        f"{'tool':<30}{'seconds':>9}{'cpu s':>8}{'peak MB':>10}{'vs pycoco':>11}{'vs faster':>11}"
    )
    cols += f"{'x floor':>9}{'above floor':>13}{'max|dstats|':>13}"
    lines = [head, cols, "-" * len(cols)]
    for r in records:
        if "seconds" not in r:
            lines.append(f"{bench.row_name(r):<30}{'n/a':>9}   ({r.get('error', '')})")
            continue
        t = r["seconds"]
        above = f"{t - t_floor:+.2f} s" if t_floor else "-"
        lines.append(
            f"{bench.row_name(r):<30}{t:>9.2f}{r.get('cpu_seconds', 0):>8.2f}"
            f"{bench.peak_text(r):>10}{bench.ratio(t_pyc, t):>11}{bench.ratio(t_fce, t):>11}"
            f"{bench.ratio(t, t_floor):>9}{above:>13}{bench.max_diff(r['stats'], ref):>13}"
        )
    if any(r.get("background_cores", 0) > bench.BUSY_WARN for r in records):
        lines.append(f"* other processes used > {bench.BUSY_WARN} cores meanwhile: timing is noisy")
    if ref_rec and ref:
        lines.append(f"reference stats ({ref_rec['label']}): " + " ".join(f"{v:.4f}" for v in ref))
    lines.append(bench.hotcoco_line(records))
    return "\n".join(lines)


def run_iou(iou: str, root: Path, args: argparse.Namespace, meta: bench.Record
            ) -> list[bench.Record]:
    """All measurements of one iou type; prints its table."""
    gt, pred = root / "gt.json", root / f"{iou}.json"
    print(f"[{iou}] measuring ...", file=sys.stderr, flush=True)
    jobs = [_job(label, tool, iou, gt, pred, workers)
            for label, tool, workers in _entries(args.skip_official)]
    records = bench.measure_all(Path(__file__).resolve(), jobs, REPO, args.repeat)
    bench.merge_cached(records, root / f"official-{iou}.json", args.skip_official,
                 lambda r: r["label"] in OFFICIAL)
    print(_table(iou, records, meta) + "\n", flush=True)
    return records


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (driver, or ``--worker`` inside a measurement subprocess)."""
    ap = bench.parser(__doc__, 5000, RUNNERS, iou_types=True)
    ap.add_argument("--det-scale", type=float, default=0.4,
                    help="generator detection scale (0.4: the issue's ~190k detections;"
                         " 1.0: ~430k, ~86 per image)")
    ap.add_argument("--skip-official", action="store_true", help="reuse cached official runs")
    ap.add_argument("--dataset", choices=("coco", "objects365"), default="coco",
                    help="the COCO-val-scale set (default) or the Objects365-val-scale boxes"
                         " (--images defaults to 80000, bbox only)")
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.iou_type, args.gt, args.pred, args.workers)))
        return 0

    if args.dataset == "objects365":
        images = args.images if "--images" in (argv or sys.argv) else 80_000
        root, meta = bench.generated(HERE / "objects365_data.py", "--images", images,
                                     "--seed", args.seed)
        args.iou_type = "bbox"
    else:
        root, meta = bench.generated(HERE / "coco_data.py", "--images", args.images, "--seed",
                                     args.seed, "--det-scale", args.det_scale)
    results = bench.per_iou_type(args.iou_type, lambda iou: run_iou(iou, root, args, meta))
    bench.write_results(args.json, meta, PACKAGES, args.repeat, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
