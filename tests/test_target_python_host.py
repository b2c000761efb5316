"""The python-host target: generated code quality, the wasi-nn run scenario, and the glue's
defences against hostile guests.

Guests here are WebAssembly text compiled in-process (no toolchain needed). They import the
six `wasi_ephemeral_nn` functions with their exact core signatures and run against
`tests/nn_fake_host.py` through `tests/guest_harness.py`.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import logging
import os
import re
import struct
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import wasmtime
import wasmtime._func as wasmtime_func
from conftest import BROKEN_DRAFTS, SPEC, WITX, corpus_files, includes_for, require
from guest_harness import TRAP_EXIT_CODE, run_guest
from nn_fake_host import FIRST_CONTEXT, FakeNn, InputRecord
from witxgen_host import _guest, wasi_ephemeral_nn
from witxgen_host._guest import GuestError
from witxgen_host.wasi_ephemeral_nn import GraphExecutionContext, NnErrno, NnErrnoError, Tensor

from witxgen.generate import render_targets
from witxgen.loader import load_document, load_text
from witxgen.targets.python_host import PythonHostTarget, _fit, _split_call

PREVIEW1 = WITX / "wasi" / "preview1" / "wasi_snapshot_preview1.witx"
OOB = 0xFFFF_FF00  # far outside a one-page memory


@pytest.fixture(params=[True, False], ids=["fast", "generic"])
def fast(request: pytest.FixtureRequest) -> bool:
    """Every guest test runs on both registrations of the imports (`add_to_linker`'s
    `fast`): wasmtime's C API and wasmtime-py's `define_func`."""
    if request.param:
        require(_guest.FAST_CALLS, f"no fast host calls: {_guest.FAST_CALLS_UNAVAILABLE}")
    return bool(request.param)

# ---- generated code ----------------------------------------------------------------------


def _write(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root / "python-host"


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["wasi-nn", "preview1"])
def test_generated_package_is_lint_and_type_clean(spec: str, tmp_path: Path) -> None:
    path = SPEC if spec == "wasi-nn" else PREVIEW1
    if spec == "preview1":
        require(PREVIEW1.is_file(), f"preview1 witx not found at {PREVIEW1}")
    _lint(_write(render_targets(load_document(path), ["python-host"]), tmp_path), tmp_path)


def _lint(pkg: Path, tmp_path: Path) -> None:
    """ruff (the repo's rule set) and mypy --strict on a generated package."""
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select",
         "E,F,W,I,B,UP,SIM", "--line-length", "100", "--target-version", "py310", "."],
        cwd=pkg, capture_output=True, text=True, timeout=300, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / ".mypy_cache"), "witxgen_host"],
        cwd=pkg, capture_output=True, text=True, timeout=600, check=False)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


def test_generated_files_and_public_api() -> None:
    files = render_targets(load_document(SPEC), ["python-host"])
    assert sorted(files) == [f"python-host/witxgen_host/{n}.py"
                             for n in ("__init__", "_guest", "types", "wasi_ephemeral_nn")]
    module = files["python-host/witxgen_host/wasi_ephemeral_nn.py"]
    for fragment in [
        "class WasiEphemeralNn(abc.ABC):",
        "    def load(\n        self,\n        builder: GraphBuilderArray,\n"
        "        encoding: GraphEncoding,\n        target: ExecutionTarget,\n    ) -> Graph:",
        "def load_by_name(self, name: str) -> Graph:",
        "def init_execution_context(self, graph: Graph) -> GraphExecutionContext:",
        "def set_input(self, context: GraphExecutionContext, index: int, tensor: Tensor) -> None:",
        "out_buffer: GuestPtr[int],",
        "def compute(self, context: GraphExecutionContext) -> None:",
        "def on_error(self, function: str, error: BaseException) -> None:",
        "def add_to_linker(",
        'wasmtime.FuncType([i32, i32, i32, i32, i32], [i32])',
        '_S_IIB3xII = struct.Struct("<IIB3xII")',  # the tensor record, precomputed
    ]:
        assert fragment in module, fragment
    types = files["python-host/witxgen_host/types.py"]
    for fragment in ["class NnErrno(enum.IntEnum):", "    NOT_FOUND = 8",
                     "class TensorType(enum.IntEnum):", "    F32 = 1",
                     '@dataclasses.dataclass(frozen=True, slots=True)\nclass Tensor:',
                     'Graph = typing.NewType("Graph", int)',
                     "TensorData: typing.TypeAlias = memoryview",
                     "class NnErrnoError(HostCallError):"]:
        assert fragment in types, fragment


def test_every_core_signature_matches_the_abi() -> None:
    """Each define_func carries exactly the core signature abi.py computes."""
    from witxgen.abi import function_abi

    doc = load_document(SPEC)
    module = render_targets(doc, ["python-host"])["python-host/witxgen_host/wasi_ephemeral_nn.py"]
    flat = re.sub(r"\(\s+", "(", " ".join(module.split()))
    for func in doc.modules[0].functions:
        abi = function_abi(doc, func)
        ft = (f"wasmtime.FuncType([{', '.join(p.type for p in abi.params)}], "
              f"[{', '.join(abi.results)}])")
        assert f'host.define("{func.name}", {ft}, _host_{func.name}' in flat, func.name


# Drafts whose get_output returns a tensor (it holds lists): a host cannot write one.
LIST_RESULT_DRAFTS = {"2020-05-14_e8ba480.witx", "2020-08-07_6f76f9f.witx"}


@pytest.mark.slow
def test_every_corpus_file_generates_valid_python(witx_dir: Path) -> None:
    count = 0
    for path in corpus_files():
        if path.name in BROKEN_DRAFTS:
            continue
        doc = load_document(path, includes_for(path))
        files = render_targets(doc, ["python-host"])
        for rel, text in files.items():
            assert isinstance(text, str)
            compile(text, f"{path.name}:{rel}", "exec")
        module = "\n".join(str(v) for k, v in files.items() if k.endswith("nn.py"))
        trap = "get_output: a result holding a list or string cannot be written" in module
        assert trap == (path.name in LIST_RESULT_DRAFTS), path.name
        count += 1
    assert count > 40


def test_list_result_generates_a_trapping_function() -> None:
    doc = load_text("""
        (typename $errno (enum (@witx tag u8) $ok $inval))
        (module $m (import "memory" (memory))
          (@interface func (export "names")
            (result $error (expected (list u8) (error $errno)))))
    """)
    module = str(render_targets(doc, ["python-host"])["python-host/witxgen_host/m.py"])
    assert ('raise _guest.TrapError("m.names: a result holding a list or string cannot be '
            'written")') in " ".join(module.split())


def test_fit_wraps_long_calls() -> None:
    assert _split_call('f(a, g(b, "x, y"), [1, 2])') == ("f", ["a", 'g(b, "x, y")', "[1, 2]"])
    assert _split_call("f(a)(b)") == ("f(a)", ["b"])
    assert _split_call("x + 1") is None
    long = "return Foo(" + ", ".join(f"argument_{i}" for i in range(12)) + ")"
    out = _fit(long, 8)
    assert out.splitlines()[0] == "return Foo(" and all(len(ln) + 8 <= 100
                                                         for ln in out.splitlines())


def test_target_is_registered_and_complete() -> None:
    assert PythonHostTarget.name == "python-host" and PythonHostTarget.comment == "#"


# ---- WAT guests --------------------------------------------------------------------------

NN_IMPORTS = """
  (import "wasi_ephemeral_nn" "load"
    (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "load_by_name"
    (func $load_by_name (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context"
    (func $init_execution_context (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input"
    (func $set_input (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "get_output"
    (func $get_output (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute"
    (func $compute (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
"""

# Fixed guest addresses (one 64 KiB page).
XML, WEIGHTS, A, B = 1024, 1040, 1048, 1049
ARR_OK, ARR_ONE, ARR_AB = 1100, 1120, 1140
NAME_ADD1, NAME_NOPE, NAME_BAD = 1200, 1210, 1220
DIMS, DATA, TENSOR = 1300, 1320, 1400
G1, G2, CTX, SCRATCH, WRITTEN = 2000, 2004, 2008, 2012, 2016
BUF = 2100
IOV, NWRITTEN = 3000, 3008
FLOATS = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)


def _le(*words: int) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


BASE_DATA: dict[int, bytes] = {
    XML: b"<xml/>", WEIGHTS: b"\x01\x02\x03", A: b"a", B: b"b",
    ARR_OK: _le(XML, 6, WEIGHTS, 3), ARR_ONE: _le(XML, 6), ARR_AB: _le(A, 1, B, 1),
    NAME_ADD1: b"add1", NAME_NOPE: b"nope", NAME_BAD: b"\xff\xfe",
    DIMS: _le(1, 4), DATA: FLOATS,
    TENSOR: _le(DIMS, 2) + bytes([1, 0, 0, 0]) + _le(DATA, 16),
}


def _wat_bytes(data: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in data)


@dataclass
class Guest:
    """Builds a WAT command module: the imports, data segments, messages and `_start`."""

    body: list[str] = field(default_factory=list)
    data: dict[int, bytes] = field(default_factory=lambda: dict(BASE_DATA))
    next_message: int = 4096
    memory: bool = True

    def message(self, text: str) -> tuple[int, int]:
        raw = (text + "\n").encode()
        at = self.next_message
        self.data[at] = raw
        self.next_message += len(raw)
        return at, len(raw)

    def expect(self, step: int, got: str, want: int, what: str) -> None:
        at, n = self.message(f"FAIL step {step}: {what}")
        self.body.append(f"(call $expect {got} (i32.const {want}) (i32.const {at}) "
                         f"(i32.const {n}))")

    def print(self, text: str) -> None:
        at, n = self.message(text)
        self.body.append(f"(call $print (i32.const {at}) (i32.const {n}))")

    def wat(self) -> str:
        segments = "\n".join(f'  (data (i32.const {at}) "{_wat_bytes(raw)}")'
                             for at, raw in sorted(self.data.items()))
        memory = '(memory (export "memory") 1)' if self.memory else ""
        body = "\n    ".join(self.body)
        helpers = """
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 3000) (local.get $ptr))
    (i32.store (i32.const 3004) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 3000) (i32.const 1) (i32.const 3008))))
  (func $expect (param $got i32) (param $want i32) (param $msg i32) (param $len i32)
    (if (i32.ne (local.get $got) (local.get $want))
      (then (call $print (local.get $msg) (local.get $len)) (call $proc_exit (i32.const 1)))))
""" if self.memory else ""
        return (f"(module\n{NN_IMPORTS}\n  {memory}\n{segments if self.memory else ''}\n"
                f"{helpers}\n  (func (export \"_start\")\n    {body}))\n")


def _c(value: int) -> str:
    return f"(i32.const {value})"


def _call(func: str, *args: int | str) -> str:
    return f"(call ${func} {' '.join(a if isinstance(a, str) else _c(a) for a in args)})"


def _load(addr: int) -> str:
    return f"(i32.load {_c(addr)})"


def scenario_guest() -> str:
    """SCENARIO.md steps 1-16 as a WAT guest."""
    g = Guest()
    e = g.expect
    e(1, _call("load", ARR_OK, 2, 0, 0, G1), 0, "load(xml, weights) should succeed")
    e(2, _call("load", ARR_ONE, 1, 0, 0, SCRATCH), 1, "one builder: expected invalid_argument")
    e(3, _call("load", ARR_AB, 2, 1, 0, SCRATCH), 2, "onnx: expected invalid_encoding")
    e(4, _call("load", ARR_AB, 2, 0, 2, SCRATCH), 6, "tpu: expected unsupported_operation")
    e(5, _call("load_by_name", NAME_ADD1, 4, G2), 0, "load_by_name(add1) should succeed")
    e(5, f"(i32.ne {_load(G2)} {_load(G1)})", 1, "g2 equals g1")
    e(6, _call("load_by_name", NAME_NOPE, 4, SCRATCH), 8, "nope: expected not_found")
    e(7, _call("init_execution_context", _load(G1), CTX), 0, "init_execution_context(g1)")
    e(8, _call("init_execution_context", 0x7FFFFFF0, SCRATCH), 1,
      "unknown graph: expected invalid_argument")
    e(9, _call("set_input", _load(CTX), 0, TENSOR), 0, "set_input(ctx, 0, tensor)")
    e(10, _call("set_input", _load(CTX), 1, TENSOR), 1, "index 1: expected invalid_argument")
    e(11, _call("get_output", _load(CTX), 0, BUF, 16, WRITTEN), 1,
      "get_output before compute: expected invalid_argument")
    e(12, _call("compute", _load(CTX)), 0, "compute(ctx)")
    e(13, _call("get_output", _load(CTX), 0, BUF, 16, WRITTEN), 0, "get_output(ctx, 0, 16)")
    e(13, _load(WRITTEN), 16, "expected 16 bytes written")
    for i, want in enumerate((2.0, 3.0, 4.0, 5.0)):
        e(13, f"(f32.eq (f32.load {_c(BUF + 4 * i)}) (f32.const {want}))", 1,
          f"output element {i} is not {want}")
    g.body += [f"(i64.store {_c(BUF)} (i64.const 0))", f"(i64.store {_c(BUF + 8)} (i64.const 0))"]
    e(14, _call("get_output", _load(CTX), 0, BUF, 8, WRITTEN), 7, "expected too_large")
    e(14, f"(i64.ne (i64.or (i64.load {_c(BUF)}) (i64.load {_c(BUF + 8)})) (i64.const 0))", 0,
      "too_large wrote into the buffer")
    e(15, _call("get_output", _load(CTX), 3, BUF, 16, WRITTEN), 1,
      "output 3: expected invalid_argument")
    g.print("PASS")
    g.body.append(_call("proc_exit", 0))
    return g.wat()


def exit_with(*body: str, data: dict[int, bytes] | None = None, memory: bool = True) -> str:
    """A guest that runs `body` (leaving an i32) and exits with that value."""
    g = Guest(memory=memory)
    if data:
        g.data.update(data)
    g.body = [*body[:-1], f"(call $proc_exit {body[-1]})"]
    return g.wat()


def test_scenario_passes_and_host_sees_every_value(fast: bool) -> None:
    run = run_guest(scenario_guest(), fast=fast)
    assert (run.exit_code, run.stdout, run.trap) == (0, "PASS\n", None), run.stderr
    host = run.host
    assert host.loads[0].builders == [b"<xml/>", b"\x01\x02\x03"]
    assert [c.encoding for c in host.loads] == [0, 0, 1, 0]  # openvino, onnx
    assert [c.target for c in host.loads] == [0, 0, 0, 2]  # cpu, tpu
    assert [len(c.builders) for c in host.loads] == [2, 1, 2, 2]
    assert host.names == [b"add1", b"nope"]
    assert host.inputs == [InputRecord(FIRST_CONTEXT, [1, 4], 1, FLOATS)]
    assert host.graphs_issued == [1, 2]
    assert host.contexts_issued == [FIRST_CONTEXT]
    assert [f for f, _ in host.errors] == [
        "load", "load", "load", "load_by_name", "init_execution_context", "set_input",
        "get_output", "get_output", "get_output"]
    assert all(isinstance(e, NnErrnoError) for _, e in host.errors)


def test_scenario_reports_the_first_mismatch(fast: bool) -> None:
    """A guest expecting the wrong errno says which step failed and exits 1."""
    g = Guest()
    g.expect(2, _call("load", ARR_ONE, 1, 0, 0, SCRATCH), 0, "expected success")
    g.print("PASS")
    run = run_guest(g.wat(), fast=fast)
    assert (run.exit_code, run.stdout) == (1, "FAIL step 2: expected success\n")


@pytest.mark.parametrize(("body", "data"), [
    pytest.param([_call("load", OOB, 2, 0, 0, SCRATCH)], None, id="builder-array-ptr"),
    pytest.param([_call("load", ARR_OK, 0x1000_0000, 0, 0, SCRATCH)], None,
                 id="builder-array-count"),
    pytest.param([_call("load", 900, 2, 0, 0, SCRATCH)], {900: _le(XML, 6, OOB, 3)},
                 id="builder-entry-ptr"),
    pytest.param([_call("load", 900, 2, 0, 0, SCRATCH)], {900: _le(XML, 6, 16, 0xFFFF_FFF8)},
                 id="builder-entry-len-overflows-32-bits"),
    pytest.param([_call("load_by_name", OOB, 4, SCRATCH)], None, id="name-ptr"),
    pytest.param([_call("load_by_name", 0xFFFF_FFF0, 0x20, SCRATCH)], None,
                 id="name-ptr-plus-len-overflows-32-bits"),
    pytest.param([_call("load_by_name", NAME_BAD, 2, SCRATCH)], None, id="name-invalid-utf8"),
    pytest.param([_call("set_input", FIRST_CONTEXT, 0, OOB)], None, id="tensor-ptr"),
    pytest.param([_call("set_input", FIRST_CONTEXT, 0, 0xFFFF_FFF0)], None,
                 id="tensor-ptr-plus-size-overflows-32-bits"),
    pytest.param([_call("set_input", FIRST_CONTEXT, 0, 900)],
                 {900: _le(DIMS, 2) + bytes(4) + _le(OOB, 16)}, id="tensor-data-ptr"),
    pytest.param([_call("set_input", FIRST_CONTEXT, 0, 900)],
                 {900: _le(OOB, 2) + bytes(4) + _le(DATA, 16)}, id="tensor-dims-ptr"),
    pytest.param([_call("set_input", FIRST_CONTEXT, 0, 900)],
                 {900: _le(DIMS, 2) + bytes([9, 0, 0, 0]) + _le(DATA, 16)},
                 id="tensor-type-tag-out-of-range"),
    pytest.param([_call("load", ARR_OK, 2, 200, 0, SCRATCH)], None, id="encoding-tag-200"),
    pytest.param([_call("load", ARR_OK, 2, 0, -1, SCRATCH)], None, id="target-tag-negative"),
])
def test_bad_guest_arguments_are_invalid_argument(body: list[str], data: dict[int, bytes] | None,
                                                  fast: bool) -> None:
    run = run_guest(exit_with(*body, data=data), fast=fast)
    assert (run.exit_code, run.trap) == (NnErrno.INVALID_ARGUMENT, None), run.stderr
    assert run.host.calls == []  # rejected by the glue, before the implementation
    ((_, error),) = run.host.errors
    assert isinstance(error, GuestError), error


def test_out_of_bounds_output_buffer_is_invalid_argument(fast: bool) -> None:
    run = run_guest(exit_with(
        f"(drop {_call('load', ARR_OK, 2, 0, 0, G1)})",
        f"(drop {_call('init_execution_context', _load(G1), CTX)})",
        f"(drop {_call('set_input', _load(CTX), 0, TENSOR)})",
        f"(drop {_call('compute', _load(CTX))})",
        _call("get_output", _load(CTX), 0, 0xFFFF_FFF8, 16, WRITTEN)), fast=fast)
    assert (run.exit_code, run.trap) == (NnErrno.INVALID_ARGUMENT, None), run.stderr
    assert run.host.calls[-1] == "get_output"
    assert "outside guest memory" in str(run.host.errors[-1][1])


def test_out_of_bounds_result_pointer_traps_before_the_call(
        caplog: pytest.LogCaptureFixture, fast: bool) -> None:
    with caplog.at_level(logging.INFO, logger="witxgen_host"):
        run = run_guest(exit_with(_call("load", ARR_OK, 2, 0, 0, 0xFFFF_FFFE)), fast=fast)
    assert run.exit_code == TRAP_EXIT_CODE
    assert run.trap is not None
    assert ("wasi_ephemeral_nn.load: result pointer graph_out_ptr=0xfffffffe (4 bytes) is "
            "outside guest memory (65536 bytes); the call cannot report an error") in run.trap
    assert run.host.calls == []  # the implementation was never called
    assert run.host.loads == []
    assert any("graph_out_ptr" in r.getMessage() for r in caplog.records)


def test_unexpected_exception_traps_and_the_host_lives_on(fast: bool) -> None:
    class Broken(FakeNn):
        def compute(self, context: GraphExecutionContext) -> None:
            self.calls.append("compute")
            raise ZeroDivisionError("division by zero\nsecond line")

    host = Broken()
    run = run_guest(exit_with(_call("compute", 5)), host=host, fast=fast)
    assert run.exit_code == TRAP_EXIT_CODE and run.trap is not None
    assert ("wasi_ephemeral_nn.compute: host implementation raised ZeroDivisionError: "
            "division by zero second line") in run.trap
    assert isinstance(host.last_error, tuple) and host.last_error[0] == "compute"
    assert isinstance(host.last_error[1], ZeroDivisionError)
    # the process goes on serving guests
    assert run_guest(scenario_guest(), fast=fast).exit_code == 0


def test_errno_success_raised_by_the_host_traps(fast: bool) -> None:
    class Confused(FakeNn):
        def compute(self, context: GraphExecutionContext) -> None:
            raise NnErrnoError(NnErrno.SUCCESS, "not an error")

    run = run_guest(exit_with(_call("compute", 5)), host=Confused(), fast=fast)
    assert run.exit_code == TRAP_EXIT_CODE and run.trap is not None
    assert "success code" in run.trap


def test_missing_memory_export_is_missing_memory(fast: bool) -> None:
    """Without a "memory" export a call that needs memory reports missing_memory (3);
    one that needs none still works. (No WASI here: proc_exit itself needs memory.)"""
    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, f"""(module {NN_IMPORTS}
      (func (export "init") (result i32) {_call("init_execution_context", 1, 0)})
      (func (export "compute") (result i32) {_call("compute", 5)}))""")
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    host = FakeNn()
    wasi_ephemeral_nn.add_to_linker(linker, lambda caller: host, fast=fast)
    store = wasmtime.Store(engine)
    exports = linker.instantiate(store, module).exports(store)
    init, compute = exports["init"], exports["compute"]
    assert isinstance(init, wasmtime.Func) and isinstance(compute, wasmtime.Func)
    assert init(store) == NnErrno.MISSING_MEMORY
    assert host.calls == []
    assert compute(store) == NnErrno.INVALID_ARGUMENT  # unknown context, from the host


def test_memory_growth_is_seen_by_the_next_call(fast: bool) -> None:
    page2 = 65536
    run = run_guest(exit_with(
        "(drop (memory.grow (i32.const 1)))",
        f"(i32.store {_c(page2 + 100)} (i32.const 0x31646461))",  # "add1"
        _call("load_by_name", page2 + 100, 4, page2 + 200)), fast=fast)
    assert (run.exit_code, run.trap) == (0, None), run.stderr
    assert run.host.names == [b"add1"]


def test_memory_growth_is_seen_through_a_kept_memory(fast: bool) -> None:
    """With the memory kept from instantiation (as `run_wasi` passes it), a call after
    memory.grow reads the new pages: the data address is reused only while the size holds."""
    page2 = 65536
    run = run_guest(exit_with(
        f"(i32.store {_c(100)} (i32.const 0x31646461))",  # "add1"
        f"(drop {_call('load_by_name', 100, 4, 200)})",
        "(drop (memory.grow (i32.const 1)))",
        f"(i32.store {_c(page2 + 100)} (i32.const 0x32646461))",  # "add2"
        _call("load_by_name", page2 + 100, 4, page2 + 200)), fast=fast, kept_memory=True)
    assert run.trap is None, run.stderr
    assert run.host.names == [b"add1", b"add2"]


def test_views_do_not_outlive_the_call(fast: bool) -> None:
    kept: list[memoryview] = []

    class Keeper(FakeNn):
        def set_input(self, context: GraphExecutionContext, index: int, tensor: Tensor) -> None:
            kept.append(tensor.data)

    run = run_guest(exit_with(_call("set_input", 100, 0, TENSOR)), host=Keeper(), fast=fast)
    assert run.exit_code == 0
    with pytest.raises(ValueError, match="released"):
        bytes(kept[0])


# ---- the two registrations: fast (C API) and generic (define_func) ----------------------

_ENGINE = wasmtime.Engine()
CALLS_WAT = f"""(module {NN_IMPORTS}
  (memory (export "memory") 1)
  (func (export "init") (result i32) {_call("init_execution_context", 1, 0)})
  (func (export "compute") (result i32) {_call("compute", 5)}))"""


def _exports(host: object, fast: bool | None, wat: str = CALLS_WAT, **options: object,
             ) -> tuple[wasmtime.Store, dict[str, wasmtime.Func]]:
    """An instance of `wat` with wasi-nn served by `host` (`get_impl` and `get_memory` can be
    overridden through `options`)."""
    linker = wasmtime.Linker(_ENGINE)
    linker.define_wasi()
    get_impl = options.pop("get_impl", lambda caller: host)
    wasi_ephemeral_nn.add_to_linker(linker, get_impl, fast=fast, **options)  # type: ignore
    store = wasmtime.Store(_ENGINE)
    exports = linker.instantiate(store, wasmtime.Module(_ENGINE, wat)).exports(store)
    funcs = {name: f for name in ("init", "compute") if isinstance(f := exports[name],
                                                                   wasmtime.Func)}
    return store, funcs


def test_fast_path_is_the_default_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    linker = wasmtime.Linker(_ENGINE)
    assert _guest.Imports(linker, "m", lambda _: None, None, None).fast == _guest.FAST_CALLS
    assert not _guest.Imports(linker, "m", lambda _: None, None, False).fast
    monkeypatch.setenv(_guest.FAST_CALLS_ENV, "0")
    assert not _guest.Imports(linker, "m", lambda _: None, None, None).fast
    with pytest.raises(TypeError, match="Linker"):
        _guest.Imports(object(), "m", lambda _: None, None, None)  # type: ignore[arg-type]


def test_without_the_fast_path_none_falls_back_and_true_raises(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_guest, "_FAST", None)
    monkeypatch.setattr(_guest, "FAST_CALLS", False)
    monkeypatch.setattr(_guest, "FAST_CALLS_UNAVAILABLE", "ImportError: no _bindings")
    with pytest.raises(RuntimeError, match="no _bindings"):
        wasi_ephemeral_nn.add_to_linker(wasmtime.Linker(_ENGINE), lambda _: FakeNn(), fast=True)
    run = run_guest(scenario_guest(), fast=None)
    assert (run.exit_code, run.stdout) == (0, "PASS\n"), run.stderr


def test_the_probe_accepts_this_wasmtime() -> None:
    """The pinned wasmtime-py has everything the fast path needs (else the probe says why)."""
    assert _guest.FAST_CALLS, _guest.FAST_CALLS_UNAVAILABLE


def test_the_probe_refuses_bindings_it_does_not_know(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wasmtime-py whose private bindings differ makes the probe fail (so `fast=None` falls
    back to define_func) instead of calling C with the wrong signature."""
    import ctypes

    bindings = importlib.import_module("wasmtime._bindings")
    monkeypatch.setattr(bindings, "wasmtime_func_unchecked_callback_t",
                        ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p))
    with pytest.raises(RuntimeError, match="2 parameters, expected 4"):
        _guest._FastCalls()
    monkeypatch.undo()
    monkeypatch.delattr(bindings, "wasmtime_val_raw_t")
    with pytest.raises(AttributeError):
        _guest._FastCalls()


def test_get_impl_gets_a_caller_valid_only_during_the_call(fast: bool) -> None:
    host = FakeNn()
    kept: list[wasmtime.Caller] = []
    sizes: list[int] = []

    def get_impl(caller: wasmtime.Caller) -> FakeNn:
        assert isinstance(caller, wasmtime.Caller)
        memory = caller.get("memory")
        assert isinstance(memory, wasmtime.Memory)
        sizes.append(memory.data_len(caller))
        kept.append(caller)
        return host

    store, funcs = _exports(host, fast, get_impl=get_impl)
    assert funcs["init"](store) == NnErrno.INVALID_ARGUMENT  # unknown graph 1
    assert funcs["compute"](store) == NnErrno.INVALID_ARGUMENT
    assert sizes == [65536, 65536] and host.calls == ["init_execution_context", "compute"]
    memory = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, None)))
    for caller in kept:
        assert caller.get("memory") is None
        with pytest.raises(ValueError):
            memory.data_len(caller)


def test_get_memory_serves_the_memory(fast: bool) -> None:
    seen: list[wasmtime.Caller] = []
    cache: list[object] = []

    def get_memory(caller: wasmtime.Caller) -> object:
        seen.append(caller)
        if not cache:
            cache.append(caller.get("memory"))
        return cache[0]

    store, funcs = _exports(FakeNn(), fast, get_memory=get_memory)
    assert funcs["init"](store) == NnErrno.INVALID_ARGUMENT  # reached the host
    assert funcs["init"](store) == NnErrno.INVALID_ARGUMENT
    assert len(seen) == 2
    store, funcs = _exports(FakeNn(), fast, get_memory=lambda caller: None)
    assert funcs["init"](store) == NnErrno.MISSING_MEMORY
    run = run_guest(scenario_guest(), fast=fast)  # and the default lookup, for comparison
    assert run.exit_code == 0


def test_a_trap_reaches_the_embedder_as_the_same_exception(fast: bool) -> None:
    class Broken(FakeNn):
        def compute(self, context: GraphExecutionContext) -> None:
            raise ZeroDivisionError("boom")

    store, funcs = _exports(Broken(), fast)
    with pytest.raises(wasmtime.Trap) as info:
        funcs["compute"](store)
    assert "wasi_ephemeral_nn.compute: host implementation raised ZeroDivisionError: boom" in (
        str(info.value))
    assert isinstance(info.value.__cause__, ZeroDivisionError)  # the same object as generic
    assert funcs["init"](store) == NnErrno.INVALID_ARGUMENT  # and the instance goes on


def test_base_exceptions_escape_to_the_embedder(fast: bool) -> None:
    """Not an `Exception`: the glue does not map it; it unwinds the guest and is re-raised
    where wasm was entered, as wasmtime-py does for any callback."""

    if not fast and "except BaseException" not in inspect.getsource(wasmtime_func):
        pytest.skip("this wasmtime-py's own trampoline lets a BaseException escape (it aborts)")

    class Stop(BaseException):
        pass

    class Stopping(FakeNn):
        def compute(self, context: GraphExecutionContext) -> None:
            raise Stop("stop")

    store, funcs = _exports(Stopping(), fast)
    with pytest.raises(Stop):
        funcs["compute"](store)
    assert funcs["init"](store) == NnErrno.INVALID_ARGUMENT


def test_failing_get_impl_traps(fast: bool) -> None:
    def get_impl(caller: wasmtime.Caller) -> FakeNn:
        raise LookupError("no host for this store")

    store, funcs = _exports(None, fast, get_impl=get_impl)
    with pytest.raises(wasmtime.Trap, match="host implementation raised LookupError"):
        funcs["compute"](store)


def test_defining_twice_is_an_error(fast: bool) -> None:
    linker = wasmtime.Linker(_ENGINE)
    wasi_ephemeral_nn.add_to_linker(linker, lambda _: FakeNn(), fast=fast)
    with pytest.raises(wasmtime.WasmtimeError):
        wasi_ephemeral_nn.add_to_linker(linker, lambda _: FakeNn(), fast=fast)


def test_fast_definitions_are_freed_with_the_linker_and_stores() -> None:
    """wasmtime's finalizer removes what the raw callback needs once nothing can call it.

    (A host that keeps the exceptions it is given keeps their tracebacks, whose frames
    reach the store that made the call: then neither is ever freed, on either path, since
    wasmtime-py's registry of callbacks is global too. This host keeps none.)"""
    require(_guest.FAST_CALLS, f"no fast host calls: {_guest.FAST_CALLS_UNAVAILABLE}")

    class Forgetful(FakeNn):
        def on_error(self, function: str, error: BaseException) -> None:
            pass

    fast_calls = _guest._FAST
    assert fast_calls is not None
    gc.collect()
    before = len(fast_calls.entries)
    store, funcs = _exports(Forgetful(), True)
    assert len(fast_calls.entries) == before + 6
    assert funcs["init"](store) == NnErrno.INVALID_ARGUMENT  # the linker is gone already
    del store, funcs
    gc.collect()
    assert len(fast_calls.entries) == before


# ---- every kind through the glue, in a subprocess (its own witxgen_host) -------------------

KINDS_WITX = """
(typename $errno (enum (@witx tag u16) $success $inval $missing_memory))
(typename $fl (flags (@witx repr u8) $a $b $c))
(typename $h (handle))
(typename $pair (record (field $x u32) (field $y s8)))
(typename $rec (record (field $p $pair) (field $f $fl) (field $ch char) (field $ok bool)))
(typename $var (variant (@witx tag u8) (case $none) (case $num u64) (case $pt $pair)))
(typename $res (expected u32 (error $errno)))
(typename $named (record (field $name string) (field $id u16)))
(module $kinds (import "memory" (memory))
  (@interface func (export "flags_in") (param $f $fl) (result $error (expected u32 (error $errno))))
  (@interface func (export "small") (param $a s8) (param $b u16)
    (result $error (expected s32 (error $errno))))
  (@interface func (export "words") (param $w (list u32))
    (result $error (expected u64 (error $errno))))
  (@interface func (export "chars") (param $s string) (param $c char)
    (result $error (expected (tuple $h u8) (error $errno))))
  (@interface func (export "make") (param $n u32) (result $error (expected $rec (error $errno))))
  (@interface func (export "pick") (param $n u32) (result $error (expected $var (error $errno))))
  (@interface func (export "poke") (param $p (@witx pointer $pair))
    (result $error (expected (error $errno))))
  (@interface func (export "direct") (param $x f32) (result $r f32))
  (@interface func (export "flip") (param $p (@witx pointer $res))
    (result $error (expected (error $errno))))
  (@interface func (export "named") (param $p (@witx const_pointer $named))
    (result $error (expected u16 (error $errno))))
)
"""

KINDS_SCRIPT = r'''
import struct, sys, wasmtime
from witxgen_host.kinds import *
from witxgen_host.types import VarTag
from witxgen_host import _guest

class Impl(Kinds):
    def flags_in(self, f): return int(f)
    def small(self, a, b): return a * 1000 + b
    def words(self, w): return sum(w) + (1 << 40)
    def chars(self, s, c): return (H(len(s)), ord(c) & 0xFF)
    def make(self, n):
        return Rec(Pair(n, -5), Fl.A | Fl.C, "é", True)
    def pick(self, n):
        return [Var(VarTag.NONE, None), Var(VarTag.NUM, 1 << 40), Var(VarTag.PT, Pair(7, -1))][n]
    def poke(self, p):
        old = p.read(); p.write(Pair(old.x + 1, -old.y))
    def direct(self, x): return x * 2.0
    def flip(self, p):
        v = p.read()
        p.write(_guest.Err(Errno.INVAL) if isinstance(v, _guest.Ok) else _guest.Ok(v.error + 10))
    def named(self, p):
        v = p.read()
        try:
            p.write(v)
        except TypeError as exc:
            assert "cannot be written" in str(exc)
        else:
            raise AssertionError("a record holding a string was written")
        return v.id_ + len(v.name)

engine = wasmtime.Engine()
wat = r"""(module
  (import "kinds" "flags_in" (func $flags_in (param i32 i32) (result i32)))
  (import "kinds" "small" (func $small (param i32 i32 i32) (result i32)))
  (import "kinds" "words" (func $words (param i32 i32 i32) (result i32)))
  (import "kinds" "chars" (func $chars (param i32 i32 i32 i32 i32) (result i32)))
  (import "kinds" "make" (func $make (param i32 i32) (result i32)))
  (import "kinds" "pick" (func $pick (param i32 i32) (result i32)))
  (import "kinds" "poke" (func $poke (param i32) (result i32)))
  (import "kinds" "direct" (func $direct (param f32) (result f32)))
  (import "kinds" "flip" (func $flip (param i32) (result i32)))
  (import "kinds" "named" (func $named (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "\01\00\00\00\02\00\00\00\03\00\00\00")
  (data (i32.const 200) "h\c3\a9\ff")
  (data (i32.const 300) "\05\00\00\00\fd")
  (data (i32.const 600) "\00\00\00\00\07\00\00\00")
  (data (i32.const 700) "\d0\02\00\00\03\00\00\00\2a\00\00\00")
  (data (i32.const 720) "abc")
  (func (export "flags_in") (param i32) (result i32) (call $flags_in (local.get 0) (i32.const 0)))
  (func (export "small") (param i32 i32) (result i32)
    (call $small (local.get 0) (local.get 1) (i32.const 0)))
  (func (export "words") (result i32) (call $words (i32.const 100) (i32.const 3) (i32.const 8)))
  (func (export "chars") (param i32 i32) (result i32)
    (call $chars (i32.const 200) (local.get 0) (local.get 1) (i32.const 16) (i32.const 20)))
  (func (export "make") (result i32) (call $make (i32.const 42) (i32.const 400)))
  (func (export "pick") (param i32) (result i32) (call $pick (local.get 0) (i32.const 500)))
  (func (export "poke") (result i32) (call $poke (i32.const 300)))
  (func (export "direct") (param f32) (result f32) (call $direct (local.get 0)))
  (func (export "flip") (result i32) (call $flip (i32.const 600)))
  (func (export "named") (result i32) (call $named (i32.const 700) (i32.const 32))))"""
linker = wasmtime.Linker(engine)
impl = Impl()
add_to_linker(linker, lambda caller: impl, fast=FAST)
assert _guest.FAST_CALLS or not FAST
store = wasmtime.Store(engine)
inst = linker.instantiate(store, wasmtime.Module(engine, wat))
ex = inst.exports(store)
mem = ex["memory"]
def rd(fmt, at): return struct.unpack_from(fmt, mem.read(store, at, at + struct.calcsize(fmt)))
out = {}
out["flags_ok"] = (ex["flags_in"](store, 5), rd("<I", 0)[0])
out["flags_bad"] = ex["flags_in"](store, 8)
out["small"] = (ex["small"](store, -3, 65535), rd("<i", 0)[0])
out["small_bad"] = (ex["small"](store, 200, 0), ex["small"](store, 0, 65536))
out["words"] = (ex["words"](store), rd("<Q", 8)[0])
out["chars"] = (ex["chars"](store, 3, 0x263A), rd("<I", 16)[0], rd("<B", 20)[0])
out["chars_bad_utf8"] = ex["chars"](store, 4, 65)
out["chars_surrogate"] = ex["chars"](store, 3, 0xD800)
out["make"] = (ex["make"](store), rd("<IbxxxBxxxI?", 400))
res = []
for n in range(3):
    code = ex["pick"](store, n)
    payload = rd("<Q", 508)[0] if n == 1 else rd("<Ib", 508)
    res.append((code, rd("<B", 500)[0], payload))
out["pick"] = res
out["poke"] = (ex["poke"](store), rd("<Ib", 300))
out["direct"] = ex["direct"](store, 1.5)
out["flip"] = [(ex["flip"](store), rd("<BxxxI", 600)) for _ in range(2)]
out["named"] = (ex["named"](store), rd("<H", 32)[0])
print(repr(out))
'''


@pytest.mark.slow
def test_every_kind_round_trips_through_the_glue(tmp_path: Path, fast: bool) -> None:
    doc = load_text(textwrap.dedent(KINDS_WITX), str(tmp_path / "kinds.witx"))
    pkg = _write(render_targets(doc, ["python-host"]), tmp_path)
    env = {**os.environ, "PYTHONPATH": str(pkg)}
    script = KINDS_SCRIPT.replace("fast=FAST", f"fast={fast}").replace("not FAST", f"not {fast}")
    proc = subprocess.run([sys.executable, "-c", script], cwd=pkg, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = eval(proc.stdout)  # noqa: S307 - our own repr of ints and tuples
    assert out["flags_ok"] == (0, 5)
    assert out["flags_bad"] == 1  # undefined flag bit -> inval
    assert out["small"] == (0, -3000 + 65535)
    assert out["small_bad"] == (1, 1)  # s8 200 and u16 65536 out of range
    assert out["words"] == (0, 6 + (1 << 40))
    assert out["chars"] == (0, 2, 0x3A)  # "hé" is 2 characters
    assert out["chars_bad_utf8"] == 1 and out["chars_surrogate"] == 1
    assert out["make"] == (0, (42, -5, 0b101, 0xE9, True))
    assert out["pick"] == [(0, 0, (0, 0)), (0, 1, 1 << 40), (0, 2, (7, -1))]
    assert out["poke"] == (0, (6, 3))
    assert out["direct"] == 3.0
    assert out["flip"] == [(0, (1, 1)), (0, (0, 11))]  # Ok(7) -> Err(inval) -> Ok(1 + 10)
    assert out["named"] == (0, 42 + 3)
    # and that output is as clean as the specs' own (the same code for both registrations)
    if not fast:
        _lint(pkg, tmp_path)
