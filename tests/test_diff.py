"""`witxgen diff`: renumberings, renames, layout and signature changes, exit codes, history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SPEC

from witxgen.diff import SpecDiff, diff_documents
from witxgen.loader import load_document, load_text


def nn(witx_dir: Path, name: str) -> Path:
    return witx_dir / "wasi-nn" / f"{name}.witx"


def changes(result: SpecDiff) -> set[tuple[str, str, str, bool]]:
    return {(c.scope, c.item, c.change, c.breaking) for c in result.changes}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witxgen", "diff", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "2020-08-07_6f76f9f",
            "2020-08-11_793d4cd",
            {
                ("type tensor_type", "case i32", "renumbered", True),
                ("type tensor_type", "case u8", "added", True),
                ("type tensor_type", "case u32", "removed", True),
            },
        ),
        (
            "2022-04-06_c557b2e",
            "2022-08-09_e5e1a6c",
            {
                ("type graph_encoding", "case onnx", "renumbered", True),
                ("type graph_encoding", "case tensorflow", "renumbered", True),
                ("type graph_encoding", "case pytorch", "added", False),
                ("type nn_errno", "case invalid_encoding", "added", True),
                ("type nn_errno", "case missing_memory", "renumbered", True),
                ("type nn_errno", "case busy", "renumbered", True),
                ("type nn_errno", "case runtime_error", "added", False),
            },
        ),
        (
            "2023-08-14_e9f2ad2",
            "2023-08-23_747d8df",
            {
                ("type tensor_type", "case f64", "added", True),
                ("type tensor_type", "case u8", "renumbered", True),
                ("type tensor_type", "case i32", "renumbered", True),
                ("type tensor_type", "case i64", "added", False),
            },
        ),
    ],
)
def test_renumberings(
    witx_dir: Path, old: str, new: str, expected: set[tuple[str, str, str, bool]]
) -> None:
    result = diff_documents(load_document(nn(witx_dir, old)), load_document(nn(witx_dir, new)))
    assert expected <= changes(result)
    assert result.breaking
    values = {c.item: (c.old, c.new) for c in result.changes if c.change == "renumbered"}
    if new == "2023-08-23_747d8df":
        assert values == {"case u8": (2, 3), "case i32": (3, 4)}


def test_renames_are_compatible(witx_dir: Path) -> None:
    result = diff_documents(
        load_document(nn(witx_dir, "2020-08-11_793d4cd")),
        load_document(nn(witx_dir, "2020-08-12_f72b983")),
    )
    renamed = {(c.old, c.new) for c in result.changes if c.change == "renamed"}
    assert renamed == {("size", "buffer_size"), ("errno", "nn_errno")}
    assert not result.breaking
    result = diff_documents(
        load_document(nn(witx_dir, "2023-08-14_7c7bb66")),
        load_document(nn(witx_dir, "2023-08-14_e9f2ad2")),
    )
    renamed = {(c.old, c.new) for c in result.changes if c.change == "renamed"}
    assert renamed == {
        ("model_too_large", "too_large"),
        ("model_not_found", "not_found"),
        ("model_name", "name"),
    }
    assert not result.breaking


BASE = """
(typename $e (enum (@witx tag u8) $a $b))
(typename $r (record (field $x u8) (field $y u32)))
(module $m
  (@interface func (export "f") (param $p u32) (result $err (expected (error $e))))
  (@interface func (export "g") (param $q $r)))
"""


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("$a $b))", "$a $b $c))"), ("type e", "case c", "added", False)),
        (("(field $x u8)", "(field $x u16)"), ("type r", "field x", "changed", True)),
        (
            ("(field $x u8) (field $y u32)", "(field $x u8) (field $z u32)"),
            ("type r", "field z", "renamed", False),
        ),
        (("(param $p u32)", "(param $p u64)"), ("module m", "function f", "signature", True)),
        (('(export "g")', '(export "h")'), ("module m", "function h", "renamed", True)),
        (("(module $m", "(module $n"), ("module n", "", "renamed", True)),
        (("(@witx tag u8)", "(@witx tag u16)"), ("type e", "layout", "layout", True)),
    ],
)
def test_synthetic_changes(edit: tuple[str, str], expected: tuple[str, str, str, bool]) -> None:
    old = load_text(BASE)
    new = load_text(BASE.replace(*edit))
    assert expected in changes(diff_documents(old, new))


def test_function_added_and_removed() -> None:
    old = load_text(BASE)
    new = load_text(
        BASE.replace('(@interface func (export "g") (param $q $r))', "")
        + '(module $other (@interface func (export "z")))'
    )
    got = changes(diff_documents(old, new))
    assert ("module m", "function g", "removed", True) in got
    assert ("module other", "", "added", False) in got
    assert diff_documents(new, old).breaking  # removing module `other` breaks its users


def test_cli_exit_codes(witx_dir: Path) -> None:
    same = run(str(SPEC), str(nn(witx_dir, "2023-08-23_747d8df")))
    assert same.returncode == 0, same.stdout  # docs differ only
    assert "0 breaking" in same.stdout
    breaking = run(str(nn(witx_dir, "2023-08-14_e9f2ad2")), str(SPEC))
    assert breaking.returncode == 3
    assert "BREAKING    case `u8` changed value 2 → 3" in breaking.stdout
    invalid = run(str(SPEC), str(nn(witx_dir, "2023-08-22_b07340c")))
    assert invalid.returncode == 1 and "duplicate enum case" in invalid.stderr


def test_json_is_stable(witx_dir: Path) -> None:
    args = (
        str(nn(witx_dir, "2022-04-06_c557b2e")),
        str(nn(witx_dir, "2022-08-09_e5e1a6c")),
        "--json",
    )
    first, second = run(*args), run(*args)
    assert first.returncode == 3 and first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert set(data) == {"old", "new", "breaking", "summary", "changes"}
    assert data["breaking"] is True
    assert set(data["changes"][0]) == {
        "scope",
        "item",
        "change",
        "breaking",
        "message",
        "old",
        "new",
    }


def test_spec_history_doc_is_current(witx_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "history.md"
    subprocess.run(
        [
            sys.executable,
            "scripts/spec_history.py",
            "--shared",
            str(witx_dir.parent),
            "--out",
            str(out),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    checked_in = (REPO / "docs" / "spec-history.md").read_text()
    assert out.read_text() == checked_in, "run `make spec-history`"
    for fact in (
        "case `u8` changed value 2 → 3",
        "case `i32` changed value 2 → 3",
        "case `onnx` changed value 2 → 1",
        "case `missing_memory` changed value 2 → 3",
    ):
        assert fact in checked_in
