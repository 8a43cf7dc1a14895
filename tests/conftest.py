"""Put the shared test helpers on ``sys.path`` whatever pytest's import mode: the repository
root (the ``synth`` data generators, shared with ``data_samples/`` and ``benchmarks/``),
``tests/`` (``helpers``), the folders of the official-tool runners (``tests/parity``),
the small seeded generators (``tests/property``) and the hostile-input helpers
(``tests/hostile``)."""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent
_FOLDERS = (_TESTS.parent, _TESTS, _TESTS / "parity", _TESTS / "property", _TESTS / "hostile")
for _path in _FOLDERS:
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
