"""tidecv 1.0.1's LVIS emulation (``datasets.LVIS``): federated labels as ignore regions.

tidecv reads an LVIS ground truth as ordinary GT (no crowd regions), allows 300 detections
per image, and adds to every image a whole-image ignore region for each category that is
neither annotated nor listed in ``neg_category_ids`` there, and for each category of
``not_exhaustive_category_ids``. An unmatched detection of such a category is then ignored
(neither TP nor FP); matched ones stay true positives. tidecv's docstring notes its LVIS AP
comes out slightly lower than lvis-api's.
"""

from __future__ import annotations

__all__ = ["LVIS_MAX_DETS", "lvis_class_regions"]

import numpy as np

from benchmark_eval.schema import InstanceDataset, Predictions
from benchmark_eval.schema.lvis import FederatedLabels

LVIS_MAX_DETS = 300  # tidecv datasets.LVIS: Data(name, max_dets=300)


def lvis_class_regions(gt: InstanceDataset, fed: FederatedLabels,
                       preds: Predictions) -> np.ndarray:
    """Per detection, whether a whole-image ignore region of its category covers it.

    Returns:
        bool, shape ``(len(preds),)``.
    """
    n_cat = len(gt.categories)

    def keys(image_ids: np.ndarray, category_ids: np.ndarray) -> np.ndarray:
        return gt.images.lookup(image_ids) * n_cat + gt.categories.lookup(category_ids)

    checked = np.r_[keys(gt.instances.image_ids, gt.instances.category_ids),
                    keys(fed.neg_image, fed.neg_category)]
    det = keys(preds.image_ids, preds.category_ids)
    return ~np.isin(det, checked) | np.isin(det, keys(fed.not_exhaustive_image,
                                                      fed.not_exhaustive_category))
