"""Pictures of a result and its analyses: PR curves, TIDE bars, confusion-matrix heat map,
per-class bars, reliability diagram, as PNG and SVG (the optional ``[plots]`` extra).

matplotlib is imported inside the functions (``import benchmark_eval`` stays cheap and
works without it) and only its object API is used (``matplotlib.figure.Figure`` with the Agg
canvas), so no global pyplot state or display backend is involved. SVGs are written
without a date and with a fixed hash salt, so the same result gives the same file.
"""

from __future__ import annotations

__all__ = ["figures", "png_bytes", "rendered", "svg_text"]

import io
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError

MAX_CURVES = 10  # PR curves drawn: the classes with most GT
MAX_BARS = 80  # per-class bars drawn: the best and worst when there are more
MAX_LABELLED = 30  # confusion matrices larger than this lose their tick labels


def _figure(width: float = 6.4, height: float = 4.2) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - the [plots] extra is not installed
        raise ConfigError("plots need matplotlib: pip install 'benchmark-eval[plots]'"
                          ) from exc
    return Figure(figsize=(width, height), layout="constrained")


def _names(result: Any) -> dict[Any, str]:
    ids = getattr(result, "category_ids", None)
    names = getattr(result, "category_names", None)
    if ids is None or names is None:
        return {}
    return {int(i): (n or str(i)) for i, n in zip(ids, names, strict=True)}


def _pr_figure(result: Any, curves: list[Any]) -> Any:
    gt = result.state.gt_count[:, 0]
    by_gt = np.argsort(-gt, kind="stable")[:MAX_CURVES]
    names = _names(result)
    fig = _figure()
    ax = fig.add_subplot()
    colours = [f"C{i}" for i in range(10)]
    for n, k in enumerate(by_gt.tolist()):
        c = curves[k]
        if gt[k] == 0:
            continue
        p = np.where(c.precision < 0, np.nan, c.precision)
        ax.plot(c.recall_thresholds, p, color=colours[n % 10],
                label=names.get(c.category_id, str(c.category_id)))
        ax.plot(c.raw_recall, c.raw_precision, color=colours[n % 10], lw=0.8, ls=":")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title="PR curves at IoU 0.5 (solid: interpolated, dotted: raw)")
    ax.legend(fontsize="small", loc="lower left")
    return fig


def _tide_figure(tide: Any) -> Any:
    fig = _figure(7.0, 3.4)
    main, special = fig.subplots(1, 2, width_ratios=(3, 1))
    keys = list(tide.main)
    main.bar(keys, [tide.main[k] for k in keys], color=[f"C{i}" for i in range(len(keys))])
    main.set(ylabel="dAP (points)", title=f"TIDE main errors (AP50 {tide.ap:.1f})")
    skeys = list(tide.special)
    special.bar(skeys, [tide.special[k] for k in skeys], color=["C7", "C8"])
    special.set(title="special")
    return fig


def _confusion_figure(matrix: np.ndarray, names: list[str], title: str) -> Any:
    m = np.asarray(matrix, dtype=np.float64)
    rows = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    size = min(4.0 + 0.12 * len(m), 14.0)
    fig = _figure(size + 1.0, size)
    ax = fig.add_subplot()
    im = ax.imshow(frac, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="fraction of the row")
    if len(m) <= MAX_LABELLED:
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize="x-small")
        ax.set_yticks(range(len(names)), names, fontsize="x-small")
    ax.set(xlabel="predicted", ylabel="ground truth", title=title)
    return fig


def _per_class_figure(result: Any) -> Any | None:
    per_class = getattr(result, "per_class", None) or {}
    values: list[tuple[Any, str, float]] = []
    for k, row in per_class.items():
        key, val = next(iter(row.items()), ("", None))
        if isinstance(val, (int, float)):
            values.append((k, key, float(val)))
    if not values:
        return None
    metric = values[0][1]
    names = _names(result)
    values.sort(key=lambda r: -float(r[2]))
    if len(values) > MAX_BARS:
        values = values[:MAX_BARS // 2] + values[-MAX_BARS // 2:]
    labels = [names.get(k, str(k)) if isinstance(k, int) else str(k) for k, _, _ in values]
    fig = _figure(max(6.4, 0.16 * len(values) + 2), 4.0)
    ax = fig.add_subplot()
    ax.bar(range(len(values)), [100 * float(v) for _, _, v in values], color="C0")
    ax.set_xticks(range(len(values)), labels, rotation=90, fontsize="x-small")
    ax.set(ylabel=f"{metric} (x100)", title=f"{metric} per class")
    return fig


def _reliability_figure(cal: Any) -> Any:
    fig = _figure(4.8, 4.4)
    ax = fig.add_subplot()
    edges = cal.bin_edges
    width = np.diff(edges)
    acc = np.nan_to_num(cal.accuracy)
    ax.bar(edges[:-1], acc, width=width, align="edge", color="C0", edgecolor="k",
           label="fraction correct")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set(xlabel="confidence (score)", ylabel=f"TP at IoU {cal.iou_threshold:g}",
           xlim=(0, 1), ylim=(0, 1),
           title=f"reliability: ECE {cal.ece:.3f}, MCE {cal.mce:.3f}")
    ax.legend(fontsize="small", loc="best")
    return fig


def figures(result: Any, analyses: Any = None) -> dict[str, Any]:
    """The figures that apply, by file stem: ``pr_curves``, ``tide``, ``confusion``,
    ``per_class``, ``reliability`` (matplotlib ``Figure`` objects)."""
    out: dict[str, Any] = {}
    if analyses is not None and analyses.curves:
        out["pr_curves"] = _pr_figure(result, analyses.curves)
    if analyses is not None and analyses.tide is not None:
        out["tide"] = _tide_figure(analyses.tide)
    conf = None if analyses is None else analyses.confusion
    if conf is not None:
        out["confusion"] = _confusion_figure(
            conf.matrix, [*(n or str(i) for i, n in zip(conf.category_ids,
                                                       conf.category_names, strict=True)),
                          "background / missed"], "detection confusion (IoU 0.5)")
    elif getattr(result, "confusion", None) is not None:
        m = result.confusion
        names = list(getattr(result, "class_names", None) or [])
        names += [""] * (len(m) - len(names))
        out["confusion"] = _confusion_figure(m, names, "pixel confusion")
    bars = _per_class_figure(result)
    if bars is not None:
        out["per_class"] = bars
    if analyses is not None and analyses.calibration is not None:
        out["reliability"] = _reliability_figure(analyses.calibration)
    return out


def svg_text(fig: Any) -> str:
    """A figure as SVG text (no date, fixed hash salt: reproducible)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "benchmark-eval", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def png_bytes(fig: Any) -> bytes:
    """A figure as PNG (110 dpi)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def rendered(result: Any, analyses: Any = None) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every figure as files ``{"<name>.png": bytes, "<name>.svg": bytes}`` (the CLI writes
    them; the report layer touches no path) and as SVG text by name (for the report)."""
    files: dict[str, bytes] = {}
    svgs: dict[str, str] = {}
    for name, fig in figures(result, analyses).items():
        svgs[name] = svg_text(fig)
        files[f"{name}.png"] = png_bytes(fig)
        files[f"{name}.svg"] = svgs[name].encode("utf-8")
    return files, svgs
