"""Write small Cityscapes trees from arrays (ground truth, semantic and instance predictions)."""

from __future__ import annotations

__all__ = ["Tree", "write_tree"]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Tree:
    """Where :func:`write_tree` put things."""

    gt: Path
    sem: Path
    inst: Path


def write_tree(root: Path, gt: Mapping[str, tuple[np.ndarray, np.ndarray]],
               sem: Mapping[str, np.ndarray] | None = None,
               inst: Mapping[str, Sequence[tuple[int, float, np.ndarray]]] | None = None
               ) -> Tree:
    """``gt``: key -> (label ids uint8, instance ids); ``sem``: key -> predicted label ids;
    ``inst``: key -> ``(label id, confidence, mask)`` rows (one text file per key)."""
    tree = Tree(root / "gtFine" / "val", root / "pred_sem", root / "pred_inst")
    for key, (labels, instances) in gt.items():
        city = tree.gt / key.split("_")[0]
        city.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(labels, np.uint8)).save(city / f"{key}_gtFine_labelIds.png")
        Image.fromarray(np.asarray(instances, np.uint16)).save(
            city / f"{key}_gtFine_instanceIds.png")
    for key, pred in (sem or {}).items():
        tree.sem.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(pred, np.uint8)).save(tree.sem / f"{key}_pred.png")
    for key, rows in (inst or {}).items():
        (tree.inst / "masks").mkdir(parents=True, exist_ok=True)
        lines = []
        for j, (label, score, mask) in enumerate(rows):
            name = f"masks/{key}_{j}.png"
            Image.fromarray(np.asarray(mask, bool).astype(np.uint8) * 255).save(tree.inst / name)
            lines.append(f"{name} {label} {score}\n")
        (tree.inst / f"{key}_pred.txt").write_text("".join(lines))
    return tree
