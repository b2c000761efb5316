"""The specs every target's golden files come from, and how to render and read them.

Golden files live in `tests/golden/<input>/<target>/` (for spec/wasi-nn.witx: the
checked-in `generated/<target>/`) and are exactly what the target generates for that input.
`python tests/update_golden.py [TARGET...]` rewrites them; `tests/test_golden.py` compares.
Provenance lines use each input's fixed `display` path, so golden files do not depend on
the cwd or on where the shared corpus lives.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO, SPEC, WITX

from witxgen.loader import load_document
from witxgen.targets import REGISTRY, GenerateOptions, target_class
from witxgen.templating import provenance

GOLDEN_DIR = REPO / "tests" / "golden"


@dataclass(frozen=True)
class GoldenInput:
    name: str  # the folder under tests/golden/
    path: Path  # the entry .witx file
    display: str  # the spec path the provenance lines show
    includes: tuple[Path, ...] = ()  # -I folders for `use`
    folder: Path | None = None  # where its files live, when not tests/golden/<name>/


GOLDEN_INPUTS = (
    # The project's own spec: its golden files are the checked-in generated/ folder itself.
    GoldenInput("wasi-nn", SPEC, "spec/wasi-nn.witx", folder=REPO / "generated"),
    GoldenInput("preview1", WITX / "wasi" / "preview1" / "wasi_snapshot_preview1.witx",
                "../shared/witx/wasi/preview1/wasi_snapshot_preview1.witx"),
)


def target_exists(target: str) -> bool:
    """Whether the target's module has been written (the registry lists every target)."""
    module = REGISTRY[target][0]
    return importlib.util.find_spec(f"witxgen.targets.{module}") is not None


def render(target: str, golden: GoldenInput) -> dict[str, str]:
    """The files `target` generates for `golden`, keyed by path under its folder."""
    doc = load_document(golden.path, golden.includes)
    options = GenerateOptions(
        spec_path=golden.display,
        provenance=provenance(golden.display, [Path(f) for f in doc.files]),
    )
    return target_class(target)(doc, options).generate()


def golden_root(target: str, golden: GoldenInput) -> Path:
    return (golden.folder or GOLDEN_DIR / golden.name) / target


def read_tree(root: Path) -> dict[str, str]:
    """Every file under `root` (caches skipped), keyed by '/'-separated relative path."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_text("utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {"__pycache__", ".mypy_cache", ".ruff_cache"} & set(p.parts)
    }
