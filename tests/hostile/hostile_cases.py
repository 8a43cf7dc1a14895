"""Shared by the hostile-input tests (issue 16): copies of the ``data_samples/`` inputs to
mutate, the in-process CLI through ``evaluate`` and ``validate``, and what every refusal
must look like (exit code, a message naming the file, no traceback, nothing long quoted)."""

from __future__ import annotations

__all__ = ["PANOPTIC", "Sample", "copy_sample", "png_bytes", "refused", "rgb_png",
           "write_json"]

import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from helpers import SAMPLES, run_cli
from PIL import Image

PANOPTIC = ("coco-panoptic", "coco-panoptic-boundary", "cityscapes-panoptic")


@dataclass(frozen=True)
class Sample:
    """A copy of one ``data_samples`` input set: the CLI arguments of ``protocol`` and the
    files and folders to mutate."""

    protocol: str
    gt: Path
    pred: Path
    gt_dir: Path | None = None
    pred_dir: Path | None = None

    def args(self, command: str, *extra: object) -> list[object]:
        dirs: list[object] = []
        if self.gt_dir is not None and self.protocol in PANOPTIC:
            dirs = ["--gt-dir", self.gt_dir, "--pred-dir", self.pred_dir]
        return [command, self.protocol, "--gt", self.gt, "--pred", self.pred, *dirs,
                "--workers", 1, *extra]

    def json(self, side: str) -> Any:
        return json.loads((self.gt if side == "gt" else self.pred).read_text())

    def folder(self, side: str) -> Path:
        folder = self.gt_dir if side == "gt" else self.pred_dir
        assert folder is not None
        return folder


def copy_sample(protocol: str, tmp: Path) -> Sample:
    """A fresh copy of the sample files of ``protocol`` under ``tmp``."""
    if protocol in ("coco-panoptic", "coco-panoptic-boundary"):
        shutil.copytree(SAMPLES / "panoptic", tmp / "panoptic")
        root = tmp / "panoptic"
        return Sample(protocol, root / "gt.json", root / "pred.json", root / "gt",
                      root / "pred")
    if protocol == "cityscapes-panoptic":
        shutil.copytree(SAMPLES / "cityscapes", tmp / "cityscapes")
        root = tmp / "cityscapes"
        return Sample(protocol, root / "gtFine" / "cityscapes_panoptic_val.json",
                      root / "results" / "panoptic.json",
                      root / "gtFine" / "cityscapes_panoptic_val",
                      root / "results" / "panoptic")
    if protocol in ("cityscapes-instance", "cityscapes-semantic"):
        shutil.copytree(SAMPLES / "cityscapes", tmp / "cityscapes")
        root = tmp / "cityscapes"
        kind = protocol.split("-")[1]
        return Sample(protocol, root / "gtFine" / "val", root / "results" / kind)
    if protocol == "semantic":
        shutil.copytree(SAMPLES / "semantic", tmp / "semantic")
        root = tmp / "semantic"
        return Sample(protocol, root / "gt", root / "pred")
    raise ValueError(protocol)


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def rgb_png(array: np.ndarray) -> bytes:
    """An ``(H, W, 3)`` uint8 array as PNG bytes."""
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def png_bytes(width: int, height: int, *, color_type: int = 2, idat: bytes | None = None
              ) -> bytes:
    """A PNG declaring ``width`` x ``height`` (8-bit, ``color_type``) whose IDAT is
    ``idat`` (default: one zlib-compressed empty row): a bomb is a few bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", idat if idat is not None else zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


def refused(argv: list[object], *names: str, code: int = 1, absent: tuple[str, ...] = ()
            ) -> str:
    """Run the CLI: it must exit ``code`` with every one of ``names`` in its output, no
    traceback and none of ``absent``; returns stdout + stderr."""
    got, out, err = run_cli(argv)
    text = out + err
    assert got == code, (got, text)
    assert "Traceback" not in text
    for name in names:
        assert name in text, (name, text)
    for bad in absent:
        assert bad not in text, (bad, text)
    return text
