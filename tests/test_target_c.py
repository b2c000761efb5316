"""The C target: header text against layout.py and abi.py, then clang-14 for wasm32-wasi.

Without a toolchain: every size/align/offset assert equals layout.py, every constant has
its exact value, every raw import's C prototype spells abi.py's core signature.
With clang-14 + wasi-libc: every corpus header compiles (next to <wasi/api.h>), preview1
agrees with wasi-libc's api.h (compile-time asserts), every raw import links to a wasm
import whose type is abi.py's, and guests run under wasmtime-py (preview1 smoke test
against real WASI; the wasi-nn scenario against the fake host).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import BROKEN_DRAFTS, REPO, SPEC, WITX, corpus_files, includes_for, require
from wasi_libc_facts import DEFAULT_API_H, parse_api_h
from wasm_imports import wasm_imports as read_wasm_imports

from witxgen import ir
from witxgen.abi import function_abi
from witxgen.generate import render_targets
from witxgen.layout import Layouts, RecordLayout, VariantLayout
from witxgen.loader import load_document, load_text
from witxgen.targets import GenerateError, GenerateOptions
from witxgen.targets.c import CTarget, c_ident

CLANG = shutil.which("clang-14")
CFLAGS = ["--target=wasm32-wasi", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"]
PREVIEW1 = WITX / "wasi" / "preview1" / "wasi_snapshot_preview1.witx"
GUESTS = REPO / "tests" / "guests" / "c"
GENERATED = REPO / "generated" / "c"
VALID = [f for f in corpus_files() if f.name not in BROKEN_DRAFTS]
CORE_OF_C = {"int32_t": "i32", "int64_t": "i64", "float": "f32", "double": "f64"}

# Everything the spec allows that the real corpus does not use: C keywords and header
# names as witx names, u64 flags up to bit 63, extreme constants, inline (anonymous)
# lists/tuples/records/variants/expected, strings in records, pointer to const pointer,
# float/char8/bool/u64 params, a scalar result, noreturn, a param clashing with `s_len`,
# export names that are not C identifiers, a type used before it is defined, a typename
# spelled like the generated name of an anonymous type.
TRICKY_WITX = r"""
;;; Docs with */ and /* in them must not end the comment.
(typename $default u32)
(typename $int32_t u8)
(typename $big_flags (flags (@witx repr u64) FLAGS64))
(typename $small (flags (@witx repr u8) $static $case))
(typename $e64 (enum (@witx tag u64) $x $y))
(typename $e32 (enum (@witx tag u32) $if $2big))
(typename $signed s64)
(@witx const $signed $min -9223372036854775808)
(@witx const $signed $max 9223372036854775807)
(typename $s8c s8)
(@witx const $s8c $neg -128)
(typename $u64c u64)
(@witx const $u64c $max 0xffffffffffffffff)
(typename $rec (record
  ;;; A field named like a keyword.
  (field $default u8)
  (field $int32_t u64)
  (field $names (list string))
  (field $matrix (list (list u8)))
  (field $pair (tuple u8 u64))
  (field $inner (record (field $x u16)))
  (field $choice (variant (case $none) (case $some u32)))
  (field $res (expected u32 (error $e32)))
  (field $s string)
  (field $cp (@witx const_pointer (@witx pointer u8)))
  (field $c char) (field $c8 (@witx char8)) (field $b bool) (field $f f32) (field $d f64)
  (field $us (@witx usize))
  (field $h (handle))
  (field $offsetof u8)))
(typename $empty (record))
(typename $v (variant (@witx tag u16) (case $a) (case $b u64) (case $c $rec)))
(typename $plain (variant (case $x) (case $y)))
(typename $alias $rec)
(typename $ptr_alias (@witx pointer $rec))
(typename $u (union (@witx tag $e32) u64 u8))
(typename $later_user (record (field $x $defined_later)))
(typename $list_u8 (list u8))
(typename $defined_later (list $e64))
(module $wasi_ephemeral_odd
  (import "memory" (memory))
  ;;; Odd */ docs /* here.
  (@interface func (export "static")
    (param $int32_t u32) (param $default $default)
    (result $error (expected (tuple $rec u64 (list u8)) (error $e32))))
  (@interface func (export "floats")
    (param $f f32) (param $d f64) (param $c8 (@witx char8)) (param $b bool) (param $v $v)
    (param $plain $plain) (param $e $e64) (param $fl $big_flags) (param $s8 s8) (param $ch char)
    (param $p (@witx const_pointer $rec)) (param $inl (record (field $q u8)))
    (result $r u64))
  (@interface func (export "names-with-dash.and dot")
    (param $xs (list (list u8))) (param $s string) (param $s_len u32)
    (result $error (expected (error $e32))))
  (@interface func (export "bye") (@witx noreturn))
  (@interface func (export "nothing"))
  (@interface func (export "with\"quote") (result $r $e64)))
""".replace("FLAGS64", " ".join(f"$f{i}" for i in range(64)))

MULTI_WITX = """
(typename $t u8)
(module $wasi_ephemeral_a (import "memory" (memory)) (@interface func (export "f") (param $x $t)))
(module $wasi_ephemeral_b (import "memory" (memory)) (@interface func (export "f") (result $r $t)))
"""


def _id(path: Path) -> str:
    return str(path.relative_to(WITX))


def target_for(doc: ir.Document) -> CTarget:
    return CTarget(doc, GenerateOptions(spec_path="x.witx", provenance="test"))


def header_of(doc: ir.Document) -> tuple[str, str]:
    ((path, text),) = render_targets(doc, ["c"]).items()
    return path.removeprefix("c/"), text


def tricky_doc(tmp_path: Path) -> ir.Document:
    path = tmp_path / "tricky.witx"
    path.write_text(TRICKY_WITX)
    return load_document(path)


# ---- header text against layout.py and abi.py (no toolchain) -----------------

SIZE = re.compile(r"_Static_assert\(sizeof\((\w+)\) == (\d+), ")
ALIGN = re.compile(r"_Static_assert\(_Alignof\((\w+)\) == (\d+), ")
OFFSET = re.compile(r"_Static_assert\(offsetof\((\w+), (\w+)\) == (\d+), ")
DEFINE = re.compile(r"^#define (\w+) (.+)$", re.MULTILINE)
RAW = re.compile(
    r"^(?:_Noreturn )?(\w+) (\w+)\(([^)]*)\) __attribute__\(\(\s*"
    r'__import_module__\("([^"]*)"\),\s*__import_name__\("((?:[^"\\]|\\.)*)"\)\)\);',
    re.MULTILINE,
)


def parse_value(text: str) -> int:
    """The value of a generated `#define`: `(UINT8_C(1))`, `(INT64_MIN)`, `((T)(… << k))`."""
    if m := re.fullmatch(r"\(U?INT\d+_C\((-?\d+)\)\)", text):
        return int(m[1])
    if m := re.fullmatch(r"\(INT(\d+)_MIN\)", text):
        return -(1 << (int(m[1]) - 1))
    if m := re.fullmatch(r"\(\(\w+\)\(UINT\d+_C\(1\) << (\d+)\)\)", text):
        return 1 << int(m[1])
    raise AssertionError(f"unexpected constant form {text!r}")


def expected_constants(doc: ir.Document, target: CTarget) -> dict[str, int]:
    out: dict[str, int] = {}
    for td in doc.types:
        ty = td.type
        if isinstance(ty, ir.Enum):
            out |= {target.const_name(td.name, c.name): i for i, c in enumerate(ty.cases)}
        elif isinstance(ty, ir.Flags):
            out |= {target.const_name(td.name, f.name): 1 << i for i, f in enumerate(ty.flags)}
        elif isinstance(ty, ir.Variant) and ty.tag is None:
            out |= {target.const_name(td.name, c.name): c.value for c in ty.cases}
        out |= {target.const_name(td.name, k.name): k.value for k in td.constants}
    return out


def check_header_against_ir(doc: ir.Document) -> None:
    _, text = header_of(doc)
    target, layouts = target_for(doc), Layouts(doc)
    sizes = {n: int(v) for n, v in SIZE.findall(text)}
    aligns = {n: int(v) for n, v in ALIGN.findall(text)}
    offsets = {(t, f): int(v) for t, f, v in OFFSET.findall(text)}
    for td in doc.types:
        name, lay = target.type_name(td.name), layouts.of(ir.Ref(td.name))
        assert (sizes.get(name), aligns.get(name)) == (lay.size, lay.align), td.name
        if isinstance(td.type, ir.Record):
            assert isinstance(lay, RecordLayout)
            for fld, off in zip(td.type.fields, lay.offsets, strict=True):
                assert offsets.get((name, c_ident(fld.name))) == off, f"{td.name}.{fld.name}"
        payloads = isinstance(td.type, ir.Variant) and any(c.type for c in td.type.cases)
        if payloads and isinstance(lay, VariantLayout):
            assert offsets[(name, "tag")] == 0
            assert offsets[(name, "u")] == lay.payload_offset
    defines = {n: parse_value(v) for n, v in DEFINE.findall(text)}
    for name, value in expected_constants(doc, target).items():
        assert defines.get(name) == value, name

    raws = {imp: (ret, params) for ret, _, params, _, imp in RAW.findall(text)}
    functions = [f for m in doc.modules for f in m.functions]
    assert len(raws) == len(functions)
    for func in functions:
        abi = function_abi(doc, func)
        ret, params = raws[func.name.replace('"', '\\"')]
        core = [CORE_OF_C[p.split()[0]] for p in params.split(",")] if params != "void" else []
        assert core == abi.param_types, func.name
        assert ([] if ret == "void" else [CORE_OF_C[ret]]) == list(abi.results), func.name


def test_wasi_nn_header_shape() -> None:
    name, text = header_of(load_document(SPEC))
    assert name == "wasi_ephemeral_nn.h"
    assert text.startswith("// generated by witxgen")
    for line in [
        "#define WASI_NN_TENSOR_TYPE_F32 (UINT8_C(1))",
        "#define WASI_NN_NN_ERRNO_NOT_FOUND (UINT16_C(8))",
        "typedef uint32_t wasi_nn_graph_t;",
        "    const uint32_t *ptr;",
        "_Static_assert(sizeof(wasi_nn_tensor_t) == 20, \"witx calculated size\");",
        "_Static_assert(offsetof(wasi_nn_tensor_t, type) == 8, \"witx calculated offset\");",
        "_Static_assert(offsetof(wasi_nn_tensor_t, data) == 12, \"witx calculated offset\");",
        '    __import_module__("wasi_ephemeral_nn"),\n    __import_name__("load")));',
        "    const wasi_nn_graph_builder_t *builder,\n    size_t builder_len,",
        "    const wasi_nn_tensor_t *tensor\n) {",
        "static inline const char *wasi_nn_nn_errno_name(wasi_nn_nn_errno_t value) {",
        '    case WASI_NN_NN_ERRNO_TOO_LARGE: return "too_large";',
        '    default: return "unknown";',
        "static inline const char *wasi_nn_tensor_type_name(wasi_nn_tensor_type_t value) {",
        "static inline const char *wasi_nn_graph_encoding_name(",
        "static inline const char *wasi_nn_execution_target_name(",
    ]:
        assert line in text


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_header_matches_layout_and_abi(path: Path) -> None:
    check_header_against_ir(load_document(path, includes_for(path)))


def test_tricky_header_matches_layout_and_abi(tmp_path: Path) -> None:
    check_header_against_ir(tricky_doc(tmp_path))


def test_tricky_names(tmp_path: Path) -> None:
    _, text = header_of(tricky_doc(tmp_path))
    for line in [
        "    uint8_t default_;", "    uint64_t int32_t_;", "    uint8_t offsetof_;",
        "#define WASI_ODD_BIG_FLAGS_F63 ((wasi_odd_big_flags_t)(UINT64_C(1) << 63))",
        "#define WASI_ODD_SIGNED_MIN (INT64_MIN)", "#define WASI_ODD_E32_2BIG (UINT32_C(1))",
        "#define WASI_ODD_U64C_MAX (UINT64_C(18446744073709551615))",
        "    uint8_t *const *cp;", "__extension__ typedef struct wasi_odd_empty_t {",
        " * Odd *\\/ docs /\\* here.", '    __import_name__("with\\"quote")));',
        "wasi_odd_names_with_dash_and_dot(", "    size_t s_len,\n    uint32_t s_len_\n",
        "(int32_t)(uint8_t)c8", "    wasi_odd_list_u8_2_t *result2_out_ptr\n",
        "static inline const char *wasi_odd_e64_name(wasi_odd_e64_t value) {",
        '    case WASI_ODD_E32_2BIG: return "2big";',
        # A payload-less variant without a tag enum has its own constants and names.
        "static inline const char *wasi_odd_plain_name(wasi_odd_plain_t value) {",
    ]:
        assert line in text, line
    assert "wasi_odd_small_name" not in text  # flags have no name function
    assert "wasi_odd_u_name" not in text  # a union: its tag enum (e32) has the names


def test_name_function_gives_way_to_a_wrapper() -> None:
    """A witx function `e_name` keeps `m_e_name`; the enum's name function moves aside."""
    doc = load_text(
        '(typename $e (enum (@witx tag u8) $a $b))'
        '(module $m (import "memory" (memory)) (@interface func (export "e_name")))', "m.witx")
    _, text = header_of(doc)
    assert "static inline void m_e_name(void) {" in text
    assert "static inline const char *m_e_name_(m_e_t value) {" in text


def test_several_modules_share_one_header(tmp_path: Path) -> None:
    path = tmp_path / "multi.witx"
    path.write_text(MULTI_WITX)
    name, text = header_of(load_document(path))
    assert name == "multi.h"
    assert "typedef uint8_t multi_t_t;" in text
    assert "static inline void wasi_a_f(" in text and "static inline multi_t_t wasi_b_f(" in text


def test_name_clash_is_reported() -> None:
    doc = load_text(
        '(module $m (import "memory" (memory))'
        ' (@interface func (export "load")) (@interface func (export "raw_load")))', "m.witx")
    with pytest.raises(GenerateError, match="`m_raw_load`"):
        target_for(doc).generate()


def test_generated_header_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # provenance lines show the spec path relative to the cwd
    name, text = header_of(load_document(SPEC))
    assert (GENERATED / name).read_text() == text, "run `witxgen generate spec/wasi-nn.witx -t c`"


# ---- clang-14 for wasm32-wasi --------------------------------------------------


def run(argv: list[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300,
                          cwd=cwd, check=False)


@pytest.fixture(scope="session")
def clang(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The clang-14 command line for wasm32-wasi, or skip (fail under CI=true)."""
    require(CLANG is not None, "clang-14 is not installed")
    assert CLANG is not None
    probe = tmp_path_factory.mktemp("probe") / "probe.c"
    probe.write_text("#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n")
    for extra in ([], ["--sysroot=/usr"]):  # Debian's wasi-libc is found without it
        if run([CLANG, *CFLAGS, *extra, probe, "-o", probe.with_suffix(".wasm")]).returncode == 0:
            return [CLANG, *CFLAGS, *extra]
    require(False, "clang-14 cannot link for wasm32-wasi (is Debian's wasi-libc installed?)")
    raise AssertionError("unreachable")


def compile_ok(argv: list[str | Path], cwd: Path | None = None) -> None:
    proc = run(argv, cwd)
    assert proc.returncode == 0, f"{' '.join(map(str, argv))}\n{proc.stderr}"


def write_header(doc: ir.Document, folder: Path) -> str:
    name, text = header_of(doc)
    (folder / name).write_text(text)
    return name


def test_preview1_agrees_with_wasi_libc(clang: list[str], tmp_path: Path) -> None:
    """Every size, align, offset and constant api.h asserts, checked by the compiler."""
    require(DEFAULT_API_H.is_file(), f"{DEFAULT_API_H} not found (Debian's wasi-libc)")
    facts = parse_api_h(DEFAULT_API_H)
    doc = load_document(PREVIEW1)
    target = target_for(doc)
    name = write_header(doc, tmp_path)
    api_text = DEFAULT_API_H.read_text()
    checks: list[str] = []

    def same(mine: str, theirs: str) -> None:
        checks.append(f'_Static_assert({mine} == {theirs}, "{mine} == {theirs}");')

    for witx_name in facts.sizes:
        mine, theirs = target.type_name(witx_name), f"__wasi_{witx_name}_t"
        same(f"sizeof({mine})", f"sizeof({theirs})")
        same(f"_Alignof({mine})", f"_Alignof({theirs})")
    for witx_name, fields in facts.offsets.items():
        for fld in fields:
            mine, theirs = target.type_name(witx_name), f"__wasi_{witx_name}_t"
            same(f"offsetof({mine}, {c_ident(fld)})", f"offsetof({theirs}, {fld})")
    # api.h's hand-written TODO constant; witx preview1 has no `(@witx const …)` for it.
    not_in_witx = {"DIRCOOKIE_START"}
    theirs_defines = set(re.findall(r"^#define __WASI_(\w+) ", api_text, re.MULTILINE))
    mine_defines = set(re.findall(r"^#define WASI_PREVIEW1_(\w+) ", header_of(doc)[1],
                                  re.MULTILINE))
    assert theirs_defines - mine_defines == not_in_witx
    for const in sorted(theirs_defines - not_in_witx):
        same(f"WASI_PREVIEW1_{const}", f"__WASI_{const}")
    assert len(checks) > 2 * len(facts.sizes) + 100
    (tmp_path / "agree.c").write_text(
        f'#include <wasi/api.h>\n#include "{name}"\n' + "\n".join(checks) + "\n")
    compile_ok([*clang, "-fsyntax-only", "-I", tmp_path, tmp_path / "agree.c"])


# ---- linked imports: the core types clang emits -----------------------------------


def wasm_imports(path: Path) -> dict[tuple[str, str], tuple[list[str], list[str]]]:
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    return read_wasm_imports(path)


def link_raw_imports(clang: list[str], doc: ir.Document, tmp_path: Path) -> Path:
    """A libc-free module that references every raw import, so each becomes a wasm import."""
    name = write_header(doc, tmp_path)
    raws = [raw for _, raw, _, _, _ in RAW.findall(header_of(doc)[1])]
    refs = ",\n".join(f"    (fn_t){raw}" for raw in raws) or "    0"
    # <wasi/api.h> in the same unit proves no name clashes with wasi-libc.
    (tmp_path / "refs.c").write_text(
        f'#include <wasi/api.h>\n#include "{name}"\ntypedef void (*fn_t)(void);\n'
        f"static const fn_t refs[] = {{\n{refs}\n}};\n"
        '__attribute__((export_name("ref"))) fn_t ref(int i) { return refs[i]; }\n')
    wasm = tmp_path / "refs.wasm"
    compile_ok([*clang, "-nostdlib", "-Wl,--no-entry", "-I", tmp_path, tmp_path / "refs.c",
                "-o", wasm])
    return wasm


def check_imports_against_abi(doc: ir.Document, wasm: Path) -> None:
    imports = wasm_imports(wasm)
    expected = {
        (m.name, f.name): (abi.param_types, list(abi.results))
        for m in doc.modules for f in m.functions for abi in [function_abi(doc, f)]
    }
    assert imports == expected


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_corpus_header_compiles_and_links(clang: list[str], path: Path, tmp_path: Path) -> None:
    doc = load_document(path, includes_for(path))
    check_imports_against_abi(doc, link_raw_imports(clang, doc, tmp_path))


def test_tricky_header_compiles_and_links(clang: list[str], tmp_path: Path) -> None:
    doc = tricky_doc(tmp_path)
    check_imports_against_abi(doc, link_raw_imports(clang, doc, tmp_path))


def test_preview1_imports_match_wasi_libc(clang: list[str], tmp_path: Path) -> None:
    require(DEFAULT_API_H.is_file(), f"{DEFAULT_API_H} not found (Debian's wasi-libc)")
    facts = parse_api_h(DEFAULT_API_H)
    imports = wasm_imports(link_raw_imports(clang, load_document(PREVIEW1), tmp_path))
    ours = {name: sig for (module, name), sig in imports.items()
            if module == "wasi_snapshot_preview1"}
    # api.h dropped the deprecated proc_raise (see tests/test_wasi_libc.py).
    assert set(ours) == set(facts.functions) | {"proc_raise"}
    for name, signature in facts.functions.items():
        assert ours[name] == signature, name


# ---- guests --------------------------------------------------------------------


def build_guest(clang: list[str], source: Path, include: Path, out: Path) -> Path:
    compile_ok([*clang, "-O2", "-I", include, source, "-o", out])
    return out


WASI_NN_IMPORTS = {
    "load": ["i32"] * 5, "load_by_name": ["i32"] * 3, "init_execution_context": ["i32"] * 2,
    "set_input": ["i32"] * 3, "compute": ["i32"], "get_output": ["i32"] * 5,
}


@pytest.fixture(scope="module")
def scenario(clang: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/guests/c/scenario.c built on the checked-in generated/c header."""
    out = tmp_path_factory.mktemp("scenario") / "scenario.wasm"
    return build_guest(clang, GUESTS / "scenario.c", GENERATED, out)


def test_scenario_guest_imports(scenario: Path) -> None:
    imports = wasm_imports(scenario)
    nn = {name: sig for (module, name), sig in imports.items() if module == "wasi_ephemeral_nn"}
    assert nn == {name: (params, ["i32"]) for name, params in WASI_NN_IMPORTS.items()}
    assert {module for module, _ in imports} == {"wasi_ephemeral_nn", "wasi_snapshot_preview1"}


def test_scenario_guest_runs(scenario: Path) -> None:
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    from scenario_checks import assert_scenario_passes

    assert_scenario_passes(scenario)


def test_scenario_guest_reports_a_mismatch(scenario: Path) -> None:
    """The guest checks what comes back: a host that knows no names fails it at step 5."""
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    from scenario_checks import run_against_host_without_names

    run = run_against_host_without_names(scenario)
    assert run.stdout.splitlines()[-1] == "FAIL step 5: expected success, got not_found (8)"


def test_preview1_smoke_guest_runs(clang: list[str], tmp_path: Path) -> None:
    """Wrappers for tuple/union/u64/string/list/noreturn calls against wasmtime's WASI."""
    write_header(load_document(PREVIEW1), tmp_path)
    wasm = build_guest(clang, GUESTS / "preview1_smoke.c", tmp_path, tmp_path / "smoke.wasm")
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    import wasmtime

    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    config = wasmtime.WasiConfig()
    config.argv = ["smoke", "first", "second"]
    config.stdout_file = str(tmp_path / "stdout.txt")
    config.preopen_dir(str(sandbox), "sandbox")
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm)))
    start: Any = instance.exports(store)["_start"]
    with pytest.raises(wasmtime.ExitTrap) as exit_:
        start(store)
    stdout = (tmp_path / "stdout.txt").read_text()
    assert exit_.value.code == 7, stdout
    assert stdout == "preview1 ok\n"
    assert (sandbox / "out.txt").read_text() == "written through witxgen\n"


NAMES_GUEST = r"""
#include <stdio.h>
#include "wasi_ephemeral_nn.h"

int main(void) {
    printf("%s|%s|%s|%s|%s|%s\n", wasi_nn_nn_errno_name(7), wasi_nn_nn_errno_name(0),
           wasi_nn_nn_errno_name(9), wasi_nn_nn_errno_name(WASI_NN_NN_ERRNO_NOT_FOUND),
           wasi_nn_tensor_type_name(WASI_NN_TENSOR_TYPE_F32),
           wasi_nn_graph_encoding_name(200));
    return 0;
}
"""


def test_enum_name_functions_run(clang: list[str], tmp_path: Path) -> None:
    """The generated name functions under wasmtime: case names, "unknown" past the last."""
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    import wasmtime

    (tmp_path / "names.c").write_text(NAMES_GUEST)
    wasm = build_guest(clang, tmp_path / "names.c", GENERATED, tmp_path / "names.wasm")
    config = wasmtime.WasiConfig()
    config.stdout_file = str(tmp_path / "stdout.txt")
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm)))
    start: Any = instance.exports(store)["_start"]
    start(store)
    assert (tmp_path / "stdout.txt").read_text() == (
        "too_large|success|unknown|not_found|f32|unknown\n")
