"""``cityscapes-instance`` against cityscapesScripts 2.3.0 ``evalInstanceLevelSemanticLabeling``
run live on seeded scenes: the AP of every class and IoU threshold, per-class AP / AP50 and
both averages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from cityscapes_generators import make_case, write_case
from official_cityscapes import official_instance

import benchmark_eval
from benchmark_eval.protocols.cityscapes_instance import IOU_THRESHOLDS
from benchmark_eval.schema.cityscapes import INSTANCE_CLASSES

TOL = 1e-12


def _official(gt: Path, pred: Path) -> tuple[dict, np.ndarray]:
    gts = sorted(gt.rglob("*_gtFine_instanceIds.png"))
    txts = [pred / g.name.replace("_gtFine_instanceIds.png", "_pred.txt") for g in gts]
    return official_instance(gts, txts, pred)


@pytest.mark.parametrize("seed", range(6))
def test_instance_ap_matches_cityscapesscripts(seed: int, tmp_path: Path) -> None:
    scenes = make_case(seed, images=3 + seed % 2)
    gt, _, pred = write_case(scenes, tmp_path)
    averages, aps = _official(gt, pred)
    ours = benchmark_eval.evaluate("cityscapes-instance", gt=gt, pred=pred)
    assert aps.shape == (1, len(INSTANCE_CLASSES), len(IOU_THRESHOLDS))
    assert np.array_equal(np.isnan(aps[0]), np.isnan(ours.ap))
    assert np.nanmax(np.abs(aps[0] - ours.ap), initial=0.0) <= TOL
    for name in INSTANCE_CLASSES:
        for key, theirs in (("AP", averages["classes"][name]["ap"]),
                            ("AP50", averages["classes"][name]["ap50%"])):
            mine = ours.per_class[name][key]
            assert (mine is None) == math.isnan(theirs), (name, key)
            assert mine is None or abs(mine - theirs) <= TOL
    assert abs(ours.metrics["AP"] - averages["allAp"]) <= TOL
    assert abs(ours.metrics["AP50"] - averages["allAp50%"]) <= TOL


def test_the_cases_are_in_the_data(tmp_path: Path) -> None:
    # the nasty cases of the parity runs, counted once on seeds 0..5
    seen = {"small gt": 0, "groups": 0, "small preds": 0, "ties": 0, "empty files": 0,
            "only predicted": 0, "never predicted": 0, "tp": 0, "fp": 0, "ignored": 0}
    for seed in range(6):
        scenes = make_case(seed, images=3 + seed % 2)
        gt, _, pred = write_case(scenes, tmp_path / str(seed))
        r = benchmark_eval.evaluate("cityscapes-instance", gt=gt, pred=pred)
        for s in scenes:
            values, counts = np.unique(s.instances, return_counts=True)
            things = values >= 1000
            seen["small gt"] += int((things & (counts < 100)).sum())
            seen["groups"] += int(np.isin(values, [24, 25, 26, 27, 28, 31, 32, 33]).sum())
            sizes = [int(m.sum()) for _, _, m, _ in s.masks]
            seen["small preds"] += sum(0 < n < 100 for n in sizes)
            scores = [sc for _, sc, _, _ in s.masks]
            seen["ties"] += len(scores) - len(set(scores))
            seen["empty files"] += not s.masks
        seen["only predicted"] += sum(v["AP"] is None and r.state.pred_count[k] > 0
                                      for k, v in enumerate(r.per_class.values()))
        seen["never predicted"] += int(((r.state.gt_count > 0) &
                                        (r.state.pred_count == 0)).sum())
        for code, name in ((1, "tp"), (2, "fp"), (0, "ignored")):
            seen[name] += int((r.state.pred_outcome == code).sum())
    assert all(n > 0 for n in seen.values()), seen
