"""The Rust target: API shape, raw imports and layout asserts checked against the core,
real `rustc --target wasm32-wasi -D warnings` builds of every corpus file, a run of the
bindings' layout under wasmtime, and the wasi-nn scenario guest."""

from __future__ import annotations

import functools
import importlib.util
import json
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
from witxgen.targets.rust import RustTarget, buffer_pairs

PREVIEW1 = WITX / "wasi" / "preview1" / "wasi_snapshot_preview1.witx"
GUEST = REPO / "tests" / "guests" / "rust" / "scenario.rs"
# Debian's rustc (1.63) ships a wasm32-wasi std as libstd-rust-dev-wasm32; a rustup
# toolchain earlier in PATH may lack it, so every candidate is probed.
RUSTC_CANDIDATES = ["/usr/bin/rustc", "rustc", str(Path.home() / ".cargo" / "bin" / "rustc")]
WASI_TARGETS = ("wasm32-wasi", "wasm32-wasip1")  # the name changed in Rust 1.78

# Corner cases no real spec has all of: keyword names (types, fields, params, a function),
# `Self`, 256 u8 enum cases, u64 enums and flags, inline enum/flags/record/tuple types,
# variants with and without tag enums or payloads, strings and lists in records and
# variants, pointer-to-pointer, every result shape (tuple outs, scalars, int errors,
# a typedef'd `expected`, noreturn, none), constants on ints.
EDGE_WITX = """
;;; A type named after a keyword.
(typename $type u32)
(typename $self (handle))
(typename $Self u8)
(typename $big (enum (@witx tag u8) {big_cases}))
(typename $errno (enum (@witx tag u64) $ok $bad $2big))
(typename $wide (flags (@witx repr u64) {wide_flags}))
(typename $small (flags (@witx repr u8) $read $write))
(typename $name string)
(typename $pair (tuple u8 u64))
(typename $names (list $name))
(typename $inner (record (field $match bool) (field $fn char) (field $ch char8)))
(typename $outer (record
  (field $kind (enum (@witx tag u16) $a $b))
  (field $inner $inner)
  (field $anon (record (field $x u8) (field $y f64)))
  (field $names $names)
  (field $pp (@witx pointer (@witx const_pointer u8)))
  (field $pair $pair)
  (field $tup (tuple u16 u32))
  (field $s s8) (field $u usize) (field $f f32)))
(typename $plain (variant (@witx tag u32) (case $one) (case $two) (case $three)))
(typename $mixed (variant (case $none) (case $num u64) (case $text string) (case $rec $inner)))
(typename $tag3 (enum (@witx tag u8) $x $y $z))
(typename $tagged (variant (@witx tag $tag3) (case $z u8) (case $x u32)))
(typename $un (union $tag3 u8 u16 $outer))
(typename $res (expected $pair (error $errno)))
(typename $alias_handle $self)
(typename $filesize u64)
(@witx const $filesize $max 18446744073709551615)
(typename $signed s32)
(@witx const $signed $neg -5)
(typename $byte_ptr (@witx pointer u8))

(module $edge_cases
  (import "memory" (memory))
  ;;; Keywords as params.
  (@interface func (export "type")
    (param $self $self) (param $type $type) (param $fn bool) (param $loop char)
    (result $error (expected (error $errno))))
  (@interface func (export "strings")
    (param $s string) (param $n $names) (param $inline (list (list u8)))
    (result $error (expected $pair (error $errno))))
  (@interface func (export "tuple_result")
    (result $error (expected (tuple $type u64 $self) (error $errno))))
  (@interface func (export "one_tuple")
    (result $error (expected (tuple $small) (error $errno))))
  (@interface func (export "inline_types")
    (param $e (enum (@witx tag u8) $p $q))
    (param $f (flags (@witx repr u16) $r $s))
    (param $r (record (field $a u8)))
    (param $v $mixed) (param $t $tagged) (param $u $un) (param $pl $plain)
    (result $error (expected (record (field $out u32))
                             (error (enum (@witx tag u8) $fine $broken)))))
  (@interface func (export "scalar_u64") (param $w $wide) (param $x f64) (result $r u64))
  (@interface func (export "scalar_enum") (result $r $big))
  (@interface func (export "scalar_ptr") (result $r (@witx pointer $outer)))
  (@interface func (export "scalar_handle") (result $r $alias_handle))
  (@interface func (export "scalar_char") (result $r char))
  (@interface func (export "scalar_s8") (result $r s8))
  (@interface func (export "int_error") (result $error (expected $filesize (error u32))))
  (@interface func (export "typedef_result") (result $r $res))
  (@interface func (export "nothing"))
  (@interface func (export "pointers")
    (param $pp (@witx pointer (@witx pointer u8))) (param $cp (@witx const_pointer $outer)))
  (@interface func (export "bye") (param $code u32) (@witx noreturn))
  (@interface func (export "record_param") (param $o $outer) (param $p $pair)
    (result $error (expected $outer (error $errno))))
  ;;; Output buffers: (pointer to a byte, its size) pairs get a safe `_into` variant.
  (@interface func (export "buffers")
    (param $a (@witx pointer u8)) (param $a_len u8)
    (param $b (@witx pointer (@witx char8))) (param $b_size s32)
    (param $c $byte_ptr) (param $c_max_size $filesize)
    (param $flag bool)
    (param $d (@witx pointer u8)) (param $dmax_len (@witx usize))
    (result $error (expected u32 (error $errno))))
  (@interface func (export "buffers_into") (param $x u32))
  (@interface func (export "not_buffers")
    (param $in (@witx const_pointer u8)) (param $in_len u32)
    (param $out (@witx pointer u8)) (param $count u32)
    (param $w (@witx pointer u16)) (param $w_len u32)
    (param $f (@witx pointer u8)) (param $f_len f32))
  (@interface func (export "buffer_and_pointer")
    (param $buf (@witx pointer u8)) (param $buf_len u32) (param $p (@witx pointer u32)))
)
""".format(
    big_cases=" ".join(f"$c{i}" for i in range(256)),
    wide_flags=" ".join(f"$f{i}" for i in range(64)),
)


# ---- helpers ----------------------------------------------------------------------------

@functools.cache
def wasm_rustc() -> tuple[str, str] | None:
    """(rustc, target) for the first rustc that has a wasm32 WASI standard library."""
    seen: set[str] = set()
    for candidate in RUSTC_CANDIDATES:
        path = shutil.which(candidate)
        if path is None or str(Path(path).resolve()) in seen:
            continue
        seen.add(str(Path(path).resolve()))
        for target in WASI_TARGETS:
            proc = subprocess.run([path, "--print", "target-libdir", "--target", target],
                                  capture_output=True, text=True, timeout=60)
            libdir = Path(proc.stdout.strip())
            if proc.returncode == 0 and any(libdir.glob("libstd-*.rlib")):
                return path, target
    return None


def toolchain() -> tuple[str, str]:
    found = wasm_rustc()
    require(found is not None,
            "no rustc with a wasm32-wasi std (Debian: apt install rustc libstd-rust-dev-wasm32)")
    assert found is not None
    return found


def rustc(source: Path, out: Path, *, crate_type: str = "lib", check_only: bool = False,
          extra: tuple[str, ...] = ()) -> None:
    """Compile with every warning an error; `check_only` stops after analysis (lints and
    the const layout asserts still run), which is what the corpus sweep needs."""
    compiler, target = toolchain()
    argv = [compiler, "--edition", "2021", "--crate-type", crate_type, "--target", target,
            "-D", "warnings", *extra, str(source), "-o", str(out)]
    if check_only:
        argv.insert(1, "--emit=metadata")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(argv)}\n{proc.stderr[-6000:]}"


def generate(doc: ir.Document, out: Path) -> list[Path]:
    files = render_targets(doc, ["rust"])
    paths = []
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        paths.append(path)
    return paths


def target_for(doc: ir.Document) -> RustTarget:
    return RustTarget(doc, GenerateOptions(spec_path=doc.path, provenance="test"))


def edge_doc(tmp_path: Path) -> ir.Document:
    path = tmp_path / "edge.witx"
    path.write_text(EDGE_WITX, "utf-8")
    return load_document(path)


def valid_corpus() -> list[Path]:
    return [p for p in corpus_files() if p.name not in BROKEN_DRAFTS]


def corpus_id(path: Path) -> str:
    return path.relative_to(WITX).as_posix()


# ---- the API shape ------------------------------------------------------------------------

def test_wasi_nn_api_shape() -> None:
    (path, text), = render_targets(load_document(SPEC), ["rust"]).items()
    assert path == "rust/wasi_ephemeral_nn.rs"
    assert text.startswith("// generated by witxgen ")
    flat = " ".join(text.split())
    for expected in [
        '#[link(wasm_import_module = "wasi_ephemeral_nn")]',
        "pub struct NnErrno(pub u16);",
        "pub const TOO_LARGE: NnErrno = NnErrno(7);",
        "pub struct TensorType(pub u8);",
        "pub const F32: TensorType = TensorType(1);",
        "pub struct Graph(pub u32);",
        "pub type GraphBuilder<'a> = abi::List<'a, u8>;",
        "pub struct Tensor<'a> { /// Size of each dimension",
        "pub type_: TensorType,",
        "pub fn load( builder: &[GraphBuilder<'_>], encoding: GraphEncoding, "
        "target: ExecutionTarget, ) -> ::core::result::Result<Graph, NnErrno>",
        "pub fn load_by_name(name: &str) -> ::core::result::Result<Graph, NnErrno>",
        "pub fn set_input( context: GraphExecutionContext, index: u32, tensor: &Tensor<'_>, )"
        " -> ::core::result::Result<(), NnErrno>",
        "pub unsafe fn get_output( context: GraphExecutionContext, index: u32, "
        "out_buffer: *mut u8, out_buffer_max_size: BufferSize, ) "
        "-> ::core::result::Result<BufferSize, NnErrno>",
        "pub fn get_output_into( context: GraphExecutionContext, index: u32, "
        "out_buffer: &mut [u8], ) -> ::core::result::Result<BufferSize, NnErrno>",
        "self::get_output( context, index, out_buffer.as_mut_ptr(), "
        "out_buffer.len().min(u32::MAX as usize) as u32, )",
        "/// See [`get_output_into`] for a safe variant that takes a slice.",
        "impl ::core::fmt::Display for NnErrno",
        "const _: () = assert!(::core::mem::size_of::<Tensor<'static>>() == 20);",
        "/// Handle to a model the host has loaded and is ready to run.",
    ]:
        assert expected in flat, expected


RAW_IMPORT = re.compile(
    r'#\[link_name = "(?P<name>[^"]+)"\]\s*pub fn \w+\((?P<params>[^)]*)\)(?: -> (?P<ret>\S+))?;')


@pytest.mark.parametrize("spec", [SPEC, PREVIEW1], ids=["wasi-nn", "preview1"])
def test_raw_imports_have_the_core_signatures(spec: Path) -> None:
    require(spec.is_file(), f"{spec} not found")
    doc = load_document(spec)
    (text,) = render_targets(doc, ["rust"]).values()
    found = {}
    for m in RAW_IMPORT.finditer(text):
        params = [p.split(":")[1].strip() for p in m["params"].split(",") if p.strip()]
        found[m["name"]] = (params, [m["ret"]] if m["ret"] else [])
    (module,) = doc.modules
    assert set(found) == {f.name for f in module.functions}
    for func in module.functions:
        abi = function_abi(doc, func)
        results = ["!"] if func.noreturn else list(abi.results)
        assert found[func.name] == (abi.param_types, results), func.name


ASSERT = re.compile(r"assert!\(::core::mem::(size|align)_of::<(.+?)>\(\) == (\d+)\);")


@pytest.mark.parametrize("which", ["wasi-nn", "preview1", "edge"])
def test_layout_asserts_match_the_core_layout(which: str, tmp_path: Path) -> None:
    doc = {"wasi-nn": lambda: load_document(SPEC), "preview1": lambda: load_document(PREVIEW1),
           "edge": lambda: edge_doc(tmp_path)}[which]()
    (text,) = render_targets(doc, ["rust"]).values()
    asserted = {(kind, ty): int(n) for kind, ty, n in ASSERT.findall(text)}
    target, layouts = target_for(doc), Layouts(doc)
    for td in doc.types:
        if isinstance(doc.resolve(td.type), ir.Expected):
            continue  # Rust's Result has no C layout; an `expected` never sits in memory
        spelled = target.rs(ir.Ref(td.name), "'static")
        lay = layouts.of(ir.Ref(td.name))
        assert asserted[("size", spelled)] == lay.size, td.name
        assert asserted[("align", spelled)] == lay.align, td.name


def test_generated_rust_is_current() -> None:
    files = render_targets(load_document(SPEC), ["rust"])
    for rel, text in files.items():
        path = REPO / "generated" / rel
        assert path.is_file() and path.read_text("utf-8") == text, (
            f"{path} is stale: run `witxgen generate spec/wasi-nn.witx -t rust`")


def test_edge_case_names(tmp_path: Path) -> None:
    (text,) = render_targets(edge_doc(tmp_path), ["rust"]).values()
    flat = " ".join(text.split())
    for expected in [
        "pub type Type = u32;",  # `$type`: CamelCase is no keyword
        "pub struct SelfType(pub u32);",  # `$self` → `Self` is one
        "pub type SelfType2 = u8;",  # `$Self` then collides and gets a number
        "pub match_: bool,",
        "pub fn type_( self_: SelfType, type_: Type, fn_: bool, loop_: char, )",
        "loop_ as u32 as i32",
        "pub struct Errno(pub u64);",
        "pub const _2BIG: Errno = Errno(2);",
        "pub const F63: Wide = Wide(1 << 63);",
        "pub const FILESIZE_MAX: Filesize = 18446744073709551615;",
        "pub const SIGNED_NEG: Signed = -5;",
        "pub struct OuterKind(pub u16);",  # inline types named after where they appear
        "pub struct OuterTup(pub u16, pub u32);",
        "pub struct InlineTypesE(pub u8);",
        "-> ::core::result::Result<InlineTypesOk, InlineTypesError>",
        "pub fn tuple_result() -> ::core::result::Result<(Type, u64, SelfType), Errno>",
        "pub fn one_tuple() -> ::core::result::Result<(Small,), Errno>",
        "pub fn int_error() -> ::core::result::Result<Filesize, u32>",
        "pub fn scalar_enum() -> Big",
        "pub fn bye(code: u32) -> !",
        "pub unsafe fn pointers(pp: *mut *mut u8, cp: *const Outer<'_>)",
        "#[allow(unreachable_patterns)] _ =>",  # all 256 u8 values are cases
        "pub union MixedPayload<'a> {",
        "pub tag: Tag3,",
        # The buffer pattern: every integer width saturates; `buffers_into` is taken.
        "pub fn buffers_into(x: u32)",
        "pub fn buffers_into2( a: &mut [u8], b: &mut [u8], c: &mut [u8], flag: bool, "
        "d: &mut [u8], ) -> ::core::result::Result<u32, Errno>",
        "a.len().min(u8::MAX as usize) as u8,",
        "b.len().min(i32::MAX as usize) as i32,",
        "c.len() as u64,",
        "d.len(), )",
    ]:
        assert expected in flat, expected
    assert "pub fn not_buffers_into" not in flat  # const, unsuffixed, u16, f32: no pairs
    assert "pub fn buffer_and_pointer_into" not in flat  # another raw pointer stays: unsafe


@pytest.mark.parametrize("spec, expected", [
    (SPEC, {"get_output": [("out_buffer", "out_buffer_max_size")]}),
    (PREVIEW1, {"fd_prestat_dir_name": [("path", "path_len")],
                "fd_readdir": [("buf", "buf_len")],
                "path_readlink": [("buf", "buf_len")],
                "random_get": [("buf", "buf_len")]}),
], ids=["wasi-nn", "preview1"])
def test_buffer_pairs(spec: Path, expected: dict[str, list[tuple[str, str]]]) -> None:
    """The (pointer u8, size) rule finds exactly the output buffers of the real specs
    (preview1's args_get/environ_get buffers have no size param, so they stay unsafe)."""
    require(spec.is_file(), f"{spec} not found")
    doc = load_document(spec)
    found = {}
    for func in doc.modules[0].functions:
        pairs = buffer_pairs(doc, func)
        if pairs:
            found[func.name] = [(func.params[i].name, func.params[j].name) for i, j in pairs]
    assert found == expected


def test_unrepresentable_name_clash_is_reported(tmp_path: Path) -> None:
    from witxgen.targets import GenerateError

    path = tmp_path / "clash.witx"
    path.write_text("(typename $r (record (field $a_b u8) (field $a-b u8)))\n", "utf-8")
    try:
        doc = load_document(path)
    except Exception:  # the front end may already reject `a-b`; nothing to test then
        pytest.skip("the front end rejects the clashing names")
    with pytest.raises(GenerateError, match="both become the Rust name `a_b`"):
        render_targets(doc, ["rust"])


# ---- compiling ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("which", ["wasi-nn", "preview1", "edge"])
def test_compiles_for_wasm32(which: str, tmp_path: Path) -> None:
    toolchain()
    doc = {"wasi-nn": lambda: load_document(SPEC), "preview1": lambda: load_document(PREVIEW1),
           "edge": lambda: edge_doc(tmp_path)}[which]()
    for path in generate(doc, tmp_path / "gen"):
        rustc(path, tmp_path / f"{path.stem}.rlib")


@pytest.mark.slow
@pytest.mark.parametrize("path", valid_corpus(), ids=corpus_id)
def test_corpus_file_compiles(path: Path, tmp_path: Path) -> None:
    toolchain()
    doc = load_document(path, includes_for(path))
    for rs in generate(doc, tmp_path / "gen"):
        rustc(rs, tmp_path / f"{rs.stem}.rmeta", check_only=True)


def offsets_program(doc: ir.Document, module_file: Path) -> tuple[str, dict[str, list[int]]]:
    """A Rust program printing, as JSON lines, the offset of every record field and every
    variant payload as rustc laid them out, and the offsets the core layout expects."""
    target, layouts = target_for(doc), Layouts(doc)
    lines, expected = [], {}
    for item in target.items():
        lay = layouts.of(item.ty)
        if item.partial in ("_record", "_tuple") and isinstance(lay, RecordLayout):
            fields = [m.name for m in item.members]
            expected[item.name] = list(lay.offsets)
        elif item.partial == "_variant" and isinstance(lay, VariantLayout):
            fields = ["tag", "u"]
            expected[item.name] = [0, lay.payload_offset]
        else:
            continue
        offsets = ", ".join(
            f"addr_of!((*p).{f}) as usize - p as usize" for f in fields)
        lines.append(
            f"    {{ let u = MaybeUninit::<m::{item.static}>::uninit(); let p = u.as_ptr();"
            f" println!(\"{{{{\\\"{item.name}\\\": {{:?}}}}}}\", unsafe {{ [{offsets}] }}); }}")
    program = "\n".join([
        "#[allow(dead_code)]",
        f"#[path = {json.dumps(str(module_file))}]",
        "mod m;",
        "use std::mem::MaybeUninit;",
        "use std::ptr::addr_of;",
        "fn main() {",
        *lines,
        "}",
    ])
    return program, expected


@pytest.mark.slow
@pytest.mark.parametrize("which", ["wasi-nn", "preview1", "edge"])
def test_field_offsets_at_run_time(which: str, tmp_path: Path) -> None:
    """rustc 1.63 cannot compute field offsets in a const, so run them under wasmtime."""
    toolchain()
    wasmtime = pytest.importorskip("wasmtime")
    doc = {"wasi-nn": lambda: load_document(SPEC), "preview1": lambda: load_document(PREVIEW1),
           "edge": lambda: edge_doc(tmp_path)}[which]()
    (module_file,) = generate(doc, tmp_path / "gen")
    program, expected = offsets_program(doc, module_file)
    source = tmp_path / "offsets.rs"
    source.write_text(program, "utf-8")
    wasm = tmp_path / "offsets.wasm"
    rustc(source, wasm, crate_type="bin")

    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    config = wasmtime.WasiConfig()
    stdout = tmp_path / "stdout.txt"
    config.stdout_file = str(stdout)
    store.set_wasi(config)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm)))
    instance.exports(store)["_start"](store)

    measured: dict[str, list[int]] = {}
    for line in stdout.read_text().splitlines():
        measured.update(json.loads(line))
    assert measured == expected


@pytest.mark.slow
@pytest.mark.parametrize("which", ["wasi-nn", "preview1", "edge"])
def test_linked_imports_have_the_core_signatures(which: str, tmp_path: Path) -> None:
    """Call every raw import (on a path never taken) so each one becomes a wasm import,
    then read the import types rustc emitted back out of the module."""
    toolchain()
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    doc = {"wasi-nn": lambda: load_document(SPEC), "preview1": lambda: load_document(PREVIEW1),
           "edge": lambda: edge_doc(tmp_path)}[which]()
    (module_file,) = generate(doc, tmp_path / "gen")
    target = target_for(doc)
    (module,) = doc.modules
    calls = []
    for i, func in enumerate(module.functions):
        f = target.function(func)
        zeros = ", ".join("0.0" if t.startswith("f") else "0" for _, t in f.raw_params)
        # One branch per call: a call after a noreturn import would be dropped as dead.
        calls.append(f"    if n == {1000 + i} {{ unsafe {{ m::raw::{f.name}({zeros}); }} }}")
    source = tmp_path / "imports.rs"
    source.write_text("\n".join([
        "#[allow(dead_code)]", f"#[path = {json.dumps(str(module_file))}]", "mod m;",
        "fn main() {", "    let n = std::env::args().count();", *calls, "}"]))
    wasm = tmp_path / "imports.wasm"
    rustc(source, wasm, crate_type="bin")
    imports = wasm_imports(wasm)
    for func in module.functions:
        abi = function_abi(doc, func)
        assert imports[(module.name, func.name)] == (abi.param_types, list(abi.results))


# ---- the scenario guest ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    toolchain()
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    wasm = tmp_path_factory.mktemp("guest") / "scenario.wasm"
    rustc(GUEST, wasm, crate_type="bin", extra=("-O",))
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
    assert run.stdout.splitlines()[-1] == "FAIL step 5: expected Ok, got Err(not_found)"


PREVIEW1_GUEST = r"""
#[allow(dead_code)]
#[path = "{module}"]
mod p1;

fn main() {{
    // A buffer the size the host asks for, filled through the safe variant.
    let mut buf = [0u8; 64];
    p1::random_get_into(&mut buf).unwrap();
    let zeros = buf.iter().filter(|&&b| b == 0).count();
    println!("random {{}}", if zeros < 32 {{ "ok" }} else {{ "all zero?" }});
    let mut empty = [0u8; 0];
    println!("random_empty {{:?}}", p1::random_get_into(&mut empty).map_err(|e| e.name()));
    let mut name = [0u8; 8];
    let named = p1::fd_prestat_dir_name_into(p1::Fd(3), &mut name).map_err(|e| e.name());
    println!("dir_name {{:?}} {{}}", named, String::from_utf8_lossy(&name));
    let mut small = [0u8; 2];
    let short = p1::fd_prestat_dir_name_into(p1::Fd(3), &mut small).map_err(|e| e.name());
    println!("dir_name_small {{:?}}", short);
}}
"""


@pytest.mark.slow
def test_preview1_slice_variants_run(tmp_path: Path) -> None:
    """`random_get_into` and `fd_prestat_dir_name_into` against wasmtime's real WASI."""
    toolchain()
    wasmtime = pytest.importorskip("wasmtime")
    require(PREVIEW1.is_file(), f"{PREVIEW1} not found")
    (module_file,) = generate(load_document(PREVIEW1), tmp_path / "gen")
    source = tmp_path / "p1_guest.rs"
    source.write_text(PREVIEW1_GUEST.format(module=module_file), "utf-8")
    wasm = tmp_path / "p1_guest.wasm"
    rustc(source, wasm, crate_type="bin")

    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    config = wasmtime.WasiConfig()
    config.preopen_dir(str(sandbox), "/sandbox")
    stdout = tmp_path / "stdout.txt"
    config.stdout_file = str(stdout)
    store.set_wasi(config)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm)))
    instance.exports(store)["_start"](store)
    assert stdout.read_text().splitlines() == [
        "random ok",
        "random_empty Ok(())",
        "dir_name Ok(()) /sandbox",
        "dir_name_small Err(\"nametoolong\")",
    ]
