"""Cityscapes adapters: the label table, file search and pairing, prediction lists, masks, and
the fast grayscale PNG decoder."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from cityscapesscripts.helpers import labels as official
from PIL import Image

from benchmark_eval.errors import ConsistencyError, FormatError, MissingPredictionError
from benchmark_eval.io import pngdecode
from benchmark_eval.io.cityscapes import (
    PredictionFolder,
    image_key,
    pair_instance,
    pair_semantic,
)
from benchmark_eval.io.cityscapes_read import (
    read_label_ids,
    read_mask,
    read_prediction_list,
    train_ids_to_ids,
)
from benchmark_eval.io.png import read_gray
from benchmark_eval.schema import cityscapes as table

# ----------------------------------------------------------------------------- the table


def test_label_table_is_the_official_one() -> None:
    mine = [(lb.name, lb.id, lb.train_id, lb.category, lb.category_id, lb.has_instances,
             lb.ignore_in_eval, lb.color) for lb in table.LABELS]
    theirs = [(lb.name, lb.id, lb.trainId, lb.category, lb.categoryId, lb.hasInstances,
               lb.ignoreInEval, lb.color) for lb in official.labels]
    assert mine == theirs
    assert len(table.LABELS) == 35
    assert {k: v.name for k, v in table.LABEL_BY_TRAIN_ID.items()} == {
        k: v.name for k, v in official.trainId2label.items()}
    assert tuple(official.category2labels) == table.CATEGORIES
    assert table.INSTANCE_CLASSES == ("person", "rider", "car", "truck", "bus", "train",
                                      "motorcycle", "bicycle")
    assert len(table.EVAL_LABEL_IDS) == 19
    assert table.LABEL_BY_NAME["license plate"].id == -1


def test_train_id_tables() -> None:
    to_id = table.train_id_to_id_table()
    assert to_id[0] == 7
    assert to_id[18] == 33
    assert to_id[255] == 0
    assert to_id[19] == -1
    assert table.id_to_train_id_table()[26] == 13
    pred = np.array([[0, 13, 255]], np.uint8)
    assert train_ids_to_ids(pred, "p.png").tolist() == [[7, 26, 0]]
    with pytest.raises(ConsistencyError, match=r"p.png: predicted values \[19\] are not"):
        train_ids_to_ids(np.array([[19]], np.uint8), "p.png")


# -------------------------------------------------------------------------------- search


def test_image_key_follows_get_cs_file_info() -> None:
    assert image_key("a/b/frankfurt_000000_000294_gtFine_labelIds.png") == (
        "frankfurt_000000_000294")
    assert image_key("lindau_000001_000019_leftImg8bit.png") == "lindau_000001_000019"
    assert image_key("too_many_parts_in_this_name_x.png") is None
    assert image_key("short_1.png") is None


def test_prediction_folder_finds_key_star_suffix(tmp_path: Path) -> None:
    for name in ("a/x_000001_000002_pred.png", "b/x_000001_000002.png",
                 "x_000001_000003_pred.png", "x_000001_000002_pred.txt", "y.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    pngs = PredictionFolder(tmp_path, ".png")
    assert len(pngs) == 4
    assert [p.relative_to(tmp_path).as_posix() for p in pngs.find("x_000001_000002")] == [
        "b/x_000001_000002.png", "a/x_000001_000002_pred.png"]
    assert pngs.find("x_000001_000004") == []
    assert [p.name for p in PredictionFolder(tmp_path, ".txt").find("x_000001_000002")] == [
        "x_000001_000002_pred.txt"]


def _gt(root: Path, key: str, *, instances: bool = True) -> None:
    city = root / key.split("_")[0]
    city.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(city / f"{key}_gtFine_labelIds.png")
    if instances:
        Image.fromarray(np.zeros((2, 2), np.uint16)).save(
            city / f"{key}_gtFine_instanceIds.png")


def test_pairing_names_every_problem(tmp_path: Path) -> None:
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    _gt(gt, "a_000000_000001")
    _gt(gt, "a_000000_000002")
    _gt(gt, "b_000000_000003", instances=False)
    pred.mkdir()
    (pred / "a_000000_000002_x.png").write_bytes(b"")
    (pred / "a_000000_000002_y.png").write_bytes(b"")
    pairing = pair_semantic(gt, pred)
    assert pairing.jobs == []
    assert [p.message.split(":")[0] for p in pairing.missing] == [
        "no prediction for image a_000000_000001"]
    messages = [p.message for p in pairing.problems]
    assert messages[0].startswith("2 predictions for image a_000000_000002 match"
                                  " a_000000_000002*.png")
    assert messages[1].startswith("no b_000000_000003_gtFine_instanceIds.png beside it")
    assert isinstance(pairing.error(), ConsistencyError)
    only_missing = pair_instance(gt, tmp_path / "pred")
    assert len(only_missing.missing) == 2
    assert isinstance(only_missing.error(), MissingPredictionError)
    assert pair_semantic(tmp_path / "nope", pred).problems[0].message == (
        "ground-truth folder not found")


# ------------------------------------------------------------------------ prediction lists


def test_prediction_list_problems_name_the_line(tmp_path: Path) -> None:
    root = tmp_path / "pred"
    root.mkdir()
    txt = root / "a_000000_000001_pred.txt"
    txt.write_text("\n".join([
        "m/1.png 26 0.9",  # fine
        "m/2.png 26",  # 2 fields
        "/abs/3.png 26 0.5",  # absolute
        "../4.png 26 0.5",  # leaves the folder
        "m/5.png car 0.5",  # label not an integer
        "m/6.png 99 0.5",  # label not in the table
        "m/7.png 26 nan",  # confidence not finite
        "",  # blank: skipped
        "m/8.png 24.0 0.25",  # an integral float label is fine
        "m/1.png 25 0.1",  # the same mask again: first position, last values
    ]) + "\n")
    listing = read_prediction_list(txt, root)
    assert [p.message for p in listing.problems] == [
        "line 2: expected 'MASK.png LABEL_ID CONFIDENCE' (3 fields), got 2: 'm/2.png 26'",
        "line 3: mask path '/abs/3.png' is absolute; expected a path relative to the text"
        " file's folder",
        f"line 4: mask path '../4.png' leaves the prediction folder {root}",
        "line 5: label id 'car' is not an integer",
        "line 6: label id 99 is not in the Cityscapes label table (0..33, -1)",
        "line 7: confidence 'nan' is not a finite number",
    ]
    assert all(p.file == str(txt) for p in listing.problems)
    assert [(ln.line, Path(ln.mask).name, ln.label_id, ln.score) for ln in listing.lines] == [
        (1, "1.png", 25, 0.1), (9, "8.png", 24, 0.25)]
    assert listing.duplicates == 1


def test_masks_of_every_kind(tmp_path: Path) -> None:
    m = np.zeros((4, 16), bool)
    m[1:3, 5:9] = True
    Image.fromarray(m.astype(np.uint8) * 255).save(tmp_path / "l.png")
    Image.fromarray(m).save(tmp_path / "one.png")
    pal = Image.fromarray(m.astype(np.uint8), mode="P")
    pal.putpalette([0, 0, 0, 0, 0, 1] + [9] * 762)  # index 1 is black after convert("L")
    pal.save(tmp_path / "p.png")
    mask, box = read_mask(tmp_path / "l.png")
    assert box == (1, 3, 5, 9)
    assert np.array_equal(mask != 0, m)
    mask, box = read_mask(tmp_path / "one.png")
    assert box is None
    assert np.array_equal(mask != 0, m)
    mask, _ = read_mask(tmp_path / "p.png")
    assert not mask.any()  # as the official convert("L") sees it
    Image.fromarray(np.zeros((4, 16), np.uint8)).save(tmp_path / "empty.png")
    assert read_mask(tmp_path / "empty.png")[1] == (-1, -1, -1, -1)
    with pytest.raises(FormatError, match="file not found"):
        read_mask(tmp_path / "missing.png")


# ------------------------------------------------------------------------ the PNG decoder


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _filtered(rows: np.ndarray, filters: list[int], bpp: int) -> bytes:
    """PNG filtering done the textbook way, one filter type per row."""
    out = bytearray()
    prev = np.zeros(rows.shape[1], np.int64)
    for row, f in zip(rows.astype(np.int64), filters, strict=True):
        left = np.r_[np.zeros(bpp, np.int64), row[:-bpp]]
        corner = np.r_[np.zeros(bpp, np.int64), prev[:-bpp]]
        if f == 4:
            p = left + prev - corner
            pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - corner)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, corner))
        else:
            pred = [0 * row, left, prev, (left + prev) // 2][f]
        out += bytes([f]) + ((row - pred) % 256).astype(np.uint8).tobytes()
        prev = row
    return bytes(out)


def _png(values: np.ndarray, filters: list[int]) -> bytes:
    depth = 16 if values.dtype == np.uint16 else 8
    h, w = values.shape
    rows = values.astype(">u2").view(np.uint8).reshape(h, -1) if depth == 16 else values
    ihdr = struct.pack(">IIBBBBB", w, h, depth, 0, 0, 0, 0)
    data = zlib.compress(_filtered(rows, filters, depth // 8))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data[:7])
            + _chunk(b"IDAT", data[7:]) + _chunk(b"IEND", b""))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("first", [0, 1, 2, 3, 4])  # the first row has no row above
def test_fast_decoder_reverses_every_filter_like_pillow(dtype: type, first: int) -> None:
    assert pngdecode.available()
    rng = np.random.default_rng(3)
    values = rng.integers(0, np.iinfo(dtype).max, size=(10, 7)).astype(dtype)
    data = _png(values, [first, 1, 2, 3, 4, 4, 3, 2, 1, 0])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), values)  # valid PNG
    decoded = pngdecode.decode_grayscale(data)
    assert decoded is not None
    assert decoded.dtype == values.dtype
    assert np.array_equal(decoded, values)


def test_fast_decoder_box_and_refusals(tmp_path: Path) -> None:
    values = np.zeros((6, 9), np.uint8)
    values[2, 3] = values[4, 6] = 1
    box = np.zeros(4, np.int64)
    assert np.array_equal(pngdecode.decode_grayscale(_png(values, [2] * 6), box=box), values)
    assert box.tolist() == [2, 5, 3, 7]
    assert pngdecode.decode_grayscale(_png(values, [0] * 6)[:-20]) is None  # truncated
    raw = zlib.compress(b"".join(bytes([5]) + row.tobytes() for row in values))  # type 5
    unknown_filter = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 9, 6, 8, 0,
                      0, 0, 0)) + _chunk(b"IDAT", raw) + _chunk(b"IEND", b""))
    assert pngdecode.decode_grayscale(unknown_filter) is None  # Pillow words the error
    rgb = io.BytesIO()
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(rgb, format="PNG")
    assert pngdecode.decode_grayscale(rgb.getvalue()) is None  # not grayscale: the fallback
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(FormatError, match="has 3 channels"):
        read_gray(tmp_path / "rgb.png")


def test_without_libdeflate_pillow_decodes_the_same(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.arange(300, dtype=np.uint16).reshape(15, 20) * 200
    Image.fromarray(values).save(tmp_path / "i.png")
    fast = read_label_ids(tmp_path / "i.png")
    monkeypatch.setattr(pngdecode, "deflate", None)
    assert not pngdecode.available()
    assert pngdecode.decode_grayscale((tmp_path / "i.png").read_bytes()) is None
    slow = read_label_ids(tmp_path / "i.png")
    assert slow.dtype == fast.dtype == np.uint16
    assert np.array_equal(slow, fast)
    assert np.array_equal(slow, values)
