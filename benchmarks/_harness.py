"""What every benchmark script shares: fresh-process measurement, its bookkeeping, and
ratio formatting. Each script keeps only its tools, its floor and its table.

Imported by the scripts as ``from _harness import ...`` (their folder is on ``sys.path``
when run as ``python benchmarks/<name>.py``); standard library only, so importing it does
not disturb a worker's clock.
"""

from __future__ import annotations

__all__ = ["Record", "best_of", "cpu_busy", "ratio", "run_worker", "stdout_silenced",
           "usage", "vm_hwm_mb"]

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

Record = dict[str, Any]
_IDLE_TICKS = 0.25  # CPU seconds of other processes below which we count tick noise


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
