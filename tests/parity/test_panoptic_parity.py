"""Parity of ``coco-panoptic`` with panopticapi's algorithm, run live.

The reference is cityscapesScripts 2.3.0's copy of panopticapi ``pq_compute_single_core`` /
``PQStat.pq_average`` (``official_panoptic.py``). Every case of ``panoptic_generators.py`` (the
corner cases of the matching rules) and the two real COCO val2017 images of panopticapi's
sample are scored by both; every metric, every per-class value and every per-category
(iou, tp, fp, fn) is compared. One process reproduces the official float sums exactly;
with several processes the IoU sums are regrouped, so 1e-12 is allowed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from official_panoptic import OfficialPanoptic, run_official
from panoptic_generators import CASE_NAMES, categories_json, make_case, write_case
from PIL import Image

import benchmark_eval
from benchmark_eval.masks import panoptic as masks_panoptic
from benchmark_eval.protocols.panoptic import METRIC_KEYS
from benchmark_eval.report.panoptic import PanopticResult

TOL = 1e-12
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "panopticapi_sample"


def _evaluate(root: Path, **options: object) -> PanopticResult:
    result = benchmark_eval.evaluate("coco-panoptic", gt=root / "gt.json",
                                     pred=root / "pred.json", **options)
    assert isinstance(result, PanopticResult)
    return result


def assert_parity(ours: PanopticResult, official: OfficialPanoptic, *, exact: bool) -> float:
    """Every number equal (exact) or within TOL; returns the largest difference seen."""
    worst = 0.0
    for key in METRIC_KEYS:
        want, got = official.metrics[key], ours.metrics[key]
        if want is None or key.startswith("N"):
            assert got == want, key
            continue
        assert got is not None, key
        worst = max(worst, abs(got - want))
        assert got == want if exact else abs(got - want) <= TOL, (key, got, want)
    state = ours.state
    for k, cid in enumerate(ours.category_ids):
        iou, tp, fp, fn = official.stats.get(cid, (0.0, 0, 0, 0))
        assert (int(state.tp[k]), int(state.fp[k]), int(state.fn[k])) == (tp, fp, fn), cid
        worst = max(worst, abs(float(state.iou[k]) - iou))
        assert abs(float(state.iou[k]) - iou) <= (0 if exact else TOL), cid
        mine = ours.per_class[cid]
        if not official.per_class:
            continue
        theirs = official.per_class[cid]
        if tp + fp + fn == 0:  # official: 0.0 and left out of N; ours: null
            assert mine == {"PQ": None, "SQ": None, "RQ": None}
            assert theirs == {"PQ": 0.0, "SQ": 0.0, "RQ": 0.0}
            continue
        for name in ("PQ", "SQ", "RQ"):
            got = mine[name]
            assert got is not None
            worst = max(worst, abs(got - theirs[name]))
            assert got == theirs[name] if exact else abs(got - theirs[name]) <= TOL
    return worst


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_matches_official_exactly(case: str, tmp_path: Path) -> None:
    write_case(make_case(case), tmp_path)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    assert_parity(_evaluate(tmp_path, workers=1), official, exact=True)


@pytest.mark.parametrize("seed", range(1, 9))
def test_random_scenes_match_official(seed: int, tmp_path: Path) -> None:
    write_case(make_case("random", seed), tmp_path)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    assert_parity(_evaluate(tmp_path, workers=1), official, exact=True)


def _all_cases() -> list:
    images = []
    for name in CASE_NAMES:
        for seed in (range(4) if name == "random" else (0,)):
            for im in make_case(name, seed):
                im.image_id = 1000 * len(images) + im.image_id  # unique across cases
                images.append(im)
    return images


def test_everything_at_once_in_processes_matches_official(tmp_path: Path) -> None:
    # 35 images: 3 shards of 16, merged from a pool of 2 processes
    write_case(_all_cases(), tmp_path)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    worst = assert_parity(_evaluate(tmp_path, workers=2), official, exact=False)
    assert worst <= TOL
    # the hand-made cases exercise every rule: each counter is non-zero somewhere
    result = _evaluate(tmp_path, workers=1)
    assert_parity(result, official, exact=True)
    assert result.state.tp.sum() > 0
    assert result.state.fp.sum() > 0
    assert result.state.fn.sum() > 0
    assert [w.code for w in result.warnings] == ["gt-area-mismatch"]


def test_rules_seen_on_the_hand_made_cases(tmp_path: Path) -> None:
    # what the generators' comments work out by hand, checked against the official run too
    write_case(make_case("crowd") + make_case("void_half") + make_case("two_crowds"),
               tmp_path)
    r = _evaluate(tmp_path, workers=1)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    assert_parity(r, official, exact=True)
    k = {cid: i for i, cid in enumerate(r.category_ids)}
    # person: 1 TP (0.9); FPs: the prediction on the forgotten crowd, twice (two_crowds)
    assert (r.state.tp[k[1]], r.state.fp[k[1]], r.state.fn[k[1]]) == (1, 2, 0)
    assert r.state.iou[k[1]] == pytest.approx(0.9)
    assert (r.state.fp[k[18]], r.state.fp[k[44]]) == (2, 0)  # dog on crowd, dog 50 % VOID
    assert r.state.fn[k[3]] == 2  # the two cars of void_half; the car crowd is never a FN


def test_only_things_gives_null_stuff_where_official_divides_by_zero(tmp_path: Path) -> None:
    things = make_case("iou_exactly_half") + make_case("crowd")
    for im in things:  # drop stuff segments: paint them VOID on both sides
        for side in (im.gt, im.pred):
            stuff = [s["id"] for s in side.segments if s["category_id"] > 90]
            side.id_map[np.isin(side.id_map, stuff)] = 0
    write_case(things, tmp_path, categories_json(isthing_only=True))
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    assert official.metrics["PQ_st"] is None  # ZeroDivisionError in pq_average
    r = _evaluate(tmp_path, workers=1)
    assert_parity(r, official, exact=True)
    assert (r.metrics["PQ_st"], r.metrics["N_st"]) == (None, 0)
    assert [w.code for w in r.warnings] == ["empty-group"]
    assert "Stuff" in r.warnings[0].message


def test_empty_dataset_gives_nulls_where_official_crashes(tmp_path: Path) -> None:
    write_case([], tmp_path)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    assert all(official.metrics[k] is None for k in ("PQ", "PQ_th", "PQ_st"))
    r = _evaluate(tmp_path)
    assert all(r.metrics[k] is None for k in METRIC_KEYS if not k.startswith("N"))
    assert [w.code for w in r.warnings] == ["empty-group"] * 3


@pytest.mark.parametrize("decoder", ["pillow", "pyspng"])
def test_decoders_and_numpy_fallback_give_the_same_numbers(
        decoder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_case(make_case("random", 11), tmp_path)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    assert_parity(_evaluate(tmp_path, decoder=decoder), official, exact=True)
    monkeypatch.setattr(masks_panoptic, "_panoptic", None)  # the no-C-compiler path
    assert not masks_panoptic.has_pair_kernel()
    assert_parity(_evaluate(tmp_path, decoder=decoder), official, exact=True)


# ------------------------------------------------------------------- real COCO val2017 data


def _perturbed_prediction(root: Path) -> None:
    """A prediction made from panopticapi's real sample: every map shifted by (3, 4) px,
    ids renumbered, one person dropped, one segment relabelled, crowd flags removed."""
    gt = json.loads((SAMPLE / "panoptic_examples.json").read_text())
    (root / "pred").mkdir()
    anns = []
    for k, ann in enumerate(gt["annotations"]):
        rgb = np.asarray(Image.open(SAMPLE / "panoptic_examples" / ann["file_name"]))
        old = rgb.astype(np.int64) @ np.array([1, 256, 65536])
        old = np.roll(old, (3, 4), axis=(0, 1))
        old[:3, :] = 0
        ids = np.zeros_like(old)
        segments = []
        for j, s in enumerate(ann["segments_info"]):
            new = 70000 + 100 * k + j
            if j == 2 or not (old == s["id"]).any():  # j == 2 dropped: its pixels stay VOID
                continue
            ids[old == s["id"]] = new
            cat = 2 if j == 4 else s["category_id"]
            segments.append({"id": new, "category_id": cat, "iscrowd": 0})
        rgb = ((ids[..., None] >> np.array([0, 8, 16])) & 255).astype(np.uint8)
        Image.fromarray(rgb).save(root / "pred" / ann["file_name"])
        anns.append({"image_id": ann["image_id"], "file_name": ann["file_name"],
                     "segments_info": segments})
    (root / "pred.json").write_text(json.dumps({"annotations": anns}))


def test_real_coco_sample_matches_official(tmp_path: Path) -> None:
    shutil.copy(SAMPLE / "panoptic_examples.json", tmp_path / "gt.json")
    shutil.copytree(SAMPLE / "panoptic_examples", tmp_path / "gt")
    _perturbed_prediction(tmp_path)
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    r = _evaluate(tmp_path, workers=1)
    assert_parity(r, official, exact=True)
    assert r.metrics["N"] == official.metrics["N"] > 5
    assert r.counts["gt_crowd"] == 3  # the sample's crowd segments (persons, horses)


def test_real_coco_sample_against_itself_is_perfect(tmp_path: Path) -> None:
    gt = SAMPLE / "panoptic_examples.json"
    r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=gt, pred_dir=SAMPLE /
                                "panoptic_examples")
    official = run_official(gt, gt)
    assert_parity(r, official, exact=True)
    assert (r.metrics["PQ"], r.metrics["SQ"], r.metrics["RQ"]) == (1.0, 1.0, 1.0)
