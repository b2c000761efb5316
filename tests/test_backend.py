"""The OpenVINO backend core (runtime/witxgen_runtime/backend.py), without wasm.

Models are built in-process with OpenVINO's opset API and handed to the backend as bytes, the way a
guest hands them over; ONNX models are protobuf bytes encoded here by hand (the `onnx` package, when
installed, only cross-checks them) and the TFLite model is a 372-byte flatbuffer kept inline.

Facts of OpenVINO's CPU plugin that the tests respect (native OpenVINO behaves the same, and the
*_match_native_openvino test pins that the backend adds nothing): f64 is computed as f32, i64 as
i32, and u8 addition saturates; the bit-for-bit comparisons against numpy use values where those
agree with numpy's arithmetic.
"""

from __future__ import annotations

import base64
import gc
import logging
import math
import random
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

ov = pytest.importorskip("openvino")
np = pytest.importorskip("numpy")

# The runtime package is installed normally (runtime/witxgen_runtime is in the wheel); from a
# checkout without the install, find it next to the tests.
_RUNTIME = Path(__file__).resolve().parents[1] / "runtime"
if str(_RUNTIME) not in sys.path:
    sys.path.insert(0, str(_RUNTIME))

from witxgen_runtime import backend as backend_module  # noqa: E402
from witxgen_runtime.backend import OpenVinoBackend, detect_encoding  # noqa: E402
from witxgen_runtime.errors import ERROR_CODES, NnError  # noqa: E402
from witxgen_runtime.limits import Limits  # noqa: E402

ops = ov.opset13
TYPES = {
    "f16": np.float16,
    "f32": np.float32,
    "f64": np.float64,
    "u8": np.uint8,
    "i32": np.int32,
    "i64": np.int64,
}


# --- models ------------------------------------------------------------------------------


def add_one(type_name: str, shape: Any = (2, 3)) -> Any:
    dtype = TYPES[type_name]
    x = ops.parameter(shape, getattr(ov.Type, type_name), name="x")
    y = ops.add(x, ops.constant(np.array([1], dtype)))
    return ov.Model([y], [x], f"add_one_{type_name}")


def sum_product() -> Any:
    a = ops.parameter([2, 2], ov.Type.f32, name="a")
    b = ops.parameter([2, 2], ov.Type.f32, name="b")
    return ov.Model([ops.add(a, b), ops.multiply(a, b)], [a, b], "sum_product")


def add_bias(shape: Any) -> Any:
    """x + [1, 2, 3] with a dynamic or bounded shape."""
    x = ops.parameter(ov.PartialShape(shape), ov.Type.f32, name="x")
    y = ops.add(x, ops.constant(np.array([1, 2, 3], np.float32)))
    return ov.Model([y], [x], "add_bias")


MATMUL_W = np.random.default_rng(7).integers(-8, 9, size=(64, 64)).astype(np.float32)


def matmul() -> Any:
    x = ops.parameter([4, 64], ov.Type.f32, name="x")
    return ov.Model([ops.matmul(x, ops.constant(MATMUL_W), False, False)], [x], "matmul")


BIG_BIAS = np.random.default_rng(5).standard_normal(4096).astype(np.float32)


def add_big_bias() -> Any:
    """x + a 16 KiB constant, which OpenVINO's CPU plugin reads in place from the weights."""
    x = ops.parameter([4096], ov.Type.f32, name="x")
    return ov.Model([ops.add(x, ops.constant(BIG_BIAS))], [x], "add_big_bias")


def ir_bytes(model: Any, folder: Path) -> tuple[bytes, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / "model.xml"
    ov.save_model(model, xml, compress_to_fp16=False)
    return xml.read_bytes(), (folder / "model.bin").read_bytes()


# ONNX, encoded by hand (onnx.proto field numbers) so that no `onnx` package is needed.
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb(field: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return _varint(field << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _value_info(name: str, n: int) -> bytes:
    dim = _pb(1, _pb(1, n))  # TensorShapeProto.dim{dim_value}
    tensor_type = _pb(1, 1) + _pb(2, dim)  # elem_type FLOAT, shape
    return _pb(1, name) + _pb(2, _pb(1, tensor_type))  # name, type{tensor_type}


def onnx_add_one(n: int = 2, external: Path | None = None, where: str = "initializer") -> bytes:
    """ModelProto of y = x + 1 (float[n]); `external` makes the constant external data."""
    tensor = _pb(1, 1) + _pb(2, 1) + _pb(8, "one")  # dims [1], FLOAT, name
    if external is None:
        tensor += _pb(9, np.float32(1).tobytes())  # raw_data
    else:
        for key, value in (("location", str(external)), ("offset", "0"), ("length", "4")):
            tensor += _pb(13, _pb(1, key) + _pb(2, value))
        tensor += _pb(14, 1)  # data_location EXTERNAL
    node = _pb(1, "x") + _pb(1, "one") + _pb(2, "y") + _pb(4, "Add")
    graph = _pb(1, node) + _pb(2, "g")
    if where == "initializer":
        graph += _pb(5, tensor)
    elif where == "subgraph":  # inside a Constant node's attribute, inside an If's branch
        value = _pb(5, _pb(1, "value") + _pb(5, tensor))
        branch = _pb(1, _pb(2, "one") + _pb(4, "Constant") + value)
        graph += _pb(1, _pb(4, "If") + _pb(5, _pb(1, "then_branch") + _pb(6, branch)))
    elif where == "sparse":
        graph += _pb(15, _pb(1, tensor))
    graph += _pb(11, _value_info("x", n)) + _pb(12, _value_info("y", n))
    opset = _pb(1, "") + _pb(2, 13)
    return _pb(1, 8) + _pb(8, opset) + _pb(7, graph)


# y = x + [1, 2] on float32[2], made with the flatbuffers package (see make_tflite below).
TFLITE_ADD = base64.b64decode(
    "CAAAAFRGTDO6////HAAAABAAAAAgAAAAJAAAAAMAAAABAAAAdAAAAAIAAAA4AQAAKAEAAAEAAAAkAAAAAQAAAAgAAAAEAAYA"
    "BAAAAAAADgAYABQAEAAMAAgABAAOAAAAFAAAABwAAAAgAAAAJAAAACgAAAAEAAAAbWFpbgAAAAABAAAANAAAAAEAAAACAAAA"
    "AQAAAAAAAAADAAAAjAAAAGQAAABAAAAAAAAOABQAAAAQAAwACwAEAA4AAAAkAAAAAAAACwgAAAAMAAAAAQAAAAIAAAACAAAA"
    "AAAAAAEAAACA////yP///1QAAAAEAAAAAQAAAAIAAAAMABAADAAAAAgABAAMAAAAPAAAAAEAAAAEAAAAAQAAAAIAAAAMAAwA"
    "CAAAAAAABAAMAAAAIAAAAAQAAAABAAAAAgAAAAEAAAB5AAAAAQAAAGMAAAABAAAAeAAGAAgABAAGAAAADAAAAAQABAAEAAAA"
    "CAAAAAAAgD8AAABA"
)


def make_tflite() -> bytes:
    """How TFLITE_ADD was made (TFLite schema.fbs field order; ADD with AddOptions)."""
    import flatbuffers

    b = flatbuffers.Builder(1024)

    def ints(xs: list[int]) -> int:
        b.StartVector(4, len(xs), 4)
        for x in reversed(xs):
            b.PrependInt32(x)
        return b.EndVector()

    def offsets(xs: list[int]) -> int:
        b.StartVector(4, len(xs), 4)
        for x in reversed(xs):
            b.PrependUOffsetTRelative(x)
        return b.EndVector()

    data = b.CreateByteVector(np.array([1.0, 2.0], np.float32).tobytes())
    b.StartObject(1)
    empty_buffer = b.EndObject()
    b.StartObject(1)
    b.PrependUOffsetTRelativeSlot(0, data, 0)
    const_buffer = b.EndObject()
    names = [b.CreateString(n) for n in ("x", "c", "y")]
    tensors = []
    for name, buffer in zip(names, (0, 1, 0), strict=True):
        shape = ints([2])
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, 0, 0)  # FLOAT32
        b.PrependUint32Slot(2, buffer, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        tensors.append(b.EndObject())
    b.StartObject(2)
    b.PrependInt8Slot(0, 0, 0)
    add_options = b.EndObject()
    op_in, op_out = ints([0, 1]), ints([2])
    b.StartObject(5)
    b.PrependUint32Slot(0, 0, 0)
    b.PrependUOffsetTRelativeSlot(1, op_in, 0)
    b.PrependUOffsetTRelativeSlot(2, op_out, 0)
    b.PrependUint8Slot(3, 11, 0)  # BuiltinOptions.AddOptions
    b.PrependUOffsetTRelativeSlot(4, add_options, 0)
    op = b.EndObject()
    tensor_vec, sg_in, sg_out, op_vec = offsets(tensors), ints([0]), ints([2]), offsets([op])
    sg_name = b.CreateString("main")
    b.StartObject(5)
    for slot, value in enumerate((tensor_vec, sg_in, sg_out, op_vec, sg_name)):
        b.PrependUOffsetTRelativeSlot(slot, value, 0)
    subgraph = b.EndObject()
    b.StartObject(4)
    b.PrependInt8Slot(0, 0, 0)  # ADD
    b.PrependInt32Slot(2, 1, 1)
    b.PrependInt32Slot(3, 0, 0)
    opcode = b.EndObject()
    opcodes, subgraphs = offsets([opcode]), offsets([subgraph])
    buffers, description = offsets([empty_buffer, const_buffer]), b.CreateString("t")
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    for slot, value in ((1, opcodes), (2, subgraphs), (3, description), (4, buffers)):
        b.PrependUOffsetTRelativeSlot(slot, value, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def core() -> Any:
    return ov.Core()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, bytes]]:
    root = tmp_path_factory.mktemp("models")
    built = {f"add_one_{t}": add_one(t) for t in TYPES}
    built.update(
        sum_product=sum_product(),
        dynamic=add_bias([-1, 3]),
        bounded=add_bias([ov.Dimension(1, 4), 3]),
        matmul=matmul(),
        bias=add_big_bias(),
    )
    return {name: ir_bytes(model, root / name) for name, model in built.items()}


@pytest.fixture
def backend(core: Any) -> OpenVinoBackend:
    return OpenVinoBackend(core=core)


def nn_type(array: Any) -> str:
    return {np.dtype(v): k for k, v in TYPES.items()}[array.dtype]


def set_in(backend: OpenVinoBackend, ctx: int, index: int, array: Any) -> None:
    backend.set_input(ctx, index, list(array.shape), nn_type(array), array.tobytes())


def infer(backend: OpenVinoBackend, graph: int, *inputs: Any) -> list[Any]:
    ctx = backend.init_execution_context(graph)
    for i, array in enumerate(inputs):
        set_in(backend, ctx, i, array)
    backend.compute(ctx)
    outs = []
    for i in range(len(backend.graph_info(graph).outputs)):
        info = backend.output_info(ctx, i)
        outs.append(np.frombuffer(backend.get_output(ctx, i), TYPES[info.type]).reshape(info.dims))
    return outs


def raises(code: str, fn: Any, *args: Any, **kwargs: Any) -> NnError:
    with pytest.raises(NnError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.detail
    return info.value


SAFE_VALUES = {  # values where OpenVINO's CPU arithmetic and numpy's agree exactly
    "f16": lambda r: r.uniform(-1000, 1000, (2, 3)),
    "f32": lambda r: r.standard_normal((2, 3)) * 1e3,
    "f64": lambda r: r.integers(-4000, 4000, (2, 3)) / 4,
    "u8": lambda r: r.integers(0, 255, (2, 3)),
    "i32": lambda r: r.integers(-(2**30), 2**30, (2, 3)),
    "i64": lambda r: r.integers(-(2**30), 2**30, (2, 3)),
}
EDGE_VALUES = {  # where OpenVINO's CPU plugin differs from numpy; it must match native OpenVINO
    "f16": [[65504, -65504, 0.1], [1e-7, -0.0, 2048]],
    "f32": [[3.4e38, -1e-45, 0.1], [16777216, -0.0, 1e-30]],
    "f64": [[1e300, 0.1, -1e-300], [2**53, 1 / 3, -0.0]],
    "u8": [[255, 0, 254], [128, 1, 7]],
    "i32": [[2**31 - 1, -(2**31), 0], [5, -5, 7]],
    "i64": [[2**40, 2**31 - 1, -(2**63)], [2**63 - 1, -1, 0]],
}


# --- all six tensor types, multi-input/output, dynamic shapes ----------------------------


@pytest.mark.parametrize("type_name", list(TYPES))
def test_add_one_each_type_bit_for_bit(backend, models, type_name):
    graph = backend.load(list(models[f"add_one_{type_name}"]), "openvino", "cpu")
    dtype = TYPES[type_name]
    x = SAFE_VALUES[type_name](np.random.default_rng(1)).astype(dtype)
    ctx = backend.init_execution_context(graph)
    set_in(backend, ctx, 0, x)
    backend.compute(ctx)
    info = backend.output_info(ctx, 0)
    assert (info.dims, info.type, info.nbytes) == ((2, 3), type_name, x.nbytes)
    out = backend.get_output(ctx, 0)
    assert isinstance(out, memoryview) and out.readonly and out.c_contiguous
    assert out.format == "B" and out.nbytes == x.nbytes
    assert out.tobytes() == (x + dtype(1)).astype(dtype).tobytes()
    out.release()  # the glue may release its view; the next one is unaffected
    x = SAFE_VALUES[type_name](np.random.default_rng(2)).astype(dtype)
    set_in(backend, ctx, 0, x)  # a second set on the same context replaces the first
    backend.compute(ctx)
    assert backend.get_output(ctx, 0).tobytes() == (x + dtype(1)).astype(dtype).tobytes()


@pytest.mark.parametrize("type_name", list(TYPES))
def test_add_one_edges_match_native_openvino(backend, core, models, type_name):
    xml, weights = models[f"add_one_{type_name}"]
    x = np.array(EDGE_VALUES[type_name], TYPES[type_name])
    native = core.compile_model(
        core.read_model(xml.decode(), ov.Tensor(np.frombuffer(weights, np.uint8).copy())),
        "CPU",
        {"INFERENCE_PRECISION_HINT": "f32"},
    )
    expected = native.create_infer_request().infer({0: x})[0]
    (out,) = infer(backend, backend.load([xml, weights], "openvino", "cpu"), x)
    assert out.tobytes() == expected.tobytes()


def test_two_inputs_two_outputs(backend, models):
    graph = backend.load(list(models["sum_product"]), "openvino", "cpu")
    info = backend.graph_info(graph)
    assert [p.name for p in info.inputs] == ["a", "b"] and len(info.outputs) == 2
    a = np.array([[1.5, -2], [3, 4]], np.float32)
    b = np.array([[0.25, 8], [-1, 0.5]], np.float32)
    total, product = infer(backend, graph, a, b)
    assert total.tobytes() == (a + b).tobytes()
    assert product.tobytes() == (a * b).tobytes()


def test_dynamic_batch_accepts_any_batch(backend, models):
    graph = backend.load(list(models["dynamic"]), "openvino", "cpu")
    assert backend.graph_info(graph).inputs[0].shape == (None, 3)
    ctx = backend.init_execution_context(graph)
    for batch in (1, 5, 5, 2):
        x = np.arange(batch * 3, dtype=np.float32).reshape(batch, 3) * batch
        set_in(backend, ctx, 0, x)
        backend.compute(ctx)
        info = backend.output_info(ctx, 0)
        assert info.dims == (batch, 3) and info.nbytes == x.nbytes
        expected = (x + np.array([1, 2, 3], np.float32)).tobytes()
        assert backend.get_output(ctx, 0).tobytes() == expected
    raises("invalid_argument", backend.set_input, ctx, 0, [2, 4], "f32", bytes(32))
    raises("invalid_argument", backend.set_input, ctx, 0, [6], "f32", bytes(24))


def test_bounded_dynamic_dims(backend, models):
    graph = backend.load(list(models["bounded"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    backend.set_input(ctx, 0, [4, 3], "f32", bytes(48))
    err = raises("invalid_argument", backend.set_input, ctx, 0, [5, 3], "f32", bytes(60))
    assert "dim 0" in err.detail


# --- error policy rows (DESIGN.md §5) that the backend owns --------------------------------


def test_unknown_handles_and_indices_are_invalid_argument(backend, models):
    graph = backend.load(list(models["sum_product"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    raises("invalid_argument", backend.init_execution_context, graph + 100)
    raises("invalid_argument", backend.init_execution_context, 0)
    for call in (
        lambda c: backend.set_input(c, 0, [2, 2], "f32", bytes(16)),
        lambda c: backend.compute(c),
        lambda c: backend.get_output(c, 0),
        lambda c: backend.output_info(c, 0),
    ):
        raises("invalid_argument", call, ctx + 100)
        raises("invalid_argument", call, 0)
    raises("invalid_argument", backend.set_input, ctx, 2, [2, 2], "f32", bytes(16))
    raises("invalid_argument", backend.set_input, ctx, -1, [2, 2], "f32", bytes(16))
    for i in range(2):
        set_in(backend, ctx, i, np.ones((2, 2), np.float32))
    backend.compute(ctx)
    raises("invalid_argument", backend.get_output, ctx, 2)
    raises("invalid_argument", backend.get_output, ctx, -1)


@pytest.mark.parametrize(
    ("dims", "tensor_type", "nbytes", "needle"),
    [
        ([2, 3], "f32", 23, "24"),  # data length != product(dims) * size
        ([2, 3], "f32", 48, "24"),
        ([2, 3], "f64", 48, "takes f32"),  # type the model does not take
        ([2, 3], "i32", 24, "takes f32"),
        ([3, 2], "f32", 24, "shape"),  # static dims must match exactly
        ([6], "f32", 24, "rank"),
        ([1, 2, 3], "f32", 24, "rank"),
        ([], "f32", 0, "rank-0"),
        ([2, 0], "f32", 0, "positive"),
        ([2, -3], "f32", 24, "positive"),
        ([2**31, 2**31], "f32", 24, "overflow"),
        ([2**40, 3], "f32", 24, "u32"),
        ([2, 3], "bf16", 24, "tensor type"),
    ],
)
def test_bad_tensors_are_invalid_argument(backend, models, dims, tensor_type, nbytes, needle):
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    err = raises("invalid_argument", backend.set_input, ctx, 0, dims, tensor_type, bytes(nbytes))
    assert needle in err.detail
    raises("invalid_argument", backend.compute, ctx)  # nothing was set


@pytest.mark.parametrize(
    ("builders", "encoding"),
    [(1, "openvino"), (3, "openvino"), (0, "openvino"), (2, "onnx"), (0, "onnx"),
     (2, "tensorflowlite"), (0, "autodetect"), (3, "autodetect")],
)
def test_wrong_builder_count_is_invalid_argument(backend, models, builders, encoding):
    xml, weights = models["add_one_f32"]
    raises("invalid_argument", backend.load, [xml, weights, xml][:builders], encoding, "cpu")


@pytest.mark.parametrize("encoding", ["tensorflow", "pytorch", "caffe", "", "OPENVINO", None, 0])
def test_unsupported_or_unknown_encoding_is_invalid_encoding(backend, models, encoding):
    raises("invalid_encoding", backend.load, list(models["add_one_f32"]), encoding, "cpu")


def test_targets(backend, models):
    builders = list(models["add_one_f32"])
    raises("unsupported_operation", backend.load, builders, "openvino", "tpu")
    raises("invalid_argument", backend.load, builders, "openvino", "npu")
    raises("invalid_argument", backend.load, builders, "openvino", None)
    if "GPU" in backend.core.available_devices:
        pytest.skip("this machine has a GPU; gpu loads instead of failing")
    err = raises("unsupported_operation", backend.load, builders, "openvino", "gpu")
    assert "GPU" in err.detail


def test_gpu_target_compiles_on_gpu_when_present(core, models):
    class GpuCore:  # reports a GPU and records where compile_model was asked to go
        available_devices = ["CPU", "GPU.0"]
        devices: list[str] = []

        def read_model(self, *args, **kwargs):
            return core.read_model(*args, **kwargs)

        def compile_model(self, model, device, config):
            self.devices.append(device)
            return core.compile_model(model, "CPU", config)

    fake = GpuCore()
    backend = OpenVinoBackend(core=fake)
    backend.load(list(models["add_one_f32"]), "openvino", "gpu")
    assert fake.devices == ["GPU"]


def test_load_by_name_unknown_is_not_found(backend):
    raises("not_found", backend.load_by_name, "nope")
    raises("invalid_argument", backend.load_by_name, b"nope")


def test_compute_before_inputs_and_get_output_before_compute(backend, models):
    graph = backend.load(list(models["sum_product"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    raises("invalid_argument", backend.get_output, ctx, 0)
    raises("invalid_argument", backend.output_info, ctx, 0)
    set_in(backend, ctx, 0, np.ones((2, 2), np.float32))
    err = raises("invalid_argument", backend.compute, ctx)
    assert "[1]" in err.detail
    raises("invalid_argument", backend.get_output, ctx, 0)
    set_in(backend, ctx, 1, np.ones((2, 2), np.float32))
    backend.compute(ctx)
    assert bytes(backend.get_output(ctx, 0)) == np.full((2, 2), 2, np.float32).tobytes()


class _Request:
    """Wraps an InferRequest; inference (`infer`, what compute calls) can fail or block."""

    def __init__(self, inner: Any, fail: bool = False) -> None:
        self.inner, self.fail = inner, fail
        self.started, self.release = threading.Event(), threading.Event()
        self.release.set()

    def infer(self, *args: Any, **kwargs: Any) -> Any:
        self.started.set()
        self.release.wait(10)
        if self.fail:
            raise RuntimeError("device lost")
        return self.inner.infer(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_backend_failure_in_compute_is_runtime_error_and_leaves_no_output(backend, models):
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    set_in(backend, ctx, 0, np.ones((2, 3), np.float32))
    backend.compute(ctx)
    context = backend._contexts[ctx]
    context.request = _Request(context.request, fail=True)
    err = raises("runtime_error", backend.compute, ctx)
    assert "device lost" in err.detail
    raises("invalid_argument", backend.get_output, ctx, 0)  # not the previous, stale output
    context.request.fail = False
    backend.compute(ctx)
    assert len(backend.get_output(ctx, 0)) == 24


GARBAGE = [b"", b"\x00" * 64, b"junk", bytes(range(256)) * 4, b"<?xml version='1.0'?><net>"]


@pytest.mark.parametrize("encoding", ["onnx", "tensorflowlite", "autodetect"])
@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_model_bytes_are_runtime_error(backend, encoding, garbage):
    if encoding == "autodetect" and garbage.startswith(b"<?xml"):
        raises("invalid_argument", backend.load, [garbage], encoding, "cpu")  # IR needs 2
    else:
        raises("runtime_error", backend.load, [garbage], encoding, "cpu")


def test_garbage_openvino_ir_is_runtime_error(backend, models):
    xml, weights = models["add_one_f32"]
    for builders in (
        [b"junk", weights],
        [b"<net></net>", b""],
        [xml, weights[:2]],  # the xml points past the end of the weights
        [xml, b""],
        [xml.replace(b"<net", b"\xff\xfe<net"), weights],  # not UTF-8
        [xml[: len(xml) // 2], weights],
        [weights, xml],
    ):
        raises("runtime_error", backend.load, builders, "openvino", "cpu")
    raises("runtime_error", backend.load, [b"junk", weights], "autodetect", "cpu")


def test_mutated_models_only_ever_raise_nn_error(backend, models):
    """A small deterministic fuzz: flipped, dropped and inserted bytes in each encoding."""
    seeds = {
        "openvino": list(models["add_one_f32"]),
        "onnx": [onnx_add_one()],
        "tensorflowlite": [TFLITE_ADD],
    }
    rng = random.Random(4)
    outcomes: dict[str, int] = {}
    for encoding, builders in seeds.items():
        for _ in range(40):
            mutated = [bytearray(b) for b in builders]
            target = mutated[rng.randrange(len(mutated))]
            for _ in range(rng.randint(1, 6)):
                pos = rng.randrange(len(target) + 1)
                roll = rng.random()
                if roll < 0.6 and pos < len(target):
                    target[pos] = rng.randrange(256)
                elif roll < 0.8 and pos < len(target):
                    del target[pos]
                else:
                    target.insert(pos, rng.randrange(256))
            for enc in (encoding, "autodetect"):
                try:
                    graph = backend.load(mutated, enc, "cpu")
                    ctx = backend.init_execution_context(graph)
                    for i, port in enumerate(backend.graph_info(graph).inputs):
                        dims = [d or 1 for d in (port.shape or (2,))]
                        size = np.dtype(TYPES.get(port.type, np.uint8)).itemsize
                        backend.set_input(ctx, i, dims, port.type, bytes(math.prod(dims) * size))
                    backend.compute(ctx)
                    backend.get_output(ctx, 0)
                    backend.drop_context(ctx)
                    backend.drop_graph(graph)
                    outcomes["ok"] = outcomes.get("ok", 0) + 1
                except NnError as exc:
                    outcomes[exc.code] = outcomes.get(exc.code, 0) + 1
    assert set(outcomes) <= ERROR_CODES | {"ok"}


@pytest.mark.parametrize(
    "call",
    [
        lambda b, g, c: b.load(None, "openvino", "cpu"),
        lambda b, g, c: b.load(b"xml", "onnx", "cpu"),
        lambda b, g, c: b.load("model", "onnx", "cpu"),
        lambda b, g, c: b.load([None], "onnx", "cpu"),
        lambda b, g, c: b.load([1, 2], "openvino", "cpu"),
        lambda b, g, c: b.init_execution_context(None),
        lambda b, g, c: b.init_execution_context("1"),
        lambda b, g, c: b.init_execution_context(2**70),
        lambda b, g, c: b.init_execution_context(1.0),
        lambda b, g, c: b.set_input(c, "0", [2, 3], "f32", bytes(24)),
        lambda b, g, c: b.set_input(c, True, [2, 3], "f32", bytes(24)),
        lambda b, g, c: b.set_input(c, 0, None, "f32", bytes(24)),
        lambda b, g, c: b.set_input(c, 0, "23", "f32", bytes(24)),
        lambda b, g, c: b.set_input(c, 0, [2, "3"], "f32", bytes(24)),
        lambda b, g, c: b.set_input(c, 0, [2, 3.0], "f32", bytes(24)),
        lambda b, g, c: b.set_input(c, 0, [2, 3], "f32", None),
        lambda b, g, c: b.set_input(c, 0, [2, 3], "f32", "x" * 24),
        lambda b, g, c: b.set_input(c, 0, [2, 3], 1, bytes(24)),
        lambda b, g, c: b.compute("x"),
        lambda b, g, c: b.get_output(c, None),
        lambda b, g, c: b.get_output(None, 0),
        lambda b, g, c: b.load_by_name(None),
        lambda b, g, c: b.register_dir(None),
        lambda b, g, c: b.register_dir("openvino"),
        lambda b, g, c: b.register_dir("::/tmp"),
        lambda b, g, c: b.register_dir("caffe::/tmp"),
        lambda b, g, c: b.register_named("", "onnx", [b""]),
        lambda b, g, c: b.register_named("m", "onnx", None),
        lambda b, g, c: b.drop_graph("1"),
        lambda b, g, c: b.graph_info(None),
    ],
)
def test_bad_arguments_only_raise_nn_error(backend, models, call):
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    with pytest.raises(NnError) as info:
        call(backend, graph, ctx)
    assert info.value.code in ERROR_CODES


# --- limits ------------------------------------------------------------------------------


def test_limit_graphs_and_handles_are_never_reused(core, models):
    backend = OpenVinoBackend(core=core, limits=Limits(max_graphs=2))
    builders = list(models["add_one_f32"])
    first, second = (backend.load(builders, "openvino", "cpu") for _ in range(2))
    raises("too_large", backend.load, builders, "openvino", "cpu")
    backend.drop_graph(first)
    third = backend.load(builders, "openvino", "cpu")
    assert len({first, second, third}) == 3 and first >= 1 and third > second
    raises("invalid_argument", backend.init_execution_context, first)  # dropped, not reused
    backend.register_named("m", "openvino", builders)
    raises("too_large", backend.load_by_name, "m")  # load_by_name counts too


def test_limit_contexts_and_context_handles_are_never_reused(core, models):
    backend = OpenVinoBackend(core=core, limits=Limits(max_contexts=2))
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    a, b = backend.init_execution_context(graph), backend.init_execution_context(graph)
    raises("too_large", backend.init_execution_context, graph)
    backend.drop_context(a)
    c = backend.init_execution_context(graph)
    assert len({a, b, c}) == 3 and c > b
    raises("invalid_argument", backend.compute, a)
    # Separate counters: the first context is 1 whatever graphs exist.
    assert a == 1 and graph == 1


def test_limit_model_bytes(core, models):
    builders = list(models["add_one_f32"])
    size = sum(map(len, builders))
    backend = OpenVinoBackend(core=core, limits=Limits(max_model_bytes=size - 1))
    err = raises("too_large", backend.load, builders, "openvino", "cpu")
    assert "limit" in err.detail
    backend = OpenVinoBackend(core=core, limits=Limits(max_model_bytes=size * 3 // 2))
    graph = backend.load(builders, "openvino", "cpu")
    raises("too_large", backend.load, builders, "openvino", "cpu")  # the total counts
    ctx = backend.init_execution_context(graph)
    backend.drop_graph(graph)
    raises("too_large", backend.load, builders, "openvino", "cpu")  # the context holds it
    backend.drop_context(ctx)
    backend.load(builders, "openvino", "cpu")
    assert backend.stats()["model_bytes"] == size


def test_limit_builders_checked_before_bytes(core):
    backend = OpenVinoBackend(core=core, limits=Limits(max_builders=2))
    err = raises("invalid_argument", backend.load, [object()] * 3, "openvino", "cpu")
    assert "limit" in err.detail
    raises("invalid_argument", backend.load, [object()] * 3, "tensorflow", "tpu")


def test_limit_output_and_input_bytes(core, models):
    backend = OpenVinoBackend(core=core, limits=Limits(max_output_bytes=23, max_input_bytes=24))
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    set_in(backend, ctx, 0, np.ones((2, 3), np.float32))
    backend.compute(ctx)
    raises("too_large", backend.get_output, ctx, 0)
    assert backend.output_info(ctx, 0).nbytes == 24
    graph = backend.load(list(models["add_one_f64"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    raises("too_large", backend.set_input, ctx, 0, [2, 3], "f64", bytes(48))


def test_limits_validate():
    with pytest.raises(ValueError):
        Limits(max_graphs=-1)
    with pytest.raises(ValueError):
        Limits(max_contexts=1.5)  # type: ignore[arg-type]


# --- copies, sharing, threads --------------------------------------------------------------


def test_inputs_are_copied_at_set_input(backend, models):
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    guest = bytearray(np.arange(6, dtype=np.float32).tobytes())
    backend.set_input(ctx, 0, [2, 3], "f32", memoryview(guest))
    guest[:] = bytes(24)  # a later guest write
    backend.compute(ctx)
    assert np.frombuffer(backend.get_output(ctx, 0), np.float32).tolist() == [1, 2, 3, 4, 5, 6]


def test_repeated_set_input_with_the_same_dims_keeps_every_check(backend, models):
    """A set_input with the type and dims the input accepted last time only copies the bytes
    (the fast path); anything else about the call is checked as the first time."""
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    set_in(backend, ctx, 0, x)
    backend.set_input(ctx, 0, [2, 3], "f32", memoryview(bytearray((x + 10).tobytes())))
    backend.compute(ctx)
    assert bytes(backend.get_output(ctx, 0)) == (x + 11).tobytes()
    backend.set_input(ctx, 0, [2, 3], "f32", x * 2)  # not a memoryview: the general path
    backend.compute(ctx)
    assert bytes(backend.get_output(ctx, 0)) == (x * 2 + 1).tobytes()
    raises("invalid_argument", backend.set_input, ctx, 0, [2, 3], "f32", memoryview(bytes(20)))
    raises("invalid_argument", backend.set_input, ctx, 0, [2, 3], "i32", memoryview(bytes(24)))
    raises("invalid_argument", backend.set_input, ctx, 1, [2, 3], "f32", memoryview(bytes(24)))
    backend.limits.max_input_bytes = 16
    raises("too_large", backend.set_input, ctx, 0, [2, 3], "f32", memoryview(bytes(24)))
    backend.compute(ctx)  # the rejected calls left the last accepted input in place
    assert bytes(backend.get_output(ctx, 0)) == (x * 2 + 1).tobytes()


def test_a_bool_dim_is_refused_even_where_it_equals_the_last_dims(backend, models):
    graph = backend.load(list(models["dynamic"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    backend.set_input(ctx, 0, [1, 3], "f32", memoryview(bytes(12)))
    raises("invalid_argument", backend.set_input, ctx, 0, [True, 3], "f32", memoryview(bytes(12)))


def test_get_output_into_copies_the_output_or_writes_nothing(backend, models):
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    set_in(backend, ctx, 0, x)
    raises("invalid_argument", backend.get_output_into, ctx, 0, memoryview(bytearray(64)))
    backend.compute(ctx)
    buffer = bytearray(64)
    assert backend.get_output_into(ctx, 0, memoryview(buffer)) == 24
    assert bytes(buffer) == (x + 1).tobytes() + bytes(40)
    small = bytearray(23)
    err = raises("too_large", backend.get_output_into, ctx, 0, memoryview(small))
    assert "24 bytes" in err.detail and small == bytearray(23)
    raises("invalid_argument", backend.get_output_into, ctx, 1, memoryview(buffer))
    backend.limits.max_output_bytes = 16
    raises("too_large", backend.get_output_into, ctx, 0, memoryview(buffer))


def test_compute_uses_the_public_infer_when_the_binding_does_not_match(backend, models,
                                                                         monkeypatch):
    def mismatched(*args: Any) -> None:
        raise TypeError("infer(): incompatible function arguments")

    monkeypatch.setattr(backend_module, "_raw_infer", mismatched)
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    set_in(backend, ctx, 0, x)
    backend.compute(ctx)
    assert bytes(backend.get_output(ctx, 0)) == (x + 1).tobytes()
    assert backend_module._raw_infer is None  # decided once, for every later compute


def test_weights_in_mutable_memory_are_copied_at_load(backend, models):
    xml, weights = models["bias"]
    guest = bytearray(weights)
    graph = backend.load([memoryview(bytearray(xml)), memoryview(guest)], "openvino", "cpu")
    guest[:] = b"\x7f" * len(guest)  # the guest reuses its memory
    (out,) = infer(backend, graph, np.zeros(4096, np.float32))
    assert out.tobytes() == BIG_BIAS.tobytes()


def test_weights_outlive_the_callers_buffers(backend, models):
    """OpenVINO keeps no reference to a weights buffer, and the CPU plugin computes Add straight
    from the constant's memory: the backend must keep the buffer, or compute reads freed memory."""
    xml, weights = models["bias"]
    graphs = [
        backend.load([bytes(xml), bytes(weights)], "openvino", "cpu"),  # shared in place
        backend.load([bytearray(xml), bytearray(weights)], "openvino", "cpu"),  # copied
    ]
    gc.collect()
    churn = [bytearray(b"\x7f" * BIG_BIAS.nbytes) for _ in range(16)]  # reuse freed memory
    for graph in graphs:
        (out,) = infer(backend, graph, np.zeros(4096, np.float32))
        assert out.tobytes() == BIG_BIAS.tobytes()
    del churn


class _CountingCore:
    """An ov.Core that counts compile_model calls."""

    def __init__(self, core: Any) -> None:
        self.core, self.compiles = core, 0

    def compile_model(self, *args: Any, **kwargs: Any) -> Any:
        self.compiles += 1
        return self.core.compile_model(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.core, name)


def test_contexts_share_one_compiled_model(core, models):
    spy = _CountingCore(core)
    backend = OpenVinoBackend(core=spy)
    graph = backend.load(list(models["add_one_i32"]), "openvino", "cpu")
    contexts = [backend.init_execution_context(graph) for _ in range(3)]
    for k, ctx in enumerate(contexts):
        set_in(backend, ctx, 0, np.full((2, 3), k, np.int32))
    for ctx in contexts:
        backend.compute(ctx)
    for k, ctx in enumerate(contexts):
        assert np.frombuffer(backend.get_output(ctx, 0), np.int32).tolist() == [k + 1] * 6
    assert spy.compiles == 1


def test_threads_each_with_own_context(backend, models):
    graph = backend.load(list(models["matmul"]), "openvino", "cpu")
    failures: list[str] = []

    def worker(seed: int) -> None:
        try:
            ctx = backend.init_execution_context(graph)
            rng = np.random.default_rng(seed)
            for _ in range(30):
                x = rng.integers(-8, 9, (4, 64)).astype(np.float32)
                set_in(backend, ctx, 0, x)
                backend.compute(ctx)
                if bytes(backend.get_output(ctx, 0)) != (x @ MATMUL_W).tobytes():
                    failures.append(f"thread {seed}: wrong result")
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(f"thread {seed}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_a_context_in_use_is_busy(backend, models):
    graph = backend.load(list(models["add_one_f32"]), "openvino", "cpu")
    ctx = backend.init_execution_context(graph)
    set_in(backend, ctx, 0, np.ones((2, 3), np.float32))
    request = backend._contexts[ctx].request = _Request(backend._contexts[ctx].request)
    request.release.clear()
    computing = threading.Thread(target=backend.compute, args=(ctx,))
    computing.start()
    try:
        assert request.started.wait(10)
        raises("busy", backend.compute, ctx)
        raises("busy", backend.set_input, ctx, 0, [2, 3], "f32", bytes(24))
        raises("busy", backend.get_output, ctx, 0)
        raises("busy", backend.drop_context, ctx)
        other = backend.init_execution_context(graph)  # the lock is not held while computing
        set_in(backend, other, 0, np.ones((2, 3), np.float32))
        backend.compute(other)
    finally:
        request.release.set()
        computing.join()
    assert np.frombuffer(backend.get_output(ctx, 0), np.float32).tolist() == [2] * 6


# --- encodings from memory, autodetect, named models ---------------------------------------


def test_onnx_from_memory(backend):
    graph = backend.load([onnx_add_one(3)], "onnx", "cpu")
    x = np.array([1.5, -2, 40], np.float32)
    (out,) = infer(backend, graph, x)
    assert out.tobytes() == (x + np.float32(1)).tobytes()
    graph = backend.load([memoryview(bytearray(onnx_add_one(3)))], "autodetect", "cpu")
    assert backend.graph_info(graph).inputs[0].shape == (3,)


def test_onnx_bytes_agree_with_the_onnx_package(backend):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    onnx.checker.check_model(onnx.load_from_string(onnx_add_one()))
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])
    one = helper.make_tensor("one", onnx.TensorProto.FLOAT, [1], [1.0])
    graph = helper.make_graph([helper.make_node("Add", ["x", "one"], ["y"])], "g", [x], [y], [one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    handle = backend.load([model.SerializeToString()], "autodetect", "cpu")
    (out,) = infer(backend, handle, np.array([1, 2], np.float32))
    assert out.tolist() == [2, 3]


@pytest.mark.parametrize("where", ["initializer", "subgraph", "sparse"])
def test_onnx_external_data_is_refused(backend, tmp_path, where):
    """External data would let a guest read any host file into a tensor."""
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.float32(1234).tobytes())
    for encoding in ("onnx", "autodetect"):
        err = raises(
            "runtime_error",
            backend.load, [onnx_add_one(1, external=secret, where=where)], encoding, "cpu",
        )
        assert "external data" in err.detail


def test_tflite_from_memory(backend):
    for encoding in ("tensorflowlite", "autodetect"):
        graph = backend.load([bytearray(TFLITE_ADD)], encoding, "cpu")
        (out,) = infer(backend, graph, np.array([10, 20], np.float32))
        assert out.tolist() == [11, 22]


def test_tflite_without_memfd_uses_a_private_temporary_file(backend, monkeypatch):
    import os

    monkeypatch.delattr(os, "memfd_create", raising=False)
    graph = backend.load([TFLITE_ADD], "tensorflowlite", "cpu")
    (out,) = infer(backend, graph, np.array([1, 1], np.float32))
    assert out.tolist() == [2, 3]


def test_tflite_fixture_is_what_make_tflite_makes():
    pytest.importorskip("flatbuffers")
    assert make_tflite() == TFLITE_ADD


def test_autodetect(backend, models):
    xml, weights = models["add_one_u8"]
    assert detect_encoding([memoryview(xml), memoryview(weights)]) == "openvino"
    assert detect_encoding([memoryview(TFLITE_ADD)]) == "tensorflowlite"
    assert detect_encoding([memoryview(onnx_add_one())]) == "onnx"
    graph = backend.load([b"\xef\xbb\xbf \n" + xml, weights], "autodetect", "cpu")
    (out,) = infer(backend, graph, np.full((2, 3), 7, np.uint8))
    assert out.tolist() == [[8] * 3] * 2
    raises("invalid_argument", backend.load, [xml], "autodetect", "cpu")
    raises("runtime_error", backend.load, [weights, xml], "autodetect", "cpu")


def test_register_dir_each_encoding(backend, models, tmp_path):
    xml, weights = models["add_one_f32"]
    (tmp_path / "ir_model").mkdir()
    (tmp_path / "ir_model" / "model.xml").write_bytes(xml)
    (tmp_path / "ir_model" / "model.bin").write_bytes(weights)
    (tmp_path / "onnx_model").mkdir()
    (tmp_path / "onnx_model" / "model.onnx").write_bytes(onnx_add_one(6))
    (tmp_path / "lite").mkdir()
    (tmp_path / "lite" / "model.tflite").write_bytes(TFLITE_ADD)
    names = [
        backend.register_dir(f"openvino::{tmp_path / 'ir_model'}"),
        backend.register_dir(f"onnx::{tmp_path / 'onnx_model'}/"),
        backend.register_dir(f"autodetect::{tmp_path / 'lite'}"),
    ]
    assert names == ["ir_model", "onnx_model", "lite"] and set(backend.names) == set(names)
    ir = backend.load_by_name("ir_model")
    (out,) = infer(backend, ir, np.zeros((2, 3), np.float32))
    assert out.tolist() == [[1] * 3] * 2
    (out,) = infer(backend, backend.load_by_name("onnx_model"), np.zeros(6, np.float32))
    assert out.tolist() == [1] * 6
    (out,) = infer(backend, backend.load_by_name("lite"), np.zeros(2, np.float32))
    assert out.tolist() == [1, 2]
    raises("invalid_argument", backend.register_dir, f"openvino::{tmp_path / 'ir_model'}")
    raises("not_found", backend.register_dir, f"openvino::{tmp_path / 'missing'}")
    raises("not_found", backend.register_dir, f"onnx::{tmp_path / 'ir_model'}")
    raises("not_found", backend.register_dir, f"tensorflowlite::{tmp_path / 'onnx_model'}")
    raises("invalid_encoding", backend.register_dir, f"pytorch::{tmp_path / 'ir_model'}")
    raises("unsupported_operation", backend.register_dir, f"onnx::{tmp_path}", target="tpu")


def test_load_by_name_compiles_once_and_shares(core, models):
    spy = _CountingCore(core)
    backend = OpenVinoBackend(core=spy)
    xml, weights = models["add_one_i64"]
    backend.register_named("adder", "autodetect", [bytearray(xml), bytearray(weights)])
    assert spy.compiles == 0  # lazily
    a, b = backend.load_by_name("adder"), backend.load_by_name("adder")
    assert a != b and spy.compiles == 1
    for graph in (a, b):
        (out,) = infer(backend, graph, np.full((2, 3), 41, np.int64))
        assert out.tolist() == [[42] * 3] * 2
    raises("invalid_argument", backend.register_named, "adder", "onnx", [onnx_add_one()])


def test_broken_named_model_is_runtime_error_each_time(backend):
    backend.register_named("broken", "onnx", [b"\x08\x08:\x02\x0a\x00"])
    raises("runtime_error", backend.load_by_name, "broken")
    raises("runtime_error", backend.load_by_name, "broken")
    assert backend.stats() == {"graphs": 0, "contexts": 0, "model_bytes": 0}


# --- precision -----------------------------------------------------------------------------


def test_precision_f32_is_exact_and_auto_runs(core, models):
    x = np.random.default_rng(3).integers(-8, 9, (4, 64)).astype(np.float32)
    exact = OpenVinoBackend(precision="f32", core=core)
    (out,) = infer(exact, exact.load(list(models["matmul"]), "openvino", "cpu"), x)
    assert out.tobytes() == (x @ MATMUL_W).tobytes()
    x = np.random.default_rng(3).standard_normal((4, 64)).astype(np.float32)
    (out,) = infer(exact, exact.load(list(models["matmul"]), "openvino", "cpu"), x)
    np.testing.assert_allclose(out, x @ MATMUL_W, rtol=1e-5, atol=1e-4)
    fast = OpenVinoBackend(precision="auto", core=core)
    (out,) = infer(fast, fast.load(list(models["matmul"]), "openvino", "cpu"), x)
    assert out.shape == (4, 64) and np.isfinite(out).all()
    with pytest.raises(ValueError):
        OpenVinoBackend(precision="bf16", core=core)


# --- error reporting -------------------------------------------------------------------------


def test_errors_are_recorded_and_logged(core, caplog):
    backend = OpenVinoBackend(core=core, error_history=3)
    caplog.set_level(logging.INFO, logger="witxgen_runtime")
    raises("not_found", backend.load_by_name, "missing-model")
    record = backend.last_error
    assert record is not None
    assert (record.function, record.code) == ("load_by_name", "not_found")
    assert "missing-model" in record.detail
    assert any("missing-model" in r.getMessage() and r.name == "witxgen_runtime"
               for r in caplog.records)
    for i in range(5):
        raises("invalid_argument", backend.compute, 1000 + i)
    assert len(backend.errors) == 3 and "1004" in backend.errors[-1].detail
