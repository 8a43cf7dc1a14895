"""The Python API: ``evaluate`` and ``validate`` by protocol name."""

from __future__ import annotations

__all__ = ["PROTOCOLS", "evaluate"]

from collections.abc import Callable
from typing import Any

from benchmark_eval.errors import ConfigError
from benchmark_eval.io.coco import Source
from benchmark_eval.protocols.coco import evaluate_coco
from benchmark_eval.protocols.coco_match import IouType
from benchmark_eval.protocols.coco_params import CocoParams
from benchmark_eval.report.coco import CocoResult

PROTOCOLS = ("coco-bbox", "coco-segm")


def evaluate(
    protocol: str, *, gt: Source, pred: Source, params: CocoParams | dict[str, Any] | None = None,
    workers: int = 1, progress: Callable[[int, int], None] | None = None,
) -> CocoResult:
    """Score predictions against ground truth with a named protocol.

    Args:
        protocol: ``"coco-bbox"`` or ``"coco-segm"``.
        gt: Ground-truth file path, or the already-loaded JSON object.
        pred: Predictions file path, or the already-loaded JSON object.
        params: Protocol parameters (a :class:`CocoParams` or a dict of its fields); the
            official preset when None.
        workers: Processes for the per-image stage; 0 means all cores.
        progress: Called with (images done, images total).

    Raises:
        ConfigError: Unknown protocol or invalid parameters.
        InputError: The inputs failed checks; ``.problems`` lists them.

    Example:
        >>> r = evaluate("coco-bbox", gt="gt.json", pred="results.json")  # doctest: +SKIP
        >>> r.metrics["AP"]  # doctest: +SKIP
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if isinstance(params, dict):
        try:
            params = CocoParams(**params)
        except ValueError as exc:
            raise ConfigError(f"invalid parameters for {protocol}: {exc}") from exc
    iou_type: IouType = "bbox" if protocol == "coco-bbox" else "segm"
    return evaluate_coco(iou_type, gt, pred, params=params, workers=workers, progress=progress)
