"""The HTML report: self-contained, escaped, and working in a real headless Chromium
(Debian's ``chromium``; ``.ci/run`` installs it): no console errors, the per-class table
sorts on a header click, the screenshot is not blank."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import Browser, click, file_url, find_chromium
from helpers import run_cli as run
from PIL import Image

from benchmark_eval import evaluate
from benchmark_eval.report.html import render_html

REPO = Path(__file__).resolve().parents[2]
COCO = REPO / "tests" / "data" / "coco_val2014_100"
GT = COCO / "instances_val2014_100.json"
PRED = COCO / "instances_val2014_fakebbox100_results.json"
CHROMIUM = find_chromium()


class _WithCI:
    """A result with the ``ci`` mapping another module adds (read with getattr)."""

    def __init__(self, result: Any, ci: dict[str, list[float]]) -> None:
        self._result, self.ci = result, ci

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    code, _, err = run(["evaluate", "coco-bbox", "--gt", GT, "--pred", PRED, "--tide",
                        "--report", path, "--workers", 1])
    assert code == 0, err
    return path


def test_page_is_self_contained(page: Path) -> None:
    text = page.read_text()
    # nothing fetched: no external src / href, only inline SVG and script
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert text.count("<svg") >= 5
    assert "default-src 'none'" in text
    for section in ("Summary", "Per class", "TIDE", "Plots", "Warnings", "Provenance"):
        assert f"<h2>{section}" in text, section
    import hashlib

    assert hashlib.sha256(GT.read_bytes()).hexdigest() in text  # input hashes
    assert "pycocotools" in text  # versions


def test_ci_warnings_and_escaping() -> None:
    gt = {"images": [{"id": 1, "width": 10, "height": 10}],
          "categories": [{"id": 1, "name": "<b>cat</b>"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5],
                           "area": 25, "iscrowd": 0}]}
    pred = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}]
    result = _WithCI(evaluate("coco-bbox", gt=gt, pred=pred), {"AP": [0.25, 0.75]})
    text = render_html(result)
    assert "<b>cat</b>" not in text
    assert "&lt;b&gt;cat&lt;/b&gt;" in text
    assert "CI low" in text
    assert 'data-v="0.25"' in text
    assert "data-v=\"0.75\"" in text


def test_report_in_headless_chromium(page: Path) -> None:
    assert CHROMIUM is not None, "Debian's chromium is needed: .ci/run installs it"
    start = time.monotonic()
    with Browser(CHROMIUM) as b:
        b.open(file_url(page))
        assert b.evaluate("document.title") == "coco-bbox report"
        column = "Array.from(document.querySelectorAll('#per-class tbody tr'))" \
                 ".map(r => r.cells[2].getAttribute('data-v'))"
        before = b.evaluate(column)
        click(b, "#per-class thead th:nth-child(3)")  # the AP column
        after = b.evaluate(column)
        assert b.evaluate("document.getElementById('per-class').dataset.sorted") == "2+"
        defined = [float(v) for v in after if v]
        assert defined == sorted(defined)
        assert after[len(defined):] == [""] * (len(after) - len(defined))  # undefined last
        assert sorted(before, key=str) == sorted(after, key=str)
        click(b, "#per-class thead th:nth-child(3)")
        again = [float(v) for v in b.evaluate(column) if v]
        assert again == sorted(defined, reverse=True)
        shot = Image.open(io.BytesIO(b.screenshot())).convert("L")
        assert b.console_errors() == []
    pixels = np.asarray(shot)
    assert pixels.shape[0] > 100
    assert pixels.min() < 100  # dark text on the page
    assert len(np.unique(pixels)) > 20
    assert time.monotonic() - start < 15
