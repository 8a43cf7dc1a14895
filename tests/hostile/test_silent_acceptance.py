"""What the official tools accept silently (issue 16), decided: ``evaluate`` gives the
official number (with an ``images-size`` warning for the first case), ``validate`` reports
it.

* panoptic GT ``images[]`` sizes that differ from the PNGs: panopticapi never reads
  ``images[]`` (the PNG size is used);
* a PNG whose IDAT CRC is wrong but whose pixels are intact: Pillow (panopticapi's decoder)
  skips IDAT CRCs, and so do libspng and our libdeflate path.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from helpers import run_cli
from hostile_cases import PANOPTIC, copy_sample, refused, write_json


def _clean_output(protocol: str, tmp_path: Path) -> str:
    sample = copy_sample(protocol, tmp_path / "clean")
    code, out, err = run_cli(sample.args("evaluate"))
    assert code == 0, err
    return out


@pytest.mark.parametrize("protocol", PANOPTIC)
def test_images_sizes_differing_from_the_pngs(tmp_path: Path, protocol: str) -> None:
    sample = copy_sample(protocol, tmp_path / "bad")
    data = sample.json("gt")
    data["images"][0]["width"] += 7
    write_json(sample.gt, data)
    code, out, err = run_cli(sample.args("evaluate"))
    assert (code, out) == (0, _clean_output(protocol, tmp_path)), err
    assert "warning: [images-size] 1 ground-truth image(s) have an images[] size" in err
    png = sample.folder("gt") / data["annotations"][0]["file_name"]
    refused(sample.args("validate"), f"{png}: is ", "images[] of", "panopticapi uses the"
                                                                   " PNG size")


def _corrupt_idat_crc(png: Path) -> None:
    data = bytearray(png.read_bytes())
    pos = 8
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"IDAT":
            data[pos + 8 + n] ^= 0xFF
            assert zlib.crc32(data[pos + 4:pos + 8 + n]) != int.from_bytes(
                data[pos + 8 + n:pos + 12 + n], "big")
            break
        pos += 12 + n
    png.write_bytes(bytes(data))


@pytest.mark.parametrize("protocol", PANOPTIC)
@pytest.mark.parametrize("side", ["gt", "pred"])
@pytest.mark.parametrize("decoder", [None, "pyspng", "pillow"])
def test_a_wrong_idat_crc_with_intact_pixels(tmp_path: Path, protocol: str, side: str,
                                             decoder: str | None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if decoder is not None:  # every decoder accepts it, as Pillow does
        from benchmark_eval.io import png

        monkeypatch.setattr(png, "decode_rgb8", lambda data: None)
        monkeypatch.setattr(png, "PNG_DECODER", decoder)
    sample = copy_sample(protocol, tmp_path / "bad")
    png_file = sorted(sample.folder(side).glob("*.png"))[0]
    _corrupt_idat_crc(png_file)
    code, out, err = run_cli(sample.args("evaluate"))
    assert (code, out) == (0, _clean_output(protocol, tmp_path)), err
    refused(sample.args("validate"), str(png_file), "wrong CRC in its IDAT chunk")
