"""Robustness of the wasi-nn host (issue 7), the fast always-on part: reduced, fixed-seed runs of
the drivers in tests/robustness/ (the full runs and docs/robustness.md are report.py's job).

* host fuzz: generated argument vectors through a real WAT guest and through the glue's host
  functions, in every registration of the glue (generic, and fast when available): the process
  survives, only errnos and one-line traps come back, no guest byte outside a call's output
  region changes, and the outcome is DESIGN.md §5's where the arguments decide it;
* hostile guests and models on our runtime (one child process under an address-space cap, so a
  regression that lets a model allocate 16 GiB fails an allocation rather than the machine):
  each gets what DESIGN.md §5 says, with bounded peak RSS;
* limits, short cycle runs (limits reached cleanly, no growth), two threads on one backend.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("openvino")
pytest.importorskip("wasmtime")

sys.path.insert(0, str(Path(__file__).resolve().parent / "robustness"))

from common import TOO_LARGE, glue_name, glue_variants  # noqa: E402
from concurrency import run_threads  # noqa: E402
from cycles import check_limits, run_cycles  # noqa: E402
from guests import TRAP, all_cases  # noqa: E402
from host_fuzz import Campaign  # noqa: E402
from hostile import PEAK_BOUND_MB, run_ours  # noqa: E402

VARIANTS = glue_variants()
IDS = [glue_name(v) for v in VARIANTS]


@pytest.mark.parametrize("driver,count,seed", [("glue", 500, 11), ("guest", 400, 12)])
@pytest.mark.parametrize("fast", VARIANTS, ids=IDS)
def test_host_fuzz(driver: str, count: int, seed: int, fast: bool | None) -> None:
    stats = Campaign(driver, fast, count, seed, epoch=250).run()
    assert stats.inputs == count
    assert not stats.unclean, stats.unclean[:3]
    assert not stats.memory_violations, stats.memory_violations[:3]
    assert not stats.hangs, stats.hangs[:3]
    assert stats.oracle_mismatch_count == 0, stats.oracle_mismatches[:3]
    # The vectors reach every function, the traps and the memory growth.
    assert set(stats.by_function) == {"load", "load_by_name", "init_execution_context",
                                      "set_input", "compute", "get_output"}
    assert stats.traps > 0 and stats.grows > 0
    assert any(k.endswith(":0") for k in stats.outcomes if k.startswith("get_output"))


def test_hostile_guests_on_our_runtime() -> None:
    cases = [c for c in all_cases() if not c.known_gap]
    outcomes = run_ours(cases, mem_cap=8 << 30, separate=False)
    wrong = [(o.case, o.kind, o.exit, c.expect, o.detail) for o, c in zip(outcomes, cases,
                                                                          strict=True)
             if not o.ok]
    assert not wrong
    assert all(o.kind in ("exit", "trap") for o in outcomes)
    assert sum(c.expect == TRAP for c in cases) >= 4
    assert max(o.peak_mb for o in outcomes) < PEAK_BOUND_MB


def test_limits_hold() -> None:
    failed = [c for c in check_limits() if not c.ok]
    assert not failed


def test_short_cycles_stay_bounded() -> None:
    reuse = run_cycles("reuse", 600)
    assert reuse.complete_cycles == 600 and reuse.output_ok
    contexts = run_cycles("context_per_cycle", 400)
    assert contexts.outcomes == {"init:0": 256, f"init:{TOO_LARGE}": 144, "set_input:0": 256,
                                 "compute:0": 256, "get_output:0": 256}
    graphs = run_cycles("graph_per_cycle", 100)
    assert graphs.outcomes[f"load:{TOO_LARGE}"] == 36 and graphs.complete_cycles == 64
    for run in (reuse, contexts, graphs):
        assert run.growth_mb < 20, run.samples


def test_threads_share_compiled_models() -> None:
    result = run_threads("digits", [1, 2], per_thread=150)
    assert result.compiled_once
    for run in result.runs:
        assert not run.deadlocked and not run.errors and run.mismatches == 0
        assert run.inferences == run.threads * 150


def test_trapped_run_frees_its_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guest that traps must not leave its Store (a 4 GiB reservation per memory, plus the
    guest's memory) waiting for the cyclic garbage collector (run.py `_drop_frames`)."""
    import gc
    import logging
    import weakref

    import wasmtime
    from common import digits_named_dir
    from guests import case
    from witxgen_runtime import RunConfig, run_wasi

    stores: list[weakref.ref[wasmtime.Store]] = []

    class TrackedStore(wasmtime.Store):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[arg-type]
            stores.append(weakref.ref(self))

    monkeypatch.setattr(wasmtime, "Store", TrackedStore)
    # pytest's log capture keeps each record, and a record's exc_info reaches the Store through
    # the frames of its traceback (f_back links up to run_wasi): keep the glue's trap log away.
    monkeypatch.setattr(logging.getLogger("witxgen_host"), "propagate", False)
    config = RunConfig(nn_graphs=[f"openvino::{digits_named_dir()}"], cache_dir=None)
    gc.disable()
    try:
        result = run_wasi(case("load_by_name_result_ptr_oob").wasm, config)
        assert result.trap is not None
        assert stores and stores[0]() is None, "the trapped run's Store is still alive"
    finally:
        gc.enable()
