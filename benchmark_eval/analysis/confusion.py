"""Detection confusion matrix and precision / recall / F1 per class.

The matrix is the one hotcoco 1.3.0 (``eval/confusion.rs``, ``COCOeval.confusion_matrix``)
and faster-coco-eval 1.8.0 (``extra/display.py``, ``PreviewResults.compute_confusion_matrix``
with ``useCats=False``) build: per image, detections of **every** class are matched to GT of
**every** class, greedily by descending score, each taking the free GT with the highest IoU
``>= iou_threshold`` (the last in order among equal IoUs, pycocotools' ``>=`` rule):

- a matched pair adds 1 at ``[gt class, detection class]`` (the diagonal: true positives);
- an unmatched detection adds 1 at ``[background, detection class]`` (row ``K``);
- an unmatched GT adds 1 at ``[gt class, missed]`` (column ``K``).

Rows are GT classes then background, columns detected classes then missed, ``(K+1, K+1)``;
classes are the GT categories sorted by id. As in hotcoco, detections below
``score_threshold`` are dropped before the ``max_dets`` per-image cut, and crowd GT take no
part (a detection on a crowd region is a background false positive). On equal scores
detections keep (class, results-file) order, and GT are taken in (class, annotation) order;
both tools do the same. faster-coco-eval's matrix is ``(K, K+2)``: its last two columns are
our row ``K`` (per detected class) and column ``K``; without crowd GT and with no cut
(``max_dets=None``) the two are equal (tested live).

Precision, recall and F1 of class ``k`` come from the matrix: ``TP = M[k, k]``,
``P = TP / (detections of class k)``, ``R = TP / (GT of class k)``, ``F1 = 2PR / (P + R)``.
Greedy matching by score is prefix-stable (a detection's match does not depend on those
scored below it), so one matching gives the matrix at every score threshold: the F1-optimal
threshold of each class is found by a sweep over its scores (the lowest score on ties).
"""

from __future__ import annotations

__all__ = ["DetectionConfusion", "detection_confusion", "match_all_classes", "most_confused"]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.analysis.tide_match import pair_iou
from benchmark_eval.matching import greedy_match, group_pairs
from benchmark_eval.schema import InstanceDataset, Predictions


def _nan_none(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


@dataclass(frozen=True)
class DetectionConfusion:
    """A detection confusion matrix and the per-class P / R / F1 derived from it.

    Attributes:
        matrix: ``(K+1, K+1)`` int64; rows GT classes then background, columns detected
            classes then missed.
        category_ids: The K axis (sorted GT category ids).
        category_names: Name per category.
        iou_threshold: IoU a match needs (``>=``).
        score_threshold: Detections scored below it were left out of ``matrix``.
        precision: Per class at ``score_threshold``, shape ``(K,)``, NaN without detections.
        recall: Per class, NaN without GT.
        f1: Per class, NaN where precision or recall is undefined, 0 when both are 0.
        best_threshold: Per class, the score threshold with the highest F1 (NaN: none).
        best_precision: Precision at ``best_threshold``.
        best_recall: Recall at ``best_threshold``.
        best_f1: F1 at ``best_threshold``.
        macro_threshold: The one score threshold maximising the mean F1 over the classes
            with GT (F1 0 for a class without detections there; the lowest on ties), as
            faster-coco-eval's ``extended_metrics`` sweep; NaN without detections.
        macro_f1: That mean F1.
    """

    matrix: np.ndarray
    category_ids: list[int]
    category_names: list[str]
    iou_threshold: float
    score_threshold: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    best_threshold: np.ndarray
    best_precision: np.ndarray
    best_recall: np.ndarray
    best_f1: np.ndarray
    macro_threshold: float = float("nan")
    macro_f1: float = float("nan")

    def per_class(self) -> dict[int, dict[str, float | None]]:
        """Category id -> ``precision``, ``recall``, ``f1`` and their ``best_*`` values and
        ``best_threshold`` (``None`` where undefined)."""
        cols = {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "best_threshold": self.best_threshold, "best_precision": self.best_precision,
                "best_recall": self.best_recall, "best_f1": self.best_f1}
        return {cid: {k: _nan_none(float(v[i])) for k, v in cols.items()}
                for i, cid in enumerate(self.category_ids)}

    def to_report(self) -> dict[str, Any]:
        """The report's ``"confusion"`` entry (see ``docs/analysis.md``)."""
        k = len(self.category_ids)
        return {
            "iou_threshold": self.iou_threshold,
            "score_threshold": self.score_threshold,
            "macro_threshold": _nan_none(self.macro_threshold),
            "macro_f1": _nan_none(self.macro_f1),
            "category_ids": self.category_ids,
            "matrix": self.matrix.tolist(),
            "per_class": {str(c): v for c, v in self.per_class().items()},
            "most_confused": most_confused(self.matrix[:k, :k], self.category_names),
        }


def _order(gt: InstanceDataset, preds: Predictions, class_ids: np.ndarray,
           max_dets: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Detection rows by (image, score desc, class, file row), cut to ``max_dets`` per
    image, and non-crowd GT rows by (image, class, annotation row), with image positions."""
    d_img = gt.images.lookup(preds.image_ids)
    d_cls = np.searchsorted(class_ids, preds.category_ids)
    rows = np.flatnonzero(d_img >= 0)
    det = rows[np.lexsort((rows, d_cls[rows], -preds.scores[rows], d_img[rows]))]
    if max_dets is not None and len(det):
        img = d_img[det]
        starts = np.flatnonzero(np.r_[True, img[1:] != img[:-1]])
        rank = np.arange(len(img)) - np.repeat(starts, np.diff(np.r_[starts, len(img)]))
        det = det[rank < max_dets]
    inst = gt.instances
    g_img = gt.images.lookup(inst.image_ids)
    g_cls = np.searchsorted(class_ids, inst.category_ids)
    rows = np.flatnonzero((g_img >= 0) & ~inst.iscrowd.astype(bool))
    gts = rows[np.lexsort((rows, g_cls[rows], g_img[rows]))]
    return det, d_img[det], gts, g_img[gts]


def _wave(group: np.ndarray, dets: np.ndarray) -> np.ndarray:
    """Rank of each (sorted, unique) detection index within its group (an image)."""
    g = group[dets]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    return np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))


def match_all_classes(gt: InstanceDataset, preds: Predictions, *, iou_type: str = "bbox",
                      iou_threshold: float = 0.5, max_dets: int | None = 100
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Class-agnostic greedy matching of every image (the matrix's matching).

    Returns:
        ``(det_class, det_score, det_match, gt_class, class_ids)``: per kept detection (in
        visiting order) its class index, score and the GT index it matched (-1: none);
        per non-crowd GT its class index; the sorted class ids.
    """
    class_ids = np.unique(gt.categories.ids).astype(np.int64)
    det, d_img, gts, g_img = _order(gt, preds, class_ids, max_dets)
    pd, pg = group_pairs(d_img, g_img)
    iou = pair_iou(gt, preds, iou_type, det[pd], gts[pg], g_img[pg], crowd=False)
    keep = iou >= min(iou_threshold, 1 - 1e-10)
    pd, pg, iou = pd[keep], pg[keep], iou[keep]
    match = np.full(len(det), -1, dtype=np.int64)
    if len(pd):
        cand = np.unique(pd)
        wave = _wave(d_img, cand)[np.searchsorted(cand, pd)]
        got, m = greedy_match(pd, pg, iou, wave, np.zeros((len(gts), 1), dtype=bool),
                              np.zeros(len(gts), dtype=bool), np.array([iou_threshold]))
        match[got] = m[:, 0, 0]
    d_cls = np.searchsorted(class_ids, preds.category_ids[det])
    g_cls = np.searchsorted(class_ids, gt.instances.category_ids[gts])
    return d_cls, preds.scores[det], match, g_cls, class_ids


def _ratios(tp: np.ndarray, n_det: np.ndarray, n_gt: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n_det > 0, tp / np.maximum(n_det, 1), np.nan)
        r = np.where(n_gt > 0, tp / np.maximum(n_gt, 1), np.nan)
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), np.where(np.isnan(p + r), np.nan, 0.0))
    return p, r, f1


def _best(d_cls: np.ndarray, score: np.ndarray, hit: np.ndarray, n_gt: np.ndarray
          ) -> tuple[np.ndarray, ...]:
    """Per class: the threshold (one of its scores) maximising F1, lowest on ties, and
    P / R / F1 there; then :func:`_macro`'s threshold and mean F1."""
    k = len(n_gt)
    out = [np.full(k, np.nan) for _ in range(4)]
    if len(d_cls) == 0:
        return (*out, np.full(1, np.nan), np.full(1, np.nan))
    order = np.lexsort((-score, d_cls))
    c, s, h = d_cls[order], score[order], hit[order].astype(np.int64)
    first = np.searchsorted(c, c)  # start of each class's run
    pos = np.arange(len(c))
    tp = np.cumsum(h) - np.r_[0, np.cumsum(h)][first]
    n_det = pos - first + 1
    end = np.r_[(c[1:] != c[:-1]) | (s[1:] != s[:-1]), True]  # last of equal (class, score)
    c, s, tp, n_det, pos = c[end], s[end], tp[end], n_det[end], pos[end]
    p, r, f1 = _ratios(tp, n_det, n_gt[c])
    macro = _macro(c, s, f1, n_gt)
    f1_key = np.where(np.isnan(f1), -1.0, f1)
    pick = np.lexsort((pos, f1_key, c))
    last = pick[np.r_[c[pick][1:] != c[pick][:-1], True]]
    last = last[~np.isnan(f1[last])]
    for arr, v in zip(out, (s, p, r, f1), strict=True):
        arr[c[last]] = v[last]
    return (*out, *macro)


def _macro(c: np.ndarray, s: np.ndarray, f1: np.ndarray, n_gt: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """The threshold maximising the mean F1 over classes with GT, and that mean.

    ``c``, ``s``, ``f1``: per (class, score) tie group, classes ascending and scores
    descending within a class: F1 of the class at that threshold. Lowering the threshold
    past a group changes only its class's F1, so the sum over classes is a running sum of
    the per-group changes taken in descending score order.
    """
    with_gt = n_gt > 0
    if not with_gt.any():
        return np.full(1, np.nan), np.full(1, np.nan)
    f = np.where(with_gt[c], np.nan_to_num(f1), 0.0)
    prev = np.r_[0.0, f[:-1]]
    prev[np.r_[True, c[1:] != c[:-1]]] = 0.0  # a class starts at F1 0 (no detections)
    order = np.argsort(-s, kind="stable")
    total = np.cumsum((f - prev)[order])
    s_sorted = s[order]
    ends = np.r_[s_sorted[1:] != s_sorted[:-1], True]  # all groups of a score applied
    mean, thr = total[ends] / with_gt.sum(), s_sorted[ends]
    best = len(mean) - 1 - int(np.argmax(mean[::-1]))  # the lowest threshold on ties
    return np.full(1, thr[best]), np.full(1, mean[best])


def detection_confusion(gt: InstanceDataset, preds: Predictions, *, iou_type: str = "bbox",
                        iou_threshold: float = 0.5, score_threshold: float = 0.0,
                        max_dets: int | None = 100) -> DetectionConfusion:
    """The detection confusion matrix of loaded GT and detections (pure; no file IO).

    Args:
        gt: Ground truth with boxes (``"bbox"``) or masks (``"segm"``).
        preds: Detections on ``gt``'s images.
        iou_type: ``"bbox"`` or ``"segm"``.
        iou_threshold: A match needs IoU ``>=`` this (hotcoco's ``iou_thr``, 0.5).
        score_threshold: Detections scored below it are left out of the matrix and of
            ``precision`` / ``recall`` / ``f1`` (not of the F1-optimal sweep).
        max_dets: Detections kept per image by score (hotcoco: the last ``maxDets``, 100);
            ``None`` keeps all (faster-coco-eval keeps ``max(1000, all)``).
    """
    d_cls, score, match, g_cls, class_ids = match_all_classes(
        gt, preds, iou_type=iou_type, iou_threshold=iou_threshold, max_dets=max_dets)
    k = len(class_ids)
    n_gt = np.bincount(g_cls, minlength=k)
    row = np.r_[g_cls, k][match]  # the matched GT's class; k (background) for -1
    best = _best(d_cls, score, row == d_cls, n_gt)
    kept = score >= score_threshold
    m = np.bincount(row[kept] * (k + 1) + d_cls[kept], minlength=(k + 1) ** 2)
    matrix = m.reshape(k + 1, k + 1).astype(np.int64)
    used = np.zeros(len(g_cls), dtype=bool)
    used[match[kept & (match >= 0)]] = True
    matrix[:k, k] = np.bincount(g_cls[~used], minlength=k)
    p, r, f1 = _ratios(np.diag(matrix)[:k].astype(np.float64), matrix[:, :k].sum(axis=0),
                       n_gt)
    names = dict(zip(gt.categories.ids.tolist(), gt.categories.names, strict=True))
    ids = class_ids.tolist()
    return DetectionConfusion(
        matrix=matrix, category_ids=ids, category_names=[names.get(c, "") for c in ids],
        iou_threshold=float(iou_threshold), score_threshold=float(score_threshold),
        precision=p, recall=r, f1=f1, best_threshold=best[0], best_precision=best[1],
        best_recall=best[2], best_f1=best[3], macro_threshold=float(best[4][0]),
        macro_f1=float(best[5][0]))


def most_confused(matrix: np.ndarray, names: Sequence[str], *, top: int = 10,
                  classes: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The off-diagonal cells of a confusion matrix with the most counts.

    Works on any square matrix whose rows are the truth and columns the prediction: the
    detection matrix's ``K x K`` block, the semantic ``(C+1, C+1)`` matrix or the
    Cityscapes ``(34, 34)`` label-id matrix (pass ``classes`` to keep only some indices,
    e.g. the evaluated classes; the extra row / column of "ignored" / "no class" should be
    sliced off first).

    Args:
        matrix: ``(N, N)`` counts, rows truth, columns prediction.
        names: Name per index of ``matrix``.
        top: Pairs to return at most.
        classes: Indices to consider (default all).

    Returns:
        Up to ``top`` entries ``{"gt", "pred", "count", "fraction"}`` by count descending
        (then row, column), ``fraction`` = count / the truth row's total; zero cells are
        left out.
    """
    m = np.asarray(matrix)
    idx = np.arange(len(m)) if classes is None else np.asarray(classes, dtype=np.int64)
    sub = m[np.ix_(idx, idx)].astype(np.int64)
    rows = sub.sum(axis=1)
    np.fill_diagonal(sub, 0)
    i, j = np.nonzero(sub)
    counts = sub[i, j]
    order = np.lexsort((j, i, -counts))[:top]
    return [{"gt": names[int(idx[i[o]])], "pred": names[int(idx[j[o]])],
             "count": int(counts[o]), "fraction": float(counts[o] / rows[i[o]])}
            for o in order]
