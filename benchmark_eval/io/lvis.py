"""LVIS ground truth and results <-> the common schema.

LVIS files are COCO instance files plus federated fields: ``neg_category_ids`` and
``not_exhaustive_category_ids`` on every image, ``frequency`` on every category, and an
``ignore`` flag that (unlike pycocotools) lvis-api honours. Reproduces lvis-api 0.5.3
``LVIS`` / ``LVISResults``.
"""

from __future__ import annotations

__all__ = ["check_lvis_ground_truth", "load_lvis_ground_truth"]

from typing import Any

import numpy as np

from benchmark_eval.errors import InputError, Notice, Problem, input_notice, strict_problems
from benchmark_eval.io.coco_gt import parse_coco_ground_truth
from benchmark_eval.io.inmemory import unwrap_dataset
from benchmark_eval.io.jsonfile import Source, open_source
from benchmark_eval.io.records import ProblemList
from benchmark_eval.schema import InstanceDataset
from benchmark_eval.schema.lvis import FREQUENCIES, FederatedLabels


def load_lvis_ground_truth(
    source: Source, *, boxes: bool = True, masks: bool = False, name: str | None = None
) -> tuple[InstanceDataset, FederatedLabels, np.ndarray, list[Notice]]:
    """Read an LVIS ground truth.

    Returns:
        The dataset, its federated labels, the ``ignore`` flag per annotation (bool), and
        notices.

    Raises:
        InputError: Listing every problem (missing federated fields are errors).
    """
    data, name = open_source(source, name or "<gt>")
    dataset, fed, ignore, problems, notices = _parse(data, name, boxes=boxes, masks=masks)
    if problems or dataset is None or fed is None or ignore is None:
        raise problems.error()
    return dataset, fed, ignore, notices


def check_lvis_ground_truth(
    source: Source, *, boxes: bool = True, masks: bool = False
) -> tuple[InstanceDataset | None, FederatedLabels | None, list[Problem]]:
    """Like :func:`load_lvis_ground_truth` but returns the problems instead of raising."""
    try:
        data, name = open_source(source, "<gt>")
    except InputError as exc:
        return None, None, exc.problems
    dataset, fed, _, problems, notices = _parse(data, name, boxes=boxes, masks=masks)
    if problems:
        return None, None, problems.summarise()
    return dataset, fed, strict_problems(notices)


def _parse(data: Any, name: str, *, boxes: bool, masks: bool) -> tuple[
        InstanceDataset | None, FederatedLabels | None, np.ndarray | None, ProblemList,
        list[Notice]]:
    data = unwrap_dataset(data)
    dataset, problems, notices = parse_coco_ground_truth(data, name, boxes=boxes, masks=masks)
    # lvis-api honours 'ignore'; pycocotools' override warning does not apply
    notices = [n for n in notices if n.code != "ignore-overridden"]
    if not isinstance(data, dict):
        return None, None, None, problems, notices
    fed = _federated(data, problems)
    if problems or dataset is None or dataset.instances.ignore is None:
        return None, None, None, problems, notices
    if fed is not None:
        notices += _negative_notices(dataset, fed, name)
    return dataset, fed, dataset.instances.ignore, problems, notices


def _negative_notices(dataset: InstanceDataset, fed: FederatedLabels, name: str
                      ) -> list[Notice]:
    """``neg_category_ids`` lvis-api accepts without a word: a category the GT does not
    define (no detection of it survives, so no effect), and a category annotated in that
    very image (its annotations count and its detections are kept, as for any positive
    category: the negative listing has no effect). Both are reported and refused by strict."""
    found = []
    unknown = dataset.categories.lookup(fed.neg_category) < 0
    inst = dataset.instances
    span = int(max(inst.category_ids.max(initial=0), fed.neg_category.max(initial=0))) + 1
    annotated = np.isin(fed.neg_image * span + fed.neg_category,
                        inst.image_ids * span + inst.category_ids) & ~unknown
    for code, bad, what, effect in (
        ("neg-category-unknown", unknown, "neg_category_ids entries name a category not in"
         " 'categories'", "lvis-api accepts them and they change nothing"),
        ("neg-category-annotated", annotated, "neg_category_ids entries name a category"
         " annotated in that image", "lvis-api evaluates it as a positive category there"
         " (the negative listing has no effect)"),
    ):
        if bad.any():
            rows = dataset.images.lookup(fed.neg_image[bad])
            found.append(input_notice(code, what, effect, file=name, rows=rows,
                                      field="images"))
    return found


def _id_lists(records: list[dict[str, Any]], key: str, field: str, problems: ProblemList
              ) -> tuple[np.ndarray, np.ndarray] | None:
    """(owner id, listed id) pairs of a list-of-ids field present on every record."""
    try:
        lists = [r[key] for r in records]
        owners = [r["id"] for r in records]
    except (KeyError, TypeError):
        if all(isinstance(r, dict) and key in r for r in records):
            return None  # a record without 'id': reported by the COCO part
        bad = np.array([not isinstance(r, dict) or key not in r for r in records])
        problems.add_where(bad, field, f"missing '{key}'", lambda i: (
            f"missing '{key}' (LVIS federated evaluation needs it on every {field[:-1]})"))
        return None
    ok = set(map(type, lists)) <= {list} and all(
        set(map(type, x)) <= {int} for x in lists)
    if not ok:
        bad = np.array([not (isinstance(x, list) and all(type(v) is int for v in x))
                        for x in lists])
        problems.add_where(bad, field, f"'{key}' not a list of ids",
                           lambda i: f"'{key}' must be a list of integer category ids")
        return None
    if not set(map(type, owners)) <= {int}:
        return None  # malformed ids are reported by the COCO part
    n = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    owner = np.repeat(np.array(owners, dtype=np.int64), n)
    listed = np.fromiter((v for x in lists for v in x), dtype=np.int64, count=int(n.sum()))
    return owner, listed


def _federated(data: dict[str, Any], problems: ProblemList) -> FederatedLabels | None:
    images, categories = data.get("images"), data.get("categories")
    if not isinstance(images, list) or not isinstance(categories, list):
        return None
    neg = _id_lists(images, "neg_category_ids", "images", problems)
    nel = _id_lists(images, "not_exhaustive_category_ids", "images", problems)
    freq_raw = [c.get("frequency") if isinstance(c, dict) else None for c in categories]
    bad = np.array([f not in FREQUENCIES for f in freq_raw], dtype=bool)
    problems.add_where(bad, "categories", "bad frequency", lambda i: (
        f"'frequency' must be one of 'r', 'c', 'f' (LVIS frequency groups), got "
        f"{freq_raw[i]!r}"))
    if neg is None or nel is None or bad.any():
        return None
    frequency = np.array([FREQUENCIES.index(f) for f in freq_raw], dtype=np.int64)
    return FederatedLabels(neg_image=neg[0], neg_category=neg[1], not_exhaustive_image=nel[0],
                           not_exhaustive_category=nel[1], frequency=frequency)
