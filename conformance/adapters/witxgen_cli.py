"""Adapter that runs witxgen's own runtime as an external process, through `witxgen run`.

An example of the adapter shape (wasi-testsuite's `get_name`, `get_version`, `compute_argv`,
plus witxgen's optional `get_capabilities`, `get_timeout` and `nn_graph_args`), and the proof
that a runtime plugs in with nothing but a file:

    witxgen conformance --adapter conformance/adapters/witxgen_cli.py

$WITXGEN names the command (default: the `witxgen` next to this Python, else on PATH).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path


def _command() -> list[str]:
    if os.environ.get("WITXGEN"):
        return shlex.split(os.environ["WITXGEN"])
    beside = Path(sys.executable).parent / "witxgen"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("witxgen")
    return [found] if found else [sys.executable, "-m", "witxgen"]


def get_name() -> str:
    return "witxgen-cli"


def get_version() -> str:
    out = subprocess.run([*_command(), "--version"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[-1]


def get_capabilities() -> list[str]:
    return ["openvino", "onnx", "tensorflowlite", "autodetect"]


def get_timeout() -> float:
    return 120.0


def nn_graph_args(name: str, encoding: str, directory: str) -> list[str]:
    return ["--nn-graph", f"{encoding}::{directory}"]


def compute_argv(test_path: str, args: list[str], env: dict[str, str],
                 dirs: list[tuple[Path, str]]) -> list[str]:
    argv = [*_command(), "run"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    for host, guest in dirs:
        argv += ["--dir", f"{host}::{guest}"]
    return [*argv, test_path, *args]
