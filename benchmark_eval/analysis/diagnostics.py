"""Per-image diagnostics: which images hold the errors that cost AP.

From the evaluation's own matching (the merged ``CocoState`` at one IoU threshold, area
range "all", the last ``max_detections``; nothing re-matched), per image:

- ``tp`` / ``fp``: its non-ignored detections matched / not matched;
- ``fn``: its non-ignored GT no detection matched (the image's GT count minus ``tp``);
- ``f1 = 2 tp / (2 tp + fp + fn)``, 1 for an image with neither GT nor detections;
- ``ap``: the AP of its own detections, all classes pooled (hotcoco 1.3.0
  ``image_diagnostics``: 101-point interpolated precision with ``#GT = tp + fn``; 1 with no
  GT and no detections, 0 with detections but no GT).

The images are ranked by **errors = fp + fn**, most first (then lower ``f1``, then image
id). Every false positive lowers precision along its class's curve and every false negative
caps its recall, so the count is a cheap, well-defined proxy for an image's share of the
lost AP. The exact leave-one-image-out AP drop would need one accumulation per (image,
class) — some 60,000 at COCO val scale — and is not computed.
"""

from __future__ import annotations

__all__ = ["ImageDiagnostics", "image_diagnostics"]

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark_eval.analysis.curves import result_records


@dataclass(frozen=True)
class ImageDiagnostics:
    """Per-image counts, ranked (``image_ids[0]`` has the most errors).

    Attributes:
        image_ids: int64, ranked.
        tp: int64 per image.
        fp: int64 per image.
        fn: int64 per image.
        f1: float64 per image.
        ap: float64 per image.
        iou_threshold: The IoU threshold used.
    """

    image_ids: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    f1: np.ndarray
    ap: np.ndarray
    iou_threshold: float

    def to_report(self, top: int = 20) -> dict[str, Any]:
        """The report's ``"diagnostics"`` entry: the ``top`` images with most errors."""
        rows = [{"image_id": int(self.image_ids[i]), "tp": int(self.tp[i]),
                 "fp": int(self.fp[i]), "fn": int(self.fn[i]), "f1": float(self.f1[i]),
                 "ap": float(self.ap[i])} for i in range(min(top, len(self.image_ids)))]
        return {"iou_threshold": self.iou_threshold, "ranked_by": "fp + fn",
                "images": len(self.image_ids), "worst": rows}


def _image_ap(image: np.ndarray, score: np.ndarray, tp: np.ndarray, n_gt: np.ndarray,
              n_images: int, rec_thr: np.ndarray) -> np.ndarray:
    """101-point AP of each image's pooled detections (``image``: index 0..n_images-1)."""
    ap = np.where(np.bincount(image, minlength=n_images) > 0, 0.0, 1.0)
    has_gt = n_gt > 0
    if not len(image):
        return np.where(has_gt, 0.0, ap)
    order = np.lexsort((-score, image))
    img, hit = image[order], tp[order].astype(np.float64)
    start = np.searchsorted(img, img)
    ctp = np.cumsum(hit) - np.r_[0.0, np.cumsum(hit)][start]
    n = np.arange(len(img)) - start + 1
    prec = ctp / n
    recall = ctp / np.maximum(n_gt[img], 1)
    # precision envelope from the right within each image, exactly: a running maximum of
    # the precision's dense rank, offset per image (later images lower) so none leaks
    values, rank = np.unique(prec, return_inverse=True)
    off = (n_images - img).astype(np.int64) * len(values)
    env = values[np.maximum.accumulate((rank + off)[::-1])[::-1] - off]
    # recall point j is sampled at the first detection whose recall reaches it: detection i
    # is that for the points in [reached before it, reached by it)
    reached = np.searchsorted(rec_thr, recall, side="right")
    before = np.r_[0, reached[:-1]]
    before[start == np.arange(len(img))] = 0
    pooled = np.bincount(img, weights=env * (reached - before), minlength=n_images) / len(
        rec_thr)
    return np.where(has_gt, pooled, ap)


def image_diagnostics(result: Any, gt_per_image: np.ndarray, *,
                      images: np.ndarray | None = None, iou: float = 0.5) -> ImageDiagnostics:
    """Per-image diagnostics of a ``CocoResult`` / ``LvisResult``.

    Args:
        result: An instance result (``state``, ``params``).
        gt_per_image: Image id of every non-ignored GT of the evaluation (area range
            "all"), int64.
        images: Every evaluated image id (images with neither GT nor detections get
            f1 = ap = 1, as in hotcoco); default: those of the detections and the GT.
        iou: One of the evaluation's IoU thresholds.
    """
    rec, engine, _ = result_records(result, iou)
    extra = np.zeros(0, dtype=np.int64) if images is None else np.asarray(images, np.int64)
    ids, inv = np.unique(np.r_[rec.image, np.asarray(gt_per_image, dtype=np.int64), extra],
                         return_inverse=True)
    d_img = inv[:len(rec.image)]
    g_img = inv[len(rec.image):len(rec.image) + len(gt_per_image)]
    n = len(ids)
    tp = np.bincount(d_img[rec.tp], minlength=n)
    fp = np.bincount(d_img[~rec.tp], minlength=n)
    n_gt = np.bincount(g_img, minlength=n)
    fn = np.maximum(n_gt - tp, 0)
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 1.0)
    ap = _image_ap(d_img, rec.score, rec.tp, n_gt, n,
                   np.asarray(engine.recall_thresholds, dtype=np.float64))
    order = np.lexsort((ids, f1, -(fp + fn)))
    return ImageDiagnostics(image_ids=ids[order], tp=tp[order], fp=fp[order], fn=fn[order],
                            f1=f1[order], ap=ap[order], iou_threshold=float(iou))
