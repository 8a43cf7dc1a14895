"""Make the shared test helpers in ``tests/property`` (``synth_coco``, ``live_pycocotools``)
importable from this directory whatever pytest's import mode."""

import sys
from pathlib import Path

_HELPERS = str(Path(__file__).resolve().parent.parent / "property")
if _HELPERS not in sys.path:
    sys.path.insert(0, _HELPERS)
