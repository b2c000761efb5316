"""`benchmarks/suite.py --quick` (the smoke test of `make bench`) writes the whole report.

Only the report's shape is checked: every section, the tables, the plots it links, the raw
results. Nothing about times is asserted (the numbers of a quick run mean nothing). A route
whose prerequisite is missing (node, clang-14, the wasmtime CLI) is reported as not run by the
suite; that skips this test locally after the checks and fails it under CI=true.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require

pytestmark = pytest.mark.slow  # ~40-60 s: a dozen processes that import OpenVINO

SECTIONS = [
    "# Benchmarks",
    "## Issue 4's targets, measured in this run",
    "## Machine",
    "## Inference latency",
    "### MobileNetV2",
    "### digits classifier",
    "## Host-call overhead",
    "## Start-up",
    "### Peak RSS",
    "## Code generation",
    "## Routes not run, failures",
    "## Reproducing",
]


def test_quick_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    raw = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "suite.py"), "--quick", "--out", str(out),
         "--json", str(raw)],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    text = out.read_text(encoding="utf-8")
    positions = [text.find(heading) for heading in SECTIONS]
    missing = [h for h, at in zip(SECTIONS, positions, strict=True) if at < 0]
    assert not missing, f"sections missing from the report: {missing}"
    assert positions == sorted(positions), "sections out of order"
    assert "--quick" in text and "smoke run" in text
    for needle in ("load average", "CPU:", "RAM:", "OpenVINO", "wasmtime", "median",
                   "p10 – p90", "× native f32", "× wasmtime CLI", "peak RSS", "witxgen generate"):
        assert needle in text, needle
    # the issue 4 targets: four rows, each with a verdict
    targets = text.split("## Issue 4's targets")[1].split("\n## ")[0]
    verdicts = re.findall(r"^\| .* \| (\*\*met\*\*|\*\*not met\*\*|not measured)[^|]* \|$",
                          targets, re.MULTILINE)
    assert len(verdicts) == 4, targets
    # the summary on stdout
    assert "Issue 4's targets" in proc.stdout

    results = json.loads(raw.read_text())
    for key in ("latency", "hostcall", "startup", "compile", "codegen", "machine", "facts",
                "load_start", "skipped", "failed"):
        assert key in results, key
    assert results["failed"] == []
    assert set(results["latency"]) == {"mobilenet_v2", "digits"}

    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    if results.get("plots_missing"):
        assert not images
    else:
        assert len(images) == 2
        for image in images:
            png = out.parent / image
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image

    require(not results["skipped"] and not results.get("plots_missing"),
            f"routes not run: {results['skipped']}; plots: {results.get('plots_missing')}")
