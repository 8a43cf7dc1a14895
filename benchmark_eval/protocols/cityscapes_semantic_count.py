"""Counting images of ``cityscapes-semantic`` into a :class:`CityscapesSemanticState`.

One pass over the three maps of an image (the C kernel of :mod:`benchmark_eval.masks.cityscapes`,
or numpy: :func:`~benchmark_eval.protocols.semantic_count.pair_counts` and one ``np.unique``)
counts the (GT label id, predicted label id) pairs and one record per GT instance, as
cityscapesScripts 2.3.0 ``evaluatePair`` does; :mod:`benchmark_eval.protocols.cityscapes_semantic`
turns the merged state into IoU / iIoU.
"""

from __future__ import annotations

__all__ = [
    "INSTANCE_CATEGORIES",
    "INSTANCE_ID_ABOVE",
    "CityscapesSemanticState",
    "CountingScratch",
    "SemanticImageCounter",
]

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchmark_eval.masks.cityscapes import KernelScratch, count_pixels
from benchmark_eval.protocols.semantic_count import _Buffers, pair_counts
from benchmark_eval.protocols.state import MergeableState, concatenated, summed
from benchmark_eval.schema.cityscapes import (
    CATEGORIES,
    LABEL_BY_ID,
    NUM_LABEL_IDS,
    category_label_ids,
)

INSTANCE_ID_ABOVE = 1000
"""iIoU instances are the instance-map values strictly above 1000 (``instanceNp > 1000``)."""

N = NUM_LABEL_IDS
_IGNORED = np.array([LABEL_BY_ID[i].ignore_in_eval for i in range(N)])
_HAS_INSTANCES = np.array([LABEL_BY_ID[i].has_instances for i in range(N)])
_MAX_VALUES_LISTED = 10  # values named per message


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


@dataclass(frozen=True, eq=False)
class CityscapesSemanticState(MergeableState):
    """Sufficient statistics of ``cityscapes-semantic`` over some images.

    ``merge``, ``identity``, ``save`` and ``load`` come from
    :class:`~benchmark_eval.protocols.state.MergeableState`.

    Attributes:
        confusion: ``(34, 34)`` int64 label-id confusion matrix (rows GT, columns prediction).
        image_names: The images counted, in counting order.
        image_instances: ``(n_images,)`` int64, the GT instance records of each image (they
            follow each other in ``inst_*``, in image order).
        inst_id: Per GT instance, its id (``label * 1000 + k``), ``(M,)`` int64.
        inst_size: Pixels of the instance, int64.
        inst_tp: Its pixels predicted as its label, int64.
        inst_cat_tp: Its pixels predicted as any label of its category, int64.
    """

    label: ClassVar[str] = "cityscapes-semantic"

    confusion: np.ndarray = summed()
    image_names: tuple[str, ...] = concatenated()
    image_instances: np.ndarray = concatenated()
    inst_id: np.ndarray = concatenated()
    inst_size: np.ndarray = concatenated()
    inst_tp: np.ndarray = concatenated()
    inst_cat_tp: np.ndarray = concatenated()

    @property
    def inst_image(self) -> np.ndarray:
        """Per GT instance, its image's index into ``image_names``, ``(M,)``."""
        return np.repeat(np.arange(len(self.image_names)), self.image_instances)

    @classmethod
    def empty(cls) -> CityscapesSemanticState:
        """The identity of :meth:`merge`."""
        z = np.zeros(0, dtype=np.int64)
        return cls(np.zeros((N, N), dtype=np.int64), (), z, z, z, z, z)


def _values(a: np.ndarray, what: str) -> str:
    """``"40 (12 px), 255 (3 px)"`` for the values of ``a`` outside the label table."""
    bad = a[(a < 0) | (a >= N)]
    values, counts = np.unique(bad, return_counts=True)
    k = _MAX_VALUES_LISTED
    shown = ", ".join(f"{int(v)} ({int(c)} px)" for v, c in zip(values[:k], counts[:k],
                                                                strict=True))
    more = f" and {len(values) - k} more" if len(values) > k else ""
    return f"{what} not in the Cityscapes label table (ids 0..{N - 1}): {shown}{more}"


def _as_ids(a: np.ndarray) -> np.ndarray | None:
    """``a`` as uint8 when every value is a label id, else None."""
    if a.dtype == np.uint8:
        return a if a.size == 0 or int(a.max()) < N else None
    if a.size and (int(a.min()) < 0 or int(a.max()) >= N):
        return None
    return a.astype(np.uint8)


class CountingScratch:
    """Scratch arrays reused from image to image of a shard: a fresh 2048x1024 array per
    image costs page faults comparable to the counting itself."""

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
    """Counts images into a :class:`CityscapesSemanticState` (one per shard).

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
        self._records.append(records)
        self._names.append(name)
        return []

    def state(self) -> CityscapesSemanticState:
        """The counts so far."""
        square = self._pairs.reshape(256, 256)[:N, :N]
        rec = (np.concatenate(self._records) if self._records
               else np.zeros((0, 4), dtype=np.int64))
        per_image = np.array([len(r) for r in self._records], dtype=np.int64)
        return CityscapesSemanticState(np.ascontiguousarray(square), tuple(self._names),
                                       per_image,
                                       *(np.ascontiguousarray(rec[:, k]) for k in range(4)))


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
                          for i in raw[wrong, 0][:_MAX_VALUES_LISTED])
        return np.zeros((0, 4), np.int64), (f"instance ids of classes without instances:"
                                            f" {shown}")
    return raw[keep], None
