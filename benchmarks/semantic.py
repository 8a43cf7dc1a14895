"""Semantic-segmentation speed benchmark: benchmark_eval vs hotcoco vs PNG decoding vs a loop.

Data (``semantic_data.py``, seeded, cached): ``--images`` ADE20K-sized pairs (512x512, 150
classes; GT 0..150 with 0 = "other", predictions 0..149), 8-bit PNGs written by Pillow.

Every measurement runs end to end in a fresh subprocess (import, list the folders, read and
decode every PNG, evaluate) and reports its wall time, CPU time, peak RSS and the metrics;
the runs alternate between rows (``--repeat`` rounds, medians). Rows:

* ``decode Pillow`` / ``decode pyspng``: read and decode both PNGs of every pair, nothing
  else (pyspng only if installed), in 1 process and in one fork-based process per core;
* ``hotcoco``: hotcoco 1.3.0 ``semantic.SemanticEval(150, reduce_zero_label=True)``,
  ``update_folders(gt, pred)``, ``results()`` (mmseg's ``IoUMetric`` numbers);
* ``benchmark_eval``: ``evaluate("semantic", ..., params=<semantic-ade20k preset>,
  workers=1 | all cores)``: pairing, decoding, checks, counting, metrics;
* ``reference loop``: mmseg's formula as a plain per-image loop (Pillow decode, zero-label
  shift, ignore mask, three ``np.histogram`` calls like ``torch.histc``), 1 process.

``x decode`` is a row's time over Pillow decoding with the same number of processes.

Usage: ``python benchmarks/semantic.py [--images 2000] [--seed 0] [--repeat 3] [--json OUT]``
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
CLASSES = 150
PRESET = REPO / "benchmark_eval" / "presets" / "semantic-ade20k.json"
PACKAGES = ("numpy", "pillow", "pyspng", "hotcoco", "benchmark-eval")
METRICS = ("mIoU", "mAcc", "aAcc", "fwIoU")


# --------------------------------------------------------------------------------------------
# Worker side: one tool in a fresh process
# --------------------------------------------------------------------------------------------


def _pairs(root: Path) -> list[tuple[Path, Path]]:
    return [(g, root / "pred" / g.name) for g in sorted((root / "gt").glob("*.png"))]


def _ours(root: Path, workers: int) -> dict[str, float]:
    import benchmark_eval

    params = {k: v for k, v in json.loads(PRESET.read_text()).items()
              if k not in ("protocol", "description")}
    r = benchmark_eval.evaluate("semantic", gt=root / "gt", pred=root / "pred", params=params,
                                workers=workers)
    return {k: float(r.metrics[k] or 0.0) for k in METRICS}


def _hotcoco(root: Path, workers: int) -> dict[str, float]:
    """hotcoco 1.3.0 (Rust): ``SemanticEval(150, reduce_zero_label=True)`` over the folders."""
    from hotcoco import semantic

    ev = semantic.SemanticEval(CLASSES, reduce_zero_label=True)
    ev.update_folders(root / "gt", root / "pred")
    res = ev.results()
    return {k: float(res[k]) for k in METRICS}


def _reference_loop(root: Path, workers: int) -> dict[str, float]:
    """mmseg ``IoUMetric`` as a plain loop (``np.histogram`` standing in for torch.histc)."""
    import numpy as np
    from PIL import Image

    areas = np.zeros((4, CLASSES))
    for g, p in _pairs(root):
        label = np.asarray(Image.open(g)).astype(np.int64)
        pred = np.asarray(Image.open(p)).astype(np.int64)
        label[label == 0] = 256  # reduce_zero_label: 0 -> 255 after the shift
        label -= 1
        mask = label != 255
        pred, label = pred[mask], label[mask]
        inter = pred[pred == label]
        hist = [np.histogram(x, bins=CLASSES, range=(0, CLASSES - 1))[0]
                for x in (inter, pred, label)]
        areas += np.stack([hist[0], hist[1] + hist[2] - hist[0], hist[1], hist[2]])
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"mIoU": float(np.nanmean(areas[0] / areas[1]))}


def _decode_shard(args: tuple[str, list[tuple[Path, Path]]]) -> int:
    decoder, pairs = args
    if decoder == "pyspng":
        import pyspng

        for g, p in pairs:
            pyspng.load(g.read_bytes())
            pyspng.load(p.read_bytes())
    else:
        import numpy as np
        from PIL import Image

        for g, p in pairs:
            np.asarray(Image.open(g))
            np.asarray(Image.open(p))
    return len(pairs)


def _decode(root: Path, workers: int, decoder: str) -> dict[str, float]:
    """Read and decode every PNG of the set in ``workers`` processes."""
    pairs = _pairs(root)
    if workers == 1:
        _decode_shard((decoder, pairs))
    else:
        shards = [(decoder, pairs[a:a + 32]) for a in range(0, len(pairs), 32)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            assert sum(pool.imap_unordered(_decode_shard, shards)) == len(pairs)
    return {}


RUNNERS: dict[str, Callable[[Path, int], dict[str, float]]] = {
    "decode-pillow": lambda root, w: _decode(root, w, "pillow"),
    "decode-pyspng": lambda root, w: _decode(root, w, "pyspng"),
    "hotcoco": _hotcoco,
    "benchmark_eval": _ours,
    "reference-loop": _reference_loop,
}


def worker(tool: str, root: Path, workers: int) -> bench.Record:
    """Run one measurement in this process and describe it."""
    return bench.worker_record(lambda: RUNNERS[tool](root, workers), _T_START, key="metrics")


# --------------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------------

LABELS = {"decode-pillow": "decode only (Pillow)", "decode-pyspng": "decode only (pyspng)",
          "hotcoco": "hotcoco 1.3.0", "benchmark_eval": "benchmark_eval",
          "reference-loop": "reference loop (mmseg formula)"}
SINGLE = ("hotcoco", "reference-loop")  # one process only (hotcoco uses its own threads)


def _table(records: list[bench.Record], meta: bench.Record) -> str:
    """Result table: one block per process count."""
    lines = [f"{meta['images']} pairs of {meta['size']}x{meta['size']}, {meta['classes']}"
             f" classes, {meta['png_bytes'] / 2 / meta['images'] / 1024:.1f} KiB per PNG;"
             f" {bench.CORES} cores", ""]
    head = (f"{'row':<34} {'procs':>5} {'seconds':>8} {'cpu s':>7} {'peak MB':>10} "
            f"{'x decode':>9} {'mIoU':>10} {'max|d|':>9}")
    lines += [head, "-" * len(head)]
    ref = next((r for r in records if r["tool"] == "hotcoco" and r.get("metrics")), None)
    for n in sorted({r["workers"] for r in records}):
        rows = [r for r in records if r["workers"] == n]
        dec = next((r for r in rows if r["tool"] == "decode-pillow" and "seconds" in r), None)
        for r in rows:
            if "seconds" not in r:
                lines.append(f"{r['label']:<34} {n:>5} n/a ({r.get('error', '')})")
                continue
            m = r["metrics"]
            diff = "-"
            if ref is not None and r is not ref and m:
                diff = bench.max_diff([m[k] for k in m], [ref["metrics"][k] for k in m])
            miou = f"{m['mIoU']:.6f}" if "mIoU" in m else ""
            lines.append(f"{bench.row_name(r):<34} {n:>5} {r['seconds']:>8.2f} "
                         f"{r['cpu_seconds']:>7.2f} {bench.peak_text(r):>10} "
                         f"{bench.ratio(r['seconds'], dec and dec['seconds']):>9} {miou:>10}"
                         f" {diff:>9}")
        lines.append("")
    lines.append(bench.hotcoco_line(records, floor_tool="decode-pillow"))
    lines.append("x decode: time over Pillow decoding with the same process count; max|d|:"
                 " largest difference of the metrics against hotcoco; * = other processes"
                 " were busy (noisy timing)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (driver, or ``--worker`` inside a measurement subprocess)."""
    ap = bench.parser(__doc__, 2000, RUNNERS, files=())
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    bench.add_row_arguments(ap, RUNNERS)
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.root, args.workers)))
        return 0

    root, meta = bench.generated(HERE / "semantic_data.py", "--images", args.images, "--seed",
                                 args.seed)
    for g, p in _pairs(root):  # into the page cache
        g.read_bytes()
        p.read_bytes()
    skip = set(args.skip)
    try:
        import pyspng  # noqa: F401
    except ImportError:
        skip.add("decode-pyspng")
    jobs = [(LABELS[tool], ["--worker", tool, "--root", str(root), "--workers", str(n)],
             {"tool": tool, "workers": n})
            for n in args.procs for tool in LABELS
            if tool not in skip and (tool not in SINGLE or n == 1)]
    records = bench.measure_all(Path(__file__).resolve(), jobs, REPO, args.repeat)
    print(_table(records, meta))
    bench.write_results(args.json, meta, PACKAGES, args.repeat, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
