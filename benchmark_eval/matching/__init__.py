"""Similarity and matching: pairwise overlaps and the greedy assignment of detections."""

from benchmark_eval.matching.greedy import greedy_match
from benchmark_eval.matching.pairs import group_pairs

__all__ = ["greedy_match", "group_pairs"]
