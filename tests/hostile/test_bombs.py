"""Memory bombs (issue 16): sizes are checked on headers before anything is inflated or
allocated. The bombs are built in memory, a few bytes each; the CLI runs them in a child
process under a 3 GB address-space limit, so an allocation of the declared size fails."""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hostile_cases import PANOPTIC, copy_sample, png_bytes, refused, write_json

_LIMIT = 3 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_LIMIT, _LIMIT))


def _cli_limited(argv: list[object]) -> tuple[int, str]:
    """The CLI in a child process under the address-space limit: (exit code, output)."""
    code = ("import sys; from benchmark_eval.cli import main;"
            f" sys.exit(main({[str(a) for a in argv]!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          preexec_fn=_limited, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def test_bombs_under_a_memory_limit(tmp_path: Path) -> None:
    """One child process per bomb kind (each start costs a second)."""
    sample = copy_sample("coco-panoptic", tmp_path)
    pred = sorted(sample.folder("pred").glob("*.png"))[0]
    pred.write_bytes(png_bytes(100000, 100000))  # 1 KB declaring 3*10^10 bytes
    gt = sorted(sample.folder("gt").glob("*.png"))[1]
    gt.write_bytes(png_bytes(20000, 25000))  # 5*10^8 pixels: over the limit
    for command in ("evaluate", "validate"):
        code, text = _cli_limited(sample.args(command))
        assert code == 1, text
        assert "Traceback" not in text
        assert "MemoryError" not in text
        assert f"{pred}: is 100000x100000 pixels but the ground-truth PNG" in text
        if command == "validate":  # evaluate stops at the first problem
            assert f"{gt}: image of 20000x25000 declares" in text


def test_a_declared_size_differing_from_the_gt_is_refused_before_inflating(
        tmp_path: Path) -> None:
    for protocol in PANOPTIC:
        sample = copy_sample(protocol, tmp_path / protocol)
        pred = sorted(sample.folder("pred").glob("*.png"))[0]
        pred.write_bytes(png_bytes(100000, 100000))
        for command in ("evaluate", "validate"):
            refused(sample.args(command), str(pred), "is 100000x100000 pixels but the"
                                                     " ground-truth PNG")


def test_a_gt_png_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    sample = copy_sample("coco-panoptic", tmp_path)
    gt = sorted(sample.folder("gt").glob("*.png"))[0]
    gt.write_bytes(png_bytes(100000, 100000))
    for command in ("evaluate", "validate"):
        refused(sample.args(command), str(gt), "over the 268435456 limit")


def test_a_png_inflating_beyond_its_declared_size_stops_there(tmp_path: Path) -> None:
    sample = copy_sample("coco-panoptic", tmp_path)
    pred = sorted(sample.folder("pred").glob("*.png"))[0]
    with __import__("PIL.Image").Image.open(pred) as img:
        w, h = img.size
    stream = zlib.compress(bytes(64 << 20), 9)  # 64 KB inflating to 64 MB
    pred.write_bytes(png_bytes(w, h, idat=stream))
    # the declared rows are all VOID: the segments of the JSON are then absent
    for command in ("evaluate", "validate"):
        refused(sample.args(command), str(pred.name), "not in the PNG")


def test_pillows_bomb_error_is_a_format_error(tmp_path: Path) -> None:
    # semantic label maps are decoded by Pillow: 15000x15000 is under our limit but over
    # Pillow's MAX_IMAGE_PIXELS * 2, where Image.open raises DecompressionBombError
    sample = copy_sample("semantic", tmp_path)
    pred = sorted(sample.pred.glob("*.png"))[0]
    gt = sample.gt / pred.name
    gt.write_bytes(png_bytes(15000, 15000, color_type=0))
    for command in ("evaluate", "validate"):
        refused([command, "semantic", "--gt", sample.gt, "--pred", sample.pred,
                 "--num-classes", 5, "--workers", 1], str(gt), "decompression bomb")


def _npy_bomb(path: Path) -> None:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<i8", "fortran_order": False,
                                               "shape": (10**6, 10**6)})
    path.write_bytes(buf.getvalue() + b"\0" * 64)  # the magic, the header, 64 bytes


@pytest.mark.parametrize("side", ["gt", "pred"])
def test_an_npy_header_declaring_10_to_the_12_values_is_refused(tmp_path: Path,
                                                                side: str) -> None:
    sample = copy_sample("semantic", tmp_path)
    png = sorted((sample.gt if side == "gt" else sample.pred).glob("*.png"))[0]
    png.unlink()
    npy = png.with_suffix(".npy")
    _npy_bomb(npy)
    if side == "gt":  # paired by name: the prediction is an .npy too
        (sample.pred / png.name).unlink()
        np.save(sample.pred / npy.name, np.zeros((4, 4), np.uint8))
    message = ("over the 268435456 limit" if side == "gt" else
               "prediction is 1000000x1000000 (WxH) but the ground truth is")
    for command in ("evaluate", "validate"):
        refused([command, "semantic", "--gt", sample.gt, "--pred", sample.pred,
                 "--num-classes", 5, "--workers", 1], str(npy), message)


def test_a_semantic_prediction_of_another_size_is_refused_on_its_header(
        tmp_path: Path) -> None:
    sample = copy_sample("semantic", tmp_path)
    pred = sorted(sample.pred.glob("*.png"))[0]
    pred.write_bytes(png_bytes(100000, 100000, color_type=0))
    for command in ("evaluate", "validate"):
        refused([command, "semantic", "--gt", sample.gt, "--pred", sample.pred,
                 "--num-classes", 5, "--workers", 1], str(pred),
                "prediction is 100000x100000 (WxH) but the ground truth is",
                str(sample.gt / pred.name))


@pytest.mark.parametrize("bad", [{"imgWidth": 100000, "imgHeight": 100000},
                                 {"imgWidth": -5}, {"imgHeight": "tall"},
                                 {"objects": [{"label": "road", "polygon": [[0, 0], ["x", 1],
                                                                            [3, 3]]}]},
                                 {"objects": [{"label": "road", "polygon": 7}]},
                                 {"objects": "none"}])
def test_cityscapes_polygons_are_checked_before_painting(tmp_path: Path,
                                                         bad: dict[str, object]) -> None:
    sample = copy_sample("cityscapes-instance", tmp_path)
    polygons = sorted(sample.gt.rglob("*_polygons.json"))[0]
    data = json.loads(polygons.read_text())
    write_json(polygons, {**data, **bad})
    text = refused(["convert", "cityscapes-polygons", "--gt", sample.gt, "--out-dir",
                    tmp_path / "maps"], str(polygons))
    assert any(k in text for k in ("imgWidth", "imgHeight", "polygon", "objects", "limit"))


def test_instances_to_panoptic_refuses_a_huge_image_before_painting(tmp_path: Path) -> None:
    from helpers import SAMPLES

    data = json.loads((SAMPLES / "coco" / "instances.json").read_text())
    data["images"][0].update(width=100000, height=100000)
    for ann in data["annotations"]:  # masks of the new size: no size disagreement first
        if ann["image_id"] == data["images"][0]["id"]:
            ann["segmentation"] = [[0, 0, 10, 0, 10, 10]]
    gt = write_json(tmp_path / "instances.json", data)
    refused(["convert", "instances-to-panoptic", "--instances", gt, "--out",
             tmp_path / "pan.json"], "100000x100000", "over the 268435456 limit")
