"""Hostile guests: WASI command modules, each making one hostile wasi-nn call (or loading one
hostile model), generated as WAT and compiled in-process, so that the very same .wasm runs on
our runtime and on the wasmtime CLI.

A guest is a list of steps. Setup steps must succeed (a failing one exits 100 + errno). Probe
steps are numbered k = 0, 1, ...; the first failing probe exits 10*k + errno; when every probe
succeeds the guest exits 0. So a one-probe guest exits with the probe's errno, and a model guest
(probes load, init_execution_context, set_input..., compute, get_output) says which stage failed
and how. A trap ends the guest (our runtime: exit 134; the CLI: exit 1 with an error, 134, a
panic's 101 or a signal).

Memory layout: slots for the graph and context handles and a result at 0x10/0x14/0x18, the name
"digits" at 0x100, dims [1, 64] at 0x200, a tensor record at 0x300, input data at 0x400, an
output buffer at 0x1000 (4 KiB), a builder array at 0x2000, model bytes from 0x4000 on.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import wasmtime  # noqa: E402
from common import (  # noqa: E402
    BUSY,
    INVALID_ARGUMENT,
    INVALID_ENCODING,
    NOT_FOUND,
    PAGE,
    RUNTIME_ERROR,
    SUCCESS,
    TFLITE_ADD,
    TOO_LARGE,
    UNSUPPORTED_OPERATION,
    digits_inputs,
    digits_ir,
    digits_onnx,
    ir_bytes,
)

G, C = "G", "C"  # step arguments read from the handle slots
G_SLOT, C_SLOT, OUT = 0x10, 0x14, 0x18
NAME, DIMS, TENSOR, INPUT, OUTBUF, BUILDERS, MODEL = (
    0x100, 0x200, 0x300, 0x400, 0x1000, 0x2000, 0x4000)
OUTBUF_SIZE = 4096
TRAP = "trap"

SIGNATURES = {
    "load": 5, "load_by_name": 3, "init_execution_context": 2, "set_input": 3, "compute": 1,
    "get_output": 5,
}
_ = (BUSY, SUCCESS)


@dataclass
class Step:
    fn: str  # a wasi-nn function, or "grow" (memory.grow by args[0] pages) or "copy"
    args: tuple[int | str, ...]
    probe: bool = True


@dataclass
class Case:
    """One hostile guest and what DESIGN.md §5 says our runtime must answer."""

    name: str
    group: str  # "call" (a hostile call) or "model" (hostile model bytes)
    what: str
    steps: list[Step]
    data: list[tuple[int, bytes]] = field(default_factory=list)
    pages: int = 1
    expect: int | str = 0  # the exit code, or TRAP
    named: bool = False  # needs the digits model preloaded under the name "digits"
    known_gap: str = ""  # a documented limitation this case demonstrates

    def wat(self) -> str:
        return to_wat(self)

    @functools.cached_property
    def wasm(self) -> bytes:
        return bytes(wasmtime.wat2wasm(self.wat()))


def _escape(data: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in data)


def _arg(a: int | str) -> str:
    if a == G:
        return f"(i32.load (i32.const {G_SLOT}))"
    if a == C:
        return f"(i32.load (i32.const {C_SLOT}))"
    assert isinstance(a, int)
    return f"(i32.const {a - (1 << 32) if a >= 1 << 31 else a})"


def to_wat(case: Case) -> str:
    end = max([case.pages * PAGE] + [off + len(d) for off, d in case.data])
    pages = -(-end // PAGE)
    lines = [
        "(module",
        '  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))',
    ]
    for fn, n in SIGNATURES.items():
        params = " ".join(["i32"] * n)
        lines.append(f'  (import "wasi_ephemeral_nn" "{fn}" '
                     f"(func ${fn} (param {params}) (result i32)))")
    lines.append(f'  (memory (export "memory") {pages})')
    for off, data in case.data:
        if data:
            lines.append(f'  (data (i32.const {off}) "{_escape(data)}")')
    lines.append('  (func (export "_start") (local $r i32)')
    k = 0
    for step in case.steps:
        if step.fn == "grow":
            lines.append(f"    (drop (memory.grow {_arg(step.args[0])}))")
            continue
        if step.fn == "copy":  # memory.copy dst src len
            dst, src, size = (_arg(a) for a in step.args)
            lines.append(f"    (memory.copy {dst} {src} {size})")
            continue
        args = " ".join(_arg(a) for a in step.args)
        lines.append(f"    (local.set $r (call ${step.fn} {args}))")
        base = 10 * k if step.probe else 100
        lines.append("    (if (local.get $r) (then (call $exit "
                     f"(i32.add (i32.const {base}) (local.get $r)))))")
        if step.probe:
            k += 1
    lines.append("    (call $exit (i32.const 0)))")
    lines.append(")")
    return "\n".join(lines)


# --- building blocks ---------------------------------------------------------------------


def u32s(*values: int) -> bytes:
    return b"".join((v & 0xFFFF_FFFF).to_bytes(4, "little") for v in values)


def tensor_record(dims_ptr: int, n_dims: int, ttype: int, data_ptr: int, data_len: int
                  ) -> bytes:
    return u32s(dims_ptr, n_dims) + bytes([ttype & 0xFF, 0, 0, 0]) + u32s(data_ptr, data_len)


F32 = 1
DIGITS_INPUT = digits_inputs(1, seed=7)[0]
#: The data every "call" case has: the name, a valid digits input and its tensor record.
BASE_DATA = [
    (NAME, b"digits"),
    (DIMS, u32s(1, 64)),
    (TENSOR, tensor_record(DIMS, 2, F32, INPUT, 256)),
    (INPUT, DIGITS_INPUT),
]
SETUP_GRAPH = [Step("load_by_name", (NAME, 6, G_SLOT), probe=False)]
SETUP_CONTEXT = SETUP_GRAPH + [Step("init_execution_context", (G, C_SLOT), probe=False)]
SETUP_INPUT = SETUP_CONTEXT + [Step("set_input", (C, 0, TENSOR), probe=False)]
SETUP_COMPUTED = SETUP_INPUT + [Step("compute", (C,), probe=False)]


def call_case(name: str, what: str, setup: list[Step], probe: Step, expect: int | str,
              data: Sequence[tuple[int, bytes]] = (), pages: int = 1) -> Case:
    return Case(name, "call", what, [*setup, probe], [*BASE_DATA, *data], pages, expect,
                named=True)


def _set_input_with(record: bytes, extra: Sequence[tuple[int, bytes]] = ()) -> list[Any]:
    """A set_input probe reading the tensor record at 0x340."""
    return [Step("set_input", (C, 0, 0x340)), [(0x340, record), *extra]]


def call_cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    ok, inval, trap = SUCCESS, INVALID_ARGUMENT, TRAP
    get = Step("get_output", (C, 0, OUTBUF, OUTBUF_SIZE, OUT))
    add(call_case("control_full_pipeline", "load_by_name, init, set_input, compute, get_output "
                  "(all valid)", SETUP_COMPUTED, get, ok))
    # load_by_name
    add(call_case("load_by_name_result_ptr_oob", "result pointer at 0xFFFF (4 bytes past the "
                  "end of a 64 KiB memory by 3)", [], Step("load_by_name", (NAME, 6, 0xFFFF)),
                  trap))
    add(call_case("load_by_name_name_oob", "name of 100 bytes at 0xFFFC", [],
                  Step("load_by_name", (0xFFFC, 100, OUT)), inval))
    add(call_case("load_by_name_len_wraps", "name length 0xFFFFFFFF (ptr + len wraps)", [],
                  Step("load_by_name", (NAME, 0xFFFF_FFFF, OUT)), inval))
    add(call_case("load_by_name_not_utf8", "name bytes FF FE", [],
                  Step("load_by_name", (0x180, 2, OUT)), inval, [(0x180, b"\xff\xfe")]))
    add(call_case("load_by_name_unknown", 'name "nope"', [],
                  Step("load_by_name", (0x180, 4, OUT)), NOT_FOUND, [(0x180, b"nope")]))
    # load: the argument vector
    xml, weights = digits_ir()
    ir_data = [(MODEL, xml), (MODEL + len(xml), weights)]
    ir_rows = u32s(MODEL, len(xml), MODEL + len(xml), len(weights))
    model_pages = -(-(MODEL + len(xml) + len(weights)) // PAGE)

    def load_case(name: str, what: str, args: tuple[int | str, ...], expect: int | str,
                  rows: bytes = ir_rows, extra: Sequence[tuple[int, bytes]] = ()) -> None:
        add(call_case(name, what, [], Step("load", args), expect,
                      [*ir_data, (BUILDERS, rows), *extra], model_pages))

    end = model_pages * PAGE
    load_case("load_builder_array_oob", "builder array of 2 entries 8 bytes before the end",
              (end - 8, 2, 0, 0, OUT), inval)
    load_case("load_builder_count_wraps", "builder count 0x20000000 (count * 8 wraps to 0)",
              (BUILDERS, 0x2000_0000, 0, 0, OUT), inval)
    load_case("load_builder_entry_oob", "a builder at 0xFFFFFF00, 4096 bytes",
              (BUILDERS, 2, 0, 0, OUT), inval,
              rows=u32s(MODEL, len(xml), 0xFFFF_FF00, 4096))
    load_case("load_builder_entry_len_wraps", "a builder whose length wraps past 2**32",
              (BUILDERS, 2, 0, 0, OUT), inval,
              rows=u32s(MODEL, len(xml), MODEL, 0xFFFF_F000))
    load_case("load_encoding_tag_oor", "encoding 99", (BUILDERS, 2, 99, 0, OUT), inval)
    load_case("load_target_tag_oor", "target 99", (BUILDERS, 2, 0, 99, OUT), inval)
    load_case("load_encoding_tensorflow", "encoding tensorflow (not supported)",
              (BUILDERS, 1, 2, 0, OUT), INVALID_ENCODING)
    load_case("load_target_tpu", "the digits IR on target tpu", (BUILDERS, 2, 0, 2, OUT),
              UNSUPPORTED_OPERATION)
    load_case("load_target_gpu", "the digits IR on target gpu (no GPU here)",
              (BUILDERS, 2, 0, 1, OUT), UNSUPPORTED_OPERATION)
    load_case("load_ir_one_builder", "OpenVINO IR with 1 builder (it takes 2)",
              (BUILDERS, 1, 0, 0, OUT), inval)
    load_case("load_thousands_of_builders", "5,000 builders, each the name bytes",
              (0x8000, 5000, 0, 0, OUT), inval,
              extra=[(0x8000, u32s(NAME, 6) * 5000)])
    load_case("load_result_ptr_oob", "a valid model, result pointer past the end",
              (BUILDERS, 2, 0, 0, end), trap)
    # init_execution_context
    add(call_case("init_never_issued_graph", "graph handle 12345", [],
                  Step("init_execution_context", (12345, C_SLOT)), inval))
    add(call_case("init_zero_graph", "graph handle 0", [],
                  Step("init_execution_context", (0, C_SLOT)), inval))
    add(call_case("init_result_ptr_oob", "result pointer 0xFFFFFFFF", SETUP_GRAPH,
                  Step("init_execution_context", (G, 0xFFFF_FFFF)), trap))
    # set_input
    add(call_case("set_input_unknown_context", "context 999", SETUP_CONTEXT,
                  Step("set_input", (999, 0, TENSOR)), inval))
    add(call_case("set_input_index_oor", "input index 7", SETUP_CONTEXT,
                  Step("set_input", (C, 7, TENSOR)), inval))
    add(call_case("set_input_tensor_oob", "tensor record at 0xFFF0 (runs 4 bytes past)",
                  SETUP_CONTEXT, Step("set_input", (C, 0, 0xFFF0)), inval))
    for name, what, record, extra in [
        ("set_input_dims_oob", "dims pointer 0xFFFFFFF0",
         tensor_record(0xFFFF_FFF0, 2, F32, INPUT, 256), []),
        ("set_input_dims_len_wraps", "0x40000000 dims (count * 4 wraps to 0)",
         tensor_record(DIMS, 0x4000_0000, F32, INPUT, 256), []),
        ("set_input_dims_product_overflows", "dims [65536, 65536, 65536, 65536], 256 bytes",
         tensor_record(0x380, 4, F32, INPUT, 256), [(0x380, u32s(65536, 65536, 65536, 65536))]),
        ("set_input_dims_product_wraps_to_64", "dims [1, 64, 65536, 65536] (the product "
         "wraps to 64 in 32 bits), 256 bytes",
         tensor_record(0x380, 4, F32, INPUT, 256), [(0x380, u32s(1, 64, 65536, 65536))]),
        ("set_input_zero_dim", "dims [0, 64], 0 bytes",
         tensor_record(0x380, 2, F32, INPUT, 0), [(0x380, u32s(0, 64))]),
        ("set_input_rank_0", "no dims", tensor_record(DIMS, 0, F32, INPUT, 4), []),
        ("set_input_type_tag_oor", "tensor type 200", tensor_record(DIMS, 2, 200, INPUT, 256),
         []),
        ("set_input_type_mismatch", "u8 data for the f32 input",
         tensor_record(DIMS, 2, 3, INPUT, 64), []),
        ("set_input_data_oob", "data at 0xFFFFFF00", tensor_record(DIMS, 2, F32, 0xFFFF_FF00,
                                                                   256), []),
        ("set_input_data_len_wraps", "data length 0xFFFFFF00 (ptr + len wraps)",
         tensor_record(DIMS, 2, F32, INPUT, 0xFFFF_FF00), []),
        ("set_input_data_len_mismatch", "255 data bytes for dims [1, 64] f32",
         tensor_record(DIMS, 2, F32, INPUT, 255), []),
    ]:
        probe, data = _set_input_with(record, extra)
        add(call_case(name, what, SETUP_CONTEXT, probe, inval, data))
    # compute
    add(call_case("compute_unknown_context", "context 999", SETUP_INPUT,
                  Step("compute", (999,)), inval))
    add(call_case("compute_before_set_input", "no input set", SETUP_CONTEXT,
                  Step("compute", (C,)), inval))
    # get_output
    add(call_case("get_output_before_compute", "input set, no compute", SETUP_INPUT, get,
                  inval))
    add(call_case("get_output_buffer_oob", "buffer at 0xFFFFFFF0, 4096 bytes", SETUP_COMPUTED,
                  Step("get_output", (C, 0, 0xFFFF_FFF0, 4096, OUT)), inval))
    add(call_case("get_output_buffer_len_wraps", "buffer length 0xFFFFF800 (wraps)",
                  SETUP_COMPUTED, Step("get_output", (C, 0, OUTBUF, 0xFFFF_F800, OUT)), inval))
    add(call_case("get_output_buffer_too_small", "39 bytes for a 40-byte output",
                  SETUP_COMPUTED, Step("get_output", (C, 0, OUTBUF, 39, OUT)), TOO_LARGE))
    add(call_case("get_output_index_oor", "output index 5", SETUP_COMPUTED,
                  Step("get_output", (C, 5, OUTBUF, 4096, OUT)), inval))
    add(call_case("get_output_unknown_context", "context 999", SETUP_COMPUTED,
                  Step("get_output", (999, 0, OUTBUF, 4096, OUT)), inval))
    add(call_case("get_output_result_ptr_oob", "result pointer 0xFFFE", SETUP_COMPUTED,
                  Step("get_output", (C, 0, OUTBUF, 4096, 0xFFFE)), trap))
    add(call_case("get_output_result_in_buffer", "result pointer inside the output buffer",
                  SETUP_COMPUTED, Step("get_output", (C, 0, OUTBUF, 4096, OUTBUF + 8)), ok))
    # memory grown between calls: input, tensor record and output in the new pages
    grown = 2 * PAGE + 0x100
    add(call_case(
        "memory_grown_between_calls", "memory.grow by 3 pages, then set_input and get_output "
        "with every pointer in the new pages",
        [*SETUP_CONTEXT, Step("grow", (3,)), Step("copy", (grown, INPUT, 256)),
         Step("copy", (grown + 0x200, DIMS, 8)), Step("copy", (grown + 0x300, 0x340, 20)),
         Step("set_input", (C, 0, grown + 0x300), probe=False),
         Step("compute", (C,), probe=False)],
        Step("get_output", (C, 0, 3 * PAGE + 0x800, 4096, 3 * PAGE + 0x10)), ok,
        [(0x340, tensor_record(grown + 0x200, 2, F32, grown, 256))]))
    return cases


# --- hostile models ------------------------------------------------------------------------


def model_case(name: str, what: str, builders: Sequence[bytes], encoding: int,
               inputs: Sequence[tuple[Sequence[int], int, bytes]], expect: int,
               target: int = 0, known_gap: str = "") -> Case:
    """Load `builders`, then init, set each input, compute and get output 0 as probes."""
    data: list[tuple[int, bytes]] = []
    rows = b""
    at = MODEL
    for b in builders:
        data.append((at, b))
        rows += u32s(at, len(b))
        at += (len(b) + 15) // 16 * 16
    data.append((BUILDERS, rows))
    steps = [Step("load", (BUILDERS, len(builders), encoding, target, G_SLOT)),
             Step("init_execution_context", (G, C_SLOT))]
    spot = 0x800
    for i, (dims, ttype, payload) in enumerate(inputs):
        data.append((spot, u32s(*dims)))
        dims_ptr = spot
        spot += 4 * len(dims)
        data.append((spot, tensor_record(dims_ptr, len(dims), ttype, spot + 32, len(payload))))
        data.append((spot + 32, payload))
        steps.append(Step("set_input", (C, i, spot)))
        spot += 32 + (len(payload) + 15) // 16 * 16
        assert spot < OUTBUF
    steps += [Step("compute", (C,)), Step("get_output", (C, 0, OUTBUF, OUTBUF_SIZE, OUT))]
    return Case(name, "model", what, steps, data, 1, expect, known_gap=known_gap)


def _stage(stage: str, n_inputs: int = 1) -> int:
    order = ["load", "init"] + [f"set_input{i}" for i in range(n_inputs)] + ["compute", "get"]
    return 10 * order.index(stage)


@functools.cache
def _ov() -> Any:
    import openvino as ov

    return ov


def _broadcast_ir(shape: Sequence[int], *, reduce: bool = False, const: bool = False
                  ) -> tuple[bytes, bytes]:
    import numpy as np

    ov = _ov()
    ops = ov.opset13
    x = ops.parameter([1], ov.Type.f32, name="x")
    src = ops.constant(np.ones(1, np.float32)) if const else x
    y = ops.broadcast(src, ops.constant(np.array(shape, np.int64)))
    if reduce:
        y = ops.reduce_sum(y, ops.constant(np.arange(len(shape), dtype=np.int64)))
        if const:
            y = ops.add(y, x)
    return ir_bytes(ov.Model([y], [x], "hostile"))


def _dynamic_broadcast_ir() -> tuple[bytes, bytes]:
    ov = _ov()
    ops = ov.opset13
    x = ops.parameter([1], ov.Type.f32, name="x")
    s = ops.parameter([2], ov.Type.i64, name="shape")
    return ir_bytes(ov.Model([ops.broadcast(x, s)], [x, s], "value_shape"))


def _huge_param_ir() -> tuple[bytes, bytes]:
    ov = _ov()
    ops = ov.opset13
    x = ops.parameter([1 << 20, 1 << 20], ov.Type.f32, name="x")
    return ir_bytes(ov.Model([ops.relu(x)], [x], "huge_param"))


def _onnx_helpers() -> Any:
    import models as bm  # benchmarks/models.py: a minimal ONNX protobuf writer

    return bm


def _onnx_external_data() -> bytes:
    import numpy as np

    bm = _onnx_helpers()
    # TensorProto: dims=1, data_type=2, name=8, external_data=13 (key=1, value=2),
    # data_location=14 (EXTERNAL = 1): OpenVINO would read the tensor from a host path.
    entry = bm._bytes(1, "location") + bm._bytes(2, "/etc/passwd")
    tensor = (bm._int(1, 1) + bm._int(1, 64) + bm._int(2, 1) + bm._bytes(8, "w")
              + bm._bytes(13, entry) + bm._int(14, 1))
    nodes = [bm._node("Add", ["input", "w"], ["output"], "add", [])]
    _ = np
    model: bytes = bm._onnx_model(nodes, [tensor], ("input", (1, 64)), ("output", (1, 64)),
                                  "external")
    return model


def _onnx_constant_of_shape(n: int) -> bytes:
    import numpy as np

    bm = _onnx_helpers()
    shape = bm._tensor("shape", np.array([n, n], np.int64))
    nodes = [bm._node("ConstantOfShape", ["shape"], ["c"], "cos", []),
             bm._node("Add", ["input", "c"], ["output"], "add", [])]
    model: bytes = bm._onnx_model(nodes, [shape], ("input", (1,)), ("output", (n, n)), "cos")
    return model


def _onnx_nested(depth: int) -> bytes:
    """A ModelProto whose graph nests `depth` subgraphs (node attribute g = a graph), built
    from the lengths outwards in linear time."""
    bm = _onnx_helpers()
    name_g, body, op = bm._bytes(2, "g"), bm._bytes(1, "body"), bm._bytes(4, "If")
    graph_type = bm._int(20, 5)  # AttributeProto.type = GRAPH
    suffix = graph_type + name_g  # ends the attribute, then names the graph around it
    prefixes: list[bytes] = []
    inner = len(name_g)
    for _ in range(depth):
        attr = len(body) + len(bm._key(6, 2)) + len(bm._varint(inner)) + inner + len(graph_type)
        node = len(op) + len(bm._key(5, 2)) + len(bm._varint(attr)) + attr
        prefixes.append(bm._key(1, 2) + bm._varint(node) + op + bm._key(5, 2) + bm._varint(attr)
                        + body + bm._key(6, 2) + bm._varint(inner))
        inner = len(prefixes[-1]) + inner + len(suffix)
    graph = b"".join(reversed(prefixes)) + name_g + suffix * depth
    assert len(graph) == inner
    model: bytes = (bm._int(1, 7) + bm._bytes(7, graph)
                    + bm._bytes(8, bm._bytes(1, "") + bm._int(2, 13)))
    return model


def _entity_bomb() -> bytes:
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE net [", '<!ENTITY a0 "aaaaaaaaaa">']
    for i in range(1, 10):
        lines.append(f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">')
    lines += ["]>", '<net name="&a9;" version="11"><layers/><edges/></net>']
    return "\n".join(lines).encode()


def model_cases() -> list[Case]:
    xml, weights = digits_ir()
    onnx = digits_onnx()
    x_in = [([1, 64], F32, DIGITS_INPUT)]
    one = [([1], F32, b"\0\0\x80\x3f")]
    cases = [
        model_case("model_ir_valid", "the digits IR (control)", [xml, weights], 0, x_in, 0),
        model_case("model_ir_truncated_xml", "IR xml cut in half", [xml[: len(xml) // 2],
                   weights], 0, x_in, RUNTIME_ERROR),
        model_case("model_ir_truncated_weights", "weights cut in half (constants point past "
                   "their end)", [xml, weights[: len(weights) // 2]], 0, x_in, RUNTIME_ERROR),
        model_case("model_ir_no_weights", "empty weights", [xml, b""], 0, x_in, RUNTIME_ERROR),
        model_case("model_ir_garbage", "1 KiB of random bytes as xml and weights",
                   [b"<" + bytes(range(256)) * 4, bytes(range(256))], 0, x_in, RUNTIME_ERROR),
        model_case("model_ir_not_utf8", "xml with invalid UTF-8",
                   [xml.replace(b"witxgen", b"\xff\xfe\xfd", 1), weights], 0, x_in,
                   RUNTIME_ERROR),
        model_case("model_ir_offset_huge", "a constant at offset 2**64 - 16",
                   [xml.replace(b'offset="0"', b'offset="18446744073709551600"', 1), weights],
                   0, x_in, RUNTIME_ERROR),
        model_case("model_ir_const_shape_huge", "a constant declared [1048576, 1048576] with "
                   "8192 bytes", [xml.replace(b'shape="64, 32"', b'shape="1048576, 1048576"', 1),
                                  weights], 0, x_in, RUNTIME_ERROR),
        model_case("model_ir_entity_bomb", "xml with nested entity definitions (a billion "
                   "laughs)", [_entity_bomb(), b""], 0, x_in, RUNTIME_ERROR),
        model_case("model_ir_broadcast_16gib_output", "Broadcast to [65536, 65536] f32 as the "
                   "output (16 GiB)", list(_broadcast_ir([1 << 16, 1 << 16])), 0, one, TOO_LARGE),
        model_case("model_ir_broadcast_4tib_output", "Broadcast to [1<<20, 1<<20] f32 (4 TiB)",
                   list(_broadcast_ir([1 << 20, 1 << 20])), 0, one, TOO_LARGE),
        model_case("model_ir_16gib_intermediate", "Broadcast to [65536, 65536] then ReduceSum: "
                   "a 16 GiB intermediate, a 4-byte output",
                   list(_broadcast_ir([1 << 16, 1 << 16], reduce=True)), 0, one, TOO_LARGE),
        model_case("model_ir_16gib_constant_fold", "a constant Broadcast to [65536, 65536] "
                   "(folded when compiled) then ReduceSum",
                   list(_broadcast_ir([1 << 16, 1 << 16], reduce=True, const=True)), 0, one,
                   TOO_LARGE),
        model_case("model_ir_huge_parameter", "an input declared [1<<20, 1<<20] f32",
                   list(_huge_param_ir()), 0, one, TOO_LARGE),
        model_case("model_ir_value_shape_4tib", "Broadcast to a shape given as an input "
                   "value: [1<<20, 1<<20]", list(_dynamic_broadcast_ir()), 0,
                   [*one, ([2], 5, u32s(1 << 20, 0, 1 << 20, 0))],
                   _stage("compute", 2) + RUNTIME_ERROR),
        model_case("model_ir_value_shape_1gib", "Broadcast to a shape given as an input "
                   "value: [16384, 16384] (1 GiB)", list(_dynamic_broadcast_ir()), 0,
                   [*one, ([2], 5, u32s(1 << 14, 0, 1 << 14, 0))],
                   _stage("get", 2) + TOO_LARGE,
                   known_gap="memory that depends on input values is not bounded by Limits"),
        model_case("model_onnx_valid", "the digits ONNX model (control)", [onnx], 1, x_in, 0),
        model_case("model_onnx_truncated", "ONNX cut in half", [onnx[: len(onnx) // 2]], 1,
                   x_in, RUNTIME_ERROR),
        model_case("model_onnx_garbage", "1 KiB of random bytes as ONNX",
                   [bytes(range(256)) * 4], 1, x_in, RUNTIME_ERROR),
        model_case("model_onnx_external_data", "a tensor whose data is the host file "
                   "/etc/passwd (external data)", [_onnx_external_data()], 1, x_in,
                   RUNTIME_ERROR),
        model_case("model_onnx_nested_20k", "subgraphs nested 20,000 deep",
                   [_onnx_nested(20_000)], 1, x_in, RUNTIME_ERROR),
        model_case("model_onnx_constant_of_shape_16gib", "ConstantOfShape [65536, 65536]",
                   [_onnx_constant_of_shape(1 << 16)], 1, one, TOO_LARGE),
        model_case("model_tflite_valid", "a TFLite Add (control)", [TFLITE_ADD], 4,
                   [([2], F32, u32s(0, 0))], 0),
        model_case("model_tflite_truncated", "TFLite cut in half",
                   [TFLITE_ADD[: len(TFLITE_ADD) // 2]], 4, one, RUNTIME_ERROR),
        model_case("model_tflite_garbage", 'random bytes with the "TFL3" identifier',
                   [b"\x08\0\0\0TFL3" + bytes(range(255, -1, -1)) * 4], 4, one, RUNTIME_ERROR),
        model_case("model_autodetect_garbage", "autodetect on random bytes",
                   [bytes(range(256)) * 4], 5, one, RUNTIME_ERROR),
    ]
    return cases


@functools.cache
def all_cases() -> tuple[Case, ...]:
    cases = (*call_cases(), *model_cases())
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases


def case(name: str) -> Case:
    for c in all_cases():
        if c.name == name:
            return c
    raise KeyError(name)
