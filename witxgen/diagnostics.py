"""Diagnostics as data: a code, a message, a primary span and related spans.

Every user-facing error in witxgen is a `Diagnostic`. Errors are collected and raised
together as one `WitxError`; only the CLI renders them (as `path:line:col: error: ...`
followed by the source line and a caret).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    path: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Related:
    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    related: tuple[Related, ...] = ()
    severity: str = "error"


@dataclass
class WitxError(Exception):
    """One or more diagnostics, raised once all errors of an input were collected."""

    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return render_all(self.diagnostics, self.sources)


class DiagnosticSink:
    """Collects diagnostics while a pass runs, so that one pass reports every error."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(
        self,
        code: str,
        message: str,
        span: Span | None,
        related: Iterable[Related] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, tuple(related)))

    def __bool__(self) -> bool:
        return bool(self.diagnostics)


EXCERPT_WIDTH = 200
"""Longest part of a source line quoted under a diagnostic."""


@lru_cache(maxsize=8)
def _lines(text: str) -> tuple[str, ...]:
    # Cached: one input can have thousands of diagnostics, each quoting a line of it.
    return tuple(text.split("\n"))  # only \n ends a line for the parser, so only \n here


def _source_excerpt(span: Span, sources: Mapping[str, str]) -> list[str]:
    text = sources.get(span.path)
    if text is None:
        return []
    lines = _lines(text)
    if not 1 <= span.line <= len(lines):
        return []
    line, col = lines[span.line - 1], span.col
    if len(line) > EXCERPT_WIDTH:
        # Quote only the part around the column: copying a long line for each of thousands
        # of diagnostics is quadratic (a minified or hostile file).
        start = max(0, min(col - 1 - EXCERPT_WIDTH // 2, len(line) - EXCERPT_WIDTH))
        line, col = line[start : start + EXCERPT_WIDTH], col - start
    line = line.replace("\t", " ")
    width = 1
    if span.end_line == span.line and span.end_col > span.col:
        width = span.end_col - span.col
    width = max(1, min(width, len(line) - col + 1))
    return [f"  {line}", "  " + " " * (col - 1) + "^" + "~" * (width - 1)]


def render(diag: Diagnostic, sources: Mapping[str, str]) -> str:
    where = f"{diag.span}: " if diag.span else "witxgen: "
    out = [f"{where}{diag.severity}: {diag.message} [{diag.code}]"]
    if diag.span:
        out += _source_excerpt(diag.span, sources)
    for rel in diag.related:
        out.append(f"{rel.span}: note: {rel.message}")
        out += _source_excerpt(rel.span, sources)
    return "\n".join(out)


def render_all(diags: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    return "\n".join(render(d, sources) for d in diags)
