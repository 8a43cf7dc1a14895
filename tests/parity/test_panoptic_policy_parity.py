"""The policy of issue 9 for ``coco-panoptic``: predictions of images the GT does not have are
never read by panopticapi (it iterates the GT's annotations); we give its numbers with a
notice, ``validate`` lists it, ``strict=True`` refuses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from official_panoptic import run_official
from panoptic_generators import make_case, write_case
from test_panoptic_parity import assert_parity

import benchmark_eval


@pytest.mark.parametrize("seed", [0, 1])
def test_predictions_of_unknown_images_are_skipped_as_panopticapi_skips_them(
        seed: int, tmp_path: Path) -> None:
    write_case(make_case("random", seed), tmp_path)
    pred = json.loads((tmp_path / "pred.json").read_text())
    extra = {**pred["annotations"][0], "image_id": 987654, "file_name": "not_there.png"}
    pred["annotations"].insert(1, extra)
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    ours = benchmark_eval.evaluate("coco-panoptic", gt=tmp_path / "gt.json",
                                   pred=tmp_path / "pred.json")
    assert_parity(ours, official, exact=True)
    notice = next(w for w in ours.warnings if w.code == "prediction-image-unknown")
    assert (notice.record, notice.field, notice.count) == (1, "annotations", 1)
    problems = benchmark_eval.validate("coco-panoptic", gt=tmp_path / "gt.json",
                                       pred=tmp_path / "pred.json")
    assert [p.record for p in problems if "[prediction-image-unknown]" in p.message] == [1]
    with pytest.raises(benchmark_eval.InputError, match="prediction-image-unknown"):
        benchmark_eval.evaluate("coco-panoptic", gt=tmp_path / "gt.json",
                                pred=tmp_path / "pred.json", strict=True)


def test_duplicate_prediction_keeps_the_last_as_panopticapi(tmp_path: Path) -> None:
    write_case(make_case("random", 3), tmp_path)
    pred = json.loads((tmp_path / "pred.json").read_text())
    first = pred["annotations"][0]
    stale = {**first, "segments_info": [{**s, "category_id": pred["annotations"][1][
        "segments_info"][0]["category_id"]} for s in first["segments_info"]]}
    pred["annotations"].insert(0, stale)  # an earlier, different annotation of that image
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    official = run_official(tmp_path / "gt.json", tmp_path / "pred.json")
    ours = benchmark_eval.evaluate("coco-panoptic", gt=tmp_path / "gt.json",
                                   pred=tmp_path / "pred.json")
    assert_parity(ours, official, exact=True)
    notice = next(w for w in ours.warnings if w.code == "duplicate-prediction-image")
    assert notice.record == 0
    with pytest.raises(benchmark_eval.InputError, match="duplicate-prediction-image"):
        benchmark_eval.evaluate("coco-panoptic", gt=tmp_path / "gt.json",
                                pred=tmp_path / "pred.json", strict=True)
