"""Concurrency: several threads, each with its own Store, guest and `OpenVinoNn`, all over one
`OpenVinoBackend` whose named models compile once and are shared, running inference at once.

Checked: every output equals the one a sequential run computed for the same input (bit for bit),
no thread is still running at the deadline (a deadlock or a hang), and throughput (inferences
per second, wall time from a common start) for 1, 2 and 4 threads on the digits model and on a
MobileNetV2-shaped model (benchmarks/models.py, random weights).

Also shown (`handle_isolation`): `OpenVinoNn` objects over one backend share its handle tables,
so one guest can use another guest's context handle.

`python tests/robustness/concurrency.py --model digits|mobilenet_v2 --threads 1,2,4 --out FILE`.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import wasmtime  # noqa: E402
from common import (  # noqa: E402
    BUILD_DIR,
    DIGITS_IN,
    SUCCESS,
    digits_inputs,
    digits_named_dir,
    glue_name,
    glue_variants,
    peak_rss_mb,
)
from driver_guest import C_SLOT, DriverGuest, compile_driver  # noqa: E402
from witxgen_runtime import OpenVinoBackend, OpenVinoNn  # noqa: E402

DEADLINE = 300.0


@dataclass
class ModelSpec:
    name: str
    directory: Path
    dims: tuple[int, ...]
    inputs: list[bytes]
    out_bytes: int
    per_thread: int


def model_spec(name: str, per_thread: int | None = None) -> ModelSpec:
    import numpy as np

    if name == "digits":
        return ModelSpec("digits", digits_named_dir(), DIGITS_IN, digits_inputs(8), 40,
                         per_thread or 2000)
    if name == "mobilenet_v2":
        from models import MOBILENET_V2_INPUT, write_mobilenet_v2

        directory = write_mobilenet_v2(BUILD_DIR / "models" / "mobilenet_v2")
        rng = np.random.default_rng(3)
        inputs = [rng.standard_normal(MOBILENET_V2_INPUT).astype("<f4").tobytes()
                  for _ in range(4)]
        return ModelSpec("mobilenet_v2", directory, MOBILENET_V2_INPUT, inputs, 4000,
                         per_thread or 40)
    raise ValueError(name)


class Worker:
    """One guest: its own OpenVinoNn (over the shared backend), Store and instance."""

    def __init__(self, backend: OpenVinoBackend, spec: ModelSpec, engine: wasmtime.Engine,
                 module: wasmtime.Module, fast: bool | None) -> None:
        self.nn = OpenVinoNn(backend=backend)
        self.guest = DriverGuest(self.nn, fast=fast, engine=engine, module=module)
        self.layout = self.guest.layout(name=spec.name, dims=spec.dims, data=spec.inputs[0],
                                        out_max=spec.out_bytes)
        self.spec = spec
        assert self.guest.call("load_named", *self.layout.name) == SUCCESS
        assert self.guest.call("init") == SUCCESS
        self.context = self.guest.u32(C_SLOT)

    def infer(self, index: int) -> bytes:
        self.guest.set_data(self.layout, self.spec.inputs[index])
        code = self.guest.call("infer", self.layout.tensor, self.layout.out,
                               self.layout.out_max)
        if code:
            raise RuntimeError(f"infer returned {code}")
        return self.guest.output(self.layout)


@dataclass
class ThreadRun:
    threads: int
    inferences: int
    seconds: float
    per_second: float
    mismatches: int
    errors: list[str]
    deadlocked: bool


@dataclass
class ConcurrencyResult:
    model: str
    glue: str
    runs: list[ThreadRun] = field(default_factory=list)
    compiled_once: bool = True
    #: The same compiled model driven by OpenVINO's Python API directly (one request, one
    #: thread, the same inputs): the baseline the guest path is compared with.
    native_per_second: float = 0.0
    peak_mb: float = 0.0


def run_threads(model: str, thread_counts: list[int], fast: bool | None = None,
                per_thread: int | None = None) -> ConcurrencyResult:
    spec = model_spec(model, per_thread)
    backend = OpenVinoBackend(precision="f32")
    backend.register_dir(f"openvino::{spec.directory}")
    engine = wasmtime.Engine()
    module = compile_driver(engine, pages=4 if model == "digits" else 16)
    result = ConcurrencyResult(model, glue_name(fast))
    # The sequential reference: one guest, each input once.
    first = Worker(backend, spec, engine, module, fast)
    reference = [first.infer(i) for i in range(len(spec.inputs))]
    compiled = backend._named[spec.name].model
    assert compiled is not None
    result.native_per_second = _native_rate(compiled.compiled, spec)
    for n in thread_counts:
        workers = [Worker(backend, spec, engine, module, fast) for _ in range(n)]
        for w in workers:  # warm up each request
            for i in range(min(3, len(spec.inputs))):
                w.infer(i)
        start = threading.Barrier(n + 1)
        mismatches = [0] * n
        errors: list[str] = []

        def work(k: int, w: Worker, start: threading.Barrier, mismatches: list[int],
                 errors: list[str]) -> None:
            start.wait()
            try:
                for j in range(spec.per_thread):
                    i = (k * 3 + j) % len(spec.inputs)
                    if w.infer(i) != reference[i]:
                        mismatches[k] += 1
            except Exception as exc:  # reported, never swallowed
                errors.append(f"thread {k}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=work, args=(k, w, start, mismatches, errors),
                                    daemon=True)
                   for k, w in enumerate(workers)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        deadline = t0 + DEADLINE
        for t in threads:
            t.join(max(0.0, deadline - time.perf_counter()))
        seconds = time.perf_counter() - t0
        deadlocked = any(t.is_alive() for t in threads)
        total = n * spec.per_thread
        result.runs.append(ThreadRun(n, total, round(seconds, 3), round(total / seconds, 1),
                                     sum(mismatches), errors, deadlocked))
        if deadlocked:
            break
    result.compiled_once = backend._named[spec.name].model is compiled
    result.peak_mb = round(peak_rss_mb(), 1)
    return result


def _native_rate(compiled: Any, spec: ModelSpec) -> float:
    import numpy as np

    request = compiled.create_infer_request()
    arrays = [np.frombuffer(b, "<f4").reshape(spec.dims) for b in spec.inputs]
    for a in arrays[:3]:
        request.infer([a])
    t0 = time.perf_counter()
    for j in range(spec.per_thread):
        request.infer([arrays[j % len(arrays)]])
    return round(spec.per_thread / (time.perf_counter() - t0), 1)


def handle_isolation(fast: bool | None = None) -> dict[str, Any]:
    """Guest B, with its own OpenVinoNn over the backend guest A uses, runs inference on A's
    context by writing A's handle into its slot: does it get at A's context?"""
    spec = model_spec("digits")
    backend = OpenVinoBackend(precision="f32")
    backend.register_dir(f"openvino::{spec.directory}")
    engine = wasmtime.Engine()
    module = compile_driver(engine)
    a = Worker(backend, spec, engine, module, fast)
    b = Worker(backend, spec, engine, module, fast)
    a.infer(0)
    stolen = a.context
    b.guest.write(C_SLOT, struct.pack("<I", stolen))
    b.guest.set_data(b.layout, spec.inputs[5])
    code = b.guest.call("infer", b.layout.tensor, b.layout.out, b.layout.out_max)
    return {
        "guest_a_context": stolen,
        "guest_b_own_context": b.context,
        "guest_b_infer_on_a_context": code,
        "shared_handles": code == SUCCESS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", choices=("digits", "mobilenet_v2", "isolation"),
                        required=True)
    parser.add_argument("--threads", default="1,2,4")
    parser.add_argument("--per-thread", type=int)
    parser.add_argument("--glue", choices=("default", "generic", "fast"), default="default")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    fast = {"default": None, "generic": False, "fast": True}[args.glue]
    if fast is not None and fast not in glue_variants():
        print(f"glue registration {args.glue} is not available here", file=sys.stderr)
        return 2
    result: Any
    if args.model == "isolation":
        result = handle_isolation(fast)
    else:
        result = asdict(run_threads(args.model, [int(t) for t in args.threads.split(",")],
                                    fast, args.per_thread))
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    else:
        print(text)
    deadlocked = isinstance(result, dict) and any(r["deadlocked"] for r in result.get("runs", []))
    return 1 if deadlocked else 0


if __name__ == "__main__":
    sys.exit(main())
