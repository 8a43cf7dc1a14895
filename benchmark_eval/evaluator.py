"""A per-batch evaluator for training loops, on the protocol contract.

Each :meth:`Evaluator.update` scores one batch of predictions against the ground truth of
the batch's images (the protocol's :class:`~benchmark_eval.workflows.base.Workflow` plans
it; its ``batch_gt`` hook restricts the GT) and merges the batch's
:class:`~benchmark_eval.protocols.state.MergeableState` into the running state. States are
plain numpy data: they pickle, save to ``.npz`` and merge across processes (gathering them
across ranks is the caller's ``all_gather_object``); no torch needed. :meth:`compute` adds
the images no batch mentioned (GT with no predictions) and finishes as the one-shot
``evaluate`` would: the same numbers, whatever the batch order and split.
"""

from __future__ import annotations

__all__ = ["Evaluator"]

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmark_eval.errors import ConfigError, InputError, Notice, Problem, UnsupportedError
from benchmark_eval.protocols.state import MergeableState
from benchmark_eval.workflows import WORKFLOWS, Result, Workflow
from benchmark_eval.workflows.base import refuse_if_strict


def _records(preds: Any) -> list[dict[str, Any]]:
    """COCO result records from a list of records, or ``{image_id: {"boxes" (N, 4) xywh,
    "scores" (N,), "labels" (N,), optional "masks" (N, H, W) bool}}`` arrays per image."""
    if isinstance(preds, Mapping):
        out: list[dict[str, Any]] = []
        for image_id, p in preds.items():
            scores = np.asarray(p["scores"], dtype=np.float64).reshape(-1)
            labels = np.asarray(p["labels"]).reshape(-1)
            boxes = p.get("boxes")
            masks = p.get("masks")
            for j in range(len(scores)):
                rec: dict[str, Any] = {"image_id": int(image_id), "category_id": int(labels[j]),
                                       "score": float(scores[j])}
                if boxes is not None:
                    rec["bbox"] = [float(v) for v in np.asarray(boxes[j]).reshape(4)]
                if masks is not None:
                    rec["segmentation"] = np.asarray(masks[j], dtype=bool)
                out.append(rec)
        return out
    return list(preds)


class Evaluator:
    """``Evaluator(protocol, gt=..., params=..., strict=False)``: ``update`` per batch,
    ``merge`` with another rank's evaluator, ``compute`` the result.

    Args:
        protocol: A protocol with a per-batch adapter (``coco-*``, ``lvis-*``).
        gt: The ground truth (a path, a dict or a ``pycocotools.coco.COCO``), read once.
        params: The protocol's parameters (a model, a dict, a preset name or file).
        strict: Refuse a batch with inputs the official tool would silently drop or
            reinterpret (``strict=True`` of :func:`benchmark_eval.evaluate`).

    Example:
        >>> ev = Evaluator("coco-bbox", gt="instances_val2017.json")  # doctest: +SKIP
        >>> for batch in loader:  # doctest: +SKIP
        ...     ev.update(model_results(batch))
        >>> ev.compute().metrics["AP"]  # doctest: +SKIP
    """

    def __init__(self, protocol: str, *, gt: Any, params: Any = None,
                 strict: bool = False) -> None:
        workflow = WORKFLOWS.get(protocol)
        if workflow is None:
            raise ConfigError(f"unknown protocol {protocol!r}")
        if not isinstance(workflow, Workflow) or workflow.batch_gt is None:
            raise UnsupportedError(f"{protocol} has no per-batch adapter yet; use"
                                   " benchmark_eval.evaluate on the saved predictions")
        self.protocol = protocol
        self.params = workflow.params(params)
        self.strict = strict
        self.workflow: Workflow = workflow
        self._subset = workflow.batch_gt(gt)
        self._all = self._subset(None)
        self.seen: set[int] = set()
        self.warnings: list[Notice] = []
        self.counts: dict[str, int] = {}
        self.state: MergeableState = self._plan([], []).empty

    def __getstate__(self) -> dict[str, Any]:
        """Picklable: the GT travels as its (read) dict, the workflow by name."""
        return {k: v for k, v in self.__dict__.items() if k not in ("workflow", "_subset")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        workflow = WORKFLOWS[self.protocol]
        if not isinstance(workflow, Workflow) or workflow.batch_gt is None:
            raise UnsupportedError(f"{self.protocol} has no per-batch adapter")
        self.workflow = workflow
        self._subset = workflow.batch_gt(self._all)

    def _plan(self, image_ids: Iterable[int], records: list[dict[str, Any]]) -> Any:
        return self.workflow.plan(self.params, gt=self._subset(image_ids), pred=records,
                                  workers=1)

    def reset(self) -> None:
        """Forget every batch (detectron2's ``DatasetEvaluator.reset``)."""
        self.seen, self.warnings, self.counts = set(), [], {}
        self.state = self.state.identity()

    def update(self, preds: Any) -> None:
        """Score one batch: COCO result records, or arrays per image (see ``_records``).

        Raises:
            InputError: The batch failed checks, names an image an earlier batch already
                had, or (``strict``) has inputs the official tool would drop.
        """
        records = _records(preds)
        ids = sorted({int(r["image_id"]) for r in records if isinstance(r, dict)
                      and isinstance(r.get("image_id"), (int, np.integer))})
        again = [i for i in ids if i in self.seen]
        if again:
            raise InputError(Problem("<batch>", f"image_id {again[0]} was already in an"
                                     " earlier batch: give each image's predictions once"))
        if not records:
            return
        plan = self._plan(ids, records)
        state = plan.state()
        result = refuse_if_strict(plan.finish(state), self.strict)
        self.warnings += [w for w in result.warnings if w.code != "empty-results"]
        for key, value in result.counts.items():
            if key.startswith("detections"):
                self.counts[key] = self.counts.get(key, 0) + value
        self.state = self.state.merge(state)
        self.seen.update(ids)

    def merge(self, other: Evaluator) -> Evaluator:
        """This evaluator and ``other`` (another rank's, the same protocol, GT and params)
        as one; their images must be disjoint."""
        both = self.seen & other.seen
        if both:
            raise InputError(Problem("<batch>", f"image_id {min(both)} was evaluated by both"
                                     " evaluators"))
        out = Evaluator.__new__(Evaluator)
        out.__dict__.update(self.__dict__)
        out.state = self.state.merge(other.state)
        out.seen = self.seen | other.seen
        out.warnings = self.warnings + other.warnings
        out.counts = {k: self.counts.get(k, 0) + other.counts.get(k, 0)
                      for k in {*self.counts, *other.counts}}
        return out

    def compute(self) -> Result:
        """The result over every GT image (those without predictions score as such)."""
        all_ids = [int(i["id"]) for i in self._all.get("images", [])]
        unseen = [i for i in all_ids if i not in self.seen]
        state = self.state
        if unseen:
            state = state.merge(self._plan(unseen, []).state())
        full = self.workflow.plan(self.params, gt=self._all, pred=[], workers=1)
        result = full.finish(state)
        counts = {**result.counts, **self.counts}
        return dataclasses.replace(result, warnings=_merged(self.warnings),
                                   counts=counts)

    def save(self, path: str | Path) -> None:
        """Save the running state (``.npz``); see :meth:`MergeableState.load`."""
        self.state.save(path)


def _merged(notices: list[Notice]) -> list[Notice]:
    """One notice per code: the first, with the count summed over the batches."""
    first: dict[str, Notice] = {}
    total: dict[str, int] = {}
    for n in notices:
        first.setdefault(n.code, n)
        total[n.code] = total.get(n.code, 0) + n.count
    return [dataclasses.replace(n, count=total[c]) if total[c] != n.count else n
            for c, n in first.items()]
