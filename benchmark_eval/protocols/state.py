"""Declarative evaluation state: fields declared once with their merge rule.

Like torchmetrics' ``add_state(..., dist_reduce_fx="sum")`` and TrackEval's summed fields, a
state class lists its fields with :func:`summed`, :func:`concatenated` or :func:`same`, and
:class:`MergeableState` derives ``merge``, ``identity``, ``save``, ``load`` and equality from
those rules. A state holds sufficient statistics only, so states of disjoint image sets
merge in any order.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True, eq=False)
    ... class Counts(MergeableState):
    ...     labels: np.ndarray = same()
    ...     hits: np.ndarray = summed()
    >>> a = Counts(labels=np.array([1, 2]), hits=np.array([3, 0]))
    >>> a.merge(a).hits.tolist()
    [6, 0]
"""

from __future__ import annotations

__all__ = ["CONCAT", "SAME", "SUM", "MergeableState", "concatenated", "same", "summed"]

import dataclasses
import functools
import io
import itertools
import operator
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import orjson

from benchmark_eval.errors import ConfigError, FormatError, Problem

SUM = "sum"  # arrays and ints add
CONCAT = "concat"  # arrays concatenate along axis 0, tuples join
SAME = "same"  # must be equal in both states (parameters, category axis, fingerprint)
_RULE = "merge_rule"

S = TypeVar("S", bound="MergeableState")


def summed(**kwargs: Any) -> Any:
    """A field that merges by addition (counts, sums, confusion matrices)."""
    return dataclasses.field(metadata={_RULE: SUM}, **kwargs)


def concatenated(**kwargs: Any) -> Any:
    """A field that merges by concatenation along its first axis (per-record columns)."""
    return dataclasses.field(metadata={_RULE: CONCAT}, **kwargs)


def same(**kwargs: Any) -> Any:
    """A field both states must share (axes, parameter fingerprints)."""
    return dataclasses.field(metadata={_RULE: SAME}, **kwargs)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        # undefined values (NaN distances, ratios) are equal to themselves
        nan = all(isinstance(x, np.ndarray) and x.dtype.kind in "fc" for x in (a, b))
        return bool(np.array_equal(a, b, equal_nan=nan))
    return bool(a == b)


def _combine(rule: str, a: Any, b: Any) -> Any:
    if rule == SUM:
        return a + b
    if isinstance(a, tuple):
        return a + b
    return np.concatenate([a, b])


def _empty_like(rule: str, value: Any) -> Any:
    if rule == SAME:
        return value
    if isinstance(value, np.ndarray):
        return np.zeros_like(value) if rule == SUM else value[:0]
    return type(value)()  # 0 for ints and floats, () for tuples


# How a field's value is written to and read back from an ``.npz`` member.
def _encode(value: Any) -> tuple[str, Any]:
    if isinstance(value, np.ndarray):
        return "array", value
    if isinstance(value, bool):
        return "bool", np.bool_(value)
    if isinstance(value, int):
        return "int", np.int64(value)
    if isinstance(value, float):
        return "float", np.float64(value)
    if isinstance(value, str):
        return "str", np.str_(value)
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return "str-tuple", np.array(value, dtype=np.str_)
    raise TypeError(f"cannot save a state field of type {type(value).__name__}")


def _decode(kind: str, member: np.ndarray) -> Any:
    if kind == "array":
        return member
    if kind == "str-tuple":
        return tuple(str(v) for v in member)
    return {"bool": bool, "int": int, "float": float, "str": str}[kind](member)


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return (f.default is not dataclasses.MISSING
            or f.default_factory is not dataclasses.MISSING)


class MergeableState:
    """Base of every protocol's state dataclass (declare it ``frozen=True, eq=False``).

    Subclasses declare each field with :func:`summed`, :func:`concatenated` or :func:`same`
    and name themselves in :attr:`label` for error messages.
    """

    label: ClassVar[str] = "evaluation"

    @classmethod
    def _rules(cls) -> list[tuple[str, str]]:
        return [(f.name, f.metadata.get(_RULE, SAME))
                for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    def merge(self: S, other: S) -> S:
        """The statistics of two disjoint image sets together (associative; the identity is
        :meth:`identity`).

        Raises:
            ConfigError: The states were built with different parameters or axes.
        """
        self._check_mergeable(other)
        values: dict[str, Any] = {}
        for name, rule in self._rules():
            a, b = getattr(self, name), getattr(other, name)
            values[name] = a if rule == SAME else _combine(rule, a, b)
        return type(self)(**values)

    def merge_all(self: S, others: Iterable[S]) -> S:
        """``self.merge(a).merge(b)...`` in one step, with the same result bit for bit:
        concatenated fields are joined once (a fold of merges copies the growing arrays
        at every step: quadratic in the number of shards), summed fields added in the
        same order.

        Raises:
            ConfigError: As :meth:`merge`, for the first state that does not fit.
        """
        parts = [self, *others]
        for other in parts[1:]:
            self._check_mergeable(other)
        values: dict[str, Any] = {}
        for name, rule in self._rules():
            column = [getattr(p, name) for p in parts]
            if rule == SAME:
                values[name] = column[0]
            elif rule == SUM:
                values[name] = functools.reduce(operator.add, column)
            elif isinstance(column[0], tuple):
                values[name] = tuple(itertools.chain.from_iterable(column))
            else:
                values[name] = np.concatenate(column)
        return type(self)(**values)

    def _check_mergeable(self, other: MergeableState) -> None:
        if type(other) is not type(self):
            raise ConfigError(f"cannot merge a {type(self).__name__} with a"
                              f" {type(other).__name__}")
        for name, rule in self._rules():
            if rule == SAME and not _equal(getattr(self, name), getattr(other, name)):
                raise ConfigError(f"cannot merge {self.label} states built with different"
                                  f" parameters or category lists ({name} differs)")

    def identity(self: S) -> S:
        """The empty state with this one's parameters and axes (``x.merge(identity) == x``)."""
        return type(self)(**{name: _empty_like(rule, getattr(self, name))
                             for name, rule in self._rules()})

    def save(self, path: str | Path) -> None:
        """Write the state to an ``.npz`` file (for sharded or cluster runs)."""
        kinds: dict[str, str] = {}
        members: dict[str, Any] = {}
        for name, _ in self._rules():
            kinds[name], members[name] = _encode(getattr(self, name))
        buf = io.BytesIO()
        members["__kinds__"] = np.str_(orjson.dumps(kinds).decode())
        members["__state__"] = np.str_(type(self).__name__)
        np.savez_compressed(buf, allow_pickle=False, **members)
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls: type[S], path: str | Path) -> S:
        """Read a state written by :meth:`save`.

        Raises:
            FormatError: Not a saved state of this class.
        """
        try:
            with np.load(path, allow_pickle=False) as z:
                kinds = orjson.loads(str(z["__kinds__"]))
                if str(z["__state__"]) != cls.__name__:
                    raise FormatError(Problem(str(path), f"holds a {z['__state__']}, expected"
                                                         f" a {cls.__name__}"))
                # a field added after the file was written takes its declared default
                values = {f.name: _decode(kinds[f.name], z[f.name])
                          for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                          if f.name in kinds or not _has_default(f)}
        except (OSError, KeyError, ValueError, orjson.JSONDecodeError) as exc:
            raise FormatError(Problem(str(path), f"not a saved {cls.__name__}: {exc}")) from exc
        return cls(**values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_equal(getattr(self, n), getattr(other, n)) for n, _ in self._rules())

    __hash__ = None  # type: ignore[assignment]
