"""The native route of benchmarks/suite.py: OpenVINO from Python, timed like the wasi-nn guest.

    python benchmarks/native_worker.py --model DIR --dims 1,3,224,224 --out-floats 1000
        [--precision f32|default] [--iters N] [--warmup N] [--range LO,HI]

One process per run (suite.py measures its peak RSS), importing only openvino and numpy. It
does what the guest's host does for it: read + compile DIR/model.xml + model.bin, then per
iteration copy the input into the request's input tensor (set_input), run one synchronous
inference with `infer()` (compute: what witxgen's backend does; on MobileNetV2 it takes the same
time as `start_async()` + `wait()`, on a tiny model tens of microseconds less) and copy the
output out (get_output). The input is the guest's LCG
sequence (benchmarks/guest/bench.c `fill_input`), so outputs can be compared across routes.

Prints the guest's line format (times in ns): import_ns, load_ns, init_ns, first_ns,
set_input_ns/compute_ns/get_output_ns/iter_ns T..., checksum, argmax, precision (what the
compiled model reports as INFERENCE_PRECISION_HINT).
"""

from __future__ import annotations

import argparse
import time

_T0 = time.perf_counter_ns()
import numpy as np  # noqa: E402
import openvino as ov  # noqa: E402

_IMPORT_NS = time.perf_counter_ns() - _T0


def lcg_input(n: int, lo: float, hi: float) -> np.ndarray:
    """bench.c's fill_input: state = state * 1664525 + 1013904223 mod 2^32 from 12345;
    lo + (hi - lo) * ((state >> 8) / 2^24) in f32."""
    states = np.empty(n, np.uint64)
    state = 12345
    for i in range(n):  # 150k elements for MobileNetV2: ~50 ms, outside every timed span
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        states[i] = state
    u = (states >> np.uint64(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    lo32, hi32 = np.float32(lo), np.float32(hi)
    return (lo32 + (hi32 - lo32) * u).astype(np.float32)


def checksum(out: np.ndarray) -> tuple[float, int]:
    flat = out.reshape(-1)
    total = 0.0
    for i, v in enumerate(flat.tolist()):  # sequential, in double, as the guest does
        total += (i % 7 + 1) * v
    return total, int(np.argmax(flat))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="folder with model.xml + model.bin")
    ap.add_argument("--dims", required=True)
    ap.add_argument("--out-floats", type=int, required=True)
    ap.add_argument("--precision", choices=("f32", "default"), default="f32")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--range", default="-1,1")
    args = ap.parse_args()
    dims = [int(d) for d in args.dims.split(",")]
    lo, hi = (float(v) for v in args.range.split(","))
    x = lcg_input(int(np.prod(dims)), lo, hi).reshape(dims)

    config = {"INFERENCE_PRECISION_HINT": "f32"} if args.precision == "f32" else {}
    t0 = time.perf_counter_ns()
    core = ov.Core()
    compiled = core.compile_model(f"{args.model}/model.xml", "CPU", config)
    t1 = time.perf_counter_ns()
    request = compiled.create_infer_request()
    in_tensor = request.get_input_tensor(0)
    t2 = time.perf_counter_ns()
    print(f"import_ns {_IMPORT_NS}\nload_ns {t1 - t0}\ninit_ns {t2 - t1}")

    series: dict[str, list[int]] = {"set_input_ns": [], "compute_ns": [], "get_output_ns": [],
                                    "iter_ns": []}
    out = np.empty(0, np.float32)
    for i in range(-args.warmup, args.iters):
        a = time.perf_counter_ns()
        np.copyto(in_tensor.data, x)
        b = time.perf_counter_ns()
        request.infer(share_outputs=True)  # what witxgen's backend does in compute
        c = time.perf_counter_ns()
        out = request.get_output_tensor(0).data.copy()
        d = time.perf_counter_ns()
        if i == -args.warmup:
            print(f"first_ns {d - a}")
        if i >= 0:
            for key, value in zip(series, (b - a, c - b, d - c, d - a), strict=True):
                series[key].append(value)
    if out.size != args.out_floats:
        raise SystemExit(f"output has {out.size} floats, expected {args.out_floats}")
    for key, values in series.items():
        print(key, *values)
    total, best = checksum(out)
    print(f"checksum {total!r}\nargmax {best}")
    print(f"precision {compiled.get_property('INFERENCE_PRECISION_HINT')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
