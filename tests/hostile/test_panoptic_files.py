"""Panoptic readers on hostile ``file_name`` values and special files (issue 16): GT and
predictions of ``coco-panoptic``, ``coco-panoptic-boundary`` and ``cityscapes-panoptic``,
each through ``evaluate`` and ``validate``."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli
from hostile_cases import PANOPTIC, Sample, copy_sample, refused, write_json


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A read that blocks (a FIFO) fails the test instead of hanging it."""

    def hung(*_: object) -> None:
        raise AssertionError("the reader blocked")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _rename(sample: Sample, side: str, name: str, row: int = 0) -> Path:
    data = sample.json(side)
    data["annotations"][row]["file_name"] = name
    return write_json(sample.gt if side == "gt" else sample.pred, data)


def _both(sample: Sample, *names: str, code: int = 1, extra: tuple[object, ...] = (),
          absent: tuple[str, ...] = ()) -> None:
    for command in ("evaluate", "validate"):
        refused(sample.args(command, *extra), *names, code=code, absent=absent)


@pytest.mark.parametrize("protocol", PANOPTIC)
@pytest.mark.parametrize("side", ["gt", "pred"])
@pytest.mark.parametrize("name", ["../outside.png", "/etc/passwd", "sub/../../outside.png"])
def test_names_leading_out_are_refused(tmp_path: Path, protocol: str, side: str,
                                       name: str) -> None:
    sample = copy_sample(protocol, tmp_path)
    # a real PNG out there: it would be scored if the name were followed
    shutil.copy(next(sample.folder(side).glob("*.png")), sample.folder(side).parent
                / "outside.png")
    where = _rename(sample, side, name)
    _both(sample, str(where), "annotations[0]", "leads outside its folder")
    # even with the opt-in: --allow-symlinks follows symlinks, never '..' or absolute names
    _both(sample, "leads outside its folder", extra=("--allow-symlinks",))


@pytest.mark.parametrize("protocol", PANOPTIC)
@pytest.mark.parametrize("side", ["gt", "pred"])
def test_a_symlink_out_is_refused_unless_allowed(tmp_path: Path, protocol: str,
                                                 side: str) -> None:
    sample = copy_sample(protocol, tmp_path)
    folder = sample.folder(side)
    png = sorted(folder.glob("*.png"))[0]
    outside = tmp_path / "elsewhere" / png.name
    outside.parent.mkdir()
    shutil.move(png, outside)
    png.symlink_to(outside)
    _both(sample, "through a symlink", "--allow-symlinks")
    for command in ("evaluate", "validate"):
        code, _, err = run_cli(sample.args(command, "--allow-symlinks"))
        assert code == 0, err


@pytest.mark.parametrize("protocol", PANOPTIC)
@pytest.mark.parametrize("side", ["gt", "pred"])
@pytest.mark.parametrize("special", ["fifo", "dev-zero", "folder"])
def test_only_regular_files_are_read(tmp_path: Path, protocol: str, side: str,
                                     special: str) -> None:
    sample = copy_sample(protocol, tmp_path)
    png = sorted(sample.folder(side).glob("*.png"))[0]
    png.unlink()
    if special == "fifo":
        os.mkfifo(png)  # opened blocking, this would hang forever
    elif special == "dev-zero":
        png.symlink_to("/dev/zero")  # read whole, 3 GB then a MemoryError
    else:
        png.mkdir()
    extra = ("--allow-symlinks",) if special == "dev-zero" else ()
    _both(sample, str(png), "not a regular file", extra=extra)


@pytest.mark.parametrize("protocol", PANOPTIC)
def test_a_json_that_is_a_special_file_is_refused(tmp_path: Path, protocol: str) -> None:
    sample = copy_sample(protocol, tmp_path)
    sample.pred.unlink()
    os.mkfifo(sample.pred)
    _both(sample, str(sample.pred), "not a regular file")
    sample.pred.unlink()
    sample.pred.symlink_to("/dev/zero")
    _both(sample, str(sample.pred), "not a regular file")


@pytest.mark.parametrize("protocol", PANOPTIC)
def test_a_missing_png_names_it_without_probing_outside(tmp_path: Path, protocol: str
                                                        ) -> None:
    sample = copy_sample(protocol, tmp_path)
    png = sorted(sample.folder("pred").glob("*.png"))[0]
    png.unlink()
    _both(sample, str(png), "file not found")
