"""Result of the ``medical`` protocol: JSON report, nnU-Net ``summary.json``, text tables."""

from __future__ import annotations

__all__ = ["MedicalResult"]

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.medical import (
    METRIC_KEYS,
    MedicalMetrics,
    RuleValues,
    compute,
    medical_notices,
)
from benchmark_eval.protocols.medical_state import MedicalParams, MedicalState
from benchmark_eval.report.common import ReportMixin, package_versions

_DISTANCES = ("HD", "HD95", "ASSD")  # mm; the others are fractions
_NNUNET_METRICS = ("Dice", "IoU", "FP", "TP", "FN", "TN", "n_pred", "n_ref")


def _value(v: float) -> float | None:
    """NaN (undefined) and inf (``monai``: one side empty) as ``None`` (JSON ``null``)."""
    return float(v) if math.isfinite(v) else None


def _by_label(keys: tuple[str, ...], values: dict[str, np.ndarray]
              ) -> dict[str, dict[str, float | None]]:
    return {k: {m: _value(float(values[m][i])) for m in METRIC_KEYS}
            for i, k in enumerate(keys)}


@dataclass(frozen=True)
class MedicalResult(ReportMixin):
    """Outcome of ``medical``.

    Attributes:
        protocol: ``"medical"``.
        metrics: Label key -> per-label mean over cases of ``Dice``, ``IoU``, ``HD``,
            ``HD95``, ``ASSD`` (mm) and ``NSD`` under the chosen rule; ``None`` where no case
            defines it (or, under ``monai``, where a mean is infinite).
        per_class: Label key -> ``name`` and the per-label medians (``Dice_median``...).
        foreground_mean: Mean of the label means, per metric (nnU-Net's).
        computed: Every rule's arrays (:class:`~benchmark_eval.protocols.medical.MedicalMetrics`).
        params: Parameters used.
        state: The merged per-case state the result was computed from (not in the report).
        warnings: Empty cases and rule disagreements.
        counts: Cases and labels scored.
    """

    protocol: str
    metrics: dict[str, dict[str, float | None]]
    per_class: dict[str, dict[str, Any]]
    foreground_mean: dict[str, float | None]
    computed: MedicalMetrics
    params: MedicalParams
    state: MedicalState
    warnings: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_state(cls, state: MedicalState, params: MedicalParams) -> MedicalResult:
        """Compute every rule on ``state`` and keep ``params.empty_rule``'s as metrics."""
        computed = compute(state, params)
        chosen = computed.chosen
        names = params.display_names()
        per_class = {k: {"name": names[i], **{f"{m}_median": _value(float(chosen.median[m][i]))
                                             for m in METRIC_KEYS}}
                     for i, k in enumerate(computed.keys)}
        return cls(protocol="medical", metrics=_by_label(computed.keys, chosen.mean),
                   per_class=per_class,
                   foreground_mean={m: _value(v) for m, v in chosen.foreground_mean.items()},
                   computed=computed, params=params, state=state,
                   warnings=medical_notices(computed),
                   counts={"cases": len(computed.case_names), "labels": len(computed.keys)},
                   versions=package_versions("nibabel", "scipy"))

    def per_case(self) -> dict[str, dict[str, dict[str, float | int | None]]]:
        """Case -> label key -> ``Dice``, ``IoU``, ``HD``, ``HD95``, ``ASSD``, ``NSD``,
        ``TP``, ``FP``, ``FN`` under the chosen rule (``None`` where undefined)."""
        c = self.computed
        values = c.chosen.per_case
        out: dict[str, dict[str, dict[str, float | int | None]]] = {}
        for n, case in enumerate(c.case_names):
            out[case] = {}
            for i, key in enumerate(c.keys):
                row: dict[str, float | int | None] = {
                    m: _value(float(values[m][n, i])) for m in METRIC_KEYS}
                row.update({m: int(c.counts[m][n, i]) for m in ("TP", "FP", "FN")})
                out[case][key] = row
        return out

    def report_extra(self) -> dict[str, Any]:
        """``foreground_mean``, the rule, every rule's means (``by_rule``), ``per_case``."""
        return {
            "foreground_mean": self.foreground_mean,
            "empty_rule": self.computed.rule,
            "by_rule": {r: _rule_report(self.computed.keys, v)
                        for r, v in self.computed.rules.items()},
            "per_case": self.per_case(),
        }

    def nnunet_summary(self, files: dict[str, tuple[str, str]] | None = None
                       ) -> dict[str, Any]:
        """nnU-Net v2's ``summary.json`` layout (``compute_metrics_on_folder``):
        ``metric_per_case`` (``metrics``, ``prediction_file``, ``reference_file``), ``mean``
        and ``foreground_mean`` of Dice, IoU, FP, TP, FN, TN, n_pred, n_ref, under the
        ``nnunet`` rule (NaN kept: write it with :func:`json.dumps`, as nnU-Net does).

        Args:
            files: Case -> ``(reference_file, prediction_file)`` as written in the file.
        """
        c = self.computed
        values = c.rules["nnunet"].per_case
        table = {"Dice": values["Dice"], "IoU": values["IoU"],
                 **{m: c.counts[m] for m in _NNUNET_METRICS[2:]}}
        cases = []
        for n, case in enumerate(c.case_names):
            ref, pred = (files or {}).get(case, (case, case))
            metrics = {k: {m: _number(table[m][n, i]) for m in _NNUNET_METRICS}
                       for i, k in enumerate(c.keys)}
            cases.append({"metrics": metrics, "prediction_file": pred, "reference_file": ref})
        means = {k: {m: _nanmean(table[m][:, i]) for m in _NNUNET_METRICS}
                 for i, k in enumerate(c.keys)}
        foreground = {m: float(np.mean([means[k][m] for k in c.keys])) for m in _NNUNET_METRICS}
        return {"foreground_mean": foreground, "mean": means, "metric_per_case": cases}

    def render(self, *, per_class: bool = True) -> str:
        """Per-label means (and medians with ``per_class``): Dice, IoU, NSD in %, distances
        in mm, then the foreground mean; the rule is named in the title."""
        c = self.computed
        chosen = c.chosen
        names = self.params.display_names()
        width = max([10, *(len(n) for n in names)])
        head = f"{'label':<{width}}  " + "  ".join(f"{m:>8}" for m in METRIC_KEYS)
        lines = [f"medical: {len(c.case_names)} cases, empty-case rule {c.rule!r}"
                 f" (HD95 {'MONAI directed' if c.rule == 'monai' else 'MedPy pooled'})",
                 head, "-" * len(head)]
        rows = [(names[i], {m: chosen.mean[m][i] for m in METRIC_KEYS})
                for i in range(len(c.keys))]
        if per_class:
            rows += [(f"{names[i]} (median)", {m: chosen.median[m][i] for m in METRIC_KEYS})
                     for i in range(len(c.keys))]
        rows.append(("foreground", chosen.foreground_mean))
        for name, row in rows:
            lines.append(f"{name:<{width}}  " + "  ".join(
                _cell(float(row[m]), m in _DISTANCES) for m in METRIC_KEYS))
        return "\n".join(lines)


def _rule_report(keys: tuple[str, ...], values: RuleValues) -> dict[str, Any]:
    return {"mean": _by_label(keys, values.mean),
            "median": _by_label(keys, values.median),
            "foreground_mean": {m: _value(v) for m, v in values.foreground_mean.items()}}


def _number(v: Any) -> float | int:
    return int(v) if isinstance(v, np.integer) else float(v)


def _nanmean(column: np.ndarray) -> float:
    """``np.nanmean`` as nnU-Net calls it (NaN, without a warning, for an all-NaN column)."""
    if column.dtype.kind == "f" and np.isnan(column).all():
        return float("nan")
    return float(np.nanmean(column))


def _cell(v: float, distance: bool) -> str:
    if math.isnan(v):
        return f"{'-':>8}"
    if math.isinf(v):
        return f"{'inf':>8}"
    return f"{v:8.2f}" if distance else f"{100 * v:8.2f}"
