"""``io.labelmaps`` and the ``semantic`` workflow's checks: pairing, reading, every problem
named with its file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import benchmark_eval
from benchmark_eval.errors import (
    ConfigError,
    ConsistencyError,
    FormatError,
    MissingPredictionError,
)
from benchmark_eval.io.labelmaps import LabelMapPair, load_label_map, pair_label_maps
from benchmark_eval.io.png import write_png


def _maps(root: Path, maps: dict[str, np.ndarray]) -> Path:
    for name, a in maps.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".npy":
            np.save(path, a)
        else:
            write_png(path, a)
    return root


def _square(v: int, size: int = 4) -> np.ndarray:
    return np.full((size, size), v, np.uint8)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    gt = _maps(tmp_path / "gt", {"a.png": _square(0), "sub/b.png": _square(1),
                                 "c.npy": _square(2)})
    pred = _maps(tmp_path / "pred", {"a.png": _square(0), "sub/b.npy": _square(1),
                                     "c.png": _square(1)})
    return gt, pred


def test_pairs_by_relative_name_across_formats(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    pairing = pair_label_maps(gt, pred)
    assert pairing.missing == []
    assert pairing.problems == []
    assert [p.name for p in pairing.pairs] == ["a", "c", "sub/b"]
    assert pairing.pairs[2].pred == pred / "sub" / "b.npy"
    r = benchmark_eval.evaluate("semantic", gt=gt, pred=pred, num_classes=3)
    assert r.counts["images"] == 3
    assert r.confusion[:3, :3].tolist() == [[16, 0, 0], [0, 16, 0], [0, 16, 0]]


def test_missing_and_extra_predictions(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    (pred / "a.png").unlink()
    _maps(pred, {"zzz.png": _square(0)})
    pairing = pair_label_maps(gt, pred)
    assert [(p.file, p.message) for p in pairing.missing] == [
        (str(gt / "a.png"), "no prediction named 'a'")]
    assert [(p.file, p.message) for p in pairing.problems] == [
        (str(pred / "zzz.png"), "prediction 'zzz' has no ground truth")]
    with pytest.raises(ConsistencyError):
        benchmark_eval.evaluate("semantic", gt=gt, pred=pred, num_classes=3)
    (pred / "zzz.png").unlink()
    with pytest.raises(MissingPredictionError, match="no prediction named 'a'"):
        benchmark_eval.evaluate("semantic", gt=gt, pred=pred, num_classes=3)


def test_duplicate_names_and_missing_folders(tmp_path: Path) -> None:
    gt = _maps(tmp_path / "gt", {"a.png": _square(0), "a.npy": _square(0)})
    pairing = pair_label_maps(gt, tmp_path / "nope")
    messages = [p.message for p in pairing.problems]
    assert any("two gt maps named 'a'" in m for m in messages)
    assert "directory not found" in messages
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no gt label maps (*.png, *.npy) found" in [
        p.message for p in pair_label_maps(empty, gt).problems]


def test_list_file_names_and_file_pairs(folders: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = folders
    names = tmp_path / "val.txt"
    names.write_text("# validation images\nc\nsub/b.png\n\nmissing\n")
    pairing = pair_label_maps(gt, pred, list_file=names)
    assert [p.name for p in pairing.pairs] == ["c", "sub/b"]
    assert [p.message for p in pairing.problems] == ["line 5: no ground truth named 'missing'"]
    files = tmp_path / "pairs.txt"
    files.write_text("a.png c.png\nc.npy nothere.png\n")
    pairing = pair_label_maps(gt, pred, list_file=files)
    assert [(p.name, p.pred) for p in pairing.pairs] == [("a", pred / "c.png")]
    assert [p.file for p in pairing.missing] == [str(pred / "nothere.png")]


def test_in_memory_maps_and_loaders() -> None:
    calls = []

    def loader() -> np.ndarray:
        calls.append(1)
        return _square(1)

    r = benchmark_eval.evaluate("semantic", gt={"x": _square(1), "y": _square(0)},
                                pred={"x": loader, "y": _square(0)}, num_classes=2)
    assert calls == [1]
    assert r.metrics["mIoU"] == 1.0
    with pytest.raises(FormatError, match=r"<pred>\[x\]: got list, expected a numpy array"):
        benchmark_eval.evaluate("semantic", gt={"x": _square(1)}, pred={"x": [[1]]},
                                num_classes=2)


def test_load_label_map_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="file not found"):
        load_label_map(tmp_path / "none.npy", str(tmp_path / "none.npy"))
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not numpy")
    with pytest.raises(FormatError, match=r"bad\.npy: not a readable \.npy array"):
        load_label_map(bad, str(bad))
    assert load_label_map(lambda: _square(3), "<gt>[x]").tolist() == _square(3).tolist()


def _problem_files(problems: list[benchmark_eval.errors.Problem]) -> dict[str, str]:
    return {Path(p.file).name: p.message for p in problems}


def test_validate_lists_every_problem_with_its_file(tmp_path: Path) -> None:
    gt = _maps(tmp_path / "gt", {
        "ok.png": _square(1), "rgb.png": _square(0), "size.png": _square(0),
        "range.png": _square(7), "predrange.png": _square(0), "floaty.npy": _square(0),
        "nopred.png": _square(0)})
    pred = _maps(tmp_path / "pred", {
        "ok.png": _square(1), "size.png": _square(0, 5), "range.png": _square(0),
        "predrange.png": _square(3), "floaty.npy": _square(0).astype(np.float32)})
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(pred / "rgb.png")
    problems = benchmark_eval.validate("semantic", gt=gt, pred=pred, num_classes=3)
    found = _problem_files(problems)
    assert found["nopred.png"] == "no prediction named 'nopred'"
    assert found["rgb.png"] == "has 3 channels (RGB), expected a single-channel label map"
    assert found["size.png"] == (f"prediction is 5x5 (WxH) but the ground truth is 4x4"
                                 f" ({gt / 'size.png'})")
    assert found["range.png"].startswith("labels outside [0, 3): 7 (16 px)")
    assert Path(next(p.file for p in problems if "7 (16 px)" in p.message)).parent == gt
    assert found["predrange.png"].startswith("predicted labels outside [0, 3): 3 (16 px)")
    assert found["floaty.npy"] == "has dtype float32, expected integer labels"
    assert "ok.png" not in found
    assert len(problems) == 6
    # evaluate stops at the first image with a problem, with the same message
    with pytest.raises(MissingPredictionError):
        benchmark_eval.evaluate("semantic", gt=gt, pred=pred, num_classes=3)
    (gt / "nopred.png").unlink()
    with pytest.raises(FormatError, match=r"floaty\.npy: has dtype float32"):
        benchmark_eval.evaluate("semantic", gt=gt, pred=pred, num_classes=3)


def test_validate_in_parallel_finds_the_same(tmp_path: Path) -> None:
    maps = {f"{i:03d}.png": _square(i % 4) for i in range(70)}
    gt = _maps(tmp_path / "gt", maps)
    pred = _maps(tmp_path / "pred", maps)
    problems = benchmark_eval.validate("semantic", gt=gt, pred=pred, num_classes=3, workers=2)
    assert sorted(Path(p.file).name for p in problems) == [
        f"{i:03d}.png" for i in range(70) if i % 4 == 3 for _ in range(2)]
    assert problems == benchmark_eval.validate("semantic", gt=gt, pred=pred, num_classes=3)


def test_params_errors_are_config_errors(folders: tuple[Path, Path]) -> None:
    gt, pred = folders
    with pytest.raises(ConfigError, match="ignore_index 1 is a class index"):
        benchmark_eval.evaluate("semantic", gt=gt, pred=pred, num_classes=3, ignore_index=1)
    with pytest.raises(ConfigError, match="Extra inputs"):
        benchmark_eval.evaluate("semantic", gt=gt, pred=pred, num_classes=3, classes=3)


def test_pair_where_names_files_or_keys(tmp_path: Path) -> None:
    pair = LabelMapPair("x", tmp_path / "g.png", _square(0))
    assert pair.where("gt") == str(tmp_path / "g.png")
    assert pair.where("pred") == "<pred>[x]"
