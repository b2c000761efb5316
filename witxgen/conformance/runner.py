"""Running a conformance suite against runtimes and classifying every outcome.

A runtime plugs in through an adapter with wasi-testsuite's shape: a Python file exposing
`get_name()`, `get_version()` and `compute_argv(test_path, args, env, dirs) -> list[str]`
(wasi-testsuite's newer `compute_argv(test_path, args_env_dirs, proposals, wasi_version)` is
accepted too), and optionally `get_capabilities()`, `get_timeout()`, `get_env()` (extra
environment for the runtime process), `get_crash_exit_codes()` and
`nn_graph_args(name, encoding, dir) -> list[str]` (flags that preload a graph for
`load_by_name`; they are put just before the module path unless `compute_argv` takes an
`nn_args` keyword). Two runtimes are built in: `wasmtime` (an adapter file shipped in
`witxgen.conformance.adapters`) and `witxgen`, which runs each case in-process in a pool of
worker processes (`run_wasi`), so that a case that kills its host only kills one worker.

Outcomes (`classify`): pass; fail (the guest printed `FAIL step N: …`, or stopped at a step
where a trap is not acceptable); skip (a capability is missing); crash (the host died: a
signal, exit 101 or a Rust panic message); timeout; and, after an expectations file is
applied (`expectations.apply`), xfail (a recorded divergence) and xpass (a recorded divergence
that no longer happens).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

OUTCOMES = ("pass", "fail", "skip", "xfail", "xpass", "crash", "timeout")
UNEXPECTED = frozenset({"fail", "xpass", "crash", "timeout"})
DEFAULT_TIMEOUT = 60.0
SLOW_FACTOR = 3.0
CRASH_EXIT_CODES = frozenset({101})  # a Rust panic under panic=unwind
PANIC = re.compile(r"panicked at|fatal runtime error|Segmentation fault|core dumped")
BUILTIN = ("witxgen", "wasmtime")


class RunnerError(Exception):
    """A problem with the suite, an adapter or the options (reported, exit 2)."""


# --- the suite ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SuiteCase:
    id: str
    wat: Path
    sidecar: dict[str, Any]

    @property
    def nn(self) -> dict[str, Any]:
        nn: dict[str, Any] = self.sidecar["nn"]
        return nn

    @property
    def requires(self) -> list[str]:
        return list(self.nn.get("requires", []))

    @property
    def slow(self) -> bool:
        return "slow" in self.nn.get("tags", [])

    def graphs(self) -> list[tuple[str, str, str]]:
        """(name, encoding, absolute dir) of each graph to preload."""
        return [(g["name"], g["encoding"], str((self.wat.parent / g["dir"]).resolve()))
                for g in self.nn.get("graphs", [])]


@dataclass
class Suite:
    root: Path
    manifest: dict[str, Any]
    cases: list[SuiteCase]

    @classmethod
    def load(cls, path: Path) -> Suite:
        root = path
        if not (root / "suite.json").is_file() and (root / "conformance" / "suite.json").is_file():
            root = root / "conformance"
        if not (root / "suite.json").is_file():
            raise RunnerError(f"{path}: not a conformance suite (no suite.json); generate one "
                              "with `witxgen generate SPEC -t conformance -o OUT`")
        manifest = json.loads((root / "suite.json").read_text("utf-8"))
        cases = []
        for entry in manifest["cases"]:
            wat = root / entry["module"]
            sidecar = json.loads((root / entry["sidecar"]).read_text("utf-8"))
            cases.append(SuiteCase(entry["id"], wat, sidecar))
        return cls(root, manifest, cases)

    def select(self, patterns: Sequence[str], skip_slow: bool = False) -> list[SuiteCase]:
        chosen = [c for c in self.cases
                  if not patterns or any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]
        return [c for c in chosen if not (skip_slow and c.slow)]


def compile_cases(cases: Iterable[SuiteCase], out_dir: Path) -> dict[str, Path]:
    """WAT -> wasm with wasmtime-py's wat2wasm, into `out_dir` (external runtimes take .wasm)."""
    try:
        import wasmtime
    except ImportError as exc:
        raise RunnerError(f"compiling the suite's WAT needs wasmtime-py ({exc}): "
                          "pip install wasmtime") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases:
        path = out_dir / f"{case.id}.wasm"
        path.write_bytes(bytes(wasmtime.wat2wasm(case.wat.read_text("utf-8"))))
        paths[case.id] = path
    return paths


# --- observation and classification --------------------------------------------------------------

@dataclass
class Observed:
    """What one run of one case did."""

    returncode: int | None  # None: no exit status (timeout); negative: killed by that signal
    stdout: str
    stderr: str
    timed_out: bool = False
    died: bool = False  # the in-process worker died
    duration: float = 0.0


@dataclass
class Result:
    case: str
    runtime: str
    outcome: str
    detail: str = ""
    duration: float = 0.0
    expectation: str = ""  # the expectations file's reason, for xfail/xpass
    actual: str = ""  # the outcome before expectations were applied

    def __post_init__(self) -> None:
        if not self.actual:
            self.actual = self.outcome

    @property
    def unexpected(self) -> bool:
        return self.outcome in UNEXPECTED


def _last_step(stderr: str, marker: str | None) -> int | None:
    if not marker:
        return None
    steps = re.findall(re.escape(marker) + r"(\d+)", stderr)
    return int(steps[-1]) if steps else None


def _tail(text: str) -> str:
    """The most telling line of a runtime's stderr: a panic's message, else the last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("wasi-nn-conformance: step")]
    if not lines:
        return ""
    panics = [i for i, ln in enumerate(lines) if PANIC.search(ln)]
    if panics:
        i = panics[-1]
        line = " ".join(lines[i:i + 2])
    else:
        line = lines[-1]
    return line[:300]


def _step_call(case: SuiteCase, step: int | None) -> str:
    for s in case.nn.get("steps", []):
        if s["step"] == step:
            return f" ({s['call']}, expected {s['expect']})"
    return ""


def classify(case: SuiteCase, obs: Observed, crash_codes: frozenset[int] = CRASH_EXIT_CODES
             ) -> tuple[str, str]:
    """(outcome, detail) of one run, before expectations."""
    nn = case.nn
    step = _last_step(obs.stderr, nn.get("step_marker"))
    where = f" at step {step}{_step_call(case, step)}" if step is not None else ""
    if obs.timed_out:
        return "timeout", f"no exit{where}"
    rc = obs.returncode
    if obs.died or (rc is not None and (rc < 0 or rc in crash_codes)) or PANIC.search(obs.stderr):
        how = (f"killed by signal {-rc}" if rc is not None and rc < 0
               else f"exit {rc}" if rc is not None else "host died")
        return "crash", f"{how}{where}: {_tail(obs.stderr)}".rstrip(": ")
    for line in obs.stdout.splitlines():
        if line.startswith("FAIL "):
            return "fail", line.strip()
    if rc == case.sidecar.get("exit_code", 0) and obs.stdout == case.sidecar.get("stdout", ""):
        return "pass", ""
    if rc == 0:
        return "fail", f"exit 0 but stdout {obs.stdout[:80]!r}"
    if not nn.get("memory", True):
        return "fail", (f"exit {rc}: the guest without memory trapped (it traps on a wrong "
                        f"errno), or the host did: {_tail(obs.stderr)}")
    if step is not None and step in nn.get("trap_steps", []):
        return "pass", f"trapped{where} (a trap is acceptable there)"
    if step is None:
        return "fail", f"exit {rc} before the first step: {_tail(obs.stderr)}"
    return "fail", f"exit {rc}{where}, a trap or host error: {_tail(obs.stderr)}"


# --- runtimes ------------------------------------------------------------------------------------

class Runtime:
    """A runtime under test: its name, version, capabilities, and how to run one case."""

    name: str
    version: str
    capabilities: frozenset[str]
    timeout: float
    crash_codes: frozenset[int] = CRASH_EXIT_CODES

    def run(self, case: SuiteCase, wasm: Path, timeout: float) -> Observed:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def supports(self, case: SuiteCase) -> str | None:
        """None if the case can run here, else why not (a skip)."""
        for need in case.requires:
            if need.startswith("!"):
                if need[1:] in self.capabilities:
                    return f"needs a runtime without {need[1:]}"
            elif need not in self.capabilities:
                return f"needs capability {need}"
        return None


def load_adapter_module(path: Path) -> ModuleType:
    if not path.is_file():
        raise RunnerError(f"adapter {path}: no such file")
    spec = importlib.util.spec_from_file_location(f"witxgen_adapter_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RunnerError(f"adapter {path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise RunnerError(f"adapter {path}: {type(exc).__name__}: {exc}") from exc
    for required in ("get_name", "get_version", "compute_argv"):
        if not callable(getattr(module, required, None)):
            raise RunnerError(f"adapter {path}: has no {required}() (wasi-testsuite's shape: "
                              "get_name, get_version, compute_argv)")
    return module


class AdapterRuntime(Runtime):
    """A runtime driven as a subprocess through an adapter module."""

    def __init__(self, module: ModuleType, origin: str) -> None:
        self.module = module
        self.origin = origin
        try:
            self.name = str(module.get_name())
            self.version = str(module.get_version())
            caps = getattr(module, "get_capabilities", None)
            self.capabilities = frozenset(caps() if caps else ())
            get_timeout = getattr(module, "get_timeout", None)
            self.timeout = float(get_timeout()) if get_timeout else DEFAULT_TIMEOUT
            codes = getattr(module, "get_crash_exit_codes", None)
            self.crash_codes = frozenset(codes()) if codes else CRASH_EXIT_CODES
            get_env = getattr(module, "get_env", None)
            self.env = {**os.environ, **(get_env() if get_env else {})}
        except Exception as exc:
            raise RunnerError(f"adapter {origin}: {type(exc).__name__}: {exc}") from exc
        params = inspect.signature(module.compute_argv).parameters
        self.new_shape = "args_env_dirs" in params
        self.takes_nn_args = "nn_args" in params

    def argv(self, case: SuiteCase, wasm: Path) -> list[str]:
        sc = case.sidecar
        args = list(sc.get("args", []))
        env = dict(sc.get("env", {}))
        dirs = [(Path(d), d) for d in sc.get("dirs", [])]
        nn_args: list[str] = []
        graph_args = getattr(self.module, "nn_graph_args", None)
        for name, encoding, directory in case.graphs():
            if graph_args is None:
                raise RunnerError(f"adapter {self.origin} cannot preload graphs (no "
                                  "nn_graph_args), which case {case.id} needs")
            nn_args += list(graph_args(name, encoding, directory))
        test = str(wasm)
        if self.new_shape:
            argv = list(self.module.compute_argv(test, (args, env, dirs), [], "wasm32-wasip1"))
        elif self.takes_nn_args:
            return list(self.module.compute_argv(test, args, env, dirs, nn_args=nn_args))
        else:
            argv = list(self.module.compute_argv(test, args, env, dirs))
        if nn_args:
            if test not in argv:
                raise RunnerError(f"adapter {self.origin}: compute_argv's argv lacks the "
                                  "module path, so the graph flags have no place")
            i = argv.index(test)
            argv[i:i] = nn_args
        return argv

    def run(self, case: SuiteCase, wasm: Path, timeout: float) -> Observed:
        argv = self.argv(case, wasm)
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout, env=self.env,
                                  stdin=subprocess.DEVNULL, check=False, cwd=wasm.parent)
        except subprocess.TimeoutExpired as exc:
            return Observed(None, _text(exc.stdout), _text(exc.stderr), timed_out=True,
                            duration=time.monotonic() - start)
        except OSError as exc:
            raise RunnerError(f"{self.name}: cannot start {argv[0]}: {exc}") from exc
        return Observed(proc.returncode, _text(proc.stdout), _text(proc.stderr),
                        duration=time.monotonic() - start)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def builtin_adapter_path(name: str) -> Path:
    return Path(__file__).parent / "adapters" / f"{name}.py"


class InProcessRuntime(Runtime):
    """witxgen's own runtime, in-process (`run_wasi`) inside worker processes."""

    name = "witxgen"

    def __init__(self, jobs: int, precision: str = "f32") -> None:
        from . import worker

        self.version, self.capabilities = worker.describe()
        self.timeout = DEFAULT_TIMEOUT
        self.pool = worker.WorkerPool(jobs, precision)

    def run(self, case: SuiteCase, wasm: Path, timeout: float) -> Observed:
        return self.pool.run(case, wasm, timeout)

    def close(self) -> None:
        self.pool.close()


def make_runtimes(names: Sequence[str], adapters: Sequence[Path], jobs: int) -> list[Runtime]:
    runtimes: list[Runtime] = []
    for name in names:
        if name == "witxgen":
            runtimes.append(InProcessRuntime(jobs))
        elif name in BUILTIN:
            path = builtin_adapter_path(name)
            runtimes.append(AdapterRuntime(load_adapter_module(path), name))
        else:
            raise RunnerError(f"unknown runtime {name!r}: built in are {', '.join(BUILTIN)}; "
                              "others plug in with --adapter FILE.py")
    for path in adapters:
        runtimes.append(AdapterRuntime(load_adapter_module(path), str(path)))
    seen: set[str] = set()
    for rt in runtimes:
        if rt.name in seen:
            raise RunnerError(f"runtime {rt.name} given twice")
        seen.add(rt.name)
    return runtimes


# --- running -------------------------------------------------------------------------------------

@dataclass
class RunReport:
    suite: Suite
    cases: list[SuiteCase]
    runtimes: list[Runtime]
    results: list[Result] = field(default_factory=list)
    elapsed: float = 0.0

    def result(self, case: str, runtime: str) -> Result | None:
        for r in self.results:
            if r.case == case and r.runtime == runtime:
                return r
        return None


Progress = Callable[[int, int, Result], None]


def run_suite(suite: Suite, cases: list[SuiteCase], runtimes: list[Runtime], jobs: int,
              timeout: float | None = None, progress: Progress | None = None) -> RunReport:
    report = RunReport(suite, cases, runtimes)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="witxgen-conformance-") as tmp:
        wasm = compile_cases(cases, Path(tmp))
        jobs_list = [(c, rt) for c in cases for rt in runtimes]
        lock = threading.Lock()
        done = 0

        def one(item: tuple[SuiteCase, Runtime]) -> Result:
            nonlocal done
            case, rt = item
            why = rt.supports(case)
            if why is not None:
                result = Result(case.id, rt.name, "skip", why)
            else:
                limit = (timeout or rt.timeout) * (SLOW_FACTOR if case.slow else 1.0)
                obs = rt.run(case, wasm[case.id], limit)
                outcome, detail = classify(case, obs, rt.crash_codes)
                result = Result(case.id, rt.name, outcome, detail, obs.duration)
            with lock:
                done += 1
                if progress is not None:
                    progress(done, len(jobs_list), result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            report.results = list(pool.map(one, jobs_list))
    report.elapsed = time.monotonic() - start
    return report


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def progress_printer(stream: Any = None) -> Progress:
    """A one-line progress display (on a terminal; elsewhere, nothing until the end)."""
    out = stream or sys.stderr
    tty = hasattr(out, "isatty") and out.isatty()

    def show(done: int, total: int, result: Result) -> None:
        if not tty:
            return
        line = f"[{done:>{len(str(total))}}/{total}] {result.runtime} {result.case}: " \
               f"{result.outcome}"
        out.write("\r\x1b[K" + line[:120])
        if done == total:
            out.write("\r\x1b[K")
        out.flush()

    return show
