"""Runs targets over a document and writes (or checks) their files under OUT/<target>/.

Files are text (`str`, written as UTF-8) or, for targets that ship binary data such as the
conformance suite's fixture models, `bytes` (written as they are).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import ir
from .targets import GenerateOptions, target_class
from .templating import provenance

IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache"}


def display_path(path: str | Path) -> str:
    """The spec path as provenance lines show it: relative to the cwd, '/'-separated."""
    p = Path(path)
    with contextlib.suppress(ValueError):  # outside the cwd: keep the path as given
        p = p.resolve().relative_to(Path.cwd().resolve())
    return p.as_posix()


FileData = str | bytes


def _encode(data: FileData) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def render_targets(
    doc: ir.Document, targets: Sequence[str], templates: Path | None = None
) -> dict[str, FileData]:
    """Every file of every requested target, keyed `<target>/<path>`."""
    options = GenerateOptions(
        spec_path=display_path(doc.path),
        provenance=provenance(display_path(doc.path), [Path(f) for f in doc.files]),
        templates=templates,
    )
    out: dict[str, FileData] = {}
    for name in targets:
        for rel, text in target_class(name)(doc, options).generate().items():
            out[f"{name}/{rel}"] = text
    return out


@dataclass
class CheckReport:
    differing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.differing or self.missing or self.stale)


def check_files(files: Mapping[str, FileData], out_dir: Path,
                targets: Sequence[str]) -> CheckReport:
    report = CheckReport()
    for rel, text in sorted(files.items()):
        path = out_dir / rel
        if not path.is_file():
            report.missing.append(str(path))
        elif path.read_bytes() != _encode(text):
            report.differing.append(str(path))
    for name in targets:
        root = out_dir / name
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(out_dir).as_posix()
            if path.is_file() and rel not in files and not IGNORED_PARTS & set(path.parts):
                report.stale.append(str(path))
    return report


def write_files(files: Mapping[str, FileData], out_dir: Path) -> tuple[int, int]:
    """Write changed files only; returns (written, unchanged)."""
    written = unchanged = 0
    for rel, text in sorted(files.items()):
        path = out_dir / rel
        data = _encode(text)
        if path.is_file() and path.read_bytes() == data:
            unchanged += 1
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += 1
    return written, unchanged
