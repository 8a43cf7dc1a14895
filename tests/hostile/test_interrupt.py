"""Ctrl-C (issue 16): one line, "interrupted", exit 130, the pool's workers stopped, no
tracebacks from them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import SAMPLES

_IMAGES = 20000  # the three sample images many times over: a run of several seconds


def _many(src: Path, out: Path) -> None:
    data = json.loads(src.read_text())
    anns = data["annotations"]
    data["annotations"] = [dict(anns[i % len(anns)], image_id=i + 1) for i in range(_IMAGES)]
    data.pop("images", None)
    out.write_text(json.dumps(data))


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path: Path) -> None:
    for side in ("gt", "pred"):
        _many(SAMPLES / "panoptic" / f"{side}.json", tmp_path / f"{side}.json")
        shutil.copytree(SAMPLES / "panoptic" / side, tmp_path / side)
    argv = [sys.executable, "-m", "benchmark_eval", "evaluate", "coco-panoptic-boundary",
            "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "pred.json"),
            "--workers", "2", "--quiet"]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    time.sleep(4)  # imports, checks, and the pool at work
    assert child.poll() is None, child.communicate()
    os.killpg(child.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err == "interrupted\n"
    assert out == ""
    for _ in range(50):  # the workers are gone too (the group is empty)
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("workers still running after the interrupt")
