"""COCO panoptic speed benchmark: panopticapi's algorithm vs benchmark_eval vs PNG decoding.

The data (``panoptic_data.py``, cached): 2,000 COCO-panoptic-like images of about 640x480,
133 categories (80 things, 53 stuff), crowd segments and VOID, with perturbed predictions.

Every measurement runs end to end in a fresh subprocess (import, read the JSONs, read and
decode every PNG, evaluate) at 1 process and at the machine's core count, and reports its
wall time, CPU time, peak RSS and the metrics. Rows:

* ``official``: cityscapesScripts 2.3.0's copy of panopticapi ``pq_compute`` (identical
  maths; see ``docs/protocols/panoptic.md``): ``pq_compute_single_core`` on one process,
  ``pq_compute_multi_core`` (a pool of ``cpu_count()`` processes, as panopticapi) otherwise,
  then ``pq_average``;
* ``benchmark_eval``: ``benchmark_eval.evaluate("coco-panoptic", ..., workers=N)``;
* ``decode pyspng`` / ``decode Pillow``: only read and decode the 4,000 PNGs to arrays, in
  the same number of processes (what no evaluator reading these files can beat).

Usage: ``python benchmarks/panoptic.py [--images 2000] [--seed 0] [--source synthetic|real-sample]
[--repeat K] [--procs 1 2] [--skip ROW ...] [--json OUT]``
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()  # the worker's clock starts before any heavy import

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import _harness as bench  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PACKAGES = ("numpy", "pillow", "pyspng", "cityscapesScripts", "hotcoco", "benchmark-eval")
METRICS = ("PQ", "SQ", "RQ", "PQ_th", "SQ_th", "RQ_th", "PQ_st", "SQ_st", "RQ_st")


# --------------------------------------------------------------------------------------------
# Worker side: one tool in a fresh process
# --------------------------------------------------------------------------------------------


def _official(root: Path, workers: int) -> dict[str, float]:
    """cityscapesScripts' copy of panopticapi ``pq_compute`` (its maths untouched)."""
    from cityscapesscripts.evaluation import evalPanopticSemanticLabeling as official

    with open(root / "gt.json") as f:
        gt = json.load(f)
    with open(root / "pred.json") as f:
        pred = json.load(f)
    categories = {c["id"]: c for c in gt["categories"]}
    by_image = {a["image_id"]: a for a in pred["annotations"]}
    matched = [(a, by_image[a["image_id"]]) for a in gt["annotations"]]
    gt_dir, pred_dir = str(root / "gt"), str(root / "pred")
    if workers == 1:
        stat = official.pq_compute_single_core(0, matched, gt_dir, pred_dir, categories)
    else:  # pq_compute_multi_core always uses cpu_count() processes
        assert workers == multiprocessing.cpu_count()
        stat = official.pq_compute_multi_core(matched, gt_dir, pred_dir, categories)
    out = {}
    for suffix, isthing in (("", None), ("_th", True), ("_st", False)):
        res, _ = stat.pq_average(categories, isthing=isthing)
        out.update({f"PQ{suffix}": res["pq"], f"SQ{suffix}": res["sq"],
                    f"RQ{suffix}": res["rq"]})
    return out


def _hotcoco(root: Path, workers: int) -> dict[str, float]:
    """hotcoco 1.3.0 (Rust): ``panoptic.PanopticEval(gt.json, pred.json)``, PNG folders
    beside the files as panopticapi assumes."""
    from hotcoco import panoptic

    ev = panoptic.PanopticEval(root / "gt.json", root / "pred.json", gt_folder=root / "gt",
                               pred_folder=root / "pred")
    ev.run()
    res = ev.results()
    out = {}
    for suffix, group in (("", "All"), ("_th", "Things"), ("_st", "Stuff")):
        out.update({f"PQ{suffix}": res[group]["pq"], f"SQ{suffix}": res[group]["sq"],
                    f"RQ{suffix}": res[group]["rq"]})
    return out


def _ours(root: Path, workers: int, decoder: str | None = None) -> dict[str, float]:
    import benchmark_eval

    r = benchmark_eval.evaluate("coco-panoptic", gt=root / "gt.json", pred=root / "pred.json",
                                workers=workers, decoder=decoder)
    return {k: r.metrics[k] for k in METRICS}  # type: ignore[misc]


def _decode_shard(args: tuple[str, list[str]]) -> int:
    decoder, paths = args
    import numpy as np

    pixels = 0
    if decoder == "libdeflate":  # benchmark_eval's default: libdeflate + our row unfilter
        from benchmark_eval.io.pngdecode import decode_rgb8

        for p in paths:
            with open(p, "rb") as f:
                arr = decode_rgb8(f.read())
                assert arr is not None, f"{p}: not handled by the libdeflate path"
                pixels += arr.shape[0]
    elif decoder == "pyspng":
        import pyspng

        for p in paths:
            with open(p, "rb") as f:
                pixels += pyspng.load(f.read()).shape[0]
    else:
        from PIL import Image

        for p in paths:
            pixels += np.asarray(Image.open(p)).shape[0]
    return pixels


def _decode(root: Path, workers: int, decoder: str) -> dict[str, float]:
    """Read and decode every PNG of the set (both folders) in ``workers`` processes."""
    import numpy as np

    with open(root / "gt.json") as f:
        names = [a["file_name"] for a in json.load(f)["annotations"]]
    paths = [str(root / d / n) for n in names for d in ("gt", "pred")]
    if workers == 1:
        _decode_shard((decoder, paths))
    else:
        shards = [(decoder, list(s)) for s in np.array_split(np.array(paths), workers)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_decode_shard, shards)
    return {}


RUNNERS: dict[str, Callable[[Path, int], dict[str, float]]] = {
    "official": _official,
    "hotcoco": _hotcoco,
    "benchmark_eval": _ours,
    "benchmark_eval-pillow": lambda root, w: _ours(root, w, "pillow"),
    "decode-libdeflate": lambda root, w: _decode(root, w, "libdeflate"),
    "decode-pyspng": lambda root, w: _decode(root, w, "pyspng"),
    "decode-pillow": lambda root, w: _decode(root, w, "pillow"),
}


def worker(tool: str, root: Path, workers: int) -> bench.Record:
    """Run one measurement in this process and describe it."""
    return bench.worker_record(lambda: RUNNERS[tool](root, workers), _T_START, key="metrics")


# --------------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------------


def _job(label: str, tool: str, root: Path, workers: int
         ) -> tuple[str, list[str], bench.Record]:
    """One measurement for :func:`_harness.measure_all`."""
    args = ["--worker", tool, "--root", str(root), "--workers", str(workers)]
    return label, args, {"tool": tool, "workers": workers}


def _table(records: list[bench.Record], meta: bench.Record) -> str:
    """Result table: one block per process count."""
    lines = [f"{meta['images']} images, {meta['gt_segments']} GT segments "
             f"({meta['gt_crowd']} crowd), {meta['pred_segments']} predicted segments; "
             f"{bench.CORES} cores", ""]
    head = (f"{'row':<34} {'procs':>5} {'seconds':>8} {'cpu s':>7} {'peak MB':>12} "
            f"{'official/this':>13} {'this/decode':>11} {'max|dPQ|':>9}")
    lines += [head, "-" * len(head)]
    for n in sorted({r["workers"] for r in records}):
        rows = [r for r in records if r["workers"] == n]
        ref = next((r for r in rows if r["tool"] == "official" and "seconds" in r), None)
        dec = next((r for r in rows if r["tool"] == "decode-libdeflate" and "seconds" in r),
                   None)  # the decoder benchmark_eval uses
        for r in rows:
            if "seconds" not in r:
                lines.append(f"{r['label']:<34} {n:>5} n/a ({r.get('error', '')})")
                continue
            peak = f"{r['peak_mb']:.0f}"
            if r["workers"] > 1:
                peak += f"+{r['children_peak_mb']:.0f}"
            diff = "-"
            if ref is not None and r["metrics"] and ref["metrics"]:
                d = max(abs(r["metrics"][k] - ref["metrics"][k]) for k in METRICS)
                diff = "0" if d == 0 else f"{d:.1e}"
            star = "*" if r.get("background_cores", 0) > bench.BUSY_WARN else ""
            lines.append(f"{r['label'] + star:<34} {n:>5} {r['seconds']:>8.2f} "
                         f"{r['cpu_seconds']:>7.2f} {peak:>12} "
                         f"{bench.ratio(ref and ref['seconds'], r['seconds']):>13} "
                         f"{bench.ratio(r['seconds'], dec and dec['seconds']):>11} {diff:>9}")
        lines.append("")
    lines.append(bench.hotcoco_line(records))
    lines.append("official/this: speed-up over the official algorithm at the same process "
                 "count; this/decode: time over decoding the same PNGs with libdeflate + our"
                 " unfilter"
                 " (benchmark_eval's decoder); "
                 "* = other processes were busy (noisy timing)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (driver, or ``--worker`` inside a measurement subprocess)."""
    ap = bench.parser(__doc__, 2000, RUNNERS, files=())
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--source", choices=("synthetic", "real-sample"), default="synthetic",
                    help="synthetic COCO-like scenes (default), or variations of the two real"
                         " COCO val2017 images of panopticapi's sample (real PNG encoding)")
    bench.add_row_arguments(ap, RUNNERS)
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.root, args.workers)))
        return 0

    root, meta = bench.generated(HERE / "panoptic_data.py", "--images", args.images, "--seed",
                                 args.seed, "--source", args.source)
    labels = {"decode-pillow": "decode only (Pillow)", "decode-pyspng": "decode only (pyspng)",
              "decode-libdeflate": "decode only (libdeflate)",
              "official": "official (cityscapesScripts 2.3.0)",
              "hotcoco": "hotcoco 1.3.0",
              "benchmark_eval": "benchmark_eval",
              "benchmark_eval-pillow": "benchmark_eval (Pillow decoder)"}
    jobs = [_job(label, tool, root, n) for n in args.procs for tool, label in labels.items()
            if tool not in args.skip and (tool != "hotcoco" or n == 1)]  # hotcoco: own threads
    records = bench.measure_all(Path(__file__).resolve(), jobs, REPO, args.repeat)
    print(_table(records, meta))
    bench.write_results(args.json, meta, PACKAGES, args.repeat, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
