"""Parity of ``crowdpose`` with faster-coco-eval 1.8.0 ``keypoints_crowd`` (``use_area=False``,
CrowdPose's 14 sigmas), live: the 9 stats (the easy / medium / hard AP are rounded to 4
decimals by the reference, so they must be equal), and the precision / recall arrays of the
run on all images (1e-12)."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pytest
from keypoints_generators import crowdpose_case
from official_keypoints import run_faster_crowdpose

import benchmark_eval
from benchmark_eval.errors import BenchmarkEvalWarning
from benchmark_eval.protocols.coco_keypoints_params import CROWDPOSE_OKS_SIGMAS

TOL = 1e-12


@pytest.mark.parametrize(("seed", "splits"), [(0, "all"), (1, "all"), (2, "all"),
                                              (3, "all"), (4, "no_hard"),
                                              (5, "no_mannequin_easy"),
                                              (6, "no_mannequin_easy")])
def test_crowdpose_matches_faster_coco_eval(tmp_path: Path, seed: int, splits: str) -> None:
    gt, res = crowdpose_case(seed, splits)
    stats, precision, recall = run_faster_crowdpose(gt, res, tmp_path / "gt.json",
                                                    CROWDPOSE_OKS_SIGMAS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        r = benchmark_eval.evaluate("crowdpose", gt=copy.deepcopy(gt), pred=copy.deepcopy(res))
    assert np.abs(r.stats[:6] - stats[:6]).max() <= TOL
    assert r.stats[6:].tolist() == stats[6:].tolist()
    np.testing.assert_array_equal(r.precision[:, :, :, 0, :] == -1, precision == -1)
    assert np.abs(r.precision[:, :, :, 0, :] - precision).max() <= TOL
    assert np.abs(r.recall[:, :, 0, :] - recall).max() <= TOL
    codes = [w.code for w in r.warnings]
    assert ("crowdpose-split-missing-category" in codes) == (splits == "no_mannequin_easy")
    assert list(r.metrics) == ["AP", "AP50", "AP75", "AR", "AR50", "AR75", "AP_easy",
                               "AP_medium", "AP_hard"]
