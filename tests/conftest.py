"""Put the shared test helpers on ``sys.path`` whatever pytest's import mode: the repository
root (the ``synth`` data generators, shared with ``data_samples/`` and ``benchmarks/``),
``tests/`` (``helpers``), and the folders of the official-tool runners (``tests/parity``) and
the small seeded generators (``tests/property``)."""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent
for _path in (_TESTS.parent, _TESTS, _TESTS / "parity", _TESTS / "property"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
