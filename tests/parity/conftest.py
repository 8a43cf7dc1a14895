"""Make the parity helpers (``coco_generators``, ``official_coco``) importable by the test
modules beside them whatever pytest's import mode."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
