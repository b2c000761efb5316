"""Every real witx file in the shared corpus validates, round-trips, and the two broken
drafts fail at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BROKEN_DRAFTS, WITX, corpus_files, includes_for

from witxgen.diagnostics import WitxError
from witxgen.loader import load_document, load_text
from witxgen.render import render_document

FILES = corpus_files()
VALID = [f for f in FILES if f.name not in BROKEN_DRAFTS]


def _id(path: Path) -> str:
    return str(path.relative_to(WITX))


def test_corpus_is_present(witx_dir: Path) -> None:
    assert len(FILES) >= 60, "expected the full shared witx corpus"


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_valid(path: Path) -> None:
    doc = load_document(path, includes_for(path))
    assert doc.types or doc.modules


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_round_trip(path: Path) -> None:
    doc = load_document(path, includes_for(path))
    text = render_document(doc)
    again = load_text(text, "fmt-output.witx")
    assert again == doc
    assert render_document(again) == text  # canonical form is a fixed point


def test_2020_05_14_needs_the_include_dir(witx_dir: Path) -> None:
    path = witx_dir / "wasi-nn" / "2020-05-14_e8ba480.witx"
    with pytest.raises(WitxError) as err:
        load_document(path)
    (diag,) = err.value.diagnostics
    assert diag.code == "use-not-found" and diag.span is not None
    assert (diag.span.line, diag.span.col) == (11, 1)
    doc = load_document(path, includes_for(path))
    assert "errno" in {t.name for t in doc.types}  # came in through the `use`


def _errors(path: Path) -> list[tuple[str, int, int, str]]:
    with pytest.raises(WitxError) as err:
        load_document(path)
    return [
        (d.code, d.span.line, d.span.col, d.message)
        for d in err.value.diagnostics
        if d.span is not None
    ]


def test_repeated_case_draft(witx_dir: Path) -> None:
    errors = _errors(witx_dir / "wasi-nn" / "2023-08-22_b07340c.witx")
    assert errors == [("duplicate-case", 23, 5, "duplicate enum case `$f32`")]


def test_draft_without_use(witx_dir: Path) -> None:
    errors = _errors(witx_dir / "wasi-nn" / "2020-07-20_4a2f4ba.witx")
    names = {msg.split("`")[1] for code, _, _, msg in errors}
    assert {code for code, *_ in errors} == {"unknown-type"}
    assert names == {"$size", "$errno"}
    assert (87, 27) in {(line, col) for _, line, col, _ in errors}  # first `$size`
    assert len(errors) >= 5  # every use is reported, not just the first


def test_docs_are_attached(witx_dir: Path) -> None:
    doc = load_document(witx_dir / "wasi" / "preview1" / "wasi_snapshot_preview1.witx")
    errno = doc.typedef("errno")
    assert errno.docs.startswith("Error codes returned by functions.")
    assert errno.type.cases[0].docs == "No error occurred. System call completed successfully."
    fd_read = doc.module("wasi_snapshot_preview1").function("fd_read")
    assert fd_read.docs == (
        "Read from a file descriptor.\nNote: This is similar to `readv` in POSIX."
    )
    assert fd_read.params[1].docs == "List of scatter/gather vectors to which to store data."


def test_old_dialect_matches_new(witx_dir: Path) -> None:
    """The pre-0.9 preview1 text and the 0.9 text describe the same ABI."""
    from witxgen.abi_report import as_json

    old = witx_dir / "wasi" / "oldsyntax-2021-02-04_9d9d444" / "phases" / "snapshot" / "witx"
    new = witx_dir / "wasi" / "preview1"
    a = as_json(load_document(old / "wasi_snapshot_preview1.witx"))
    b = as_json(load_document(new / "wasi_snapshot_preview1.witx"))
    assert a["modules"]["wasi_snapshot_preview1"] == {
        k: v
        for k, v in b["modules"]["wasi_snapshot_preview1"].items()
        if k in a["modules"]["wasi_snapshot_preview1"]
    }
    for name, entry in a["types"].items():
        if name in b["types"]:
            assert (entry["size"], entry["align"]) == (
                b["types"][name]["size"],
                b["types"][name]["align"],
            ), name
