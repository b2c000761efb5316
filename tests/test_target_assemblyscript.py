"""The AssemblyScript target: API shape, raw imports checked against the core ABI, asc 0.28
builds (with the wasi-shim) of wasi-nn, preview1, an edge-case spec and every corpus file,
the compile-time layout checks, a preview1 guest run under wasmtime, and the wasi-nn
scenario guest."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BROKEN_DRAFTS, REPO, SPEC, WITX, corpus_files, includes_for, require
from wasm_imports import wasm_imports

from witxgen import ir
from witxgen.abi import function_abi
from witxgen.generate import render_targets
from witxgen.layout import Layouts, RecordLayout, VariantLayout
from witxgen.loader import load_document
from witxgen.targets import GenerateOptions
from witxgen.targets.assemblyscript import AssemblyScriptTarget

PREVIEW1 = WITX / "wasi" / "preview1" / "wasi_snapshot_preview1.witx"
GUEST = REPO / "tests" / "guests" / "assemblyscript" / "scenario.ts"
ASC = REPO / "node_modules" / ".bin" / "asc"
# Relative to the repo (asc's cwd): asc finds the shim's `lib` folder only that way.
SHIM_CONFIG = "./node_modules/@assemblyscript/wasi-shim/asconfig.json"

# Corner cases no real spec has all of: names that are keywords or AssemblyScript builtins
# (a function `load` shadows the builtin in its file; `memory`, `raw`, `in`, `static`),
# types named like globals (`string`, `array`, `result`), u64 enums and 64 u64 flags,
# constants up to 2^64-1, inline record/variant/enum types, lists of strings, of lists and
# of records, records holding lists, strings, variants and tuples, every result shape (a
# tuple mixing scalars, a record, a list and a tuple; a plain s32; none; noreturn), two
# modules in one document.
EDGE_WITX = """
;;; A u64 alias with constants.
(typename $big u64)
(@witx const $big $max 0xffffffffffffffff)
(@witx const $big $one 1)
(typename $signed s64)
(@witx const $signed $neg -5)
(typename $result u32)
(typename $string string)
(typename $array (list $string))
(typename $raw (handle))
(typename $wide_enum (enum (@witx tag u64) $a $b $c))
(typename $e32 (enum (@witx tag u32) $static $constructor $2big))
(typename $f64flags (flags (@witx repr u64) {wide_flags}))
(typename $flags8 (flags (@witx repr u8) $x $y))
(typename $p (@witx pointer (@witx const_pointer u8)))
(typename $cp (@witx const_pointer $big))
(typename $al $string)
(typename $al_enum $e32)
(typename $e (expected u32 (error u8)))
(typename $e_empty (expected (error u8)))
(typename $t (tuple u8 u64))
(typename $v (variant (case $a u8) (case $b u64) (case $c) (case $s string) (case $r $t)))
(typename $plain (variant (@witx tag u16) (case $one) (case $two)))
(typename $tag3 (enum (@witx tag u8) $x $y $z))
(typename $tagged (variant (@witx tag $tag3) (case $z u8) (case $x u32) (case $y)))
(typename $un (union $tag3 u8 u16 $t))
(typename $b bool)
(typename $c char)
(typename $c8 (@witx char8))
(typename $us (@witx usize))
(typename $rec
  (record
    (field $static u8)
    (field $constructor u64)
    (field $type $e32)
    (field $in (record (field $x u8) (field $y u16)))
    (field $names $array)
    (field $bytes (list u8))
    (field $s string)
    (field $v $v)
    (field $anon_var (variant (case $p f32) (case $q f64)))
    (field $t $t)
    (field $fl $f64flags)
    (field $f8 $flags8)
    (field $ch $c)
    (field $bo $b)
    (field $small (list $b))
    (field $e $e)
    (field $u $un)
  )
)
(typename $empty_rec (record))
(typename $nested_lists (list (list (list u16))))
(typename $rec_list (list $rec))

(module $edge_cases
  (import "memory" (memory))
  ;;; A function named like an AssemblyScript builtin, taking every kind of param.
  (@interface func (export "load")
    (param $in $string)
    (param $raw $raw)
    (param $names $array)
    (param $memory (list $array))
    (param $nested $nested_lists)
    (param $recs $rec_list)
    (param $r $rec)
    (param $f f32)
    (param $d f64)
    (param $s8 s8)
    (param $s64 $signed)
    (param $we $wide_enum)
    (param $fl $f64flags)
    (param $pl $plain)
    (param $b bool)
    (param $c char)
    (param $anon (record (field $q u32)))
    (param $ae (enum $k $l))
    (param $ptr $p)
    (result $error (expected (tuple $big $rec u8 $t $string) (error $e32)))
  )
  (@interface func (export "memory")
    (result $error (expected $v (error $e32)))
  )
  (@interface func (export "raw")
    (result $x s32)
  )
  (@interface func (export "nothing"))
  (@interface func (export "exit") (param $code u32) (@witx noreturn))
  (@interface func (export "list_out")
    (result $error (expected (list u8) (error $e32)))
  )
  (@interface func (export "e_param") (param $e $e) (param $ee $e_empty) (param $v $v)
    (param $t $t) (param $u $un) (param $tagged $tagged))
)

(module $second
  (import "memory" (memory))
  (@interface func (export "load") (param $x u32) (result $error (expected $raw (error $e32))))
)
""".replace("{wide_flags}", " ".join(f"$f{i}" for i in range(64)))


# ---- helpers --------------------------------------------------------------------------------

def toolchain() -> None:
    require(ASC.is_file(), f"asc not found at {ASC} (run scripts/install-node-deps.sh)")


def options(doc: ir.Document) -> GenerateOptions:
    return GenerateOptions(spec_path=doc.path, provenance="generated for a test")


def target_for(doc: ir.Document) -> AssemblyScriptTarget:
    return AssemblyScriptTarget(doc, options(doc))


def generate(doc: ir.Document, out: Path) -> dict[str, Path]:
    """Write the target's files under `out`; returns {file name: path}."""
    written = {}
    for rel, text in render_targets(doc, ["assemblyscript"]).items():
        path = out / rel.removeprefix("assemblyscript/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        written[path.name] = path
    return written


def edge_doc(tmp_path: Path) -> ir.Document:
    path = tmp_path / "edge.witx"
    path.write_text(EDGE_WITX, "utf-8")
    return load_document(path)


def load_which(which: str, tmp_path: Path) -> ir.Document:
    if which == "wasi-nn":
        return load_document(SPEC)
    if which == "preview1":
        return load_document(PREVIEW1)
    return edge_doc(tmp_path)


def asc(entries: list[Path], wasm: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ASC), *map(str, entries), "--config", SHIM_CONFIG, "-o", str(wasm), *extra],
        cwd=REPO, capture_output=True, text=True, timeout=600)


def asc_ok(entries: list[Path], wasm: Path, *extra: str) -> None:
    proc = asc(entries, wasm, *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr


HARNESS_RT = """\
// Compile-only helpers for the exercise modules (never run).
export function dflt<T>(): T {
  if (isReference<T>()) {
    return changetype<T>(0);
  } else {
    return <T>0;
  }
}
export function use<T>(value: T): void {}
"""


def exercise_source(target: AssemblyScriptTarget, module: ir.Module | None, stem: str,
                    entry: str) -> str:
    """An AssemblyScript file that touches every declaration, class member and wrapper of
    one generated module, so that asc compiles all of it (asc only compiles what is used)."""
    decls = target.decls()
    funcs = target.functions(module)[0] if module is not None else []
    names = {d.name for d in decls} | {f.name for f in funcs} | {"Result"}
    names |= {f.values.name for f in funcs if f.values is not None}
    body: list[str] = []
    for d in decls:
        for c in d.consts:
            body.append(f"__h.use<{d.name}>({d.name}.{c.name});")
        if d.kind == "enum" and d.consts:
            body.append(f"__h.use<string>({d.name}.name(__h.dflt<{d.name}>()));")
        if d.kind not in ("record", "variant"):
            body.append(f"__h.use(__h.dflt<{d.name}>());")
            continue
        body.append(f"{{ const x = __h.dflt<{d.name}>();")
        for c in d.statics:
            body.append(f"  __h.use({d.name}.{c.name});")
        for m in d.members:
            if m.kind == "field" or m.kind == "struct":
                body.append(f"  x.{m.name} = x.{m.name};")
            elif m.kind == "list":
                body.append(f"  x.{m.ptr} = x.{m.ptr}; x.{m.len} = x.{m.len};")
                if m.setter:
                    body.append(f"  x.{m.setter}(__h.dflt<{m.setter_type}>());")
            elif m.kind in ("case_scalar", "case_struct"):
                body.append(f"  x.{m.setter}(x.{m.name});")
            elif m.kind == "case_list":
                body.append(f"  x.{m.setter}(x.{m.ptr}, x.{m.len});")
            elif m.kind == "case_empty":
                body.append(f"  x.{m.setter}();")
        body.append("}")
    for i, f in enumerate(funcs):
        args = ", ".join(f"__h.dflt<{t}>()" for _, t, _ in f.params)
        call = f"{f.name}({args})"
        # One branch per call: code after a noreturn import must not be dead.
        if f.returns == "void":
            body.append(f"if (n == {i}) {call};")
        elif f.returns.startswith("Result<"):
            body.append(f"if (n == {i}) {{ const r = {call}; __h.use(r.value); "
                        "__h.use(r.isOk); __h.use(r.unwrap()); }")
        else:
            body.append(f"if (n == {i}) __h.use({call});")
    imports = ", ".join(sorted(names))
    return "\n".join([
        'import * as __h from "./harness_rt";',
        f'import {{ {imports} }} from "./{stem}";',
        f"export function {entry}(n: i32): void {{",
        *("  " + line for line in body),
        "}",
        "",
    ])


def build_exercise(doc: ir.Document, out: Path, entry: str = "exercise") -> list[Path]:
    """Generate `doc` into `out` and write one exercise file per generated module file."""
    generate(doc, out)
    (out / "harness_rt.ts").write_text(HARNESS_RT, "utf-8")
    target = target_for(doc)
    entries = []
    modules: list[ir.Module | None] = list(doc.modules) or [None]
    for i, module in enumerate(modules):
        stem = target.file_for(module).removesuffix(".ts")
        path = out / f"exercise_{stem}.ts"
        path.write_text(exercise_source(target, module, stem, f"{entry}_{i}"), "utf-8")
        entries.append(path)
    return entries


def valid_corpus() -> list[Path]:
    return [p for p in corpus_files() if p.name not in BROKEN_DRAFTS]


def corpus_id(path: Path) -> str:
    return path.relative_to(WITX).as_posix()


# ---- API shape (no toolchain) -----------------------------------------------------------

@functools.cache
def wasi_nn_text() -> str:
    return render_targets(load_document(SPEC), ["assemblyscript"])[
        "assemblyscript/wasi_ephemeral_nn.ts"]


def test_wasi_nn_api_shape() -> None:
    text = wasi_nn_text()
    for line in [
        'import * as __rt from "./witx_rt";',
        'export { Result, Slice } from "./witx_rt";',
        "export type NnErrno = u16;",
        "  @inline export const NOT_FOUND: NnErrno = 8;",
        "export type TensorType = u8;",
        "  @inline export const F32: TensorType = 1;",
        "export type TensorDimensions = Array<u32>;",
        "export type GraphBuilderArray = Array<GraphBuilder>;",
        "export type Graph = u32;",
        "@unmanaged export class Tensor {",
        "  type: TensorType;",
        "  setData(v: ArrayBufferView): void {",
        "    this.dataLen = <u32>v.byteLength;",
        "  setDimensions(v: TensorDimensions): void {",
        "  export function name(value: NnErrno): string {",
        '      case 7: return "too_large";',
        '      default: return "unknown";',
        "  export function name(value: TensorType): string {",
        '  @external("wasi_ephemeral_nn", "load")',
        "  export declare function load(builder_ptr: u32, builder_len: u32, encoding: u32, "
        "target: u32, graph_out_ptr: u32): u32;",
        "export function load(builder: GraphBuilderArray, encoding: GraphEncoding, "
        "target: ExecutionTarget): Result<Graph, NnErrno> {",
        "export function loadByName(name: string): Result<Graph, NnErrno> {",
        "export function initExecutionContext(graph: Graph): "
        "Result<GraphExecutionContext, NnErrno> {",
        "export function setInput(context: GraphExecutionContext, index: u32, tensor: Tensor): "
        "NnErrno {",
        "export function getOutput(context: GraphExecutionContext, index: u32, "
        "outBuffer: usize, outBufferMaxSize: BufferSize): Result<BufferSize, NnErrno> {",
        "export function compute(context: GraphExecutionContext): NnErrno {",
        'if (offsetof<Tensor>("dataPtr") != 12) '
        'ERROR("witxgen: Tensor.dataPtr must be at offset 12");',
    ]:
        assert line + "\n" in text, line
    assert text.startswith("// generated by witxgen ")
    # The module file never names a builtin that a witx function could shadow.
    body = text.split("export namespace raw", 1)[1]
    assert not re.search(r"(?<![.\w])(load|store|changetype)\s*<", body)


def test_every_file_starts_with_the_provenance_line(tmp_path: Path) -> None:
    files = render_targets(edge_doc(tmp_path), ["assemblyscript"])
    assert sorted(files) == ["assemblyscript/edge_cases.ts", "assemblyscript/second.ts",
                             "assemblyscript/witx_rt.ts"]
    for text in files.values():
        assert text.startswith("// generated by witxgen ")


@pytest.mark.parametrize("which", ["wasi-nn", "preview1", "edge"])
def test_raw_declarations_have_the_core_types(which: str, tmp_path: Path) -> None:
    """Each `@external` declaration spells exactly the core signature of abi.py."""
    doc = load_which(which, tmp_path)
    target = target_for(doc)
    core = {"u32": "i32", "i32": "i32", "u64": "i64", "i64": "i64", "f32": "f32", "f64": "f64"}
    for module in doc.modules:
        funcs, _ = target.functions(module)
        for func, f in zip(module.functions, funcs, strict=True):
            abi = function_abi(doc, func)
            assert f.import_name == func.name
            assert [core[p.type] for p in f.raw_params] == abi.param_types, func.name
            assert ([] if f.raw_result == "void" else [core[f.raw_result]]) == list(abi.results)


@pytest.mark.parametrize("which", ["wasi-nn", "preview1", "edge"])
def test_layout_checks_state_the_core_layout(which: str, tmp_path: Path) -> None:
    """The generated offsetof checks say what layout.py says (asc then proves that the
    classes have that layout: see test_compiles_and_imports_have_the_core_signatures)."""
    doc = load_which(which, tmp_path)
    target, layouts = target_for(doc), Layouts(doc)
    decls = {d.name: d for d in target.decls()}
    checked = 0
    for td in doc.types:
        d = decls[target.spell(ir.Ref(td.name))]
        lay = layouts.of(td.type)
        if isinstance(td.type, ir.Record | ir.Tuple):
            assert isinstance(lay, RecordLayout)
            types = ([f.type for f in td.type.fields] if isinstance(td.type, ir.Record)
                     else list(td.type.types))
            members = [m for m in d.members if m.kind in ("field", "list", "struct")]
            checks = dict(d.checks)
            assert d.size == lay.size
            for ty, off, m in zip(types, lay.offsets, members, strict=True):
                if m.kind == "field":
                    assert checks[m.name] == off
                elif m.kind == "list":
                    assert (checks[m.ptr], checks[m.len]) == (off, off + 4)
                else:
                    assert (m.offset, m.size) == (off, layouts.of(ty).size)
            checked += 1
        elif isinstance(td.type, ir.Variant | ir.Expected) and d.kind == "variant":
            assert isinstance(lay, VariantLayout)
            assert d.size == lay.size and d.checks == [(d.members[0].name, 0)]
            payload = [m for m in d.members if m.kind in ("case_scalar", "case_struct")]
            assert all(m.offset == lay.payload_offset for m in payload)
            checked += 1
    assert checked


def test_preview1_fdstat_matches_wasi_libc(tmp_path: Path) -> None:
    """wasi-libc's api.h offsets (the witx tooling's) for one record with padding."""
    text = render_targets(load_document(PREVIEW1), ["assemblyscript"])[
        "assemblyscript/wasi_snapshot_preview1.ts"]
    for member, offset in [("fsFiletype", 0), ("fsFlags", 2), ("fsRightsBase", 8),
                           ("fsRightsInheriting", 16)]:
        assert f'if (offsetof<Fdstat>("{member}") != {offset}) ' in text
    assert 'if (offsetof<Fdstat>() != 24) ' in text
    assert "if (offsetof<Subscription>() != 48) " in text


def test_edge_case_names(tmp_path: Path) -> None:
    text = render_targets(edge_doc(tmp_path), ["assemblyscript"])["assemblyscript/edge_cases.ts"]
    for line in [
        "export type String_ = string;",  # `String` would shadow the global class
        "export type Array_ = Array<String_>;",
        "export type Result_ = u32;",
        "  @inline export const MAX: Big = 0xffffffffffffffff;",
        "  @inline export const NEG: Signed = -5;",
        "  @inline export const F63: F64flags = 0x8000000000000000;",
        "  @inline export const _2BIG: E32 = 2;",
        "  static_: u8;",  # asc rejects `static` as a field name
        "  type: E32;",  # but takes `type`
        "  get in_(): RecIn { return __rt.view<RecIn>(__rt.addr(this) + 20); }",
        "export function memory_(vOut: V): E32 {",
        "export function raw_(): i32 {",
        "  export declare function raw(): i32;",
        "  export declare function exit(code: u32): void;",
        "export function listOut(): Result<Slice, E32> {",
    ]:
        assert line + "\n" in text, line
    assert re.search(r"export function load\(in_: String_, raw_: Raw, .*recOut: Rec, tOut: T\): "
                     r"Result<LoadValues, E32> \{", text)


def test_generated_assemblyscript_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # provenance lines name the spec relative to the cwd
    files = render_targets(load_document(SPEC), ["assemblyscript"])
    out = REPO / "generated"
    for rel, text in files.items():
        assert (out / rel).read_text("utf-8") == text, f"{rel} is stale: run witxgen generate"
    on_disk = {p.relative_to(out).as_posix() for p in (out / "assemblyscript").glob("*.ts")}
    assert on_disk == set(files)


# ---- compiling with asc ---------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("which", ["wasi-nn", "preview1", "edge"])
def test_compiles_and_imports_have_the_core_signatures(which: str, tmp_path: Path) -> None:
    """Compile every declaration, class member and wrapper, then read back the wasm
    imports asc emitted: one per witx function, with the core signature of abi.py."""
    toolchain()
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    doc = load_which(which, tmp_path)
    entries = build_exercise(doc, tmp_path / "gen")
    wasm = tmp_path / "out.wasm"
    asc_ok(entries, wasm)
    imports = wasm_imports(wasm)
    for module in doc.modules:
        for func in module.functions:
            abi = function_abi(doc, func)
            assert imports[(module.name, func.name)] == (abi.param_types, list(abi.results))


@pytest.mark.slow
def test_layout_check_fails_the_build_when_wrong(tmp_path: Path) -> None:
    """The offsetof checks are live: a class whose layout differs stops asc."""
    toolchain()
    entries = build_exercise(load_document(SPEC), tmp_path / "gen")
    module = tmp_path / "gen" / "wasi_ephemeral_nn.ts"
    text = module.read_text("utf-8")
    # A u16 length moves every field after it.
    broken = text.replace("  dimensionsLen: u32;", "  dimensionsLen: u16;", 1)
    assert broken != text
    module.write_text(broken, "utf-8")
    proc = asc(entries, tmp_path / "out.wasm")
    assert proc.returncode != 0
    assert "witxgen: Tensor.type must be at offset 8" in proc.stdout + proc.stderr


@functools.cache
def corpus_batch(tmp: str) -> tuple[bool, str]:
    """Compile the exercise files of every corpus document in one asc run (startup is most
    of asc's time); a failure sends each test to compile its own file for the details."""
    out = Path(tmp)
    entries = []
    for i, path in enumerate(valid_corpus()):
        doc = load_document(path, includes_for(path))
        entries += build_exercise(doc, out / f"doc{i}", entry=f"doc{i}")
    proc = asc(entries, out / "corpus.wasm", "--noEmit")
    return proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("path", valid_corpus(), ids=corpus_id)
def test_corpus_file_compiles(path: Path, tmp_path: Path,
                              tmp_path_factory: pytest.TempPathFactory) -> None:
    toolchain()
    ok, _ = corpus_batch(str(tmp_path_factory.getbasetemp() / "as-corpus"))
    if ok:
        return
    doc = load_document(path, includes_for(path))
    asc_ok(build_exercise(doc, tmp_path / "gen"), tmp_path / "out.wasm", "--noEmit")


# ---- running under wasmtime -----------------------------------------------------------------

PREVIEW1_GUEST = """\
import * as p1 from "./wasi_snapshot_preview1";
import {
  Ciovec, Errno, Fdstat, Filestat, Prestat, Preopentype, Rights,
} from "./wasi_snapshot_preview1";

function show(label: string, value: u64): void {
  console.log(label + " " + value.toString());  // the shim's console: its own fd_write import
}

const sizes = p1.argsSizesGet().unwrap();  // a two-value tuple result
show("argc", sizes._0);
show("argv_buf_size", sizes._1);

const st = new Fdstat();
show("fdstat_err", p1.fdFdstatGet(1, st));
show("stdout_can_write", (st.fsRightsBase & Rights.FD_WRITE) != 0 ? 1 : 0);

const pre = new Prestat();
show("prestat_err", p1.fdPrestatGet(3, pre));
show("prestat_is_dir", pre.tag == Preopentype.DIR ? 1 : 0);
const nameLen = pre.dir.prNameLen;
show("prestat_name_len", nameLen);
const name = new Uint8Array(nameLen);
show("dir_name_err", p1.fdPrestatDirName(3, name.dataStart, nameLen));
console.log("dir_name " + String.UTF8.decode(name.buffer));

const opened = p1.pathOpen(3, 0, "out.txt", p1.Oflags.CREAT | p1.Oflags.TRUNC,
  Rights.FD_WRITE | Rights.FD_FILESTAT_GET, 0, 0);
show("open_err", opened.error);
const fd = opened.unwrap();
const hello = String.UTF8.encode("hello, preview1\\n");
const iov = new Ciovec();
iov.buf = changetype<usize>(hello);
iov.bufLen = hello.byteLength;
// A list of records. wasmtime writes only the first non-empty buffer, so an empty one
// first shows that the second element reached the host intact.
const written = p1.fdWrite(fd, [new Ciovec(), iov]);
show("written", written.unwrap());
const fst = new Filestat();
show("filestat_err", p1.fdFilestatGet(fd, fst));
show("file_size", fst.size);
show("close_err", p1.fdClose(fd));
show("missing_open_err", p1.pathOpen(3, 0, "no/such/file", 0, Rights.FD_READ, 0, 0).error);
show("badf", Errno.BADF);
"""


@pytest.mark.slow
def test_preview1_guest_runs(tmp_path: Path) -> None:
    """Generated preview1 bindings next to the shim's own preview1 imports, run against
    wasmtime's WASI: tuple results, records and a variant written by a real host."""
    toolchain()
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    import wasmtime

    gen = tmp_path / "gen"
    generate(load_document(PREVIEW1), gen)
    guest = gen / "guest.ts"
    guest.write_text(PREVIEW1_GUEST, "utf-8")
    wasm = tmp_path / "guest.wasm"
    asc_ok([guest], wasm)

    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    config = wasmtime.WasiConfig()
    config.argv = ["guest.wasm", "one", "two"]
    config.preopen_dir(str(sandbox), "/sandbox")
    stdout = tmp_path / "stdout.txt"
    config.stdout_file = str(stdout)
    store.set_wasi(config)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm)))
    instance.exports(store)["_start"](store)
    del instance, store

    seen = dict(line.split(" ", 1) for line in stdout.read_text("utf-8").splitlines())
    message = b"hello, preview1\n"
    assert seen == {
        "argc": "3", "argv_buf_size": str(len(b"guest.wasm\0one\0two\0")),
        "fdstat_err": "0", "stdout_can_write": "1",
        "prestat_err": "0", "prestat_is_dir": "1", "prestat_name_len": "8",
        "dir_name_err": "0", "dir_name": "/sandbox",
        "open_err": "0", "written": str(len(message)),
        "filestat_err": "0", "file_size": str(len(message)), "close_err": "0",
        "missing_open_err": "44", "badf": "8",  # noent
    }
    assert (sandbox / "out.txt").read_bytes() == message


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    toolchain()
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    wasm = tmp_path_factory.mktemp("as-guest") / "scenario.wasm"
    asc_ok([GUEST], wasm)
    return wasm


@pytest.mark.slow
def test_scenario_guest_imports(guest: Path) -> None:
    from scenario_checks import assert_imports_match_spec

    assert_imports_match_spec(guest, SPEC)


@pytest.mark.slow
def test_scenario_guest_runs(guest: Path) -> None:
    from scenario_checks import assert_scenario_passes

    assert_scenario_passes(guest)


@pytest.mark.slow
def test_scenario_guest_reports_a_mismatch(guest: Path) -> None:
    """The guest checks what comes back: a host that knows no names fails it at step 5."""
    from scenario_checks import run_against_host_without_names

    run = run_against_host_without_names(guest)
    assert run.stdout.splitlines()[-1] == (
        "FAIL step 5: errno 8 (not_found), expected 0 (success)")  # NnErrno.name


INSTALL = REPO / "scripts" / "install-node-deps.sh"


def test_install_script_skips_without_npm() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    proc = subprocess.run([bash, str(INSTALL)], env={"PATH": "/nonexistent"},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "npm not found, skipping" in proc.stdout


def test_install_script_is_a_no_op_when_current() -> None:
    toolchain()
    lock, stamp = REPO / "package-lock.json", REPO / "node_modules" / ".package-lock.json"
    require(stamp.is_file() and stamp.stat().st_mtime >= lock.stat().st_mtime,
            "node_modules is older than package-lock.json")
    assert os.access(INSTALL, os.X_OK)
    proc = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "node_modules up to date" in proc.stdout
