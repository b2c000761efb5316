"""Replays the parser fuzzing's regression corpus (tests/fuzz/corpus/) through the fuzz
invariants, checks a few generated extremes too big to keep there, and runs a short
deterministic fuzz so that the driver itself keeps working (see tests/fuzz/RESULTS.md)."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fuzz"))
import fuzz_parser as fp  # noqa: E402

from witxgen.loader import MAX_FILE_BYTES  # noqa: E402
from witxgen.parser import MAX_DEPTH  # noqa: E402

FILES = fp.corpus_files()

# CPU seconds per stage. The fuzz run holds stages to 1 s; a loaded CI machine gets some
# slack, and the regressions guarded here are quadratic (ten times slower or worse).
LIMIT_S = 2 * fp.LIMIT_S

EXTREMES = {
    "file-3-MiB": b"(typename $t (record (field $a u32)))\n" * ((3 << 20) // 38),
    "file-one-byte-over-limit": b" " * MAX_FILE_BYTES + b"(typename $a u8)",
    "nesting-3000": b"(typename $a " + b"(list " * 3000 + b"u8" + b")" * 3001,
    "nesting-at-limit": b"(typename $a " + b"(list " * (MAX_DEPTH - 2) + b"u8" + b")" * 99,
    "name-200-KiB": b"(typename $" + b"a" * (200 << 10) + b" u8)",
    "number-10000-digits": b"(typename $t (int u64 (const $x " + b"9" * 10_000 + b")))",
}


@pytest.fixture(scope="module")
def checker() -> Iterator[fp.Checker]:
    work = fp.make_workdir()
    yield fp.Checker(work, limit=LIMIT_S)
    shutil.rmtree(work, ignore_errors=True)


def test_corpus_is_small() -> None:
    assert 10 <= len(FILES) <= fp.CORPUS_MAX_FILES
    assert sum(p.stat().st_size for p in FILES) <= fp.CORPUS_MAX_BYTES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_input(checker: fp.Checker, path: Path) -> None:
    out = checker.check(path.read_bytes())
    assert out.failure is None, out.failure


@pytest.mark.parametrize("data", EXTREMES.values(), ids=EXTREMES.keys())
def test_generated_extreme(checker: fp.Checker, data: bytes) -> None:
    out = checker.check(data)
    assert out.failure is None, out.failure


def test_the_limits_are_reached() -> None:
    """The corpus holds inputs at each cap and just past it, so the caps are what is tested."""
    work = fp.make_workdir()
    try:
        checker = fp.Checker(work, limit=LIMIT_S)
        codes = {p.name: checker.check(p.read_bytes()).codes for p in FILES if "limit-" in p.name}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert codes["limit-densest-at-token-cap.witx"] == ()
    assert codes["limit-one-token-over-cap.witx"] == ("too-large",)
    assert codes["limit-alias-chain-at-depth-cap.witx"] == ()
    assert codes["limit-alias-chain-over-depth-cap.witx"] == ("too-deep",)


def test_short_fuzz_run() -> None:
    start = time.monotonic()
    stats, findings, features = fp.fuzz(300, seed=7, seeds_first=False, limit=LIMIT_S)
    assert stats.tried == 300
    assert [f.failure for f in findings] == []
    assert len(stats.by_strategy) >= 5  # every kind of mutation ran
    assert stats.valid and len(features) > 20
    assert time.monotonic() - start < 60
