"""The LVIS adapter (``io.lvis``): every LVIS-specific problem names the file, the record and
the field, ``check_lvis_ground_truth`` lists them all at once, and the pycocotools-only
``ignore-overridden`` notice is not emitted (lvis-api honours ``ignore``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import benchmark_eval
from benchmark_eval.errors import FormatError, InputError, Problem
from benchmark_eval.io import load_coco_ground_truth
from benchmark_eval.io.lvis import check_lvis_ground_truth, load_lvis_ground_truth

Json = Any


def _gt() -> dict[str, Json]:
    """Two images, three categories (one per frequency group), three annotations."""
    return {
        "images": [
            {"id": 10, "height": 20, "width": 30, "neg_category_ids": [2],
             "not_exhaustive_category_ids": [1]},
            {"id": 11, "height": 20, "width": 20, "neg_category_ids": [1, 3],
             "not_exhaustive_category_ids": []},
        ],
        "categories": [{"id": 1, "name": "apple", "frequency": "f"},
                       {"id": 2, "name": "bagel", "frequency": "c"},
                       {"id": 3, "name": "cider", "frequency": "r"}],
        "annotations": [
            {"id": 1, "image_id": 10, "category_id": 1, "area": 16.0,
             "bbox": [1.0, 1.0, 4.0, 4.0], "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]},
            {"id": 2, "image_id": 10, "category_id": 3, "area": 9.0, "ignore": 1,
             "bbox": [6.0, 5.0, 3.0, 3.0], "segmentation": [[6, 5, 9, 5, 9, 8, 6, 8]]},
            {"id": 3, "image_id": 11, "category_id": 2, "area": 4.0, "ignore": 0,
             "bbox": [0.0, 0.0, 2.0, 2.0], "segmentation": [[0, 0, 2, 0, 2, 2, 0, 2]]},
        ],
    }


def _bbox() -> list[dict[str, Json]]:
    return [{"image_id": 10, "category_id": 1, "score": 0.9, "bbox": [1.0, 1.0, 4.0, 4.0]}]


def _write(path: Path, data: Json) -> Path:
    path.write_text(json.dumps(data))
    return path


def _problems(gt: dict[str, Json], tmp_path: Path) -> list[Problem]:
    path = _write(tmp_path / "lvis_gt.json", gt)
    dataset, fed, problems = check_lvis_ground_truth(path)
    assert dataset is None
    assert fed is None
    assert all(p.file == str(path) for p in problems)
    return problems


def _only(problems: list[Problem], field: str) -> list[tuple[int | None, str]]:
    return [(p.record, p.message) for p in problems if p.field == field]


# ------------------------------------------------------------------------------- clean input


def test_clean_ground_truth_federated_labels_and_ignore_flags() -> None:
    dataset, fed, ignore, notices = load_lvis_ground_truth(_gt())
    assert dataset.images.ids.tolist() == [10, 11]
    # (image id, category id) pairs, one per listed id, in file order
    assert fed.neg_image.tolist() == [10, 11, 11]
    assert fed.neg_category.tolist() == [2, 1, 3]
    assert fed.not_exhaustive_image.tolist() == [10]
    assert fed.not_exhaustive_category.tolist() == [1]
    # FREQUENCIES = ('r', 'c', 'f'): one index per row of the category table
    assert fed.frequency.tolist() == [2, 1, 0]
    assert ignore.dtype == np.bool_
    assert ignore.tolist() == [False, True, False]
    assert notices == []


def test_empty_lists_are_fine() -> None:
    gt = _gt()
    for im in gt["images"]:
        im["neg_category_ids"] = []
        im["not_exhaustive_category_ids"] = []
    _, fed, _, _ = load_lvis_ground_truth(gt)
    assert len(fed.neg_image) == 0
    assert len(fed.not_exhaustive_category) == 0


# ---------------------------------------------------------------------- missing federated fields


@pytest.mark.parametrize("key", ["neg_category_ids", "not_exhaustive_category_ids"])
def test_missing_federated_list_names_file_record_and_field(key: str, tmp_path: Path) -> None:
    gt = _gt()
    del gt["images"][1][key]
    problems = _problems(gt, tmp_path)
    assert _only(problems, "images") == [
        (1, f"missing '{key}' (LVIS federated evaluation needs it on every image)")]
    assert len(problems) == 1
    assert str(problems[0]) == (f"{tmp_path / 'lvis_gt.json'}: images[1]: missing '{key}'"
                                " (LVIS federated evaluation needs it on every image)")


def test_missing_on_several_images_lists_each(tmp_path: Path) -> None:
    gt = _gt()
    del gt["images"][0]["neg_category_ids"]
    del gt["images"][1]["neg_category_ids"]
    problems = _problems(gt, tmp_path)
    assert [r for r, _ in _only(problems, "images")] == [0, 1]


@pytest.mark.parametrize("key", ["neg_category_ids", "not_exhaustive_category_ids"])
@pytest.mark.parametrize("value", [[1, "2"], [1.0], "3", None, [True], {"1": 1}])
def test_list_with_non_integer_ids(key: str, value: Json, tmp_path: Path) -> None:
    gt = _gt()
    gt["images"][0][key] = value
    problems = _problems(gt, tmp_path)
    assert _only(problems, "images") == [
        (0, f"'{key}' must be a list of integer category ids")]


# -------------------------------------------------------------------------------- frequency


@pytest.mark.parametrize(("value", "shown"), [("x", "'x'"), ("rare", "'rare'"), (2, "2"),
                                               (None, "None"), ("F", "'F'")])
def test_bad_frequency_names_record_and_value(value: Json, shown: str, tmp_path: Path) -> None:
    gt = _gt()
    gt["categories"][1]["frequency"] = value
    problems = _problems(gt, tmp_path)
    assert _only(problems, "categories") == [
        (1, f"'frequency' must be one of 'r', 'c', 'f' (LVIS frequency groups), got {shown}")]


def test_missing_frequency(tmp_path: Path) -> None:
    gt = _gt()
    del gt["categories"][2]["frequency"]
    problems = _problems(gt, tmp_path)
    assert _only(problems, "categories") == [
        (2, "'frequency' must be one of 'r', 'c', 'f' (LVIS frequency groups), got None")]


# ----------------------------------------------------------------------------------- ignore


@pytest.mark.parametrize(("value", "shown"), [(2, "2"), (-1, "-1"), (0.5, "0.5"),
                                               (1.0, "1.0"), ("1", "'1'"), (None, "None")])
def test_ignore_must_be_0_or_1(value: Json, shown: str, tmp_path: Path) -> None:
    gt = _gt()
    gt["annotations"][2]["ignore"] = value
    problems = _problems(gt, tmp_path)
    assert _only(problems, "annotations") == [(2, f"'ignore' must be 0 or 1, got {shown}")]


def test_ignore_accepts_booleans() -> None:
    gt = _gt()
    gt["annotations"][0]["ignore"] = True
    gt["annotations"][1]["ignore"] = False
    _, _, ignore, _ = load_lvis_ground_truth(gt)
    assert ignore.tolist() == [True, False, False]


def test_ignore_overridden_notice_is_coco_only() -> None:
    # the same file through the COCO adapter: pycocotools replaces 'ignore' by 'iscrowd'
    _, coco_notices = load_coco_ground_truth(_gt())
    assert [n.code for n in coco_notices] == ["ignore-overridden"]
    _, _, _, lvis_notices = load_lvis_ground_truth(_gt())
    assert lvis_notices == []
    result = benchmark_eval.evaluate("lvis-bbox", gt=_gt(), pred=_bbox())
    assert "ignore-overridden" not in [w.code for w in result.warnings]
    assert result.counts["gt_ignored"] == 1


# ------------------------------------------------------------------------ all at once / raise


def _broken() -> dict[str, Json]:
    gt = _gt()
    del gt["images"][0]["not_exhaustive_category_ids"]
    gt["images"][1]["neg_category_ids"] = [1, "3"]
    gt["categories"][0]["frequency"] = "q"
    del gt["categories"][2]["frequency"]
    gt["annotations"][1]["ignore"] = 7
    gt["annotations"][2]["image_id"] = 99  # a COCO-level problem in the same file
    return gt


def test_check_lists_every_problem_at_once(tmp_path: Path) -> None:
    problems = _problems(_broken(), tmp_path)
    where = sorted((p.field or "", -1 if p.record is None else p.record) for p in problems)
    assert where == [("annotations", 1), ("annotations", 2), ("categories", 0),
                     ("categories", 2), ("images", 0), ("images", 1)]
    text = "\n".join(map(str, problems))
    for needle in ("images[0]: missing 'not_exhaustive_category_ids'",
                   "images[1]: 'neg_category_ids' must be a list of integer category ids",
                   "categories[0]: 'frequency' must be one of 'r', 'c', 'f'",
                   "categories[2]: 'frequency' must be one of 'r', 'c', 'f'",
                   "annotations[1]: 'ignore' must be 0 or 1, got 7",
                   "annotations[2]:"):
        assert needle in text, needle


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.json", _broken())
    with pytest.raises(FormatError) as info:
        load_lvis_ground_truth(path)
    assert len(info.value.problems) == 6
    assert str(path) in str(info.value)
    assert all(p.file == str(path) for p in info.value.problems)


def test_validate_api_reports_ground_truth_problems_and_skips_results(tmp_path: Path) -> None:
    gt = _write(tmp_path / "gt.json", _broken())
    pred = _write(tmp_path / "bbox.json", _bbox())
    problems = benchmark_eval.validate("lvis-bbox", gt=gt, pred=pred)
    assert len(problems) == 7
    assert problems[-1] == Problem(str(pred), "not checked: the ground truth has problems")


def test_evaluate_in_memory_names_gt(tmp_path: Path) -> None:
    gt = _gt()
    del gt["images"][0]["neg_category_ids"]
    with pytest.raises(InputError) as info:
        benchmark_eval.evaluate("lvis-segm", gt=gt, pred=_bbox())
    assert info.value.problems[0].file == "<gt>"
    assert info.value.problems[0].record == 0
    assert info.value.problems[0].field == "images"
