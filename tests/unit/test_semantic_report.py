"""``report.semantic``: the JSON report (null where undefined) and the text tables; and the
``data_samples/semantic`` sample (reproducible, clean)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from helpers import SAMPLES, sample_script

import benchmark_eval
from benchmark_eval.io.jsonfile import write_json
from benchmark_eval.io.png import read_label_map
from benchmark_eval.protocols.semantic_params import SemanticParams

SAMPLE = SAMPLES


def _result(rule: str = "mmseg") -> benchmark_eval.workflows.Result:
    # one 1x4 image, C = 3: GT [0, 0, 1, 255], pred [0, 2, 1, 1]
    #   class 0: tp 1 gt 2 pred 1 -> IoU 1/2;  class 1: tp 1 gt 1 pred 1 -> 1
    #   class 2: tp 0 gt 0 pred 1 -> IoU 0 (mmseg) / undefined (detectron2)
    gt = {"x": np.array([[0, 0, 1, 255]], np.uint8)}
    pred = {"x": np.array([[0, 2, 1, 1]], np.uint8)}
    return benchmark_eval.evaluate("semantic", gt=gt, pred=pred,
                                   params=SemanticParams(num_classes=3, rule=rule,
                                                         class_names=("a", "b", "c")))


def test_report_writes_undefined_as_null(tmp_path: Path) -> None:
    report = _result("detectron2").to_report()
    assert report["per_class"]["c"] == {"IoU": None, "Acc": None, "Dice": None,
                                        "Precision": None}
    write_json(tmp_path / "r.json", report)
    loaded = json.loads((tmp_path / "r.json").read_text())
    assert loaded["metrics"]["mIoU"] == 0.75
    assert loaded["per_class"]["c"]["IoU"] is None
    assert loaded["confusion_matrix"] == [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0],
                                          [0, 1, 0, 0]]
    assert [w["code"] for w in loaded["warnings"]] == ["predicted-only-classes"]


def test_render_tables() -> None:
    result = _result("mmseg")
    text = result.render()
    lines = text.splitlines()
    assert lines[:2] == ["   mIoU     mAcc    mDice     aAcc    fwIoU",
                         "  50.00    75.00    55.56    66.67    66.67"]
    assert lines[3].split() == ["class", "IoU", "Acc", "Dice", "Precision"]
    assert lines[5].split() == ["a", "50.00", "50.00", "66.67", "100.00"]
    assert lines[7].split() == ["c", "0.00", "-", "0.00", "0.00"]
    assert str(result) == "\n".join(lines[:2])
    assert result.render(per_class=False) == str(result)


def test_sample_is_reproducible(tmp_path: Path) -> None:
    written = sample_script("make_semantic_samples").make(tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    stored = sorted(p.relative_to(SAMPLE / "semantic").as_posix()
                    for p in (SAMPLE / "semantic").rglob("*") if p.is_file())
    assert names == stored
    for rel in names:
        if rel.endswith(".png"):
            assert np.array_equal(read_label_map(tmp_path / rel),
                                  read_label_map(SAMPLE / "semantic" / rel)), rel
        else:
            assert (tmp_path / rel).read_text() == (SAMPLE / "semantic" / rel).read_text()


def test_sample_is_clean_and_scores_sensibly() -> None:
    root = SAMPLE / "semantic"
    params = {k: v for k, v in json.loads((root / "params.json").read_text()).items()
              if k not in ("protocol", "description")}
    assert benchmark_eval.validate("semantic", gt=root / "gt", pred=root / "pred",
                                   params=params) == []
    r = benchmark_eval.evaluate("semantic", gt=root / "gt", pred=root / "pred", params=params)
    assert r.counts["images"] == 4
    assert r.counts["pixels_ignored"] > 0
    assert all(0.3 < v < 1 for v in r.metrics.values() if v is not None)
