"""``data_samples/panoptic``: reproducible from its script, valid, scored as the official
algorithm scores it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from official_panoptic import run_official

import benchmark_eval

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
PANOPTIC = SAMPLES / "panoptic"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_panoptic_samples",
                                                  SAMPLES / "make_panoptic_samples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_samples_are_small_and_reproducible(tmp_path: Path) -> None:
    written = _script().make(tmp_path)
    assert len(written) == 8
    total = 0
    for path in written:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (PANOPTIC / rel).read_bytes(), rel
        total += path.stat().st_size
    assert total < 100_000


def test_samples_contain_what_the_readme_promises() -> None:
    gt = json.loads((PANOPTIC / "gt.json").read_text())
    segments = [s for a in gt["annotations"] for s in a["segments_info"]]
    assert len(gt["annotations"]) == 3
    assert sum(s["iscrowd"] for s in segments) == 1
    assert max(s["id"] for s in segments) > 65535
    assert {c["isthing"] for c in gt["categories"]} == {0, 1}


def test_samples_validate_and_score_as_official() -> None:
    gt, pred = PANOPTIC / "gt.json", PANOPTIC / "pred.json"
    assert benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred) == []
    r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    official = run_official(gt, pred)
    for key, value in official.metrics.items():
        assert r.metrics[key] == value, key
    assert 0 < r.metrics["PQ"] < 1
    assert r.state.fp.sum() > 0
    assert r.state.fn.sum() > 0
