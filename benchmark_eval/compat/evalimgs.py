"""``COCOeval.ious`` and ``COCOeval.evalImgs`` as pycocotools 2.0.11 fills them.

Only computed when a caller reads them (the scores come from the vectorised engine). The
rules are pycocotools' ``_prepare`` / ``computeIoU`` / ``evaluateImg``: annotations loaded by
id through ``getAnnIds`` / ``loadAnns``; ``ignore`` replaced by ``iscrowd``; detections sorted
by score (stable) and cut to ``maxDets[-1]``; GT sorted with the ignored last; each detection
takes the best-IoU GT not yet matched (crowd GT may match again), never trading a matched
non-ignored GT for an ignored one; a detection matched to an ignored GT, or unmatched and
outside the area range, is ignored.
"""

from __future__ import annotations

__all__ = ["eval_images"]

from collections import defaultdict
from typing import Any

import numpy as np

from benchmark_eval.masks import box_iou_pairs, mask_iou

Ann = dict[str, Any]


def _load(coco: Any, p: Any) -> dict[tuple[Any, Any], list[Ann]]:
    kw = {"imgIds": p.imgIds, "catIds": p.catIds} if p.useCats else {"imgIds": p.imgIds}
    out: dict[tuple[Any, Any], list[Ann]] = defaultdict(list)
    for ann in coco.loadAnns(coco.getAnnIds(**kw)):
        out[ann["image_id"], ann["category_id"]].append(ann)
    return out


def _geometry(anns: list[Ann], coco: Any, iou_type: str) -> list[Any]:
    if iou_type == "segm":
        return [coco.annToRLE(a) for a in anns]
    return [a["bbox"] for a in anns]


def _iou(dt: list[Ann], gt: list[Ann], coco_dt: Any, coco_gt: Any, iou_type: str) -> Any:
    if not dt or not gt:
        return []
    crowd = np.array([int(g.get("iscrowd", 0)) for g in gt], dtype=np.uint8)
    if iou_type == "segm":
        return mask_iou(_geometry(dt, coco_dt, iou_type), _geometry(gt, coco_gt, iou_type),
                        crowd)
    d = np.asarray([a["bbox"] for a in dt], dtype=np.float64).reshape(-1, 4)
    g = np.asarray([a["bbox"] for a in gt], dtype=np.float64).reshape(-1, 4)
    di, gi = np.divmod(np.arange(len(d) * len(g)), len(g))
    return box_iou_pairs(d[di], g[gi], crowd[gi].astype(bool)).reshape(len(d), len(g))


def _by_score(dt: list[Ann]) -> list[Ann]:
    order = np.argsort([-d["score"] for d in dt], kind="mergesort")
    return [dt[i] for i in order.tolist()]


def _match(ious: np.ndarray, gt_ignore: np.ndarray, crowd: np.ndarray, thr: np.ndarray,
           gt: list[Ann], dt: list[Ann]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy matching per threshold: ``(dtMatches, gtMatches, dtIgnore)``, ``(T, .)``."""
    n_t, n_g, n_d = len(thr), len(gt), len(dt)
    gtm, dtm, dt_ig = np.zeros((n_t, n_g)), np.zeros((n_t, n_d)), np.zeros((n_t, n_d))
    if not len(ious):
        return dtm, gtm, dt_ig
    for t, tv in enumerate(thr.tolist()):
        for di in range(n_d):
            best, m = min(tv, 1 - 1e-10), -1
            for gi in range(n_g):
                if gtm[t, gi] > 0 and not crowd[gi]:
                    continue
                if m > -1 and gt_ignore[m] == 0 and gt_ignore[gi] == 1:
                    break
                if ious[di, gi] < best:
                    continue
                best, m = ious[di, gi], gi
            if m == -1:
                continue
            dt_ig[t, di] = gt_ignore[m]
            dtm[t, di] = gt[m]["id"]
            gtm[t, m] = dt[di]["id"]
    return dtm, gtm, dt_ig


def _eval_img(gt: list[Ann], dt: list[Ann], ious: Any, image_id: Any, cat_id: Any,
              a_rng: list[float], max_det: int, thr: np.ndarray) -> dict[str, Any] | None:
    if not gt and not dt:
        return None
    # pycocotools sets ignore = iscrowd before this test
    out_of_range = np.array([bool(g.get("iscrowd", 0)) or g["area"] < a_rng[0]
                             or g["area"] > a_rng[1] for g in gt], dtype=np.int64)
    g_order = np.argsort(out_of_range, kind="mergesort")
    gt = [gt[i] for i in g_order.tolist()]
    gt_ignore = out_of_range[g_order]
    dt = _by_score(dt)[:max_det]
    crowd = [int(g.get("iscrowd", 0)) for g in gt]
    ious = ious[:, g_order] if len(ious) else ious
    dtm, gtm, dt_ig = _match(np.asarray(ious), gt_ignore, np.array(crowd), thr, gt, dt)
    area = np.array([d["area"] < a_rng[0] or d["area"] > a_rng[1] for d in dt],
                    dtype=bool).reshape(1, len(dt))
    dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(area, len(thr), 0)))
    return {"image_id": image_id, "category_id": cat_id, "aRng": a_rng, "maxDet": max_det,
            "dtIds": [d["id"] for d in dt], "gtIds": [g["id"] for g in gt],
            "dtMatches": dtm, "gtMatches": gtm, "dtScores": [d["score"] for d in dt],
            "gtIgnore": gt_ignore, "dtIgnore": dt_ig}


def eval_images(coco_gt: Any, coco_dt: Any, p: Any
                ) -> tuple[dict[tuple[Any, Any], Any], list[dict[str, Any] | None]]:
    """``(ious, evalImgs)`` of ``COCOeval.evaluate`` with params ``p``."""
    gts, dts = _load(coco_gt, p), _load(coco_dt, p)
    cat_ids = p.catIds if p.useCats else [-1]
    thr = np.asarray(p.iouThrs, dtype=np.float64)
    max_det = p.maxDets[-1]

    def pick(table: dict[tuple[Any, Any], list[Ann]], img: Any, cat: Any) -> list[Ann]:
        if p.useCats:
            return table.get((img, cat), [])
        return [a for c in p.catIds for a in table.get((img, c), [])]

    ious = {}
    for img in p.imgIds:
        for cat in cat_ids:
            dt = _by_score(pick(dts, img, cat))[:max_det]
            ious[img, cat] = _iou(dt, pick(gts, img, cat), coco_dt, coco_gt, p.iouType)
    evals = [_eval_img(pick(gts, img, cat), pick(dts, img, cat), ious[img, cat], img, cat,
                       a_rng, max_det, thr)
             for cat in cat_ids for a_rng in p.areaRng for img in p.imgIds]
    return ious, evals


def accumulate_eval_images(eval_imgs: list[dict[str, Any] | None], p: Any, pe: Any
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``COCOeval.accumulate`` over ``evalImgs`` laid out by ``pe`` (the evaluated params):
    precision / scores ``[T, R, K, A, M]`` and recall ``[T, K, A, M]``, -1 where undefined.

    For callers that assign ``evalImgs`` themselves (torchvision's references merge the
    per-process lists, then call ``accumulate``). Per (category, area range, maxDets): the
    detections of every image, cut to maxDets, stably sorted by score; cumulative true /
    false positives over the non-ignored ones; precision made monotone from the right and
    sampled at the first detection reaching each recall threshold.
    """
    cat_ids = list(p.catIds) if p.useCats else [-1]
    n_t, n_r = len(p.iouThrs), len(p.recThrs)
    shape = (n_t, n_r, len(cat_ids), len(p.areaRng), len(p.maxDets))
    precision, scores = -np.ones(shape), -np.ones(shape)
    recall = -np.ones((n_t, len(cat_ids), len(p.areaRng), len(p.maxDets)))
    set_k = set(pe.catIds if pe.useCats else [-1])
    k_list = [n for n, k in enumerate(cat_ids) if k in set_k]
    m_list = [m for m in p.maxDets if m in set(pe.maxDets)]
    a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in set(map(tuple, pe.areaRng))]
    i_list = [n for n, i in enumerate(p.imgIds) if i in set(pe.imgIds)]
    n_img, n_area = len(pe.imgIds), len(pe.areaRng)
    rec_thr = np.asarray(p.recThrs, dtype=np.float64)
    for k, k0 in enumerate(k_list):
        for a, a0 in enumerate(a_list):
            base = k0 * n_area * n_img + a0 * n_img
            found = [eval_imgs[base + i] for i in i_list]
            imgs = [e for e in found if e is not None]
            for m, max_det in enumerate(m_list):
                if imgs:
                    _fill(imgs, max_det, rec_thr, precision[:, :, k, a, m],
                          scores[:, :, k, a, m], recall[:, k, a, m])
    return precision, recall, scores


def _fill(imgs: list[dict[str, Any]], max_det: int, rec_thr: np.ndarray, prec: np.ndarray,
          sc: np.ndarray, rec: np.ndarray) -> None:
    """One (category, area, maxDets) cell of :func:`accumulate_eval_images`, in place."""
    det_scores = np.concatenate([np.asarray(e["dtScores"][:max_det], dtype=np.float64)
                                 for e in imgs])
    order = np.argsort(-det_scores, kind="mergesort")
    n_t = prec.shape[0]
    dtm = np.concatenate([np.asarray(e["dtMatches"]).reshape(n_t, -1)[:, :max_det]
                          for e in imgs], axis=1)[:, order]
    dt_ig = np.concatenate([np.asarray(e["dtIgnore"]).reshape(n_t, -1)[:, :max_det]
                            for e in imgs], axis=1)[:, order]
    gt_ig = np.concatenate([np.asarray(e["gtIgnore"]) for e in imgs])
    n_pos = np.count_nonzero(gt_ig == 0)
    if n_pos == 0:
        return
    tp = np.cumsum(np.logical_and(dtm, np.logical_not(dt_ig)), axis=1).astype(float)
    fp = np.cumsum(np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig)),
                   axis=1).astype(float)
    sorted_scores = det_scores[order]
    n_det = tp.shape[1]
    for t in range(n_t):
        rc = tp[t] / n_pos
        pr = tp[t] / (fp[t] + tp[t] + np.spacing(1))
        rec[t] = rc[-1] if n_det else 0
        pr = np.maximum.accumulate(pr[::-1])[::-1] if n_det else pr
        q, s = np.zeros(len(rec_thr)), np.zeros(len(rec_thr))
        idx = np.searchsorted(rc, rec_thr, side="left")
        ok = np.flatnonzero(idx >= n_det)
        stop = int(ok[0]) if len(ok) else len(idx)  # pycocotools stops at the first miss
        q[:stop], s[:stop] = pr[idx[:stop]], sorted_scores[idx[:stop]]
        prec[t], sc[t] = q, s
