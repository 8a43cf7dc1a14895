"""Cityscapes panoptic: our ``csCreatePanopticImgs`` against cityscapesScripts 2.3.0's (JSON and
every PNG), and ``cityscapes-panoptic`` against its ``evalPanopticSemanticLabeling``
(``pq_compute_single_core`` + ``average_pq``) run live."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cityscapes_generators import THINGS, make_case, write_case
from cityscapesscripts.preparation.createPanopticImgs import convert2panoptic
from official_panoptic import run_official
from PIL import Image

import benchmark_eval
from benchmark_eval.convert_cityscapes import (
    convert_cityscapes_to_panoptic,
    panoptic_segments,
)
from benchmark_eval.io.png import write_png
from benchmark_eval.masks.panoptic import ids_to_rgb

TOL = 1e-12


def _official_conversion(gt: Path, out: Path, train_ids: bool) -> dict[str, Any]:
    """``convert2panoptic`` on ``<gt parent>/val``; returns its JSON."""
    out.mkdir()
    with contextlib.redirect_stdout(io.StringIO()):
        convert2panoptic(str(gt.parent), str(out), train_ids, ["val"])
    suffix = "_trainId" if train_ids else ""
    return json.loads((out / f"cityscapes_panoptic_val{suffix}.json").read_text())


@pytest.mark.parametrize(("seed", "ids"), [(0, "labelIds"), (1, "trainIds")])
def test_conversion_matches_cs_create_panoptic_imgs(seed: int, ids: str, tmp_path: Path
                                                    ) -> None:
    gt, _, _ = write_case(make_case(seed), tmp_path)
    ref = _official_conversion(gt, tmp_path / "official", ids == "trainIds")
    done = convert_cityscapes_to_panoptic(gt, tmp_path / "ours.json", category_ids=ids)
    ours = json.loads((tmp_path / "ours.json").read_text())
    assert ours == ref
    suffix = "_trainId" if ids == "trainIds" else ""
    for ann in ref["annotations"]:
        theirs = np.asarray(Image.open(tmp_path / "official" /
                                       f"cityscapes_panoptic_val{suffix}" / ann["file_name"]))
        mine = np.asarray(Image.open(Path(done["png_dir"]) / ann["file_name"]))
        assert np.array_equal(mine, theirs), ann["file_name"]
    assert any(s["iscrowd"] for a in ours["annotations"] for s in a["segments_info"])


def _predictions(scenes: list[Any], folder: Path, seed: int) -> dict[str, Any]:
    """Panoptic predictions: the instance map moved, some objects relabelled or merged, a
    VOID corner; segment ids are the instance values."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    annotations = []
    for s in scenes:
        pred = np.roll(s.instances, int(rng.integers(1, 3)), axis=1).astype(np.int64)
        for v in np.unique(pred).tolist():
            if v >= 1000 and rng.random() < 0.25:
                pred[pred == v] = int(rng.choice(THINGS)) * 1000 + 900 + int(rng.integers(9))
        pred[:3, :6] = 0
        id_map, info = panoptic_segments(pred)
        name = f"{s.key}_pred.png"
        write_png(folder / name, ids_to_rgb(id_map))
        annotations.append({"image_id": s.key, "file_name": name, "segments_info": [
            {"id": d["id"], "category_id": d["category_id"]} for d in info]})
    return {"annotations": annotations}


@pytest.mark.parametrize("seed", range(3))
def test_pq_matches_eval_panoptic_semantic_labeling(seed: int, tmp_path: Path) -> None:
    scenes = make_case(seed)
    gt, _, _ = write_case(scenes, tmp_path)
    gt_json = tmp_path / "cityscapes_panoptic_val.json"
    convert_cityscapes_to_panoptic(gt, gt_json)
    pred = _predictions(scenes, tmp_path / "pred", seed)
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    ref = run_official(gt_json, tmp_path / "pred.json", pred_dir=tmp_path / "pred").average_pq()
    ours = benchmark_eval.evaluate("cityscapes-panoptic", gt=gt_json, pred=tmp_path / "pred.json",
                                   pred_dir=tmp_path / "pred")
    assert ours.protocol == "cityscapes-panoptic"
    for group, suffix in (("All", ""), ("Things", "_th"), ("Stuff", "_st")):
        for key in ("pq", "sq", "rq"):
            assert abs(ours.metrics[key.upper() + suffix] - ref[group][key]) <= TOL
        assert ours.metrics["N" + suffix] == ref[group]["n"]
    seen = ours.state.tp + ours.state.fp + ours.state.fn > 0
    for cid, values in ref["per_class"].items():
        row = int(np.flatnonzero(ours.state.category_ids == cid)[0])
        for key in ("pq", "sq", "rq"):
            mine = ours.per_class[cid][key.upper()]
            # the official table lists 0.0 for categories never seen; ours null
            assert (mine is None and not seen[row] and values[key] == 0.0) or (
                mine is not None and abs(mine - values[key]) <= TOL)
    assert 0 < ours.metrics["PQ"] < 1
