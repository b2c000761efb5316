"""What one wasi-nn host call costs through the generated `witxgen_host` glue.

A WAT guest (compiled in-process by wasmtime-py) loops N times over one import; the time of
the loop divided by N is the cost of one call, guest loop included. Reported, as the median
of several rounds (and the spread), per call:

* `empty define_func`: an import registered with wasmtime-py's `Linker.define_func`
  (access_caller=True, as the generic glue uses) whose Python body only returns 0: the
  floor of the generic path, all of it wasmtime-py's trampoline;
* `empty fast`: the same empty body through `_guest.Imports(fast=True)`: the floor of the
  fast path (raw C callback, `wasmtime.Caller` built per call);
* `compute` (no guest memory, trivial body) and `get_output` (a 16-byte write through a
  `GuestPtr`, result out-pointer) through the generated glue, generic (`fast=False`) and
  fast (`fast=True`);
* `set_input` and the whole `set_input + compute + get_output` iteration as well;
* the fast path again with a `get_memory` that caches the memory (one instance per store,
  as `witxgen run` has) instead of looking the export up on every call.

Ratios compare the paths inside one run (the machine is noisy: DESIGN.md §7). Nothing is
asserted. `python benchmarks/bench_hostcall.py [--calls N] [--rounds R]`.

`measure(impl, ...)` takes any `WasiEphemeralNn` implementation (and optionally a model
name for `load_by_name` plus the input tensor), so the comparison against the wasmtime CLI
running the same guest with OpenVINO can reuse it; `GUEST_WAT` is that guest.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import struct
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "generated" / "python-host"))  # run from a checkout, too

import wasmtime  # noqa: E402
from witxgen_host import _guest  # noqa: E402
from witxgen_host.wasi_ephemeral_nn import (  # noqa: E402
    BufferSize,
    ExecutionTarget,
    Graph,
    GraphBuilderArray,
    GraphEncoding,
    GraphExecutionContext,
    GuestPtr,
    NnErrno,
    NnErrnoError,
    Tensor,
    TensorType,
    WasiEphemeralNn,
    add_to_linker,
)

# Guest memory layout (fixed addresses; the data of the input tensor starts at DATA and the
# memory grows to hold it).
TENSOR, DIMS, NAME, WRITTEN, OUT = 64, 128, 256, 512, 4096
NAME_MAX, DIMS_MAX, DATA = 256, 64, 65536

GUEST_WAT = f"""(module
  (import "wasi_ephemeral_nn" "load_by_name"
    (func $load_by_name (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context"
    (func $init_execution_context (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input" (func $set_input (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "get_output"
    (func $get_output (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
  (import "bench" "empty" (func $empty (param i32) (result i32)))
  (memory (export "memory") 2)
  ;; load_by_name(NAME, len) then init_execution_context: the context, or -errno
  (func (export "open") (param $len i32) (result i32) (local $e i32)
    (local.set $e (call $load_by_name (i32.const {NAME}) (local.get $len) (i32.const {WRITTEN})))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (local.set $e (call $init_execution_context (i32.load (i32.const {WRITTEN}))
                                                (i32.const {WRITTEN})))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (i32.load (i32.const {WRITTEN})))
  ;; each loop returns the OR of every errno it saw (0: all calls succeeded)
  (func (export "empty") (param $n i32) (result i32) (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (i32.or (local.get $e) (call $empty (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e))
  (func (export "compute") (param $ctx i32) (param $n i32) (result i32) (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (i32.or (local.get $e) (call $compute (local.get $ctx))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e))
  (func (export "set_input") (param $ctx i32) (param $n i32) (result i32) (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (i32.or (local.get $e)
        (call $set_input (local.get $ctx) (i32.const 0) (i32.const {TENSOR}))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e))
  (func (export "get_output") (param $ctx i32) (param $n i32) (param $size i32) (result i32)
    (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (i32.or (local.get $e) (call $get_output (local.get $ctx) (i32.const 0)
        (i32.const {OUT}) (local.get $size) (i32.const {WRITTEN}))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e))
  (func (export "infer") (param $ctx i32) (param $n i32) (param $size i32) (result i32)
    (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (i32.or (local.get $e)
        (call $set_input (local.get $ctx) (i32.const 0) (i32.const {TENSOR}))))
      (local.set $e (i32.or (local.get $e) (call $compute (local.get $ctx))))
      (local.set $e (i32.or (local.get $e) (call $get_output (local.get $ctx) (i32.const 0)
        (i32.const {OUT}) (local.get $size) (i32.const {WRITTEN}))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e)))
"""

OPS = ("empty", "compute", "get_output", "set_input", "infer")


@dataclass(frozen=True)
class InputTensor:
    """The tensor the guest passes to `set_input` (written into guest memory first)."""

    dims: Sequence[int] = (1, 4)
    type: TensorType = TensorType.F32
    data: bytes = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)


class TrivialNn(WasiEphemeralNn):
    """Does no work: any context is valid, `compute` does nothing, `get_output` writes
    `out_size` fixed bytes. `set_input` keeps a copy of the data (as a host must)."""

    def __init__(self, out_size: int = 16) -> None:
        self.output = bytes(range(out_size))
        self.input = b""

    def load(self, builder: GraphBuilderArray, encoding: GraphEncoding,
             target: ExecutionTarget) -> Graph:
        raise NnErrnoError(NnErrno.UNSUPPORTED_OPERATION, "benchmark host")

    def load_by_name(self, name: str) -> Graph:
        return Graph(1)

    def init_execution_context(self, graph: Graph) -> GraphExecutionContext:
        return GraphExecutionContext(1)

    def set_input(self, context: GraphExecutionContext, index: int, tensor: Tensor) -> None:
        self.input = bytes(tensor.data)

    def compute(self, context: GraphExecutionContext) -> None:
        pass

    def get_output(self, context: GraphExecutionContext, index: int,
                   out_buffer: GuestPtr[int], out_buffer_max_size: BufferSize) -> BufferSize:
        out_buffer.write_bytes(self.output)
        return BufferSize(len(self.output))


_ENGINE = wasmtime.Engine()
_MODULE: wasmtime.Module | None = None


def guest_module(engine: wasmtime.Engine | None = None) -> wasmtime.Module:
    """`GUEST_WAT` compiled (once per process for the default engine)."""
    global _MODULE
    if engine is not None and engine is not _ENGINE:
        return wasmtime.Module(engine, GUEST_WAT)
    if _MODULE is None:
        _MODULE = wasmtime.Module(_ENGINE, GUEST_WAT)
    return _MODULE


def _empty_body(get_impl: object, open_guest: object, caller: wasmtime.Caller, n: int) -> int:
    return 0


def _timed(run: Callable[[int], object], calls: int, rounds: int) -> list[float]:
    """Seconds per call of `rounds` runs of `calls` calls each (after one warm-up run)."""
    run(min(calls, 1000))
    times = []
    for _ in range(rounds):
        start = time.process_time()
        errors = run(calls)
        times.append((time.process_time() - start) / calls)
        if errors:
            raise RuntimeError(f"the guest saw error code(s) {errors!r}")
    return times


def measure(impl: WasiEphemeralNn, *, fast: bool | None, ops: Sequence[str] = OPS,
            calls: int = 20_000, rounds: int = 7, model: str = "bench",
            tensor: InputTensor | None = None, out_size: int = 16,
            empty: str = "fast", engine: wasmtime.Engine | None = None,
            cache_memory: bool = False) -> dict[str, list[float]]:
    """Seconds per call of each op in `ops`, one entry per round.

    The guest opens a context with `load_by_name(model)` + `init_execution_context` (so
    `impl` must serve `model`), writes `tensor` into its memory and loops over `ops`:
    "compute", "set_input", "get_output" (buffer of `out_size` bytes), "infer" (all three per
    iteration) and "empty" (an import with an empty body, registered as `empty`: "fast"
    through `_guest.Imports`, "define_func" through wasmtime-py's `define_func`).
    `cache_memory` passes a `get_memory` that keeps the memory found by the first call (right
    when each store has one instance, as under `witxgen run`), instead of the default
    lookup of the "memory" export on every call.
    """
    tensor = tensor or InputTensor()
    engine = engine or _ENGINE
    linker = wasmtime.Linker(engine)
    found: list[object] = []

    def get_memory(caller: wasmtime.Caller) -> object:
        if not found:
            found.append(caller.get("memory"))
        return found[0]

    add_to_linker(linker, lambda _: impl, fast=fast, get_memory=get_memory if cache_memory
                  else None)
    i32 = wasmtime.ValType.i32()
    empty_type = wasmtime.FuncType([i32], [i32])
    if empty == "define_func":
        linker.define_func("bench", "empty", empty_type, lambda caller, n: 0,
                           access_caller=True)
    else:
        host = _guest.Imports(linker, "bench", lambda _: None, None, empty == "fast")
        host.define("empty", empty_type, _empty_body)
    store = wasmtime.Store(engine)
    exports = linker.instantiate(store, guest_module(engine)).exports(store)
    memory = exports["memory"]
    assert isinstance(memory, wasmtime.Memory)
    name = model.encode()
    if len(name) > NAME_MAX or len(tensor.dims) * 4 > DIMS_MAX:
        raise ValueError("model name or tensor rank too large for the guest layout")
    need = DATA + len(tensor.data) + 0xFFFF
    if need // 65536 > memory.size(store):
        memory.grow(store, need // 65536 - memory.size(store))
    if out_size > DATA - OUT:
        raise ValueError(f"out_size above {DATA - OUT} bytes")
    memory.write(store, name, NAME)
    memory.write(store, struct.pack(f"<{len(tensor.dims)}I", *tensor.dims), DIMS)
    memory.write(store, tensor.data, DATA)
    memory.write(store, struct.pack("<IIB3xII", DIMS, len(tensor.dims), int(tensor.type),
                                    DATA, len(tensor.data)), TENSOR)

    def export(op: str) -> wasmtime.Func:
        func = exports[op]
        assert isinstance(func, wasmtime.Func)
        return func

    context = export("open")(store, len(name))
    if context < 0:
        raise RuntimeError(f"opening model {model!r} failed with error code {-context}")
    runs: dict[str, Callable[[int], object]] = {
        "empty": lambda n: export("empty")(store, n),
        "compute": lambda n: export("compute")(store, context, n),
        "set_input": lambda n: export("set_input")(store, context, n),
        "get_output": lambda n: export("get_output")(store, context, n, out_size),
        "infer": lambda n: export("infer")(store, context, n, out_size),
    }
    return {op: _timed(runs[op], calls, rounds) for op in ops}


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:7.2f} µs"


def _row(label: str, times: list[float]) -> str:
    med = statistics.median(times)
    spread = f"min {_us(min(times)).strip()}, max {_us(max(times)).strip()}"
    return f"  {label:<40} {_us(med)}  ({spread})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"wasmtime-py {importlib.metadata.version('wasmtime')}; "
          f"fast path available: {_guest.FAST_CALLS} {_guest.FAST_CALLS_UNAVAILABLE}")
    print(f"median of {args.rounds} rounds × {args.calls} calls, CPU time per call (guest loop "
          "included)")
    # interleave the configurations round by round so drift on a noisy machine hits all
    configs = {"generic": (False, False)}
    if _guest.FAST_CALLS:
        configs.update({"fast": (True, False), "fast, cached get_memory": (True, True)})
    results: dict[tuple[str, str], list[float]] = {}
    empties = ("define_func", "fast") if _guest.FAST_CALLS else ("define_func",)
    for _ in range(args.rounds):
        for empty in empties:
            out = measure(TrivialNn(), fast=False, ops=("empty",), calls=args.calls, rounds=1,
                          empty=empty)
            results.setdefault(("empty", empty), []).extend(out["empty"])
        for label, (fast, cache) in configs.items():
            out = measure(TrivialNn(), fast=fast, ops=OPS[1:], calls=args.calls, rounds=1,
                          cache_memory=cache)
            for op, times in out.items():
                results.setdefault((op, label), []).extend(times)
    med = {key: statistics.median(times) for key, times in results.items()}
    print("empty import body:")
    for empty in empties:
        print(_row(f"empty {empty}", results[("empty", empty)]))
    for op in OPS[1:]:
        print(f"{op}:" if op != "infer" else "set_input + compute + get_output:")
        for label in configs:
            print(_row(f"generated glue, {label}", results[(op, label)]))
    print("ratios:")
    base = med[("empty", "define_func")]
    for op in OPS[1:]:
        line = f"  {op:<11} generic/empty define_func {med[(op, 'generic')] / base:5.2f}"
        if "fast" in configs:
            cached = med[(op, "fast, cached get_memory")]
            line += (f"   fast/empty define_func {med[(op, 'fast')] / base:5.2f}"
                     f"   generic/fast {med[(op, 'generic')] / med[(op, 'fast')]:5.1f}×"
                     f"   generic/fast-cached {med[(op, 'generic')] / cached:5.1f}×")
        print(line)
    if "fast" in configs:
        print(f"  empty       define_func/fast {base / med[('empty', 'fast')]:5.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
