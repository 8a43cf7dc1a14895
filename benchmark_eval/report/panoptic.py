"""Result of ``coco-panoptic``, its JSON report and its text rendering."""

from __future__ import annotations

__all__ = ["PER_CLASS_KEYS", "PanopticResult", "panoptic_per_class_table",
           "panoptic_summary_lines"]

from dataclasses import dataclass, field

from benchmark_eval.errors import Notice
from benchmark_eval.protocols.panoptic import PanopticMetrics
from benchmark_eval.protocols.panoptic_state import PanopticState
from benchmark_eval.report.common import ReportMixin, package_versions
from benchmark_eval.report.fields import none_if_nan
from benchmark_eval.schema.panoptic import PanopticCategories

PER_CLASS_KEYS = ("PQ", "SQ", "RQ")



@dataclass(frozen=True)
class PanopticResult(ReportMixin):
    """Outcome of ``coco-panoptic``, ``coco-panoptic-boundary`` and ``cityscapes-panoptic``.

    Attributes:
        protocol: The protocol name.
        metrics: ``PQ SQ RQ N``, ``PQ_th SQ_th RQ_th N_th``, ``PQ_st SQ_st RQ_st N_st``:
            fractions; ``None`` for a group with no category to average (panopticapi
            crashes there); ``N*`` count the categories averaged.
        per_class: Category id -> ``{"PQ", "SQ", "RQ"}``; ``None`` values for categories with
            no segment at all (``tp + fp + fn = 0``; panopticapi lists 0.0 and leaves them
            out of the means).
        state: The merged per-category statistics (iou sum, tp, fp, fn).
        category_ids: Categories in ground-truth order.
        category_names: Name per category.
        isthing: Thing flag per category.
        warnings: Reproduced quirks and undefined groups.
        counts: Images, segments and ignored predictions.
    """

    protocol: str
    metrics: dict[str, float | int | None]
    per_class: dict[int, dict[str, float | None]]
    state: PanopticState
    category_ids: list[int]
    category_names: list[str]
    isthing: list[bool]
    warnings: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, state: PanopticState, computed: PanopticMetrics,
              categories: PanopticCategories, *, protocol: str = "coco-panoptic",
              counts: dict[str, int] | None = None) -> PanopticResult:
        """Assemble the result of a computed state (its notices are the result's warnings)."""
        ids = [int(c) for c in state.category_ids]
        per_class = {
            cid: {"PQ": none_if_nan(pq), "SQ": none_if_nan(sq), "RQ": none_if_nan(rq)}
            for cid, pq, sq, rq in zip(ids, computed.pq.tolist(), computed.sq.tolist(),
                                       computed.rq.tolist(), strict=True)
        }
        return cls(protocol=protocol, metrics=dict(computed.metrics),
                   per_class=per_class, state=state, category_ids=ids,
                   category_names=list(categories.names),
                   isthing=[bool(t) for t in categories.isthing],
                   warnings=list(computed.notices),
                   counts=dict(counts or {}, images=state.n_images),
                   versions=package_versions("pyspng"))

    def summary_lines(self) -> list[str]:
        """panopticapi's All / Things / Stuff table."""
        return panoptic_summary_lines(self)

    def per_class_lines(self) -> list[str]:
        """PQ / SQ / RQ and TP / FP / FN per category."""
        return panoptic_per_class_table(self)


def _cell(v: float | int | None) -> str:
    return f"{'-':>5s}" if v is None else f"{100 * v:5.1f}"


def panoptic_summary_lines(result: PanopticResult) -> list[str]:
    """The table panopticapi ``pq_compute`` prints (×100, one decimal), ``-`` if null."""
    m = result.metrics
    lines = ["{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}".format("", "PQ", "SQ", "RQ", "N"),
             "-" * (10 + 7 * 4)]
    for name, suffix in (("All", ""), ("Things", "_th"), ("Stuff", "_st")):
        n = m[f"N{suffix}"]
        lines.append(f"{name:10s}| {_cell(m[f'PQ{suffix}'])}  {_cell(m[f'SQ{suffix}'])}"
                     f"  {_cell(m[f'RQ{suffix}'])} {int(n or 0):5d}")
    return lines


def panoptic_per_class_table(result: PanopticResult) -> list[str]:
    """One row per category: PQ, SQ, RQ (×100) and the raw TP / FP / FN counts."""
    width = max([8, *(len(n) for n in result.category_names)])
    head = (f"{'id':>5}  {'category':<{width}}  {'kind':<5}  "
            + "  ".join(f"{k:>5}" for k in PER_CLASS_KEYS)
            + "  " + "  ".join(f"{k:>6}" for k in ("TP", "FP", "FN")))
    lines = [head, "-" * len(head)]
    s = result.state
    for k, (cid, name) in enumerate(zip(result.category_ids, result.category_names,
                                        strict=True)):
        vals = result.per_class[cid]
        kind = "thing" if result.isthing[k] else "stuff"
        lines.append(f"{cid:>5}  {name:<{width}}  {kind:<5}  "
                     + "  ".join(_cell(vals[key]) for key in PER_CLASS_KEYS)
                     + f"  {int(s.tp[k]):>6}  {int(s.fp[k]):>6}  {int(s.fn[k]):>6}")
    return lines

