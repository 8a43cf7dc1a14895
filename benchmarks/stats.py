"""Cost of the bootstrap at COCO val scale: ``evaluate --ci`` and ``compare`` (1,000
resamples each) beside hotcoco 1.3.0's bootstrap ``compare`` (when installed).

The set is ``coco_data.py``'s (5,000 images, ~430k box detections at ``--det-scale 1``).
Run B is run A with every score jittered (seeded), so the two differ a little. Only the
resampling is timed (the evaluations it reuses are run first); in-process, best of
``--repeat``.

Usage: ``python benchmarks/stats.py [--images 5000] [--seed 0] [--resamples 1000]
[--repeat 1] [--skip-hotcoco] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as bench
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _jittered(pred: Path, out: Path, seed: int) -> Path:
    dets = json.loads(pred.read_text())
    rng = np.random.default_rng(seed)
    for d, noise in zip(dets, rng.normal(0, 0.05, len(dets)), strict=True):
        d["score"] = float(min(1.0, max(0.0, d["score"] + noise)))
    out.write_text(json.dumps(dets))
    return out


def _ours(gt: Path, a: Path, b: Path, resamples: int, repeat: int) -> dict[str, Any]:
    import benchmark_eval as be
    from benchmark_eval.stats import bootstrap
    from benchmark_eval.stats.bootstrap import replicates_of
    from benchmark_eval.stats.compare import compare_runs

    ra = be.evaluate("coco-bbox", gt=gt, pred=a, workers=0)
    rb = be.evaluate("coco-bbox", gt=gt, pred=b, workers=0)
    t_ci, boot = _best(lambda: bootstrap(ra, resamples=resamples), repeat)
    runs = replicates_of(ra), replicates_of(rb)
    t_cmp, cmp = _best(lambda: compare_runs("coco-bbox", *runs, resamples=resamples), repeat)
    return {"tool": "benchmark_eval", "ci_seconds": t_ci, "compare_seconds": t_cmp,
            "AP": ra.metrics["AP"], "AP_ci": boot.ci["AP"], "delta_AP": cmp.diff["AP"].delta,
            "delta_AP_ci": cmp.diff["AP"].ci, "p": cmp.diff["AP"].p,
            "detections": len(ra.state.det_score)}


def _hotcoco(gt: Path, a: Path, b: Path, resamples: int, repeat: int) -> dict[str, Any]:
    import hotcoco

    evals = []
    for pred in (a, b):
        coco_gt = hotcoco.COCO(str(gt))
        ev = hotcoco.COCOeval(coco_gt, coco_gt.loadRes(str(pred)), "bbox")
        ev.evaluate()
        evals.append(ev)
    t_cmp, out = _best(lambda: hotcoco.compare(*evals, n_bootstrap=resamples, seed=0),
                       repeat)
    return {"tool": "hotcoco 1.3.0", "ci_seconds": None, "compare_seconds": t_cmp,
            "delta_AP": out["deltas"].get("AP"), "delta_AP_ci": (out.get("ci") or {}).get("AP")}


def main(argv: list[str] | None = None) -> int:
    """Generate (or find) the set, time both tools, print a table."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-hotcoco", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    root, meta = bench.generated(HERE / "coco_data.py", "--images", args.images, "--seed",
                                 args.seed)
    gt, a = root / "gt.json", root / "bbox.json"
    b = _jittered(a, root / "bbox_jittered.json", args.seed)
    rows = [_ours(gt, a, b, args.resamples, args.repeat)]
    if not args.skip_hotcoco:
        try:
            rows.append(_hotcoco(gt, a, b, args.resamples, args.repeat))
        except ImportError:
            print("hotcoco not installed: skipped", file=sys.stderr)
    print(f"{args.images} images, {args.resamples} resamples")
    print(f"{'tool':<16}{'--ci s':>9}{'compare s':>11}   delta AP [interval]")
    for r in rows:
        ci = "-" if r["ci_seconds"] is None else f"{r['ci_seconds']:.2f}"
        print(f"{r['tool']:<16}{ci:>9}{r['compare_seconds']:>11.2f}   {r['delta_AP']}"
              f" {r['delta_AP_ci']}")
    if args.json is not None:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
