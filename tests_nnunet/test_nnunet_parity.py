"""``medical``'s ``nnunet`` rule and ``--nnunet-summary`` against nnU-Net v2 2.8.1's
``compute_metrics_on_folder``, live: its ``summary.json`` equals ours (labels, an ignore label,
regions), NaN equal to NaN.

Not in the main suite: nnU-Net's extra pulls torchvision and a CUDA build of torch (several
GB), so it runs with the README's separate command (``pip install -e ".[nnunet-parity]"``
into its own venv, then ``pytest tests_nnunet``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from medical_generators import LABELS, Case, nasty_cases, write_cases
from nnunetv2.evaluation.evaluate_predictions import compute_metrics_on_folder
from nnunetv2.imageio.nibabel_reader_writer import NibabelIO

import benchmark_eval

CASES = nasty_cases()


def _same(a: Any, b: Any, path: str = "") -> None:
    """Equal JSON trees, NaN equal to NaN."""
    if isinstance(a, dict):
        assert isinstance(b, dict), path
        assert sorted(a) == sorted(b), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float), path
        assert math.isnan(b), path
    else:
        assert a == b, (path, a, b)


def _nnunet_summary(gt: Path, pred: Path, out: Path, labels: list[Any],
                    ignore: int | None) -> Any:

    compute_metrics_on_folder(str(gt), str(pred), str(out), NibabelIO(), ".nii.gz",
                                       labels, ignore_label=ignore, num_processes=1)
    return json.loads(out.read_text())


@pytest.mark.parametrize(("regions", "ignore"), [((), None), ((), 3), (((1, 2), (2,)), None)],
                         ids=["labels", "ignore-label", "regions"])
def test_nnunet_summary_live(tmp_path: Path, regions: tuple[tuple[int, ...], ...],
                             ignore: int | None) -> None:
    cases = CASES
    if ignore is not None:  # ignore a slab of every GT
        cases = [Case(c.name, c.gt.copy(), c.pred, c.spacing) for c in CASES]
        for c in cases:
            c.gt[:, :, :3] = ignore
    gt, pred = write_cases(cases, tmp_path)
    labels: list[Any] = [r if len(r) > 1 else r[0] for r in regions] or list(LABELS)
    theirs = _nnunet_summary(gt, pred, tmp_path / "theirs.json", labels, ignore)
    ours = tmp_path / "ours.json"
    benchmark_eval.evaluate("medical", gt=str(gt), pred=str(pred), labels=LABELS,
                            regions=regions, ignore_label=ignore, nnunet_summary=ours)
    _same(json.loads(ours.read_text()), theirs)
