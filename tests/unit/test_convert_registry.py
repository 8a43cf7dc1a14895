"""``benchmark_eval.converters``: the registry, how a converter maps options to its function,
and the ``benchmark_eval.convert`` / ``convert_cityscapes`` shims."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pytest

from benchmark_eval import convert, convert_cityscapes
from benchmark_eval.converters import CONVERTERS, Converted, Converter, cityscapes, coco_panoptic
from benchmark_eval.io import cityscapes_polygons

ROOT = Path(__file__).resolve().parents[2]
COCO_SAMPLE = ROOT / "data_samples" / "coco" / "instances.json"


def _parser(converter: Converter) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=converter.name)
    converter.add_arguments(parser)
    return parser


def test_registry_holds_every_family_entry_by_name() -> None:
    entries = (*coco_panoptic.CONVERTERS, *cityscapes.CONVERTERS)
    assert list(CONVERTERS) == [c.name for c in entries]
    assert all(CONVERTERS[c.name] is c for c in entries)
    assert all(c.summary and c.convert.__doc__ for c in entries)


@pytest.mark.parametrize("name", list(CONVERTERS))
def test_every_option_is_a_parameter_of_the_function(name: str) -> None:
    # an option whose dest is not a parameter would be silently dropped by Converter.options
    converter = CONVERTERS[name]
    params = inspect.signature(converter.convert).parameters
    dests = {a.dest for a in _parser(converter)._actions if a.dest != "help"}
    assert dests <= set(params), dests - set(params)
    required = {n for n, p in params.items() if p.default is inspect.Parameter.empty}
    assert required <= dests  # every required parameter has its option


def test_run_calls_the_function_and_describes_the_result(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    converter = CONVERTERS["instances-to-panoptic"]
    args = _parser(converter).parse_args(["--instances", str(COCO_SAMPLE), "--out",
                                          str(tmp_path / "pan.json")])
    args.command, args.conversion = "convert", converter.name  # as the CLI's parser adds
    assert converter.options(args) == {"instances": COCO_SAMPLE, "stuff": None, "images": None,
                                       "overlap": "error", "out_json": tmp_path / "pan.json",
                                       "out_dir": None, "force": False}
    done = converter.run(args)
    assert isinstance(done, Converted)
    assert done.summary == {"images": 6, "segments": 11, "dropped": 0,
                            "png_dir": str(tmp_path / "pan")}
    assert str(done) == (f"wrote {tmp_path / 'pan.json'}: 6 images, 11 segments; PNGs in"
                         f" {tmp_path / 'pan'}")
    assert capsys.readouterr() == ("", "")  # the library never prints


def test_shims_re_export_the_implementations() -> None:
    for name in convert.__all__:
        assert getattr(convert, name) is getattr(coco_panoptic, name)
    for name in convert_cityscapes.__all__:
        home = cityscapes_polygons if name in cityscapes_polygons.__all__ else cityscapes
        assert getattr(convert_cityscapes, name) is getattr(home, name)
