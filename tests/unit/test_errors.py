"""``errors``: the problem record, the exception hierarchy, and errors crossing processes."""

from __future__ import annotations

import pickle

import pytest

from benchmark_eval.errors import (
    BenchmarkEvalError,
    BenchmarkEvalWarning,
    ConfigError,
    ConsistencyError,
    FormatError,
    InputError,
    MissingPredictionError,
    Notice,
    Problem,
    UnsupportedError,
)


def test_problem_text_says_where() -> None:
    assert str(Problem("gt.json", "duplicate id 4", 7, "annotations")) == (
        "gt.json: annotations[7]: duplicate id 4")
    assert str(Problem("res.json", "bad", 2)) == "res.json: record[2]: bad"
    assert str(Problem("res.json", "empty")) == "res.json: empty"


def test_hierarchy() -> None:
    for cls in (FormatError, ConsistencyError, MissingPredictionError):
        assert issubclass(cls, InputError)
    for cls in (InputError, ConfigError, UnsupportedError):
        assert issubclass(cls, BenchmarkEvalError)
    assert issubclass(BenchmarkEvalWarning, UserWarning)


def test_input_error_message_and_problems() -> None:
    problems = [Problem("a.json", "first", 0, "results"), Problem("a.json", "second", 1),
                Problem("a.json", "third")]
    err = ConsistencyError(problems)
    assert err.problems == problems
    assert str(err) == "a.json: results[0]: first (and 2 more problems)"
    assert str(InputError(problems[:1])) == "a.json: results[0]: first"
    single = FormatError(Problem("b.json", "not valid JSON"))
    assert single.problems == [Problem("b.json", "not valid JSON")]
    from_text = InputError("something is off")
    assert from_text.problems == [Problem("<input>", "something is off")]


@pytest.mark.parametrize("cls", [InputError, FormatError, ConsistencyError,
                                 MissingPredictionError])
def test_input_errors_survive_pickling(cls: type[InputError]) -> None:
    # Errors raised in worker processes come back pickled: class and problems must survive.
    err = cls([Problem("gt.json", "duplicate id 1", 3, "images"), Problem("gt.json", "x")])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert back.problems == err.problems
    assert str(back) == str(err)


def test_notice_text() -> None:
    assert str(Notice("score-ties", "3 detections tie")) == "[score-ties] 3 detections tie"
