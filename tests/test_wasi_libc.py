"""Check witxgen's preview1 layout and core signatures against Debian wasi-libc's api.h.

api.h was generated from the same witx by the reference witx tooling, so every size, align and
offset it asserts, and every import signature behind its wrappers, must match what
``python -m witxgen abi FILE --json`` prints. The header is missing → skip, or fail when CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from wasi_libc_facts import (
    DEFAULT_API_H,
    MIN_FUNCTIONS,
    MIN_OFFSETS,
    MIN_SIZES,
    ApiFacts,
    parse_api_h,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
MODULE = "wasi_snapshot_preview1"
# api.h is hand-maintained since 2022 and dropped the deprecated proc_raise (and its $signal
# type); the witx still declares it, so the header lists every witx function but this one.
HEADER_OMITTED_FUNCTIONS = frozenset({"proc_raise"})

if not DEFAULT_API_H.is_file():
    message = f"{DEFAULT_API_H} not found: install Debian's wasi-libc package"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

FACTS: ApiFacts = parse_api_h(DEFAULT_API_H)


def shared_dir() -> Path:
    """The project's shared/ folder: next to the repo, unless WITXGEN_SHARED says otherwise."""
    override = os.environ.get("WITXGEN_SHARED")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="module")
def abi() -> dict[str, Any]:
    witx = shared_dir() / "witx" / "wasi" / "preview1" / "wasi_snapshot_preview1.witx"
    if not witx.is_file():
        pytest.fail(f"{witx} not found (set WITXGEN_SHARED to the shared/ folder)")
    proc = subprocess.run(
        [sys.executable, "-m", "witxgen", "abi", str(witx), "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"witxgen abi exited {proc.returncode}:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _type(abi: dict[str, Any], name: str) -> dict[str, Any]:
    types: dict[str, dict[str, Any]] = abi["types"]
    assert name in types, f"witxgen reports no type {name!r}"
    return types[name]


LAYOUT_CASES = [
    pytest.param(name, key, value, id=f"{name}-{key}")
    for key, table in (("size", FACTS.sizes), ("align", FACTS.aligns))
    for name, value in sorted(table.items())
]
OFFSET_CASES = [
    pytest.param(name, fld, offset, id=f"{name}.{fld}")
    for name, fields in sorted(FACTS.offsets.items())
    for fld, offset in fields.items()
]
FUNCTION_CASES = [
    pytest.param(name, params, results, id=name)
    for name, (params, results) in sorted(FACTS.functions.items())
]


def test_header_parsed_completely() -> None:
    # parse_api_h already raises on any unparsed assert or prototype; guard the totals too.
    assert len(FACTS.sizes) >= MIN_SIZES
    assert FACTS.aligns.keys() == FACTS.sizes.keys()
    assert sum(len(fields) for fields in FACTS.offsets.values()) >= MIN_OFFSETS
    assert len(FACTS.functions) >= MIN_FUNCTIONS


@pytest.mark.parametrize(("name", "key", "expected"), LAYOUT_CASES)
def test_type_layout(abi: dict[str, Any], name: str, key: str, expected: int) -> None:
    assert _type(abi, name)[key] == expected


@pytest.mark.parametrize(("name", "field", "expected"), OFFSET_CASES)
def test_field_offset(abi: dict[str, Any], name: str, field: str, expected: int) -> None:
    fields: dict[str, int] = _type(abi, name).get("fields", {})
    assert field in fields, f"witxgen reports no field {field!r} in {name!r}"
    assert fields[field] == expected


@pytest.mark.parametrize(("name", "params", "results"), FUNCTION_CASES)
def test_function_signature(
    abi: dict[str, Any], name: str, params: list[str], results: list[str]
) -> None:
    functions: dict[str, dict[str, list[str]]] = abi["modules"][MODULE]
    assert name in functions, f"witxgen reports no function {name!r} in {MODULE}"
    assert functions[name]["params"] == params
    assert functions[name]["results"] == results


def test_function_sets_equal(abi: dict[str, Any]) -> None:
    assert set(abi["modules"][MODULE]) == set(FACTS.functions) | HEADER_OMITTED_FUNCTIONS
