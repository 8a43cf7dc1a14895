"""Cityscapes instance and semantic predictions on hostile paths and text (issue 16), each
through ``evaluate`` and ``validate``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli
from hostile_cases import copy_sample, png_bytes, refused

_PASSWD = "root:x:0:0:root:/root:/bin/bash daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin"


def _first_list(pred: Path) -> Path:
    return sorted(pred.glob("*_pred.txt"))[0]


def _both(argv_of: object, *names: str, absent: tuple[str, ...] = ()) -> None:
    for command in ("evaluate", "validate"):
        refused(argv_of(command), *names, absent=absent)  # type: ignore[operator]


def test_a_symlinked_mask_leading_out_is_refused(tmp_path: Path) -> None:
    sample = copy_sample("cityscapes-instance", tmp_path)
    listing = _first_list(sample.pred)
    mask = sample.pred / listing.read_text().split()[0]
    outside = tmp_path / mask.name
    shutil.move(mask, outside)
    mask.symlink_to(outside)
    _both(sample.args, str(listing), "line 1", "through a symlink")
    for command in ("evaluate", "validate"):  # the opt-in follows it
        assert run_cli(sample.args(command, "--allow-symlinks"))[0] == 0


@pytest.mark.parametrize(("protocol", "pick"), [
    ("cityscapes-instance", _first_list),  # a *_pred.txt
    ("cityscapes-semantic", lambda pred: sorted(pred.glob("*.png"))[0]),  # a prediction PNG
], ids=["prediction-list", "semantic-prediction"])
def test_a_symlinked_prediction_leading_out_is_refused(
        tmp_path: Path, protocol: str, pick: Callable[[Path], Path]) -> None:
    sample = copy_sample(protocol, tmp_path)
    target = pick(sample.pred)
    outside = tmp_path / target.name
    shutil.move(target, outside)
    target.symlink_to(outside)
    _both(sample.args, str(target), "symlink leading out of")
    for command in ("evaluate", "validate"):
        assert run_cli(sample.args(command, "--allow-symlinks"))[0] == 0


@pytest.mark.parametrize("line", ["../../gtFine/val/samplecity/x.png 26 0.5",
                                  "/etc/passwd 26 0.5"])
def test_mask_paths_leading_out_are_refused(tmp_path: Path, line: str) -> None:
    sample = copy_sample("cityscapes-instance", tmp_path)
    listing = _first_list(sample.pred)
    listing.write_text(line + "\n")
    _both(sample.args, str(listing), "line 1")


def test_text_lines_are_never_echoed_in_full(tmp_path: Path) -> None:
    # a list that is really /etc/passwd: the messages quote a few characters at most
    sample = copy_sample("cityscapes-instance", tmp_path)
    listing = _first_list(sample.pred)
    listing.write_text("\n".join([_PASSWD, "masks/a.png " + "9" * 300 + " 0.5",
                                  "masks/a.png 26 " + "nan" * 100]) + "\n")
    _both(sample.args, str(listing), "line 1", absent=(_PASSWD[:60], "9" * 60, "nan" * 20))


@pytest.mark.parametrize("special", ["fifo", "dev-zero"])
def test_only_regular_files_are_read(tmp_path: Path, special: str) -> None:
    sample = copy_sample("cityscapes-instance", tmp_path)
    listing = _first_list(sample.pred)
    mask = sample.pred / listing.read_text().split()[0]
    mask.unlink()
    if special == "fifo":
        os.mkfifo(mask)
        _both(sample.args, str(mask), "not a regular file")
    else:
        os.symlink("/dev/zero", mask)
        _both(sample.args, str(listing), "through a symlink")


def test_a_mask_bomb_is_refused_on_its_header(tmp_path: Path) -> None:
    sample = copy_sample("cityscapes-instance", tmp_path)
    listing = _first_list(sample.pred)
    mask = sample.pred / listing.read_text().split()[0]
    mask.write_bytes(png_bytes(100000, 100000, color_type=0))
    _both(sample.args, str(mask), "mask is 100000x100000 (WxH) but the ground truth is",
          "line 1")


def test_a_semantic_prediction_bomb_is_refused_on_its_header(tmp_path: Path) -> None:
    sample = copy_sample("cityscapes-semantic", tmp_path)
    png = sorted(sample.pred.glob("*.png"))[0]
    png.write_bytes(png_bytes(100000, 100000, color_type=0))
    _both(sample.args, str(png), "prediction is 100000x100000 (WxH) but the ground truth")


def test_a_symlinked_label_map_leading_out_is_refused(tmp_path: Path) -> None:
    sample = copy_sample("semantic", tmp_path)
    png = sorted(sample.pred.glob("*.png"))[0]
    outside = tmp_path / png.name
    shutil.move(png, outside)
    png.symlink_to(outside)
    for command in ("evaluate", "validate"):
        refused([command, "semantic", "--gt", sample.gt, "--pred", sample.pred,
                 "--num-classes", 5, "--workers", 1], str(png), "symlink leading out of")


def test_a_list_file_pair_leading_out_is_refused(tmp_path: Path) -> None:
    sample = copy_sample("semantic", tmp_path)
    gt_png = sorted(sample.gt.glob("*.png"))[0]
    listing = tmp_path / "list.txt"
    listing.write_text(f"{gt_png.name} ../../{gt_png.name}\n")
    for command in ("evaluate", "validate"):
        refused([command, "semantic", "--gt", sample.gt, "--pred", sample.pred,
                 "--num-classes", 5, "--list", listing, "--workers", 1], str(listing),
                "leads outside its folder")
