"""The COCO adapter (``io.coco``, ``io.records``, ``io.jsonfile``): every kind of problem it
reports names the file, the record index and what is wrong."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from synth_coco import encode_mask, uncompressed_counts

from benchmark_eval.errors import MAX_LISTED, ConsistencyError, FormatError, InputError, Problem
from benchmark_eval.io import (
    check_coco_ground_truth,
    check_coco_results,
    load_coco_ground_truth,
    load_coco_results,
    read_json,
)

Json = Any


def _mask(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


def _gt() -> dict[str, Json]:
    crowd = _mask(8, 8, 2, 6, 1, 7)
    return {
        "images": [
            {"id": 1, "height": 10, "width": 12, "file_name": "a.jpg"},
            {"id": 2, "height": 8, "width": 8, "file_name": "b.jpg"},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 16.0,
             "bbox": [1.0, 1.0, 4.0, 4.0], "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]},
            {"id": 2, "image_id": 1, "category_id": 2, "iscrowd": 0, "area": 9.0,
             "bbox": [6.0, 5.0, 3.0, 3.0],
             "segmentation": [[6, 5, 9, 5, 9, 8, 6, 8], [0, 8, 2, 8, 2, 9.5]]},
            {"id": 3, "image_id": 2, "category_id": 1, "iscrowd": 1, "area": 24.0,
             "bbox": [1.0, 2.0, 6.0, 4.0],
             "segmentation": {"size": [8, 8], "counts": uncompressed_counts(crowd)}},
        ],
    }


def _segm() -> list[dict[str, Json]]:
    return [
        {"image_id": 1, "category_id": 1, "score": 0.9,
         "segmentation": encode_mask(_mask(10, 12, 1, 5, 1, 5))},
        {"image_id": 1, "category_id": 2, "score": 0.8,
         "segmentation": encode_mask(_mask(10, 12, 5, 8, 6, 9))},
        {"image_id": 2, "category_id": 1, "score": 0.7,
         "segmentation": encode_mask(_mask(8, 8, 2, 6, 1, 4))},
        {"image_id": 2, "category_id": 2, "score": 0.6,
         "segmentation": encode_mask(_mask(8, 8, 0, 2, 0, 2))},
    ]


def _bbox() -> list[dict[str, Json]]:
    return [
        {"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [1.0, 1.0, 4.0, 4.0]},
        {"image_id": 1, "category_id": 2, "score": 0.8, "bbox": [6.0, 5.0, 3.0, 3.0]},
        {"image_id": 2, "category_id": 1, "score": 0.7, "bbox": [1.0, 2.0, 3.0, 4.0]},
        {"image_id": 2, "category_id": 2, "score": 0.6, "bbox": [0.0, 0.0, 2.0, 2.0]},
    ]


def _write(path: Path, data: Json) -> Path:
    path.write_text(json.dumps(data))
    return path


def _modes(iou_type: str) -> dict[str, bool]:
    return {"boxes": iou_type == "bbox", "masks": iou_type == "segm"}


def _find(problems: list[Problem], file: str, record: int | None, text: str) -> Problem:
    hits = [p for p in problems if p.file == file and p.record == record and text in p.message]
    assert hits, f"no problem at {file} record {record} containing {text!r} in {problems}"
    return hits[0]


def test_clean_inputs_have_no_problems(tmp_path: Path) -> None:
    gt = _write(tmp_path / "gt.json", _gt())
    for iou_type, results in (("segm", _segm()), ("bbox", _bbox())):
        dataset, problems = check_coco_ground_truth(gt, **_modes(iou_type))
        assert problems == []
        assert dataset is not None
        pred = _write(tmp_path / f"{iou_type}.json", results)
        assert check_coco_results(pred, dataset, **_modes(iou_type)) == []
        preds, _ = load_coco_results(pred, dataset, **_modes(iou_type))
        assert len(preds) == 4


# --------------------------------------------------------------------------- ground truth

Mutation = Callable[[dict[str, Json]], None]


def _set(path: tuple[Any, ...], value: Json) -> Mutation:
    def apply(data: dict[str, Json]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return apply


def _delete(path: tuple[Any, ...]) -> Mutation:
    def apply(data: dict[str, Json]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return apply


# name: (iou type, mutation, field, record, message substring)
GT_PROBLEMS: dict[str, tuple[str, Mutation, str | None, int | None, str]] = {
    "unknown image id": ("bbox", _set(("annotations", 1, "image_id"), 99), "annotations", 1,
                         "image_id 99 is not in 'images'"),
    "missing area": ("bbox", _delete(("annotations", 0, "area")), "annotations", 0,
                     "missing required field 'area'"),
    "missing image_id": ("segm", _delete(("annotations", 2, "image_id")), "annotations", 2,
                         "missing required field 'image_id'"),
    "missing image height (segm)": ("segm", _delete(("images", 1, "height")), "images", 1,
                                    "missing required field 'height'"),
    "float id": ("bbox", _set(("annotations", 1, "id"), 2.5), "annotations", 1,
                 "'id' must be an integer, got 2.5"),
    "string area": ("bbox", _set(("annotations", 1, "area"), "9"), "annotations", 1,
                    "'area' must be a number"),
    "negative area": ("bbox", _set(("annotations", 1, "area"), -1.0), "annotations", 1,
                      "'area' is negative"),
    "iscrowd 2": ("bbox", _set(("annotations", 0, "iscrowd"), 2), "annotations", 0,
                  "'iscrowd' must be 0 or 1, got 2"),
    "bbox of 3 numbers": ("bbox", _set(("annotations", 1, "bbox"), [1, 2, 3]), "annotations",
                          1, "'bbox' must be 4 finite numbers"),
    "bbox with a string": ("bbox", _set(("annotations", 0, "bbox"), [1, 2, "3", 4]),
                           "annotations", 0, "'bbox' must be 4 finite numbers"),
    "bbox negative width": ("bbox", _set(("annotations", 0, "bbox"), [1, 2, -3, 4]),
                            "annotations", 0, "bbox width and height must be >= 0"),
    "polygon of 4 numbers": ("segm", _set(("annotations", 0, "segmentation"), [[1, 1, 5, 5]]),
                             "annotations", 0, "polygon part must be an even list"),
    "polygon of odd length": ("segm", _set(("annotations", 1, "segmentation", 1),
                                           [0, 8, 2, 8, 2, 9, 4]),
                              "annotations", 1, "polygon part must be an even list"),
    "polygon with a string": ("segm", _set(("annotations", 0, "segmentation", 0, 3), "x"),
                              "annotations", 0, "polygon part must be an even list"),
    "empty polygon list": ("segm", _set(("annotations", 0, "segmentation"), []),
                           "annotations", 0, "empty polygon list"),
    "segmentation missing": ("segm", _delete(("annotations", 1, "segmentation")),
                             "annotations", 1, "'segmentation' must be polygons or RLE"),
    "RLE of wrong size": ("segm", _set(("annotations", 2, "segmentation", "size"), [8, 9]),
                          "annotations", 2, "mask size [8, 9] differs from the image size"),
    "RLE size not a pair": ("segm", _set(("annotations", 2, "segmentation", "size"), [8]),
                            "annotations", 2, "RLE 'size' must be [height, width]"),
    "uncompressed RLE short": ("segm", _set(("annotations", 2, "segmentation", "counts"),
                                            [10, 20, 30]),
                               "annotations", 2, "summing to h*w = 64"),
    "uncompressed RLE negative": ("segm", _set(("annotations", 2, "segmentation", "counts"),
                                               [70, -6]),
                                  "annotations", 2, "non-negative integers"),
    "compressed RLE bad char": ("segm", _set(("annotations", 2, "segmentation"),
                                             {"size": [8, 8], "counts": "5~"}),
                                "annotations", 2, "characters outside"),
    "compressed RLE too short": ("segm", _set(("annotations", 2, "segmentation"),
                                              {"size": [8, 8], "counts": "55"}),
                                 "annotations", 2, "cover 10 pixels"),
    "image of height 0 (segm)": ("segm", _set(("images", 0, "height"), 0), "images", 0,
                                 "height and width must be positive"),
    "annotations not a list": ("bbox", _set(("annotations",), {}), None, None,
                               "'annotations' must be a list, got dict"),
    "images missing": ("bbox", _delete(("images",)), None, None,
                       "'images' must be a list, got missing"),
    "annotation not an object": ("bbox", _set(("annotations", 1), [1, 2]), "annotations", 1,
                                 "record is list, expected an object"),
}


@pytest.mark.parametrize("name", list(GT_PROBLEMS))
def test_ground_truth_problem_is_located(tmp_path: Path, name: str) -> None:
    iou_type, mutate, field, record, text = GT_PROBLEMS[name]
    data = _gt()
    mutate(data)
    path = _write(tmp_path / "instances.json", data)
    dataset, problems = check_coco_ground_truth(path, **_modes(iou_type))
    assert dataset is None
    problem = _find(problems, str(path), record, text)
    assert problem.field == field
    with pytest.raises(InputError) as info:
        load_coco_ground_truth(path, **_modes(iou_type))
    assert problem in info.value.problems
    assert str(path) in str(info.value)


def test_ground_truth_not_an_object(tmp_path: Path) -> None:
    path = _write(tmp_path / "gt.json", [1, 2])
    _, problems = check_coco_ground_truth(path)
    _find(problems, str(path), None, "expected a COCO ground-truth object, got list")


def test_every_ground_truth_problem_is_listed_at_once(tmp_path: Path) -> None:
    data = _gt()
    data["annotations"][0]["area"] = "16"
    data["annotations"][1]["image_id"] = 99
    data["annotations"][2]["iscrowd"] = 2
    path = _write(tmp_path / "gt.json", data)
    _, problems = check_coco_ground_truth(path)
    assert [p.record for p in problems] == [0, 1, 2]  # listed in record order
    assert {p.field for p in problems} == {"annotations"}


# ------------------------------------------------------------------------------- results

ResultsMutation = Callable[[list[dict[str, Json]]], None]


def _res_set(i: int, key: str, value: Json) -> ResultsMutation:
    def apply(data: list[dict[str, Json]]) -> None:
        data[i][key] = value
    return apply


def _res_del(i: int, key: str) -> ResultsMutation:
    def apply(data: list[dict[str, Json]]) -> None:
        del data[i][key]
    return apply


def _res_mask(i: int, h: int, w: int, counts: Json) -> ResultsMutation:
    return _res_set(i, "segmentation", {"size": [h, w], "counts": counts})


# name: (iou type, mutation, record, message substring)
RESULT_PROBLEMS: dict[str, tuple[str, ResultsMutation, int, str]] = {
    "unknown image id": ("bbox", _res_set(2, "image_id", 99), 2,
                         "image_id 99 is not in the ground truth"),
    "string score": ("bbox", _res_set(1, "score", "0.8"), 1,
                     "'score' must be a number, got '0.8'"),
    "null score": ("bbox", _res_set(1, "score", None), 1, "'score' must be a number, got None"),
    "missing score": ("bbox", _res_del(2, "score"), 2, "missing required field 'score'"),
    "missing category_id": ("segm", _res_del(1, "category_id"), 1,
                            "missing required field 'category_id'"),
    "float image_id": ("bbox", _res_set(1, "image_id", 1.0), 1,
                       "'image_id' must be an integer, got 1.0"),
    "bbox of 2 numbers": ("bbox", _res_set(3, "bbox", [1, 2]), 3,
                          "'bbox' must be 4 finite numbers"),
    "bbox not a list": ("bbox", _res_set(3, "bbox", "1 2 3 4"), 3,
                        "'bbox' must be 4 finite numbers"),
    "bbox negative height": ("bbox", _res_set(2, "bbox", [1, 2, 3, -4]), 2,
                             "bbox width and height must be >= 0"),
    "missing bbox after a first record with one": ("bbox", _res_del(2, "bbox"), 2,
                                                   "missing 'bbox' (record 0 has one"),
    "RLE of wrong size": ("segm", _res_set(1, "segmentation",
                                           encode_mask(_mask(10, 13, 5, 8, 6, 9))),
                          1, "mask size [10, 13] differs from the image size [10, 12]"),
    "compressed RLE bad char": ("segm", _res_mask(2, 8, 8, "5~"), 2, "characters outside"),
    "compressed RLE truncated": ("segm", _res_mask(2, 8, 8, "5h"), 2, "truncated"),
    "compressed RLE empty": ("segm", _res_mask(3, 8, 8, ""), 3, "cover 0 pixels but"),
    # 'O' is the single group 0x1f with the sign bit: a first run of -1
    "compressed RLE negative run": ("segm", _res_mask(3, 8, 8, "O1"), 3, "negative run"),
    "polygon instead of RLE": ("segm", _res_set(1, "segmentation", [[1, 1, 5, 1, 5, 5]]), 1,
                               "polygons in results only when the first result has a 'bbox'"),
    "missing segmentation": ("segm", _res_del(2, "segmentation"), 2,
                             "missing 'segmentation'"),
}


@pytest.mark.parametrize("name", list(RESULT_PROBLEMS))
def test_results_problem_is_located(tmp_path: Path, name: str) -> None:
    iou_type, mutate, record, text = RESULT_PROBLEMS[name]
    dataset, _ = load_coco_ground_truth(_gt(), **_modes(iou_type))
    data = _segm() if iou_type == "segm" else _bbox()
    mutate(data)
    path = _write(tmp_path / "results.json", data)
    problems = check_coco_results(path, dataset, **_modes(iou_type))
    problem = _find(problems, str(path), record, text)
    assert problem.field == "results"
    with pytest.raises(InputError) as info:
        load_coco_results(path, dataset, **_modes(iou_type))
    assert problem in info.value.problems


def test_uncompressed_results_rle_not_covering_the_image(tmp_path: Path) -> None:
    # An uncompressed RLE in a results file whose counts do not sum to h*w must be reported
    # as a problem of results[2] (not crash, and not be filed under "annotations").
    dataset, _ = load_coco_ground_truth(_gt(), boxes=False, masks=True)
    data = _segm()
    data[2]["segmentation"] = {"size": [8, 8], "counts": [10, 20, 30]}
    path = _write(tmp_path / "results.json", data)
    problems = check_coco_results(path, dataset, boxes=False, masks=True)
    problem = _find(problems, str(path), 2, "summing to h*w = 64")
    assert problem.field == "results"
    assert str(problem).startswith(f"{path}: results[2]: ")


@pytest.mark.parametrize(("value", "shown"), [(float("nan"), "nan"), (float("inf"), "inf"),
                                              (float("-inf"), "-inf")])
def test_non_finite_scores(value: float, shown: str) -> None:
    # JSON files cannot hold NaN or infinity (orjson refuses them), but in-memory results can.
    dataset, _ = load_coco_ground_truth(_gt())
    data = _bbox()
    data[1]["score"] = value
    problems = check_coco_results(data, dataset)
    problem = _find(problems, "<pred>", 1, f"'score' is {shown}, expected a finite number")
    assert problem.field == "results"


def test_nan_literal_in_a_file_is_invalid_json(tmp_path: Path) -> None:
    dataset, _ = load_coco_ground_truth(_gt())
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_bbox()).replace("0.8", "NaN"))
    problems = check_coco_results(path, dataset)
    _find(problems, str(path), None, "not valid JSON")


@pytest.mark.parametrize(
    ("data", "text"),
    [({"annotations": []}, "a results file must be a JSON list of detections, got dict"),
     ([{"image_id": 1, "category_id": 1, "score": 0.5}],
      "record 0 has neither 'bbox' nor 'segmentation'")],
)
def test_results_top_level_problems(tmp_path: Path, data: Json, text: str) -> None:
    dataset, _ = load_coco_ground_truth(_gt())
    path = _write(tmp_path / "results.json", data)
    problems = check_coco_results(path, dataset)
    assert len(problems) == 1
    assert problems[0].file == str(path)
    assert text in problems[0].message
    with pytest.raises(InputError, match=r"results\.json"):
        load_coco_results(path, dataset)


def test_results_record_not_an_object(tmp_path: Path) -> None:
    dataset, _ = load_coco_ground_truth(_gt())
    path = _write(tmp_path / "results.json", [*_bbox(), 7])
    problems = check_coco_results(path, dataset)
    _find(problems, str(path), 4, "record is int, expected an object")


def test_three_bad_records_give_three_problems(tmp_path: Path) -> None:
    dataset, _ = load_coco_ground_truth(_gt())
    data = _bbox()
    data[0]["image_id"] = 99
    data[2]["score"] = "2.0"
    data[3]["bbox"] = [0, 0, 1]
    path = _write(tmp_path / "results.json", data)
    problems = check_coco_results(path, dataset)
    assert sorted(p.record for p in problems) == [0, 2, 3]


def test_a_type_problem_does_not_hide_unknown_ids_in_results(tmp_path: Path) -> None:
    # validate must list every problem: a string score in one record must not stop the
    # image-id check of the other records.
    dataset, _ = load_coco_ground_truth(_gt())
    data = _bbox()
    data[0]["image_id"] = 99
    data[1]["score"] = "high"
    path = _write(tmp_path / "results.json", data)
    problems = check_coco_results(path, dataset)
    _find(problems, str(path), 1, "'score' must be a number")
    _find(problems, str(path), 0, "image_id 99 is not in the ground truth")


def test_a_type_problem_does_not_hide_unknown_ids_in_ground_truth(tmp_path: Path) -> None:
    data = _gt()
    data["annotations"][0]["area"] = "16"
    data["annotations"][2]["image_id"] = 5
    path = _write(tmp_path / "gt.json", data)
    _, problems = check_coco_ground_truth(path)
    _find(problems, str(path), 0, "'area' must be a number")
    _find(problems, str(path), 2, "image_id 5 is not in 'images'")


# ------------------------------------------------------------------------------- files


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(FormatError) as info:
        read_json(path)
    assert info.value.problems == [Problem(str(path), info.value.problems[0].message)]
    assert "cannot read file" in info.value.problems[0].message
    _, problems = check_coco_ground_truth(path)
    _find(problems, str(path), None, "cannot read file")
    with pytest.raises(FormatError, match=r"nope\.json"):
        load_coco_ground_truth(path)


@pytest.mark.parametrize(("text", "message"), [
    ('{"images": [}', "not valid JSON"),
    ('[{"image_id": 1,\n "score": 0.5,,}]', "at line 2"),
    ("", "file is empty"),
    ("  \n", "file is empty"),
])
def test_invalid_json(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(FormatError) as info:
        read_json(path)
    assert message in str(info.value)
    assert info.value.problems[0].file == str(path)
    dataset, _ = load_coco_ground_truth(_gt())
    _find(check_coco_results(path, dataset), str(path), None, message)


# ------------------------------------------------------------------------ error classes


def test_load_ground_truth_raises_format_error_for_a_malformed_record() -> None:
    # errors.FormatError: "a record does not have the expected shape or type".
    data = _gt()
    data["annotations"][1]["bbox"] = [1, 2, 3]
    with pytest.raises(FormatError) as info:
        load_coco_ground_truth(data)
    assert info.value.problems[0].record == 1


def test_load_ground_truth_raises_consistency_error_for_unknown_ids() -> None:
    # errors.ConsistencyError: "records are well formed but contradict each other".
    data = _gt()
    data["annotations"][1]["image_id"] = 5
    with pytest.raises(ConsistencyError) as info:
        load_coco_ground_truth(data)
    assert info.value.problems[0].record == 1


def test_load_results_raises_consistency_error_for_unknown_ids() -> None:
    dataset, _ = load_coco_ground_truth(_gt())
    data = _bbox()
    data[1]["image_id"] = 99
    with pytest.raises(ConsistencyError) as info:
        load_coco_results(data, dataset)
    assert info.value.problems[0].record == 1


def test_load_results_raises_format_error_for_a_malformed_record() -> None:
    dataset, _ = load_coco_ground_truth(_gt())
    data = _bbox()
    data[1]["score"] = "high"
    with pytest.raises(FormatError) as info:
        load_coco_results(data, dataset)
    assert info.value.problems[0].record == 1


# --------------------------------------------------------------------------- problem cap


def test_problems_beyond_the_cap_are_summarised(tmp_path: Path) -> None:
    dataset, _ = load_coco_ground_truth(_gt())
    n_bad = MAX_LISTED + 5
    data = [copy.deepcopy(_bbox()[0]) for _ in range(n_bad + 3)]
    for i in range(n_bad):
        data[i]["image_id"] = 1000 + i
    data[-1]["category_id"] = 42  # another kind: listed on its own
    path = _write(tmp_path / "results.json", data)
    problems = check_coco_results(path, dataset)
    unknown = [p for p in problems if "is not in the ground truth" in p.message]
    assert [p.record for p in unknown] == list(range(MAX_LISTED))
    summary = [p for p in problems if p.message.startswith("...")]
    assert len(summary) == 1
    assert summary[0].message == "... and 5 more records: unknown image_id"
    assert summary[0].record is None
    _find(problems, str(path), len(data) - 1, "[result-category-unknown] 1 detection(s)")
    assert len(problems) == MAX_LISTED + 2
