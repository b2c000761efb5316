"""Shared pieces of the robustness drivers: paths, models, memory figures, glue variants.

Everything here runs without pytest; the drivers are plain modules that `report.py` runs (each
scenario in its own process where peaks must be separate) and that tests/test_robustness.py
imports for its fast, reduced runs.
"""

from __future__ import annotations

import base64
import functools
import inspect
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DIGITS_DIR = REPO / "examples" / "digits" / "model"
BUILD_DIR = REPO / "build" / "robustness"
RESULTS_DIR = BUILD_DIR / "results"

for _path in (REPO / "runtime", REPO / "generated" / "python-host", REPO / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

import wasmtime  # noqa: E402
from witxgen_host import wasi_ephemeral_nn  # noqa: E402

#: wasi-nn's nn_errno values (spec/wasi-nn.witx order).
SUCCESS, INVALID_ARGUMENT, INVALID_ENCODING, MISSING_MEMORY, BUSY = 0, 1, 2, 3, 4
RUNTIME_ERROR, UNSUPPORTED_OPERATION, TOO_LARGE, NOT_FOUND = 5, 6, 7, 8
ERRNO_NAMES = {e.value: e.name.lower() for e in wasi_ephemeral_nn.NnErrno}

PAGE = 65536
#: The digits model: input f32[1,64], output f32[1,10].
DIGITS_IN = (1, 64)
DIGITS_OUT_BYTES = 40

# y = x + [1, 2] on float32[2], a 372-byte TFLite flatbuffer (the one tests/test_backend.py
# builds with the flatbuffers package and keeps inline).
TFLITE_ADD = base64.b64decode(
    "CAAAAFRGTDO6////HAAAABAAAAAgAAAAJAAAAAMAAAABAAAAdAAAAAIAAAA4AQAAKAEAAAEAAAAkAAAAAQAAAAgAAAAEAAYA"
    "BAAAAAAADgAYABQAEAAMAAgABAAOAAAAFAAAABwAAAAgAAAAJAAAACgAAAAEAAAAbWFpbgAAAAABAAAANAAAAAEAAAACAAAA"
    "AQAAAAAAAAADAAAAjAAAAGQAAABAAAAAAAAOABQAAAAQAAwACwAEAA4AAAAkAAAAAAAACwgAAAAMAAAAAQAAAAIAAAACAAAA"
    "AAAAAAEAAACA////yP///1QAAAAEAAAAAQAAAAIAAAAMABAADAAAAAgABAAMAAAAPAAAAAEAAAAEAAAAAQAAAAIAAAAMAAwA"
    "CAAAAAAABAAMAAAAIAAAAAQAAAABAAAAAgAAAAEAAAB5AAAAAQAAAGMAAAABAAAAeAAGAAgABAAGAAAADAAAAAQABAAEAAAA"
    "CAAAAAAAgD8AAABA"
)


# --- models ------------------------------------------------------------------------------


@functools.cache
def digits_ir() -> tuple[bytes, bytes]:
    """The digits classifier as OpenVINO IR (xml, weights)."""
    return (DIGITS_DIR / "model.xml").read_bytes(), (DIGITS_DIR / "model.bin").read_bytes()


@functools.cache
def digits_onnx() -> bytes:
    return (DIGITS_DIR / "model.onnx").read_bytes()


def ir_bytes(model: Any) -> tuple[bytes, bytes]:
    """An ov.Model as IR bytes (serialized as is: no constant folding, unlike save_model)."""
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix="witxgen-rb-") as tmp:
        xml, weights = os.path.join(tmp, "m.xml"), os.path.join(tmp, "m.bin")
        ov.serialize(model, xml, weights)  # type: ignore[attr-defined]
        return Path(xml).read_bytes(), Path(weights).read_bytes()


def digits_named_dir() -> Path:
    """A directory named "digits" holding the digits IR (the name `load_by_name` uses, for
    our runtime and for the wasmtime CLI's `-S nn-graph=openvino::DIR` alike)."""
    target = BUILD_DIR / "models" / "digits"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("model.xml", "model.bin"):
        src = (DIGITS_DIR / name).read_bytes()
        dst = target / name
        if not dst.is_file() or dst.read_bytes() != src:
            dst.write_bytes(src)
    return target


def digits_inputs(count: int, seed: int = 0) -> list[bytes]:
    """`count` distinct digits inputs (f32[1,64], values 0..16 like the dataset's pixels)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.integers(0, 17, size=DIGITS_IN).astype("<f4").tobytes() for _ in range(count)]


# --- process memory ----------------------------------------------------------------------


def proc_status_kb(field: str) -> int:
    """A `VmRSS`/`VmHWM`/... figure of this process from /proc/self/status, in KiB (0 where
    there is no /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb() -> float:
    return proc_status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    """The peak resident set of this process so far (VmHWM; ru_maxrss where there is none)."""
    kb = proc_status_kb("VmHWM")
    if not kb:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


# --- the host glue ---------------------------------------------------------------------------


def glue_variants() -> list[bool | None]:
    """The registrations of the generated glue to test: [None] when `add_to_linker` has no
    `fast` parameter; [False, True] when it has and the fast path is available here."""
    if "fast" not in inspect.signature(wasi_ephemeral_nn.add_to_linker).parameters:
        return [None]
    from witxgen_host import _guest

    return [False, True] if getattr(_guest, "FAST_CALLS", False) else [False]


def glue_name(fast: bool | None) -> str:
    return {None: "glue", False: "generic", True: "fast"}[fast]


def add_glue(linker: wasmtime.Linker, impl: wasi_ephemeral_nn.WasiEphemeralNn,
             fast: bool | None, get_memory: Any = None) -> None:
    """`add_to_linker` with one implementation, in registration `fast` (see glue_variants)."""
    kwargs: dict[str, Any] = {}
    if get_memory is not None:
        kwargs["get_memory"] = get_memory
    if fast is not None:
        kwargs["fast"] = fast
    wasi_ephemeral_nn.add_to_linker(linker, lambda _caller: impl, **kwargs)


def u32(value: int) -> int:
    return value & 0xFFFFFFFF


def i32(value: int) -> int:
    """A u32 as the signed i32 that wasmtime-py's Func call takes."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value
