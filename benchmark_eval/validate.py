"""Submission checks without scoring: every problem, with file, record and expectation.

``evaluate`` runs the same checks and stops with the problems it finds first; ``validate``
keeps going so a leaderboard can show a submitter everything to fix at once.
"""

from benchmark_eval.api import validate

__all__ = ["validate"]
