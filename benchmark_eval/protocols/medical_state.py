"""Parameters and mergeable state of the ``medical`` protocol (docs/protocols/medical.md).

The state keeps one row per case: voxel counts and surface statistics per evaluated label
(or nnU-Net region), computed in the shard task. Rows merge by concatenation, so shards of
cases merge in any grouping, and every empty-case rule is applied later, in the pure
compute step, to the same rows.
"""

from __future__ import annotations

__all__ = ["EMPTY_RULES", "EmptyRule", "MedicalParams", "MedicalState"]

import hashlib
import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from benchmark_eval.protocols.state import MergeableState, concatenated, same

EmptyRule = Literal["nnunet", "monai", "empty_is_one"]
EMPTY_RULES: tuple[EmptyRule, ...] = ("nnunet", "monai", "empty_is_one")


class MedicalParams(BaseModel):
    """What to score and how empty cases count.

    Attributes:
        labels: Foreground labels to score (positive integers); with ``regions``, the
            labels a volume may hold besides 0 and ``ignore_label``.
        regions: nnU-Net region-based evaluation: each region is a tuple of labels scored
            as one mask (``(1, 2, 3)`` = whole tumour). Empty: each label is scored.
        names: One display name per label (or region); the keys stay the label ids.
        nsd_tolerance: NSD tolerance τ in mm: one value for every label, or one per label.
        empty_rule: How a case whose reference and/or prediction is empty counts
            (``nnunet``, ``monai`` or ``empty_is_one``; docs/protocols/medical.md).
        ignore_label: GT value whose voxels are left out of every count (nnU-Net's
            ``"ignore"`` label) and removed from the prediction's surface.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    labels: tuple[int, ...] = ()
    regions: tuple[tuple[int, ...], ...] = ()
    names: tuple[str, ...] | None = None
    nsd_tolerance: tuple[float, ...] = (1.0,)
    empty_rule: EmptyRule = "nnunet"
    ignore_label: int | None = None

    @field_validator("nsd_tolerance", mode="before")
    @classmethod
    def _one_tolerance(cls, v: object) -> object:
        return (v,) if isinstance(v, (int, float)) else v

    @model_validator(mode="after")
    def _check(self) -> MedicalParams:
        if any(v <= 0 for v in self.labels) or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be distinct positive integers, got {self.labels}")
        for region in self.regions:
            if not region or any(v not in self.labels for v in region):
                raise ValueError(f"region {region} must list labels of {self.labels}")
        if self.ignore_label is not None and (self.ignore_label in self.labels
                                              or self.ignore_label <= 0):
            raise ValueError(f"ignore_label {self.ignore_label} must be a positive value"
                             " outside the labels")
        n = len(self.classes())
        if len(self.nsd_tolerance) not in (1, n) or not all(
                math.isfinite(t) and t >= 0 for t in self.nsd_tolerance):
            raise ValueError(f"nsd_tolerance: give one tolerance in mm, or one per label"
                             f" ({n}), each >= 0; got {self.nsd_tolerance}")
        if self.names is not None and len(self.names) != n:
            raise ValueError(f"names: expected {n} names, got {len(self.names)}")
        return self

    def classes(self) -> tuple[tuple[int, ...], ...]:
        """Each scored label or region as its tuple of label values."""
        return self.regions or tuple((v,) for v in self.labels)

    def keys(self) -> tuple[str, ...]:
        """Report keys, as nnU-Net writes them: ``"1"``, or ``"(1, 2)"`` for a region."""
        return tuple(str(c[0]) if len(c) == 1 else str(c) for c in self.classes())

    def display_names(self) -> tuple[str, ...]:
        """``names``, or the keys."""
        return self.names if self.names is not None else self.keys()

    def tolerances(self) -> tuple[float, ...]:
        """The NSD tolerance of each scored label or region, in mm."""
        n = len(self.classes())
        return self.nsd_tolerance * n if len(self.nsd_tolerance) == 1 else self.nsd_tolerance

    def allowed_values(self) -> tuple[int, ...]:
        """Values a volume may hold: 0, the labels and the ignore label."""
        extra = () if self.ignore_label is None else (self.ignore_label,)
        return tuple(sorted({0, *self.labels, *extra}))

    def fingerprint(self) -> str:
        """What the per-case rows depend on (everything but the empty-case rule)."""
        basis = self.model_dump_json(exclude={"empty_rule", "names"})
        return hashlib.sha256(basis.encode()).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class MedicalState(MergeableState):
    """Per-case rows of a ``medical`` evaluation; arrays are ``(N cases, K labels)``.

    Attributes:
        case_names: The cases, in row order.
        tp: True-positive voxels (ignored voxels left out), int64.
        fp: False-positive voxels.
        fn: False-negative voxels.
        tn: True-negative voxels.
        hd: Hausdorff distance in mm, float64; NaN where a side is empty.
        hd95: MedPy's HD95 (95th percentile of both directions pooled).
        hd95_directed: MONAI's HD95 (max of the two directed 95th percentiles).
        assd: Average symmetric surface distance (both directions pooled).
        surface_pred: Surface voxels of the prediction, int64.
        surface_ref: Surface voxels of the reference.
        close_pred: Prediction surface voxels within τ of the reference surface.
        close_ref: Reference surface voxels within τ of the prediction surface.
        keys: The label keys (columns).
        fingerprint: :meth:`MedicalParams.fingerprint` of the parameters used.
    """

    label: ClassVar[str] = "medical"

    case_names: tuple[str, ...] = concatenated()
    tp: np.ndarray = concatenated()
    fp: np.ndarray = concatenated()
    fn: np.ndarray = concatenated()
    tn: np.ndarray = concatenated()
    hd: np.ndarray = concatenated()
    hd95: np.ndarray = concatenated()
    hd95_directed: np.ndarray = concatenated()
    assd: np.ndarray = concatenated()
    surface_pred: np.ndarray = concatenated()
    surface_ref: np.ndarray = concatenated()
    close_pred: np.ndarray = concatenated()
    close_ref: np.ndarray = concatenated()
    keys: tuple[str, ...] = same()
    fingerprint: str = same()

    COUNTS: ClassVar[tuple[str, ...]] = ("tp", "fp", "fn", "tn", "surface_pred",
                                         "surface_ref", "close_pred", "close_ref")
    DISTANCES: ClassVar[tuple[str, ...]] = ("hd", "hd95", "hd95_directed", "assd")

    @classmethod
    def empty(cls, keys: tuple[str, ...], fingerprint: str) -> MedicalState:
        """No case yet (the identity of :meth:`merge`)."""
        k = len(keys)
        arrays = {n: np.zeros((0, k), dtype=np.int64) for n in cls.COUNTS}
        arrays.update({n: np.zeros((0, k), dtype=np.float64) for n in cls.DISTANCES})
        return cls(case_names=(), keys=keys, fingerprint=fingerprint, **arrays)

    @property
    def n_ref(self) -> np.ndarray:
        """Reference voxels per case and label (``tp + fn``, nnU-Net's ``n_ref``)."""
        return self.tp + self.fn

    @property
    def n_pred(self) -> np.ndarray:
        """Predicted voxels per case and label (``tp + fp``, nnU-Net's ``n_pred``)."""
        return self.tp + self.fp
