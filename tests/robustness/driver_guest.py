"""A guest that Python drives: thin wasm exports around the wasi-nn imports, plus an in-guest
loop of whole load/init/set_input/compute/get_output cycles (what a long-running guest does).

The Python side writes the data (name, builders, dims, tensor record, input) into the guest's
memory and calls the exports; every wasi-nn call is a real call from wasm into the generated
glue. Handles live in slots at 0x10 (graph) and 0x14 (context); get_output's size goes to 0x18.

`cycles(mode, n, ...)` runs `n` cycles without stopping at errors and counts every outcome in a
histogram at 0x8000 (u32 per stage and errno: index stage * 16 + errno), so that a guest that
runs into a limit keeps going, as a real one would, and the counts say what it got. Modes:
0 reuse one context (set_input, compute, get_output), 1 a new context per cycle, 2 a new graph
(load_by_name) and context per cycle, 3 a new graph from model bytes (load) and context per
cycle.
"""

from __future__ import annotations

import ctypes
import struct
from collections import Counter
from dataclasses import dataclass
from typing import Any

import wasmtime
from common import PAGE, add_glue

G_SLOT, C_SLOT, OUT = 0x10, 0x14, 0x18
HIST = 0x8000
HIST_STAGES = 5
DATA = 0x9000  # where the Python side puts names, builders, tensors and inputs

WAT = """
(module
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "load_by_name" (func $load_by_name (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context" (func $init (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input" (func $set_input (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "get_output"
    (func $get_output (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
  (memory (export "memory") PAGES)
  (func (export "load_named") (param $p i32) (param $n i32) (result i32)
    (call $load_by_name (local.get $p) (local.get $n) (i32.const 0x10)))
  (func (export "load_bytes") (param $b i32) (param $n i32) (param $enc i32) (result i32)
    (call $load (local.get $b) (local.get $n) (local.get $enc) (i32.const 0) (i32.const 0x10)))
  (func (export "init") (result i32)
    (call $init (i32.load (i32.const 0x10)) (i32.const 0x14)))
  (func $infer (export "infer") (param $t i32) (param $o i32) (param $max i32) (result i32)
    (local $r i32)
    (local.set $r (call $set_input (i32.load (i32.const 0x14)) (i32.const 0) (local.get $t)))
    (if (local.get $r) (then (return (i32.add (i32.const 20) (local.get $r)))))
    (local.set $r (call $compute (i32.load (i32.const 0x14))))
    (if (local.get $r) (then (return (i32.add (i32.const 30) (local.get $r)))))
    (local.set $r (call $get_output (i32.load (i32.const 0x14)) (i32.const 0) (local.get $o)
                                    (local.get $max) (i32.const 0x18)))
    (if (local.get $r) (then (return (i32.add (i32.const 40) (local.get $r)))))
    (i32.const 0))
  (func $count (param $stage i32) (param $r i32)
    (local $a i32)
    (local.set $a (i32.add (i32.const 0x8000)
      (i32.shl (i32.add (i32.shl (local.get $stage) (i32.const 4)) (i32.and (local.get $r)
        (i32.const 15))) (i32.const 2))))
    (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1))))
  (func (export "cycles") (param $mode i32) (param $n i32) (param $name i32) (param $len i32)
    (param $b i32) (param $nb i32) (param $t i32) (param $o i32) (param $max i32)
    (local $r i32)
    (block $end
      (loop $next
        (br_if $end (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (block $cycle
          (if (i32.ge_u (local.get $mode) (i32.const 2)) (then
            (if (i32.eq (local.get $mode) (i32.const 2))
              (then (local.set $r (call $load_by_name (local.get $name) (local.get $len)
                                                      (i32.const 0x10))))
              (else (local.set $r (call $load (local.get $b) (local.get $nb) (i32.const 0)
                                              (i32.const 0) (i32.const 0x10)))))
            (call $count (i32.const 0) (local.get $r))
            (br_if $cycle (local.get $r))))
          (if (i32.ge_u (local.get $mode) (i32.const 1)) (then
            (local.set $r (call $init (i32.load (i32.const 0x10)) (i32.const 0x14)))
            (call $count (i32.const 1) (local.get $r))
            (br_if $cycle (local.get $r))))
          (local.set $r (call $set_input (i32.load (i32.const 0x14)) (i32.const 0)
                                         (local.get $t)))
          (call $count (i32.const 2) (local.get $r))
          (br_if $cycle (local.get $r))
          (local.set $r (call $compute (i32.load (i32.const 0x14))))
          (call $count (i32.const 3) (local.get $r))
          (br_if $cycle (local.get $r))
          (local.set $r (call $get_output (i32.load (i32.const 0x14)) (i32.const 0)
                                          (local.get $o) (local.get $max) (i32.const 0x18)))
          (call $count (i32.const 4) (local.get $r)))
        (br $next))))
)
"""

STAGES = ("load", "init", "set_input", "compute", "get_output")


@dataclass
class Layout:
    name: tuple[int, int]
    builders: tuple[int, int]  # (array pointer, count)
    tensor: int
    out: int
    out_max: int


class DriverGuest:
    """One store + instance of the driver guest, served by `nn` through the glue registration
    `fast` (see common.glue_variants)."""

    def __init__(self, nn: Any, *, fast: bool | None = None, pages: int = 4,
                 engine: wasmtime.Engine | None = None,
                 module: wasmtime.Module | None = None) -> None:
        self.engine = engine or wasmtime.Engine()
        self.module = module or compile_driver(self.engine, pages)
        self.store = wasmtime.Store(self.engine)
        linker = wasmtime.Linker(self.engine)
        add_glue(linker, nn, fast)
        self.instance = linker.instantiate(self.store, self.module)
        exports = self.instance.exports(self.store)
        memory = exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self.memory = memory
        self.exports = exports
        self._top = DATA

    def _func(self, name: str) -> wasmtime.Func:
        f = self.exports[name]
        assert isinstance(f, wasmtime.Func)
        return f

    def call(self, name: str, *args: int) -> int:
        result = self._func(name)(self.store, *args)
        assert isinstance(result, int)
        return result

    def base(self) -> int:
        return ctypes.addressof(self.memory.data_ptr(self.store).contents)

    def size(self) -> int:
        return self.memory.data_len(self.store)

    def write(self, ptr: int, data: bytes) -> None:
        assert ptr + len(data) <= self.size()
        ctypes.memmove(self.base() + ptr, data, len(data))

    def read(self, ptr: int, n: int) -> bytes:
        assert ptr + n <= self.size()
        return ctypes.string_at(self.base() + ptr, n)

    def u32(self, ptr: int) -> int:
        value: int = struct.unpack("<I", self.read(ptr, 4))[0]
        return value

    def put(self, data: bytes, align: int = 16) -> int:
        """Append `data` to the data area; returns its address (grows memory as needed)."""
        ptr = self._top
        end = ptr + len(data)
        if end > self.size():
            self.memory.grow(self.store, -(-(end - self.size()) // PAGE))
        self.write(ptr, data)
        self._top = (end + align - 1) // align * align
        return ptr

    def layout(self, *, name: str = "", builders: tuple[bytes, ...] = (),
               dims: tuple[int, ...] = (), ttype: int = 1, data: bytes = b"",
               out_max: int = 4096) -> Layout:
        """Place a model name, builders, one input tensor and an output buffer."""
        name_ptr = self.put(name.encode() or b"\0")
        rows = b""
        for b in builders:
            rows += struct.pack("<II", self.put(b), len(b))
        rows_ptr = self.put(rows or b"\0")
        dims_ptr = self.put(struct.pack(f"<{len(dims)}I", *dims) or b"\0")
        data_ptr = self.put(data or b"\0")
        record = struct.pack("<IIB3xII", dims_ptr, len(dims), ttype, data_ptr, len(data))
        tensor = self.put(record)
        out = self.put(b"\0" * out_max)
        return Layout((name_ptr, len(name.encode())), (rows_ptr, len(builders)), tensor, out,
                      out_max)

    def set_data(self, layout: Layout, data: bytes) -> None:
        """Replace the input bytes (same size) of `layout`'s tensor."""
        data_ptr, length = struct.unpack_from("<I", self.read(layout.tensor + 12, 4))[0], len(data)
        assert self.u32(layout.tensor + 16) == length
        self.write(data_ptr, data)

    def output(self, layout: Layout) -> bytes:
        return self.read(layout.out, self.u32(OUT))

    def cycles(self, mode: int, n: int, layout: Layout) -> None:
        self._func("cycles")(self.store, mode, n, *layout.name, *layout.builders, layout.tensor,
                             layout.out, layout.out_max)

    def histogram(self) -> Counter[str]:
        raw = self.read(HIST, HIST_STAGES * 16 * 4)
        counts: Counter[str] = Counter()
        for i, value in enumerate(struct.unpack(f"<{HIST_STAGES * 16}I", raw)):
            if value:
                counts[f"{STAGES[i // 16]}:{i % 16}"] = value
        return counts


#: (engine, pages) -> module; the engine is kept so that its id cannot be reused.
_MODULES: dict[tuple[int, int], tuple[wasmtime.Engine, wasmtime.Module]] = {}


def compile_driver(engine: wasmtime.Engine, pages: int = 4) -> wasmtime.Module:
    key = (id(engine), pages)
    cached = _MODULES.get(key)
    if cached is None or cached[0] is not engine:
        cached = (engine, wasmtime.Module(engine, WAT.replace("PAGES", str(pages))))
        _MODULES[key] = cached
    return cached[1]
