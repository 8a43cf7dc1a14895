"""The seeded generators of ``tests/parity`` on ``sys.path`` (as ``tests/conftest.py`` does)."""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1] / "tests"
for _path in (_TESTS.parent, _TESTS, _TESTS / "parity", _TESTS / "property"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
