"""Shared fixtures: where the repo and the shared witx corpus are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WITXGEN_SHARED", REPO.parent / "shared"))
WITX = SHARED / "witx"
SPEC = REPO / "spec" / "wasi-nn.witx"
OLD_EPHEMERAL = WITX / "wasi" / "oldsyntax-2021-02-04_9d9d444" / "phases" / "ephemeral" / "witx"

# The two drafts in the corpus that are broken upstream (see tests/test_corpus.py).
BROKEN_DRAFTS = {"2023-08-22_b07340c.witx", "2020-07-20_4a2f4ba.witx"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a prerequisite is missing, but fail under CI=true."""
    if not condition:
        if in_ci():
            pytest.fail(f"required under CI: {reason}")
        pytest.skip(reason)


def includes_for(path: Path) -> list[Path]:
    """The 2020-05-14 draft `use`s WASI typenames that live in another folder."""
    return [OLD_EPHEMERAL] if path.name.startswith("2020-05-14") else []


def corpus_files() -> list[Path]:
    return sorted(WITX.rglob("*.witx"))


@pytest.fixture(scope="session")
def witx_dir() -> Path:
    require(WITX.is_dir(), f"shared witx corpus not found at {WITX}")
    return WITX
