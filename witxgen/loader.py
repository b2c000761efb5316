"""Reads an entry .witx file and everything it `use`s, then validates the whole set.

`use` paths resolve relative to the including file, then against each `-I` directory in
order. A file reached twice is read once; an include cycle or a missing file is an error
at the `use` that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import ir
from . import syntax as s
from .diagnostics import Diagnostic, Related, WitxError
from .parser import decode_source, parse
from .validate import validate

MAX_FILE_BYTES = 256 * 1024
"""Largest file read: 11 times the largest real witx file. The parser caps tokens too
(parser.MAX_TOKENS); this bounds the time spent on comments and blanks."""


class _Loader:
    def __init__(self, include_dirs: Sequence[str | Path]) -> None:
        self.include_dirs = [Path(d) for d in include_dirs]
        self.sources: dict[str, str] = {}
        self.docs: list[s.DocumentSyn] = []
        self.loaded: set[Path] = set()
        self.stack: list[tuple[Path, s.UseSyn | None]] = []
        self.diagnostics: list[Diagnostic] = []

    def load(self, path: Path, display: str, via: s.UseSyn | None) -> None:
        key = path.resolve()
        if key in self.loaded:
            return
        try:
            with path.open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)  # no more: the file may be huge or endless
        except OSError as exc:
            span = via.span if via else None
            reason = exc.strerror or str(exc)
            self.diagnostics.append(Diagnostic("io", f"cannot read `{display}`: {reason}", span))
            return
        if len(data) > MAX_FILE_BYTES:
            self.diagnostics.append(
                Diagnostic(
                    "too-large",
                    f"`{display}` is larger than {MAX_FILE_BYTES} bytes",
                    via.span if via else None,
                )
            )
            return
        try:
            text = decode_source(display, data)
            self.sources[display] = text
            doc = parse(display, text)
        except WitxError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return
        self.loaded.add(key)
        self.stack.append((key, via))
        for item in doc.items:
            if isinstance(item, s.UseSyn):
                self.use(path, item)
        self.stack.pop()
        self.docs.append(doc)

    def use(self, including: Path, use: s.UseSyn) -> None:
        candidates = [including.parent / use.path] + [d / use.path for d in self.include_dirs]
        found = next((c for c in candidates if _is_file(c)), None)
        if found is None:
            looked = ", ".join(str(c.parent) for c in candidates)
            self.diagnostics.append(
                Diagnostic(
                    "use-not-found", f"cannot find `{use.path}` (looked in: {looked})", use.span
                )
            )
            return
        key = found.resolve()
        chain = [k for k, _ in self.stack]
        if key in chain:
            start = chain.index(key)
            names = [k.name for k in chain[start:]] + [key.name]
            related = tuple(
                Related(u.span, "included from here")
                for _, u in self.stack[start + 1 :]
                if u is not None
            )
            self.diagnostics.append(
                Diagnostic("use-cycle", "include cycle: " + " → ".join(names), use.span, related)
            )
            return
        self.load(found, _display(found), use)


def _is_file(path: Path) -> bool:
    # is_file() raises for a name too long, a directory we may not search, ...
    try:
        return path.is_file()
    except OSError:
        return False


def _display(path: Path) -> str:
    """A path as short as possible for messages: relative to the cwd when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_document(path: str | Path, include_dirs: Sequence[str | Path] = ()) -> ir.Document:
    """Parse, resolve `use`s and validate. Raises WitxError with every diagnostic found."""
    loader = _Loader(include_dirs)
    entry = Path(path)
    loader.load(entry, str(path), None)
    if loader.diagnostics:
        raise WitxError(loader.diagnostics, loader.sources)
    try:
        doc = validate(loader.docs)
    except WitxError as exc:
        raise WitxError(exc.diagnostics, loader.sources) from None
    files = tuple(d.path for d in reversed(loader.docs))
    return ir.Document(doc.types, doc.modules, str(path), files)


def load_text(text: str, path: str = "<string>") -> ir.Document:
    """Parse and validate witx source held in memory (no `use` resolution)."""
    try:
        syn = parse(path, text)
        return validate([syn])
    except WitxError as exc:
        raise WitxError(exc.diagnostics, {path: text}) from None
