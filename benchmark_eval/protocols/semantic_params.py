"""Parameters of the ``semantic`` protocols and the value -> matrix-index tables they imply.

A label map's values become confusion-matrix indices in three steps, all folded into one
lookup table per side (so the per-image cost is one gather, never a Python loop):

1. GT only, when ``reduce_zero_label``: 0 becomes the ignore index and every other value
   except the ignore index drops by one (mmseg ``LoadAnnotations(reduce_zero_label=True)``,
   for ADE20K: GT 0..150 -> 255, 0..149).
2. ``label_map`` replaces the listed values (e.g. Cityscapes label ids -> train ids); values
   not listed are kept. Under the ``mmseg`` rule the GT only (mmseg's ``LoadAnnotations``
   maps the annotation, after the zero shift; predictions are class indices already); under
   the ``detectron2`` and ``cityscapes`` rules both sides.
3. ``encoding="binary"``: 0 is background (class 0), any other value foreground (class 1).

Then a value is a class (``0 <= v < num_classes``), the ignore index, or out of range. The
matrix has one more row, ``IGNORED`` (GT pixels equal to the ignore index) and one more
column, ``NO_CLASS`` (predictions equal to the ignore index, or out of range when
``out_of_range="no-class"``). Out-of-range GT is always a problem.
"""

from __future__ import annotations

__all__ = ["MAX_CLASSES", "RULES", "Rule", "SemanticParams", "ValueTables", "build_tables"]

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

Rule = Literal["mmseg", "detectron2", "cityscapes"]
RULES: tuple[Rule, ...] = ("mmseg", "detectron2", "cityscapes")
MAX_CLASSES = 4096  # the (C+1)^2 int64 matrix stays under ~135 MB per process
_LUT_MAX = 1 << 16  # values in [0, 65536) go through lookup tables; others take a slow path


class SemanticParams(BaseModel):
    """How label maps are read and which rule turns the confusion matrix into metrics.

    Attributes:
        num_classes: C; class indices are ``0 .. C-1``.
        class_names: One name per class (the report's ``per_class`` keys); indices if None.
        ignore_index: GT pixels with this value are left out; a prediction with this value
            is "no class" (wrong wherever the GT is a class). ``None``: no ignore value.
        reduce_zero_label: mmseg's ADE20K shift of the GT (see the module docstring).
        label_map: ``{file value: class index}`` applied to the GT (``mmseg`` rule) or to
            GT and predictions (the other rules).
        encoding: ``"labels"`` (values are class indices) or ``"binary"`` (0 background,
            any other value foreground; needs ``num_classes=2``).
        out_of_range: A predicted value outside ``[0, C)`` that is not the ignore index is a
            problem (``"error"``) or counted as a "no class" prediction (``"no-class"``).
        rule: How undefined classes enter the metrics (``docs/protocols/semantic.md``).
        dice_averaging: ``"dataset"`` (Dice of the summed counts) or ``"per-image"`` (Dice
            of each image, then the mean over images: the medical-imaging convention).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_classes: int = Field(ge=1, le=MAX_CLASSES)
    class_names: tuple[str, ...] | None = None
    ignore_index: int | None = 255
    reduce_zero_label: bool = False
    label_map: dict[int, int] | None = None
    encoding: Literal["labels", "binary"] = "labels"
    out_of_range: Literal["error", "no-class"] = "error"
    rule: Rule = "mmseg"
    dice_averaging: Literal["dataset", "per-image"] = "dataset"

    @model_validator(mode="before")
    @classmethod
    def _has_num_classes(cls, data: Any) -> Any:
        if isinstance(data, dict) and "num_classes" not in data:
            raise ValueError("--num-classes is required (num_classes, in the parameters or"
                             " a --config preset)")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SemanticParams:
        c = self.num_classes
        if self.class_names is not None:
            if len(self.class_names) != c:
                raise ValueError(f"class_names has {len(self.class_names)} names, expected"
                                 f" num_classes={c}")
            if len(set(self.class_names)) != c:
                raise ValueError("class_names has duplicate names")
        if self.ignore_index is not None and 0 <= self.ignore_index < c:
            raise ValueError(f"ignore_index {self.ignore_index} is a class index (num_classes"
                             f"={c}); use a value outside [0, {c})")
        if self.reduce_zero_label and self.ignore_index is None:
            raise ValueError("reduce_zero_label maps 0 to the ignore index: set ignore_index")
        if self.encoding == "binary" and c != 2:
            raise ValueError(f"encoding 'binary' needs num_classes=2, got {c}")
        return self

    def names(self) -> list[str]:
        """Class names, or the class indices as strings."""
        return list(self.class_names) if self.class_names else [str(i) for i in range(
            self.num_classes)]

    def counting_fingerprint(self) -> str:
        """Identifies what decides the counts (the rule too when there is a ``label_map``,
        whose sides it decides): merged states must agree."""
        keys = ("num_classes", "ignore_index", "reduce_zero_label", "label_map", "encoding",
                "out_of_range", "dice_averaging", *(("rule",) if self.label_map else ()))
        data = self.model_dump(mode="json", include=set(keys))
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ValueTables:
    """Lookup tables from label-map values to matrix rows (GT) and columns (predictions).

    Rows and columns are ``0..C-1`` for classes, ``C`` for ``IGNORED`` (rows) / ``NO_CLASS``
    (columns) and ``C+1`` for values that are a problem (``INVALID``). The counting matrix is
    ``(C+2, C+2)``; the state keeps its first ``C+1`` rows and columns.

    Attributes:
        num_classes: C.
        gt_rows: ``(L,)`` intp, row of each GT value in ``[0, L)``.
        pred_cols: ``(L,)`` intp, column of each predicted value in ``[0, L)``.
        fold: ``(65536,)`` intp, flat ``(C+2, C+2)`` index of each ``gt * 256 + pred`` pair
            of 8-bit values: folds a raw pair histogram into the matrix.
        params: The parameters, for values outside ``[0, L)``.
    """

    num_classes: int
    gt_rows: np.ndarray
    pred_cols: np.ndarray
    fold: np.ndarray
    params: SemanticParams

    @property
    def width(self) -> int:
        """Side of the counting matrix, ``C + 2``."""
        return self.num_classes + 2

    def gt_row(self, value: int) -> int:
        """Row of one GT value (any integer)."""
        return _row(value, self.params, gt=True)

    def pred_col(self, value: int) -> int:
        """Column of one predicted value (any integer)."""
        return _row(value, self.params, gt=False)


def _row(value: int, p: SemanticParams, *, gt: bool) -> int:
    c, ignore, v = p.num_classes, p.ignore_index, value
    if gt and p.reduce_zero_label and ignore is not None:
        v = ignore if v in (0, ignore) else v - 1
    if p.label_map and v in p.label_map and (gt or p.rule != "mmseg"):
        v = p.label_map[v]
    if p.encoding == "binary" and v != ignore:
        v = 0 if v == 0 else 1
    if ignore is not None and v == ignore:
        return c
    if 0 <= v < c:
        return v
    return c if not gt and p.out_of_range == "no-class" else c + 1


def build_tables(params: SemanticParams) -> ValueTables:
    """The lookup tables of ``params`` (built once per evaluation)."""
    c = params.num_classes
    needed = [256, c, *(k + 1 for k in params.label_map or ())]
    if params.ignore_index is not None:
        needed.append(params.ignore_index + 1)
    size = min(_LUT_MAX, max(needed))
    gt_rows = np.array([_row(v, params, gt=True) for v in range(size)], dtype=np.intp)
    pred_cols = np.array([_row(v, params, gt=False) for v in range(size)], dtype=np.intp)
    w = c + 2
    fold = (gt_rows[:256, None] * w + pred_cols[None, :256]).reshape(-1)
    return ValueTables(num_classes=c, gt_rows=gt_rows, pred_cols=pred_cols,
                       fold=np.ascontiguousarray(fold), params=params)
