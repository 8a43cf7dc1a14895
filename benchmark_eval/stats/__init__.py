"""Uncertainty and comparison over images for every protocol (``docs/statistics.md``).

:func:`bootstrap` gives percentile intervals of a result's numbers; :func:`compare` the
paired difference of two runs over the same images, its interval and a p-value. Both
reweight the per-image statistics already in the states: nothing is re-read or re-matched.
"""

from benchmark_eval.stats.bootstrap import Bootstrap, bootstrap, draw_counts, interval
from benchmark_eval.stats.replicates import Replicates, Units

__all__ = ["Bootstrap", "Replicates", "Units", "bootstrap", "draw_counts", "interval"]
