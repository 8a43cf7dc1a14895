"""``python -m benchmark_eval`` runs the CLI."""

import sys

from benchmark_eval.cli import main

sys.exit(main())
