"""Runs a WASI command module in-process under wasmtime-py against the fake wasi-nn host.

`run_guest(wasm)` instantiates the module with WASI (argv, stdout and stderr captured to
temporary files) plus the generated `witxgen_host.wasi_ephemeral_nn` imports served by a
`FakeNn`, runs `_start`, and returns what happened: the exit code (`proc_exit`'s, 0 when
`_start` returns, `TRAP_EXIT_CODE` on a trap), the captured output, the trap message and
the host with its records. `fast` picks how the imports are registered (see
`add_to_linker`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from nn_fake_host import FakeNn
from witxgen_host import wasi_ephemeral_nn

TRAP_EXIT_CODE = 134  # what wasmtime's CLI reports for a trap (128 + SIGABRT)

_ENGINE = wasmtime.Engine()


@dataclass
class GuestRun:
    exit_code: int
    stdout: str
    stderr: str
    host: FakeNn
    trap: str | None = None  # the trap message, when the guest trapped


def compile_module(wasm: Path | bytes | str) -> wasmtime.Module:
    """A module from a .wasm/.wat file, wasm bytes, or WAT text."""
    if isinstance(wasm, Path):
        return wasmtime.Module.from_file(_ENGINE, str(wasm))
    return wasmtime.Module(_ENGINE, wasm)


def run_guest(wasm: Path | bytes | str, args: Sequence[str] = (), *,
              host: FakeNn | None = None, fast: bool | None = None,
              kept_memory: bool = False) -> GuestRun:
    """`fast` is `add_to_linker`'s: how the wasi-nn imports are registered. `kept_memory`:
    pass a `get_memory` that returns the memory kept from instantiation (as `run_wasi`
    does) instead of letting each call look the export up."""
    module = compile_module(wasm)
    host = FakeNn() if host is None else host
    name = wasm.name if isinstance(wasm, Path) else "guest.wasm"
    linker = wasmtime.Linker(_ENGINE)
    linker.define_wasi()
    kept: list[object] = []
    wasi_ephemeral_nn.add_to_linker(linker, lambda caller: host, fast=fast,
                                    get_memory=(lambda caller: kept[0]) if kept_memory else None)
    with tempfile.TemporaryDirectory(prefix="witxgen-guest-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        config = wasmtime.WasiConfig()
        config.argv = [name, *args]
        config.stdout_file = str(out)
        config.stderr_file = str(err)
        store = wasmtime.Store(_ENGINE)
        store.set_wasi(config)
        instance = linker.instantiate(store, module)
        kept.append(instance.exports(store).get("memory"))
        start = instance.exports(store)["_start"]
        assert isinstance(start, wasmtime.Func), "_start is not a function"
        trap: str | None = None
        try:
            start(store)
            code = 0
        except wasmtime.ExitTrap as exc:
            code = exc.code
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            code, trap = TRAP_EXIT_CODE, str(exc)
        del instance, store  # closes the WASI files
        stdout = out.read_text("utf-8", errors="replace")
        stderr = err.read_text("utf-8", errors="replace")
    if trap is not None:
        stderr += f"trap: {trap}\n"
    return GuestRun(code, stdout, stderr, host, trap)
