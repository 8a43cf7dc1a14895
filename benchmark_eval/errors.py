"""Exception and warning hierarchy.

Every error a user can cause derives from :class:`BenchmarkEvalError` and carries a message
that says what is wrong, where (file, record index, image id) and what was expected.
"""

from __future__ import annotations

__all__ = [
    "BenchmarkEvalError",
    "BenchmarkEvalWarning",
    "ConfigError",
    "ConsistencyError",
    "FormatError",
    "InputError",
    "MissingPredictionError",
    "Notice",
    "Problem",
    "UnsupportedError",
    "count_problems",
    "cut_problems",
    "input_notice",
    "strict_problems",
]

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_LISTED = 20  # problems of one kind listed before the rest are counted in one line


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can.

    Attributes:
        file: The file (or ``"<gt>"`` / ``"<pred>"`` for in-memory input) the problem is in.
        message: What is wrong and what was expected.
        record: Index of the offending record in its JSON array, or ``None``.
        field: The JSON array the record belongs to (``"annotations"``, ``"images"``...).
        hidden: For the line :func:`cut_problems` ends a cut list with: how many problems it
            stands for (0 for a problem).
    """

    file: str
    message: str
    record: int | None = None
    field: str | None = None
    hidden: int = 0

    def __str__(self) -> str:
        where = self.file
        if self.record is not None:
            where += f": {self.field or 'record'}[{self.record}]"
        return f"{where}: {self.message}"


def cut_problems(problems: Iterable[Problem], *, kind: str | None = None,
                 limit: int = MAX_LISTED) -> list[Problem]:
    """At most ``limit`` problems, then one line counting the rest ("... and N more like
    'first message'"). The one place problem lists are trimmed: ``validate``, the CLI and
    the JSON report all show the same list.

    Args:
        kind: How to describe the cut records (defaults to the first problem's message).
    """
    problems = list(problems)
    if len(problems) <= limit:
        return problems
    what = kind or f"like '{problems[0].message}'"
    rest = sum(max(p.hidden, 1) for p in problems[limit:])
    return [*problems[:limit],
            Problem(problems[0].file, f"... and {rest} more {what}", hidden=rest)]


def count_problems(problems: Iterable[Problem]) -> int:
    """How many problems a (possibly cut) list stands for."""
    return sum(max(p.hidden, 1) for p in problems)


class BenchmarkEvalError(Exception):
    """Base class of every error benchmark_eval raises on purpose."""


class InputError(BenchmarkEvalError):
    """An input file or object is not usable. ``problems`` lists every problem found."""

    def __init__(self, problems: Problem | list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="<input>", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid input"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problems)" if more > 0 else ""))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Problem]]]:
        # keep the problem list when the error crosses a process boundary
        return (type(self), (self.problems,))


class FormatError(InputError):
    """A file is not valid JSON, or a record does not have the expected shape or type."""


class ConsistencyError(InputError):
    """Records are well formed but contradict each other (unknown ids, duplicates, sizes)."""


class MissingPredictionError(InputError):
    """A ground-truth item has no prediction where the protocol requires one."""


class ConfigError(BenchmarkEvalError):
    """A protocol name, preset or parameter is invalid."""


class UnsupportedError(BenchmarkEvalError):
    """The input is valid but uses a feature this version does not support."""


class BenchmarkEvalWarning(UserWarning):
    """Reproduced behaviour of an official tool that users may find surprising."""


@dataclass(frozen=True)
class Notice:
    """A reproduced quirk or a protocol-level exclusion reported with the results.

    Attributes:
        code: Stable identifier, e.g. ``"score-ties"``.
        message: Human-readable explanation with counts and examples.
        strict: An input the official tool silently drops or reinterprets: ``strict=True``
            (CLI ``--strict``) refuses it, and ``validate`` lists it as a problem.
        file: The file of the first offending record (input notices).
        record: Index of the first offending record in ``field``.
        field: The JSON array the record belongs to.
        count: How many records the notice is about.
        hint: What to do about it, e.g. "these look like box results: use coco-bbox".
    """

    code: str
    message: str
    strict: bool = False
    file: str | None = None
    record: int | None = None
    field: str | None = None
    count: int = 0
    hint: str = ""

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def problem(self) -> Problem:
        """This notice as a :class:`Problem` (for ``validate`` and strict mode)."""
        text = f"[{self.code}] {self.message}" + (f" Hint: {self.hint}" if self.hint else "")
        return Problem(self.file or "<input>", text, self.record, self.field)


def input_notice(code: str, what: str, effect: str, *, file: str, rows: Sequence[int] | Any,
                 field: str, hint: str = "") -> Notice:
    """A strict-refused notice about ``rows`` (indices, a sequence or an integer array) of
    an input: "N <what> (first at field[i]); <effect>"."""
    first = int(rows[0]) if len(rows) else None
    where = f" (first at {field}[{first}])" if first is not None else ""
    return Notice(code, f"{len(rows)} {what}{where}; {effect}", strict=True, file=file,
                  record=first, field=field, count=len(rows), hint=hint)


def strict_problems(notices: Iterable[Notice]) -> list[Problem]:
    """The notices strict mode refuses, as problems."""
    return [n.problem() for n in notices if n.strict]
