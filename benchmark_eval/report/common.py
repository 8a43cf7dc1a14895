"""Pieces every result shares."""

from __future__ import annotations

__all__ = ["ReportMixin", "category_axis", "none_if_undefined", "package_versions",
           "per_class_table"]

from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

import numpy as np

from benchmark_eval.masks import compiled_kernels
from benchmark_eval.protocols.undefined import none_if_undefined
from benchmark_eval.schema import Categories


def package_versions(*packages: str) -> dict[str, str]:
    """Installed versions of benchmark-eval, numpy and ``packages`` (for reports), and
    which C kernels are compiled (``"kernels"``: ``"rle, boundary, ..."``, ``"none"``; the
    others run their slower numpy fallbacks)."""

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "unknown"

    built = [name for name, ok in compiled_kernels().items() if ok]
    return {**{pkg: version(pkg) for pkg in ("benchmark-eval", "numpy", *packages)},
            "kernels": ", ".join(built) or "none"}


def category_axis(category_ids: np.ndarray, categories: Categories | None = None
                  ) -> tuple[list[int], list[str]]:
    """A state's K axis as ids and names (from ``categories``; ``"all"`` for the
    class-agnostic ``-1``, ``""`` for an id without a name)."""
    ids = [int(c) for c in category_ids]
    names = dict(zip(categories.ids.tolist(), categories.names, strict=True)) if (
        categories is not None) else {}
    return ids, [names.get(c, "all" if c == -1 else "") for c in ids]


class ReportMixin:
    """``to_report()`` for result dataclasses with the standard fields ``protocol``,
    ``metrics``, ``per_class``, ``warnings``, ``counts`` and, when the protocol has them,
    ``params`` (pydantic) and ``versions``; :meth:`report_extra` adds protocol-specific keys
    (a confusion matrix, per-category values...). :meth:`render` and ``str`` are built from
    :meth:`summary_lines` and :meth:`per_class_lines`."""

    bootstrap: Any = None
    """Bootstrap intervals (``benchmark_eval.stats.Bootstrap``) when asked for (``ci=``)."""

    def with_bootstrap(self, bootstrap: Any) -> Any:
        """This result, with its bootstrap intervals attached (``ci`` in the report)."""
        object.__setattr__(self, "bootstrap", bootstrap)  # results are frozen dataclasses
        return self

    def ci_lines(self) -> list[str]:
        """The intervals as a table (×100, one decimal), none without a bootstrap."""
        b = self.bootstrap
        if b is None:
            return []
        r: Any = self
        lines = [f"{100 * b.level:g}% confidence intervals (percentile bootstrap over"
                 f" {b.n_images} images, {b.resamples} resamples, seed {b.seed}):"]
        for key, bounds in b.ci.items():
            value = r.metrics.get(key)
            shown = "-" if value is None else f"{100 * value:.1f}"
            span = "undefined" if bounds is None else (
                f"[{100 * bounds[0]:.1f}, {100 * bounds[1]:.1f}]")
            lines.append(f"  {key:<14} {shown:>6}  {span}")
        return lines

    def report_extra(self) -> dict[str, Any]:
        """Protocol-specific keys of the report (none by default)."""
        return {}

    def summary_lines(self) -> list[str]:
        """The official tool's summary, line by line (for :meth:`render` and ``str``;
        the ``repr`` unless the result defines it)."""
        return [repr(self)]

    def per_class_lines(self) -> list[str]:
        """The per-class table, line by line (for :meth:`render`; none by default)."""
        return []

    def render(self, *, per_class: bool = True) -> str:
        """The summary, then (optionally) the per-class table."""
        lines = self.summary_lines()
        per_class_lines = self.per_class_lines() if per_class else []
        if per_class_lines:
            lines += ["", *per_class_lines]
        return "\n".join(lines)

    def __str__(self) -> str:
        return "\n".join(self.summary_lines())

    def to_report(self) -> dict[str, Any]:
        """The JSON report (fractions; ``null`` where the official tool reports -1/NaN)."""
        r: Any = self
        out: dict[str, Any] = {
            "protocol": r.protocol,
            "metrics": r.metrics,
            "per_class": {str(k): v for k, v in r.per_class.items()},
            **self.report_extra(),
            "warnings": [{"code": w.code, "message": w.message} for w in r.warnings],
        }
        params = getattr(r, "params", None)
        if params is not None:
            out["params"] = params.model_dump(mode="json")
        out["counts"] = r.counts
        versions = getattr(r, "versions", None)
        if versions is not None:
            out["versions"] = versions
        if self.bootstrap is not None:
            b = self.bootstrap
            out["ci"] = b.ci
            out["ci_per_class"] = {str(k): v for k, v in b.per_class_ci.items()}
            out["ci_params"] = {"level": b.level, "resamples": b.resamples, "seed": b.seed,
                                "images": b.n_images, "method": "percentile bootstrap"}
        return out


def per_class_table(ids: Sequence[int], names: Sequence[str],
                    values: Mapping[int, Mapping[str, float | None]], keys: Sequence[str], *,
                    skip_undefined: bool = False) -> list[str]:
    """One row per category: id, name, then ``keys`` ×100 with one decimal ('-' if None).

    Args:
        skip_undefined: Omit categories whose values are all undefined.
    """
    width = max([8, *(len(n) for n in names)])
    head = f"{'id':>5}  {'category':<{width}}  " + "  ".join(f"{k:>6}" for k in keys)
    lines = [head, "-" * len(head)]
    for cid, name in zip(ids, names, strict=True):
        row = values.get(cid, {})
        cells = [row.get(k) for k in keys]
        if skip_undefined and all(v is None for v in cells):
            continue
        text = "  ".join(f"{'-':>6}" if v is None else f"{100 * v:6.1f}" for v in cells)
        lines.append(f"{cid:>5}  {name:<{width}}  {text}")
    return lines
