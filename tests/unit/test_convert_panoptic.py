"""``benchmark_eval.convert``: instances <-> panoptic <-> semantic, overlap rules, and
``load(save(x)) == x`` for every format written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_api
from synth_panoptic import make_case, write_case

import benchmark_eval
from benchmark_eval import convert
from benchmark_eval.errors import MAX_LISTED, ConfigError, ConsistencyError
from benchmark_eval.io.panoptic import load_coco_panoptic
from benchmark_eval.io.panoptic_png import read_frames, write_coco_panoptic
from benchmark_eval.io.png import read_label_map
from benchmark_eval.masks.rle import decode_masks
from benchmark_eval.schema.panoptic import PanopticCategories, PanopticFrame, Segments

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "panopticapi_sample"
COCO_SAMPLE = ROOT / "data_samples" / "coco" / "instances.json"


def _rle(mask: np.ndarray) -> dict[str, Any]:
    rle = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode()}


def _box_mask(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


@pytest.fixture
def overlapping() -> dict[str, Any]:
    """Image 1 (10x12): a big person (id 11, 40 px) and a small dog (id 12, 6 px) on top of
    it sharing 4 px; image 2: one car."""
    h, w = 10, 12
    masks = [_box_mask(h, w, 0, 5, 0, 8), _box_mask(h, w, 3, 6, 6, 8),
             _box_mask(h, w, 2, 4, 2, 5)]
    anns = [
        {"id": 11, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 40.0},
        {"id": 12, "image_id": 1, "category_id": 18, "iscrowd": 0, "area": 6.0},
        {"id": 13, "image_id": 2, "category_id": 3, "iscrowd": 1, "area": 6.0},
    ]
    for a, m in zip(anns, masks, strict=True):
        a["segmentation"] = _rle(m)
        a["bbox"] = [0, 0, 1, 1]
    return {"images": [{"id": 1, "height": h, "width": w, "file_name": "a.jpg"},
                       {"id": 2, "height": h, "width": w, "file_name": "b.jpg"}],
            "annotations": anns,
            "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"},
                           {"id": 18, "name": "dog"}]}


# ---------------------------------------------------------------- instances -> panoptic


def test_overlaps_are_an_error_naming_image_and_annotations(overlapping: dict) -> None:
    with pytest.raises(ConsistencyError) as err:
        convert.instances_to_panoptic(overlapping)
    (problem,) = err.value.problems
    assert "annotation id 12 overlaps annotation id 11" in problem.message
    assert "on 4 pixels (image_id=1)" in problem.message
    assert "overlap rule" in problem.message


def test_many_overlaps_are_listed_then_counted(overlapping: dict) -> None:
    first = overlapping["annotations"][0]
    overlapping["annotations"] += [dict(first, id=100 + k) for k in range(MAX_LISTED + 5)]
    with pytest.raises(ConsistencyError) as err:
        convert.instances_to_panoptic(overlapping)
    problems = err.value.problems
    assert len(problems) == MAX_LISTED + 1
    assert problems[-1].message == "... and 6 more overlapping masks"  # 12 overlaps 11 too


@pytest.mark.parametrize(("rule", "dog_pixels", "person_pixels"), [
    ("first-wins", 2, 40),  # the person is listed first: the dog keeps 6 - 4 px
    ("smaller-wins", 6, 36),  # the dog is smaller: it keeps all, the person 40 - 4
])
def test_overlap_rules(overlapping: dict, rule: str, dog_pixels: int,
                       person_pixels: int) -> None:
    cats, images, frames, dropped = convert.instances_to_panoptic(overlapping, overlap=rule)
    assert dropped == 0
    assert cats.isthing.tolist() == [True, True, True]
    f1, f2 = frames
    assert f1.segments.ids.tolist() == [1, 2]  # 1, 2, ... in file order
    assert int((f1.id_map == 1).sum()) == person_pixels
    assert int((f1.id_map == 2).sum()) == dog_pixels
    assert f2.segments.iscrowd.tolist() == [True]
    assert images.ids.tolist() == [1, 2]


def test_higher_score_wins_needs_scores(overlapping: dict, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs scores"):
        convert.instances_to_panoptic(overlapping, overlap="higher-score-wins")
    with pytest.raises(ConfigError, match="unknown overlap rule"):
        convert.instances_to_panoptic(overlapping, overlap="random")
    results = [
        {"image_id": 1, "category_id": 1, "score": 0.6,
         "segmentation": overlapping["annotations"][0]["segmentation"]},
        {"image_id": 1, "category_id": 18, "score": 0.9,
         "segmentation": overlapping["annotations"][1]["segmentation"]},
        {"image_id": 1, "category_id": 3, "score": 0.1,
         "segmentation": _rle(_box_mask(10, 12, 0, 10, 0, 12))},  # under everything
    ]
    _, _, frames, dropped = convert.instances_to_panoptic(
        results, images=overlapping, overlap="higher-score-wins")
    f1, f2 = frames
    assert int((f1.id_map == 2).sum()) == 6  # the dog (0.9) keeps the shared pixels
    assert int((f1.id_map == 1).sum()) == 36
    assert int((f1.id_map == 3).sum()) == 120 - 42  # the car fills what is left
    assert f2.segments.ids.tolist() == []  # an image without detections: all VOID
    assert not f2.id_map.any()
    assert dropped == 0


def test_stuff_file_adds_stuff_categories(overlapping: dict) -> None:
    stuff = {"images": overlapping["images"], "categories": [{"id": 184, "name": "tree"}],
             "annotations": [{"id": 1, "image_id": 2, "category_id": 184, "iscrowd": 0,
                              "area": 120.0, "segmentation": _rle(np.ones((10, 12), bool)),
                              "bbox": [0, 0, 12, 10]}]}
    cats, _, frames, dropped = convert.instances_to_panoptic(
        overlapping, stuff=stuff, overlap="first-wins")
    assert cats.ids.tolist() == [1, 3, 18, 184]
    assert cats.isthing.tolist() == [True, True, True, False]
    assert frames[1].segments.category_ids.tolist() == [3, 184]
    assert int((frames[1].id_map == 2).sum()) == 120 - 6  # the car was first
    assert dropped == 0
    clash = json.loads(json.dumps(stuff))
    clash["categories"][0]["id"] = 3
    clash["annotations"][0]["category_id"] = 3
    with pytest.raises(ConsistencyError, match="category id 3 is also a category"):
        convert.instances_to_panoptic(overlapping, stuff=clash)
    other = json.loads(json.dumps(stuff))
    other["images"][1]["height"] = 11
    other["annotations"][0]["segmentation"] = _rle(np.ones((11, 12), bool))
    with pytest.raises(ConsistencyError, match="another size"):
        convert.instances_to_panoptic(overlapping, stuff=other)


def test_fully_covered_mask_is_dropped(overlapping: dict) -> None:
    overlapping["annotations"][1]["segmentation"] = _rle(_box_mask(10, 12, 1, 3, 1, 3))
    _, _, frames, dropped = convert.instances_to_panoptic(overlapping, overlap="first-wins")
    assert dropped == 1
    assert frames[0].segments.ids.tolist() == [1]


# ------------------------------------------------------------------------- round trips


def test_instances_panoptic_instances_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "pan.json"
    done = convert.convert_instances_to_panoptic(COCO_SAMPLE, out)
    assert (done["images"], done["segments"], done["dropped"]) == (6, 11, 0)
    assert benchmark_eval.validate("coco-panoptic", gt=out, pred=out) == []
    back = tmp_path / "back.json"
    convert.convert_panoptic_to_instances(out, back)
    original = json.loads(COCO_SAMPLE.read_text())
    again = json.loads(back.read_text())
    assert [i["id"] for i in again["images"]] == [i["id"] for i in original["images"]]
    assert [c["id"] for c in again["categories"]] == [c["id"] for c in original["categories"]]
    gt, _ = benchmark_eval.io.load_coco_ground_truth(original, boxes=False, masks=True)
    sizes = {i["id"]: (i["height"], i["width"]) for i in original["images"]}
    converted = {}
    for b in again["annotations"]:
        rle = {"size": b["segmentation"]["size"], "counts": b["segmentation"]["counts"].encode()}
        mask = decode_masks([rle])[:, :, 0].astype(bool)
        converted[(b["image_id"], b["category_id"], b["iscrowd"], mask.tobytes())] = b
    assert len(converted) == len(original["annotations"])
    for k, a in enumerate(original["annotations"]):
        h, w = sizes[a["image_id"]]
        want = _mask_of(gt, k, h, w)
        b = converted[(a["image_id"], a["category_id"], a["iscrowd"], want.tobytes())]
        assert b["area"] == int(want.sum())


def _mask_of(gt: Any, k: int, h: int, w: int) -> np.ndarray:
    inst = gt.instances
    if inst.mask_runs is not None:
        from benchmark_eval.masks.panoptic import runs_to_pixels

        runs = inst.mask_runs.runs[inst.mask_runs.offsets[k]:inst.mask_runs.offsets[k + 1]]
        flat = np.zeros(h * w, dtype=bool)
        flat[runs_to_pixels(runs)] = True
        return flat.reshape(w, h).T
    return decode_masks([inst.masks[k]])[:, :, 0].astype(bool)


def _partition(frame: PanopticFrame, cats: np.ndarray, crowd: np.ndarray
               ) -> set[tuple[int, int, bytes]]:
    """A frame up to the naming of its segments: (category, crowd, mask bytes) per segment."""
    out = set()
    for sid, c, k in zip(frame.segments.ids.tolist(), cats.tolist(), crowd.tolist(),
                         strict=True):
        out.add((c, int(k), np.packbits(frame.id_map == sid).tobytes()))
    return out


def test_panoptic_instances_panoptic_round_trip_on_real_data(tmp_path: Path) -> None:
    inst = tmp_path / "inst.json"
    done = convert.convert_panoptic_to_instances(SAMPLE / "panoptic_examples.json", inst)
    assert (done["images"], done["annotations"]) == (2, 50)
    pan = tmp_path / "pan.json"
    convert.convert_instances_to_panoptic(inst, pan)
    before = list(read_frames(load_coco_panoptic(SAMPLE / "panoptic_examples.json")))
    after = list(read_frames(load_coco_panoptic(pan)))
    for a, b in zip(before, after, strict=True):
        assert a.image_id == b.image_id
        assert _partition(a, a.segments.category_ids, a.segments.iscrowd) == _partition(
            b, b.segments.category_ids, b.segments.iscrowd)
    cats = json.loads(pan.read_text())["categories"]
    assert sum(c["isthing"] for c in cats) == 80  # isthing kept from the records


def test_things_only(tmp_path: Path) -> None:
    out = tmp_path / "things.json"
    convert.convert_panoptic_to_instances(SAMPLE / "panoptic_examples.json", out,
                                          things_only=True)
    doc = json.loads(out.read_text())
    assert len(doc["categories"]) == 80
    assert {a["category_id"] for a in doc["annotations"]} <= {1, 8, 19, 37}
    assert len(doc["annotations"]) == 50 - 7  # 3 + 4 stuff segments in the two images


def test_write_then_read_panoptic_is_identity(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ids = [1, 65535, 65536, 256**3 - 1]
    frames = []
    for image_id in (3, 70):
        m = rng.choice([0, *ids], size=(17, 23))
        frames.append(PanopticFrame(image_id, m, Segments.build(
            ids, [1, 1, 2, 92], [0, 1, 0, 0], [float((m == i).sum()) for i in ids])))
    cats = PanopticCategories(np.array([1, 2, 92]), ("a", "b", "c"),
                              np.array([True, True, False]))
    write_coco_panoptic(frames, cats, tmp_path / "x.json")
    src = load_coco_panoptic(tmp_path / "x.json")
    assert src.dataset.categories.isthing.tolist() == [True, True, False]
    for a, b in zip(frames, read_frames(src), strict=True):
        assert a.image_id == b.image_id
        assert np.array_equal(a.id_map, b.id_map)
        for field in ("ids", "category_ids", "iscrowd", "areas"):
            assert np.array_equal(getattr(a.segments, field), getattr(b.segments, field))


# --------------------------------------------------------------------------- semantic


def test_panoptic_to_semantic_label_maps(tmp_path: Path) -> None:
    gt, _ = write_case(make_case("large_ids") + make_case("crowd"), tmp_path / "case")
    done = convert.convert_panoptic_to_semantic(gt, tmp_path / "sem")
    assert done["images"] == 2
    for frame, name in zip(read_frames(load_coco_panoptic(gt)),
                           load_coco_panoptic(gt).dataset.file_names, strict=True):
        label = read_label_map(tmp_path / "sem" / name)
        assert label.dtype == np.uint8
        cat_of = dict(zip(frame.segments.ids.tolist(), frame.segments.category_ids.tolist(),
                          strict=True))
        want = np.vectorize(lambda i, c=cat_of: c.get(i, 0))(frame.id_map)
        assert np.array_equal(label, want)
    convert.convert_panoptic_to_semantic(gt, tmp_path / "sem16", void=300)
    label = read_label_map(tmp_path / "sem16" / name)
    assert label.dtype == np.uint16
    assert (label == 300).sum() == (frame.id_map == 0).sum() > 0
    with pytest.raises(ConfigError, match="also a category id"):
        convert.convert_panoptic_to_semantic(gt, tmp_path / "x", void=1)


def test_converted_panoptic_scores_with_the_instance_protocol(tmp_path: Path) -> None:
    inst = tmp_path / "inst.json"
    convert.convert_panoptic_to_instances(SAMPLE / "panoptic_examples.json", inst,
                                          things_only=True)
    doc = json.loads(inst.read_text())
    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "score": 1.0,
                "segmentation": a["segmentation"]} for a in doc["annotations"]
               if not a["iscrowd"]]
    r = benchmark_eval.evaluate("coco-segm", gt=inst, pred=results)
    assert r.metrics["AP50"] == pytest.approx(1.0)


def test_panoptic_folder_copy_is_found_by_default(tmp_path: Path) -> None:
    shutil.copy(SAMPLE / "panoptic_examples.json", tmp_path / "p.json")
    shutil.copytree(SAMPLE / "panoptic_examples", tmp_path / "p")
    done = convert.convert_panoptic_to_instances(tmp_path / "p.json", tmp_path / "i.json")
    assert done["annotations"] == 50
