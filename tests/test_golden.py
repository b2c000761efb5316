"""Golden files: every target's output for each input in `tests/golden_inputs.py` is exactly
the checked-in copy under `tests/golden/` (regenerate with `python tests/update_golden.py`).
Also: `generated/` is what `witxgen generate spec/wasi-nn.witx` writes.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO, require
from golden_inputs import GOLDEN_INPUTS, GoldenInput, golden_root, read_tree, render, target_exists

from witxgen.targets import DEFAULT_TARGETS, REGISTRY

HINT = "run `python tests/update_golden.py {target}` and review the diff"


# The conformance target is not a default target: its suite needs OpenVINO, holds binary
# models and is checked by tests/test_conformance.py (determinism, runs) instead of goldens.
@pytest.mark.parametrize("golden", GOLDEN_INPUTS, ids=lambda g: g.name)
@pytest.mark.parametrize("target", DEFAULT_TARGETS)
def test_golden(target: str, golden: GoldenInput) -> None:
    if not target_exists(target):
        pytest.skip(f"target {target} is not written yet (no witxgen/targets/"
                    f"{REGISTRY[target][0]}.py)")
    require(golden.path.is_file(), f"golden input {golden.path} not found")
    want = render(target, golden)
    have = read_tree(golden_root(target, golden))
    missing = sorted(set(want) - set(have))
    stale = sorted(set(have) - set(want))
    differing = sorted(p for p in set(want) & set(have) if want[p] != have[p])
    assert not (missing or stale or differing), (
        f"{target} × {golden.name}: missing {missing}, stale {stale}, differing {differing}; "
        + HINT.format(target=target))


def test_generated_dir_is_fresh() -> None:
    """`witxgen generate spec/wasi-nn.witx --check` passes for the checked-in generated/.

    Every target whose module exists is checked; once all targets are written this is the
    plain `--check` over all of them.
    """
    targets = [t for t in DEFAULT_TARGETS if target_exists(t)]
    argv = [sys.executable, "-m", "witxgen", "generate", "spec/wasi-nn.witx", "--check"]
    for target in targets:
        argv += ["-t", target]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, (
        f"generated/ is stale for {targets}:\n{proc.stderr}\n"
        "run `witxgen generate spec/wasi-nn.witx` from the repo root")
