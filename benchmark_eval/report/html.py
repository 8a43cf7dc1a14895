"""One self-contained HTML report: summary, sortable per-class table, plots, warnings,
confidence intervals and provenance.

The page loads nothing: styles and the table-sorting script are inline, the plots are
inline SVG (:func:`benchmark_eval.report.plots.svg_figures`), and every text from the
inputs is escaped. Clicking a column header sorts the per-class table by it (numbers
numerically, undefined values last; a second click reverses).
"""

from __future__ import annotations

__all__ = ["render_html"]

import html
import re
from collections.abc import Mapping
from typing import Any

import orjson

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;
color:#1b1b1b;background:#fff}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;text-align:right;
border-bottom:1px solid #eee}th{background:#f4f4f4;cursor:pointer;user-select:none}
td:first-child,th:first-child,td.name{text-align:left}pre{background:#f7f7f7;padding:.8em;
overflow:auto}.warn{color:#8a4b00}.plot svg{max-width:100%;height:auto}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
"""

_SCRIPT = """
(function () {
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v === null || v === "") { return null; }
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (x === null || y === null) { return (x === null) - (y === null); }
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        table.setAttribute("data-sorted", col + (asc ? "+" : "-"));
      });
    });
  });
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


class _Score(float):
    """A score threshold: shown as is (3 decimals), not as a percentage."""


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, _Score):
        return f"{v:.3f}"
    if isinstance(v, float):
        return f"{100 * v:.1f}" if -1.0 <= v <= 1.0 else f"{v:.3g}"
    return str(v)


def _cell(v: Any, name: bool = False) -> str:
    data = "" if v is None else (repr(float(v)) if isinstance(v, float) else str(v))
    cls = ' class="name"' if name else ""
    return f'<td{cls} data-v="{_e(data)}">{_e(_fmt(v) if not name else v)}</td>'


def _table(columns: list[str], rows: list[list[Any]], *, sortable: bool = True,
           table_id: str = "") -> str:
    attrs = (' class="sortable"' if sortable else "") + (f' id="{table_id}"' if table_id
                                                           else "")
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(v, name=(i == 0 and isinstance(v, str)))
                                    for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _per_class(result: Any, analyses: Any) -> str:
    per_class: Mapping[Any, Mapping[str, Any]] = getattr(result, "per_class", None) or {}
    if not per_class:
        return ""
    names = dict(zip(getattr(result, "category_ids", []) or [],
                     getattr(result, "category_names", []) or [], strict=False))
    extra: dict[Any, dict[str, Any]] = {}
    conf = getattr(analyses, "confusion", None)
    if conf is not None:
        for cid, v in conf.per_class().items():
            extra[cid] = {"P": v["precision"], "R": v["recall"], "F1": v["f1"],
                          "best F1": v["best_f1"],
                          "at score": None if v["best_threshold"] is None else _Score(
                              v["best_threshold"])}
    keys = list(next(iter(per_class.values())).keys())
    ekeys = list(next(iter(extra.values())).keys()) if extra else []
    rows = []
    for cid, vals in per_class.items():
        label = [cid, names.get(cid, "")] if names else [str(cid)]
        rows.append(label + [vals.get(k) for k in keys] + [extra.get(cid, {}).get(k)
                                                            for k in ekeys])
    cols = (["id", "class"] if names else ["class"]) + keys + ekeys
    note = ("<p>Values x100 (fractions); P / R / F1 from the detection confusion matrix at"
            " IoU 0.5, score >= its threshold. Click a header to sort.</p>")
    return "<h2>Per class</h2>" + note + _table(cols, rows, table_id="per-class")


def _summary(result: Any) -> str:
    metrics = getattr(result, "metrics", {}) or {}
    ci = getattr(result, "ci", None) or {}
    rows = []
    for k, v in metrics.items():
        lo_hi = ci.get(k)
        rows.append([k, v, None if lo_hi is None else lo_hi[0],
                     None if lo_hi is None else lo_hi[1]])
    cols = ["metric", "value", "CI low", "CI high"] if ci else ["metric", "value"]
    if not ci:
        rows = [r[:2] for r in rows]
    text = result.render(per_class=False) if hasattr(result, "render") else ""
    out = "<h2>Summary</h2>" + _table(cols, rows, sortable=False)
    if ci:
        out += "<p>Confidence intervals as reported in the result's <code>ci</code>.</p>"
    return out + f"<pre>{_e(text)}</pre>"


def _svg_inline(svg: str) -> str:
    """An SVG document as an inline element (XML prolog and doctype dropped)."""
    start = svg.find("<svg")
    return re.sub(r"<!--.*?-->", "", svg[start:] if start >= 0 else svg, flags=re.S)


def _plots(svgs: Mapping[str, str]) -> str:
    if not svgs:
        return ""
    parts = [f'<figure class="plot" id="plot-{_e(n)}">{_svg_inline(s)}'
             f"<figcaption>{_e(n.replace('_', ' '))}</figcaption></figure>"
             for n, s in svgs.items()]
    return "<h2>Plots</h2>" + "".join(parts)


def _warnings(result: Any) -> str:
    warnings = getattr(result, "warnings", []) or []
    if not warnings:
        return "<h2>Warnings</h2><p>None.</p>"
    items = "".join(f'<li class="warn"><code>{_e(w.code)}</code> {_e(w.message)}</li>'
                    for w in warnings)
    return f"<h2>Warnings</h2><ul>{items}</ul>"


def _json_block(title: str, value: Any) -> str:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY |
                        orjson.OPT_NON_STR_KEYS).decode()
    return f"<h3>{_e(title)}</h3><pre>{_e(text)}</pre>"


def _provenance(result: Any, inputs: Mapping[str, Any], command: str) -> str:
    out = "<h2>Provenance</h2>"
    if command:
        out += f"<p>Command: <code>{_e(command)}</code></p>"
    rows = [[name, info.get("path", ""), info.get("sha256", ""), info.get("bytes")]
            for name, info in inputs.items()]
    if rows:
        out += _table(["input", "path", "sha256", "bytes"], rows, sortable=False)
    versions = getattr(result, "versions", None)
    if versions:
        out += _table(["package", "version"], [[k, v] for k, v in versions.items()],
                      sortable=False)
    params = getattr(result, "params", None)
    if params is not None and hasattr(params, "model_dump"):
        out += _json_block("Parameters", params.model_dump(mode="json"))
    counts = getattr(result, "counts", None)
    if counts:
        out += _json_block("Counts", counts)
    return out


def _analyses(analyses: Any) -> str:
    if analyses is None:
        return ""
    out = ""
    tide = getattr(analyses, "tide", None)
    if tide is not None:
        out += "<h2>TIDE (dAP points)</h2>" + f"<pre>{_e(tide.render())}</pre>"
    cal = getattr(analyses, "calibration", None)
    if cal is not None:
        out += (f"<h2>Calibration</h2><p>ECE {cal.ece:.4f}, MCE {cal.mce:.4f} (confidence ="
                f" score, correct = TP at IoU {cal.iou_threshold:g}).</p>")
    pairs = getattr(analyses, "most_confused", None)
    conf = getattr(analyses, "confusion", None)
    if pairs is None and conf is not None:
        pairs = conf.to_report()["most_confused"]
    if pairs:
        out += "<h2>Most confused</h2>" + _table(
            ["ground truth", "predicted", "count", "fraction of the GT row"],
            [[p["gt"], p["pred"], p["count"], p["fraction"]] for p in pairs])
    diag = getattr(analyses, "diagnostics", None)
    if diag is not None:
        worst = diag.to_report()["worst"]
        out += "<h2>Images with most errors (FP + FN at IoU 0.5)</h2>" + _table(
            ["image", "TP", "FP", "FN", "F1", "AP"],
            [[str(w["image_id"]), w["tp"], w["fp"], w["fn"], w["f1"], w["ap"]]
             for w in worst])
    return out


def render_html(result: Any, analyses: Any = None, *, svgs: Mapping[str, str] | None = None,
                inputs: Mapping[str, Any] | None = None, command: str = "") -> str:
    """The report page.

    Args:
        result: Any protocol's result (``metrics``, ``per_class``, ``warnings``, ...; a
            ``ci`` mapping metric -> ``[low, high]`` is shown when present).
        analyses: :class:`benchmark_eval.analysis.run.Analyses`, optional.
        svgs: Plot name -> SVG text, inlined.
        inputs: Input name -> ``{"path", "sha256", "bytes"}``.
        command: The command line, for the record.
    """
    protocol = getattr(result, "protocol", "result")
    body = (f"<h1>benchmark-eval report: {_e(protocol)}</h1>" + _summary(result)
            + _per_class(result, analyses) + _analyses(analyses) + _plots(svgs or {})
            + _warnings(result) + _provenance(result, inputs or {}, command))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
            " style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            f"<title>{_e(protocol)} report</title><style>{_STYLE}</style></head>"
            f"<body>{body}<script>{_SCRIPT}</script></body></html>\n")
