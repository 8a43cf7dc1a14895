"""COCO keypoints speed benchmark: benchmark_eval ``coco-keypoints`` vs pycocotools vs
faster-coco-eval vs hotcoco, each run end to end in a fresh process.

Every measurement (import, read both JSON files, evaluate, summarize) runs in a fresh
subprocess that reports its wall time, CPU time, peak RSS and the 10 keypoint ``stats`` as
JSON; the driver prints ratios and the largest ``stats`` difference against pycocotools.
hotcoco is optional (``pip install hotcoco==1.3.0``; not a project dependency): its row says
``n/a`` when it is not installed.

The data is generated here, seeded and cached under ``benchmarks/.data/``: a COCO-val-like
person set (seed 0: 5,000 images, ~45 % with people, 9,880 person annotations of which 7,509
carry keypoints, 90 crowd regions, ~2 % scenes of 20-40 people; COCO val2017 has 11,004 /
6,352) and 100,054 keypoint detections (a good copy of 88 % of the people, duplicates,
background false positives; 8-30 per image; a third of the scores rounded, so ties occur).

Usage: ``python benchmarks/coco_keypoints.py [--images 5000] [--seed 0] [--repeat K]
[--only TOOL ...] [--json OUT]``
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()  # the worker's clock starts before any heavy import

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from _harness import Record, best_of, ratio, run_worker, stdout_silenced, usage  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORES = os.cpu_count() or 1
BUSY_WARN = 0.25  # flag a measurement when other processes used more cores than this
GENERATOR_VERSION = 1
# A standing person in a unit box: (x, y) of the 17 COCO keypoints.
POSE = ((.50, .08), (.54, .06), (.46, .06), (.58, .08), (.42, .08), (.65, .22), (.35, .22),
        (.72, .38), (.28, .38), (.75, .52), (.25, .52), (.60, .55), (.40, .55), (.62, .75),
        (.38, .75), (.63, .95), (.37, .95))
SIZES = ((640, 480), (480, 640), (640, 427), (500, 375), (612, 612), (640, 360))


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def _people(rng: Any, w_img: int, h_img: int) -> list[dict[str, Any]]:
    """The GT people of one image (boxes, areas, keypoints, flags)."""
    import numpy as np

    if rng.random() < 0.55:
        return []
    crowded = rng.random() < 0.02
    n = int(rng.integers(20, 40)) if crowded else 1 + int(rng.negative_binomial(1.2, 0.3))
    out = []
    pose = np.array(POSE)
    for _ in range(n):
        side = float(np.exp(rng.normal(4.0, 0.9)))  # sqrt(area): small .. large
        w = min(side * rng.uniform(0.4, 0.7), w_img - 2.0)
        h = min(side * rng.uniform(1.2, 2.0), h_img - 2.0)
        x, y = rng.uniform(0, w_img - w), rng.uniform(0, h_img - h)
        crowd = rng.random() < 0.01
        area = w * h * rng.uniform(0.45, 0.65)
        p_label = 0.0 if crowd or side < 28 else (0.9 if side > 60 else 0.5)
        xy = pose * [w, h] + [x, y] + rng.normal(0, 0.03 * side, (17, 2))
        flags = np.where(rng.random(17) < p_label, rng.choice([1, 2], 17, p=[0.15, 0.85]), 0)
        out.append({"box": [x, y, w, h], "area": area, "crowd": crowd, "xy": xy,
                    "flags": flags})
    return out


def _annotation(person: dict[str, Any], ann_id: int, image_id: int) -> dict[str, Any]:
    kps: list[float] = []
    for (px, py), v in zip(person["xy"].tolist(), person["flags"].tolist(), strict=True):
        kps += [round(px, 2), round(py, 2), int(v)] if v else [0, 0, 0]
    return {"id": ann_id, "image_id": image_id, "category_id": 1,
            "iscrowd": int(person["crowd"]), "area": round(float(person["area"]), 2),
            "bbox": [round(float(v), 2) for v in person["box"]],
            "num_keypoints": int((person["flags"] > 0).sum()), "keypoints": kps}


def _detection(rng: Any, image_id: int, box: list[float], noise: float,
               score: float) -> dict[str, Any]:
    import numpy as np

    x, y, w, h = box
    xy = np.array(POSE) * [w, h] + [x, y] + rng.normal(0, noise * np.sqrt(w * h), (17, 2))
    trip = np.column_stack([xy, rng.uniform(0.05, 1.0, 17)]).round(2)
    if rng.random() < 0.33:
        score = round(score, 2)
    return {"image_id": image_id, "category_id": 1, "keypoints": trip.ravel().tolist(),
            "score": score}


def generate(images: int, seed: int, out: Path) -> None:
    """Write ``gt.json``, ``keypoints.json`` and ``meta.json`` to ``out``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    imgs, anns, dets = [], [], []
    for i in range(images):
        image_id = 139 + 7 * i
        w_img, h_img = SIZES[int(rng.integers(len(SIZES)))]
        imgs.append({"id": image_id, "width": w_img, "height": h_img,
                     "file_name": f"{image_id:012d}.jpg"})
        people = _people(rng, w_img, h_img)
        for person in people:
            anns.append(_annotation(person, len(anns) + 1, image_id))
            if person["crowd"] or rng.random() < 0.12:
                continue
            base = float(rng.beta(5, 2))
            dets.append(_detection(rng, image_id, person["box"], 0.04, base))
            dets.extend(_detection(rng, image_id, person["box"], 0.15, base * 0.6)
                        for _ in range(int(rng.poisson(1.0))))
        for _ in range(int(rng.integers(8, 30)) - len(people)):
            side = float(np.exp(rng.normal(3.8, 0.8)))
            w, h = min(side * 0.5, w_img - 2.0), min(side * 1.6, h_img - 2.0)
            box = [float(rng.uniform(0, w_img - w)), float(rng.uniform(0, h_img - h)), w, h]
            dets.append(_detection(rng, image_id, box, 0.05, float(rng.beta(1, 6))))
    gt = {"info": {"description": "synthetic COCO-val-like keypoints set"}, "images": imgs,
          "annotations": anns,
          "categories": [{"id": 1, "name": "person", "supercategory": "person",
                          "keypoints": [f"k{j}" for j in range(17)], "skeleton": []}]}
    out.mkdir(parents=True, exist_ok=True)
    (out / "gt.json").write_text(json.dumps(gt))
    (out / "keypoints.json").write_text(json.dumps(dets))
    meta = {"version": GENERATOR_VERSION, "images": images, "seed": seed,
            "gt_instances": len(anns),
            "gt_with_keypoints": sum(a["num_keypoints"] > 0 for a in anns),
            "gt_crowd": sum(a["iscrowd"] for a in anns), "detections": len(dets)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


def dataset(images: int, seed: int) -> Path:
    """The cached data folder, generated in a subprocess (keeps the driver's RSS small)."""
    root = HERE / ".data" / f"coco_keypoints-{seed}-{images}"
    meta = root / "meta.json"
    if not meta.exists() or json.loads(meta.read_text()).get("version") != GENERATOR_VERSION:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate", str(root),
                        "--images", str(images), "--seed", str(seed)], check=True)
    return root


# --------------------------------------------------------------------------------------------
# Worker side: one tool in a fresh process
# --------------------------------------------------------------------------------------------


def _summarized(ev: Any, n: int = 10) -> list[float]:
    """evaluate, accumulate, summarize a COCOeval-like object: its first ``n`` stats."""
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(v) for v in list(ev.stats)[:n]]


def _run_pycocotools(gt: str, pred: str, workers: int) -> list[float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    coco_gt = COCO(gt)
    return _summarized(COCOeval(coco_gt, coco_gt.loadRes(pred), "keypoints"))


def _run_faster_coco_eval(gt: str, pred: str, workers: int) -> list[float]:
    from faster_coco_eval import COCO, COCOeval_faster

    coco_gt = COCO(gt)
    return _summarized(COCOeval_faster(coco_gt, coco_gt.loadRes(pred), "keypoints",
                                       print_function=lambda *a, **k: None))


def _run_hotcoco(gt: str, pred: str, workers: int) -> list[float]:
    from hotcoco import COCO, COCOeval  # type: ignore[import-not-found,unused-ignore]

    coco_gt = COCO(gt)
    return _summarized(COCOeval(coco_gt, coco_gt.load_res(pred), "keypoints"))


def _run_benchmark_eval(gt: str, pred: str, workers: int) -> list[float]:
    import benchmark_eval  # type: ignore[import-not-found,unused-ignore]

    result = benchmark_eval.evaluate("coco-keypoints", gt=gt, pred=pred, workers=workers)
    return [float(v) for v in result.stats]


RUNNERS: dict[str, Callable[[str, str, int], list[float]]] = {
    "pycocotools": _run_pycocotools,
    "faster-coco-eval": _run_faster_coco_eval,
    "hotcoco": _run_hotcoco,
    "benchmark_eval": _run_benchmark_eval,
}


def worker(tool: str, gt: str, pred: str, workers: int) -> Record:
    """Run one measurement in this process and describe it."""
    with stdout_silenced():
        stats = RUNNERS[tool](gt, pred, workers)
    return {**usage(_T_START), "stats": stats}


# --------------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------------

REFERENCES = ("pycocotools", "faster-coco-eval", "hotcoco")


def _entries(only: Sequence[str] | None) -> list[tuple[str, str, int]]:
    out = [(t, t, 1) for t in REFERENCES]
    out.append(("benchmark_eval (1 worker)", "benchmark_eval", 1))
    if CORES > 1:
        out.append((f"benchmark_eval ({CORES} workers)", "benchmark_eval", CORES))
    return [e for e in out if not only or e[1] in only]


def measure(label: str, tool: str, root: Path, workers: int, repeat: int) -> Record:
    """Best (lowest seconds) of ``repeat`` fresh-process runs."""
    args = ["--worker", tool, "--gt", str(root / "gt.json"), "--pred",
            str(root / "keypoints.json"), "--workers", str(workers)]
    best, times = best_of(lambda: run_worker(Path(__file__).resolve(), args, REPO), repeat)
    best.update(label=label, tool=tool, workers=workers, times=times)
    shown = f"{best['seconds']:.2f} s" if "seconds" in best else f"n/a ({best.get('error')})"
    print(f"  {label:<28} {shown}", file=sys.stderr, flush=True)
    return best


def _table(records: list[Record], meta: Record) -> str:
    by_tool = {r["label"]: r for r in records if "seconds" in r}
    ref = by_tool.get("pycocotools", {}).get("stats")
    t_ref = {t: by_tool.get(t, {}).get("seconds") for t in REFERENCES}
    head = (f"COCO keypoints: {meta['images']} images, {meta['gt_instances']:,} GT"
            f" ({meta['gt_with_keypoints']:,} with keypoints, {meta['gt_crowd']} crowd),"
            f" {meta['detections']:,} detections; {CORES} cores")
    cols = (f"{'tool':<30}{'seconds':>9}{'cpu s':>8}{'peak MB':>10}{'vs pycoco':>11}"
            f"{'vs faster':>11}{'vs hotcoco':>12}{'max|dstats|':>13}")
    lines = [head, cols, "-" * len(cols)]
    noisy = False
    for r in records:
        name = r["label"]
        if r.get("background_cores", 0) > BUSY_WARN:
            name += " *"
            noisy = True
        if "seconds" not in r:
            lines.append(f"{name:<30}{'n/a':>9}   ({r.get('error', '')})")
            continue
        t = r["seconds"]
        peak = f"{r['peak_mb']:.0f}"
        if r.get("children_peak_mb", 0) >= 1:
            peak += f"+{r['children_peak_mb']:.0f}"
        diff = "-"
        if ref and r.get("stats"):
            d = max(abs(a - b) for a, b in zip(r["stats"], ref, strict=True))
            diff = "0" if d == 0 else f"{d:.1e}"
        lines.append(f"{name:<30}{t:>9.2f}{r.get('cpu_seconds', 0):>8.2f}{peak:>10}"
                     f"{ratio(t_ref['pycocotools'], t):>11}"
                     f"{ratio(t_ref['faster-coco-eval'], t):>11}"
                     f"{ratio(t_ref['hotcoco'], t):>12}{diff:>13}")
    if noisy:
        lines.append(f"* other processes used > {BUSY_WARN} cores meanwhile: timing is noisy")
    if ref:
        lines.append("pycocotools stats: " + " ".join(f"{v:.4f}" for v in ref))
    return "\n".join(lines)


def _versions() -> Record:
    from importlib import metadata

    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    return {p: version(p) for p in ("numpy", "pycocotools", "faster-coco-eval", "hotcoco",
                                    "benchmark-eval")}


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (driver, ``--generate`` or ``--worker`` inside a subprocess)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="best of K runs per tool")
    ap.add_argument("--only", nargs="+", choices=sorted(RUNNERS), help="measure only these")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    ap.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--worker", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    ap.add_argument("--gt", help=argparse.SUPPRESS)
    ap.add_argument("--pred", help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.generate:
        generate(args.images, args.seed, args.generate)
        return 0
    if args.worker:
        print(json.dumps(worker(args.worker, args.gt, args.pred, args.workers)))
        return 0
    root = dataset(args.images, args.seed)
    meta = json.loads((root / "meta.json").read_text())
    print(f"dataset {root}", file=sys.stderr)
    records = [measure(label, tool, root, workers, args.repeat)
               for label, tool, workers in _entries(args.only)]
    print(_table(records, meta), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"dataset": meta, "cores": CORES,
                                         "versions": _versions(), "results": records},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
