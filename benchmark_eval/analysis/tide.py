"""TIDE error breakdown: how much AP each kind of detection error costs.

Reproduces tidecv 1.0.1 (``TIDE.evaluate`` + ``get_main_errors`` / ``get_special_errors``
with its defaults: foreground IoU 0.5, background IoU 0.1, 100 detections per image) on
the common schema. Each main error type is fixed on its own (not progressively) and the
AP at IoU 0.5 recomputed; its dAP is the gain, floored at 0. See ``docs/analysis.md``.

Example:
    >>> from benchmark_eval.analysis import tide
    >>> r = tide("gt.json", "bbox_results.json", iou_type="bbox")  # doctest: +SKIP
    >>> r.to_report()["main"]["Loc"]  # doctest: +SKIP
"""

from __future__ import annotations

__all__ = ["MAIN_ERRORS", "SPECIAL_ERRORS", "TideResult", "tide", "tide_breakdown"]

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from benchmark_eval.analysis.tide_ap import class_ap, mean_ap, visiting_key
from benchmark_eval.analysis.tide_lvis import LVIS_MAX_DETS, lvis_class_regions
from benchmark_eval.analysis.tide_match import (
    BKG,
    BOTH,
    CLS,
    DUPE,
    FP,
    IGNORED,
    LOC,
    MAX_DETS,
    TP,
    TideDetections,
    classify,
)
from benchmark_eval.errors import ConfigError, ConsistencyError, Notice
from benchmark_eval.schema import InstanceDataset, Predictions

MAIN_ERRORS = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")  # tidecv TIDE._error_types
SPECIAL_ERRORS = ("FalsePos", "FalseNeg")  # tidecv TIDE._special_error_types
_CODES = {"Cls": CLS, "Loc": LOC, "Both": BOTH, "Dupe": DUPE, "Bkg": BKG}
TideIouType = Literal["bbox", "segm"]


@dataclass(frozen=True)
class TideResult:
    """A TIDE breakdown, in tidecv's units (AP points, 0-100).

    Attributes:
        ap: tidecv's own AP at IoU 0.5 (``TIDERun.ap``), in points.
        main: dAP per main error type, keys :data:`MAIN_ERRORS`; each >= 0.
        special: dAP of perfect precision (``FalsePos``) and perfect recall
            (``FalseNeg``), keys :data:`SPECIAL_ERRORS`.
        counts: Number of errors of each main type (tidecv ``count_errors``).
        iou_type: ``"bbox"`` or ``"segm"``.
    """

    ap: float
    main: dict[str, float]
    special: dict[str, float]
    counts: dict[str, int]
    iou_type: str = "bbox"

    def to_report(self) -> dict[str, dict[str, float]]:
        """The report's ``"tide"`` entry: ``{"main": {...}, "special": {...}}``."""
        return {"main": dict(self.main), "special": dict(self.special)}

    def render(self) -> str:
        """The summary tables tidecv's ``TIDE.summarize`` prints (its mode is "mask" for
        segm)."""
        mode = "mask" if self.iou_type == "segm" else self.iou_type
        title = f"{mode} AP @ 50: {self.ap:.2f}"
        main = _table("Main Errors", ["Type", *MAIN_ERRORS],
                      [" dAP", *(f"{self.main[k]:6.2f}" for k in MAIN_ERRORS)])
        special = _table("Special Error", ["Type", *SPECIAL_ERRORS],
                         [" dAP", *(f"{self.special[k]:6.2f}" for k in SPECIAL_ERRORS)])
        return f"{title}\n\n{main}\n\n{special}\n"

    def __str__(self) -> str:
        """Same as :meth:`render`."""
        return self.render()


def _table(title: str, *rows: list[str]) -> str:
    """Right-aligned columns between ``=`` rules, the header underlined, title centred."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    rule = "--" + "---".join("-" * w for w in widths) + "-"
    lines = [" " * ((len(rule) - len(title)) // 2) + title, rule.replace("-", "=")]
    for n, row in enumerate(rows):
        lines.append("  " + "   ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                     + "  ")
        if n == 0:
            lines.append(rule)
    lines.append(rule.replace("-", "="))
    return "\n".join(lines)


def _records(d: TideDetections, fix: int | None, rank: np.ndarray, *,
             perfect_scores: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The AP records tidecv's ``fix_errors`` rebuilds when errors of type ``fix`` are fixed.

    Errors come first (visiting order), each as it was (a false positive; nothing for an
    ignored detection) unless it is of type ``fix``: then a fixable localisation /
    classification error becomes a TP of its GT's class and any other is dropped. The true
    positives follow, so on equal scores the error records sort first. With
    ``perfect_scores`` (``FalsePositiveError.fix``) TPs score 1 and FPs 0.

    Args:
        rank: Dense rank of each detection's score, best first.

    Returns:
        ``(class, key, tp)`` per record (``key``: :func:`class_ap`'s visiting order; its
        insertion part is below ``n`` for error records).
    """
    n = len(d.det_score)
    fixed = (d.det_error == fix) & (d.det_fix_class >= 0)
    kept = ((d.det_outcome == FP) & (d.det_error != fix)) | fixed
    tps = d.det_outcome == TP
    cls = np.r_[np.where(fixed, d.det_fix_class, d.det_class)[kept], d.det_class[tps]]
    hit = np.r_[fixed[kept], np.ones(int(tps.sum()), dtype=bool)]
    inserted = np.r_[np.flatnonzero(kept), n + np.flatnonzero(tps)]
    score_rank = np.where(hit, 0, 1) if perfect_scores else np.r_[rank[kept], rank[tps]]
    return cls, score_rank * (2 * n) + inserted, hit


def _first_seen(seq: np.ndarray) -> np.ndarray:
    """The distinct values of ``seq`` in order of first appearance."""
    first = np.full(int(seq.max(initial=-1)) + 1, len(seq), dtype=np.int64)
    np.minimum.at(first, seq, np.arange(len(seq)))
    seen = np.flatnonzero(first < len(seq))
    return seen[np.argsort(first[seen])]


def _class_order(d: TideDetections, pushed: np.ndarray) -> np.ndarray:
    """Classes in the order tidecv's per-class dict first sees them (its mean sums in it).

    Per image: the classes of its non-crowd GT (annotation order), then of its recorded
    detections (visiting order).
    """
    gt_image, det_image = d.gt_image, d.det_image[pushed]
    image = np.r_[gt_image, det_image]
    phase = np.r_[np.zeros(len(gt_image), np.int64), np.ones(len(det_image), np.int64)]
    seq = np.r_[np.arange(len(gt_image)), np.flatnonzero(pushed)]
    cls = np.r_[d.gt_class, d.det_class[pushed]]
    return _first_seen(cls[np.lexsort((seq, phase, image))])


def tide_breakdown(gt: InstanceDataset, preds: Predictions, *,
                   iou_type: TideIouType = "bbox", max_dets: int = MAX_DETS,
                   crowd_regions: bool = True, class_regions: np.ndarray | None = None
                   ) -> TideResult:
    """TIDE breakdown of loaded ground truth and detections (pure; no file IO).

    Args:
        gt: Ground truth with boxes (``"bbox"``) or masks (``"segm"``).
        preds: Detections on ``gt``'s images.
        iou_type: Overlap used for matching.
        max_dets: Detections kept per image by score (tidecv's COCO loader: 100).
        crowd_regions: Crowd GT are ignore regions (COCO), not GT; False for LVIS.
        class_regions: Per detection, a whole-image ignore region of its class covers it
            (LVIS: :func:`~benchmark_eval.analysis.tide_lvis.lvis_class_regions`).

    Returns:
        The dAP of every error type. NaN where tidecv would divide by zero (no class with
        GT or detections left).
    """
    d = classify(gt, preds, iou_type, max_dets=max_dets, crowd_regions=crowd_regions,
                 class_regions=class_regions)
    num_gt = np.bincount(d.gt_class, minlength=len(d.class_ids))
    pushed = d.det_outcome != IGNORED
    order = _class_order(d, pushed)
    n = len(d.det_score)
    key = visiting_key(d.det_score, np.arange(n))
    rank = key // max(n, 1)
    base = mean_ap(*class_ap(d.det_class[pushed], key[pushed], d.det_outcome[pushed] == TP,
                             num_gt), order)

    def fixed_ap(fix: int | None, gt_count: np.ndarray = num_gt, **kw: bool) -> float:
        cls, rec_key, hit = _records(d, fix, rank, **kw)
        # the rebuilt dict sees the classes of the error records first, then the others
        first = _first_seen(cls[rec_key % (2 * max(n, 1)) < n])
        rebuilt = np.r_[first, order[~np.isin(order, first)]]
        return mean_ap(*class_ap(cls, rec_key, hit, gt_count), rebuilt)

    main = {k: max(fixed_ap(code) - base, 0.0) for k, code in _CODES.items()}
    missed = np.bincount(d.gt_class[d.gt_missed], minlength=len(num_gt))
    main["Miss"] = max(fixed_ap(None, num_gt - missed) - base, 0.0)
    false_neg = np.bincount(d.gt_class[~d.gt_used], minlength=len(num_gt))
    special = {"FalsePos": fixed_ap(None, perfect_scores=True) - base,
               "FalseNeg": fixed_ap(None, num_gt - false_neg) - base}
    counts = {k: int((d.det_error == code).sum()) for k, code in _CODES.items()}
    counts["Miss"] = int(d.gt_missed.sum())
    return TideResult(ap=base, main=main, special=special, counts=counts, iou_type=iou_type)


def tide(gt: Any, pred: Any, *, iou_type: TideIouType = "bbox",
         gt_format: Literal["coco", "lvis"] = "coco") -> TideResult:
    """TIDE breakdown from the inputs of ``evaluate("coco-bbox" | "coco-segm", ...)``.

    Args:
        gt: COCO (or LVIS) ground-truth JSON path, or the loaded dict.
        pred: COCO results JSON path, or the loaded list.
        iou_type: ``"bbox"`` (boxes) or ``"segm"`` (masks).
        gt_format: ``"coco"`` as tidecv's ``datasets.COCO`` reads it, or ``"lvis"`` as its
            ``datasets.LVIS`` does (the inputs of ``evaluate("lvis-bbox" | "lvis-segm")``):
            300 detections per image, no crowd regions, and the detections of a category
            neither annotated nor listed negative in an image, or listed not exhaustive,
            are ignored when unmatched.

    Raises:
        ConfigError: ``iou_type`` or ``gt_format`` is unknown.
        InputError: The files fail the checks ``evaluate`` applies.
    """
    if iou_type not in ("bbox", "segm"):
        raise ConfigError(f"TIDE iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    if gt_format not in ("coco", "lvis"):
        raise ConfigError(f"TIDE gt_format must be 'coco' or 'lvis', got {gt_format!r}")
    # the loaders are imported here only, so the analysis layer stays free of file IO
    from benchmark_eval.io.coco_gt import load_coco_ground_truth
    from benchmark_eval.io.coco_results import load_coco_results
    from benchmark_eval.io.lvis import load_lvis_ground_truth

    boxes, masks = iou_type == "bbox", iou_type == "segm"
    if gt_format == "coco":
        dataset, _ = load_coco_ground_truth(gt, boxes=boxes, masks=masks)
        preds = _known_categories(*load_coco_results(pred, dataset, boxes=boxes, masks=masks))
        return tide_breakdown(dataset, preds, iou_type=iou_type)
    dataset, fed, _, _ = load_lvis_ground_truth(gt, boxes=boxes, masks=masks)
    preds = _known_categories(*load_coco_results(pred, dataset, boxes=boxes, masks=masks))
    return tide_breakdown(dataset, preds, iou_type=iou_type, max_dets=LVIS_MAX_DETS,
                          crowd_regions=False,
                          class_regions=lvis_class_regions(dataset, fed, preds))


def _known_categories(preds: Predictions, notices: list[Notice]) -> Predictions:
    """``preds``, refusing detections of a category the GT does not list (tidecv scores
    them as an AP-0 class; ``evaluate`` drops them as pycocotools does, with a notice)."""
    unknown = [n.problem() for n in notices if n.code == "result-category-unknown"]
    if unknown:
        raise ConsistencyError(unknown)
    return preds
