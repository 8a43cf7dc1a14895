"""Fuzzing every adapter with random mutations of the ``data_samples/`` files (issue 16).

Per adapter, hypothesis mutates one value of one JSON file (a record's field set to another
type or an extreme value, or removed) or a few bytes of one PNG / text file, then runs
``evaluate`` and ``validate`` in this process. Whatever the mutation:

* both return an exit code (0, 1 or 2) with a message, never an exception or a traceback;
* ``validate`` is at least as strict as ``evaluate``: when it exits 0, so does ``evaluate``;
* a structural mutation of a JSON (a value of another type, a field removed) never gives
  exit 0 with a number that differs from the clean input's.

Derandomized with bounded examples: the whole file stays within a few tens of seconds.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import SAMPLES, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))
_VALUES = [None, -1, 0, 1, 2**63, -(2**31), 1e308, -0.5, "", "x" * 300, True, [], {},
           [[0, 0]], {"size": [1, 1], "counts": "0"}]


@dataclass(frozen=True)
class Adapter:
    """One protocol's sample: the folder copied, the CLI arguments inside the copy, the
    JSON files and the binary/text files that may be mutated."""

    protocol: str
    folder: str
    args: Callable[[Path], list[object]]
    jsons: tuple[str, ...] = ()
    blobs: tuple[str, ...] = ()  # glob patterns
    keep: tuple[str, ...] = ()  # top-level keys left alone (see test_an_info_that_is_not_an_object)


ADAPTERS = [
    Adapter("coco-segm", "coco", lambda r: ["--gt", r / "instances.json", "--pred",
                                            r / "results_segm.json"],
            jsons=("instances.json", "results_segm.json"), keep=("info",)),
    Adapter("coco-bbox", "coco", lambda r: ["--gt", r / "instances.json", "--pred",
                                            r / "results_bbox.json"],
            jsons=("instances.json", "results_bbox.json"), keep=("info",)),
    Adapter("lvis-segm", "lvis", lambda r: ["--gt", r / "annotations.json", "--pred",
                                            r / "results_segm.json"],
            jsons=("annotations.json", "results_segm.json"), keep=("info",)),
    Adapter("coco-panoptic", "panoptic", lambda r: ["--gt", r / "gt.json", "--pred",
                                                    r / "pred.json"],
            jsons=("gt.json", "pred.json"), blobs=("gt/*.png", "pred/*.png")),
    Adapter("cityscapes-panoptic", "cityscapes",
            lambda r: ["--gt", r / "gtFine" / "cityscapes_panoptic_val.json", "--pred",
                       r / "results" / "panoptic.json"],
            jsons=("gtFine/cityscapes_panoptic_val.json", "results/panoptic.json"),
            blobs=("results/panoptic/*.png",)),
    Adapter("cityscapes-instance", "cityscapes",
            lambda r: ["--gt", r / "gtFine" / "val", "--pred", r / "results" / "instance"],
            blobs=("results/instance/*.txt", "results/instance/masks/*.png")),
    Adapter("cityscapes-semantic", "cityscapes",
            lambda r: ["--gt", r / "gtFine" / "val", "--pred", r / "results" / "semantic"],
            blobs=("results/semantic/*.png",)),
    Adapter("semantic", "semantic",
            lambda r: ["--gt", r / "gt", "--pred", r / "pred", "--config",
                       r / "params.json"],
            blobs=("pred/*.png",)),
]
_CLEAN: dict[str, Any] = {}


def _run(adapter: Adapter, root: Path, report: Path) -> tuple[int, Any, int]:
    """``evaluate`` then ``validate``, both checked: (exit, the report's metrics, exit)."""
    codes = []
    for command in ("evaluate", "validate"):
        out_file = report if command == "evaluate" else report.with_suffix(".problems")
        code, out, err = run_cli([command, adapter.protocol, *adapter.args(root),
                                  "--workers", 1, "--out", out_file, "--force"])
        assert code in (0, 1, 2), (command, code, err)
        assert "Traceback" not in out + err
        assert code == 0 or err or out  # a refusal says why
        codes.append(code)
    metrics = json.loads(report.read_text())["metrics"] if codes[0] == 0 else None
    return codes[0], metrics, codes[1]


def _clean(adapter: Adapter) -> Any:
    if adapter.protocol not in _CLEAN:
        with tempfile.TemporaryDirectory() as tmp:
            code, metrics, _ = _run(adapter, SAMPLES / adapter.folder, Path(tmp) / "r.json")
        assert code == 0
        _CLEAN[adapter.protocol] = metrics
    return _CLEAN[adapter.protocol]


def _mutate_json(data: Any, draw: st.DrawFn, keep: tuple[str, ...]) -> bool:
    """Change one value somewhere in ``data`` (in place); True if structural (another
    type, or a field removed)."""
    node: Any = data
    while True:
        keys = [k for k in node if node is not data or k not in keep] if isinstance(
            node, dict) else list(range(len(node)))
        if not keys:
            return False
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and draw(st.integers(0, 3)):
            node = child
            continue
        if isinstance(node, dict) and draw(st.integers(0, 4)) == 0:
            del node[key]  # a field removed (a list element removed is a record less)
            return True
        value = draw(st.sampled_from(_VALUES))
        node[key] = value
        return _kind(value) != _kind(child)


def _kind(value: Any) -> str:
    """A JSON value's kind: booleans, ints and floats are all numbers (the official tools,
    in Python, read ``true`` as 1: another number is a new value, not a broken
    structure)."""
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _mutate_blob(path: Path, draw: st.DrawFn) -> None:
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.integers(0, 2))
        if kind == 0:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == 1:
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.protocol)
@_SETTINGS
@given(data=st.data())
def test_mutations_never_crash_and_never_score_broken_structure(adapter: Adapter,
                                                                data: st.DataObject) -> None:
    clean = _clean(adapter)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / adapter.folder
        shutil.copytree(SAMPLES / adapter.folder, root)
        structural = False
        targets = [("json", n) for n in adapter.jsons] + [
            ("blob", str(p.relative_to(root))) for g in adapter.blobs for p in
            sorted(root.glob(g))]
        kind, name = data.draw(st.sampled_from(targets))
        if kind == "json":
            content = json.loads((root / name).read_text())
            structural = _mutate_json(content, data.draw, adapter.keep)
            (root / name).write_text(json.dumps(content))
        else:
            _mutate_blob(root / name, data.draw)
        ev, metrics, va = _run(adapter, root, Path(tmp) / "report.json")
        if va == 0:
            assert ev == 0, "validate passed what evaluate refused"
        if structural and ev == 0:
            assert metrics == clean, "a broken structure was scored with another number"


@pytest.mark.parametrize(("protocol", "gt", "pred"),
                         [("coco-bbox", "coco/instances.json", "coco/results_bbox.json"),
                          ("lvis-bbox", "lvis/annotations.json", "lvis/results_bbox.json")])
def test_an_info_that_is_not_an_object(tmp_path: Path, protocol: str, gt: str,
                                       pred: str) -> None:
    data = json.loads((SAMPLES / gt).read_text())
    data["info"] = -1
    (tmp_path / "gt.json").write_text(json.dumps(data))
    code, out, err = run_cli(["evaluate", protocol, "--gt", tmp_path / "gt.json", "--pred",
                              SAMPLES / pred, "--workers", 1])
    # pycocotools and lvis-api never read ``info``: the official number, no traceback
    assert code == 0, err
    _, clean, _ = run_cli(["evaluate", protocol, "--gt", SAMPLES / gt, "--pred",
                           SAMPLES / pred, "--workers", 1])
    assert out == clean


def test_a_segment_id_over_int64(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES / "panoptic", tmp_path / "panoptic")
    pred = tmp_path / "panoptic" / "pred.json"
    data = json.loads(pred.read_text())
    data["annotations"][0]["segments_info"][0]["id"] = 2**63
    pred.write_text(json.dumps(data))
    code, _, err = run_cli(["evaluate", "coco-panoptic", "--gt", tmp_path / "panoptic" /
                            "gt.json", "--pred", pred, "--workers", 1])
    assert code == 1
    assert "segments_info" in err
