"""Run the reference panoptic evaluator on COCO panoptic files, live.

The reference is cityscapesScripts 2.3.0 ``evaluation/evalPanopticSemanticLabeling.py``, which
carries panopticapi's ``pq_compute_single_core`` and ``PQStat`` unchanged (compared line by
line in ``docs/protocols/panoptic.md``). It is driven single-core on files the test wrote, its
progress printing silenced; its maths is used as shipped, without any shim (this module never
calls ``np.in1d``, which numpy 2.4 removed). Where it raises ``ZeroDivisionError`` (a group
without categories) the group is reported as ``None``. :meth:`OfficialPanoptic.average_pq`
gives the same statistic summarised by cityscapesScripts' own ``average_pq``.
"""

from __future__ import annotations

__all__ = ["OfficialPanoptic", "run_official"]

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from official_cityscapes import cityscapes_module

_official = cityscapes_module("evalPanopticSemanticLabeling")

GROUPS = (("", None), ("_th", True), ("_st", False))


@dataclass(frozen=True)
class OfficialPanoptic:
    """What the reference computed.

    Attributes:
        metrics: ``PQ SQ RQ N`` with ``_th`` / ``_st`` suffixes; ``None`` where it raised
            ``ZeroDivisionError`` (N then 0).
        per_class: Category id -> ``{"PQ", "SQ", "RQ"}`` as ``pq_average(isthing=None)``
            returns them (0.0 for categories without segments).
        stats: Category id -> ``(iou, tp, fp, fn)`` from its ``PQStat``.
    """

    metrics: dict[str, Any]
    per_class: dict[int, dict[str, float]]
    stats: dict[int, tuple[float, int, int, int]]
    pq_stat: Any = field(repr=False)
    categories: dict[int, dict[str, Any]] = field(repr=False)

    def average_pq(self) -> dict[str, Any]:
        """cityscapesScripts' ``average_pq`` of the statistic (``All`` / ``Things`` /
        ``Stuff`` with ``pq sq rq n``, and ``per_class``)."""
        result: dict[str, Any] = _official.average_pq(self.pq_stat, self.categories)
        return result


def run_official(gt_json: Path, pred_json: Path, gt_dir: Path | None = None,
                 pred_dir: Path | None = None) -> OfficialPanoptic:
    """``pq_compute`` on one process: the official pairing, ``pq_compute_single_core``,
    ``pq_average`` per group."""
    gt = json.loads(gt_json.read_text())
    pred = json.loads(pred_json.read_text())
    categories = {c["id"]: c for c in gt["categories"]}
    by_image = {a["image_id"]: a for a in pred["annotations"]}
    matched = [(a, by_image[a["image_id"]]) for a in gt["annotations"]]
    gt_dir = gt_dir or gt_json.with_suffix("")
    pred_dir = pred_dir or pred_json.with_suffix("")
    with contextlib.redirect_stdout(io.StringIO()):
        stat = _official.pq_compute_single_core(0, matched, str(gt_dir), str(pred_dir),
                                                categories)
    metrics: dict[str, Any] = {}
    per_class: dict[int, dict[str, float]] = {}
    for suffix, isthing in GROUPS:
        try:
            res, pc = stat.pq_average(categories, isthing=isthing)
        except ZeroDivisionError:
            metrics.update({f"PQ{suffix}": None, f"SQ{suffix}": None, f"RQ{suffix}": None,
                            f"N{suffix}": 0})
            continue
        metrics.update({f"PQ{suffix}": res["pq"], f"SQ{suffix}": res["sq"],
                        f"RQ{suffix}": res["rq"], f"N{suffix}": res["n"]})
        if isthing is None:
            per_class = {int(k): {"PQ": v["pq"], "SQ": v["sq"], "RQ": v["rq"]}
                         for k, v in pc.items()}
    stats = {int(k): (float(v.iou), int(v.tp), int(v.fp), int(v.fn))
             for k, v in stat.pq_per_cat.items()}
    return OfficialPanoptic(metrics=metrics, per_class=per_class, stats=stats, pq_stat=stat,
                            categories=categories)
