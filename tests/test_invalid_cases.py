"""Each tests/cases/invalid/*.witx must fail with exactly the diagnostics its header lists.

Header lines (leading `;;` comment lines of the case file):

    ;; expect: [FILE:]LINE:COL: CODE: MESSAGE-SUBSTRING   one per error, in reported order
    ;; note: [FILE:]LINE:COL: MESSAGE-SUBSTRING           a related location of the expect above
    ;; xfail: REASON                                      a known witxgen bug (strict xfail)

FILE is relative to the case's folder and defaults to the case itself. include/ holds files
that cases `use`; they are not cases.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from witxgen.diagnostics import Span, WitxError
from witxgen.loader import load_document

REPO = Path(__file__).resolve().parents[1]
CASES_DIR = REPO / "tests" / "cases" / "invalid"
MIN_CASES = 40
CLI_SAMPLE = (
    "syntax-stray-close-paren",
    "invalid-utf8",
    "nul-byte",
    "too-deep-nesting",
    "duplicate-typename",
    "use-cycle",
    "several-errors",
)

_LOC = r"(?:(?P<path>[^:\s]*[^\d:\s][^:\s]*):)?(?P<line>\d+):(?P<col>\d+):"
_EXPECT = re.compile(rf";; expect: {_LOC} (?P<code>[a-z0-9-]+): (?P<msg>.+)")
_NOTE = re.compile(rf";; note: {_LOC} (?P<msg>.+)")
_XFAIL = re.compile(r";; xfail: (?P<msg>.+)")
_DIRECTIVE = re.compile(r";; (expect|note|xfail)\b")


@dataclass
class Expected:
    where: str  # "FILE:LINE:COL", FILE relative to the case folder
    code: str
    message: str
    notes: list[Expected] = field(default_factory=list)


@dataclass
class Case:
    path: Path
    expected: list[Expected]
    xfail: str | None


def _where_expected(case: Path, m: re.Match[str]) -> str:
    target = (case.parent / (m["path"] or case.name)).resolve()
    return f"{os.path.relpath(target, case.parent)}:{m['line']}:{m['col']}"


def _where(span: Span | None, case: Path) -> str:
    if span is None:
        return "<no location>"
    return f"{os.path.relpath(Path(span.path).resolve(), case.parent)}:{span.line}:{span.col}"


def parse_case(path: Path) -> Case:
    case = Case(path, [], None)
    for raw in path.read_bytes().splitlines():
        line = raw.decode("utf-8", "replace")
        if not line.startswith(";;"):
            break
        if m := _EXPECT.fullmatch(line):
            case.expected.append(Expected(_where_expected(path, m), m["code"], m["msg"]))
        elif (m := _NOTE.fullmatch(line)) and case.expected:
            case.expected[-1].notes.append(Expected(_where_expected(path, m), "", m["msg"]))
        elif m := _XFAIL.fullmatch(line):
            case.xfail = m["msg"]
        elif _DIRECTIVE.match(line):
            raise ValueError(f"{path.name}: malformed header line {line!r}")
    return case


CASES = [parse_case(p) for p in sorted(CASES_DIR.glob("*.witx"))]


def _params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            c,
            id=c.path.stem,
            marks=[pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else [],
        )
        for c in cases
    ]


@pytest.mark.parametrize("case", _params(CASES))
def test_invalid_case(case: Case) -> None:
    assert case.expected, "case has no `;; expect:` header"
    with pytest.raises(WitxError) as info:
        load_document(case.path)
    diags = info.value.diagnostics
    actual = [
        (_where(d.span, case.path), d.code, [_where(r.span, case.path) for r in d.related])
        for d in diags
    ]
    wanted = [(e.where, e.code, [n.where for n in e.notes]) for e in case.expected]
    assert actual == wanted
    for diag, exp in zip(diags, case.expected, strict=True):
        assert exp.message in diag.message
        for rel, note in zip(diag.related, exp.notes, strict=True):
            assert note.message in rel.message


def _first_location(case: Case) -> str:
    """The first expected diagnostic as the CLI prints it when run from the repo root."""
    path, line, col = case.expected[0].where.rsplit(":", 2)
    return f"{os.path.relpath(case.path.parent / path, REPO)}:{line}:{col}: error: "


def _check(*paths: Path) -> subprocess.CompletedProcess[str]:
    args = [os.path.relpath(p, REPO) for p in paths]
    return subprocess.run(
        [sys.executable, "-m", "witxgen", "check", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("case", _params([c for c in CASES if c.path.stem in CLI_SAMPLE]))
def test_cli_reports_case(case: Case) -> None:
    proc = _check(case.path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(_first_location(case)), proc.stderr


def test_cli_reports_every_case_in_one_run() -> None:
    cases = [c for c in CASES if not c.xfail]
    proc = _check(*(c.path for c in cases))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.endswith(f"witxgen: {len(cases)} of {len(cases)} file(s) invalid\n")
    for case in cases:
        assert _first_location(case) in proc.stderr, case.path.name


def test_corpus_is_large_enough() -> None:
    assert len(CLI_SAMPLE) == len([c for c in CASES if c.path.stem in CLI_SAMPLE])
    assert len([c for c in CASES if not c.xfail]) >= MIN_CASES
