"""Run lvis-api 0.5.3 ``LVISEval`` live on in-memory ground truth and results (the one
lvis-api runner of the tests).

lvis 0.5.3 calls ``np.float``, which numpy removed; the alias is restored here, in the test
harness only, before lvis-api runs. Its maths is used as shipped. ``LVIS`` only reads a
path, so the ground truth is written to a temporary file.
"""

from __future__ import annotations

__all__ = ["LvisOfficial", "run_lvis_api"]

import copy
import json
import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if not hasattr(np, "float"):
    # removed alias used by lvis 0.5.3 (eval.py: ``astype(dtype=np.float)``)
    setattr(np, "float", float)  # noqa: B010


@dataclass(frozen=True)
class LvisOfficial:
    """``LVISEval.results`` and the ``eval`` arrays."""

    results: dict[str, float]
    precision: np.ndarray
    recall: np.ndarray
    printed: list[str]


def run_lvis_api(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
                 max_dets: int = 300) -> LvisOfficial:
    """``LVISEval(gt, LVISResults(gt, results, max_dets), iou_type).run()`` on copies of the
    inputs, in the order of ``LVISEval(lvis_gt, lvis_dt, iou_type)``; ``max_dets`` is the
    ``LVISResults`` cap and ``Params.max_dets`` (which only names and prints)."""
    import contextlib
    import io

    from lvis import LVIS, LVISEval, LVISResults

    logging.getLogger("lvis").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lvis' own logger.warn calls
        path = Path(tmp) / "gt.json"
        path.write_text(json.dumps(gt))
        lvis_gt = LVIS(str(path))
        dt = LVISResults(lvis_gt, copy.deepcopy(results), max_dets=max_dets)
        ev = LVISEval(lvis_gt, dt, iou_type)
        ev.params.max_dets = max_dets
        ev.run()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ev.print_results()
    return LvisOfficial(results=dict(ev.results), precision=ev.eval["precision"],
                        recall=ev.eval["recall"], printed=out.getvalue().splitlines())
