"""Running a WASI command module with wasi-nn: what `witxgen run` does.

Compiled modules are cached on disk (keyed by the module's sha256, the wasmtime version
and the platform), so a repeat run skips compilation. A trap becomes exit code 134 (what
wasmtime's own CLI reports) with a one-line reason on stderr.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import sys
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
        wasi.preopen_dir(host, guest)
    wasi.inherit_stdin()
    if config.stdout is None:
        wasi.inherit_stdout()
    else:
        wasi.stdout_file = config.stdout
    if config.stderr is None:
        wasi.inherit_stderr()
    else:
        wasi.stderr_file = config.stderr

    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    add_wasi_nn(linker, nn)
    store = wasmtime.Store(engine)
    store.set_wasi(wasi)
    try:
        instance = linker.instantiate(store, module)
        start = instance.exports(store).get("_start")
        if not isinstance(start, wasmtime.Func):
            return RunResult(1, "the module has no `_start` function (not a WASI command)", nn)
        start(store)
    except wasmtime.ExitTrap as exit_trap:
        return RunResult(exit_trap.code, None, nn)
    except wasmtime.Trap as trap:
        return RunResult(TRAP_EXIT_CODE, one_line(trap.message), nn)
    except wasmtime.WasmtimeError as err:
        return RunResult(TRAP_EXIT_CODE, one_line(str(err)), nn)
    finally:
        sys.stdout.flush()
    return RunResult(0, None, nn)
