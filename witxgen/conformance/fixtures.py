"""The suite's fixture models, built deterministically with OpenVINO's Python API.

Every node, tensor and model is named explicitly: OpenVINO's automatic names come from a
process-wide counter, so without names the saved IR would depend on what the process built
before. Constants are built from exact lists (no random numbers), so two builds on one
OpenVINO version give byte-identical files. `openvino` and `numpy` are imported lazily; a
missing OpenVINO is a `FixtureError` with a clear message.

Fixtures (each `fixtures/<name>/` holds `model.xml` + `model.bin`, or `model.onnx`):
* `add1_<T>` for T in f16, f32, f64, u8, i32, i64: input0 T[1,4] -> output0 = input0 + 1;
  `add1` is `add1_f32` (the name the load_by_name cases preload).
* `two_io`: inputs a, b f32[1,4] -> output0 = a + b, output1 = a * b.
* `op_add_<T>`, `op_mul_<T>`: a, b T[1,4] -> a + b, a * b; `op_argmax_<T>`: a T[1,4] -> i64[1],
  the index of the largest element; `op_eqcount_<T>`: a, b T[1,4] -> T[1], how many a == b.
* `bad`: the first half of add1's XML (a truncated IR) and add1's weights.
* `add1_onnx`: add1 as a hand-encoded ONNX file (opset 13), for runtimes with ONNX.
* `mobilenet`: the MobileNetV2 architecture (1001 classes, f32[1,3,224,224]) with synthetic,
  formula-made weights; its classifier bias makes class 281 the clear top-1 for any input, so
  the case checks a real-sized model end to end, not accuracy.
"""

from __future__ import annotations

import functools
import importlib
import math
import struct
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TENSOR_TYPES = ("f16", "f32", "f64", "u8", "i32", "i64")
#: struct format of one element of each tensor type (little-endian).
ELEMENT_FORMATS = {"f16": "e", "f32": "f", "f64": "d", "u8": "B", "i32": "i", "i64": "q"}

MOBILENET_CLASS = 281
MOBILENET_INPUT = (1, 3, 224, 224)
MOBILENET_CLASSES = 1001


class FixtureError(Exception):
    """A fixture cannot be built here (OpenVINO missing or failing)."""


def pack(tensor_type: str, values: Sequence[float]) -> bytes:
    """Little-endian bytes of `values` as elements of `tensor_type` (a type *name*)."""
    fmt = ELEMENT_FORMATS[tensor_type]
    if fmt in "eBiq":
        values = [v if fmt == "e" else int(v) for v in values]
    return struct.pack(f"<{len(values)}{fmt}", *values)


# --- the values every operator fixture is checked with -----------------------------------------

def op_inputs(tensor_type: str) -> tuple[list[float], list[float]]:
    """Inputs (a, b) for the operator fixtures: exact in every type, in bf16 too, no overflow."""
    if tensor_type.startswith("f"):
        return [1.5, -2.0, 3.0, 0.25], [1.5, 4.0, 3.0, -0.5]
    if tensor_type == "u8":
        return [1, 2, 9, 4], [1, 5, 9, 3]
    return [-3, 2, 9, 4], [-3, 5, 9, -6]


def op_expected(op: str, tensor_type: str) -> tuple[str, list[float]]:
    """(output type, output values) of operator `op` on `op_inputs(tensor_type)`."""
    a, b = op_inputs(tensor_type)
    if op == "add":
        return tensor_type, [x + y for x, y in zip(a, b, strict=True)]
    if op == "mul":
        return tensor_type, [x * y for x, y in zip(a, b, strict=True)]
    if op == "argmax":
        return "i64", [max(range(len(a)), key=lambda i: a[i])]
    if op == "eqcount":
        return tensor_type, [sum(1 for x, y in zip(a, b, strict=True) if x == y)]
    raise KeyError(op)


OPS = ("add", "mul", "argmax", "eqcount")


# --- building ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fixture:
    """One model directory of the suite: file name -> bytes."""

    name: str
    encoding: str  # a graph_encoding case name
    files: dict[str, bytes]


def _ov() -> tuple[Any, Any, Any]:
    try:
        np = importlib.import_module("numpy")
        ov = importlib.import_module("openvino")
        ops = importlib.import_module("openvino.opset13")
    except ImportError as exc:
        raise FixtureError(
            "the conformance suite's fixture models are built with OpenVINO's Python API, "
            f"which is not installed here ({exc}); install it with `pip install openvino` "
            "(or `pip install witxgen[runtime]`)") from None
    return ov, ops, np


def _serialize(model: Any) -> dict[str, bytes]:
    ov, _, _ = _ov()
    with tempfile.TemporaryDirectory(prefix="witxgen-fixture-") as tmp:
        xml = Path(tmp) / "model.xml"
        ov.save_model(model, str(xml), compress_to_fp16=False)
        return {"model.xml": xml.read_bytes(), "model.bin": xml.with_suffix(".bin").read_bytes()}


def _ov_type(tensor_type: str) -> Any:
    ov, _, _ = _ov()
    return getattr(ov.Type, tensor_type)


def _param(ops: Any, name: str, shape: list[int], tensor_type: str) -> Any:
    p = ops.parameter(shape, _ov_type(tensor_type), name=name)
    p.output(0).get_tensor().set_names({name})
    return p


def _model(ov: Any, ops: Any, outputs: list[tuple[str, Any]], params: list[Any],
           name: str) -> Any:
    results = []
    for out_name, node in outputs:
        node.output(0).get_tensor().set_names({out_name})
        results.append(ops.result(node, name=f"{out_name}/sink_port_0"))
    return ov.Model(results, params, name)


def _const(ops: Any, np: Any, values: Any, tensor_type: str, name: str) -> Any:
    dtype = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "u8": np.uint8,
             "i32": np.int32, "i64": np.int64}[tensor_type]
    return ops.constant(np.array(values, dtype=dtype), name=name)


def add1(tensor_type: str) -> dict[str, bytes]:
    ov, ops, np = _ov()
    x = _param(ops, "input0", [1, 4], tensor_type)
    y = ops.add(x, _const(ops, np, [1], tensor_type, "one"), name="add")
    return _serialize(_model(ov, ops, [("output0", y)], [x], f"add1_{tensor_type}"))


def two_io() -> dict[str, bytes]:
    ov, ops, _ = _ov()
    a = _param(ops, "a", [1, 4], "f32")
    b = _param(ops, "b", [1, 4], "f32")
    total = ops.add(a, b, name="sum")
    product = ops.multiply(a, b, name="product")
    return _serialize(_model(ov, ops, [("output0", total), ("output1", product)], [a, b],
                             "two_io"))


def operator(op: str, tensor_type: str) -> dict[str, bytes]:
    ov, ops, np = _ov()
    a = _param(ops, "a", [1, 4], tensor_type)
    b = _param(ops, "b", [1, 4], tensor_type)
    params = [a, b]
    if op == "add":
        y = ops.add(a, b, name="add")
    elif op == "mul":
        y = ops.multiply(a, b, name="mul")
    elif op == "argmax":
        params = [a]
        k = ops.constant(np.array(1, np.int64), name="k")
        topk = ops.topk(a, k, axis=1, mode="max", sort="none", index_element_type="i64",
                        name="topk")
        shape = ops.constant(np.array([1], np.int64), name="shape")
        y = ops.reshape(topk.output(1), shape, special_zero=False, name="argmax")
    elif op == "eqcount":
        eq = ops.equal(a, b, name="equal")
        as_type = ops.convert(eq, _ov_type(tensor_type), name="as_type")
        axes = ops.constant(np.array([1], np.int64), name="axes")
        y = ops.reduce_sum(as_type, axes, keep_dims=False, name="eqcount")
    else:
        raise KeyError(op)
    return _serialize(_model(ov, ops, [("output0", y)], params, f"op_{op}_{tensor_type}"))


def onnx_add1() -> bytes:
    """add1 (f32[1,4] + 1) as ONNX opset 13, encoded by hand (no `onnx` package needed)."""
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            low, n = n & 0x7F, n >> 7
            out.append(low | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def num(field: int, n: int) -> bytes:
        return varint(field << 3) + varint(n)

    def msg(field: int, data: bytes | str) -> bytes:
        raw = data.encode() if isinstance(data, str) else data
        return varint(field << 3 | 2) + varint(len(raw)) + raw

    def value_info(name: str) -> bytes:
        dims = msg(1, num(1, 1)) + msg(1, num(1, 4))
        return msg(1, name) + msg(2, msg(1, num(1, 1) + msg(2, dims)))

    one = num(1, 1) + num(2, 1) + msg(8, "one") + msg(9, struct.pack("<f", 1.0))
    node = msg(1, "input0") + msg(1, "one") + msg(2, "output0") + msg(3, "add") + msg(4, "Add")
    graph = (msg(1, node) + msg(2, "add1") + msg(5, one) + msg(11, value_info("input0"))
             + msg(12, value_info("output0")))
    return num(1, 7) + msg(2, "witxgen conformance") + msg(7, graph) + msg(8, num(2, 13))


# --- MobileNetV2-shaped smoke model --------------------------------------------------------------

_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1))


def _weights(np: Any, shape: tuple[int, ...], salt: int, scale: float) -> Any:
    """Deterministic pseudo-random weights in [-scale, scale) from an integer hash (no RNG,
    so no dependence on numpy's generator versions)."""
    n = math.prod(shape)
    i = np.arange(n, dtype=np.uint64) + np.uint64(salt * 1_000_003)
    h = (i * np.uint64(2654435761) + np.uint64(12345)) % np.uint64(1 << 31)
    h = (h * np.uint64(1103515245) + np.uint64(12345)) % np.uint64(1 << 31)
    unit = h.astype(np.float64) / float(1 << 31) * 2.0 - 1.0
    return (unit * scale).astype(np.float32).reshape(shape)


def mobilenet() -> dict[str, bytes]:
    ov, ops, np = _ov()
    x = _param(ops, "input", list(MOBILENET_INPUT), "f32")
    salt = 0

    def conv(inp: Any, cin: int, cout: int, k: int, stride: int, groups: int, relu6: bool,
             name: str) -> Any:
        nonlocal salt
        salt += 1
        fan_in = cin // groups * k * k
        w = _weights(np, (cout, cin // groups, k, k), salt, math.sqrt(3.0 / fan_in))
        pad = [k // 2, k // 2]
        if groups == 1:
            y = ops.convolution(inp, ops.constant(w, name=f"{name}.weight"), [stride] * 2, pad,
                                pad, [1, 1], name=f"{name}.conv")
        else:
            g = w.reshape(groups, cout // groups, cin // groups, k, k)
            y = ops.group_convolution(inp, ops.constant(g, name=f"{name}.weight"), [stride] * 2,
                                      pad, pad, [1, 1], name=f"{name}.conv")
        return ops.clamp(y, 0.0, 6.0, name=name) if relu6 else y

    h = conv(x, 3, 32, 3, 2, 1, True, "stem")
    cin, block = 32, 0
    for t, c, n, s in _BLOCKS:
        for i in range(n):
            stride = s if i == 0 else 1
            name = f"block{block}"
            y = h
            if t != 1:
                y = conv(y, cin, cin * t, 1, 1, 1, True, f"{name}.expand")
            y = conv(y, cin * t, cin * t, 3, stride, cin * t, True, f"{name}.dw")
            y = conv(y, cin * t, c, 1, 1, 1, False, f"{name}.project")
            if stride == 1 and cin == c:
                y = ops.add(h, y, name=f"{name}.add")
            h, cin, block = y, c, block + 1
    h = conv(h, cin, 1280, 1, 1, 1, True, "last")
    axes = ops.constant(np.array([2, 3], np.int64), name="pool.axes")
    pooled = ops.reduce_mean(h, axes, keep_dims=False, name="pool")
    w = _weights(np, (MOBILENET_CLASSES, 1280), 999, 0.01)
    bias = np.zeros((1, MOBILENET_CLASSES), np.float32)
    bias[0, MOBILENET_CLASS] = 40.0
    logits = ops.add(ops.matmul(pooled, ops.constant(w, name="fc.weight"), False, True,
                                name="fc.matmul"), ops.constant(bias, name="fc.bias"), name="fc")
    y = ops.softmax(logits, 1, name="softmax")
    return _serialize(_model(ov, ops, [("output", y)], [x], "mobilenet_v2_synthetic"))


# --- the registry ------------------------------------------------------------------------------

def _builders() -> dict[str, tuple[str, Callable[[], dict[str, bytes]]]]:
    table: dict[str, tuple[str, Callable[[], dict[str, bytes]]]] = {}
    for t in TENSOR_TYPES:
        table[f"add1_{t}"] = ("openvino", functools.partial(add1, t))
        for op in OPS:
            table[f"op_{op}_{t}"] = ("openvino", functools.partial(operator, op, t))
    table["add1"] = ("openvino", lambda: add1("f32"))
    table["two_io"] = ("openvino", two_io)

    def bad() -> dict[str, bytes]:
        good = add1("f32")
        return {"model.xml": good["model.xml"][: len(good["model.xml"]) // 2],
                "model.bin": good["model.bin"]}

    table["bad"] = ("openvino", bad)
    table["add1_onnx"] = ("onnx", lambda: {"model.onnx": onnx_add1()})
    table["mobilenet"] = ("openvino", mobilenet)
    return table


FIXTURE_NAMES = tuple(_builders())


class Fixtures:
    """Builds fixtures on first use and keeps them for the rest of one generation."""

    def __init__(self) -> None:
        self._built: dict[str, Fixture] = {}
        self._table = _builders()

    def get(self, name: str) -> Fixture:
        if name not in self._built:
            encoding, build = self._table[name]
            try:
                files = build()
            except FixtureError:
                raise
            except Exception as exc:  # OpenVINO refused a model: say which
                raise FixtureError(f"building fixture {name!r} with OpenVINO failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
            self._built[name] = Fixture(name, encoding, files)
        return self._built[name]

    def built(self) -> list[Fixture]:
        return [self._built[n] for n in sorted(self._built)]
