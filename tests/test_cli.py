"""The command-line contract: exit codes, stderr shape, JSON shape, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SPEC

from witxgen.cli import main


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witxgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_ok() -> None:
    proc = run("check", str(SPEC))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_check_reports_every_file(tmp_path: Path) -> None:
    bad1 = tmp_path / "bad1.witx"
    bad1.write_text("(typename $a $nope)\n")
    bad2 = tmp_path / "bad2.witx"
    bad2.write_text("(typename $b u32)\n(typename $b u8)\n")
    proc = run("check", str(SPEC), str(bad1), str(bad2))
    assert proc.returncode == 1
    assert f"{bad1}:1:14: error: unknown type `$nope`" in proc.stderr
    assert f"{bad2}:2:11: error: duplicate type `$b`" in proc.stderr
    assert f"{bad2}:1:11: note: first defined here" in proc.stderr
    assert "2 of 3 file(s) invalid" in proc.stderr


def test_diagnostic_has_source_line_and_caret(tmp_path: Path) -> None:
    bad = tmp_path / "bad.witx"
    bad.write_text("(typename $t\n  (enum (@witx tag f32) $a))\n")
    proc = run("check", str(bad))
    lines = proc.stderr.splitlines()
    assert (
        lines[0] == f"{bad}:2:20: error: invalid repr `f32` for an enum; "
        "expected u8, u16, u32 or u64 [invalid-repr]"
    )
    assert lines[1] == "    (enum (@witx tag f32) $a))"
    assert lines[2] == "                     ^~~"


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2
    assert run("abi").returncode == 2
    assert run("check", "--bogus", str(SPEC)).returncode == 2


def test_missing_file_exit_1(tmp_path: Path) -> None:
    proc = run("check", str(tmp_path / "absent.witx"))
    assert proc.returncode == 1
    assert "cannot read" in proc.stderr and "Traceback" not in proc.stderr


def test_help_explains_commands() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for word in ("check", "abi", "fmt", "Exit codes"):
        assert word in proc.stdout


def test_abi_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["abi", str(SPEC), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"types", "modules"}
    assert data["types"]["tensor"] == {
        "kind": "record",
        "size": 20,
        "align": 4,
        "fields": {"dimensions": 0, "type": 8, "data": 12},
    }
    assert data["types"]["graph"] == {"kind": "handle", "size": 4, "align": 4}
    assert data["types"]["nn_errno"]["kind"] == "enum"
    assert data["modules"]["wasi_ephemeral_nn"]["load"] == {
        "params": ["i32"] * 5,
        "results": ["i32"],
    }


def test_abi_json_variants(witx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    preview1 = witx_dir / "wasi" / "preview1" / "wasi_snapshot_preview1.witx"
    assert main(["abi", str(preview1), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["types"]["subscription_u"] == {
        "kind": "union",
        "size": 40,
        "align": 8,
        "tag_size": 1,
        "payload_offset": 8,
    }
    assert data["types"]["prestat"]["kind"] == "union"
    kinds = {t["kind"] for t in data["types"].values()}
    assert {"builtin", "enum", "flags", "record", "union", "handle", "list"} <= kinds
    assert data["modules"]["wasi_snapshot_preview1"]["proc_exit"] == {
        "params": ["i32"],
        "results": [],
    }


def test_abi_table() -> None:
    proc = run("abi", str(SPEC))
    assert proc.returncode == 0
    assert "tensor" in proc.stdout and "dimensions@0, type@8, data@12" in proc.stdout
    assert "load(i32, i32, i32, i32, i32) -> i32" in proc.stdout


def test_fmt_old_dialect(witx_dir: Path) -> None:
    old = witx_dir / "wasi" / "oldsyntax-2021-02-04_9d9d444" / "phases" / "snapshot" / "witx"
    proc = run("fmt", str(old / "wasi_snapshot_preview1.witx"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "(struct" not in out and "(record" in out
    assert "(result $error (expected (tuple $size $size) (error $errno)))" in out
    assert "(union (@witx tag $eventtype)" in out


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01\x02\xff\xfe binary junk",
        b"(typename $a (list " * 5000,
        b'(module $m (@interface func (export "f',
        b"(; never closed",
        b"(typename $x u32",
        b")))",
        b"\xef\xbb\xbf(typename $bom u32)",
        b"",
        b"(typename $a (record (field $x u32)))" + b"\xc3\x28",
    ],
)
def test_hostile_input_never_tracebacks(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.witx"
    path.write_bytes(content)
    proc = run("check", str(path))
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 1)
    if proc.returncode == 1:
        first = proc.stderr.splitlines()[0]
        assert first.startswith(f"{path}:"), first  # every error is located
