"""JSON reading and writing with orjson, with errors that name the file.

Reads go through :func:`io.safe.read_regular` (regular files only, :data:`MAX_JSON_BYTES`
at most); writes are atomic (:func:`io.safe.write_atomic`).
"""

from __future__ import annotations

__all__ = ["MAX_JSON_BYTES", "Source", "open_source", "read_json", "write_json"]

from pathlib import Path
from typing import Any

import orjson

from benchmark_eval.errors import FormatError, Problem
from benchmark_eval.io.safe import read_regular, write_atomic

MAX_JSON_BYTES = 1 << 32  # 4 GiB: LVIS v1 train (1.1 GB) fits, /dev/zero does not

# A JSON input: a path, or the already-parsed object (a dict or a list).
Source = str | Path | dict[str, Any] | list[Any]


def open_source(source: Source, default_name: str) -> tuple[Any, str]:
    """Parsed JSON and the name to use in messages (the path, or ``default_name``)."""
    if isinstance(source, (str, Path)):
        return read_json(source), str(source)
    return source, default_name


def read_json(path: str | Path) -> Any:
    """Parse a JSON file once with orjson.

    Raises:
        FormatError: The file is missing, unreadable or not valid JSON; the message gives
            the file and, for syntax errors, the position.
    """
    path = Path(path)
    try:
        data = read_regular(path, where=str(path), max_bytes=MAX_JSON_BYTES)
    except FormatError as exc:
        raise FormatError([Problem(q.file, f"cannot read file: {q.message}")
                           for q in exc.problems]) from None
    if not data.strip():
        raise FormatError(Problem(str(path), "file is empty, expected JSON"))
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FormatError(
            Problem(str(path), f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        ) from exc


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (a temporary file renamed into place);
    numpy arrays and scalars are serialised natively.

    NaN and infinity are written as ``null`` (orjson's behaviour).
    """
    write_atomic(path, orjson.dumps(obj, option=orjson.OPT_INDENT_2
                                    | orjson.OPT_SERIALIZE_NUMPY))
