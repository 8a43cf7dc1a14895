"""What every benchmark script shares: fresh-process measurement and its bookkeeping (the
worker record, best-of runs, the cache of official measurements, versions), the common
command-line options, and the table cells. Each script keeps only its tools, its floor and
its table.

Imported by the scripts as ``from _harness import ...`` (their folder is on ``sys.path``
when run as ``python benchmarks/<name>.py``); standard library only, so importing it does
not disturb a worker's clock.
"""

from __future__ import annotations

__all__ = [
    "BUSY_WARN",
    "CORES",
    "Record",
    "best_of",
    "best_time",
    "cpu_busy",
    "floor",
    "generated",
    "hotcoco_line",
    "load_line",
    "max_diff",
    "measure",
    "measure_all",
    "merge_cached",
    "own_cpu",
    "parsed",
    "parser",
    "peak_text",
    "per_iou_type",
    "ratio",
    "row_name",
    "run_worker",
    "stdout_silenced",
    "total_peak",
    "usage",
    "versions",
    "vm_hwm_mb",
    "worker_record",
    "write_results",
]

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

Record = dict[str, Any]
_IDLE_TICKS = 0.25  # CPU seconds of other processes below which we count tick noise
CORES = os.cpu_count() or 1
BUSY_WARN = 0.25  # flag a measurement when other processes used more cores than this


@contextlib.contextmanager
def stdout_silenced() -> Iterator[None]:
    """Send fd 1 (Python and C level) to /dev/null for the duration."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def vm_hwm_mb() -> float | None:
    """Peak RSS of this process image from /proc (Linux), as a cross-check of ru_maxrss."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def usage(start: float) -> Record:
    """Wall seconds since ``start`` (taken before any heavy import), CPU seconds and peak
    memory of this worker process and its children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "peak_mb": me.ru_maxrss / 1024,
        "children_peak_mb": kids.ru_maxrss / 1024,
        "vm_hwm_mb": vm_hwm_mb(),
    }


def cpu_busy() -> float:
    """System-wide busy CPU seconds since boot (Linux /proc/stat; 0 elsewhere)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        user, nice, system, _idle, _iowait, irq, softirq = (
            int(v) for v in Path("/proc/stat").read_text().split()[1:8]
        )
        return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    return 0.0


def run_worker(script: Path, args: Sequence[str], repo: Path) -> Record:
    """Run ``script`` with ``args`` in a fresh process (``repo`` on ``PYTHONPATH``) and return
    the JSON record it prints last, or ``{"error": ...}``.

    Adds ``process_seconds`` (start-up and teardown included), ``load_before`` and
    ``background_cores``: the cores other processes used meanwhile (machine-wide busy time
    minus the worker's own), 0 when within tick noise.
    """
    cmd = [sys.executable, str(script), *args]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    load = os.getloadavg()[0]
    busy0, t0 = cpu_busy(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    process_seconds = time.perf_counter() - t0
    busy = cpu_busy() - busy0
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {"error": err[:200]}
    record: Record = json.loads(lines[-1])
    record["process_seconds"] = process_seconds
    record["load_before"] = load
    other = busy - record["cpu_seconds"]
    record["background_cores"] = other / process_seconds if other > _IDLE_TICKS else 0.0
    return record


def best_of(run: Callable[[], Record], repeat: int) -> tuple[Record, list[float]]:
    """The fastest of ``repeat`` runs (or the first error) and every run's seconds."""
    best: Record | None = None
    times: list[float] = []
    for _ in range(max(repeat, 1)):
        rec = run()
        if "error" in rec:
            return rec, times
        times.append(rec["seconds"])
        if best is None or rec["seconds"] < best["seconds"]:
            best = rec
    assert best is not None
    return best, times


def ratio(num: float | None, den: float | None) -> str:
    """``num / den`` as ``12.34x``, or ``-`` when either is missing."""
    return f"{num / den:.2f}x" if num and den else "-"


def own_cpu() -> float:
    """CPU seconds of this process and its waited-for children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best_time(fn: Callable[[], Any], repeat: int) -> Record:
    """Best of ``repeat`` in-process runs: ``seconds``, the ``value`` of that run and
    ``other_load``, the cores other processes used meanwhile."""
    best: Record = {"seconds": math.inf}
    for _ in range(max(repeat, 1)):
        busy, cpu, start = cpu_busy(), own_cpu(), time.perf_counter()
        value = fn()
        wall = time.perf_counter() - start
        if wall < best["seconds"]:
            other = (cpu_busy() - busy) - (own_cpu() - cpu)
            best = {"seconds": wall, "value": value, "other_load": max(0.0, other / wall)}
    return best


def worker_record(run: Callable[[], Any], start: float, key: str = "stats") -> Record:
    """Inside a measurement subprocess: ``run()`` with stdout silenced, then :func:`usage`
    and its result under ``key``."""
    with stdout_silenced():
        result = run()
    return {**usage(start), key: result}


def measure(script: Path, args: Sequence[str], repo: Path, repeat: int, label: str,
            **fields: Any) -> Record:
    """Best of ``repeat`` fresh-process runs of ``script args`` (:func:`run_worker`), with
    ``label``, ``fields`` and every run's seconds (``all_seconds``); prints a progress line
    to stderr."""
    best, seconds = best_of(lambda: run_worker(script, args, repo), repeat)
    best.update(label=label, **fields, all_seconds=[round(t, 2) for t in seconds])
    shown = ", ".join(f"{t:.2f}" for t in seconds) + " s" if seconds else (
        "n/a " + best.get("error", ""))
    print(f"  {label:<34} {shown}", file=sys.stderr, flush=True)
    return best


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def measure_all(script: Path, jobs: Sequence[tuple[str, Sequence[str], Record]], repo: Path,
                repeat: int) -> list[Record]:
    """Fresh-process runs of every job, alternating: round ``k`` runs each job once, in
    order, so a change of machine load hits every tool alike. A job is ``(label, args,
    fields)``; its record is its first run's with ``seconds``, ``cpu_seconds``, ``peak_mb``
    and ``children_peak_mb`` replaced by their medians over the ``repeat`` runs, and every
    run's values kept (``all_seconds``, ``all_cpu_seconds``, ``all_peak_mb``). A job that
    fails once is reported by its error and not run again."""
    runs: list[list[Record]] = [[] for _ in jobs]
    failed: list[Record | None] = [None] * len(jobs)
    for _ in range(max(repeat, 1)):
        for i, (label, args, _fields) in enumerate(jobs):
            if failed[i] is None:
                rec = run_worker(script, args, repo)
                if "error" in rec:
                    failed[i] = rec
                else:
                    runs[i].append(rec)
                print(f"  {label:<34} {rec.get('seconds', math.nan):.2f} s"
                      f" ({rec.get('cpu_seconds', math.nan):.2f} CPU s)"
                      + (f" n/a {rec['error']}" if "error" in rec else ""),
                      file=sys.stderr, flush=True)
    out: list[Record] = []
    for (label, _args, fields), recs, err in zip(jobs, runs, failed, strict=True):
        if err is not None or not recs:
            out.append({**(err or {"error": "no run"}), "label": label, **fields})
            continue
        rec = dict(recs[0])
        for key in ("seconds", "cpu_seconds", "peak_mb", "children_peak_mb",
                    "background_cores", "load_before"):
            rec[key] = _median([r.get(key) or 0.0 for r in recs])
        rec.update(label=label, **fields,
                   all_seconds=[round(r["seconds"], 3) for r in recs],
                   all_cpu_seconds=[round(r["cpu_seconds"], 3) for r in recs],
                   all_peak_mb=[round(total_peak(r)) for r in recs])
        out.append(rec)
    return out


def total_peak(r: Record) -> float:
    """Peak MB of a worker plus the largest of its children (0 without children)."""
    return float(r.get("peak_mb", 0.0)) + float(r.get("children_peak_mb", 0.0) or 0.0)


def hotcoco_line(records: Sequence[Record], ours: str = "benchmark_eval",
                 hot: str = "hotcoco", floor_tool: str = "floor") -> str:
    """``ours / hotcoco`` for every ``ours`` row: wall, CPU and peak memory ratios (above
    1: we are slower / bigger), and the floor's wall time; empty when either is missing."""
    by_tool = [r for r in records if "seconds" in r]
    h = next((r for r in by_tool if r.get("tool") == hot), None)
    f = next((r for r in by_tool if r.get("tool") == floor_tool), None)
    if h is None:
        return ""
    lines = []
    for r in by_tool:
        if r.get("tool") != ours:
            continue
        label = r["label"] if "worker" in r["label"] else f"{r['label']}, {r['workers']} proc"
        lines.append(
            f"ours/hotcoco [{label}]: wall {r['seconds']:.2f}/{h['seconds']:.2f} s ="
            f" {r['seconds'] / h['seconds']:.2f}x, CPU {r['cpu_seconds']:.2f}/"
            f"{h['cpu_seconds']:.2f} s = {r['cpu_seconds'] / h['cpu_seconds']:.2f}x, peak"
            f" {total_peak(r):.0f}/{total_peak(h):.0f} MB = "
            f"{total_peak(r) / total_peak(h):.2f}x"
            + (f"; {f['label']} {f['seconds']:.2f} s ({f['cpu_seconds']:.2f} CPU s)" if f else ""))
    return "\n".join([*lines, load_line(records)])


def load_line(records: Sequence[Record]) -> str:
    """The machine's load during the rows: 1-minute load averages and other processes'
    cores (medians per row), lowest to highest."""
    loads = [r["load_before"] for r in records if "load_before" in r]
    other = [r.get("background_cores", 0.0) for r in records if "seconds" in r]
    if not loads:
        return ""
    return (f"machine load: 1-min load average {min(loads):.1f}-{max(loads):.1f} on {CORES}"
            f" cores; other processes used {min(other):.2f}-{max(other):.2f} cores")


def generated(script: Path, *args: object) -> tuple[Path, Record]:
    """Generate (or find cached) data with a generator script in a subprocess; returns the
    folder it prints first and its ``meta.json``. A child's ``ru_maxrss`` starts from its
    parent's RSS at exec time, so the driver must not hold the data in memory itself."""
    start = time.perf_counter()
    cmd = [sys.executable, str(script), *(str(a) for a in args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    root = Path(proc.stdout.splitlines()[0])
    print(f"dataset {root} ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return root, json.loads((root / "meta.json").read_text())


def merge_cached(records: list[Record], cache: Path, skip_official: bool,
                 official: Callable[[Record], bool], at: int = 1) -> list[Record]:
    """With ``skip_official``: the cached official measurements (marked ``cached``) inserted
    at ``at``; without: the fresh official ones written to ``cache``."""
    if skip_official:
        if cache.exists():
            cached = json.loads(cache.read_text())
            for rec in cached:
                rec["cached"] = True
            records[at:at] = cached
    else:
        cache.write_text(json.dumps([r for r in records if official(r) and "seconds" in r],
                                    indent=1))
    return records


def versions(packages: Iterable[str]) -> Record:
    """Versions of the interpreter and of the measured distributions (None: not installed)."""
    from importlib import metadata

    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    out: Record = {"python": platform.python_version(), "machine": platform.machine()}
    return out | {pkg: version(pkg) for pkg in packages}


def write_results(path: Path | None, meta: Record, packages: Iterable[str], repeat: int,
                  results: Any) -> None:
    """The ``--json`` document: dataset, cores, versions, repeat and every record."""
    if path is not None:
        doc = {"dataset": meta, "cores": CORES, "versions": versions(packages), "repeat": repeat}
        path.write_text(json.dumps({**doc, "results": results}, indent=1))


def parser(doc: str | None, images: int, runners: Iterable[str],
           files: Sequence[str] = ("--gt", "--pred"), iou_types: bool = False
           ) -> argparse.ArgumentParser:
    """The command line every driver shares: ``--images --seed --repeat --json``
    (``--iou-type`` with ``iou_types``) and the hidden worker options (``--worker``, the
    input ``files``, ``--workers``); described by the first line of ``doc``."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    ap.add_argument("--images", type=int, default=images)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="best of K runs per tool")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    ap.add_argument("--worker", choices=sorted(runners), help=argparse.SUPPRESS)
    for name in files:
        ap.add_argument(name, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    if iou_types:
        ap.add_argument("--iou-type", choices=("segm", "bbox", "both"), default="both")
    return ap


def row_name(r: Record) -> str:
    """A table row's label, `` (cached)`` when reused, `` *`` when the timing was noisy."""
    name = r["label"] + (" (cached)" if r.get("cached") else "")
    return name + " *" if r.get("background_cores", 0) > BUSY_WARN else name


def peak_text(r: Record) -> str:
    """Peak MB of the worker, ``+children`` when they used 1 MB or more."""
    peak = f"{r['peak_mb']:.0f}"
    if r.get("children_peak_mb", 0) >= 1:
        peak += f"+{r['children_peak_mb']:.0f}"
    return peak


def max_diff(values: Sequence[float] | None, ref: Sequence[float] | None) -> str:
    """Largest absolute difference of two result vectors: ``0``, ``1.2e-16`` or ``-``."""
    if not values or not ref:
        return "-"
    diff = max(abs(a - b) for a, b in zip(values, ref, strict=True))
    return "0" if diff == 0 else f"{diff:.1e}"


def parsed(gt: str, pred: str) -> tuple[Any, Any]:
    """Both JSON files parsed with orjson (the floors' reading step)."""
    import orjson

    return orjson.loads(Path(gt).read_bytes()), orjson.loads(Path(pred).read_bytes())


def floor(segm: Callable[[Any, Any], Any], bbox: Callable[[Any, Any], Any]
          ) -> Callable[[str, str, str, int], list[float]]:
    """The ``floor`` runner of an iou-type benchmark: parse both files with orjson and
    compute every overlap the evaluator needs (``segm`` or ``bbox`` of the parsed ground
    truth and detections); no matching, no numbers."""
    def run(iou: str, gt: str, pred: str, workers: int) -> list[float]:
        (segm if iou == "segm" else bbox)(*parsed(gt, pred))
        return []

    return run


def per_iou_type(iou_type: str, run: Callable[[str], Any]) -> dict[str, Any]:
    """``run(iou)`` for ``segm`` then ``bbox`` (``--iou-type both``) or the one asked for."""
    ious = ("segm", "bbox") if iou_type == "both" else (iou_type,)
    return {iou: run(iou) for iou in ious}


def add_row_arguments(ap: argparse.ArgumentParser, runners: Iterable[str]) -> None:
    """``--procs`` (process counts to measure) and ``--skip`` (rows to leave out), for the
    drivers that time image-by-image protocols at several process counts."""
    ap.add_argument("--procs", type=int, nargs="*", default=sorted({1, CORES}),
                    help="process counts to measure (default: 1 and all cores)")
    ap.add_argument("--skip", nargs="*", default=[], choices=sorted(runners),
                    help="rows to leave out")
