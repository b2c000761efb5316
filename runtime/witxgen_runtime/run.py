"""Running a WASI command module with wasi-nn: what `witxgen run` does.

Compiled modules are cached on disk (keyed by the module's sha256, the wasmtime version
and the platform), so a repeat run skips compilation. A trap becomes exit code 134 (what
wasmtime's own CLI reports) with a one-line reason on stderr.

What cannot run at all raises `wasmtime.WasmtimeError` instead of returning a RunResult: bytes
that are not a module, a module that fails to link (an import nobody defines), a module without
a `_start` function, a `dirs` entry that cannot be preopened (wasmtime's CLI exits 1 for all of
these; `witxgen run` too). A `nn_graphs` entry that cannot be registered raises `NnError`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import mmap
import os
import platform
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import wasmtime

from .host import add_wasi_nn
from .limits import Limits
from .nn import OpenVinoNn

TRAP_EXIT_CODE = 134


@dataclass
class RunConfig:
    args: Sequence[str] = ()  # argv after the module name
    env: Sequence[tuple[str, str]] = ()
    dirs: Sequence[tuple[str, str]] = ()  # (host path, guest path)
    nn_graphs: Sequence[str] = ()  # ENCODING::DIR
    precision: str = "f32"
    limits: Limits | None = None
    cache_dir: Path | None = field(default_factory=lambda: default_cache_dir())
    stdout: str | None = None  # a file path; None inherits the process's
    stderr: str | None = None


@dataclass
class RunResult:
    exit_code: int
    trap: str | None = None  # the trap's one-line reason, when the guest trapped
    nn: OpenVinoNn | None = None


def default_cache_dir() -> Path | None:
    if os.environ.get("WITXGEN_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "witxgen" / "modules"


def load_module(engine: wasmtime.Engine, wasm: bytes, cache_dir: Path | None) -> wasmtime.Module:
    """Compile `wasm`, or reuse the machine code cached by an earlier run."""
    if cache_dir is None:
        return wasmtime.Module(engine, wasm)
    key = hashlib.sha256(wasm)
    key.update(f"{_wasmtime_version()}/{platform.machine()}".encode())
    path = cache_dir / f"{key.hexdigest()}.cwasm"
    if path.is_file():
        try:
            return wasmtime.Module.deserialize_file(engine, str(path))
        except wasmtime.WasmtimeError:
            path.unlink(missing_ok=True)  # stale or damaged: compile again
    module = wasmtime.Module(engine, wasm)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(module.serialize())
        tmp.replace(path)  # atomic: concurrent runs never see half a file
    except OSError:
        pass  # a read-only cache only costs the next run a compile
    return module


def _wasmtime_version() -> str:
    try:
        return importlib.metadata.version("wasmtime")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def one_line(text: str) -> str:
    return " ".join(str(text).split())


_FRAME_OFFSET = re.compile(r"^\s*\d+:\s+(0x[0-9a-fA-F]+)\s+-", re.MULTILINE)
_CAUSE_NUMBER = re.compile(r"^\s*\d+:\s*", re.MULTILINE)


def trap_reason(message: str) -> str:
    """One line saying why the guest stopped. wasmtime's "error while executing at wasm
    backtrace: <frames> Caused by: [0: <context> 1: ]wasm trap: <reason>" becomes "<reason>[:
    <context>] (at wasm offset <innermost frame with an offset>)"; a message without a
    backtrace (a host function's trap) is kept whole, on one line."""
    text = str(message)
    head, found, cause = text.rpartition("Caused by:")
    if not found:
        return one_line(text)
    chain = [one_line(c) for c in _CAUSE_NUMBER.split(cause)]
    chain = [c.removeprefix("wasm trap: ") for c in reversed(chain) if c]  # the root first
    reason = ": ".join(chain)
    frame = _FRAME_OFFSET.search(head)
    return f"{reason} (at wasm offset {frame.group(1)})" if frame else reason


_SIGNAL_STACK_SIZE = 1 << 18
_SS_DISABLE = 2  # Linux's
_signal_stacks: dict[int, tuple[mmap.mmap, int]] = {}


def ensure_signal_stack() -> None:
    """Give the calling thread an alternate signal stack that stays valid, before running wasm.

    wasmtime turns a wasm trap (unreachable, an out-of-bounds access, stack overflow) into a
    signal handled on the thread's alternate signal stack, which it sets up once per thread, or
    not at all when the thread has one. OpenVINO's CPU plugin installs its own on the thread
    that loads it and puts back the one it found when its Core is destroyed: Cores destroyed
    out of order (anywhere in the process: tests, an embedder's own ov.Core) leave the thread
    with a freed stack, and the next trap kills the process with SIGSEGV. So each run first
    installs a stack of its own (one per thread, never freed) unless it is still installed.
    Linux only (elsewhere this does nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    class StackT(ctypes.Structure):
        _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int),
                    ("ss_size", ctypes.c_size_t)]

    libc = ctypes.CDLL(None, use_errno=True)
    current = StackT()
    if libc.sigaltstack(None, ctypes.byref(current)) != 0:
        return
    thread = threading.get_ident()
    mine = _signal_stacks.get(thread)
    if mine is not None and current.ss_sp == mine[1] and not current.ss_flags & _SS_DISABLE:
        return
    if mine is None:
        memory = mmap.mmap(-1, _SIGNAL_STACK_SIZE)  # never closed: the thread may run wasm again
        address = ctypes.addressof(ctypes.c_char.from_buffer(memory))
        mine = _signal_stacks[thread] = (memory, address)
    stack = StackT(mine[1], 0, _SIGNAL_STACK_SIZE)
    libc.sigaltstack(ctypes.byref(stack), None)


def _drop_frames(exc: BaseException) -> None:
    """Forget the frames a caught trap's traceback holds. They are in a reference cycle with
    the exception (wasmtime-py's `enter_wasm` generator), so without this each trapped run
    keeps its Store (a 4 GiB address-space reservation per memory, and the guest's memory)
    until Python's cyclic collector happens to run."""
    exc.__traceback__ = None


def run_wasi(wasm: Path | bytes, config: RunConfig | None = None,
             engine: wasmtime.Engine | None = None) -> RunResult:
    """Run a WASI command module's `_start` with wasi-nn; return its exit code."""
    config = config or RunConfig()
    engine = engine or wasmtime.Engine()
    name = wasm.name if isinstance(wasm, Path) else "guest.wasm"
    data = wasm.read_bytes() if isinstance(wasm, Path) else wasm
    module = load_module(engine, data, config.cache_dir)

    nn = OpenVinoNn(precision=config.precision, limits=config.limits)
    for spec in config.nn_graphs:
        nn.register(spec)

    wasi = wasmtime.WasiConfig()
    wasi.argv = [name, *config.args]
    wasi.env = [list(pair) for pair in config.env]
    for host, guest in config.dirs:
        try:
            wasi.preopen_dir(host, guest)
        except wasmtime.WasmtimeError as err:
            raise wasmtime.WasmtimeError(
                f"cannot preopen directory {host} as {guest}: {one_line(str(err))}"
            ) from None
    wasi.inherit_stdin()
    if config.stdout is None:
        wasi.inherit_stdout()
    else:
        wasi.stdout_file = config.stdout
    if config.stderr is None:
        wasi.inherit_stderr()
    else:
        wasi.stderr_file = config.stderr

    # The store holds this one instance: its memory, once known, serves every wasi-nn call.
    # Until then (a start section calling wasi-nn) each call looks the export up.
    memory: list[object] = []

    def get_memory(caller: wasmtime.Caller) -> object:
        return memory[0] if memory else caller.get("memory")

    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    add_wasi_nn(linker, nn, get_memory=get_memory)
    store = wasmtime.Store(engine)
    store.set_wasi(wasi)
    ensure_signal_stack()
    try:
        # A start section may run guest code (exit or trap). Any other error is a link
        # failure, which is no trap: it propagates, as a module that does not compile does.
        instance = linker.instantiate(store, module)
    except wasmtime.ExitTrap as exit_trap:
        return RunResult(exit_trap.code, None, nn)
    except wasmtime.Trap as trap:
        _drop_frames(trap)
        return RunResult(TRAP_EXIT_CODE, trap_reason(trap.message), nn)
    exports = instance.exports(store)
    memory.append(exports.get("memory"))
    start = exports.get("_start")
    if not isinstance(start, wasmtime.Func):
        raise wasmtime.WasmtimeError("the module has no `_start` function (not a WASI command)")
    try:
        start(store)
    except wasmtime.ExitTrap as exit_trap:
        return RunResult(exit_trap.code, None, nn)
    except wasmtime.Trap as trap:
        _drop_frames(trap)
        return RunResult(TRAP_EXIT_CODE, trap_reason(trap.message), nn)
    except wasmtime.WasmtimeError as err:
        # An error while the guest ran that wasmtime does not call a trap (a WASI call with
        # no memory, proc_exit outside 0..125): the guest stopped abnormally all the same.
        _drop_frames(err)
        return RunResult(TRAP_EXIT_CODE, trap_reason(str(err)), nn)
    finally:
        sys.stdout.flush()
    return RunResult(0, None, nn)
