"""``io.panoptic`` and ``io.png``: every inconsistency is an error naming file, image and
segment; ``validate`` lists all of them; the two PNG decoders give the same pixels."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from synth_panoptic import make_case, write_case

import benchmark_eval
from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    MissingPredictionError,
    Problem,
)
from benchmark_eval.io import png
from benchmark_eval.io.panoptic import load_coco_panoptic
from benchmark_eval.io.panoptic_png import default_folder

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "panopticapi_sample"


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, Path]:
    return write_case(make_case("crowd") + make_case("large_ids"), tmp_path)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _save(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


# ----------------------------------------------------------------------------- folders


def test_default_folder_is_the_json_path_without_suffix() -> None:
    assert default_folder("a/b/panoptic_val2017.json") == Path("a/b/panoptic_val2017")
    assert default_folder(Path("x.JSON")) == Path("x")
    with pytest.raises(ConfigError, match=r"does not end in \.json"):
        default_folder("a/b/panoptic")


def test_missing_png_folder_is_an_error_naming_it(case: tuple[Path, Path], tmp_path: Path
                                                  ) -> None:
    gt, pred = case
    with pytest.raises(FormatError, match="PNG folder not found") as err:
        benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred, pred_dir=tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value)


def test_in_memory_json_needs_a_folder(case: tuple[Path, Path]) -> None:
    gt, pred = case
    with pytest.raises(ConfigError, match="give the PNG folder"):
        benchmark_eval.evaluate("coco-panoptic", gt=_load(gt), pred=pred)
    r = benchmark_eval.evaluate("coco-panoptic", gt=_load(gt), gt_dir=gt.with_suffix(""),
                                pred=_load(pred), pred_dir=pred.with_suffix(""))
    assert r.metrics["N"] > 0


# ------------------------------------------------------------------------------- JSON


def test_real_sample_loads(tmp_path: Path) -> None:
    src = load_coco_panoptic(SAMPLE / "panoptic_examples.json")
    data = src.dataset
    assert src.folder == SAMPLE / "panoptic_examples"
    assert len(data) == 2
    assert len(data.categories) == 133
    assert int(data.categories.isthing.sum()) == 80
    assert [len(data.image_segments(i)) for i in range(2)] == [18, 32]
    assert data.segments.ids.max() > 65535  # 24-bit ids
    assert data.images is not None
    assert data.images.heights.tolist() == [427, 360]


@pytest.mark.parametrize(("edit", "error", "expected"), [
    (lambda d: d["annotations"][0]["segments_info"].append(
        dict(d["annotations"][0]["segments_info"][0])), ConsistencyError,
     "duplicate segment id"),
    (lambda d: d["annotations"][0]["segments_info"][0].update(category_id=777),
     ConsistencyError, "category_id 777"),
    (lambda d: d["annotations"][0]["segments_info"][0].update(id=0), FormatError,
     "0 is VOID"),
    (lambda d: d["annotations"][0]["segments_info"][0].update(id=256**3), FormatError,
     "16777215"),
    (lambda d: d["annotations"][0]["segments_info"][0].update(area=0), FormatError,
     "positive pixel count"),
    (lambda d: d["annotations"][0]["segments_info"][0].pop("area"), FormatError,
     "'area' must be a number, got missing"),
    (lambda d: d["annotations"][0]["segments_info"][0].update(iscrowd=2), FormatError,
     "'iscrowd' must be 0 or 1"),
    (lambda d: d["annotations"][1].update(image_id=d["annotations"][0]["image_id"]),
     ConsistencyError, "duplicate image_id"),
    (lambda d: d["categories"][0].pop("isthing"), FormatError, "'isthing' must be 0 or 1"),
    (lambda d: d["categories"].append(dict(d["categories"][0])), ConsistencyError,
     "duplicate category id"),
    (lambda d: d["annotations"][0].pop("segments_info"), FormatError,
     "'segments_info' must be a list"),
    (lambda d: d["annotations"][0].pop("file_name"), FormatError, "'file_name'"),
    (lambda d: d.pop("categories"), FormatError, "'categories' must be a list"),
])
def test_ground_truth_json_problems(case: tuple[Path, Path], edit: Any, error: type,
                                    expected: str) -> None:
    gt, pred = case
    doc = _load(gt)
    edit(doc)
    with pytest.raises(error, match=expected) as err:
        benchmark_eval.evaluate("coco-panoptic", gt=_save(gt, doc), pred=pred)
    assert str(gt) in str(err.value)  # the message names the file
    problems = benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred)
    assert expected in _messages(problems)


def test_segment_problems_name_annotation_segment_and_image(case: tuple[Path, Path]) -> None:
    gt, pred = case
    doc = _load(pred)
    doc["annotations"][1]["segments_info"][2]["category_id"] = 999
    problems = benchmark_eval.validate("coco-panoptic", gt=gt, pred=_save(pred, doc))
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.field, p.record) == (str(pred), "annotations[1].segments_info", 2)
    image_id = doc["annotations"][1]["image_id"]
    assert f"image_id {image_id}" in p.message
    assert "category_id 999" in p.message


def test_prediction_json_problems_are_all_listed(case: tuple[Path, Path]) -> None:
    gt, pred = case
    doc = _load(pred)
    doc["annotations"][0]["segments_info"][0]["category_id"] = 555
    doc["annotations"][0]["segments_info"][1]["id"] = "seven"
    doc["annotations"].append({"image_id": 424242, "file_name": "x.png", "segments_info": []})
    problems = benchmark_eval.validate("coco-panoptic", gt=gt, pred=_save(pred, doc))
    text = _messages(problems)
    assert "category_id 555" in text
    assert "'id' must be an integer, got 'seven'" in text
    # a prediction of an image the GT lacks is skipped as panopticapi skips it: a strict
    # notice, listed by validate once the JSON is otherwise valid
    # (tests/parity/test_panoptic_policy_parity.py)
    assert "424242" not in text
    assert len(problems) == 2


def test_prediction_areas_and_crowd_flags_are_not_read(case: tuple[Path, Path]) -> None:
    gt, pred = case
    reference = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    doc = _load(pred)
    for ann in doc["annotations"]:
        for s in ann["segments_info"]:
            s.pop("area"), s.pop("iscrowd"), s.pop("bbox")
    r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=_save(pred, doc))
    assert r.metrics == reference.metrics


def test_ground_truth_image_without_prediction(case: tuple[Path, Path]) -> None:
    gt, pred = case
    doc = _load(pred)
    gone = doc["annotations"].pop(0)["image_id"]
    with pytest.raises(MissingPredictionError, match=f"no prediction for image_id {gone}"):
        benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=_save(pred, doc))
    problems = benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred)
    assert f"no prediction for image_id {gone}" in _messages(problems)


# -------------------------------------------------------------------------------- PNGs


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).copy()


def _ids(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.int64) @ np.array([1, 256, 65536])


def test_png_segment_missing_from_json_and_the_reverse(case: tuple[Path, Path]) -> None:
    gt, pred = case
    doc = _load(pred)
    ann = doc["annotations"][0]
    removed = ann["segments_info"].pop(0)  # in the PNG, not in the JSON
    extra = dict(ann["segments_info"][0], id=9999)  # in the JSON, not in the PNG
    ann["segments_info"].append(extra)
    _save(pred, doc)
    png_path = pred.with_suffix("") / ann["file_name"]
    with pytest.raises(ConsistencyError) as err:
        benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    text = _messages(err.value.problems)
    assert f"segment {removed['id']} is in the PNG" in text
    assert "but not in segments_info" in text
    assert str(png_path) in text
    assert "segment 9999 (category" in text
    assert "is in segments_info but not in the PNG" in text
    assert f"image_id={ann['image_id']}" in text


def test_ground_truth_png_is_checked_too(case: tuple[Path, Path]) -> None:
    gt, pred = case
    doc = _load(gt)
    sid = doc["annotations"][1]["segments_info"].pop(0)["id"]
    problems = benchmark_eval.validate("coco-panoptic", gt=_save(gt, doc), pred=pred)
    assert [p.file for p in problems] == [str(gt.with_suffix("") /
                                              doc["annotations"][1]["file_name"])]
    assert f"segment {sid} is in the PNG" in problems[0].message


def test_prediction_size_differs(case: tuple[Path, Path]) -> None:
    gt, pred = case
    name = _load(pred)["annotations"][0]["file_name"]
    path = pred.with_suffix("") / name
    rgb = _rgb(path)
    Image.fromarray(np.pad(rgb, ((0, 1), (0, 0), (0, 0)))).save(path)
    with pytest.raises(ConsistencyError, match="pixels but the ground-truth PNG") as err:
        benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    assert err.value.problems[0].file == str(path)


@pytest.mark.parametrize(("mode", "kind"), [("P", "palette"), ("L", "grayscale"),
                                            ("LA", "grayscale+alpha")])
def test_palette_and_grayscale_pngs_are_refused(case: tuple[Path, Path], mode: str,
                                                kind: str) -> None:
    gt, pred = case
    name = _load(pred)["annotations"][1]["file_name"]
    path = pred.with_suffix("") / name
    Image.fromarray(_rgb(path)).convert(mode).save(path)
    with pytest.raises(FormatError, match=re.escape(f"is a {kind} PNG (8-bit), expected")):
        benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    problems = benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred)
    assert [p.file for p in problems] == [str(path)]


def test_unreadable_and_missing_pngs(case: tuple[Path, Path]) -> None:
    gt, pred = case
    names = [a["file_name"] for a in _load(pred)["annotations"]]
    folder = pred.with_suffix("")
    (folder / names[0]).write_bytes(b"not a png at all")
    (folder / names[1]).unlink()
    problems = benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred)
    text = _messages(problems)
    assert "not a PNG file" in text
    assert "file not found" in text
    assert len(problems) == 2


def test_validate_lists_every_problem_of_every_image(case: tuple[Path, Path]) -> None:
    gt, pred = case
    doc = _load(pred)
    for ann in doc["annotations"]:
        ann["segments_info"].pop()
    problems = benchmark_eval.validate("coco-panoptic", gt=gt, pred=_save(pred, doc),
                                       workers=2)
    assert len(problems) == len(doc["annotations"])
    assert all("is in the PNG" in p.message for p in problems)
    assert benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred) != []


def test_clean_submission_validates(case: tuple[Path, Path]) -> None:
    gt, pred = case
    assert benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred) == []
    sample = SAMPLE / "panoptic_examples.json"
    assert benchmark_eval.validate("coco-panoptic", gt=sample, pred=sample,
                                   pred_dir=SAMPLE / "panoptic_examples") == []


def test_gt_area_differing_from_png_is_a_notice_not_an_error(tmp_path: Path) -> None:
    gt, pred = write_case(make_case("area_differs"), tmp_path)
    r = benchmark_eval.evaluate("coco-panoptic", gt=gt, pred=pred)
    assert [w.code for w in r.warnings] == ["gt-area-mismatch"]
    assert "2 ground-truth segment(s)" in r.warnings[0].message
    assert benchmark_eval.validate("coco-panoptic", gt=gt, pred=pred) == []


# --------------------------------------------------------------------------------- io.png


def _png_bytes(img: Image.Image, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def test_decoders_give_the_same_pixels() -> None:
    files = sorted((SAMPLE / "panoptic_examples").glob("*.png"))
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgba = np.concatenate([noise, rng.integers(0, 256, (37, 53, 1), dtype=np.uint8)], 2)
    blobs = [f.read_bytes() for f in files] + [
        _png_bytes(Image.fromarray(noise)), _png_bytes(Image.fromarray(rgba)),
        _png_bytes(Image.fromarray(noise), optimize=True, compress_level=9),
    ]
    for data in blobs:
        a = png.decode_rgb(data, "x.png", decoder="pyspng")
        b = png.decode_rgb(data, "x.png", decoder="pillow")
        assert a.dtype == b.dtype == np.uint8
        assert np.array_equal(a, b)
        assert np.array_equal(a, np.asarray(Image.open(io.BytesIO(data))))
    assert png.PNG_DECODER == "pyspng"


def test_png_header_and_refusals() -> None:
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    header = png.png_header(_png_bytes(Image.fromarray(rgb)), "a.png")
    assert (header.width, header.height, header.bit_depth, header.color_type) == (5, 4, 8, 2)
    with pytest.raises(FormatError, match="not a PNG file"):
        png.decode_rgb(b"GIF89a...", "a.gif")
    gray16 = Image.fromarray(np.zeros((4, 5), dtype=np.uint16))
    with pytest.raises(FormatError, match=re.escape("grayscale PNG (16-bit)")):
        png.decode_rgb(_png_bytes(gray16), "g.png")
    truncated = _png_bytes(Image.fromarray(rgb + 7))[:-30]
    for decoder in ("pyspng", "pillow"):
        with pytest.raises(FormatError, match="not a readable PNG"):
            png.decode_rgb(truncated, "t.png", decoder=decoder)


def test_read_rgb_drops_alpha(tmp_path: Path) -> None:
    rgba = np.arange(4 * 3 * 4, dtype=np.uint8).reshape(4, 3, 4)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert np.array_equal(png.read_rgb(tmp_path / "a.png"), rgba[..., :3])
    with pytest.raises(FormatError, match="file not found"):
        png.read_rgb(tmp_path / "missing.png")


def test_dataset_json_is_not_modified(case: tuple[Path, Path]) -> None:
    gt, pred = case
    doc = _load(gt)
    before = copy.deepcopy(doc)
    benchmark_eval.evaluate("coco-panoptic", gt=doc, gt_dir=gt.with_suffix(""), pred=pred)
    assert doc == before
