"""The wasi-nn runtime (runtime/witxgen_runtime) driven by real Wasm guests.

Guests are WAT assembled by tests/runtime_guests/nn_guest.py: a straight line of wasi-nn calls
whose errnos are all recorded, then a dump of the guest's memory to stdout. They run in-process
through `run_wasi` (the errno of every call, the handles and output bytes in guest memory and
`nn.errors` are checked) and, for exit codes and the command line, through `witxgen run`.

* One test per row of DESIGN.md §5's error table (`ROWS`), each errno compared with the number
  spec/wasi-nn.witx gives it, each error's detail checked in `nn.errors`; result out-pointers
  outside memory trap.
* Outputs compared bit for bit with native OpenVINO at f32 for a model of each tensor type, a
  two-input two-output model and the digits classifier (bytes and `--nn-graph` directories).
* Semantics: inputs copied at set_input, handles never reused, interleaved contexts, too_large
  writes nothing, limits.
* Running: exit codes, one-line trap reasons, modules that cannot run, args/env/preopens, the
  module cache, several guests in one process, add_wasi_nn on one's own Linker.
"""

from __future__ import annotations

import functools
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ov = pytest.importorskip("openvino")
np = pytest.importorskip("numpy")
wasmtime = pytest.importorskip("wasmtime")

from runtime_guests.nn_guest import (  # noqa: E402
    AUTODETECT,
    CPU,
    F16,
    F32,
    F64,
    GPU,
    I32,
    I64,
    ONNX,
    OPENVINO,
    PYTORCH,
    TENSORFLOW,
    TPU,
    U8,
    UNSET,
    Call,
    NnGuest,
    Outcome,
    Output,
    Slot,
)
from witxgen_runtime import Limits, RunConfig, RunResult, run_wasi  # noqa: E402
from witxgen_runtime.nn import ERRNO_BY_CODE  # noqa: E402

ops = ov.opset13

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "spec" / "wasi-nn.witx"
DIGITS = REPO / "examples" / "digits"


# --- errno values, from the spec text itself ------------------------------------------------


def spec_errnos() -> dict[str, int]:
    """nn_errno's cases and their values (case order) read from spec/wasi-nn.witx."""
    text = re.sub(r";;[^\n]*", "", SPEC.read_text("utf-8"))
    match = re.search(r"\(typename\s+\$nn_errno\s*\(enum\s*\(@witx\s+tag\s+\w+\)([^()]*)\)", text)
    assert match, "no nn_errno enum in the spec"
    return {name: value for value, name in enumerate(re.findall(r"\$(\w+)", match.group(1)))}


ERRNO = spec_errnos()
SUCCESS = ERRNO["success"]
INVALID_ARGUMENT = ERRNO["invalid_argument"]
INVALID_ENCODING = ERRNO["invalid_encoding"]
MISSING_MEMORY = ERRNO["missing_memory"]
RUNTIME_ERROR = ERRNO["runtime_error"]
UNSUPPORTED_OPERATION = ERRNO["unsupported_operation"]
TOO_LARGE = ERRNO["too_large"]
NOT_FOUND = ERRNO["not_found"]
ERRNO_NAME = {value: name for name, value in ERRNO.items()}


def test_errno_numbers_are_the_specs() -> None:
    assert ERRNO == {
        "success": 0, "invalid_argument": 1, "invalid_encoding": 2, "missing_memory": 3,
        "busy": 4, "runtime_error": 5, "unsupported_operation": 6, "too_large": 7,
        "not_found": 8,
    }
    assert {name: int(e) for name, e in ERRNO_BY_CODE.items()} == ERRNO  # the glue agrees


# --- models ---------------------------------------------------------------------------------

NP_TYPES: dict[int, Any] = {
    F16: np.float16, F32: np.float32, F64: np.float64, U8: np.uint8, I32: np.int32,
    I64: np.int64,
}
TYPE_NAMES = {F16: "f16", F32: "f32", F64: "f64", U8: "u8", I32: "i32", I64: "i64"}


@dataclass(frozen=True)
class Ir:
    """An OpenVINO IR model saved as DIR/model.xml + DIR/model.bin (wasmtime's layout)."""

    dir: Path

    @property
    def xml(self) -> bytes:
        return (self.dir / "model.xml").read_bytes()

    @property
    def weights(self) -> bytes:
        return (self.dir / "model.bin").read_bytes()

    @property
    def builders(self) -> list[bytes]:
        return [self.xml, self.weights]


def named(node: Any, name: str) -> Any:
    node.set_friendly_name(name)
    node.output(0).set_names({name})
    return node


def param(name: str, shape: Sequence[int], type_: int) -> Any:
    return named(ops.parameter(list(shape), getattr(ov.Type, TYPE_NAMES[type_])), name)


def const(name: str, value: Any) -> Any:
    return named(ops.constant(value), name)


def save(model: Any, directory: Path) -> Ir:
    directory.mkdir(parents=True)
    ov.save_model(model, str(directory / "model.xml"), compress_to_fp16=False)
    return Ir(directory)


def add_one_model() -> Any:
    """y = x + 1, f32 [2, 3]: the model the error rows provoke."""
    x = param("x", [2, 3], F32)
    y = named(ops.add(x, const("one", np.ones(1, np.float32))), "y")
    return ov.Model([y], [x], "add_one")


def typed_model(type_: int) -> Any:
    """y = max(x * scale + shift, floor) in one tensor type, [2, 3] (floats: values that round)."""
    dtype = NP_TYPES[type_]
    if type_ in (F16, F32, F64):
        scale, shift, floor = [[0.3], [-1.7]], [0.1, -0.2, 1 / 3], -0.5
    elif type_ == U8:
        scale, shift, floor = [[3], [2]], [7, 5, 11], 20
    else:
        scale, shift, floor = [[3], [-2]], [7, -5, 11], -10
    x = param("x", [2, 3], type_)
    scaled = named(ops.multiply(x, const("scale", np.array(scale, dtype))), "scaled")
    shifted = named(ops.add(scaled, const("shift", np.array(shift, dtype))), "shifted")
    y = named(ops.maximum(shifted, const("floor", np.array([floor], dtype))), "y")
    return ov.Model([y], [x], f"affine_{TYPE_NAMES[type_]}")


def two_by_two_model() -> Any:
    """a: f32 [2, 3], b: i32 [3] -> sum = a + f32(b) (f32 [2, 3]), square = b * b (i32 [3])."""
    a = param("a", [2, 3], F32)
    b = param("b", [3], I32)
    as_f32 = named(ops.convert(b, "f32"), "b_f32")
    total = named(ops.add(a, as_f32), "sum")
    square = named(ops.multiply(b, b), "square")
    return ov.Model([total, square], [a, b], "two_by_two")


@dataclass(frozen=True)
class Models:
    add_one: Ir
    two: Ir
    typed: dict[int, Ir]
    digits_ir: Path  # DIR/model.xml + model.bin, DIR's name "digits"
    digits_onnx: Path  # DIR/model.onnx, DIR's name "digits"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    root = tmp_path_factory.mktemp("models")
    ir_dir = root / "ir" / "digits"
    onnx_dir = root / "onnx" / "digits"
    ir_dir.mkdir(parents=True)
    onnx_dir.mkdir(parents=True)
    for name in ("model.xml", "model.bin"):
        (ir_dir / name).symlink_to(DIGITS / "model" / name)
    (onnx_dir / "model.onnx").symlink_to(DIGITS / "model" / "model.onnx")
    return Models(
        add_one=save(add_one_model(), root / "add_one"),
        two=save(two_by_two_model(), root / "two"),
        typed={t: save(typed_model(t), root / TYPE_NAMES[t]) for t in NP_TYPES},
        digits_ir=ir_dir,
        digits_onnx=onnx_dir,
    )


CORE = ov.Core()


@functools.cache
def _compiled(model_path: Path) -> Any:
    return CORE.compile_model(
        CORE.read_model(str(model_path)), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )


def native(model_path: Path, inputs: Sequence[Any]) -> list[bytes]:
    """Every output's bytes from native OpenVINO at f32 precision."""
    compiled = _compiled(model_path)
    request = compiled.create_infer_request()
    request.infer({i: array for i, array in enumerate(inputs)})
    return [bytes(request.get_output_tensor(i).data) for i in range(len(compiled.outputs))]


def digits_images(count: int) -> tuple[list[Any], list[int]]:
    """The first `count` held-out digits as f32 [1, 64] arrays, and their labels."""
    raw = (DIGITS / "data" / "heldout.bin").read_bytes()
    assert struct.unpack_from("<I", raw)[0] >= count
    records = [raw[4 + 65 * i:4 + 65 * (i + 1)] for i in range(count)]
    images = [np.frombuffer(r[:64], np.uint8).astype(np.float32).reshape(1, 64) for r in records]
    return images, [r[64] for r in records]


X = np.arange(-3, 3, dtype=np.float32).reshape(2, 3) / 4  # the add-one model's input
X_BYTES = X.tobytes()
Y_BYTES = (X + 1).tobytes()


def has_gpu() -> bool:
    return any(d.startswith("GPU") for d in CORE.available_devices)


# --- the error table, one row per case ------------------------------------------------------


@dataclass
class Ready:
    """A guest that has loaded the add-one model and opened a context on it (both succeed);
    shorthands for the calls the rows make (each expects success unless the row says)."""

    g: NnGuest
    graph: Slot
    ctx: Slot
    models: Models

    def tensor(self, dims: Sequence[int] = (2, 3), type_: int = F32,
               data: bytes = X_BYTES) -> int:
        return self.g.tensor(dims, type_, data)

    def set(self, index: int = 0, **tensor: Any) -> Call:
        """set_input on the context, of `self.tensor(**tensor)`."""
        return self.g.set_input(self.ctx, index, self.tensor(**tensor))

    def set_at(self, tensor_ptr: int) -> Call:
        return self.g.set_input(self.ctx, 0, tensor_ptr)

    def computed(self) -> Call:
        self.set()
        return self.g.compute(self.ctx)

    def get(self, index: int = 0, size: int = 64, buf: int | None = None) -> Output:
        return self.g.get_output(self.ctx, index, size, buf=buf)

    def load(self, builders: Sequence[bytes] | None = None, encoding: int = OPENVINO,
             target: int = CPU) -> Slot:
        """load, of the add-one model unless `builders` are given."""
        if builders is None:
            builders = self.models.add_one.builders
        return self.g.load(builders, encoding, target)

    def load_at(self, array_ptr: int, count: int) -> Call:
        """load of an openvino builder array at any address."""
        return self.g.call("load", array_ptr, count, OPENVINO, CPU, self.g.slot().addr)

    def name_at(self, ptr: int, length: int) -> Call:
        return self.g.call("load_by_name", ptr, length, self.g.slot().addr)

    def xml_and(self, ptr: int, length: int) -> int:
        """A two-entry builder array: the real xml, then (ptr, length)."""
        xml = self.models.add_one.xml
        row = struct.pack("<IIII", self.g.place(xml), len(xml), ptr, length)
        return self.g.place(row, 4)

    def dims(self) -> int:
        """A dims list [2, 3]; its address."""
        return self.g.place(struct.pack("<II", 2, 3), 4)

    def two_inputs_half_set(self) -> Call:
        ctx = self.g.init(self.load(self.models.two.builders))
        self.g.set_input(ctx, 0, self.tensor())
        return self.g.compute(ctx)


@dataclass(frozen=True)
class Row:
    id: str
    errno: int  # what the last call of `provoke` must return
    function: str
    detail: str  # a regex that nn.errors' last record must match
    provoke: Callable[[Ready], object]


IA, RE = INVALID_ARGUMENT, RUNTIME_ERROR
END = NnGuest().end  # one past guest memory
SI, GO, LD = "set_input", "get_output", "load"
ROWS = [
    # unknown graph / context handle; input or output index out of range
    Row("unknown-graph", IA, "init_execution_context", "unknown graph handle 999",
        lambda r: r.g.init(999)),
    Row("graph-handle-0", IA, "init_execution_context", "unknown graph handle 0",
        lambda r: r.g.init(0)),
    Row("unknown-context-set_input", IA, SI, "unknown execution context 999",
        lambda r: r.g.set_input(999, 0, r.tensor())),
    Row("unknown-context-compute", IA, "compute", "unknown execution context 999",
        lambda r: r.g.compute(999)),
    Row("unknown-context-get_output", IA, GO, "unknown execution context 999",
        lambda r: r.g.get_output(999, 0, 64)),
    Row("input-index", IA, SI, r"input index 1 out of range \(the model has 1\)",
        lambda r: r.set(index=1)),
    Row("input-index-2**32-1", IA, SI, "input index 4294967295 out of range",
        lambda r: r.set(index=0xFFFF_FFFF)),
    Row("output-index", IA, GO, r"output index 1 out of range \(the model has 1\)",
        lambda r: (r.computed(), r.get(index=1))),
    # data length != product(dims) x element size; dims or type not the model's
    Row("data-short", IA, SI, r"tensor data is 20 bytes; dims \[2, 3\] of f32 take 24",
        lambda r: r.set(data=X_BYTES[:-4])),
    Row("data-long", IA, SI, "tensor data is 25 bytes",
        lambda r: r.set(data=X_BYTES + b"\0")),
    Row("dims-transposed", IA, SI, r"takes shape \[2,3\], got dims \[3, 2\]",
        lambda r: r.set(dims=(3, 2))),
    Row("rank-differs", IA, SI, r"takes rank 2 \[2,3\], got dims \[6\]",
        lambda r: r.set(dims=(6,))),
    Row("type-i32", IA, SI, r"input 0 \(x\) takes f32, got i32",
        lambda r: r.set(type_=I32)),
    Row("type-f16", IA, SI, "takes f32, got f16",
        lambda r: r.set(type_=F16, data=X_BYTES[:12])),
    # rank 0, zero and overflowing dims
    Row("rank-0", IA, SI, r"rank-0 tensor \(empty dims\)",
        lambda r: r.set(dims=(), data=X_BYTES[:4])),
    Row("zero-dim", IA, SI, "dim 0 is 0; dims must be positive",
        lambda r: r.set(dims=(0, 3), data=b"")),
    Row("overflowing-dims", IA, SI, "overflow",
        lambda r: r.set(dims=(65536,) * 3, data=b"")),
    Row("dims-max-u32", IA, SI, "overflow",
        lambda r: r.set(dims=(0xFFFF_FFFF,), data=b"")),
    # 2 * (2**30 + 3) f32s are 2**33 + 24 bytes: 24 in u32 arithmetic, the data's true length.
    Row("dims-wrap-u32-to-data-length", IA, SI, "overflow",
        lambda r: r.set(dims=(2, 2**30 + 3))),
    # builder count wrong for the encoding
    Row("ir-one-builder", IA, LD,
        r"encoding openvino takes 2 builder\(s\) \(xml and weights\), got 1",
        lambda r: r.load([r.models.add_one.xml])),
    Row("ir-three-builders", IA, LD, "takes 2 builder.*got 3",
        lambda r: r.load([*r.models.add_one.builders, b""])),
    Row("ir-no-builders", IA, LD, "takes 2 builder.*got 0",
        lambda r: r.load_at(0, 0)),
    Row("onnx-two-builders", IA, LD, r"encoding onnx takes 1 builder\(s\) \(the model\), got 2",
        lambda r: r.load([b"a", b"b"], ONNX)),
    Row("autodetect-xml-alone", IA, LD, "OpenVINO IR XML needs 2 builders",
        lambda r: r.load([r.models.add_one.xml], AUTODETECT)),
    # encodings this host does not support
    Row("encoding-tensorflow", INVALID_ENCODING, LD, "encoding tensorflow is not supported",
        lambda r: r.load([b"model"], TENSORFLOW)),
    Row("encoding-pytorch", INVALID_ENCODING, LD, "encoding pytorch is not supported",
        lambda r: r.load([b"model"], PYTORCH)),
    # targets the host cannot serve
    Row("target-tpu", UNSUPPORTED_OPERATION, LD, "target tpu: this host has no TPU backend",
        lambda r: r.load(target=TPU)),
    Row("target-gpu", UNSUPPORTED_OPERATION, LD, "target gpu: OpenVINO reports no GPU device",
        lambda r: r.load(target=GPU)),
    # load_by_name of an unknown name
    Row("unknown-name", NOT_FOUND, "load_by_name", "no model named 'no-such-model'",
        lambda r: r.g.load_by_name("no-such-model")),
    Row("empty-name", NOT_FOUND, "load_by_name", "no model named ''",
        lambda r: r.g.load_by_name("")),
    # compute before every input is set; get_output before compute
    Row("compute-before-set_input", IA, "compute", r"inputs \[0\] not set before compute",
        lambda r: r.g.compute(r.ctx)),
    Row("compute-with-one-of-two-inputs", IA, "compute", r"inputs \[1\] not set before compute",
        lambda r: r.two_inputs_half_set()),
    Row("get_output-before-compute", IA, GO, "get_output before a successful compute",
        lambda r: r.get()),
    Row("get_output-after-set_input-only", IA, GO, "before a successful compute",
        lambda r: (r.set(), r.get())),
    # model bytes the backend rejects
    Row("garbage-ir-xml", RE, LD, "reading the model failed",
        lambda r: r.load([b"<net>not a model", b""])),
    Row("ir-xml-not-utf8", RE, LD, "OpenVINO IR xml is not UTF-8",
        lambda r: r.load([b"<?xml \xff\xfe", b""])),
    Row("ir-weights-truncated", RE, LD, "failed",
        lambda r: r.load([r.models.add_one.xml, r.models.add_one.weights[:-1]])),
    Row("garbage-onnx", RE, LD, "ONNX model rejected",
        lambda r: r.load([b"\x08\x07 garbage bytes"], ONNX)),
    Row("autodetect-garbage", RE, LD, "autodetect: not OpenVINO IR, TFLite or ONNX",
        lambda r: r.load([b"\x00garbage"], AUTODETECT)),
    Row("autodetect-two-builders-not-xml", RE, LD, "the first is not OpenVINO IR XML",
        lambda r: r.load([b"garbage", b""], AUTODETECT)),
    # non-UTF-8 name; enum tags out of range
    Row("name-not-utf8", IA, "load_by_name", "name: invalid UTF-8 at byte 6",
        lambda r: r.g.load_by_name(b"digits\xff")),
    Row("encoding-tag-6", IA, LD, r"encoding: 6 is not a valid GraphEncoding \(0..5\)",
        lambda r: r.load(encoding=6)),
    Row("encoding-tag-256", IA, LD, "encoding: 256 is not a valid GraphEncoding",
        lambda r: r.load(encoding=256)),
    Row("encoding-tag-negative", IA, LD, "encoding: 4294967295 is not a valid GraphEncoding",
        lambda r: r.load(encoding=-1)),
    Row("target-tag-3", IA, LD, r"target: 3 is not a valid ExecutionTarget \(0..2\)",
        lambda r: r.load(target=3)),
    Row("tensor-type-tag-6", IA, SI, r"tensor.type: 6 is not a valid TensorType \(0..5\)",
        lambda r: r.set(type_=6)),
    Row("tensor-type-tag-255", IA, SI, "tensor.type: 255 is not a valid TensorType",
        lambda r: r.set(type_=255)),
    # guest pointers and lengths out of bounds, in every pointer argument that can report
    Row("builder-array-past-end", IA, LD, "graph_builder: 8 byte.* outside guest memory",
        lambda r: r.load_at(END - 4, 1)),
    Row("builder-array-wraps-2**32", IA, LD,
        "graph_builder: 16 byte.*0xfffffff8 are outside guest memory",
        lambda r: r.load_at(0xFFFF_FFF8, 2)),
    # 0x2000_0001 entries of 8 bytes are 8 bytes in u32 arithmetic
    Row("builder-count-wraps-2**32", IA, LD, "graph_builder: .* outside guest memory",
        lambda r: r.load_at(r.xml_and(0, 0), 0x2000_0001)),
    Row("builder-bytes-past-end", IA, LD, "graph_builder: 16 byte.* outside guest memory",
        lambda r: r.load_at(r.xml_and(END - 8, 16), 2)),
    Row("builder-length-2**32-1", IA, LD,
        "graph_builder: 4294967295 byte.* outside guest memory",
        lambda r: r.load_at(r.xml_and(1024, 0xFFFF_FFFF), 2)),
    Row("name-past-end", IA, "load_by_name", "name: 4 byte.* outside guest memory",
        lambda r: r.name_at(END - 2, 4)),
    Row("name-wraps-2**32", IA, "load_by_name", "name: 2 byte.* outside guest memory",
        lambda r: r.name_at(0xFFFF_FFFF, 2)),
    Row("tensor-record-past-end", IA, SI, "tensor: 20 byte.* outside guest memory",
        lambda r: r.set_at(END - 10)),
    Row("tensor-dims-past-end", IA, SI, "tensor.dimensions: 8 byte.* outside guest memory",
        lambda r: r.set_at(r.g.tensor_at(END - 4, 2, F32, r.g.place(X_BYTES), 24))),
    # 2**30 u32 dims are 2**32 bytes: 0 in u32 arithmetic
    Row("tensor-dims-count-wraps-2**32", IA, SI, "tensor.dimensions: .* outside guest memory",
        lambda r: r.set_at(r.g.tensor_at(r.dims(), 2**30, F32, r.g.place(X_BYTES), 24))),
    Row("tensor-data-past-end", IA, SI, "tensor.data: 24 byte.* outside guest memory",
        lambda r: r.set_at(r.g.tensor_at(r.dims(), 2, F32, END - 8, 24))),
    Row("tensor-data-wraps-2**32", IA, SI,
        "tensor.data: 24 byte.*0xfffffff0 are outside guest memory",
        lambda r: r.set_at(r.g.tensor_at(r.dims(), 2, F32, 0xFFFF_FFF0, 24))),
    Row("output-buffer-past-end", IA, GO, "64 byte.* outside guest memory",
        lambda r: (r.computed(), r.get(buf=END - 32))),
    Row("output-buffer-size-2**32-1", IA, GO, "4294967295 byte.* outside guest memory",
        lambda r: (r.computed(), r.get(size=0xFFFF_FFFF, buf=1024))),
]


def _row_param(row: Row) -> Any:
    marks = []
    if row.id == "target-gpu":
        marks.append(pytest.mark.skipif(has_gpu(), reason="OpenVINO reports a GPU here"))
    return pytest.param(row, id=row.id, marks=marks)


@pytest.mark.parametrize("row", [_row_param(row) for row in ROWS])
def test_error_row(row: Row, models: Models) -> None:
    g = NnGuest()
    graph = g.load(models.add_one.builders)
    ready = Ready(g, graph, g.init(graph), models)
    row.provoke(ready)
    last = g.expect_last(row.errno)
    ready.computed()  # then the context made before the error still works
    y = ready.get(size=24)

    out = g.run()
    out.check()
    assert out.errno(last) == row.errno
    [record] = out.nn.errors
    assert (record.function, record.code) == (row.function, ERRNO_NAME[row.errno])
    assert re.search(row.detail, record.detail), record.detail
    assert "\n" not in record.detail
    assert out.output(y) == Y_BYTES


def test_every_table_row_is_covered() -> None:
    """Each errno of DESIGN.md §5's table has rows, for every wasi-nn function that can give it."""
    covered = {(row.function, row.errno) for row in ROWS}
    for function in ("load", "load_by_name", "init_execution_context", "set_input",
                     "get_output", "compute"):
        assert (function, INVALID_ARGUMENT) in covered, function
    assert {("load", INVALID_ENCODING), ("load", UNSUPPORTED_OPERATION),
            ("load_by_name", NOT_FOUND), ("load", RUNTIME_ERROR)} <= covered


def test_failed_calls_write_no_result(models: Models) -> None:
    """A failing call leaves its result slot as it was; the guest sees only the errno."""
    g = NnGuest()
    bad_graph = g.load([b"<net/>", b""], expect=RUNTIME_ERROR)
    bad_name = g.load_by_name("absent", expect=NOT_FOUND)
    bad_ctx = g.init(42, expect=INVALID_ARGUMENT)
    out = g.run()
    out.check()
    assert [out.u32(s) for s in (bad_graph, bad_name, bad_ctx)] == [UNSET] * 3


# --- traps: a result out-pointer outside memory ---------------------------------------------


def _trap_cases() -> list[Any]:
    def load(g: NnGuest, m: Models) -> None:
        g.call("load", g.builders(m.add_one.builders), 2, OPENVINO, CPU, g.end - 2)

    def load_wrapping(g: NnGuest, m: Models) -> None:
        g.call("load", g.builders(m.add_one.builders), 2, OPENVINO, CPU, 0xFFFF_FFFE)

    def load_by_name(g: NnGuest, m: Models) -> None:
        name = g.place(b"digits")
        g.call("load_by_name", name, 6, g.end)

    def init(g: NnGuest, m: Models) -> None:
        g.call("init_execution_context", g.load(m.add_one.builders), g.end - 3)

    def get_output(g: NnGuest, m: Models) -> None:
        ctx = g.init(g.load(m.add_one.builders))
        g.set_input(ctx, 0, g.tensor([2, 3], F32, X_BYTES))
        g.compute(ctx)
        g.call("get_output", ctx, 0, g.buffer(64), 64, g.end - 1)

    return [
        pytest.param(load, "load", "graph_out_ptr", id="load"),
        pytest.param(load_wrapping, "load", "graph_out_ptr=0xfffffffe", id="load-wraps"),
        pytest.param(load_by_name, "load_by_name", "graph_out_ptr", id="load_by_name"),
        pytest.param(init, "init_execution_context", "graph_execution_context_out_ptr",
                     id="init_execution_context"),
        pytest.param(get_output, "get_output", "buffer_size_out_ptr", id="get_output"),
    ]


@pytest.mark.parametrize(("make", "function", "pointer"), _trap_cases())
def test_result_pointer_out_of_bounds_traps(
    make: Callable[[NnGuest, Models], None], function: str, pointer: str, models: Models
) -> None:
    g = NnGuest()
    make(g, models)
    out = g.run(RunConfig(nn_graphs=[f"openvino::{models.digits_ir}"]))
    result = out.result
    assert result.exit_code == 134
    assert result.trap is not None and "\n" not in result.trap
    assert result.trap.startswith(f"wasi_ephemeral_nn.{function}: result pointer {pointer}")
    assert "is outside guest memory" in result.trap
    assert "the call cannot report an error" in result.trap
    assert out.nn.errors[-1].function == function and out.nn.errors[-1].code == "trap"
    # Checked before any work: the trapping call made no graph or context.
    expected_graphs = 0 if function in ("load", "load_by_name") else 1
    assert out.nn.backend.stats()["graphs"] == expected_graphs
    assert out.nn.backend.stats()["contexts"] == (1 if function == "get_output" else 0)


MISSING_MEMORY_GUEST = f"""(module
  (import "wasi_ephemeral_nn" "init_execution_context"
    (func $init (param i32 i32) (result i32)))
  (func (export "_start")
    (if (i32.ne (call $init (i32.const 1) (i32.const 0)) (i32.const {MISSING_MEMORY}))
      (then unreachable))))
"""


def test_missing_memory() -> None:
    """A guest exporting no memory gets missing_memory, not a crash."""
    result = run_wasi(wasmtime.wat2wasm(MISSING_MEMORY_GUEST), RunConfig(cache_dir=None))
    assert (result.exit_code, result.trap) == (0, None)
    assert result.nn is not None and result.nn.errors[-1].code == "missing_memory"


# --- outputs: too_large, nothing written -------------------------------------------------------


def test_output_too_small_writes_nothing(models: Models) -> None:
    g = NnGuest()
    ctx = g.init(g.load(models.add_one.builders))
    g.set_input(ctx, 0, g.tensor([2, 3], F32, X_BYTES))
    g.compute(ctx)
    fence = g.buffer(64, fill=0x5A)  # the buffers sit inside a fence of 0x5A
    small = g.get_output(ctx, 0, 23, buf=fence + 16, expect=TOO_LARGE)
    empty = g.get_output(ctx, 0, 0, buf=fence + 40, expect=TOO_LARGE)
    exact = g.get_output(ctx, 0, 24)
    roomy = g.get_output(ctx, 0, 40)
    again = g.get_output(ctx, 0, 24)  # outputs can be read again
    out = g.run()
    out.check()

    record = [e for e in out.nn.errors if e.code == "too_large"][0]
    assert record.function == "get_output"
    assert record.detail == "output 0 is 24 bytes; the buffer holds 23"
    assert out.read(fence, 64) == b"\x5a" * 64
    assert out.u32(small.size) == UNSET and out.u32(empty.size) == UNSET
    assert out.u32(exact.size) == 24 and out.output(exact) == Y_BYTES
    # A larger buffer: only the output's bytes are written, the rest is untouched.
    assert out.u32(roomy.size) == 24
    assert out.read(roomy.buf, 40) == Y_BYTES + b"\xaa" * 16
    assert out.output(again) == Y_BYTES


def test_output_buffer_partly_outside_memory_writes_nothing(models: Models) -> None:
    g = NnGuest()
    ctx = g.init(g.load(models.add_one.builders))
    g.set_input(ctx, 0, g.tensor([2, 3], F32, X_BYTES))
    g.compute(ctx)
    g.overwrite(g.end - 16, b"\x77" * 16)
    bad = g.get_output(ctx, 0, 32, buf=g.end - 16, expect=INVALID_ARGUMENT)
    out = g.run()
    out.check()
    assert out.read(g.end - 16, 16) == b"\x77" * 16
    assert out.u32(bad.size) == UNSET


# --- semantics ------------------------------------------------------------------------------


def test_inputs_are_copied_at_set_input(models: Models) -> None:
    g = NnGuest()
    ctx = g.init(g.load(models.add_one.builders))
    data = g.place(X_BYTES)
    g.set_input(ctx, 0, g.tensor([2, 3], F32, (data, 24)))
    g.overwrite(data, bytes(24))  # the guest reuses its buffer after set_input
    g.compute(ctx)
    first = g.get_output(ctx, 0, 24)
    g.overwrite(data, (X * 2).tobytes())
    g.set_input(ctx, 0, g.tensor([2, 3], F32, (data, 24)))  # set again: the new data counts
    g.overwrite(data, b"\xff" * 24)
    g.compute(ctx)
    second = g.get_output(ctx, 0, 24)
    out = g.run()
    out.check()
    assert out.output(first) == Y_BYTES
    assert out.output(second) == (X * 2 + 1).tobytes()


def test_failed_set_input_keeps_the_previous_input(models: Models) -> None:
    g = NnGuest()
    ctx = g.init(g.load(models.add_one.builders))
    g.set_input(ctx, 0, g.tensor([2, 3], F32, X_BYTES))
    g.set_input(ctx, 0, g.tensor([3, 2], F32, (X * 9).tobytes()), expect=INVALID_ARGUMENT)
    g.compute(ctx)
    y = g.get_output(ctx, 0, 24)
    out = g.run()
    out.check()
    assert out.output(y) == Y_BYTES


def test_handles_are_never_reused(models: Models) -> None:
    g = NnGuest()
    graphs = [g.load(models.add_one.builders)]
    graphs.append(g.load([b"<net/>", b""], expect=RUNTIME_ERROR))  # a failed load
    graphs.append(g.load(models.add_one.builders))
    graphs.append(g.load_by_name("digits"))
    graphs.append(g.load_by_name("digits"))  # the same name again: a new handle
    contexts = [g.init(graphs[0]), g.init(graphs[0]), g.init(999, expect=INVALID_ARGUMENT),
                g.init(graphs[2]), g.init(graphs[3]), g.init(graphs[4])]
    out = g.run(RunConfig(nn_graphs=[f"openvino::{models.digits_ir}"]))
    out.check()
    graph_handles = [out.u32(s) for s in graphs]
    context_handles = [out.u32(s) for s in contexts]
    assert graph_handles[1] == UNSET and context_handles[2] == UNSET
    made_graphs = [h for h in graph_handles if h != UNSET]
    made_contexts = [h for h in context_handles if h != UNSET]
    assert len(set(made_graphs)) == 4 and 0 not in made_graphs
    assert len(set(made_contexts)) == 5 and 0 not in made_contexts
    assert made_graphs == sorted(made_graphs) and made_contexts == sorted(made_contexts)


def test_contexts_on_one_graph_interleave(models: Models) -> None:
    inputs = [X, X * 3, -X]
    g = NnGuest()
    graph = g.load(models.add_one.builders)
    contexts = [g.init(graph) for _ in inputs]
    for ctx, x in zip(contexts[:2], inputs[:2], strict=True):
        g.set_input(ctx, 0, g.tensor([2, 3], F32, x.tobytes()))
    g.compute(contexts[1])
    g.compute(contexts[0])
    g.set_input(contexts[2], 0, g.tensor([2, 3], F32, inputs[2].tobytes()))
    first = g.get_output(contexts[0], 0, 24)
    g.compute(contexts[2])  # computing another context leaves this one's output alone
    g.compute(contexts[1])  # and computing again gives the same output
    outputs = [g.get_output(ctx, 0, 24) for ctx in contexts]
    out = g.run()
    out.check()
    expected = [(x + 1).tobytes() for x in inputs]
    assert [out.output(o) for o in outputs] == expected
    assert out.output(first) == expected[0]
    assert out.nn.backend.stats() == {"graphs": 1, "contexts": 3,
                                      "model_bytes": sum(map(len, models.add_one.builders))}


@pytest.mark.parametrize(
    ("limits", "errno", "detail"),
    [
        (Limits(max_graphs=1), TOO_LARGE, "already 1 graphs"),
        (Limits(max_contexts=1), TOO_LARGE, "already 1 contexts"),
        (Limits(max_output_bytes=23), TOO_LARGE, "more than the limit of 23"),
        (Limits(max_builders=1), INVALID_ARGUMENT, "more than the limit of 1"),
    ],
    ids=["graphs", "contexts", "output-bytes", "builders"],
)
def test_limits_give_an_errno(limits: Limits, errno: int, detail: str, models: Models) -> None:
    g = NnGuest()
    expect_load = INVALID_ARGUMENT if limits.max_builders == 1 else SUCCESS
    graph = g.load(models.add_one.builders, expect=expect_load)
    if expect_load == SUCCESS:
        ctx = g.init(graph)
        g.set_input(ctx, 0, g.tensor([2, 3], F32, X_BYTES))
        g.compute(ctx)
        g.get_output(ctx, 0, 24, expect=errno if limits.max_output_bytes == 23 else SUCCESS)
        g.init(graph, expect=errno if limits.max_contexts == 1 else SUCCESS)
        g.load(models.add_one.builders, expect=errno if limits.max_graphs == 1 else SUCCESS)
    out = g.run(RunConfig(limits=limits))
    out.check()
    errors = out.nn.errors
    assert len(errors) == 1 and errors[0].code == ERRNO_NAME[errno]
    assert detail in errors[0].detail


# --- bit for bit against native OpenVINO (f32) ----------------------------------------------


def sample(type_: int, shape: Sequence[int], seed: int) -> Any:
    rng = np.random.default_rng(seed)
    dtype = NP_TYPES[type_]
    if type_ in (F16, F32, F64):
        return (rng.standard_normal(shape) * 4).astype(dtype)
    if type_ == U8:
        return rng.integers(0, 100, shape).astype(dtype)
    return rng.integers(-1000, 1000, shape).astype(dtype)


@pytest.mark.parametrize("type_", list(NP_TYPES), ids=list(TYPE_NAMES.values()))
def test_each_tensor_type_matches_native_openvino(type_: int, models: Models) -> None:
    model = models.typed[type_]
    batches = [sample(type_, (2, 3), seed) for seed in range(3)]
    g = NnGuest()
    ctx = g.init(g.load(model.builders))
    outputs = []
    for x in batches:
        g.set_input(ctx, 0, g.tensor([2, 3], type_, x.tobytes()))
        g.compute(ctx)
        outputs.append(g.get_output(ctx, 0, 64))
    out = g.run()
    out.check()
    for x, output in zip(batches, outputs, strict=True):
        expected = native(model.dir / "model.xml", [x])[0]
        assert len(expected) == 6 * NP_TYPES[type_]().itemsize
        assert out.output(output) == expected


def test_two_inputs_two_outputs_match_native_openvino(models: Models) -> None:
    a = sample(F32, (2, 3), 1)
    b = np.array([3, -40, 7000], np.int32)
    g = NnGuest()
    ctx = g.init(g.load(models.two.builders))
    g.set_input(ctx, 1, g.tensor([3], I32, b.tobytes()))  # any order
    g.set_input(ctx, 0, g.tensor([2, 3], F32, a.tobytes()))
    g.set_input(ctx, 1, g.tensor([2, 3], F32, a.tobytes()), expect=INVALID_ARGUMENT)
    g.set_input(ctx, 0, g.tensor([3], I32, b.tobytes()), expect=INVALID_ARGUMENT)
    g.compute(ctx)
    square = g.get_output(ctx, 1, 64)
    total = g.get_output(ctx, 0, 64)
    g.get_output(ctx, 2, 64, expect=INVALID_ARGUMENT)
    out = g.run()
    out.check()
    expected = native(models.two.dir / "model.xml", [a, b])
    assert [out.output(total), out.output(square)] == expected
    assert expected[1] == (b * b).tobytes()


DIGITS_SOURCES = [
    pytest.param(OPENVINO, "ir", id="openvino"),
    pytest.param(ONNX, "onnx", id="onnx"),
    pytest.param(AUTODETECT, "ir", id="autodetect-ir"),
    pytest.param(AUTODETECT, "onnx", id="autodetect-onnx"),
]


def _digits_bytes(kind: str) -> list[bytes]:
    if kind == "ir":
        return [(DIGITS / "model" / n).read_bytes() for n in ("model.xml", "model.bin")]
    return [(DIGITS / "model" / "model.onnx").read_bytes()]


def _classify(g: NnGuest, graph: Slot, images: Sequence[Any]) -> list[Any]:
    ctx = g.init(graph)
    outputs = []
    for image in images:
        g.set_input(ctx, 0, g.tensor([1, 64], F32, image.tobytes()))
        g.compute(ctx)
        outputs.append(g.get_output(ctx, 0, 40))
    return outputs


@pytest.mark.parametrize(("encoding", "kind"), DIGITS_SOURCES)
def test_digits_from_bytes_match_native_openvino(encoding: int, kind: str) -> None:
    images, labels = digits_images(6)
    g = NnGuest()
    outputs = _classify(g, g.load(_digits_bytes(kind), encoding), images)
    out = g.run()
    out.check()
    path = DIGITS / "model" / ("model.xml" if kind == "ir" else "model.onnx")
    scores = [out.output(o) for o in outputs]
    assert scores == [native(path, [image])[0] for image in images]
    predicted = [int(np.argmax(np.frombuffer(s, np.float32))) for s in scores]
    assert sum(p == label for p, label in zip(predicted, labels, strict=True)) >= 5


@pytest.mark.parametrize("encoding", ["openvino", "onnx", "autodetect"])
def test_named_models_match_native_openvino(encoding: str, models: Models) -> None:
    directory = models.digits_onnx if encoding == "onnx" else models.digits_ir
    images, _ = digits_images(3)
    g = NnGuest()
    first = g.load_by_name("digits")
    outputs = _classify(g, first, images)
    second = g.load_by_name("digits")  # shares the compiled model; a new handle
    outputs += _classify(g, second, images[:1])
    out = g.run(RunConfig(nn_graphs=[f"{encoding}::{directory}"]))
    out.check()
    assert out.u32(first) != out.u32(second)
    model = directory / ("model.onnx" if encoding == "onnx" else "model.xml")
    expected = [native(model, [image])[0] for image in [*images, images[0]]]
    assert [out.output(o) for o in outputs] == expected


def test_precision_auto_runs_close_to_f32(models: Models) -> None:
    """--precision auto (bf16 where the CPU has it): close to f32, not bit for bit."""
    images, _ = digits_images(6)
    g = NnGuest()
    outputs = _classify(g, g.load_by_name("digits"), images)
    out = g.run(RunConfig(nn_graphs=[f"openvino::{models.digits_ir}"], precision="auto"))
    out.check()
    for output, image in zip(outputs, images, strict=True):
        got = np.frombuffer(out.output(output), np.float32)
        want = np.frombuffer(native(models.digits_ir / "model.xml", [image])[0], np.float32)
        assert np.allclose(got, want, atol=0.05)


HOSTILE_PROCESS = """
import ctypes, gc, os, sys
from witxgen_runtime import RunConfig, run_wasi
nn_guest, trap_guest = (open(path, "rb").read() for path in sys.argv[1:3])
config = RunConfig(cache_dir=None, stdout=os.devnull)
first = run_wasi(nn_guest, config)
second = run_wasi(nn_guest, config)
del first; gc.collect()  # the runs' OpenVINO state goes in the order it came
del second; gc.collect()
result = run_wasi(trap_guest, RunConfig(cache_dir=None))
print(result.exit_code, result.trap)

# What an ov.Core destroyed out of order leaves: a freed alternate signal stack.
class StackT(ctypes.Structure):
    _fields_ = [("sp", ctypes.c_void_p), ("flags", ctypes.c_int), ("size", ctypes.c_size_t)]
libc = ctypes.CDLL(None)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
freed = libc.mmap(None, 1 << 16, 3, 0x22, -1, 0)
libc.munmap(freed, 1 << 16)
assert libc.sigaltstack(ctypes.byref(StackT(freed, 0, 1 << 16)), None) == 0
result = run_wasi(trap_guest, RunConfig(cache_dir=None))
print(result.exit_code, result.trap)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux signal stacks")
def test_a_trap_after_openvino_is_a_trap(models: Models, tmp_path: Path) -> None:
    """A guest that traps after others computed in the same process (conformance workers, any
    embedder's loop), and after something left the thread a freed alternate signal stack (what
    OpenVINO's CPU plugin does when Cores are destroyed out of order): each trap is a trap, not
    a SIGSEGV of the host. (In a subprocess, since the failure kills the process.)"""
    g = NnGuest()
    ctx = g.init(g.load(models.add_one.builders))
    g.set_input(ctx, 0, g.tensor([2, 3], F32, X_BYTES))
    g.compute(ctx)
    (tmp_path / "nn.wasm").write_bytes(g.wasm())
    (tmp_path / "trap.wasm").write_bytes(wasi_guest("unreachable"))
    proc = subprocess.run(
        [sys.executable, "-c", HOSTILE_PROCESS, "nn.wasm", "trap.wasm"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("134 wasm `unreachable` instruction executed") for line in lines)


def test_add_wasi_nn_to_your_own_linker(models: Models) -> None:
    """The Python API of the README: add_wasi_nn on one's own Linker and Store."""
    from witxgen_runtime import OpenVinoNn, add_wasi_nn

    g = NnGuest()
    ctx = g.init(g.load_by_name("digits"))
    g.init(77, expect=INVALID_ARGUMENT)
    images, _ = digits_images(1)
    g.set_input(ctx, 0, g.tensor([1, 64], F32, images[0].tobytes()))
    g.compute(ctx)
    y = g.get_output(ctx, 0, 40)

    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    nn = OpenVinoNn(precision="f32")
    assert nn.register(f"openvino::{models.digits_ir}") == "digits"
    add_wasi_nn(linker, nn)
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())  # stdout goes nowhere: memory is read directly
    instance = linker.instantiate(store, wasmtime.Module(engine, g.wasm()))
    start = instance.exports(store)["_start"]
    memory = instance.exports(store)["memory"]
    assert isinstance(start, wasmtime.Func) and isinstance(memory, wasmtime.Memory)
    start(store)
    out = Outcome(RunResult(0, None, nn), bytes(memory.read(store, 0, g.end)), g.calls)
    out.check()
    assert out.output(y) == native(models.digits_ir / "model.xml", images)[0]
    [record] = nn.errors
    assert (record.function, record.code) == ("init_execution_context", "invalid_argument")


def test_nn_graph_with_no_model_is_an_error(tmp_path: Path) -> None:
    from witxgen_runtime import NnError

    def run(directory: Path) -> None:
        run_wasi(NnGuest().wasm(), RunConfig(nn_graphs=[f"openvino::{directory}"],
                                             cache_dir=None))

    with pytest.raises(NnError, match="not_found: model directory .* does not exist"):
        run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NnError, match="has no model.xml or model.bin"):
        run(tmp_path / "empty")


def test_compiled_module_cache(tmp_path: Path, models: Models) -> None:
    g = NnGuest()
    ctx = g.init(g.load(models.add_one.builders))
    g.set_input(ctx, 0, g.tensor([2, 3], F32, X_BYTES))
    g.compute(ctx)
    y = g.get_output(ctx, 0, 24)
    wasm = g.wasm()
    cache = tmp_path / "cache"
    for _ in range(2):
        stdout = tmp_path / "stdout"
        result = run_wasi(wasm, RunConfig(cache_dir=cache, stdout=str(stdout)))
        assert (result.exit_code, result.trap) == (0, None)
        assert Outcome(result, stdout.read_bytes(), g.calls).output(y) == Y_BYTES
    assert len(list(cache.glob("*.cwasm"))) == 1


# --- the command line: witxgen run ------------------------------------------------------------

WASI_FUNCS = {
    "args_sizes_get": "(param i32 i32) (result i32)",
    "args_get": "(param i32 i32) (result i32)",
    "environ_sizes_get": "(param i32 i32) (result i32)",
    "environ_get": "(param i32 i32) (result i32)",
    "fd_prestat_get": "(param i32 i32) (result i32)",
    "fd_prestat_dir_name": "(param i32 i32 i32) (result i32)",
    "path_open": "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)",
    "fd_read": "(param i32 i32 i32 i32) (result i32)",
    "fd_write": "(param i32 i32 i32 i32) (result i32)",
    "proc_exit": "(param i32)",
}


def wasi_guest(body: str, data: str = "") -> bytes:
    """A WASI command: `body` is _start's code; $write(ptr, len) writes to stdout and
    $ok(errno) exits with 100 + errno unless it is 0."""
    imports = "\n".join(
        f'  (import "wasi_snapshot_preview1" "{name}" (func ${name} {sig}))'
        for name, sig in WASI_FUNCS.items()
    )
    return bytes(wasmtime.wat2wasm(f"""(module
{imports}
  (memory (export "memory") 1)
  {data}
  (func $write (param $p i32) (param $n i32)
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (local.get $n))
    (call $ok (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $ok (param $errno i32)
    (if (local.get $errno) (then (call $proc_exit (i32.add (i32.const 100) (local.get $errno))))))
  (func (export "_start")
    {body}))
"""))


# Prints argv, the environment, the first preopen's guest path and hello.txt read from it (each
# followed by "|"), then exits with 3.
ECHO_GUEST = wasi_guest(
    data='(data (i32.const 64) "hello.txt|")',
    body="""
    (call $ok (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (call $ok (call $args_get (i32.const 1024) (i32.const 2048)))
    (call $write (i32.const 2048) (i32.load (i32.const 20)))
    (call $write (i32.const 73) (i32.const 1))
    (call $ok (call $environ_sizes_get (i32.const 16) (i32.const 20)))
    (call $ok (call $environ_get (i32.const 1024) (i32.const 4096)))
    (call $write (i32.const 4096) (i32.load (i32.const 20)))
    (call $write (i32.const 73) (i32.const 1))
    (call $ok (call $fd_prestat_get (i32.const 3) (i32.const 16)))
    (call $ok (call $fd_prestat_dir_name (i32.const 3) (i32.const 8192) (i32.load (i32.const 20))))
    (call $write (i32.const 8192) (i32.load (i32.const 20)))
    (call $write (i32.const 73) (i32.const 1))
    (call $ok (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 9)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 24)))
    (i32.store (i32.const 32) (i32.const 12288))
    (i32.store (i32.const 36) (i32.const 1000))
    (call $ok (call $fd_read (i32.load (i32.const 24)) (i32.const 32) (i32.const 1)
      (i32.const 40)))
    (call $write (i32.const 12288) (i32.load (i32.const 40)))
    (call $write (i32.const 73) (i32.const 1))
    (call $proc_exit (i32.const 3))""",
)


def witxgen_run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cwd / "cache")}
    env.pop("WITXGEN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "witxgen", "run", *map(str, args)],
        cwd=cwd, env=env, capture_output=True, timeout=120, check=False,
    )


def one_line_stderr(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in text
    assert text.endswith("\n") and text.count("\n") == 1, text
    return text.rstrip("\n")


@pytest.fixture
def hello_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello.txt").write_text("hello from the host\n")
    return data


def test_args_env_and_dirs_reach_the_guest_run_wasi(hello_dir: Path, tmp_path: Path) -> None:
    stdout = tmp_path / "stdout"
    result = run_wasi(ECHO_GUEST, RunConfig(
        args=["alpha", "two words"], env=[("A", "1"), ("B", "x=y")],
        dirs=[(str(hello_dir), "/sandbox")], cache_dir=None, stdout=str(stdout)))
    assert result == RunResult(3, None, result.nn)
    assert stdout.read_bytes().split(b"|") == [
        b"guest.wasm\0alpha\0two words\0", b"A=1\0B=x=y\0", b"/sandbox",
        b"hello from the host\n", b"",
    ]


def test_cli_args_env_and_dirs_reach_the_guest(hello_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "echo.wasm").write_bytes(ECHO_GUEST)
    proc = witxgen_run("--dir", f"{hello_dir}::/sandbox", "--env", "A=1", "--env", "B=x=y",
                       "echo.wasm", "alpha", "--not-an-option", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr  # the guest's proc_exit(3)
    assert proc.stderr == b""
    assert proc.stdout.split(b"|") == [
        b"echo.wasm\0alpha\0--not-an-option\0", b"A=1\0B=x=y\0", b"/sandbox",
        b"hello from the host\n", b"",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("unreachable", "wasm `unreachable` instruction executed"),
        ("(drop (i32.load (i32.const 0x7fff0000)))", "out of bounds memory access"),
        ("(call $recurse)", "call stack exhausted"),
        ("(call $proc_exit (i32.const 200))", "exit with invalid exit status outside of"),
    ],
    ids=["unreachable", "out-of-bounds", "stack-overflow", "exit-200"],
)
def test_guest_traps_give_a_one_line_reason(body: str, reason: str) -> None:
    wasm = wasi_guest(body, data="(func $recurse (call $recurse))")
    result = run_wasi(wasm, RunConfig(cache_dir=None))
    assert result.exit_code == 134 and result.trap is not None
    assert re.fullmatch(re.escape(reason) + r".* \(at wasm offset 0x[0-9a-f]+\)", result.trap)


def test_cli_trap_exits_134_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "trap.wasm").write_bytes(wasi_guest("unreachable"))
    proc = witxgen_run("trap.wasm", cwd=tmp_path)
    assert proc.returncode == 134
    line = one_line_stderr(proc)
    assert re.fullmatch(r"witxgen: trap\.wasm: trap: wasm `unreachable` instruction executed "
                        r"\(at wasm offset 0x[0-9a-f]+\)", line), line


def test_cli_host_trap_exits_134_with_one_line(tmp_path: Path) -> None:
    g = NnGuest()
    g.call("init_execution_context", 1, g.end)
    (tmp_path / "oob.wasm").write_bytes(g.wasm())
    proc = witxgen_run("oob.wasm", cwd=tmp_path)
    assert proc.returncode == 134
    line = one_line_stderr(proc)
    assert line.startswith("witxgen: oob.wasm: trap: wasi_ephemeral_nn.init_execution_context: "
                           "result pointer graph_execution_context_out_ptr=0x40000"), line


CANNOT_RUN = [
    pytest.param(b"garbage, not wasm", "expected `(`", id="text"),
    pytest.param(b"\0asm\x01\0\0\0\xff", "failed to parse WebAssembly module",
                 id="truncated-binary"),
    pytest.param(wasmtime.wat2wasm('(module (memory (export "memory") 1))'),
                 "the module has no `_start` function (not a WASI command)", id="no-start"),
    pytest.param(wasmtime.wat2wasm('(module (import "env" "f" (func)) (func (export "_start")))'),
                 "unknown import: `env::f` has not been defined", id="unknown-import"),
]


@pytest.mark.parametrize(("wasm", "message"), CANNOT_RUN)
def test_module_that_cannot_run_raises(wasm: bytes, message: str) -> None:
    """Not a trap: run_wasi raises WasmtimeError (witxgen run: exit 1), as wasmtime's CLI does."""
    with pytest.raises(wasmtime.WasmtimeError) as info:
        run_wasi(wasm, RunConfig(cache_dir=None))
    assert message in str(info.value)


def test_dir_that_cannot_be_preopened_raises(tmp_path: Path) -> None:
    with pytest.raises(wasmtime.WasmtimeError, match="cannot preopen directory .*missing as /d"):
        run_wasi(wasi_guest(""), RunConfig(dirs=[(str(tmp_path / "missing"), "/d")],
                                           cache_dir=None))


def test_cli_module_that_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "bad.wasm").write_bytes(wasmtime.wat2wasm('(module (func (export "main")))'))
    proc = witxgen_run("bad.wasm", cwd=tmp_path)
    assert proc.returncode == 1
    assert one_line_stderr(proc) == (
        "witxgen: error: bad.wasm: the module has no `_start` function (not a WASI command)"
    )


def test_cli_unknown_nn_graph_dir(tmp_path: Path) -> None:
    (tmp_path / "ok.wasm").write_bytes(wasi_guest(""))
    proc = witxgen_run("--nn-graph", f"openvino::{tmp_path / 'missing'}", "ok.wasm",
                       cwd=tmp_path)
    assert proc.returncode == 1
    line = one_line_stderr(proc)
    missing = tmp_path / "missing"
    assert line == f"witxgen: error: not_found: model directory {missing} does not exist"


def test_cli_named_model_matches_native_openvino(models: Models, tmp_path: Path) -> None:
    images, _ = digits_images(2)
    g = NnGuest()
    outputs = _classify(g, g.load_by_name("digits"), images)
    (tmp_path / "digits.wasm").write_bytes(g.wasm())
    proc = witxgen_run("--nn-graph", f"onnx::{models.digits_onnx}", "--precision", "f32",
                       "digits.wasm", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, b"")
    out = Outcome(RunResult(0), proc.stdout, g.calls)
    assert [out.output(o) for o in outputs] == [
        native(models.digits_onnx / "model.onnx", [image])[0] for image in images
    ]
    assert list((tmp_path / "cache").rglob("*.cwasm")), "the module was not cached"
