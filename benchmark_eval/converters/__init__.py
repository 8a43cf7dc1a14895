"""Every conversion, by name: the registry ``benchmark-eval convert`` dispatches through.

Each family module (:mod:`~benchmark_eval.converters.coco_panoptic`,
:mod:`~benchmark_eval.converters.cityscapes`) holds its ``convert_*`` functions and their
:class:`Converter` entries; a new conversion is one more entry there.
"""

from benchmark_eval.converters import cityscapes, coco_panoptic
from benchmark_eval.converters.base import Converted, Converter

__all__ = ["CONVERTERS", "Converted", "Converter"]

CONVERTERS: dict[str, Converter] = {
    c.name: c for c in (*coco_panoptic.CONVERTERS, *cityscapes.CONVERTERS)}
