"""The CLI's analysis options: ``--tide``, ``--analysis``, ``--plots DIR``, ``--report
FILE.html`` on ``evaluate`` (kept apart from ``cli.py``'s own paths).

For the COCO / LVIS box and mask protocols the analyses run on the data the evaluation
loaded (the plan's ``analyses`` option); for semantic / Cityscapes semantic results the
most-confused pairs come from the result's confusion matrix; plots and the report apply to
every protocol.
"""

from __future__ import annotations

__all__ = ["AnalysisSession", "add_analysis_arguments"]

import argparse
import hashlib
import shlex
from pathlib import Path
from typing import Any

from benchmark_eval.analysis.run import Analyses, InstanceInputs, instance_analyses, pixel_analyses
from benchmark_eval.errors import ConfigError

INSTANCE = ("coco-bbox", "coco-segm", "lvis-bbox", "lvis-segm")  # TIDE, confusion matrix
# plans with the ``analyses`` option: coco-boundary gets curves, calibration, diagnostics
HOOKED = (*INSTANCE, "coco-boundary")
_CHUNK = 1 << 20


def add_analysis_arguments(p: argparse.ArgumentParser, protocol: str, evaluate: bool) -> None:
    """``evaluate``'s analysis options (``--tide`` only where TIDE applies)."""
    if not evaluate:
        return
    if protocol in INSTANCE:
        p.add_argument("--tide", action="store_true",
                       help='add the TIDE error breakdown (tidecv 1.0.1) to the output and'
                            ' the report ("tide" in --out)')
    p.add_argument("--analysis", action="store_true",
                   help='add the error analyses to --out ("analysis": confusion matrix,'
                        " P/R/F1, calibration, per-image diagnostics, PR curves; semantic:"
                        " most-confused pairs)")
    p.add_argument("--plots", type=Path, metavar="DIR",
                   help="write PR curves, TIDE bars, confusion heat map, per-class bars"
                        " and reliability diagram as PNG and SVG (needs the [plots] extra)")
    p.add_argument("--report", type=Path, metavar="FILE.html",
                   help="write one self-contained HTML report (summary, sortable per-class"
                        " table, plots, warnings, provenance)")


def _sha256(path: Path) -> dict[str, Any]:
    """``{"path", "sha256", "bytes"}`` of a file; a folder gets its file count and bytes
    only (hashing every image of a folder would read it a second time)."""
    if path.is_dir():
        files = [f for f in path.rglob("*") if f.is_file()]
        return {"path": str(path), "sha256": f"(folder: {len(files)} files)",
                "bytes": sum(f.stat().st_size for f in files)}
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": path.stat().st_size}


class AnalysisSession:
    """What ``evaluate`` asked for, and what it computed."""

    def __init__(self, protocol: str, args: argparse.Namespace) -> None:
        self.protocol = protocol
        self.tide = bool(getattr(args, "tide", False))
        self.analysis = bool(getattr(args, "analysis", False))
        self.plots: Path | None = getattr(args, "plots", None)
        self.report: Path | None = getattr(args, "report", None)
        self.args = args
        self.analyses = Analyses()

    @property
    def active(self) -> bool:
        """Whether any analysis option was given."""
        return self.tide or self.analysis or self.plots is not None or self.report is not None

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``Workflow.evaluate`` (the plan's ``analyses`` hook)."""
        if not self.active or self.protocol not in HOOKED:
            return {}
        others = self.analysis or self.plots is not None or self.report is not None

        def run(result: Any, inputs: InstanceInputs) -> None:
            self.analyses = instance_analyses(result, inputs, tide=self.tide, others=others)

        return {"analyses": run}

    def after(self, result: Any) -> None:
        """Analyses that only need the result (semantic / Cityscapes confusion pairs)."""
        if self.active and self.protocol not in HOOKED:
            self.analyses = pixel_analyses(result)

    def report_keys(self) -> dict[str, Any]:
        """The keys this session adds to the JSON report."""
        if not self.active:
            return {}
        keys = self.analyses.to_report()
        if not self.analysis:
            keys.pop("analysis", None)
        if not self.tide:
            keys.pop("tide", None)
        return keys

    def _inputs(self) -> dict[str, Any]:
        skip = {"out", "plots", "report", "config"}
        out = {}
        for name, value in sorted(vars(self.args).items()):
            if name not in skip and isinstance(value, Path) and value.exists():
                out[name] = _sha256(value)
        config = getattr(self.args, "config", None)
        if config is not None and Path(config).is_file():
            out["config"] = _sha256(Path(config))
        return out

    def write(self, result: Any) -> list[Path]:
        """Write the plots and the report asked for; returns the files written."""
        written: list[Path] = []
        if self.plots is None and self.report is None:
            return written
        try:
            from benchmark_eval.report import plots
        except ImportError as exc:  # pragma: no cover - matplotlib absent
            raise ConfigError("--plots and --report need matplotlib: pip install"
                              " 'benchmark-eval[plots]'") from exc
        files, svgs = plots.rendered(result, self.analyses)
        if self.plots is not None:
            self.plots.mkdir(parents=True, exist_ok=True)
            for name, data in files.items():
                (self.plots / name).write_bytes(data)
                written.append(self.plots / name)
        if self.report is not None:
            from benchmark_eval.report.html import render_html

            page = render_html(result, self.analyses, svgs=svgs, inputs=self._inputs(),
                               command=self._command())
            self.report.write_text(page, encoding="utf-8")
            written.append(self.report)
        return written

    def _command(self) -> str:
        """The evaluate command line, rebuilt from the parsed options."""
        words = ["benchmark-eval", "evaluate", self.protocol]
        for name, value in sorted(vars(self.args).items()):
            if name in ("command", "protocol") or value in (None, False):
                continue
            flag = "--" + name.replace("_", "-")
            words += [flag] if value is True else [flag, str(value)]
        return shlex.join(words)
