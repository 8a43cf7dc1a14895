"""Cityscapes converters on hand-made inputs (the official comparisons are in
``tests/parity/test_cityscapes_*``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synth_cityscapes import write_tree

import benchmark_eval
from benchmark_eval.convert_cityscapes import (
    convert_cityscapes_polygons,
    convert_cityscapes_to_instances,
    convert_cityscapes_to_panoptic,
    panoptic_segments,
    polygons_to_maps,
    segment_boxes,
)
from benchmark_eval.errors import ConsistencyError, FormatError
from benchmark_eval.masks.rle import decode_masks

# 6 x 8: road (7), a car 26000 (rows 0-3, cols 0-3), a car group 26 (row 5, cols 0-2),
# a person 24000 (rows 1-4, col 6), a caravan 29000 (ignored in evaluation), void 0
INSTANCES = np.full((6, 8), 7, np.uint16)
INSTANCES[0:4, 0:4] = 26000
INSTANCES[5, 0:3] = 26
INSTANCES[1:5, 6] = 24000
INSTANCES[5, 5:7] = 29000
INSTANCES[0, 7] = 0
LABELS = np.where(INSTANCES < 1000, INSTANCES, INSTANCES // 1000).astype(np.uint8)


def test_segment_boxes_by_hand() -> None:
    values, areas, boxes = segment_boxes(INSTANCES)
    assert values.tolist() == [0, 7, 26, 24000, 26000, 29000]
    assert areas.tolist() == [1, 22, 3, 4, 16, 2]
    assert boxes.tolist() == [[7, 0, 1, 1], [0, 0, 8, 6], [0, 5, 3, 1], [6, 1, 1, 4],
                              [0, 0, 4, 4], [5, 5, 2, 1]]


def test_panoptic_segments_keep_evaluated_labels() -> None:
    id_map, info = panoptic_segments(INSTANCES, category_ids="trainIds")
    assert [(s["id"], s["category_id"], s["iscrowd"], s["area"]) for s in info] == [
        (7, 0, 0, 22), (26, 13, 1, 3), (24000, 11, 0, 4), (26000, 13, 0, 16)]
    assert id_map[5, 5] == 0  # the caravan and void pixels are VOID
    assert id_map[0, 7] == 0
    with pytest.raises(ConsistencyError, match=r"x.png: instance ids \[40000\]"):
        panoptic_segments(np.array([[40000]]), where="x.png")


def test_gt_to_panoptic_files(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"z_000001_000002": (LABELS, INSTANCES)})
    done = convert_cityscapes_to_panoptic(tree.gt, tmp_path / "pan.json",
                                          category_ids="trainIds")
    data = json.loads((tmp_path / "pan.json").read_text())
    assert done == {"images": 1, "segments": 4, "png_dir": str(tmp_path / "pan")}
    assert data["images"] == [{"id": "z_000001_000002", "width": 8, "height": 6,
                               "file_name": "z_000001_000002_gtFine_leftImg8bit.png"}]
    assert data["annotations"][0]["file_name"] == "z_000001_000002_gtFine_panoptic.png"
    assert [c["id"] for c in data["categories"]] == list(range(19))
    assert (tmp_path / "pan" / "z_000001_000002_gtFine_panoptic.png").is_file()


def test_gt_to_coco_instances_scores_one_against_itself(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"z_000001_000002": (LABELS, INSTANCES)})
    done = convert_cityscapes_to_instances(tree.gt, tmp_path / "inst.json")
    data = json.loads((tmp_path / "inst.json").read_text())
    assert done == {"images": 1, "annotations": 3}
    assert [c["name"] for c in data["categories"]] == [
        "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"]
    anns = {(a["category_id"], a["iscrowd"]): a for a in data["annotations"]}
    assert sorted(anns) == [(24, 0), (26, 0), (26, 1)]
    car = anns[(26, 0)]
    assert car["area"] == 16
    assert car["bbox"] == [0.0, 0.0, 4.0, 4.0]
    decoded = decode_masks([{"size": car["segmentation"]["size"],
                             "counts": car["segmentation"]["counts"].encode()}])
    assert np.array_equal(decoded[:, :, 0].astype(bool), INSTANCES == 26000)
    assert data["images"][0]["cityscapes_id"] == "z_000001_000002"
    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "score": 1.0,
                "segmentation": a["segmentation"]} for a in data["annotations"]
               if not a["iscrowd"]]
    r = benchmark_eval.evaluate("coco-segm", gt=tmp_path / "inst.json", pred=results)
    assert r.metrics["AP"] == pytest.approx(1.0, abs=1e-15)  # 101-point mean of ones


def test_polygons_paint_in_file_order_and_check_labels(tmp_path: Path) -> None:
    data = {"imgWidth": 6, "imgHeight": 4, "objects": [
        {"label": "car", "polygon": [[0, 0], [5, 0], [5, 3], [0, 3]]},
        {"label": "person", "polygon": [[1, 1], [2, 1], [2, 2], [1, 2]]},
        {"label": "cargroup", "polygon": [[4, 0], [5, 0], [5, 1], [4, 1]]},
        {"label": "car", "polygon": [[0, 3], [1, 3], [1, 3]], "deleted": 1},
        {"label": "license plate", "polygon": [[0, 0], [5, 0], [5, 3]]},
        {"label": "car", "polygon": [[3, 2], [4, 2], [4, 3], [3, 3]]}]}
    labels, instances = polygons_to_maps(data)
    lab, ins = np.asarray(labels), np.asarray(instances)
    assert lab[1, 1] == 24
    assert lab[0, 0] == 26
    assert lab[0, 5] == 26
    assert ins[0, 0] == 26000  # first car
    assert ins[1, 1] == 24000  # the person painted over it
    assert ins[0, 4] == 26  # the group keeps the plain id
    assert ins[2, 3] == 26001  # the next car (the deleted one is not counted)
    data["objects"].append({"label": "spaceship", "polygon": [[0, 0], [1, 1], [0, 1]]})
    with pytest.raises(ConsistencyError, match=r"objects\[6\]: label 'spaceship'"):
        polygons_to_maps(data, where="p.json")
    with pytest.raises(FormatError, match=r"no \*_gtFine_polygons\.json"):
        convert_cityscapes_polygons(tmp_path, tmp_path / "out")


def test_every_converter_finds_its_files_the_same_way(tmp_path: Path) -> None:
    # one finder for instance-id PNGs and polygon JSONs: a missing folder is named as such
    for conversion in (convert_cityscapes_polygons, convert_cityscapes_to_panoptic,
                       convert_cityscapes_to_instances):
        with pytest.raises(FormatError, match="ground-truth folder not found"):
            conversion(tmp_path / "nowhere", tmp_path / "out.json")
