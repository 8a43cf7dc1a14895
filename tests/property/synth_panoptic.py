"""Panoptic test data for the unit, property and CLI tests: the seeded cases of
``tests/parity/panoptic_generators.py`` (re-exported here, where those tests' ``conftest``
makes helpers importable), plus a tiny in-memory frame builder."""

from __future__ import annotations

import sys
from pathlib import Path

_PARITY = str(Path(__file__).resolve().parent.parent / "parity")
if _PARITY not in sys.path:
    sys.path.insert(0, _PARITY)

from panoptic_generators import (  # noqa: E402
    CASE_NAMES,
    CATEGORIES,
    Image_,
    categories_json,
    make_case,
    write_case,
)

__all__ = ["CASE_NAMES", "CATEGORIES", "Image_", "categories_json", "make_case", "write_case"]
