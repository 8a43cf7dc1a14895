"""Parity of ``coco-boundary`` with faster-coco-eval 1.8.0 ``COCOeval_faster(iouType="boundary")``.

boundary-iou-api (bowenc0221/boundary-iou-api, ``coco_instance_api/cocoeval.py``) is not on
PyPI; faster-coco-eval's boundary mode reproduces its Boundary AP and runs live here, on the
seeded nasty cases of ``coco_generators`` and on real COCO data (val2014, 100 images, with
cocoapi's fake segm results).

Compared: the full ``precision`` / ``recall`` / ``scores`` arrays **exactly**, and ``stats``,
``metrics`` and ``per_class`` to 1e-12. Where faster-coco-eval legitimately differs:

* precision: we store pycocotools' ``tp / (tp + fp + spacing(1))`` (1/(1 + eps) =
  0.9999999999999998 for a precision of 1, as boundary-iou-api, a pycocotools fork, does);
  faster-coco-eval stores 1.0. Mapping exactly that value to 1.0 makes the arrays identical.
  ``stats``/``per_class`` are means over those entries, summed in a different order by each
  tool, so they get the suite's 1e-12 (the observed difference is <= 2.3e-16).
* band width ``d``: boundary-iou-api rounds ``ratio * diagonal`` half to even (Python's
  ``round``), faster-coco-eval rounds ``x - 1e-10`` half away from zero, so they disagree when
  the product is ``k + 0.5`` with ``k`` odd (a 45x60 image: 2 vs 1). We follow
  boundary-iou-api.
* images at most ``2d`` pixels high (1 or 2 rows at the default ratio): faster-coco-eval's
  erosion reads pixels of the neighbouring columns as if they were above / below, and keeps
  pixels that boundary-iou-api erodes. We follow boundary-iou-api.

* the GT ``ignore`` field: boundary-iou-api's ``_prepare`` keeps it (``ignore or iscrowd``);
  faster-coco-eval replaces it by ``iscrowd`` as pycocotools does. We follow boundary-iou-api;
  the compared inputs drop ``ignore`` fields, and ``test_ignore_field_is_honoured`` checks
  our behaviour on a hand-worked case.

``test_faster_coco_eval_known_differences`` shows the band-width and short-image ones;
``test_scenarios_avoid_...`` checks that no image of the compared scenarios triggers them.
"""

from __future__ import annotations

import copy
import functools
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from coco_generators import CASE_NAMES, make_case
from official_coco import OfficialResult, ParamSpec, run_faster_coco_eval

import benchmark_eval
from benchmark_eval import CocoParams
from benchmark_eval.errors import BenchmarkEvalWarning
from benchmark_eval.io import coco_segm as coco_io
from benchmark_eval.masks import boundary, rle
from benchmark_eval.masks.boundary import boundary_dilation, mask_boundaries
from benchmark_eval.protocols import coco_match
from benchmark_eval.protocols.coco_params import BoundaryParams
from benchmark_eval.schema import MaskRuns

TOL = 1e-12
ONE_PYCOCO = 1 / (1 + np.finfo(np.float64).eps)  # pycocotools' stored precision of 1
METRIC_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl",
                "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
DATA = Path(__file__).resolve().parents[1] / "data" / "coco_val2014_100"
REAL_GT = DATA / "instances_val2014_100.json"
REAL_RESULTS = DATA / "instances_val2014_fakesegm100_results.json"

PARITY_CASES = [c for c in CASE_NAMES if c != "pred_unlisted_category"]  # an input error
SCENARIOS = [(c, 0) for c in PARITY_CASES] + [("mixed", s) for s in range(10)]
VARIANTS: dict[str, ParamSpec] = {
    "default": ParamSpec(),
    "class_agnostic": ParamSpec(class_agnostic=True),
    "iou_with_one": ParamSpec(iou_thresholds=(0.1, 0.5, 0.75, 1.0)),
    "recall_coarse": ParamSpec(recall_thresholds=(0.0, 0.25, 0.5, 0.75, 1.0)),
}
VARIANT_SCENARIOS = [("equal_iou_two_gts", 0), ("crowd_uncompressed_rle", 0),
                     ("class_mixup", 0), ("mixed", 0), ("mixed", 1)]


def _ids(pairs: list[tuple[str, int]]) -> list[Any]:
    return [pytest.param(c, s, id=c if c != "mixed" else f"mixed{s}") for c, s in pairs]


def _params(spec: ParamSpec) -> BoundaryParams:
    return spec.to_params(BoundaryParams)


@functools.cache
def inputs(case: str, seed: int) -> tuple[dict[str, Any], list[Any]]:
    """A segm case without GT ``ignore`` fields (the tools disagree on them, see above)."""
    gt, results = make_case(case, "segm", seed)
    for a in gt["annotations"]:
        a.pop("ignore", None)
    return gt, results


@functools.cache
def faster(case: str, seed: int, variant: str) -> OfficialResult:
    gt, results = inputs(case, seed)
    return run_faster_coco_eval(gt, results, "boundary", VARIANTS[variant])


def ours(gt: Any, results: Any, params: CocoParams | None = None) -> Any:
    with warnings.catch_warnings():  # the cases trigger documented notices on purpose
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        return benchmark_eval.evaluate("coco-boundary", gt=copy.deepcopy(gt),
                                       pred=copy.deepcopy(results), params=params, workers=1)


def _mean_defined(values: np.ndarray) -> float | None:
    valid = values[values > -1]
    return None if valid.size == 0 else float(np.mean(valid))


def _close(name: str, got: float | None, expected: float | None) -> list[str]:
    if got is None or expected is None:
        return [] if got is expected else [f"{name}: got {got!r}, expected {expected!r}"]
    return [] if abs(got - expected) <= TOL else [f"{name}: got {got!r}, expected {expected!r}"]


def problems(result: Any, ref: OfficialResult) -> list[str]:
    """Everything that differs beyond what the module docstring allows."""
    out = []
    precision = np.where(result.precision == ONE_PYCOCO, 1.0, result.precision)
    for name, got, expected in (("precision", precision, ref.precision),
                                ("recall", result.recall, ref.recall),
                                ("scores", result.scores, ref.scores)):
        if got.shape != expected.shape or not np.array_equal(got, expected):
            diff = np.abs(got - expected).max() if got.shape == expected.shape else "shape"
            out.append(f"{name} differs (max abs diff {diff})")
    if list(result.category_ids) != ref.category_ids:
        out.append(f"category_ids: {list(result.category_ids)} vs {ref.category_ids}")
    if not np.array_equal(result.stats == -1, ref.stats == -1):
        out.append(f"stats -1 positions: {result.stats} vs {ref.stats}")
    if np.abs(result.stats - ref.stats).max() > TOL:
        out.append(f"stats: {result.stats} vs {ref.stats}")
    for name, value in zip(METRIC_NAMES, ref.stats, strict=True):
        out += _close(f"metrics[{name}]", result.metrics[name],
                      None if value == -1 else float(value))
    t50 = np.flatnonzero(ref.iou_thresholds == 0.5)
    for k, cid in enumerate(ref.category_ids):
        p = ref.precision[:, :, k, 0, -1]
        expected = {"AP": _mean_defined(p), "AR100": _mean_defined(ref.recall[:, k, 0, -1]),
                    "AP50": _mean_defined(p[t50]) if t50.size else None}
        for key, value in expected.items():
            out += _close(f"per_class[{cid}][{key}]", result.per_class[cid][key], value)
    return out


@pytest.mark.parametrize(("case", "seed"), _ids(SCENARIOS))
def test_default_params_match_faster_coco_eval(case: str, seed: int) -> None:
    gt, results = inputs(case, seed)
    found = problems(ours(gt, results), faster(case, seed, "default"))
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("case", "seed"), _ids(VARIANT_SCENARIOS))
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "default"])
def test_custom_params_match_faster_coco_eval(variant: str, case: str, seed: int) -> None:
    gt, results = inputs(case, seed)
    found = problems(ours(gt, results, _params(VARIANTS[variant])),
                     faster(case, seed, variant))
    assert not found, "\n".join(found)


def test_boundary_differs_from_segm() -> None:
    """Guards the comparison: on these cases the boundary score really changes the numbers
    (segm AP of mixed0 is 0.345, Boundary AP 0.127)."""
    gt, results = inputs("mixed", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BenchmarkEvalWarning)
        segm = benchmark_eval.evaluate("coco-segm", gt=copy.deepcopy(gt),
                                       pred=copy.deepcopy(results), workers=1)
    assert ours(gt, results).stats[0] < segm.stats[0] - 0.1


def test_real_coco_data_matches_faster_coco_eval() -> None:
    gt, results = json.loads(REAL_GT.read_text()), json.loads(REAL_RESULTS.read_text())
    ref = run_faster_coco_eval(gt, results, "boundary")
    result = ours(gt, results)
    found = problems(result, ref)
    assert not found, "\n".join(found)
    assert any(a["iscrowd"] for a in gt["annotations"])  # crowd GT take the mask IoU path
    assert 0.2 < result.stats[0] < 0.25  # Boundary AP 0.226 (segm AP of these results: 0.320)


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Replace ``module.name`` by a wrapper that counts its calls."""
    calls: list[int] = []
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.fixture
def no_c_kernels(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """No C kernel at all: RLE dicts, pycocotools rleIou, bands from decoded bitmaps."""
    monkeypatch.setattr(rle, "_rle", None)
    monkeypatch.setattr(coco_match, "has_kernels", lambda: False)
    monkeypatch.setattr(coco_io, "can_rasterize", lambda: False)
    return _counting(monkeypatch, coco_match, "rle_boundaries")


@pytest.fixture
def no_boundary_kernel(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The RLE kernels but not the boundary one: numpy bands on decoded runs."""
    monkeypatch.setattr(boundary, "_boundary", None)
    return _counting(monkeypatch, boundary, "mask_boundaries_numpy")


@pytest.mark.parametrize("fallback", ["no_c_kernels", "no_boundary_kernel"])
@pytest.mark.parametrize(("case", "seed"), _ids([("crowd_compressed_rle", 0), ("mixed", 2)]))
def test_fallbacks_match_faster_coco_eval(fallback: str, case: str, seed: int,
                                          request: pytest.FixtureRequest) -> None:
    calls = request.getfixturevalue(fallback)
    gt, results = inputs(case, seed)
    found = problems(ours(gt, results), faster(case, seed, "default"))
    assert not found, "\n".join(found)
    assert calls, "the fallback did not run"


def _faster_dilation(h: int, w: int, ratio: float = 0.02) -> int:
    """faster-coco-eval 1.8.0 ``RLE::toBoundary``: ``std::round(ratio * diag - 1e-10)``."""
    return max(1, int(np.floor(ratio * np.sqrt(h * h + w * w) - 1e-10 + 0.5)))


def test_scenarios_avoid_the_known_differences() -> None:
    sizes = set()
    for case, seed in {*SCENARIOS, *VARIANT_SCENARIOS}:
        sizes |= {(i["height"], i["width"]) for i in inputs(case, seed)[0]["images"]}
    sizes |= {(i["height"], i["width"]) for i in json.loads(REAL_GT.read_text())["images"]}
    h, w = np.array(sorted(sizes)).T
    d = boundary_dilation(h, w, 0.02)
    assert [_faster_dilation(a, b) for a, b in zip(h, w, strict=True)] == d.tolist()
    assert (h > 2 * d).all()


def test_faster_coco_eval_known_differences() -> None:
    """Documents the two band differences of the module docstring; if this starts failing,
    faster-coco-eval changed and the docstring and docs/protocols/boundary.md need a look."""
    from faster_coco_eval.core.mask import rleToBoundary
    from pycocotools import mask as mask_utils

    def bands(mask: np.ndarray) -> tuple[int, int]:
        """(our band area, faster-coco-eval's) at the default ratio."""
        h, w = mask.shape
        theirs = rleToBoundary(mask_utils.encode(np.asfortranarray(mask, dtype=np.uint8)), 0.02)
        runs = np.diff(np.r_[0, np.flatnonzero(np.diff(mask.T.ravel())) + 1, mask.size])
        runs = np.r_[0, runs] if mask.T.ravel()[0] else runs
        masks = MaskRuns(runs=runs.astype(np.uint32), offsets=np.array([0, len(runs)]),
                         areas=np.array([mask.sum()]), boxes=np.zeros((1, 4)))
        d = boundary_dilation(np.array([h]), np.array([w]), 0.02)
        mine = mask_boundaries(masks, np.array([0]), np.array([h]), np.array([w]), d)
        return int(mine.areas[0]), int(mask_utils.area(theirs))

    # 45x60 image, diagonal 75: 0.02 * 75 = 1.5 -> d = 2 (half to even), faster-coco-eval 1.
    # A 35x45 rectangle away from the border: band 35*45 - 31*41 = 304 px at d = 2,
    # 35*45 - 33*43 = 156 px at d = 1.
    rect = np.zeros((45, 60), dtype=bool)
    rect[5:40, 5:50] = True
    assert bands(rect) == (304, 156)
    # a full 2x45 image, d = 1: every pixel is on the top or the bottom edge, so all 90 px
    # are boundary; faster-coco-eval keeps most of them as interior
    mine, theirs = bands(np.ones((2, 45), dtype=bool))
    assert mine == 90
    assert theirs < 90


def test_ignore_field_is_honoured() -> None:
    """boundary-iou-api keeps ``ignore`` (``ignore or iscrowd``); pycocotools drops it.

    One 20x20 square GT marked ``ignore: 1`` (not crowd) and one identical detection: the
    detection matches the ignored GT, so it is ignored too, and the category has no
    non-ignored GT: AP is undefined (-1 / None). With the flag dropped (coco-segm, as
    pycocotools) the same input scores AP = 1 (to the 1/(1+eps) of pycocotools' precision).
    """
    square = [[10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]]
    gt = {"images": [{"id": 1, "width": 64, "height": 64}],
          "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                           "ignore": 1, "area": 400.0, "bbox": [10, 10, 20, 20],
                           "segmentation": square}]}
    from pycocotools import mask as mask_utils

    rle = mask_utils.merge(mask_utils.frPyObjects(square, 64, 64))
    results = [{"image_id": 1, "category_id": 1, "score": 0.9,
                "segmentation": {"size": [64, 64], "counts": rle["counts"].decode()}}]
    boundary_result = benchmark_eval.evaluate("coco-boundary", gt=copy.deepcopy(gt),
                                              pred=copy.deepcopy(results))
    assert boundary_result.stats[0] == -1
    assert all(w.code != "ignore-overridden" for w in boundary_result.warnings)
    segm_result = benchmark_eval.evaluate("coco-segm", gt=copy.deepcopy(gt),
                                          pred=copy.deepcopy(results))
    assert segm_result.stats[0] == pytest.approx(1.0, abs=1e-12)
