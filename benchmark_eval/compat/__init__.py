"""Drop-in replacements for the official tools' Python APIs, on benchmark_eval's engine.

* pycocotools: :class:`COCO`, :class:`COCOeval`, :mod:`mask` (pycocotools' own), and
  :func:`init_as_pycocotools` to make ``import pycocotools...`` load them;
* lvis-api: :class:`LVIS`, :class:`LVISResults`, :class:`LVISEval`, :func:`init_as_lvis`;
* panopticapi: :func:`pq_compute`.

Example:
    >>> from benchmark_eval.compat import init_as_pycocotools
    >>> init_as_pycocotools()  # doctest: +SKIP
    >>> from pycocotools.cocoeval import COCOeval  # benchmark_eval's  # doctest: +SKIP
"""

from __future__ import annotations

__all__ = ["COCO", "LVIS", "COCOeval", "LVISEval", "LVISResults", "init_as_lvis",
           "init_as_pycocotools", "mask", "pq_compute"]

import sys
import types

from pycocotools import mask

from benchmark_eval.compat.coco import COCO
from benchmark_eval.compat.cocoeval import COCOeval, Params
from benchmark_eval.compat.lvis import LVIS, LVISEval, LVISResults
from benchmark_eval.compat.panoptic import pq_compute


def _module(name: str, doc: str, **names: object) -> types.ModuleType:
    module = types.ModuleType(name, doc)
    for key, value in names.items():
        setattr(module, key, value)
    return module


def init_as_pycocotools() -> None:
    """Register :class:`COCO`, :class:`COCOeval` and :mod:`mask` as ``pycocotools``,
    ``pycocotools.coco``, ``pycocotools.cocoeval`` and ``pycocotools.mask`` in
    ``sys.modules``, so code that imports pycocotools (torchmetrics, detectron2,
    torchvision's references) runs on benchmark_eval. Import those clients after calling it.
    """
    coco = _module("pycocotools.coco", "benchmark_eval.compat.coco", COCO=COCO)
    cocoeval = _module("pycocotools.cocoeval", "benchmark_eval.compat.cocoeval",
                       COCOeval=COCOeval, Params=Params)
    package = _module("pycocotools", "benchmark_eval.compat as pycocotools", coco=coco,
                      cocoeval=cocoeval, mask=mask, _mask=sys.modules.get("pycocotools._mask"),
                      __path__=[])
    sys.modules.update({"pycocotools": package, "pycocotools.coco": coco,
                        "pycocotools.cocoeval": cocoeval, "pycocotools.mask": mask})


def init_as_lvis() -> None:
    """Register :class:`LVIS`, :class:`LVISResults` and :class:`LVISEval` as ``lvis``
    (and ``lvis.lvis``, ``lvis.results``, ``lvis.eval``) in ``sys.modules``."""
    names = {"LVIS": LVIS, "LVISResults": LVISResults, "LVISEval": LVISEval}
    subs = {f"lvis.{m}": _module(f"lvis.{m}", "benchmark_eval.compat.lvis", **{k: names[k]})
            for m, k in (("lvis", "LVIS"), ("results", "LVISResults"), ("eval", "LVISEval"))}
    package = _module("lvis", "benchmark_eval.compat as lvis", __path__=[], **names)
    sys.modules.update({"lvis": package, **subs})
