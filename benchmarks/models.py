"""Seeded benchmark models, built on demand as OpenVINO IR and ONNX with identical weights.

* ``mobilenet_v2``: the MobileNetV2 architecture (Sandler et al. 2018, width 1.0, 224x224) with
  random weights: input ``input`` f32[1,3,224,224] -> conv 3x3/2 32 -> 17 inverted residual blocks
  (the paper's t/c/n/s table) -> conv 1x1 1280 -> global average pool -> fully connected 1000 ->
  softmax -> ``output`` f32[1,1000]. BatchNorm is folded into each convolution's weights and
  bias, ReLU6 is Clamp(0, 6). About 3.5 M parameters, ~14 MB per file.
* ``tiny``: ``input`` f32[1,4] -> Add 1 -> ``output`` f32[1,4], for host-call overhead.

Weights come from ``numpy.random.default_rng(seed)`` (He-normal for convolutions followed by
ReLU6, LeCun-normal for the linear ones, small biases), so outputs are finite and not saturated.
Both files are written from the same arrays; OpenVINO's result on the IR and on the ONNX file
agree to float rounding (``check_ir_vs_onnx``).

The models are not checked in: ``write_mobilenet_v2(dir)`` / ``write_tiny(dir)`` build them into
``dir`` and return at once when ``dir`` already holds a complete build for the same seed (a stamp
file, written last, records model, seed and builder version).

Run ``python benchmarks/models.py`` to build into build/models/, check IR against ONNX and print
native OpenVINO latencies (median of 20 after warm-up, f32 and default precision). Needs only
openvino and numpy: the ONNX files are written by a small built-in protobuf encoder (opset 13,
IR version 7), so the ``onnx`` package is not required; its checker accepts them
(``onnx.checker.check_model(..., full_check=True)``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO_ROOT / "build" / "models"
BUILDER_VERSION = 1
STAMP = "witxgen-model.json"

# MobileNetV2's bottleneck table: expansion t, output channels c, repeats n, first stride s.
MOBILENET_V2_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
MOBILENET_V2_INPUT = (1, 3, 224, 224)
MOBILENET_V2_CLASSES = 1000
TINY_SHAPE = (1, 4)


# --- a backend-neutral description of the network -----------------------------------------------


@dataclass(frozen=True)
class Conv:
    """out = [clamp(0, 6)](conv(inp, weight, stride, pad=k//2, groups) + bias)."""

    out: str
    inp: str
    weight: np.ndarray  # [Cout, Cin/groups, k, k]
    bias: np.ndarray  # [Cout]
    stride: int
    groups: int
    relu6: bool


@dataclass(frozen=True)
class Residual:
    out: str
    a: str
    b: str


@dataclass(frozen=True)
class Head:
    """out = softmax(mean over H, W of inp @ weight.T + bias)."""

    out: str
    inp: str
    weight: np.ndarray  # [classes, C]
    bias: np.ndarray  # [classes]


Layer = Conv | Residual | Head


def mobilenet_v2_layers(seed: int = 0) -> list[Layer]:
    rng = np.random.default_rng(seed)

    def conv(
        out: str, inp: str, cin: int, cout: int, k: int, stride: int, groups: int, relu6: bool
    ) -> Conv:
        fan_in = cin // groups * k * k
        std = np.sqrt((2.0 if relu6 else 1.0) / fan_in)
        w = rng.standard_normal((cout, cin // groups, k, k), dtype=np.float32) * np.float32(std)
        b = rng.standard_normal(cout, dtype=np.float32) * np.float32(0.01)
        return Conv(out, inp, w, b, stride, groups, relu6)

    layers: list[Layer] = [conv("stem", "input", 3, 32, 3, 2, 1, True)]
    x, cin, block = "stem", 32, 0
    for t, c, n, s in MOBILENET_V2_BLOCKS:
        for i in range(n):
            stride = s if i == 0 else 1
            name = f"block{block}"
            hidden = cin * t
            h = x
            if t != 1:
                layers.append(conv(f"{name}.expand", h, cin, hidden, 1, 1, 1, True))
                h = f"{name}.expand"
            layers.append(conv(f"{name}.dw", h, hidden, hidden, 3, stride, hidden, True))
            layers.append(conv(f"{name}.project", f"{name}.dw", hidden, c, 1, 1, 1, False))
            h = f"{name}.project"
            if stride == 1 and cin == c:
                layers.append(Residual(f"{name}.add", x, h))
                h = f"{name}.add"
            x, cin, block = h, c, block + 1
    layers.append(conv("last", x, cin, 1280, 1, 1, 1, True))
    w = rng.standard_normal((MOBILENET_V2_CLASSES, 1280), dtype=np.float32)
    w *= np.float32(np.sqrt(1.0 / 1280))
    b = rng.standard_normal(MOBILENET_V2_CLASSES, dtype=np.float32) * np.float32(0.01)
    layers.append(Head("output", "last", w, b))
    assert block == 17
    return layers


def parameter_count(layers: Iterable[Layer]) -> int:
    return sum(
        layer.weight.size + layer.bias.size for layer in layers if not isinstance(layer, Residual)
    )


# --- OpenVINO -----------------------------------------------------------------------------------


def _ov_model(layers: list[Layer], input_shape: tuple[int, ...], name: str) -> Any:
    import openvino as ov
    from openvino import opset13 as ops

    # Every node is named explicitly: OpenVINO's automatic names use a process-wide counter,
    # which would make the saved XML depend on what the process built before.
    param = ops.parameter(list(input_shape), np.float32, name="input")
    param.output(0).get_tensor().set_names({"input"})
    values: dict[str, Any] = {"input": param}
    last: Any = None
    for layer in layers:
        if isinstance(layer, Conv):
            k = layer.weight.shape[-1]
            pad = [k // 2, k // 2]
            args = ([layer.stride] * 2, pad, pad, [1, 1])
            if layer.groups == 1:
                w = ops.constant(layer.weight, name=f"{layer.out}.weight")
                y = ops.convolution(values[layer.inp], w, *args, name=f"{layer.out}.conv")
            else:
                cout, cin_g, kh, kw = layer.weight.shape
                g = layer.groups
                grouped = layer.weight.reshape(g, cout // g, cin_g, kh, kw)
                w = ops.constant(grouped, name=f"{layer.out}.weight")
                y = ops.group_convolution(values[layer.inp], w, *args, name=f"{layer.out}.conv")
            bias = ops.constant(layer.bias.reshape(1, -1, 1, 1), name=f"{layer.out}.bias")
            y = ops.add(y, bias, name=f"{layer.out}.add_bias" if layer.relu6 else layer.out)
            if layer.relu6:
                y = ops.clamp(y, 0.0, 6.0, name=layer.out)
        elif isinstance(layer, Residual):
            y = ops.add(values[layer.a], values[layer.b], name=layer.out)
        else:
            axes = ops.constant(np.array([2, 3], np.int64), name="pool.axes")
            y = ops.reduce_mean(values[layer.inp], axes, keep_dims=False, name="pool")
            w = ops.constant(layer.weight, name="fc.weight")
            y = ops.matmul(y, w, False, True, name="fc.matmul")
            y = ops.add(y, ops.constant(layer.bias.reshape(1, -1), name="fc.bias"), name="fc")
            y = ops.softmax(y, 1, name="softmax")
        values[layer.out] = last = y
    last.output(0).get_tensor().set_names({"output"})
    result = ops.result(last, name="output/sink_port_0")
    return ov.Model([result], [param], name)


def build_mobilenet_v2(seed: int = 0) -> Any:
    """MobileNetV2 with seeded random weights as an ``openvino.Model``."""
    return _ov_model(mobilenet_v2_layers(seed), MOBILENET_V2_INPUT, f"mobilenet_v2-seed{seed}")


def tiny_addend(seed: int = 0) -> np.ndarray:
    """The tiny model's addend: ones (the seed only names the build; kept for a uniform API)."""
    del seed
    return np.ones(TINY_SHAPE, np.float32)


def build_tiny(seed: int = 0) -> Any:
    """``input`` f32[1,4] -> Add 1 -> ``output`` f32[1,4] as an ``openvino.Model``."""
    import openvino as ov
    from openvino import opset13 as ops

    param = ops.parameter(list(TINY_SHAPE), np.float32, name="input")
    param.output(0).get_tensor().set_names({"input"})
    y = ops.add(param, ops.constant(tiny_addend(seed), name="one"), name="add")
    y.output(0).get_tensor().set_names({"output"})
    return ov.Model([ops.result(y, name="output/sink_port_0")], [param], f"tiny-seed{seed}")


# --- ONNX ---------------------------------------------------------------------------------------
# A minimal protobuf writer for the handful of ONNX messages used here (field numbers from
# onnx.proto), so that building the benchmark models needs no `onnx` package.

_FLOAT, _INT64 = 1, 7


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n & (2**64 - 1))


def _bytes(field: int, data: bytes | str) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return _key(field, 2) + _varint(len(raw)) + raw


def _tensor(name: str, array: np.ndarray) -> bytes:
    # TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian).
    dtype = {np.dtype(np.float32): _FLOAT, np.dtype(np.int64): _INT64}[array.dtype]
    dims = b"".join(_int(1, d) for d in array.shape)
    raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
    return dims + _int(2, dtype) + _bytes(8, name) + _bytes(9, raw)


def _attr_int(name: str, value: int) -> bytes:
    return _bytes(1, name) + _int(3, value) + _int(20, 2)  # AttributeProto.INT


def _attr_ints(name: str, values: Iterable[int]) -> bytes:
    return _bytes(1, name) + b"".join(_int(8, v) for v in values) + _int(20, 7)  # INTS


def _node(op: str, inputs: list[str], outputs: list[str], name: str, attrs: list[bytes]) -> bytes:
    body = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
    return body + _bytes(3, name) + _bytes(4, op) + b"".join(_bytes(5, a) for a in attrs)


def _value_info(name: str, shape: tuple[int, ...]) -> bytes:
    dims = b"".join(_bytes(1, _int(1, d)) for d in shape)  # Dimension.dim_value
    tensor_type = _int(1, _FLOAT) + _bytes(2, dims)  # elem_type, shape
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))  # TypeProto.tensor_type


def _onnx_model(
    nodes: list[bytes],
    inits: list[bytes],
    inp: tuple[str, tuple[int, ...]],
    out: tuple[str, tuple[int, ...]],
    name: str,
) -> bytes:
    graph = (
        b"".join(_bytes(1, n) for n in nodes)
        + _bytes(2, name)
        + b"".join(_bytes(5, t) for t in inits)
        + _bytes(11, _value_info(*inp))
        + _bytes(12, _value_info(*out))
    )
    opset = _bytes(1, "") + _int(2, 13)
    # ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8.
    return (
        _int(1, 7) + _bytes(2, "witxgen benchmarks/models.py") + _bytes(7, graph) + _bytes(8, opset)
    )


def mobilenet_v2_onnx(seed: int = 0) -> bytes:
    """The same network, weights and tensor names as ``build_mobilenet_v2``, as ONNX opset 13."""
    layers = mobilenet_v2_layers(seed)
    nodes: list[bytes] = []
    inits = [
        _tensor("relu6.min", np.array(0.0, np.float32)),
        _tensor("relu6.max", np.array(6.0, np.float32)),
    ]
    for layer in layers:
        if isinstance(layer, Conv):
            k = layer.weight.shape[-1]
            inits += [
                _tensor(f"{layer.out}.weight", layer.weight),
                _tensor(f"{layer.out}.bias", layer.bias),
            ]
            conv_out = f"{layer.out}.conv" if layer.relu6 else layer.out
            nodes.append(
                _node(
                    "Conv",
                    [layer.inp, f"{layer.out}.weight", f"{layer.out}.bias"],
                    [conv_out],
                    f"{layer.out}.conv",
                    [
                        _attr_int("group", layer.groups),
                        _attr_ints("kernel_shape", [k, k]),
                        _attr_ints("pads", [k // 2] * 4),
                        _attr_ints("strides", [layer.stride] * 2),
                        _attr_ints("dilations", [1, 1]),
                    ],
                )
            )
            if layer.relu6:
                nodes.append(
                    _node("Clip", [conv_out, "relu6.min", "relu6.max"], [layer.out], layer.out, [])
                )
        elif isinstance(layer, Residual):
            nodes.append(_node("Add", [layer.a, layer.b], [layer.out], layer.out, []))
        else:
            inits += [_tensor("fc.weight", layer.weight), _tensor("fc.bias", layer.bias)]
            nodes += [
                _node("GlobalAveragePool", [layer.inp], ["pool"], "pool", []),
                _node("Flatten", ["pool"], ["pool.flat"], "flatten", [_attr_int("axis", 1)]),
                _node(
                    "Gemm",
                    ["pool.flat", "fc.weight", "fc.bias"],
                    ["fc"],
                    "fc",
                    [_attr_int("transB", 1)],
                ),
                _node("Softmax", ["fc"], [layer.out], "softmax", [_attr_int("axis", 1)]),
            ]
    return _onnx_model(
        nodes,
        inits,
        ("input", MOBILENET_V2_INPUT),
        ("output", (1, MOBILENET_V2_CLASSES)),
        f"mobilenet_v2-seed{seed}",
    )


def tiny_onnx(seed: int = 0) -> bytes:
    inits = [_tensor("one", tiny_addend(seed))]
    nodes = [_node("Add", ["input", "one"], ["output"], "add", [])]
    return _onnx_model(
        nodes, inits, ("input", TINY_SHAPE), ("output", TINY_SHAPE), f"tiny-seed{seed}"
    )


# --- writing (cached) ---------------------------------------------------------------------------


def _write_cached(
    directory: Path | str,
    model: str,
    seed: int,
    build_ir: Callable[[int], Any],
    build_onnx: Callable[[int], bytes],
) -> Path:
    import openvino as ov

    d = Path(directory)
    want = {"model": model, "seed": seed, "builder_version": BUILDER_VERSION}
    stamp = d / STAMP
    files = [d / "model.xml", d / "model.bin", d / "model.onnx"]
    try:
        if json.loads(stamp.read_text()) == want and all(f.is_file() for f in files):
            return d
    except (OSError, ValueError):
        pass
    d.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    ov.save_model(build_ir(seed), str(d / "model.xml"), compress_to_fp16=False)
    (d / "model.onnx").write_bytes(build_onnx(seed))
    stamp.write_text(json.dumps(want, sort_keys=True) + "\n")
    return d


def write_mobilenet_v2(directory: Path | str, seed: int = 0) -> Path:
    """Write model.xml, model.bin and model.onnx into ``directory`` (cached); return it."""
    return _write_cached(directory, "mobilenet_v2", seed, build_mobilenet_v2, mobilenet_v2_onnx)


def write_tiny(directory: Path | str, seed: int = 0) -> Path:
    """Write the tiny Add-1 model as model.xml, model.bin and model.onnx (cached); return it."""
    return _write_cached(directory, "tiny", seed, build_tiny, tiny_onnx)


# --- checks and timing --------------------------------------------------------------------------


def compile_file(path: Path | str, precision: str | None = "f32") -> Any:
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": precision} if precision else {}
    return ov.Core().compile_model(str(path), "CPU", config)


def check_ir_vs_onnx(
    directory: Path | str,
    shape: tuple[int, ...],
    seed: int = 0,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> float:
    """Run a seeded random input through both files at f32; assert allclose; return max |diff|."""
    d = Path(directory)
    x = np.random.default_rng(seed + 1).standard_normal(shape, dtype=np.float32)
    outs = []
    for name in ("model.xml", "model.onnx"):
        compiled = compile_file(d / name)
        outs.append(compiled.create_infer_request().infer({"input": x})[compiled.output(0)].copy())
    a, b = outs
    if not (np.all(np.isfinite(a)) and np.allclose(a, b, rtol=rtol, atol=atol)):
        raise AssertionError(f"{d}: IR and ONNX outputs differ (max {np.abs(a - b).max()})")
    return float(np.abs(a - b).max())


def time_native(
    path: Path | str,
    shape: tuple[int, ...],
    precision: str | None = "f32",
    runs: int = 20,
    warmup: int = 5,
) -> list[float]:
    """Seconds per synchronous inference of one request, after ``warmup`` runs."""
    import openvino as ov

    compiled = compile_file(path, precision)
    request = compiled.create_infer_request()
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    request.set_input_tensor(0, ov.Tensor(x))
    for _ in range(warmup):
        request.infer()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        request.infer()
        times.append(time.perf_counter() - t0)
    return times


def _fmt(ts: list[float]) -> str:
    med, lo = statistics.median(ts), min(ts)
    unit, scale = ("ms", 1e3) if med >= 1e-3 else ("us", 1e6)
    return f"median {med * scale:8.3f} {unit}  min {lo * scale:8.3f} {unit}  (n={len(ts)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    mnv2 = write_mobilenet_v2(args.dir / f"mobilenet_v2-seed{args.seed}", args.seed)
    tiny = write_tiny(args.dir / f"tiny-seed{args.seed}", args.seed)
    print(f"models ready in {time.perf_counter() - t0:.2f} s under {args.dir}")
    print(
        f"mobilenet_v2: {parameter_count(mobilenet_v2_layers(args.seed)):,} parameters; "
        + ", ".join(
            f"{f.name} {f.stat().st_size / 1e6:.2f} MB" for f in sorted(mnv2.glob("model.*"))
        )
    )
    for d, shape in ((mnv2, MOBILENET_V2_INPUT), (tiny, TINY_SHAPE)):
        diff = check_ir_vs_onnx(d, shape, args.seed)
        print(f"{d.name}: OpenVINO on IR vs ONNX allclose (max |diff| {diff:.3g})")
    for d, shape in ((mnv2, MOBILENET_V2_INPUT), (tiny, TINY_SHAPE)):
        for name in ("model.xml", "model.onnx"):
            for precision in ("f32", None):
                ts = time_native(d / name, shape, precision, runs=args.runs)
                label = f"{d.name}/{name} [{precision or 'default'}]"
                print(f"native OpenVINO {label:38s} {_fmt(ts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
