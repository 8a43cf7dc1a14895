"""Columnar extraction of JSON records with precise diagnostics.

The fast path reads one field of every record with a comprehension and checks the set of
Python types in one pass; only when that fails does a slow pass walk the records to say
exactly which ones are wrong. Problems are collected, never raised, so ``validate`` can list
all of them while ``evaluate`` raises on the first.
"""

from __future__ import annotations

__all__ = ["MAX_LISTED", "REQUIRED", "ProblemList", "float_column", "int_column", "vector_column"]

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmark_eval.errors import (
    MAX_LISTED,
    ConsistencyError,
    FormatError,
    InputError,
    Problem,
    cut_problems,
)

# Python ints/floats as JSON gives them, and numpy scalars from in-memory inputs (not bool)
_INT = frozenset({int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64})
_NUMBER = _INT | frozenset({float, np.float16, np.float32, np.float64})
REQUIRED: Any = object()  # sentinel: the field must be present
Records = Sequence[dict[str, Any]]  # a JSON array of objects
_REQUIRED = REQUIRED


class ProblemList:
    """Problems of one file, each kind listed up to :data:`MAX_LISTED` times then counted
    (:func:`~benchmark_eval.errors.cut_problems` words the count)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []
        self._per_kind: dict[str, int] = {}
        self._first: dict[str, Problem] = {}
        self.has_format_problem = False

    def add(self, message: str, record: int | None = None, field: str | None = None,
            kind: str | None = None, *, consistency: bool = False) -> None:
        """Record a problem; ``kind`` groups repeats (defaults to the message).

        Args:
            consistency: The record is well formed but contradicts another (unknown or
                duplicate ids, sizes); otherwise it is a format problem.
        """
        self.has_format_problem |= not consistency
        kind = kind or message
        n = self._per_kind.get(kind, 0) + 1
        self._per_kind[kind] = n
        if n <= MAX_LISTED:
            self._list(kind, Problem(self.file, message, record, field))

    def add_where(self, bad: np.ndarray, field: str, kind: str,
                  message: Callable[[int], str], *, consistency: bool = False) -> None:
        """Record a problem for every row where ``bad`` is true (messages built lazily)."""
        rows = np.flatnonzero(bad)
        if not len(rows):
            return
        self.has_format_problem |= not consistency
        seen = self._per_kind.get(kind, 0)
        self._per_kind[kind] = seen + len(rows)
        for i in rows[: max(0, MAX_LISTED - seen)].tolist():
            self._list(kind, Problem(self.file, message(i), i, field))

    def _list(self, kind: str, problem: Problem) -> None:
        self.items.append(problem)
        self._first.setdefault(kind, problem)

    def summarise(self) -> list[Problem]:
        """The listed problems in record order, plus one line per kind that was cut short."""
        out = sorted(self.items, key=lambda p: (p.field or "", -1 if p.record is None
                                                  else p.record))
        for kind, n in self._per_kind.items():
            if n > MAX_LISTED:  # only the first MAX_LISTED were kept: cut_problems counts
                out += cut_problems([self._first[kind]] * n, kind=f"records: {kind}")[-1:]
        return out

    def error(self) -> InputError:
        """The exception to raise: :class:`FormatError` if any record is malformed, else
        :class:`ConsistencyError`."""
        cls = FormatError if self.has_format_problem else ConsistencyError
        return cls(self.summarise())

    def __bool__(self) -> bool:
        return bool(self.items)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _values(
    records: Records, key: str, field: str, problems: ProblemList,
    default: Any,
) -> list[Any] | None:
    try:
        if default is _REQUIRED:
            return [r[key] for r in records]
        return [r.get(key, default) for r in records]
    except (KeyError, TypeError, AttributeError):
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                problems.add(f"record is {type(r).__name__}, expected an object", i, field,
                             kind=f"{field} record not an object")
            elif key not in r and default is _REQUIRED:
                problems.add(f"missing required field '{key}'", i, field,
                             kind=f"{field} missing '{key}'")
        return None


def _typed_values(
    records: Records, key: str, field: str, problems: ProblemList,
    default: Any, types: frozenset[type], what: str,
) -> list[Any] | None:
    """Field ``key`` of every record if each value's type is in ``types``; else ``None``
    after naming every record whose value is not ``what``."""
    values = _values(records, key, field, problems, default)
    if values is None:
        return None
    if not set(map(type, values)) <= types:
        for i, v in enumerate(values):
            if type(v) not in types:
                problems.add(f"'{key}' must be {what}, got {_describe(v)}", i, field,
                             kind=f"{field} '{key}' not {what}")
        return None
    return values


def int_column(records: Records, key: str, field: str, problems: ProblemList,
               default: Any = _REQUIRED) -> np.ndarray | None:
    """Field ``key`` of every record as int64, or ``None`` after recording problems."""
    values = _typed_values(records, key, field, problems, default, _INT, "an integer")
    try:
        return None if values is None else np.array(values, dtype=np.int64)
    except OverflowError:
        problems.add(f"'{key}' has integers outside the 64-bit range", None, field)
        return None


def float_column(records: Records, key: str, field: str, problems: ProblemList,
                 default: Any = _REQUIRED) -> np.ndarray | None:
    """Field ``key`` of every record as finite float64, or ``None`` after recording problems."""
    values = _typed_values(records, key, field, problems, default, _NUMBER, "a number")
    if values is None:
        return None
    out = np.array(values, dtype=np.float64)
    bad = ~np.isfinite(out)
    problems.add_where(bad, field, f"{field} '{key}' not finite",
                       lambda i: f"'{key}' is {values[i]!r}, expected a finite number")
    return None if bad.any() else out


def vector_column(
    records: Records, key: str, field: str, problems: ProblemList,
    length: int, rows: np.ndarray | None = None,
) -> np.ndarray | None:
    """Field ``key`` (a list of ``length`` finite numbers) as float64 ``(N, length)``.

    Args:
        rows: Only read these record indices (others must not be inspected).
    """
    idx = range(len(records)) if rows is None else rows.tolist()
    try:
        values = [records[i][key] for i in idx]
    except (KeyError, TypeError):
        for i in idx:
            r = records[i]
            if isinstance(r, dict) and key not in r:
                problems.add(f"missing required field '{key}'", i, field,
                             kind=f"{field} missing '{key}'")
        return None
    ok = set(map(type, values)) <= {list} and set(map(len, values)) <= {length}
    ok = ok and set(map(type, itertools.chain.from_iterable(values))) <= _NUMBER
    if ok:
        out = np.array(values, dtype=np.float64).reshape(-1, length)
        if np.isfinite(out).all():
            return out
    for i, v in zip(idx, values, strict=True):
        if (not isinstance(v, list) or len(v) != length
                or any(type(x) not in _NUMBER or not math.isfinite(x) for x in v)):
            problems.add(f"'{key}' must be {length} finite numbers, got {_describe(v)}", i,
                         field, kind=f"{field} '{key}' malformed")
    return None
