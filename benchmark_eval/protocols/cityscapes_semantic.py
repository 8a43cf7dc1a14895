"""Protocol ``cityscapes-semantic``: cityscapesScripts 2.3.0 pixel-level IoU and iIoU.

Reproduces ``evaluation/evalPixelLevelSemanticLabeling.py`` (``evaluatePair``,
``getIouScoreForLabel``, ``getInstanceIouScoreForLabel``, ``getIouScoreForCategory``,
``getInstanceIouScoreForCategory``, ``getScoreAverage``) on label-id maps:

* **State**: the ``34 x 34`` label-id confusion matrix (a :class:`SemanticState` with 34
  classes, counted by :func:`~benchmark_eval.protocols.semantic_count.pair_counts`), plus
  one record per GT instance (instance id ``> 1000`` of a class not ignored in evaluation):
  its size, the pixels predicted as its class (``tp``) and as any label of its category
  (``cat_tp``). States merge by addition and concatenation.
* **Class IoU** ``tp / (tp + fp + fn)``: FN over the full GT row (predicting a void id on a
  valid pixel is a miss), FP over the rows of GT labels not ignored in evaluation; NaN for
  ignored labels and when the denominator is 0 (a class only predicted scores 0).
* **iIoU**: TP and FN of each GT instance weighted by ``AVERAGE_INSTANCE_SIZE[class] /
  instance size``, FP unweighted from the matrix; group regions (ids ``< 1000``) only
  count in the matrix.
* **Category IoU / iIoU**: the same on blocks of labels; for the iIoU of ``human`` and
  ``vehicle``, a category prediction is any label of the category, ignored ones included
  (``caravan``, ``trailer``), in the TP and in the FP.
* **Averages**: the mean over the non-NaN values, summed in table order (``getScoreAverage``).

Weighted sums are added in the official order (images by name, instances by id).
"""

from __future__ import annotations

__all__ = [
    "AVERAGE_INSTANCE_SIZE",
    "EVALUATED_CATEGORIES",
    "EVALUATED_LABELS",
    "INSTANCE_CATEGORIES",
    "METRIC_KEYS",
    "CityscapesSemanticMetrics",
    "CityscapesSemanticParams",
    "CityscapesSemanticState",
    "CountingScratch",
    "SemanticImageCounter",
    "compute",
]

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from benchmark_eval.errors import ConfigError
from benchmark_eval.masks.cityscapes import KernelScratch, count_pixels
from benchmark_eval.protocols.semantic import class_mean
from benchmark_eval.protocols.semantic_count import _Buffers, pair_counts
from benchmark_eval.protocols.semantic_state import SemanticState
from benchmark_eval.schema.cityscapes import (
    CATEGORIES,
    INSTANCE_CLASSES,
    LABEL_BY_ID,
    LABELS,
    NUM_LABEL_IDS,
    category_label_ids,
)

METRIC_KEYS = ("IoU_class", "iIoU_class", "IoU_category", "iIoU_category")

AVERAGE_INSTANCE_SIZE: dict[str, float] = {
    "bicycle": 4672.3249222261,
    "caravan": 36771.8241758242,
    "motorcycle": 6298.7200839748,
    "rider": 3930.4788056518,
    "bus": 35732.1511111111,
    "train": 67583.7075812274,
    "car": 12794.0202738185,
    "person": 3462.4756337644,
    "truck": 27855.1264367816,
    "trailer": 16926.9763313609,
}
"""The official fixed average instance size per class in pixels (``args.avgClassSize``)."""

INSTANCE_ID_ABOVE = 1000
"""iIoU instances are the instance-map values strictly above 1000 (``instanceNp > 1000``)."""

_FINGERPRINT = "cityscapes-label-ids"
N = NUM_LABEL_IDS
_IGNORED = np.array([LABEL_BY_ID[i].ignore_in_eval for i in range(N)])
_HAS_INSTANCES = np.array([LABEL_BY_ID[i].has_instances for i in range(N)])
_CATEGORY = np.array([CATEGORIES.index(LABEL_BY_ID[i].category) for i in range(N)])
_AVG_SIZE = np.array([AVERAGE_INSTANCE_SIZE.get(LABEL_BY_ID[i].name, math.nan)
                      for i in range(N)])


def _instance_categories() -> tuple[str, ...]:
    """Categories all of whose painted labels have instances (``generateInstanceStats``)."""
    return tuple(c for c in CATEGORIES
                 if all(LABEL_BY_ID[i].has_instances
                        for i in category_label_ids(c, evaluated_only=False)))


INSTANCE_CATEGORIES = _instance_categories()  # ("human", "vehicle")


def _same_category_table() -> np.ndarray:
    """``(66, 256)`` uint8: predicted value ``p`` is a label of the category of an instance
    of label ``l`` (only for categories in :data:`INSTANCE_CATEGORIES`; rows up to 65 so
    any 16-bit instance id can be looked up before it is checked)."""
    table = np.zeros((66, 256), dtype=np.uint8)
    for c in INSTANCE_CATEGORIES:
        ids = list(category_label_ids(c, evaluated_only=False))
        for label in ids:
            table[label, ids] = 1
    return table


_SAME_CATEGORY = _same_category_table()


@dataclass(frozen=True)
class CityscapesSemanticState:
    """Sufficient statistics of ``cityscapes-semantic`` over some images.

    Attributes:
        pixels: The label-id confusion matrix (``pixels.confusion[:34, :34]``; rows GT,
            columns prediction; its extra row and column stay 0).
        image_names: The images counted, in counting order.
        inst_image: Per GT instance, index into ``image_names``, ``(M,)`` int64.
        inst_id: Instance id (``label * 1000 + k``), int64.
        inst_size: Pixels of the instance, int64.
        inst_tp: Its pixels predicted as its label, int64.
        inst_cat_tp: Its pixels predicted as any label of its category, int64.
    """

    pixels: SemanticState
    image_names: tuple[str, ...]
    inst_image: np.ndarray
    inst_id: np.ndarray
    inst_size: np.ndarray
    inst_tp: np.ndarray
    inst_cat_tp: np.ndarray

    @property
    def confusion(self) -> np.ndarray:
        """``(34, 34)`` int64 label-id confusion matrix."""
        return self.pixels.confusion[:N, :N]

    @classmethod
    def empty(cls) -> CityscapesSemanticState:
        """The identity of :meth:`merge`."""
        z = np.zeros(0, dtype=np.int64)
        return cls(SemanticState.empty(N, _FINGERPRINT), (), z, z, z, z, z)

    def merge(self, other: CityscapesSemanticState) -> CityscapesSemanticState:
        """Combine the statistics of two disjoint image sets (associative)."""
        return CityscapesSemanticState(
            pixels=self.pixels.merge(other.pixels),
            image_names=self.image_names + other.image_names,
            inst_image=np.concatenate([self.inst_image,
                                       other.inst_image + len(self.image_names)]),
            **{k: np.concatenate([getattr(self, k), getattr(other, k)])
               for k in ("inst_id", "inst_size", "inst_tp", "inst_cat_tp")})

    def save(self, path: str | Path) -> None:
        """Write the state to an ``.npz`` file."""
        buf = io.BytesIO()
        np.savez_compressed(buf, confusion=self.pixels.confusion,
                            n_images=np.int64(self.pixels.n_images),
                            image_names=np.array(self.image_names, dtype=np.str_),
                            inst_image=self.inst_image, inst_id=self.inst_id,
                            inst_size=self.inst_size, inst_tp=self.inst_tp,
                            inst_cat_tp=self.inst_cat_tp)
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> CityscapesSemanticState:
        """Read a state written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            if z["confusion"].shape != (N + 1, N + 1):
                raise ConfigError(f"{path}: not a cityscapes-semantic state")
            pixels = SemanticState(confusion=z["confusion"], n_images=int(z["n_images"]),
                                   image_names=(), image_stats=np.zeros((0, 4, N), np.int64),
                                   fingerprint=_FINGERPRINT)
            return cls(pixels, tuple(str(n) for n in z["image_names"]),
                       *(z[k] for k in ("inst_image", "inst_id", "inst_size", "inst_tp",
                                        "inst_cat_tp")))


class CityscapesSemanticParams(BaseModel):
    """Options of ``cityscapes-semantic``.

    Attributes:
        pred_ids: What the prediction PNGs hold: ``"labelIds"`` (the official format) or
            ``"trainIds"`` (0..18, 255; mapped to label ids first, 255 to ``unlabeled``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pred_ids: Literal["labelIds", "trainIds"] = "labelIds"


# ------------------------------------------------------------------------------- counting


def _values(a: np.ndarray, what: str) -> str:
    """``"40 (12 px), 255 (3 px)"`` for the values of ``a`` outside the label table."""
    bad = a[(a < 0) | (a >= N)]
    values, counts = np.unique(bad, return_counts=True)
    shown = ", ".join(f"{int(v)} ({int(c)} px)" for v, c in zip(values[:10], counts[:10],
                                                                strict=True))
    more = f" and {len(values) - 10} more" if len(values) > 10 else ""
    return f"{what} not in the Cityscapes label table (ids 0..{N - 1}): {shown}{more}"


def _as_ids(a: np.ndarray) -> np.ndarray | None:
    """``a`` as uint8 when every value is a label id, else None."""
    if a.dtype == np.uint8:
        return a if a.size == 0 or int(a.max()) < N else None
    if a.size and (int(a.min()) < 0 or int(a.max()) >= N):
        return None
    return a.astype(np.uint8)


class CountingScratch:
    """Scratch arrays reused from image to image (and shard to shard, one per process): a
    fresh 2048x1024 array per image costs page faults comparable to the counting itself."""

    def __init__(self) -> None:
        self.pairs = _Buffers()
        self.inside = np.empty(0, dtype=bool)
        self.kernel = KernelScratch()
        self.image_pairs = np.zeros(1 << 16, dtype=np.int64)

    def flags(self, shape: tuple[int, ...]) -> np.ndarray:
        """A bool array of ``shape`` (contents undefined)."""
        n = int(np.prod(shape))
        if self.inside.size < n:
            self.inside = np.empty(n, dtype=bool)
        return self.inside[:n].reshape(shape)


class SemanticImageCounter:
    """Counts images into a :class:`CityscapesSemanticState` (one per worker shard).

    Args:
        scratch: Reused scratch arrays (a new set when None).
    """

    def __init__(self, scratch: CountingScratch | None = None) -> None:
        self._pairs = np.zeros(1 << 16, dtype=np.int64)
        self._names: list[str] = []
        self._records: list[np.ndarray] = []
        self._scratch = scratch or CountingScratch()

    def add(self, name: str, gt_labels: np.ndarray, gt_instances: np.ndarray,
            pred: np.ndarray) -> list[tuple[str, str]]:
        """Count one image; returns ``(side, message)`` problems instead (nothing counted).

        ``side`` is ``"gt_labels"``, ``"gt_instances"`` or ``"pred"``. The three maps must be
        2-D integer arrays of one shape; ``pred`` holds label ids.
        """
        g, p = _as_ids(gt_labels), _as_ids(pred)
        problems = [(side, _values(a, what)) for side, a, ok, what in (
            ("gt_labels", gt_labels, g, "label ids"),
            ("pred", pred, p, "predicted label ids")) if ok is None]
        if problems or g is None or p is None:
            return problems
        scratch = self._scratch
        image_pairs = scratch.image_pairs  # all zero between images
        raw = count_pixels(g, p, gt_instances, image_pairs, _SAME_CATEGORY, scratch.kernel)
        if raw is None:  # numpy: the same counts
            inside = np.greater(gt_instances, INSTANCE_ID_ABOVE,
                                out=scratch.flags(gt_instances.shape))
            raw = _raw_instance_records(gt_instances, p, inside)
            values, counts = pair_counts(g, p, scratch.pairs)
            np.add.at(image_pairs, values, counts)
        records, problem = _checked_records(raw)
        if problem:
            image_pairs[:] = 0
            return [("gt_instances", problem)]
        self._pairs += image_pairs
        image_pairs[:] = 0
        self._records.append(np.column_stack([np.full(len(records), len(self._names)),
                                              records]))
        self._names.append(name)
        return []

    def state(self) -> CityscapesSemanticState:
        """The counts so far."""
        square = self._pairs.reshape(256, 256)[:N, :N]
        confusion = np.zeros((N + 1, N + 1), dtype=np.int64)
        confusion[:N, :N] = square
        pixels = SemanticState(confusion=confusion, n_images=len(self._names), image_names=(),
                               image_stats=np.zeros((0, 4, N), np.int64),
                               fingerprint=_FINGERPRINT)
        rec = (np.concatenate(self._records) if self._records
               else np.zeros((0, 5), dtype=np.int64))
        return CityscapesSemanticState(pixels, tuple(self._names),
                                       *(np.ascontiguousarray(rec[:, k]) for k in range(5)))


def _raw_instance_records(instances: np.ndarray, pred: np.ndarray, inside: np.ndarray
                          ) -> np.ndarray:
    """``(M, 4)`` int64 rows ``(id, size, tp, cat_tp)`` of every instance-map value
    ``> 1000`` (the pixels where ``inside``), ascending id."""
    key = instances[inside].astype(np.int64)
    key <<= 8
    key |= pred[inside]
    keys, counts = np.unique(key, return_counts=True)
    if not len(keys):
        return np.zeros((0, 4), np.int64)
    ids, values = keys >> 8, keys & 0xFF
    labels = np.minimum(ids // 1000, len(_SAME_CATEGORY) - 1)
    start = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    size = np.add.reduceat(counts, start)
    tp = np.add.reduceat(counts * (values == ids // 1000), start)
    cat_tp = np.add.reduceat(counts * _SAME_CATEGORY[labels, values], start)
    return np.column_stack([ids[start], size, tp, cat_tp]).astype(np.int64)


def _checked_records(raw: np.ndarray) -> tuple[np.ndarray, str | None]:
    """The records of instances of classes evaluated (the official script skips the
    others), or a problem: an instance id whose label is not in the table, or is a class
    without instances (``KeyError`` officially)."""
    labels = raw[:, 0] // 1000
    if len(labels) and int(labels.max()) >= N:
        return np.zeros((0, 4), np.int64), _values(raw[labels >= N, 0],
                                                   "instance ids whose label (id // 1000) is")
    keep = ~_IGNORED[labels]
    wrong = keep & ~_HAS_INSTANCES[labels]
    if wrong.any():
        shown = ", ".join(f"{int(i)} ({LABEL_BY_ID[int(i) // 1000].name})"
                          for i in raw[wrong, 0][:10])
        return np.zeros((0, 4), np.int64), (f"instance ids of classes without instances:"
                                            f" {shown}")
    return raw[keep], None


# -------------------------------------------------------------------------------- compute


@dataclass(frozen=True)
class CityscapesSemanticMetrics:
    """Everything :func:`compute` derives from a state (fractions; NaN where undefined).

    Attributes:
        iou: ``(34,)`` IoU per label id (NaN for labels ignored in evaluation).
        iiou: ``(34,)`` iIoU per label id (NaN except for the 8 instance classes).
        category_iou: ``(8,)`` per category of :data:`CATEGORIES`.
        category_iiou: ``(8,)`` (NaN except ``human`` and ``vehicle``).
        metrics: ``IoU_class``, ``iIoU_class``, ``IoU_category``, ``iIoU_category``.
        tp_weighted: ``(34,)`` weighted instance TP per label id.
        fn_weighted: ``(34,)`` weighted instance FN per label id.
    """

    iou: np.ndarray
    iiou: np.ndarray
    category_iou: np.ndarray
    category_iiou: np.ndarray
    metrics: dict[str, float]
    tp_weighted: np.ndarray
    fn_weighted: np.ndarray


def _running_sum(values: np.ndarray) -> float:
    """Sum in order, as ``+=`` from 0.0 does (``np.cumsum`` adds sequentially)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def _ratio(tp: float, denom: float) -> float:
    return math.nan if denom == 0 else float(tp / denom)


def _weighted(state: CityscapesSemanticState
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted TP / FN per label id and per category, in the official addition order."""
    rank = np.argsort(np.argsort(np.array(state.image_names, dtype=np.str_), kind="stable"))
    order = np.lexsort((state.inst_id, rank[state.inst_image])) if len(
        state.inst_id) else np.zeros(0, dtype=np.intp)
    ids = state.inst_id[order]
    size, tp, cat_tp = (a[order] for a in (state.inst_size, state.inst_tp, state.inst_cat_tp))
    labels = ids // 1000
    weight = _AVG_SIZE[labels] / size.astype(np.float64)
    terms = {"tp": tp * weight, "fn": (size - tp) * weight,
             "cat_tp": cat_tp * weight, "cat_fn": (size - cat_tp) * weight}
    per_label = {k: np.array([_running_sum(terms[k][labels == i]) for i in range(N)])
                 for k in ("tp", "fn")}
    cats = _CATEGORY[labels]
    per_cat = {k: np.array([_running_sum(terms[k][cats == c]) for c in range(len(
        CATEGORIES))]) for k in ("cat_tp", "cat_fn")}
    return per_label["tp"], per_label["fn"], per_cat["cat_tp"], per_cat["cat_fn"]


def compute(state: CityscapesSemanticState) -> CityscapesSemanticMetrics:
    """Class and category IoU / iIoU and their averages (see the module docstring)."""
    conf = state.confusion
    valid = ~_IGNORED
    tp = np.diagonal(conf).copy()
    fn = conf.sum(axis=1) - tp
    fp = conf[valid].sum(axis=0) - np.where(valid, tp, 0)
    tpw, fnw, cat_tpw, cat_fnw = _weighted(state)
    iou = np.full(N, np.nan)
    iiou = np.full(N, np.nan)
    for i in np.flatnonzero(valid).tolist():
        iou[i] = _ratio(float(tp[i]), float(tp[i] + fp[i] + fn[i]))
        if LABEL_BY_ID[i].name in INSTANCE_CLASSES:
            iiou[i] = _ratio(tpw[i], tpw[i] + np.int64(fp[i]) + fnw[i])
    cat_iou = np.full(len(CATEGORIES), np.nan)
    cat_iiou = np.full(len(CATEGORIES), np.nan)
    for c, name in enumerate(CATEGORIES):
        outside = np.flatnonzero(valid & (c != _CATEGORY))
        ids = np.array(category_label_ids(name, evaluated_only=True), dtype=np.intp)
        if len(ids):
            block = int(conf[np.ix_(ids, ids)].sum())
            miss = int(conf[ids].sum()) - block
            false = int(conf[np.ix_(outside, ids)].sum())
            cat_iou[c] = _ratio(float(block), float(block + false + miss))
        if name in INSTANCE_CATEGORIES:
            every = np.array(category_label_ids(name, evaluated_only=False), dtype=np.intp)
            false = np.int64(conf[np.ix_(outside, every)].sum())
            cat_iiou[c] = _ratio(cat_tpw[c], cat_tpw[c] + false + cat_fnw[c])
    metrics = {"IoU_class": class_mean(iou, "cityscapes"),
               "iIoU_class": class_mean(iiou, "cityscapes"),
               "IoU_category": class_mean(cat_iou, "cityscapes"),
               "iIoU_category": class_mean(cat_iiou, "cityscapes")}
    return CityscapesSemanticMetrics(iou=iou, iiou=iiou, category_iou=cat_iou,
                                     category_iiou=cat_iiou, metrics=metrics,
                                     tp_weighted=tpw, fn_weighted=fnw)


EVALUATED_LABELS: tuple[str, ...] = tuple(lb.name for lb in LABELS
                                          if lb.id >= 0 and not lb.ignore_in_eval)
"""The 19 ``per_class`` keys, in label-id order."""
EVALUATED_CATEGORIES: tuple[str, ...] = tuple(
    c for c in CATEGORIES if category_label_ids(c, evaluated_only=True))
"""The 7 ``per_category`` keys (``void`` has no evaluated label)."""
