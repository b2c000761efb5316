"""Worker processes that run conformance cases in-process on witxgen's runtime (`run_wasi`).

Each worker is a long-lived child process (spawned, so no OpenVINO thread is forked) that
keeps one wasmtime Engine and runs one case at a time. A case that kills its host kills only
its worker: the parent sees the pipe close, records a crash (with the worker's exit status)
and starts a fresh worker for the next case. A case past its time limit has its worker killed
and replaced the same way.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.connection
import os
import queue
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import Observed, SuiteCase


def describe() -> tuple[str, frozenset[str]]:
    """witxgen's version and the runtime's capabilities (gpu only when OpenVINO sees one)."""
    from .. import __version__

    caps = {"openvino", "onnx", "tensorflowlite", "autodetect"}
    try:
        ov = importlib.import_module("openvino")
        if any(d == "GPU" or d.startswith("GPU.") for d in ov.Core().available_devices):
            caps.add("gpu")
    except Exception:  # no OpenVINO: every case fails to load anyway, and says why
        pass
    return __version__, frozenset(caps)


def _serve(conn: multiprocessing.connection.Connection, precision: str) -> None:
    """The worker's loop: receive a job, run it, send back (exit code, trap)."""
    import wasmtime
    from witxgen_runtime import RunConfig, run_wasi

    engine = wasmtime.Engine()
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        config = RunConfig(args=job["args"], env=job["env"], dirs=job["dirs"],
                           nn_graphs=job["graphs"], precision=precision,
                           stdout=job["stdout"], stderr=job["stderr"])
        try:
            result = run_wasi(Path(job["wasm"]), config, engine=engine)
            reply: dict[str, Any] = {"exit_code": result.exit_code, "trap": result.trap}
        except Exception as exc:  # the host refused to start the module: report as a trap
            reply = {"exit_code": 134, "trap": f"{type(exc).__name__}: {exc}"}
        conn.send(reply)


class _Worker:
    def __init__(self, ctx: Any, precision: str) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, precision), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> int | None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()
        code: int | None = self.process.exitcode
        return code


class WorkerPool:
    def __init__(self, size: int, precision: str = "f32") -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.precision = precision
        self.idle: queue.Queue[_Worker] = queue.Queue()
        for _ in range(max(1, size)):
            self.idle.put(_Worker(self.ctx, precision))
        self.all: list[_Worker] = []

    def run(self, case: SuiteCase, wasm: Path, timeout: float) -> Observed:
        from .runner import Observed

        worker = self.idle.get()
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="witxgen-case-") as tmp:
            out, err = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
            sc = case.sidecar
            job = {"wasm": str(wasm), "args": list(sc.get("args", [])),
                   "env": sorted(sc.get("env", {}).items()),
                   "dirs": [(d, d) for d in sc.get("dirs", [])],
                   "graphs": [f"{enc}::{d}" for _, enc, d in case.graphs()],
                   "stdout": out, "stderr": err}
            reply: dict[str, Any] | None = None
            timed_out = died = False
            code: int | None = None
            try:
                worker.conn.send(job)
                if worker.conn.poll(timeout):
                    reply = worker.conn.recv()
                else:
                    timed_out = True
            except (EOFError, OSError):
                died = True
            if reply is None:
                code = worker.kill()
                worker = _Worker(self.ctx, self.precision)
            self.idle.put(worker)

            def read(path: str) -> str:
                try:
                    return Path(path).read_text("utf-8", "replace")
                except OSError:
                    return ""

            stdout, stderr = read(out), read(err)
        duration = time.monotonic() - start
        if reply is None:
            return Observed(code if died else None, stdout, stderr, timed_out=timed_out,
                            died=died, duration=duration)
        if reply["trap"]:
            stderr += f"witxgen: trap: {reply['trap']}\n"
        return Observed(int(reply["exit_code"]), stdout, stderr, duration=duration)

    def close(self) -> None:
        while True:
            try:
                worker = self.idle.get_nowait()
            except queue.Empty:
                return
            with contextlib.suppress(OSError):
                worker.conn.send(None)
            worker.process.join(5)
            if worker.process.is_alive():
                worker.kill()
