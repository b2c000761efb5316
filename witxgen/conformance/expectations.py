"""Expectations files: known divergences of one runtime, so that a run shows them as xfail.

Modelled on wasi-testsuite's exclude files, which map a suite and a test name to the reason it
is skipped (`{"suite": {"test": "reason"}}`); here in TOML, one table per case under the suite
name, and the case still runs — only its outcome is reinterpreted:

    runtime = "wasmtime"                    # the runtime these entries describe

    ["wasi-nn"."load.target-tpu"]
    outcome = "crash"                       # what it does: fail | crash | timeout
    spec = "∈{invalid_argument,unsupported_operation}"   # what the spec expects
    observed = "panics: `unimplemented!` …" # what the runtime does
    reason = "…"                            # why, and where it comes from

`"case" = "reason"` (wasi-testsuite's form) is accepted as well. A listed case that fails with
the listed outcome (any failure, when no outcome is given) becomes xfail; one that passes
becomes xpass (unexpected: the entry is stale); one that fails differently keeps its outcome,
and the detail says what was expected.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

from .runner import Result, RunnerError

SUITE = "wasi-nn"
FAILURES = ("fail", "crash", "timeout")


@dataclass(frozen=True)
class Expectation:
    case: str
    outcome: str | None
    reason: str
    spec: str = ""
    observed: str = ""


@dataclass
class ExpectationFile:
    path: Path
    runtime: str | None
    entries: dict[str, Expectation]


def load(path: Path) -> ExpectationFile:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RunnerError(f"expectations {path}: {exc}") from exc
    runtime = data.get("runtime")
    if runtime is not None and not isinstance(runtime, str):
        raise RunnerError(f"expectations {path}: `runtime` must be a string")
    table = data.get(SUITE, {})
    unknown = [k for k in data if k not in ("runtime", SUITE)]
    if unknown or not isinstance(table, dict):
        raise RunnerError(f"expectations {path}: expected `runtime` and a [\"{SUITE}\"] table, "
                          f"got {', '.join(unknown) or type(table).__name__}")
    entries = {}
    for case, value in table.items():
        entries[case] = _entry(path, case, value)
    return ExpectationFile(path, runtime, entries)


def _entry(path: Path, case: str, value: Any) -> Expectation:
    if isinstance(value, str):
        return Expectation(case, None, value)
    if not isinstance(value, dict):
        raise RunnerError(f"expectations {path}: {case}: a reason string or a table")
    outcome = value.get("outcome")
    if outcome is not None and outcome not in FAILURES:
        raise RunnerError(f"expectations {path}: {case}: outcome must be one of "
                          f"{', '.join(FAILURES)}, not {outcome!r}")
    reason = str(value.get("reason", ""))
    if not reason:
        raise RunnerError(f"expectations {path}: {case}: every entry needs a reason")
    return Expectation(case, outcome, reason, str(value.get("spec", "")),
                       str(value.get("observed", "")))


def for_runtime(files: list[ExpectationFile], runtime: str) -> dict[str, Expectation]:
    merged: dict[str, Expectation] = {}
    for f in files:
        if f.runtime is None or f.runtime == runtime:
            merged.update(f.entries)
    return merged


def apply(result: Result, expected: Expectation | None) -> Result:
    """The result with the expectation applied (xfail / xpass), or unchanged."""
    if expected is None or result.outcome == "skip":
        return result
    why = expected.reason
    if result.outcome == "pass":
        return Result(result.case, result.runtime, "xpass",
                      "passes, but the expectations file says it should "
                      f"{expected.outcome or 'fail'}", result.duration, why, "pass")
    if expected.outcome is None or expected.outcome == result.outcome:
        return Result(result.case, result.runtime, "xfail", result.detail, result.duration, why,
                      result.outcome)
    return Result(result.case, result.runtime, result.outcome,
                  f"{result.detail} (expectations file says {expected.outcome})",
                  result.duration, why, result.outcome)
