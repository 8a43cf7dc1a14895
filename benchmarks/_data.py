"""What the benchmark data generators (``*_data.py``) share: COCO image sizes and ids, the
cached-dataset check and its ``meta.json``, score rounding, area-bucket shares and the
command line. The mask building blocks come from ``tests/synth`` (put on ``sys.path`` here).

Imported by the generators as ``from _data import ...`` (their folder is on ``sys.path`` when
run as ``python benchmarks/<name>_data.py``).
"""

from __future__ import annotations

__all__ = [
    "DATA_ROOT",
    "CocoSetFiles",
    "add_data_arguments",
    "cached",
    "coco_images",
    "is_current",
    "print_dataset",
    "round_scores",
    "size_share",
    "write_meta",
]

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson

_P = TypeVar("_P")
HERE = Path(__file__).resolve().parent
DATA_ROOT = HERE / ".data"
if str(HERE.parent / "tests") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "tests"))  # the shared synth package

# (width, height) of COCO images (LVIS reuses them) with rough val2017 frequencies.
IMAGE_SIZES: tuple[tuple[int, int, float], ...] = (
    (640, 480, 0.32), (480, 640, 0.10), (640, 427, 0.16), (427, 640, 0.06), (640, 428, 0.05),
    (640, 424, 0.04), (500, 375, 0.07), (375, 500, 0.03), (612, 612, 0.04), (640, 640, 0.03),
    (640, 360, 0.04), (640, 512, 0.03), (500, 333, 0.03),
)


def coco_images(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sizes, size index per image, sorted image ids)`` of ``n`` COCO-like images (the
    size indices drawn first, then the ids out of 1..600000)."""
    sizes = np.array([(w, h) for w, h, _ in IMAGE_SIZES])
    size_p = np.array([p for _, _, p in IMAGE_SIZES])
    size_idx = rng.choice(len(sizes), n, p=size_p / size_p.sum())
    image_ids = np.sort(rng.choice(600_000, n, replace=False) + 1)
    return sizes, size_idx, image_ids


def round_scores(rng: np.random.Generator, scores: np.ndarray, low: float,
                 decimals: tuple[float, float]) -> np.ndarray:
    """Clip scores to ``[low, 1]``; round the shares ``decimals`` to 2 / 3 decimals so that
    ties occur."""
    scores = np.clip(scores, low, 1.0)
    u = rng.random(scores.size)
    two, three = decimals
    scores = np.where(u < two, np.round(scores, 2), scores)
    scores = np.where((u >= two) & (u < two + three), np.round(scores, 3), scores)
    out: np.ndarray = np.maximum(scores, low)
    return out


def size_share(areas: np.ndarray) -> dict[str, float]:
    """Shares of the COCO small / medium / large area buckets."""
    return {
        "small": round(float(np.mean(areas < 32**2)), 4),
        "medium": round(float(np.mean((areas >= 32**2) & (areas < 96**2))), 4),
        "large": round(float(np.mean(areas >= 96**2)), 4),
    }


def is_current(meta: Path, files: Iterable[Path], version: int, cfg: Any) -> bool:
    """True when ``files`` and ``meta`` exist and were made by generator ``version`` with
    the settings ``cfg`` (a dataclass)."""
    if not all(p.exists() for p in (*files, meta)):
        return False
    doc = orjson.loads(meta.read_bytes())
    same_cfg = doc.get("config") == orjson.loads(orjson.dumps(cfg.__dict__))
    return bool(doc.get("generator_version") == version and same_cfg)


def write_meta(meta: Path, version: int, cfg: Any, summary: dict[str, Any], start: float,
               files: Iterable[Path] = ()) -> dict[str, Any]:
    """Write and return ``meta.json``: version, settings, ``summary``, the generation time
    since ``start`` and (when given) the byte size of each file."""
    doc = {"generator_version": version, "config": cfg.__dict__, **summary,
           "generation_seconds": round(time.perf_counter() - start, 2)}
    sizes = {p.name: p.stat().st_size for p in files}
    if sizes:
        doc["bytes"] = sizes
    meta.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return doc


@dataclass(frozen=True)
class CocoSetFiles:
    """Files of one generated instance set: ``gt.json``, ``segm.json`` (compressed RLE, no
    ``bbox``), ``bbox.json`` and ``meta.json`` under ``root``."""

    root: Path
    gt: Path = field(init=False)
    segm: Path = field(init=False)
    bbox: Path = field(init=False)
    meta: Path = field(init=False)

    def __post_init__(self) -> None:
        """Derive the file names from the root folder."""
        for name in ("gt", "segm", "bbox", "meta"):
            object.__setattr__(self, name, self.root / f"{name}.json")

    def pred(self, iou_type: str) -> Path:
        """Results file for ``segm`` or ``bbox``."""
        return {"segm": self.segm, "bbox": self.bbox}[iou_type]

    def current(self, version: int, cfg: Any) -> bool:
        """True when all files exist and were made by generator ``version`` with ``cfg``."""
        return is_current(self.meta, (self.gt, self.segm, self.bbox), version, cfg)


def add_data_arguments(ap: argparse.ArgumentParser, images: int) -> None:
    """``--images --seed --out --force``."""
    ap.add_argument("--images", type=int, default=images)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: cache)")
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")


def cached(paths: _P, cfg: Any, force: bool, generate: Callable[[Any, Path], Any]) -> _P:
    """``paths``, after ``generate(cfg, paths.root)`` unless they are complete for ``cfg``."""
    if force or not paths.complete(cfg):
        generate(cfg, paths.root)
    return paths


def print_dataset(paths: Any) -> int:
    """What the drivers read back: the folder on the first line, then the metadata."""
    print(paths.root)
    print(paths.meta.read_text())
    return 0
