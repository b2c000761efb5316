"""The digits demo end to end: the Rust, C and AssemblyScript guests of examples/digits, built
by scripts/build_demo.py on the checked-in generated bindings, run under `run_wasi` (and once
under the `witxgen run` CLI) against OpenVINO, and checked against native OpenVINO at f32:
every sample's printed top 3 with scores, the held-out accuracy (by name and loading the model
files through `load`), and the guests' handling of bad PGM files and bad usage.

A missing toolchain skips that language locally and fails under CI=true.
"""

from __future__ import annotations

import importlib.util
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import REPO, SPEC, require

pytestmark = pytest.mark.slow  # builds three guests (asc alone takes 5-20 s)

try:
    import openvino as ov
except ImportError:  # pragma: no cover - the runtime extra is part of `make test`
    ov = None


def _load_build_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_demo", REPO / "scripts" / "build_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_demo", module)
    spec.loader.exec_module(module)
    return module


build_demo = _load_build_demo()

DIGITS = REPO / "examples" / "digits"
IMAGES = sorted((DIGITS / "images").glob("digit-*.pgm"))
GUEST_DIR = "digits"  # where examples/digits is preopened for the guests
LINE = re.compile(r"^(digit-(\d)-\d+\.pgm): (\d) \((\d\.\d{3})\), (\d) \((\d\.\d{3})\), "
                  r"(\d) \((\d\.\d{3})\)$")
USAGE = "usage: digits [--model DIR | --name NAME] (IMAGE.pgm... | --heldout FILE)"


# ---- native OpenVINO ----------------------------------------------------------------------

class Native:
    """examples/digits/model/model.xml on OpenVINO from Python, f32 like `witxgen run`."""

    def __init__(self) -> None:
        assert ov is not None
        self.compiled = ov.Core().compile_model(
            str(DIGITS / "model" / "model.xml"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        self.request = self.compiled.create_infer_request()

    def scores(self, pixels: np.ndarray) -> np.ndarray:
        self.request.infer({0: pixels.astype(np.float32).reshape(1, 64)})
        return np.array(self.request.get_output_tensor(0).data, np.float32).reshape(10)

    def line(self, name: str, pixels: np.ndarray) -> str:
        """What a guest must print for an image: top 3 by score, ties to the lower class."""
        scores = self.scores(pixels)
        top = np.argsort(-scores, kind="stable")[:3]
        return f"{name}: " + ", ".join(f"{c} ({float(scores[c]):.3f})" for c in top)

    def accuracy(self) -> tuple[int, int]:
        raw = (DIGITS / "data" / "heldout.bin").read_bytes()
        (count,) = struct.unpack_from("<I", raw)
        assert len(raw) == 4 + 65 * count
        records = np.frombuffer(raw, np.uint8, offset=4).reshape(count, 65)
        correct = sum(int(np.argmax(self.scores(r[:64]))) == int(r[64]) for r in records)
        return correct, count


def pgm_pixels(data: bytes) -> tuple[int, np.ndarray]:
    """maxval and the 64 pixels of a P5 8x8 file as the guests preprocess them (f32)."""
    m = re.match(rb"\AP5(?:\s|#[^\n]*\n)+(\d+)(?:\s|#[^\n]*\n)+(\d+)(?:\s|#[^\n]*\n)+(\d+)\s",
                 data)
    assert m is not None
    maxval = int(m[3])
    raw = np.frombuffer(data[m.end():m.end() + 64], np.uint8).astype(np.int32)
    return maxval, (raw * 16).astype(np.float32) / np.float32(maxval)


@pytest.fixture(scope="module")
def native() -> Native:
    require(ov is not None, "openvino is not installed (pip install -e '.[runtime]')")
    return Native()


@pytest.fixture(scope="module")
def native_accuracy(native: Native) -> tuple[int, int]:
    return native.accuracy()


# ---- building and running the guests --------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every guest built at once (asc dominates; the compilers run side by side):
    {language: wasm Path, or the Missing/BuildError exception}."""
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    out = tmp_path_factory.mktemp("demo")

    def one(language: str) -> tuple[str, Any]:
        try:
            return language, build_demo.build(language, out, force=True, strict=True).wasm
        except (build_demo.Missing, build_demo.BuildError) as exc:
            return language, exc

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, build_demo.LANGUAGES))


@pytest.fixture(scope="module", params=build_demo.LANGUAGES)
def guest(request: pytest.FixtureRequest, built: dict[str, Any]) -> Path:
    result = built[request.param]
    if isinstance(result, build_demo.Missing):
        require(False, str(result))
    if isinstance(result, Exception):
        pytest.fail(f"building the {request.param} guest failed:\n{result}")
    assert isinstance(result, Path)
    return result


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo.setup_models(tmp_path_factory.mktemp("demo-models"))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("module-cache")


class Run:
    def __init__(self, exit_code: int, stdout: str, stderr: str, errors: list[Any]) -> None:
        self.exit_code, self.stdout, self.stderr, self.errors = exit_code, stdout, stderr, errors

    def __repr__(self) -> str:
        return f"exit {self.exit_code}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def run(wasm: Path, args: list[str], tmp_path: Path, cache_dir: Path, *,
        models: Path | None = None, dirs: tuple[tuple[str, str], ...] = ()) -> Run:
    from witxgen_runtime import RunConfig, run_wasi

    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    config = RunConfig(
        args=args, dirs=[(str(DIGITS), GUEST_DIR), *dirs],
        nn_graphs=[f"openvino::{models}"] if models is not None else [],
        precision="f32", cache_dir=cache_dir, stdout=str(out), stderr=str(err))
    result = run_wasi(wasm, config)
    assert result.trap is None, result.trap
    errors = list(result.nn.errors) if result.nn is not None else []
    return Run(result.exit_code, out.read_text("utf-8"), err.read_text("utf-8"), errors)


# ---- the tests ------------------------------------------------------------------------------

def test_guest_imports_only_wasi_and_the_generated_nn_bindings(guest: Path) -> None:
    import wasmtime

    from witxgen.abi import function_abi
    from witxgen.loader import load_document

    module = wasmtime.Module.from_file(wasmtime.Engine(), str(guest))
    modules = {imp.module for imp in module.imports}
    assert modules <= {"wasi_ephemeral_nn", "wasi_snapshot_preview1"}, modules
    doc = load_document(SPEC)
    want = {f.name: function_abi(doc, f) for f in doc.module("wasi_ephemeral_nn").functions}
    for imp in module.imports:
        if imp.module == "wasi_ephemeral_nn":
            assert isinstance(imp.type, wasmtime.FuncType)
            params = [str(t) for t in imp.type.params]
            assert params == list(want[imp.name].param_types), imp.name
    names = {imp.name for imp in module.imports if imp.module == "wasi_ephemeral_nn"}
    # load_by_name serves the demo, load serves --model.
    assert {"load", "load_by_name", "init_execution_context", "set_input", "compute",
            "get_output"} <= names


def test_samples_print_natives_top3(guest: Path, models: Path, native: Native,
                                    tmp_path: Path, cache_dir: Path) -> None:
    args = [f"{GUEST_DIR}/images/{p.name}" for p in IMAGES]
    assert len(args) == 10
    result = run(guest, args, tmp_path, cache_dir, models=models)
    assert result.exit_code == 0, result
    assert result.stderr == "", result
    lines = result.stdout.splitlines()
    assert len(lines) == len(IMAGES), result
    for line, path in zip(lines, IMAGES, strict=True):
        m = LINE.match(line)
        assert m is not None, f"bad output line {line!r}"
        assert m[1] == path.name
        assert m[3] == m[2], f"{path.name}: top-1 is {m[3]}, the label is {m[2]}"
        assert len({m[3], m[5], m[7]}) == 3
        assert float(m[4]) >= float(m[6]) >= float(m[8])
        _, pixels = pgm_pixels(path.read_bytes())
        assert line == native.line(path.name, pixels)


def test_heldout_accuracy_equals_native(guest: Path, models: Path, native_accuracy: tuple[
        int, int], tmp_path: Path, cache_dir: Path) -> None:
    correct, count = native_accuracy
    result = run(guest, ["--heldout", f"{GUEST_DIR}/data/heldout.bin"], tmp_path, cache_dir,
                 models=models)
    assert (result.exit_code, result.stderr) == (0, ""), result
    assert result.stdout == f"accuracy {correct}/{count}\n"
    assert result.errors == []


def test_heldout_with_the_model_loaded_from_files(guest: Path, native_accuracy: tuple[int, int],
                                                  tmp_path: Path, cache_dir: Path) -> None:
    """--model DIR: the guest reads model.xml and model.bin itself and calls `load`; no
    model is registered by name."""
    correct, count = native_accuracy
    result = run(guest, ["--model", f"{GUEST_DIR}/model", "--heldout",
                         f"{GUEST_DIR}/data/heldout.bin"], tmp_path, cache_dir)
    assert (result.exit_code, result.stderr) == (0, ""), result
    assert result.stdout == f"accuracy {correct}/{count}\n"


HEADER = b"P5\n8 8\n16\n"
BAD_FILES = {
    "empty.pgm": (b"", "not a binary PGM (no P5 magic number)"),
    "ascii.pgm": (b"P2\n8 8\n16\n" + b"0 " * 64, "not a binary PGM (no P5 magic number)"),
    "size.pgm": (b"P5\n8 9\n16\n" + bytes(72), "image is 8x9, expected 8x8"),
    "big.pgm": (b"P5 28 28 255\n" + bytes(784), "image is 28x28, expected 8x8"),
    "zero.pgm": (b"P5\n8 8\n0\n" + bytes(64), "maxval 0 is not in 1..255"),
    "wide.pgm": (b"P5\n8 8\n65535\n" + bytes(128), "maxval 65535 is not in 1..255"),
    "header.pgm": (b"P5\n8 8", "bad PGM header: no maxval"),
    "nospace.pgm": (b"P5\n8 8\n16", "bad PGM header: no whitespace after maxval"),
    "short.pgm": (HEADER + bytes(10), "truncated: 10 pixel bytes, expected 64"),
    "pixel.pgm": (HEADER + bytes(5) + b"\x11" + bytes(58), "pixel value 17 exceeds maxval 16"),
}


def test_bad_pgm_files(guest: Path, models: Path, native: Native, tmp_path: Path,
                       cache_dir: Path) -> None:
    """Each bad file gets `error: PATH: MESSAGE` on stderr and the run exits 2; the good
    file among them, with comments and maxval 255, is still classified (rescaled to 0..16)."""
    folder = tmp_path / "files"
    folder.mkdir()
    for name, (data, _) in BAD_FILES.items():
        (folder / name).write_bytes(data)
    sample = IMAGES[3].read_bytes()
    _, pixels16 = pgm_pixels(sample)
    raw255 = np.rint(pixels16 * 255 / 16).astype(np.uint8).tobytes()
    odd = b"P5 # a comment\n8\t8 # width, height\n# maxval next\n255\r" + raw255 + b"trailing"
    (folder / "odd.pgm").write_bytes(odd)

    args = [f"files/{name}" for name in BAD_FILES] + ["files/odd.pgm", "files/none.pgm"]
    result = run(guest, args, tmp_path, cache_dir, models=models,
                 dirs=((str(folder), "files"),))
    assert result.exit_code == 2, result
    _, odd_pixels = pgm_pixels(odd)
    assert result.stdout == native.line("odd.pgm", odd_pixels) + "\n"
    assert result.stdout.startswith(f"odd.pgm: {IMAGES[3].name.split('-')[1]} (")
    errors = result.stderr.splitlines()
    assert errors[:-1] == [f"error: files/{name}: {message}"
                           for name, (_, message) in BAD_FILES.items()]
    assert errors[-1].startswith("error: files/none.pgm: cannot read: "), errors[-1]


@pytest.mark.parametrize("args, message", [
    ([], "no images given"),
    (["--bogus", "x.pgm"], "unknown option --bogus"),
    (["--heldout"], "--heldout needs a value"),
    (["--heldout", "h.bin", "x.pgm"], "--heldout takes no images"),
])
def test_usage_errors(guest: Path, args: list[str], message: str, tmp_path: Path,
                      cache_dir: Path) -> None:
    result = run(guest, args, tmp_path, cache_dir)
    assert (result.exit_code, result.stdout) == (2, ""), result
    assert result.stderr == f"error: {message}\n{USAGE}\n"


def test_unknown_model_name_is_a_wasi_nn_failure(guest: Path, tmp_path: Path,
                                                 cache_dir: Path) -> None:
    result = run(guest, ["--name", "nope", f"{GUEST_DIR}/images/{IMAGES[0].name}"], tmp_path,
                 cache_dir)
    assert result.exit_code == 1, result
    assert result.stderr == "error: wasi-nn load_by_name failed: not_found\n"


def test_witxgen_run_cli(built: dict[str, Any], models: Path, tmp_path: Path) -> None:
    """The demo's command line: output, and the guest's exit code 2 propagated."""
    wasm = next((w for w in built.values() if isinstance(w, Path)), None)
    require(wasm is not None, "no demo guest could be built")
    assert wasm is not None
    bad = tmp_path / "bad.pgm"
    bad.write_bytes(b"P5\n8 9\n16\n" + bytes(72))
    argv = [sys.executable, "-m", "witxgen", "run", "--nn-graph", f"openvino::{models}",
            "--dir", f"{DIGITS}::digits", "--dir", f"{tmp_path}::tmp", str(wasm),
            f"digits/images/{IMAGES[7].name}", "tmp/bad.pgm"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 2, proc.stderr
    assert re.fullmatch(rf"{re.escape(IMAGES[7].name)}: 7 \(\d\.\d{{3}}\), .*\n", proc.stdout)
    assert proc.stderr == "error: tmp/bad.pgm: image is 8x9, expected 8x8\n"
