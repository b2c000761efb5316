"""Host fuzz: every wasi-nn import of our runtime, driven with generated argument vectors.

Two drivers share one vector generator and one checker:

* guest: a WAT guest loops over thousands of calls. It asks the host for each vector through an
  imported `fuzz.next` (function, arguments, pages to grow), grows its memory with `memory.grow`
  when told to, calls `fuzz.pre` (the host writes the vector's data into memory and snapshots it),
  makes the wasi-nn call, and hands the errno to `fuzz.post` (the host checks it). A trap unwinds
  the guest; the driver checks it and enters the guest again.
* glue: the host functions the generated glue defines on a Linker, called from Python
  (`Linker.get(...)(store, ...)`) on a standalone Memory, grown with `Memory.grow`.

Both run once per registration of the glue (`add_to_linker(..., fast=False/True)` when it has
the parameter). Vectors: pointers and lengths inside, at, just past and far past the end of
memory, lengths whose arithmetic overflows 32 bits (counts times element sizes that wrap to 0),
dims whose product overflows, live, stale (dropped by the embedder) and never-issued handles,
out-of-range enum tags, invalid UTF-8, builder arrays with thousands of entries, model bytes
valid, truncated or garbage, and memory grown between calls.

Checked on every call:
* the call returns an nn_errno value (0..8) or raises `wasmtime.Trap` with a one-line message;
  nothing else escapes (any other exception is "unclean");
* no byte of guest memory outside the call's output region changes (the result out-pointer's 4
  bytes on success, plus the first bytes_written bytes of get_output's buffer); on an error no
  byte changes at all;
* the outcome matches DESIGN.md §5 where it is determined by the arguments (the oracle): a trap
  exactly when the result out-pointer is out of bounds, invalid_argument for any out-of-bounds
  argument region or out-of-range tag, and the backend's codes for the rest (mismatches are
  listed, not fatal to the process);
* no call takes longer than HANG_SECONDS.

`python tests/robustness/host_fuzz.py --driver guest|glue --count N --seed S --out FILE` runs one
campaign and writes its statistics as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import wasmtime  # noqa: E402
from common import (  # noqa: E402
    BUSY,
    DIGITS_OUT_BYTES,
    INVALID_ARGUMENT,
    INVALID_ENCODING,
    MISSING_MEMORY,
    NOT_FOUND,
    PAGE,
    RUNTIME_ERROR,
    SUCCESS,
    TFLITE_ADD,
    TOO_LARGE,
    UNSUPPORTED_OPERATION,
    add_glue,
    digits_inputs,
    digits_ir,
    digits_named_dir,
    digits_onnx,
    glue_name,
    glue_variants,
    i32,
)
from witxgen_runtime import Limits, OpenVinoNn  # noqa: E402

FUNCTIONS = ("load", "load_by_name", "init_execution_context", "set_input", "get_output",
             "compute")
FN_WEIGHTS = (14, 12, 14, 26, 20, 14)
MAX_PAGES = 24
HANG_SECONDS = 10.0
#: Limits small enough that the fuzz reaches them.
FUZZ_LIMITS = dict(max_graphs=12, max_contexts=24)
#: Builders each encoding takes (spec enum order: openvino, onnx, tensorflow, pytorch,
#: tensorflowlite, autodetect).
WANT_BUILDERS = {0: 2, 1: 1, 4: 1}
GARBAGE_TAGS = (6, 7, 255, 0x8000_0000, 0xFFFF_FFFF)
ERRNO_MAX = 8


@dataclass
class Vector:
    """One call: its arguments (u32), the data to write first, the pages to grow first."""

    fn: str
    args: tuple[int, ...]
    writes: list[tuple[int, bytes]] = field(default_factory=list)
    grow: int = 0
    out: int | None = None  # the result out-pointer
    buf: tuple[int, int] | None = None  # get_output's (buffer, max size)
    expect: frozenset[int] | str | None = None  # "trap", the errnos allowed, or None: any
    kind: str = ""
    size: int = 0  # memory size at the call (after the grow)
    model: str = ""  # load: "digits" when the bytes are the digits model (IR or ONNX)

    def describe(self) -> dict[str, Any]:
        return {
            "fn": self.fn, "args": [hex(a) for a in self.args], "grow": self.grow,
            "memory": self.size, "kind": self.kind,
            "expect": sorted(self.expect) if isinstance(self.expect, frozenset) else self.expect,
            "writes": [(hex(p), len(d), d[:48].hex()) for p, d in self.writes],
        }


@dataclass
class CtxState:
    digits: bool  # a context of the digits model (others: the oracle judges less)
    input_set: bool = False
    computed: bool = False


class Generator:
    """Argument vectors, with the handles a well-behaved guest would hold tracked alongside so
    that some calls go deep into the backend."""

    def __init__(self, rng: random.Random, limits: Limits, valid_load: float = 0.03) -> None:
        self.rng = rng
        self.limits = limits
        self.valid_load = valid_load
        self.graphs: dict[int, bool] = {}  # live graph -> is the digits model
        self.contexts: dict[int, CtxState] = {}
        self.stale_graphs: list[int] = []
        self.stale_contexts: list[int] = []
        self.taken: list[tuple[int, int]] = []  # regions placed in the current vector
        self.max_graph = 0
        self.max_context = 0
        xml, weights = digits_ir()
        self.xml, self.weights, self.onnx = xml, weights, digits_onnx()
        self.input = digits_inputs(4, seed=rng.randrange(1 << 30))

    # --- regions ---

    def place(self, length: int, size: int, good: float = 0.8, align: int = 4
              ) -> tuple[int, bool, str]:
        """A pointer for a region of `length` bytes in a memory of `size`; in bounds with
        probability about `good`. Returns (ptr, in bounds, how)."""
        rng = self.rng
        if length <= size and rng.random() < good:
            if rng.random() < 0.15:
                ptr, how = size - length, "end"
                self.taken.append((ptr, length))
            else:
                ptr, how = self.free_spot(length, size, align) or 0, "in"
        else:
            how = rng.choice(("past1", "past1", "at_end", "far", "far", "wrap", "max"))
            if how == "past1":
                ptr = size - length + 1 if length <= size else size
            elif how == "at_end":
                ptr = size
            elif how == "far":
                ptr = rng.choice((size + PAGE * rng.randint(1, 64), 0x8000_0000,
                                  rng.randrange(size, 1 << 32)))
            elif how == "wrap":  # ptr + length wraps past 2**32 to a small number
                ptr = (1 << 32) - rng.randint(1, 64)
            else:
                ptr = 0xFFFF_FFFF
            ptr &= 0xFFFF_FFFF
        return ptr, ptr + length <= size, how

    def free_spot(self, length: int, size: int, align: int = 4) -> int | None:
        """An aligned in-bounds spot for `length` bytes, clear of the vector's other regions
        when one is found in a few tries."""
        if length > size:
            return None
        ptr = 0
        for _ in range(12):
            ptr = self.rng.randint(0, (size - length) // align) * align
            if not any(_overlap(ptr, length, p, n) for p, n in self.taken):
                break
        self.taken.append((ptr, length))
        return ptr

    def out_ptr(self, size: int) -> tuple[int, bool]:
        ptr, ok, _ = self.place(4, size, good=0.85)
        return ptr, ok

    def graph_handle(self) -> int:
        rng = self.rng
        r = rng.random()
        if self.graphs and r < 0.6:
            return rng.choice(sorted(self.graphs))
        if self.stale_graphs and r < 0.72:
            return rng.choice(self.stale_graphs)
        if self.contexts and r < 0.77:
            return rng.choice(sorted(self.contexts))  # a context handle as a graph
        return rng.choice((0, self.max_graph + 1, self.max_graph + rng.randint(2, 1000),
                           0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF))

    def context_handle(self, want: str = "") -> int:
        rng = self.rng
        r = rng.random()
        live = sorted(self.contexts)
        if want and live:
            pick = [c for c in live if (want == "input" and self.contexts[c].input_set)
                    or (want == "computed" and self.contexts[c].computed)]
            if pick and r < 0.85:
                return rng.choice(pick)
        if live and r < 0.7:
            return rng.choice(live)
        if self.stale_contexts and r < 0.8:
            return rng.choice(self.stale_contexts)
        if self.graphs and r < 0.84:
            return rng.choice(sorted(self.graphs))  # a graph handle as a context
        return rng.choice((0, self.max_context + 1, self.max_context + rng.randint(2, 1000),
                           0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF))

    def tag(self, valid: tuple[int, ...], weights: tuple[int, ...] | None = None,
            bad: float = 0.12) -> int:
        if self.rng.random() < bad:
            return self.rng.choice(GARBAGE_TAGS)
        return self.rng.choices(valid, weights)[0]

    def count(self, usual: int) -> int:
        rng = self.rng
        r = rng.random()
        if r < 0.75:
            return usual
        return rng.choice((0, usual + 1, max(usual - 1, 0), 3, 1000, 0x1000_0000, 0x2000_0000,
                           0x4000_0000, 0x8000_0000, 0xFFFF_FFFF))

    def garbage(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    # --- vectors ---

    def next(self, size: int, live_graphs: int, live_contexts: int) -> Vector:
        rng = self.rng
        grow = 0
        if rng.random() < 0.03:
            grow = rng.randint(1, 2)
            if size // PAGE + grow <= MAX_PAGES:
                size += grow * PAGE
        fn = rng.choices(FUNCTIONS, FN_WEIGHTS)[0]
        self.taken = []
        vec: Vector = getattr(self, "_" + fn)(size, live_graphs, live_contexts)
        vec.grow = grow
        vec.size = size
        writes = vec.writes
        if any(_overlap(p, len(d), q, len(e)) for i, (p, d) in enumerate(writes)
               for q, e in writes[i + 1:]):
            vec.expect = None  # what the host reads is not what the oracle assumed
        return vec

    def _model_content(self, encoding: int) -> tuple[bytes, bool]:
        """Bytes for one builder; True when they are exactly a valid model for `encoding`."""
        rng = self.rng
        choice = rng.randrange(10)
        if choice == 0:
            return b"", False
        if choice == 1:
            return self.garbage(rng.randint(1, 600)), False
        if choice == 2:
            return self.xml[: rng.randrange(len(self.xml))], False
        if choice == 3:
            return self.weights[: rng.randrange(len(self.weights))], False
        if choice == 4:
            return self.onnx[: rng.randrange(len(self.onnx))], False
        if choice == 5:
            return TFLITE_ADD[: rng.randrange(len(TFLITE_ADD))], False
        if choice == 6:
            data = bytearray(self.xml)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            return bytes(data), False
        return rng.choice(((self.xml, False), (self.weights, False), (self.onnx, encoding == 1),
                           (TFLITE_ADD, encoding == 4)))

    def _load(self, size: int, live_graphs: int, _live_contexts: int) -> Vector:
        rng = self.rng
        vec = Vector("load", ())
        writes = vec.writes
        valid_path = rng.random() < self.valid_load
        encoding = self.tag((0, 1, 2, 3, 4, 5), (40, 15, 5, 5, 10, 25), bad=0 if valid_path
                            else 0.12)
        target = 0 if valid_path else self.tag((0, 1, 2), (88, 6, 6), bad=0.05)
        want = WANT_BUILDERS.get(encoding, 2 if encoding == 5 else 1)
        count = want if valid_path else self.count(want)
        if count > 16 and count <= 20000 and rng.random() < 0.5:
            count = rng.randint(17, 20000)  # thousands of entries that fit in memory
        arr_ptr, arr_ok, how = self.place(count * 8, size, good=1.0 if valid_path else 0.8)
        entries_ok = True
        contents_valid = True
        contents: list[bytes] = []
        if arr_ok and count <= 16:
            rows = b""
            for i in range(count):
                if valid_path or rng.random() < 0.5:
                    if encoding in (0, 5) and count == 2:
                        data, valid = (self.xml, True) if i == 0 else (self.weights, True)
                    elif encoding in (1, 4):
                        data, valid = (self.onnx if encoding == 1 else TFLITE_ADD), True
                    else:
                        data, valid = self._model_content(encoding)
                else:
                    data, valid = self._model_content(encoding)
                contents_valid &= valid
                contents.append(data)
                if valid_path or rng.random() < 0.9:
                    spot = self.free_spot(len(data), size)
                    if spot is None:
                        ptr, ok = 0xFFFF_FFF0, False
                    else:
                        ptr, ok = spot, True
                        writes.append((ptr, data))
                    length = len(data)
                else:
                    ptr, ok, _ = self.place(len(data) or 1, size, good=0.0)
                    length = rng.choice((len(data) or 1, 0xFFFF_FFFF, 0x8000_0000))
                    ok = ptr + length <= size
                entries_ok &= ok
                rows += ptr.to_bytes(4, "little") + length.to_bytes(4, "little")
            writes.append((arr_ptr, rows))
        elif arr_ok:
            table = bytearray(self.garbage(count * 8))
            if rng.random() < 0.7:  # small in-bounds entries: the lift succeeds
                for i in range(count):
                    length = rng.randrange(16)
                    ptr = rng.randrange(max(size - length, 1))
                    table[8 * i: 8 * i + 8] = (ptr.to_bytes(4, "little")
                                               + length.to_bytes(4, "little"))
            writes.append((arr_ptr, bytes(table)))
        out, out_ok = (self.free_spot(4, size) or 0, True) if valid_path else self.out_ptr(size)
        if rng.random() < 0.05 and arr_ok and count:
            out, out_ok = arr_ptr, arr_ptr + 4 <= size  # the result lands on the array
        vec.args = (arr_ptr, count, encoding, target, out)
        vec.out = out
        if contents in ([self.xml, self.weights], [self.onnx]):
            vec.model = "digits"
        vec.kind = f"load:n={'many' if count > 3 else count}:{how}:enc={encoding}"
        if not out_ok:
            vec.expect = "trap"
        elif (not arr_ok or (count <= 16 and not entries_ok) or encoding > 5 or target > 2
              or count > self.limits.max_builders):
            vec.expect = frozenset({INVALID_ARGUMENT})
        elif encoding in (2, 3):
            vec.expect = frozenset({INVALID_ENCODING})
        elif encoding == 5:
            vec.expect = frozenset({SUCCESS, INVALID_ARGUMENT, RUNTIME_ERROR, TOO_LARGE,
                                    UNSUPPORTED_OPERATION})
        elif count != want:
            vec.expect = frozenset({INVALID_ARGUMENT})
        elif target in (1, 2):
            vec.expect = frozenset({UNSUPPORTED_OPERATION})
        elif live_graphs >= self.limits.max_graphs:
            vec.expect = frozenset({TOO_LARGE})
        elif contents_valid:
            vec.expect = frozenset({SUCCESS})
        else:
            vec.expect = frozenset({SUCCESS, RUNTIME_ERROR})
        return vec

    def _load_by_name(self, size: int, live_graphs: int, _live_contexts: int) -> Vector:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            name = b"digits"
        elif r < 0.55:
            name = rng.choice((b"nope", b"digits2", b"", b"model", b"Digits"))
        elif r < 0.65:
            name = rng.choice((b"\xff\xfe", b"digits\xc3", b"\xed\xa0\x80", b"\xc0\xaf"))
        elif r < 0.7:
            name = b"digits\x00"
        elif r < 0.75:
            name = b"a" * rng.randint(1000, 70000)
        else:
            name = self.garbage(rng.randint(1, 40))
        length = len(name) if rng.random() < 0.85 else self.count(len(name))
        ptr, ok, how = self.place(length, size)
        vec = Vector("load_by_name", ())
        text = name[:length].ljust(length, b"\0") if ok else b""
        if ok and length:
            vec.writes.append((ptr, text))
        out, out_ok = self.out_ptr(size)
        vec.args = (ptr, length, out)
        vec.out = out
        vec.kind = f"load_by_name:{how}"
        if not out_ok:
            vec.expect = "trap"
        elif not ok:
            vec.expect = frozenset({INVALID_ARGUMENT})
        else:
            try:
                decoded = text.decode("utf-8")
            except UnicodeDecodeError:
                vec.expect = frozenset({INVALID_ARGUMENT})
                return vec
            if decoded != "digits":
                vec.expect = frozenset({NOT_FOUND})
            elif live_graphs >= self.limits.max_graphs:
                vec.expect = frozenset({TOO_LARGE})
            else:
                vec.expect = frozenset({SUCCESS})
        return vec

    def _init_execution_context(self, size: int, _live_graphs: int, live_contexts: int
                                ) -> Vector:
        graph = self.graph_handle()
        out, out_ok = self.out_ptr(size)
        vec = Vector("init_execution_context", (graph, out), out=out)
        vec.kind = "init:" + ("live" if graph in self.graphs else "stale"
                              if graph in self.stale_graphs else "other")
        if not out_ok:
            vec.expect = "trap"
        elif graph not in self.graphs:
            vec.expect = frozenset({INVALID_ARGUMENT})
        elif live_contexts >= self.limits.max_contexts:
            vec.expect = frozenset({TOO_LARGE})
        else:
            vec.expect = frozenset({SUCCESS})
        return vec

    def _dims(self) -> tuple[list[int], bool]:
        """Dims for the digits input; True when they are [1, 64]."""
        rng = self.rng
        r = rng.random()
        if r < 0.7:
            return [1, 64], True
        return rng.choice((
            [64], [1, 65], [1, 63], [0, 64], [64, 1], [1, 1, 64], [], [1, 0],
            [65536, 65536, 65536], [0xFFFF_FFFF, 0xFFFF_FFFF], [1 << 16, 1 << 16],
            [0x8000_0000, 2], [2, 0x8000_0000, 2, 0x8000_0000], [1, 64, 0xFFFF_FFFF],
            [0x4000_0000, 4], [1] * 300,
        )), False

    def _set_input(self, size: int, _live_graphs: int, _live_contexts: int) -> Vector:
        rng = self.rng
        ctx = self.context_handle()
        index = 0 if rng.random() < 0.85 else rng.choice((1, 2, 0x8000_0000, 0xFFFF_FFFF))
        vec = Vector("set_input", ())
        tensor_ptr, t_ok, how = self.place(20, size, good=0.88)
        dims, dims_valid = self._dims()
        n_dims = len(dims) if rng.random() < 0.9 else self.count(len(dims))
        dims_bytes = b"".join(d.to_bytes(4, "little") for d in dims)
        dims_ptr, dims_ok, _ = self.place(n_dims * 4, size, good=0.9)
        dims_valid &= n_dims == len(dims)
        ttype = self.tag((1, 0, 2, 3, 4, 5), (80, 4, 4, 4, 4, 4), bad=0.08) & 0xFF  # a u8
        data_len = 256
        if rng.random() < 0.25:
            data_len = rng.choice((0, 255, 257, 64, 512, 0xFFFF_FFFF, 0x8000_0000, 0x1_0000))
        data_ptr, data_ok, _ = self.place(data_len, size, good=0.88)
        data = rng.choice(self.input)
        vec.args = (ctx, index, tensor_ptr)
        vec.kind = f"set_input:{how}"
        if dims_ok:
            vec.writes.append((dims_ptr, dims_bytes[: n_dims * 4].ljust(n_dims * 4, b"\0")))
        if data_ok and data_len:
            vec.writes.append((data_ptr, (data * (data_len // 256 + 1))[:data_len]))
        if t_ok:
            record = (dims_ptr.to_bytes(4, "little") + n_dims.to_bytes(4, "little")
                      + bytes([ttype]) + b"\0\0\0"
                      + data_ptr.to_bytes(4, "little") + data_len.to_bytes(4, "little"))
            vec.writes.append((tensor_ptr, record))
        if not t_ok or not dims_ok or not data_ok or ttype > 5:
            vec.expect = frozenset({INVALID_ARGUMENT})
        elif ctx in self.contexts and not self.contexts[ctx].digits:
            vec.expect = None
        elif ctx in self.contexts and index == 0 and dims_valid and ttype == 1 \
                and data_len == 256:
            vec.expect = frozenset({SUCCESS})
        else:
            vec.expect = frozenset({INVALID_ARGUMENT})
        return vec

    def _get_output(self, size: int, _live_graphs: int, _live_contexts: int) -> Vector:
        rng = self.rng
        ctx = self.context_handle("computed")
        index = 0 if rng.random() < 0.85 else rng.choice((1, 0x8000_0000, 0xFFFF_FFFF))
        max_size = DIGITS_OUT_BYTES if rng.random() < 0.5 else rng.choice((
            0, 4, 39, 41, 64, 4096, 0x1_0000, 0x8000_0000, 0xFFFF_FFFF))
        buf, buf_ok, how = self.place(max_size, size, good=0.8)
        out, out_ok = self.out_ptr(size)
        if rng.random() < 0.1 and buf_ok and max_size >= 4:
            out, out_ok = buf + rng.randrange(0, max_size - 3) // 4 * 4, True  # inside buf
        vec = Vector("get_output", (ctx, index, buf, max_size, out), out=out,
                     buf=(buf, max_size), kind=f"get_output:{how}")
        state = self.contexts.get(ctx)
        if not out_ok:
            vec.expect = "trap"
        elif buf_ok and state is not None and not state.digits:
            vec.expect = None
        elif not buf_ok or state is None or index != 0 or not state.computed:
            vec.expect = frozenset({INVALID_ARGUMENT})
        elif max_size < DIGITS_OUT_BYTES:
            vec.expect = frozenset({TOO_LARGE})
        else:
            vec.expect = frozenset({SUCCESS})
        return vec

    def _compute(self, size: int, _live_graphs: int, _live_contexts: int) -> Vector:
        ctx = self.context_handle("input")
        state = self.contexts.get(ctx)
        vec = Vector("compute", (ctx,), kind="compute")
        vec.expect = frozenset({SUCCESS if state is not None and state.input_set
                                else INVALID_ARGUMENT})
        return vec

    # --- after a call ---

    def record(self, vec: Vector, errno: int | None, read_u32: Callable[[int], int]) -> None:
        """Track the handles a successful call made (errno None: it trapped)."""
        if errno != SUCCESS:
            return
        if vec.fn in ("load", "load_by_name"):
            assert vec.out is not None
            handle = read_u32(vec.out)
            self.graphs[handle] = vec.fn == "load_by_name" or vec.model == "digits"
            self.max_graph = max(self.max_graph, handle)
        elif vec.fn == "init_execution_context":
            assert vec.out is not None
            handle = read_u32(vec.out)
            self.contexts[handle] = CtxState(self.graphs.get(vec.args[0], False))
            self.max_context = max(self.max_context, handle)
        elif vec.fn == "set_input":
            state = self.contexts.get(vec.args[0])
            if state is not None:
                state.input_set = True
        elif vec.fn == "compute":
            state = self.contexts.get(vec.args[0])
            if state is not None:
                state.computed = True

    def drop_some(self, nn: OpenVinoNn) -> None:
        """Drop handles now and then as an embedder would (they become stale handles), so
        that the campaign keeps getting past the limits."""
        rng = self.rng
        backend = nn.backend
        if self.graphs and (len(self.graphs) >= self.limits.max_graphs - 1
                            or rng.random() < 0.01):
            for g in rng.sample(sorted(self.graphs), k=max(1, len(self.graphs) // 2)):
                backend.drop_graph(g)
                del self.graphs[g]
                self.stale_graphs.append(g)
        if self.contexts and (len(self.contexts) >= self.limits.max_contexts - 1
                              or rng.random() < 0.01):
            for c in rng.sample(sorted(self.contexts), k=max(1, len(self.contexts) // 2)):
                backend.drop_context(c)
                del self.contexts[c]
                self.stale_contexts.append(c)


def _overlap(a: int, alen: int, b: int, blen: int) -> bool:
    return a < b + blen and b < a + alen


# --- checking ----------------------------------------------------------------------------


@dataclass
class Stats:
    driver: str = ""
    glue: str = ""
    seed: int = 0
    inputs: int = 0
    by_function: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    traps: int = 0
    grows: int = 0
    unclean: list[dict[str, Any]] = field(default_factory=list)
    memory_violations: list[dict[str, Any]] = field(default_factory=list)
    oracle_mismatches: list[dict[str, Any]] = field(default_factory=list)
    oracle_mismatch_count: int = 0
    hangs: list[dict[str, Any]] = field(default_factory=list)
    max_call_seconds: float = 0.0
    slowest: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["by_function"] = dict(self.by_function)
        out["outcomes"] = dict(sorted(self.outcomes.items()))
        return out


class Checker:
    def __init__(self, stats: Stats, keep: int = 20) -> None:
        self.stats = stats
        self.keep = keep

    def check(self, vec: Vector, before: bytes, after: bytes, result: int | BaseException,
              seconds: float) -> int | None:
        """Judge one call; returns its errno (None for a trap or anything unclean)."""
        st = self.stats
        st.inputs += 1
        st.by_function[vec.fn] += 1
        if seconds > st.max_call_seconds:
            st.max_call_seconds = seconds
            st.slowest = {"seconds": round(seconds, 4), **vec.describe()}
        if seconds > HANG_SECONDS:
            st.hangs.append({"seconds": seconds, **vec.describe()})
        errno: int | None = None
        outcome: str
        if isinstance(result, wasmtime.Trap):
            message = result.message
            outcome = "trap"
            st.traps += 1
            if "\n" in message.strip() or not message.strip():
                self._unclean(vec, f"trap message is not one line: {message!r}")
        elif isinstance(result, BaseException):
            outcome = f"exception:{type(result).__name__}"
            self._unclean(vec, f"{type(result).__name__}: {result}")
        elif isinstance(result, int) and 0 <= result <= ERRNO_MAX:
            errno = result
            outcome = str(result)
        else:
            outcome = f"bad-errno:{result}"
            self._unclean(vec, f"returned {result!r}, not an nn_errno")
        st.outcomes[f"{vec.fn}:{outcome}"] += 1
        if errno in (MISSING_MEMORY, BUSY):
            self._unclean(vec, f"errno {errno} cannot happen here (memory exported, one thread)")
        self._check_memory(vec, before, after, errno)
        self._check_oracle(vec, outcome, errno)
        return errno

    def _check_memory(self, vec: Vector, before: bytes, after: bytes, errno: int | None) -> None:
        if before == after:
            return
        if len(before) != len(after):
            self._violation(vec, f"memory size changed {len(before)} -> {len(after)}")
            return
        allowed: list[tuple[int, int]] = []
        if errno == SUCCESS and vec.out is not None:
            allowed.append((vec.out, vec.out + 4))
            if vec.buf is not None:
                written = int.from_bytes(after[vec.out: vec.out + 4], "little")
                allowed.append((vec.buf[0], vec.buf[0] + written))
        # Compare what lies between the allowed regions (memcmp on views, no copies) ...
        b, a = memoryview(before), memoryview(after)
        pos = 0
        clean = True
        for lo, hi in sorted(allowed) + [(len(before), len(before))]:
            if lo > pos and b[pos:lo] != a[pos:lo]:
                clean = False
                break
            pos = max(pos, hi)
        if clean:
            return
        # ... and only locate the changed bytes when something outside them changed.
        import numpy as np

        changed = np.flatnonzero(np.frombuffer(before, np.uint8) != np.frombuffer(after, np.uint8))
        bad = [int(i) for i in changed if not any(lo <= i < hi for lo, hi in allowed)]
        if bad:
            self._violation(vec, f"{len(bad)} byte(s) outside the output region changed, first "
                                 f"at {bad[0]:#x} (errno {errno})")

    def _check_oracle(self, vec: Vector, outcome: str, errno: int | None) -> None:
        expect = vec.expect
        if expect is None:
            return
        if expect == "trap":
            ok = outcome == "trap"
        else:
            assert isinstance(expect, frozenset)
            ok = errno in expect
        if not ok:
            self.stats.oracle_mismatch_count += 1
            if len(self.stats.oracle_mismatches) < self.keep:
                self.stats.oracle_mismatches.append({"got": outcome, **vec.describe()})

    def _unclean(self, vec: Vector, why: str) -> None:
        if len(self.stats.unclean) < self.keep:
            self.stats.unclean.append({"why": why, **vec.describe()})
        else:
            self.stats.unclean.append({"why": why})

    def _violation(self, vec: Vector, why: str) -> None:
        self.stats.memory_violations.append({"why": why, **vec.describe()})


# --- the drivers -------------------------------------------------------------------------


def _make_nn(limits: Limits) -> OpenVinoNn:
    nn = OpenVinoNn(precision="f32", limits=limits)
    nn.register(f"openvino::{digits_named_dir()}")
    return nn


def _snapshot(base: int, size: int) -> bytes:
    return ctypes.string_at(base, size) if size else b""


def _write(base: int, size: int, writes: list[tuple[int, bytes]]) -> None:
    for ptr, data in writes:
        assert ptr + len(data) <= size, (ptr, len(data), size)
        if data:
            ctypes.memmove(base + ptr, data, len(data))


class Campaign:
    """One run of `count` vectors through one driver and glue registration."""

    def __init__(self, driver: str, fast: bool | None, count: int, seed: int,
                 epoch: int = 1000) -> None:
        self.driver = driver
        self.fast = fast
        self.count = count
        self.seed = seed
        self.epoch = epoch
        self.rng = random.Random(seed)
        self.limits = Limits(**FUZZ_LIMITS)
        self.stats = Stats(driver=driver, glue=glue_name(fast), seed=seed)
        self.checker = Checker(self.stats)
        self.engine = wasmtime.Engine()

    def run(self) -> Stats:
        start = time.perf_counter()
        done = 0
        while done < self.count:
            n = min(self.epoch, self.count - done)
            if self.driver == "guest":
                self._guest_epoch(n)
            else:
                self._glue_epoch(n)
            done += n
        self.stats.seconds = round(time.perf_counter() - start, 2)
        from common import peak_rss_mb

        self.stats.peak_rss_mb = round(peak_rss_mb(), 1)
        return self.stats

    # --- through the linker's host functions, from Python ---

    def _glue_epoch(self, n: int) -> None:
        store = wasmtime.Store(self.engine)
        memory = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, MAX_PAGES)))
        nn = _make_nn(self.limits)
        linker = wasmtime.Linker(self.engine)
        add_glue(linker, nn, self.fast, get_memory=lambda _caller: memory)
        funcs = {}
        for name in FUNCTIONS:
            func = linker.get(store, "wasi_ephemeral_nn", name)
            assert isinstance(func, wasmtime.Func)
            funcs[name] = func
        gen = Generator(self.rng, self.limits)

        def base() -> int:
            return ctypes.addressof(memory.data_ptr(store).contents)

        def read_u32(ptr: int) -> int:
            return int.from_bytes(ctypes.string_at(base() + ptr, 4), "little")

        for _ in range(n):
            gen.drop_some(nn)
            stats = nn.backend.stats()
            size = memory.data_len(store)
            vec = gen.next(size, stats["graphs"], stats["contexts"])
            if vec.grow:
                self.stats.grows += 1
                with contextlib.suppress(wasmtime.WasmtimeError):  # past MAX_PAGES
                    memory.grow(store, vec.grow)
            size = memory.data_len(store)
            assert size == vec.size, (size, vec.size)
            _write(base(), size, vec.writes)
            before = _snapshot(base(), size)
            t0 = time.perf_counter()
            result: int | BaseException
            try:
                result = funcs[vec.fn](store, *map(i32, vec.args))
            except Exception as exc:
                result = exc
            seconds = time.perf_counter() - t0
            after = _snapshot(base(), memory.data_len(store))
            errno = self.checker.check(vec, before, after, result, seconds)
            gen.record(vec, errno, read_u32)

    # --- through a real guest ---

    def _guest_epoch(self, n: int) -> None:
        module = guest_module(self.engine)
        store = wasmtime.Store(self.engine)
        nn = _make_nn(self.limits)
        linker = wasmtime.Linker(self.engine)
        add_glue(linker, nn, self.fast)
        gen = Generator(self.rng, self.limits)
        i32t = wasmtime.ValType.i32()
        pending: dict[str, Any] = {}
        remaining = [n]

        def mem(caller: wasmtime.Caller) -> wasmtime.Memory:
            m = caller.get("memory")
            assert isinstance(m, wasmtime.Memory)
            return m

        def next_vector(caller: wasmtime.Caller) -> list[int]:
            if remaining[0] <= 0:
                return [-1, 0, 0, 0, 0, 0, 0]
            remaining[0] -= 1
            gen.drop_some(nn)
            stats = nn.backend.stats()
            vec = gen.next(mem(caller).data_len(caller), stats["graphs"], stats["contexts"])
            if vec.grow:
                self.stats.grows += 1
            pending["vec"] = vec
            args = list(vec.args) + [0] * (5 - len(vec.args))
            return [FUNCTIONS.index(vec.fn), *map(i32, args), vec.grow]

        def pre(caller: wasmtime.Caller) -> None:
            vec: Vector = pending["vec"]
            memory = mem(caller)
            size = memory.data_len(caller)
            assert size == vec.size, (size, vec.size)
            base = ctypes.addressof(memory.data_ptr(caller).contents)
            _write(base, size, vec.writes)
            pending["before"] = _snapshot(base, size)
            pending["t0"] = time.perf_counter()

        def post(caller: wasmtime.Caller, errno: int) -> None:
            seconds = time.perf_counter() - pending["t0"]
            memory = mem(caller)
            base = ctypes.addressof(memory.data_ptr(caller).contents)
            after = _snapshot(base, memory.data_len(caller))
            vec: Vector = pending.pop("vec")
            got = self.checker.check(vec, pending.pop("before"), after, errno & 0xFFFFFFFF,
                                     seconds)
            gen.record(vec, got,
                       lambda p: int.from_bytes(ctypes.string_at(base + p, 4), "little"))

        linker.define_func("fuzz", "next", wasmtime.FuncType([], [i32t] * 7), next_vector,
                           access_caller=True)
        linker.define_func("fuzz", "pre", wasmtime.FuncType([], []), pre, access_caller=True)
        linker.define_func("fuzz", "post", wasmtime.FuncType([i32t], []), post,
                           access_caller=True)
        instance = linker.instantiate(store, module)
        run = instance.exports(store)["run"]
        memory = instance.exports(store)["memory"]
        assert isinstance(run, wasmtime.Func) and isinstance(memory, wasmtime.Memory)
        while True:
            try:
                run(store)
                return
            except wasmtime.Trap as trap:
                vec = pending.pop("vec", None)
                if vec is None or "before" not in pending:
                    raise  # a trap outside a wasi-nn call: the harness itself failed
                seconds = time.perf_counter() - pending["t0"]
                base = ctypes.addressof(memory.data_ptr(store).contents)
                after = _snapshot(base, memory.data_len(store))
                self.checker.check(vec, pending.pop("before"), after, trap, seconds)


GUEST_WAT = """
(module
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "load_by_name" (func $load_by_name (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context" (func $init (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input" (func $set_input (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "get_output"
    (func $get_output (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
  (import "fuzz" "next" (func $next (result i32 i32 i32 i32 i32 i32 i32)))
  (import "fuzz" "pre" (func $pre))
  (import "fuzz" "post" (func $post (param i32)))
  (memory (export "memory") 1 MAX_PAGES)
  (func (export "run")
    (local $fn i32) (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $a4 i32) (local $grow i32) (local $r i32)
    (loop $top
      (call $next)
      (local.set $grow) (local.set $a4) (local.set $a3) (local.set $a2) (local.set $a1)
      (local.set $a0) (local.set $fn)
      (if (i32.lt_s (local.get $fn) (i32.const 0)) (then (return)))
      (if (local.get $grow) (then (drop (memory.grow (local.get $grow)))))
      (call $pre)
      (block $done
        (block $c5
          (block $c4
            (block $c3
              (block $c2
                (block $c1
                  (block $c0
                    (br_table $c0 $c1 $c2 $c3 $c4 $c5 $done (local.get $fn)))
                  (local.set $r (call $load (local.get $a0) (local.get $a1) (local.get $a2)
                                            (local.get $a3) (local.get $a4)))
                  (br $done))
                (local.set $r (call $load_by_name (local.get $a0) (local.get $a1)
                                                  (local.get $a2)))
                (br $done))
              (local.set $r (call $init (local.get $a0) (local.get $a1)))
              (br $done))
            (local.set $r (call $set_input (local.get $a0) (local.get $a1) (local.get $a2)))
            (br $done))
          (local.set $r (call $get_output (local.get $a0) (local.get $a1) (local.get $a2)
                                          (local.get $a3) (local.get $a4)))
          (br $done))
        (local.set $r (call $compute (local.get $a0))))
      (call $post (local.get $r))
      (br $top))))
"""

#: engine id -> (engine, module); the engine is kept so that its id cannot be reused.
_MODULES: dict[int, tuple[wasmtime.Engine, wasmtime.Module]] = {}


def guest_module(engine: wasmtime.Engine) -> wasmtime.Module:
    cached = _MODULES.get(id(engine))
    if cached is None or cached[0] is not engine:
        cached = (engine, wasmtime.Module(engine, GUEST_WAT.replace("MAX_PAGES", str(MAX_PAGES))))
        _MODULES[id(engine)] = cached
    return cached[1]


def run_campaign(driver: str, fast: bool | None, count: int, seed: int) -> Stats:
    return Campaign(driver, fast, count, seed).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--driver", choices=("guest", "glue"), required=True)
    parser.add_argument("--glue", choices=("default", "generic", "fast"), default="default")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    fast = {"default": None, "generic": False, "fast": True}[args.glue]
    if fast is not None and fast not in glue_variants():
        print(f"glue registration {args.glue} is not available here", file=sys.stderr)
        return 2
    stats = run_campaign(args.driver, fast, args.count, args.seed)
    text = json.dumps(stats.to_json(), indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    else:
        print(text)
    bad = stats.unclean or stats.memory_violations or stats.hangs
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
