"""The Cityscapes results: JSON reports (null where the official scripts give NaN) and the
official text layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from synth_cityscapes import write_tree
from test_cityscapes_protocols import GT, INSTANCES, LABELS, PRED, PREDICTIONS

import benchmark_eval
from benchmark_eval.io.jsonfile import write_json


def test_semantic_report_and_table(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"a_000000_000001": (LABELS, INSTANCES)},
                      sem={"a_000000_000001": PRED})
    r = benchmark_eval.evaluate("cityscapes-semantic", gt=tree.gt, pred=tree.sem)
    write_json(tmp_path / "r.json", r.to_report())
    report = json.loads((tmp_path / "r.json").read_text())
    assert set(report) == {"protocol", "metrics", "per_class", "per_category",
                           "confusion_matrix", "warnings", "params", "counts", "versions"}
    assert list(report["metrics"]) == ["IoU_class", "iIoU_class", "IoU_category",
                                       "iIoU_category"]
    assert len(report["per_class"]) == 19
    assert report["per_class"]["wall"] == {"IoU": None, "iIoU": None}
    assert list(report["per_category"]) == ["flat", "construction", "object", "nature",
                                            "sky", "human", "vehicle"]
    assert np.array(report["confusion_matrix"]).shape == (34, 34)
    assert report["counts"] == {"images": 1, "pixels": 8, "gt_instances": 2}
    assert report["params"] == {"pred_ids": "labelIds"}
    assert [w["code"] for w in report["warnings"]] == ["void-predictions",
                                                      "predicted-only-classes"]
    lines = r.render().splitlines()
    assert lines[:3] == ["classes          IoU      nIoU", "-" * 32,
                         "road          : 0.500      nan"]
    assert "Score Average : 0.333    0.389" in lines
    assert "categories       IoU      nIoU" in lines
    assert "vehicle       : 1.000    1.000" in lines
    assert str(r).splitlines() == [
        "classes          IoU      nIoU", "-" * 32, "Score Average : 0.333    0.389", "-" * 32,
        "", "categories       IoU      nIoU", "-" * 32, "Score Average : 0.833    0.750",
        "-" * 32]


def test_instance_report_and_table(tmp_path: Path) -> None:
    labels = np.where(GT < 1000, GT, GT // 1000).astype(np.uint8)
    tree = write_tree(tmp_path, {"c_000000_000001": (labels, GT)},
                      inst={"c_000000_000001": PREDICTIONS})
    r = benchmark_eval.evaluate("cityscapes-instance", gt=tree.gt, pred=tree.inst)
    report = r.to_report()
    assert report["per_class"]["car"]["AP50"] == 1.0
    assert report["per_class"]["bus"] == {"AP": None, "AP50": None}
    assert report["ap_per_threshold"]["car"] == [1.0] * 6 + [0.25] * 4
    assert len(report["iou_thresholds"]) == 10
    assert report["counts"] == {"images": 1, "gt_instances": 1, "predictions": 6,
                                "skipped_predictions": 1}
    lines = r.render().splitlines()
    assert lines[:3] == ["#" * 50, "what           :             AP         AP_50%", "#" * 50]
    assert "car            :          0.700          1.000" in lines
    assert "person         :            nan            nan" in lines
    assert lines[-1] == "average        :          0.700          1.000"
    assert str(r).splitlines()[-1] == lines[-1]
