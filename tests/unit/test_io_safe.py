"""The safe file layer: paths stay in their folder, only regular files, caps before
allocation, outputs never overwrite inputs (issue 16)."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from benchmark_eval.errors import ConfigError, FormatError, InputError
from benchmark_eval.io.png import bad_crc_chunks
from benchmark_eval.io.safe import (
    check_output,
    check_pixels,
    png_size,
    quote,
    read_head,
    read_regular,
    resolve_inside,
    write_atomic,
)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


def test_names_inside_the_folder_resolve(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert resolve_inside(tmp_path, "sub/a.png", where="gt.json") == tmp_path / "sub" / "a.png"


@pytest.mark.parametrize("name", ["../x.png", "/etc/passwd", "sub/../../x.png"])
def test_names_leading_out_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(FormatError, match="leads outside its folder"):
        resolve_inside(tmp_path, name, where="gt.json: annotations[0]")


def test_a_symlink_out_is_refused_unless_allowed(tmp_path: Path) -> None:
    inside = tmp_path / "in"
    inside.mkdir()
    (tmp_path / "secret.png").write_bytes(b"x")
    (inside / "link.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(FormatError, match="symlinks out"):
        resolve_inside(inside, "link.png", where="gt.json")
    assert resolve_inside(inside, "link.png", where="gt.json", allow_outside=True) == (
        inside / "link.png")  # named as given; opening it follows the link


@pytest.mark.parametrize("name", ["", "a\0b", 7])
def test_non_names_are_refused(tmp_path: Path, name: object) -> None:
    with pytest.raises(FormatError, match="expected a relative file name"):
        resolve_inside(tmp_path, name, where="gt.json")  # type: ignore[arg-type]


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # reading it would block forever
    for path in (fifo, tmp_path, Path("/dev/zero")):
        with pytest.raises(InputError, match="not a regular file"):
            read_regular(path)
    with pytest.raises(InputError, match="file not found"):
        read_regular(tmp_path / "missing")


def test_the_size_cap_is_checked_before_reading(tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(b"\0" * 101)
    assert read_regular(f, max_bytes=101) == b"\0" * 101
    with pytest.raises(InputError, match="101 bytes is over the 100-byte limit"):
        read_regular(f, max_bytes=100)


def test_png_dimensions_come_from_the_header() -> None:
    header = _png_header(100000, 100000)  # a 33-byte "bomb" declaring 10^10 pixels
    assert png_size(header) == (100000, 100000)
    assert png_size(b"not a png at all, not at all") is None
    with pytest.raises(FormatError, match="over the 268435456 limit"):
        check_pixels(png_size(header) or (0, 0), where="p.png")
    with pytest.raises(FormatError, match=r"image is 100000x100000 \(width x height\), "
                                          r"expected 640x480"):
        check_pixels((100000, 100000), where="p.png", expected=(480, 640))
    check_pixels((480, 640, 3), where="p.png", expected=(480, 640))


def test_outputs_never_overwrite_inputs(tmp_path: Path) -> None:
    gt = tmp_path / "gt.json"
    gt.write_text("{}")
    with pytest.raises(ConfigError, match="it is an input"):
        check_output(gt, inputs=[gt], force=True)
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        check_output(gt)
    assert check_output(gt, force=True) == gt
    with pytest.raises(ConfigError, match="does not exist"):
        check_output(tmp_path / "nope" / "r.json")
    with pytest.raises(ConfigError, match="it is a folder"):
        check_output(tmp_path)
    with pytest.raises(ConfigError, match="holds the input"):
        check_output(tmp_path, inputs=[gt], folder=True)


def test_writes_are_atomic(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    write_atomic(out, b"one")
    write_atomic(out, b"two")
    assert out.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary left


def test_untrusted_text_is_quoted_short() -> None:
    line = "root:x:0:0:root:/root:/bin/bash"
    assert quote(line * 10) == repr(line * 10)[:37] + "..."
    assert len(quote("a" * 1000)) == 40
    assert quote("short") == "'short'"


def test_a_symlinked_subfolder_leading_out_is_refused(tmp_path: Path) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    (outside / "a.png").write_bytes(b"x")
    (inside / "sub").symlink_to(outside)
    with pytest.raises(FormatError, match="through a symlink"):
        resolve_inside(inside, "sub/a.png", where="gt.json", record=3, field="annotations")
    assert resolve_inside(inside, "sub/a.png", where="gt.json", allow_outside=True) == (
        inside / "sub" / "a.png")
    with pytest.raises(FormatError) as info:  # '..' stays refused with the opt-in
        resolve_inside(inside, "../out/a.png", where="gt.json", allow_outside=True,
                       record=3, field="annotations")
    assert str(info.value.problems[0]).startswith("gt.json: annotations[3]: file name")


def test_read_head_reads_a_few_bytes_of_regular_files_only(tmp_path: Path) -> None:
    f = tmp_path / "a.png"
    f.write_bytes(_png_header(3, 2) + b"\0" * 1000)
    assert png_size(read_head(f, 24)) == (2, 3)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_head(fifo, 24)


def test_chunks_with_a_wrong_crc_are_found() -> None:
    good = _png_header(3, 2) + struct.pack(">I", 0) + b"IEND" + struct.pack(
        ">I", zlib.crc32(b"IEND"))
    assert bad_crc_chunks(good) == []
    bad = bytearray(good)
    bad[29] ^= 1  # the IHDR CRC
    assert bad_crc_chunks(bytes(bad)) == ["IHDR"]
