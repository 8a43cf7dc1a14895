"""panopticapi's ``pq_compute`` on benchmark_eval's ``coco-panoptic`` protocol."""

from __future__ import annotations

__all__ = ["pq_compute"]

import time
from pathlib import Path
from typing import Any

from benchmark_eval.report.panoptic import PanopticResult
from benchmark_eval.workflows import WORKFLOWS

_GROUPS = (("All", ""), ("Things", "_th"), ("Stuff", "_st"))


def pq_compute(gt_json_file: str | Path, pred_json_file: str | Path,
               gt_folder: str | Path | None = None,
               pred_folder: str | Path | None = None) -> dict[str, Any]:
    """panopticapi ``evaluation.pq_compute``: the PNG folders default to the JSON paths
    without ``.json``; returns ``{"All" | "Things" | "Stuff": {"pq", "sq", "rq", "n"},
    "per_class": {category id: {"pq", "sq", "rq"}}}`` (fractions; a category without
    segments gets 0.0, as ``pq_average`` gives it) and prints panopticapi's table.

    Where panopticapi divides by zero (a group without categories) the group's values are
    ``None`` instead of an exception.
    """
    tic = time.time()
    result: PanopticResult = WORKFLOWS["coco-panoptic"].evaluate(  # type: ignore[assignment]
        gt=gt_json_file, pred=pred_json_file, gt_dir=gt_folder, pred_dir=pred_folder)
    m = result.metrics
    out: dict[str, Any] = {
        name: {"pq": m[f"PQ{s}"], "sq": m[f"SQ{s}"], "rq": m[f"RQ{s}"], "n": m[f"N{s}"]}
        for name, s in _GROUPS}
    out["per_class"] = {cid: {k.lower(): (0.0 if v is None else v) for k, v in d.items()}
                        for cid, d in result.per_class.items()}
    for line in result.summary_lines():
        print(line)
    print(f"Time elapsed: {time.time() - tic:0.2f} seconds")
    return out
