"""``evaluate`` warns and scores, ``evaluate --strict`` refuses (exit 1), ``validate`` lists
the input with its file, first record and a hint (issue 9's policy, on the CLI)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from synth_coco import make_case

from benchmark_eval.cli import main


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_box_only_results_for_segm(tmp_path: Path) -> None:
    case = make_case(5)
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(case.gt))
    pred = tmp_path / "boxes.json"
    pred.write_text(json.dumps(case.results("bbox")))
    args = ["--gt", gt, "--pred", pred, "--workers", "1"]
    code, out, err = _run(["evaluate", "coco-segm", *args, "--quiet"])
    assert code == 0
    assert "Average Precision" in out
    assert "warning: [box-results-for-segm]" in err
    code, out, err = _run(["evaluate", "coco-segm", *args, "--strict"])
    assert code == 1
    assert out == ""
    assert f"{pred}: results[0]: [box-results-for-segm]" in err
    code, out, _ = _run(["validate", "coco-segm", *args])
    assert code == 1
    assert f"{pred}: results[0]: [box-results-for-segm]" in out
    assert "Hint: these look like box results: use coco-bbox" in out
