"""Protocol ``medical``: per-label Dice, IoU, HD, HD95, ASSD and NSD of 3-D label volumes.

Reproduces, on the same per-case rows (docs/protocols/medical.md):

* nnU-Net v2 2.8 ``nnunetv2/evaluation/evaluate_predictions.py`` (``compute_metrics``,
  ``compute_metrics_on_folder``): TP / FP / FN / TN with the ignore label's voxels left
  out, Dice ``2TP / (2TP + FP + FN)`` and IoU NaN when ``TP + FP + FN == 0``, ``nanmean``
  per label, ``foreground_mean`` the plain mean of the label means;
* MedPy 0.5.2 ``medpy/metric/binary.py`` ``dc``, ``hd``, ``hd95``, ``assd`` with
  ``voxelspacing`` (:mod:`benchmark_eval.masks.surface`);
* MONAI 1.6 ``DiceMetric`` (NaN when the reference is empty, ``ignore_empty=True``),
  ``HausdorffDistanceMetric(percentile=95)`` (max of the directed percentiles; inf when one
  side is empty), ``SurfaceDistanceMetric(symmetric=True)`` and ``SurfaceDiceMetric``
  (surface voxels within τ over all surface voxels; NaN when both are empty).

The three ``empty_rule`` s differ only on empty references / predictions and on HD95; every
rule is computed, the chosen one is reported as ``metrics``, and disagreements are noticed.
"""

from __future__ import annotations

__all__ = ["METRIC_KEYS", "PER_CASE_KEYS", "LabelProblem", "MedicalMetrics", "RuleValues",
           "case_state", "compute", "medical_notices"]

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.masks.runs import PairRuns
from benchmark_eval.masks.surface import (
    EMPTY,
    Box,
    cropped_surface_stats,
    label_boxes,
    union_box,
)
from benchmark_eval.protocols.medical_state import (
    EMPTY_RULES,
    EmptyRule,
    MedicalParams,
    MedicalState,
)

METRIC_KEYS = ("Dice", "IoU", "HD", "HD95", "ASSD", "NSD")  # per label: mean over cases
PER_CASE_KEYS = (*METRIC_KEYS, "TP", "FP", "FN")
_MAX_VALUES_LISTED = 10
# MONAI gives every surface voxel distance inf when the other side is empty; HD (max) and
# ASSD (mean) are then inf, but HD95's torch.quantile interpolates inf + w * (inf - inf): NaN.
MONAI_HD95_ONE_EMPTY = float("nan")


class LabelProblem(NamedTuple):
    """A volume holding values outside the label list: ``side`` is ``"gt"`` or ``"pred"``."""

    side: str
    message: str


class _Pairs:
    """Distinct ``(gt value, pred value)`` pairs, their voxel counts, and label boxes.

    8-bit volumes are run-length encoded once (:class:`~benchmark_eval.masks.runs.PairRuns`:
    counts and boxes from the runs); wider values go through ``np.unique`` and
    ``scipy.ndimage.find_objects``.
    """

    def __init__(self, gt: np.ndarray, pred: np.ndarray, top: int) -> None:
        self.shape = gt.shape
        self.runs: PairRuns | None = None
        if _fits_uint8(gt) and _fits_uint8(pred):
            self.runs = PairRuns.of(gt.astype(np.uint8, copy=False),
                                    pred.astype(np.uint8, copy=False))
            self.gvals, self.pvals, self.counts = self.runs.pair_counts()
            return
        gv, gi = np.unique(gt, return_inverse=True)
        pv, pi = np.unique(pred, return_inverse=True)
        packed, counts = np.unique(gi.reshape(-1).astype(np.int64) * len(pv)
                                   + pi.reshape(-1), return_counts=True)
        self.gvals, self.pvals = gv[packed // len(pv)], pv[packed % len(pv)]
        self.counts = counts.astype(np.int64)
        self._boxes = (gt, pred, top)

    def box(self, members: Sequence[int]) -> Box | None:
        """The union box of ``members`` in both volumes, with the surface margin."""
        if self.runs is not None:
            found = [self.runs.box(members, "gt"), self.runs.box(members, "pred")]
        else:
            gt, pred, top = self._boxes
            boxes = (label_boxes(gt, top), label_boxes(pred, top))
            found = [b[v - 1] for b in boxes for v in members]
        return union_box(found, self.shape)


def _fits_uint8(a: np.ndarray) -> bool:
    return a.dtype == np.uint8 or a.size == 0 or (int(a.min()) >= 0 and int(a.max()) < 256)


def _value_problems(values: np.ndarray, counts: np.ndarray, allowed: Sequence[int],
                    side: str) -> list[LabelProblem]:
    bad = ~np.isin(values, np.asarray(allowed))
    if not bad.any():
        return []
    found, inverse = np.unique(values[bad], return_inverse=True)
    voxels = np.bincount(inverse, weights=counts[bad]).astype(np.int64)
    shown = ", ".join(f"{int(v)} ({int(n)} voxels)" for v, n in zip(
        found[:_MAX_VALUES_LISTED], voxels[:_MAX_VALUES_LISTED], strict=True))
    more = f" and {len(found) - _MAX_VALUES_LISTED} more" if len(
        found) > _MAX_VALUES_LISTED else ""
    what = "GT" if side == "gt" else "prediction"
    return [LabelProblem(side, f"{what} holds values outside the label list: {shown}{more};"
                               f" expected {list(allowed)}")]


def case_state(name: str, gt: np.ndarray, pred: np.ndarray, spacing: Sequence[float],
               params: MedicalParams) -> MedicalState | list[LabelProblem]:
    """One case's row: counts and surface statistics of every label, or the problems.

    Args:
        name: Case name.
        gt: Reference label volume, integer, any number of axes.
        pred: Predicted label volume, same shape (the adapter checked the grid).
        spacing: Voxel size per axis, mm.
    """
    allowed = params.allowed_values()
    pairs = _Pairs(gt, pred, max(allowed))
    gvals, pvals, counts = pairs.gvals, pairs.pvals, pairs.counts
    problems = (_value_problems(gvals, counts, allowed, "gt")
                + _value_problems(pvals, counts, allowed, "pred"))
    if problems:
        return problems
    keep = gvals != (-1 if params.ignore_label is None else params.ignore_label)
    row: dict[str, list[float]] = {n: [] for n in (*MedicalState.COUNTS,
                                                   *MedicalState.DISTANCES)}
    for members, tol in zip(params.classes(), params.tolerances(), strict=True):
        in_g, in_p = np.isin(gvals, members), np.isin(pvals, members)
        for key, sel in (("tp", in_g & in_p), ("fp", ~in_g & in_p), ("fn", in_g & ~in_p),
                         ("tn", ~in_g & ~in_p)):
            row[key].append(int(counts[sel & keep].sum()))
        box = pairs.box(members)
        stats = EMPTY
        if box is not None:
            g, p = gt[box], pred[box]
            ref, hit = np.isin(g, members), np.isin(p, members)
            if params.ignore_label is not None:
                hit &= g != params.ignore_label
            stats = cropped_surface_stats(hit, ref, spacing, tol)
        for key, value in (("hd", stats.hd), ("hd95", stats.hd95),
                           ("hd95_directed", stats.hd95_directed), ("assd", stats.assd),
                           ("surface_pred", stats.n_surface_pred),
                           ("surface_ref", stats.n_surface_ref),
                           ("close_pred", stats.close_pred), ("close_ref", stats.close_ref)):
            row[key].append(value)
    arrays = {k: np.asarray([v], dtype=np.int64 if k in MedicalState.COUNTS else np.float64)
              for k, v in row.items()}
    return MedicalState(case_names=(name,), keys=params.keys(),
                        fingerprint=params.fingerprint(), **arrays)


@dataclass(frozen=True)
class RuleValues:
    """Every metric under one empty-case rule.

    Attributes:
        rule: The rule's name.
        per_case: Metric -> ``(N, K)`` float64 values (NaN undefined, inf possible under
            ``monai``).
        mean: Metric -> ``(K,)`` ``nanmean`` over cases (NaN if no case defines it).
        median: Metric -> ``(K,)`` ``nanmedian`` over cases.
        foreground_mean: Metric -> mean of the label means (nnU-Net's ``foreground_mean``:
            NaN if a label's mean is).
    """

    rule: EmptyRule
    per_case: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]
    median: dict[str, np.ndarray]
    foreground_mean: dict[str, float]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den


def _rule_values(state: MedicalState, rule: EmptyRule) -> dict[str, np.ndarray]:
    tp, fp, fn = (a.astype(np.float64) for a in (state.tp, state.fp, state.fn))
    ref_empty, pred_empty = state.n_ref == 0, state.n_pred == 0
    both, one = ref_empty & pred_empty, ref_empty ^ pred_empty
    dice, iou = _ratio(2 * tp, 2 * tp + fp + fn), _ratio(tp, tp + fp + fn)  # NaN if both
    nsd = _ratio((state.close_pred + state.close_ref).astype(np.float64),
                 (state.surface_pred + state.surface_ref).astype(np.float64))
    hd95 = state.hd95_directed if rule == "monai" else state.hd95
    dist = {"HD": state.hd.copy(), "HD95": hd95.copy(), "ASSD": state.assd.copy()}
    if rule == "monai":  # DiceMetric(ignore_empty=True); inf distances when one side empty
        dice[ref_empty] = iou[ref_empty] = np.nan
        dist["HD"][one] = dist["ASSD"][one] = np.inf
        dist["HD95"][one] = MONAI_HD95_ONE_EMPTY
    elif rule == "empty_is_one":  # both empty: a perfect prediction
        dice[both] = iou[both] = nsd[both] = 1.0
        for d in dist.values():
            d[both] = 0.0
    return {"Dice": dice, "IoU": iou, **dist, "NSD": nsd}


def _nan_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = values.shape[1]
    if values.shape[0] == 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    with warnings.catch_warnings():  # all-NaN columns: NaN, as nnU-Net's nanmean
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0), np.nanmedian(values, axis=0)


@dataclass(frozen=True)
class MedicalMetrics:
    """Every rule's values of one state (rows sorted by case name).

    Attributes:
        case_names: The cases, sorted.
        keys: The label keys.
        rules: Rule name -> its :class:`RuleValues`.
        rule: The chosen rule.
        counts: ``TP``, ``FP``, ``FN``, ``TN``, ``n_ref``, ``n_pred`` -> ``(N, K)`` int64.
    """

    case_names: tuple[str, ...]
    keys: tuple[str, ...]
    rules: dict[str, RuleValues]
    rule: EmptyRule
    counts: dict[str, np.ndarray]

    @property
    def chosen(self) -> RuleValues:
        """The values of :attr:`rule`."""
        return self.rules[self.rule]


def _by_name(state: MedicalState) -> MedicalState:
    """The rows sorted by case name (the order shards were merged in does not matter)."""
    order = sorted(range(len(state.case_names)), key=state.case_names.__getitem__)
    arrays = {n: getattr(state, n)[order] for n in (*MedicalState.COUNTS,
                                                    *MedicalState.DISTANCES)}
    return MedicalState(case_names=tuple(state.case_names[i] for i in order),
                        keys=state.keys, fingerprint=state.fingerprint, **arrays)


def compute(state: MedicalState, params: MedicalParams) -> MedicalMetrics:
    """Per-case values, per-label mean / median and foreground mean under every rule."""
    rows = _by_name(state)
    rules: dict[str, RuleValues] = {}
    for rule in EMPTY_RULES:
        per_case = _rule_values(rows, rule)
        stats = {m: _nan_stats(v) for m, v in per_case.items()}
        mean = {m: s[0] for m, s in stats.items()}
        rules[rule] = RuleValues(
            rule=rule, per_case=per_case, mean=mean,
            median={m: s[1] for m, s in stats.items()},
            foreground_mean={m: float(np.mean(v)) if len(v) else float("nan")
                             for m, v in mean.items()})
    counts = {"TP": rows.tp, "FP": rows.fp, "FN": rows.fn, "TN": rows.tn,
              "n_ref": rows.n_ref, "n_pred": rows.n_pred}
    return MedicalMetrics(case_names=rows.case_names, keys=rows.keys, rules=rules,
                          rule=params.empty_rule, counts=counts)


def _fmt(v: float) -> str:
    return "nan" if np.isnan(v) else ("inf" if np.isinf(v) else f"{v:.4f}")


def medical_notices(metrics: MedicalMetrics) -> list[Notice]:
    """Empty cases and where the rules disagree, named."""
    notices = []
    n_ref, n_pred = metrics.counts["n_ref"], metrics.counts["n_pred"]
    both = int(((n_ref == 0) & (n_pred == 0)).sum())
    ref_only = int(((n_ref == 0) & (n_pred > 0)).sum())
    pred_only = int(((n_pred == 0) & (n_ref > 0)).sum())
    if both or ref_only or pred_only:
        notices.append(Notice("empty-cases", (
            f"{ref_only} case/label pairs have an empty reference, {pred_only} an empty"
            f" prediction, {both} both; rule {metrics.rule!r} decides how they count"
            " (docs/protocols/medical.md)")))
    diffs = []
    for m in METRIC_KEYS:
        values = {r: v.foreground_mean[m] for r, v in metrics.rules.items()}
        if len({_fmt(v) for v in values.values()}) > 1:
            diffs.append(f"{m}: " + ", ".join(f"{r} {_fmt(v)}" for r, v in values.items()))
    if diffs:
        notices.append(Notice("rules-disagree", "foreground means differ by rule ("
                              + "; ".join(diffs) + "); see by_rule in the report"))
    return notices
