"""Assemble WASI command guests (WAT) that make a list of wasi-nn calls, then run them.

A guest is a straight line of calls. Each call's nn_errno is stored in a results table in guest
memory whatever it is (the guest never stops on an error), and at the end `_start` writes its whole
linear memory to stdout; `NnGuest.run` runs the guest with `witxgen_runtime.run_wasi` and returns an
`Outcome` holding that memory image, so a test can check every errno, every handle written through
a result pointer and every byte of an output buffer (and that the bytes around it are untouched).

    g = NnGuest()
    graph = g.load([xml, weights])                      # expects success
    ctx = g.init(graph)
    g.set_input(ctx, 0, g.tensor([2, 3], F32, data))
    g.compute(ctx, expect=INVALID_ARGUMENT)
    out = g.run()
    out.check()                                         # no trap, exit 0, every errno as expected

Memory layout: bytes 0..63 scratch (the dump's iovec), 64..1023 the results table (one u32 per
call, 0xFFFFFFFF until the call runs), data from 1024 up, `pages` pages of 64 KiB in all.
"""

from __future__ import annotations

import dataclasses
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import wasmtime
from witxgen_runtime import RunConfig, RunResult, run_wasi
from witxgen_runtime.nn import OpenVinoNn

PAGE = 65536
RESULTS = 64
DATA_START = 1024
MAX_CALLS = (DATA_START - RESULTS) // 4
UNSET = 0xFFFF_FFFF  # a results-table entry or result slot nothing wrote

# The wasi_ephemeral_nn imports: name -> number of i32 params (each returns an i32 errno).
NN_FUNCTIONS = {
    "load": 5,
    "load_by_name": 3,
    "init_execution_context": 2,
    "set_input": 3,
    "get_output": 5,
    "compute": 1,
}

# graph_encoding, execution_target and tensor_type tags (case order of spec/wasi-nn.witx).
OPENVINO, ONNX, TENSORFLOW, PYTORCH, TENSORFLOWLITE, AUTODETECT = range(6)
CPU, GPU, TPU = range(3)
F16, F32, F64, U8, I32, I64 = range(6)

ENGINE = wasmtime.Engine()


@dataclass(frozen=True)
class Slot:
    """A u32 in guest memory (a result out-pointer). As a call argument it stands for the value
    stored there when the call runs (so a handle written by one call feeds the next)."""

    addr: int


@dataclass(frozen=True)
class Call:
    index: int
    function: str
    expect: int | None  # None: any errno


@dataclass(frozen=True)
class Output:
    """A get_output call: its buffer, the buffer's declared size and the size result slot."""

    call: Call
    buf: int
    max_size: int
    size: Slot


Arg = int | Slot


@dataclass
class Outcome:
    result: RunResult
    memory: bytes  # the guest's memory at the end of _start; b"" if it never got there
    calls: list[Call]
    stderr: str = ""

    @property
    def nn(self) -> OpenVinoNn:
        assert self.result.nn is not None
        return self.result.nn

    def errno(self, call: Call) -> int:
        return self.u32(RESULTS + 4 * call.index)

    def u32(self, where: int | Slot) -> int:
        addr = where.addr if isinstance(where, Slot) else where
        value: int = struct.unpack_from("<I", self.memory, addr)[0]
        return value

    def read(self, addr: int, length: int) -> bytes:
        return self.memory[addr:addr + length]

    def output(self, out: Output) -> bytes:
        """The bytes get_output reported writing."""
        return self.read(out.buf, self.u32(out.size))

    def check(self) -> None:
        """The guest ran to the end and every call returned the errno it expected."""
        assert self.result.trap is None, f"guest trapped: {self.result.trap}"
        assert self.result.exit_code == 0, f"exit code {self.result.exit_code}: {self.stderr}"
        assert len(self.memory) >= DATA_START, "the guest did not dump its memory"
        wrong = [
            f"#{c.index} {c.function}: errno {self.errno(c)}, expected {c.expect}"
            for c in self.calls
            if c.expect is not None and self.errno(c) != c.expect
        ]
        errors = self.result.nn.errors if self.result.nn is not None else []
        recent = [f"{e.function}: {e.code}: {e.detail}" for e in errors]
        assert not wrong, "\n".join([*wrong, "host errors:", *recent])


def _i32(value: Arg) -> str:
    if isinstance(value, Slot):
        return f"(i32.load (i32.const {value.addr}))"
    return f"(i32.const {value & 0xFFFF_FFFF})"


def _wat_bytes(blob: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in blob)


_UNSET_RESULTS = _wat_bytes(b"\xff" * (DATA_START - RESULTS))


@dataclass
class NnGuest:
    pages: int = 4
    _data: list[tuple[int, bytes]] = field(default_factory=list)
    _code: list[str] = field(default_factory=list)
    _calls: list[Call] = field(default_factory=list)
    _next: int = DATA_START

    @property
    def calls(self) -> list[Call]:
        return list(self._calls)

    @property
    def end(self) -> int:
        """One past the last byte of guest memory."""
        return self.pages * PAGE

    # --- data -------------------------------------------------------------------------

    def place(self, blob: bytes, align: int = 8) -> int:
        """Put `blob` in a data segment; return its address."""
        addr = -(-self._next // align) * align
        if addr + len(blob) > self.end:
            raise ValueError(f"{len(blob)} bytes do not fit in {self.pages} pages")
        self._data.append((addr, bytes(blob)))
        self._next = addr + max(len(blob), 1)
        return addr

    def buffer(self, size: int, fill: int = 0xAA) -> int:
        return self.place(bytes([fill]) * size)

    def slot(self, initial: int = UNSET) -> Slot:
        return Slot(self.place(struct.pack("<I", initial), 4))

    def builders(self, blobs: Sequence[bytes]) -> int:
        """A graph_builder_array of `blobs`; its address (the count is len(blobs))."""
        rows = b"".join(struct.pack("<II", self.place(b), len(b)) for b in blobs)
        return self.place(rows, 4)

    def tensor(self, dims: Sequence[int], type_: int, data: bytes | tuple[int, int]) -> int:
        """A tensor record; `data` is the bytes or an explicit (address, length)."""
        dims_ptr = self.place(struct.pack(f"<{len(dims)}I", *dims), 4)
        data_ptr, data_len = data if isinstance(data, tuple) else (self.place(data), len(data))
        return self.tensor_at(dims_ptr, len(dims), type_, data_ptr, data_len)

    def tensor_at(self, dims_ptr: int, dims_len: int, type_: int, data_ptr: int,
                  data_len: int) -> int:
        """A tensor record with every field given (pointers may be anything)."""
        return self.place(struct.pack("<IIB3xII", dims_ptr, dims_len, type_ & 0xFF, data_ptr,
                                      data_len), 4)

    # --- code ---------------------------------------------------------------------------

    def call(self, function: str, *args: Arg, expect: int | None = 0) -> Call:
        """Call `function` with raw i32 arguments and record its errno."""
        if len(args) != NN_FUNCTIONS[function]:
            raise TypeError(f"{function} takes {NN_FUNCTIONS[function]} arguments")
        if len(self._calls) == MAX_CALLS:
            raise ValueError("too many calls for the results table")
        call = Call(len(self._calls), function, expect)
        self._calls.append(call)
        operands = " ".join(_i32(a) for a in args)
        self._code.append(
            f"(i32.store (i32.const {RESULTS + 4 * call.index}) (call ${function} {operands}))"
        )
        return call

    def expect_last(self, errno: int | None) -> Call:
        """Change what the latest call is expected to return."""
        call = dataclasses.replace(self._calls[-1], expect=errno)
        self._calls[-1] = call
        return call

    def emit(self, instruction: str) -> None:
        """Raw WAT (folded instructions) at this point of `_start`."""
        self._code.append(instruction)

    def overwrite(self, addr: int, blob: bytes) -> None:
        """At this point of `_start`, copy `blob` over guest memory at `addr`."""
        source = self.place(blob)
        self.emit(f"(memory.copy (i32.const {addr}) (i32.const {source}) (i32.const {len(blob)}))")

    # --- wasi-nn calls, with their operands laid out --------------------------------------

    def load(self, blobs: Sequence[bytes], encoding: int = OPENVINO, target: int = CPU, *,
             expect: int | None = 0) -> Slot:
        graph = self.slot()
        self.call("load", self.builders(blobs), len(blobs), encoding, target, graph.addr,
                  expect=expect)
        return graph

    def load_by_name(self, name: str | bytes, *, expect: int | None = 0) -> Slot:
        raw = name.encode() if isinstance(name, str) else name
        graph = self.slot()
        self.call("load_by_name", self.place(raw, 1), len(raw), graph.addr, expect=expect)
        return graph

    def init(self, graph: Arg, *, expect: int | None = 0) -> Slot:
        ctx = self.slot()
        self.call("init_execution_context", graph, ctx.addr, expect=expect)
        return ctx

    def set_input(self, ctx: Arg, index: int, tensor: int, *,
                  expect: int | None = 0) -> Call:
        return self.call("set_input", ctx, index, tensor, expect=expect)

    def compute(self, ctx: Arg, *, expect: int | None = 0) -> Call:
        return self.call("compute", ctx, expect=expect)

    def get_output(self, ctx: Arg, index: int, max_size: int, *, buf: int | None = None,
                   expect: int | None = 0) -> Output:
        """get_output into a fresh buffer of `max_size` bytes of 0xAA (or at `buf`)."""
        if buf is None:
            buf = self.buffer(max_size)
        size = self.slot()
        call = self.call("get_output", ctx, index, buf, max_size, size.addr, expect=expect)
        return Output(call, buf, max_size, size)

    # --- assembling and running -----------------------------------------------------------

    def wat(self) -> str:
        imports = "\n".join(
            f'  (import "wasi_ephemeral_nn" "{name}" (func ${name} '
            f"(param{' i32' * n}) (result i32)))"
            for name, n in NN_FUNCTIONS.items()
        )
        data = "\n".join(f'  (data (i32.const {a}) "{_wat_bytes(b)}")' for a, b in self._data)
        body = "\n    ".join(self._code)
        return f"""(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
{imports}
  (memory (export "memory") {self.pages})
  (data (i32.const {RESULTS}) "{_UNSET_RESULTS}")
{data}
  (func $dump (local $p i32) (local $n i32)
    (local.set $n (i32.mul (memory.size) (i32.const {PAGE})))
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
      (i32.store (i32.const 0) (local.get $p))
      (i32.store (i32.const 4) (i32.sub (local.get $n) (local.get $p)))
      (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
        (then unreachable))
      (local.set $p (i32.add (local.get $p) (i32.load (i32.const 8))))
      (br $more))))
  (func (export "_start")
    {body}
    (call $dump))
)
"""

    def wasm(self) -> bytes:
        return bytes(wasmtime.wat2wasm(self.wat()))

    def run(self, config: RunConfig | None = None) -> Outcome:
        """Run under run_wasi (stdout captured; the module cache off)."""
        with tempfile.TemporaryDirectory(prefix="witxgen-nn-guest-") as tmp:
            stdout, stderr = Path(tmp) / "stdout", Path(tmp) / "stderr"
            config = dataclasses.replace(config or RunConfig(), stdout=str(stdout),
                                         stderr=str(stderr), cache_dir=None)
            result = run_wasi(self.wasm(), config, engine=ENGINE)
            memory = stdout.read_bytes() if stdout.exists() else b""
            err = stderr.read_text("utf-8", "replace") if stderr.exists() else ""
        if len(memory) != self.end:
            memory = b""  # trapped before or during the dump
        return Outcome(result, memory, list(self._calls), err)
