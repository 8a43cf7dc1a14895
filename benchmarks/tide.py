"""TIDE speed benchmark: tidecv 1.0.1 vs ``benchmark_eval.analysis.tide`` at COCO val scale.

hotcoco 1.3.0's ``COCOeval.tide_errors`` is timed too when it is installed (it is not a
dependency: ``pip install hotcoco==1.3.0``); its numbers are its own, not tidecv's.

Each measurement runs end to end (import, read the JSON files, match, classify, every fixed
AP) in a fresh subprocess that prints its wall time, peak RSS and the breakdown as JSON; the
benchmark_eval worker also reports the time of the breakdown alone (files already loaded).
The two breakdowns are compared number by number.

Usage: ``python benchmarks/tide.py [--images 5000] [--seed 0] [--det-scale 0.4]
[--iou-type bbox|segm|both] [--repeat K] [--skip-tidecv] [--json OUT]``
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()  # the worker's clock starts before any heavy import

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from _harness import Record, best_of, ratio, run_worker, stdout_silenced, usage  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TOOLS = ("tidecv", "benchmark_eval", "hotcoco")


def _run_tidecv(iou: str, gt: str, pred: str) -> Record:
    from tidecv import TIDE, datasets

    truth, preds = datasets.COCO(gt), datasets.COCOResult(pred)
    tide = TIDE(mode=TIDE.BOX if iou == "bbox" else TIDE.MASK)
    run = tide.evaluate(truth, preds)
    return {"ap": run.ap, **tide.get_all_errors(), "name": preds.name}


def _run_benchmark_eval(iou: str, gt: str, pred: str) -> Record:
    from benchmark_eval.analysis import tide_breakdown
    from benchmark_eval.io.coco_gt import load_coco_ground_truth
    from benchmark_eval.io.coco_results import load_coco_results

    boxes, masks = iou == "bbox", iou == "segm"
    dataset, _ = load_coco_ground_truth(gt, boxes=boxes, masks=masks)
    preds, _ = load_coco_results(pred, dataset, boxes=boxes, masks=masks)
    t0 = time.perf_counter()
    result = tide_breakdown(dataset, preds, iou_type=iou)  # type: ignore[arg-type]
    return {"ap": result.ap, **result.to_report(), "breakdown_seconds": time.perf_counter() - t0}


def _run_hotcoco(iou: str, gt: str, pred: str) -> Record:
    import hotcoco

    truth = hotcoco.COCO(gt)
    ev = hotcoco.COCOeval(truth, truth.loadRes(pred), iou)
    ev.evaluate()
    r = ev.tide_errors(pos_thr=0.5, bg_thr=0.1)
    delta = {k: 100 * v for k, v in r["delta_ap"].items()}  # fractions -> AP points
    return {"ap": 100 * r["ap_base"],
            "main": {k: delta[k] for k in ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")},
            "special": {"FalsePos": delta["FP"], "FalseNeg": delta["FN"]}}


def worker(tool: str, iou: str, gt: str, pred: str) -> Record:
    """One measurement in this process."""
    run = {"tidecv": _run_tidecv, "benchmark_eval": _run_benchmark_eval,
           "hotcoco": _run_hotcoco}[tool]
    with stdout_silenced():
        out = run(iou, gt, pred)
    if tool == "tidecv":  # tidecv keys its results by run name
        name = out.pop("name")
        out = {"ap": out["ap"], "main": out["main"][name], "special": out["special"][name]}
    return {**usage(_T_START), **out}


def _numbers(rec: Record) -> list[float]:
    return [rec["ap"], *rec["main"].values(), *rec["special"].values()]


def _table(iou: str, records: dict[str, Record], meta: Record) -> str:
    head = (f"TIDE {iou}: {meta['images']} images, {meta['gt_instances']:,} GT, "
            f"{meta['detections']:,} detections")
    cols = f"{'tool':<34}{'seconds':>9}{'cpu s':>8}{'peak MB':>9}{'vs tidecv':>11}{'max|d|':>10}"
    lines = [head, cols, "-" * len(cols)]
    ref = records.get("tidecv")
    t_ref = ref.get("seconds") if ref else None
    for tool, rec in records.items():
        if "seconds" not in rec:
            lines.append(f"{tool:<34}{'n/a':>9}   ({rec.get('error', '')})")
            continue
        diff = "-"
        if ref and "seconds" in ref and tool != "tidecv":
            d = max(abs(a - b) for a, b in zip(_numbers(rec), _numbers(ref), strict=True))
            diff = "0" if d == 0 else f"{d:.1e}"
        lines.append(f"{tool:<34}{rec['seconds']:>9.2f}{rec['cpu_seconds']:>8.2f}"
                     f"{rec['peak_mb']:>9.0f}{ratio(t_ref, rec['seconds']):>11}{diff:>10}")
        if "breakdown_seconds" in rec:
            lines.append(f"{'  of which the breakdown':<34}{rec['breakdown_seconds']:>9.2f}")
    lines.append("main: " + "  ".join(f"{k} {v:.2f}" for k, v in next(
        r for r in records.values() if "main" in r)["main"].items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Driver (or, with ``--worker``, one measurement)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=TOOLS)
    ap.add_argument("--gt")
    ap.add_argument("--pred")
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--det-scale", type=float, default=0.4, help="0.4: ~190k detections")
    ap.add_argument("--iou-type", choices=("bbox", "segm", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-tidecv", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.iou_type, args.gt, args.pred)))
        return 0
    sys.path.insert(0, str(HERE))
    from coco_data import ensure_dataset

    paths = ensure_dataset(args.images, args.seed, det_scale=args.det_scale)
    meta = json.loads(paths.meta.read_text())
    out: dict[str, dict[str, Record]] = {}
    for iou in ("bbox", "segm") if args.iou_type == "both" else (args.iou_type,):
        records: dict[str, Record] = {}
        for tool in [t for t in TOOLS if t != "tidecv" or not args.skip_tidecv]:
            cmd = ["--worker", tool, "--iou-type", iou, "--gt", str(paths.gt), "--pred",
                   str(paths.pred(iou))]
            records[tool], _ = best_of(lambda c=cmd: run_worker(Path(__file__), c, REPO),
                                       args.repeat)
            print(f"  {iou} {tool}: {records[tool].get('seconds', 'n/a')}", file=sys.stderr)
        print(_table(iou, records, meta), flush=True)
        out[iou] = records
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
