"""Build the digits demo guests (examples/digits/guest-{rust,c,as}) into build/demo/.

    python scripts/build_demo.py [--out DIR] [--only rust|c|assemblyscript]... [--force]

Each guest is one source file built on witxgen's checked-in bindings in generated/: Rust with
a rustc that has a wasm32 WASI standard library (Debian's /usr/bin/rustc 1.63 with
libstd-rust-dev-wasm32; a rustup toolchain earlier in PATH often lacks it), C with clang-14 and
Debian's wasi-libc, AssemblyScript with node_modules/.bin/asc and the WASI shim. A language
whose toolchain is missing is skipped with a message (exit status 0); a failed build exits 1.
A guest newer than its source, the bindings and this script is not rebuilt (--force does).

Also sets up OUT/models/digits (model.xml + model.bin) for `witxgen run --nn-graph
openvino::OUT/models/digits`: the model's name for load_by_name is the folder's name.

tests/test_demo.py imports this file for `build()`, `Missing` and `setup_models()`.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "digits"
GENERATED = REPO / "generated"
DEFAULT_OUT = REPO / "build" / "demo"
LANGUAGES = ("rust", "c", "assemblyscript")

SOURCES = {
    "rust": EXAMPLE / "guest-rust" / "main.rs",
    "c": EXAMPLE / "guest-c" / "main.c",
    "assemblyscript": EXAMPLE / "guest-as" / "main.ts",
}
BINDINGS = {
    "rust": [GENERATED / "rust" / "wasi_ephemeral_nn.rs"],
    "c": [GENERATED / "c" / "wasi_ephemeral_nn.h"],
    "assemblyscript": [GENERATED / "assemblyscript" / "wasi_ephemeral_nn.ts",
                       GENERATED / "assemblyscript" / "witx_rt.ts"],
}
WASM_NAMES = {"rust": "digits-rust.wasm", "c": "digits-c.wasm",
              "assemblyscript": "digits-as.wasm"}

RUSTC_CANDIDATES = ["/usr/bin/rustc", "rustc", str(Path.home() / ".cargo" / "bin" / "rustc")]
RUST_TARGETS = ("wasm32-wasi", "wasm32-wasip1")  # renamed in Rust 1.78, old name gone in 1.84
CLANG = "clang-14"
CFLAGS = ["--target=wasm32-wasi", "-std=c11", "-Wall", "-Wextra", "-pedantic"]
ASC = REPO / "node_modules" / ".bin" / "asc"
# Relative to the repo, asc's working directory: asc finds the shim's `lib` only that way.
SHIM_CONFIG = "./node_modules/@assemblyscript/wasi-shim/asconfig.json"
TIMEOUT = 600


class Missing(Exception):
    """The language's toolchain is not installed; the message says what to install."""


class BuildError(Exception):
    """The compiler ran and failed; the message holds the command and its output."""


@dataclass
class Built:
    language: str
    wasm: Path
    seconds: float  # 0.0 when the guest was up to date
    rebuilt: bool


# ---- toolchains -------------------------------------------------------------------------

@functools.cache
def rust_toolchain() -> tuple[str, str]:
    """(rustc, target) for the first rustc with a wasm32 WASI std ($RUSTC first)."""
    candidates = [os.environ["RUSTC"]] if os.environ.get("RUSTC") else []
    seen: set[str] = set()
    for candidate in [*candidates, *RUSTC_CANDIDATES]:
        path = shutil.which(candidate)
        if path is None or str(Path(path).resolve()) in seen:
            continue
        seen.add(str(Path(path).resolve()))
        for target in RUST_TARGETS:
            proc = subprocess.run([path, "--print", "target-libdir", "--target", target],
                                  capture_output=True, text=True, timeout=60)
            libdir = Path(proc.stdout.strip())
            if proc.returncode == 0 and any(libdir.glob("libstd-*.rlib")):
                return path, target
    raise Missing("no rustc with a wasm32-wasi standard library "
                  "(Debian: apt install rustc libstd-rust-dev-wasm32 lld)")


@functools.cache
def c_toolchain() -> tuple[str, ...]:
    """clang-14 and the flags that link a wasm32-wasi program against wasi-libc."""
    clang = shutil.which(CLANG)
    if clang is None:
        raise Missing("clang-14 is not installed (Debian: apt install clang-14 lld "
                      "wasi-libc libclang-rt-14-dev-wasm32)")
    with tempfile.TemporaryDirectory(prefix="witxgen-probe-") as tmp:
        probe = Path(tmp) / "probe.c"
        probe.write_text("#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n")
        for extra in ([], ["--sysroot=/usr"]):  # Debian's wasi-libc is found without it
            argv = [clang, *CFLAGS, *extra, str(probe), "-o", str(Path(tmp) / "probe.wasm")]
            if subprocess.run(argv, capture_output=True, timeout=120).returncode == 0:
                return (clang, *CFLAGS, *extra)
    raise Missing("clang-14 cannot link for wasm32-wasi (Debian: apt install wasi-libc "
                  "libclang-rt-14-dev-wasm32 lld)")


@functools.cache
def as_toolchain() -> Path:
    if not ASC.is_file():
        raise Missing(f"asc not found at {display(ASC)} "
                      "(run scripts/install-node-deps.sh; needs nodejs and npm)")
    if shutil.which("node") is None:
        raise Missing("node is not installed (Debian: apt install nodejs)")
    return ASC


def toolchain(language: str) -> object:
    """Probe `language`'s toolchain; raises Missing when it is not usable."""
    return {"rust": rust_toolchain, "c": c_toolchain, "assemblyscript": as_toolchain}[language]()


# ---- building ---------------------------------------------------------------------------

def command(language: str, wasm: Path, strict: bool = False) -> list[str]:
    """The compiler command line; `strict` turns warnings into errors (the tests use it)."""
    source = SOURCES[language]
    if language == "rust":
        rustc, target = rust_toolchain()
        return [rustc, "--edition", "2021", "--crate-type", "bin", "--target", target,
                "-O", "-C", "strip=symbols", *(["-D", "warnings"] if strict else []),
                str(source), "-o", str(wasm)]
    if language == "c":
        # Debian's wasi-libc carries DWARF; stripping takes the guest from ~220 KB to ~40 KB.
        return [*c_toolchain(), *(["-Werror"] if strict else []), "-O2", "-Wl,--strip-all",
                "-I", str(GENERATED / "c"), str(source), "-o", str(wasm)]
    if language == "assemblyscript":
        return [str(as_toolchain()), str(source), "-O2", "--config", SHIM_CONFIG,
                "-o", str(wasm)]
    raise ValueError(f"unknown language {language!r}")


def up_to_date(language: str, wasm: Path) -> bool:
    if not wasm.is_file():
        return False
    inputs = [SOURCES[language], *BINDINGS[language], Path(__file__)]
    return all(wasm.stat().st_mtime >= p.stat().st_mtime for p in inputs)


def build(language: str, out: Path = DEFAULT_OUT, *, force: bool = False,
          strict: bool = False) -> Built:
    """Build one guest into `out`; raises Missing or BuildError."""
    toolchain(language)
    out.mkdir(parents=True, exist_ok=True)
    wasm = out / WASM_NAMES[language]
    if not force and up_to_date(language, wasm):
        return Built(language, wasm, 0.0, False)
    argv = command(language, wasm, strict)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or not wasm.is_file():
        wasm.unlink(missing_ok=True)
        raise BuildError(f"{' '.join(argv)}\n{proc.stdout}{proc.stderr}".rstrip())
    return Built(language, wasm, seconds, True)


def setup_models(out: Path = DEFAULT_OUT) -> Path:
    """OUT/models/digits with the IR files; returns the folder (name `digits`)."""
    folder = out / "models" / "digits"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("model.xml", "model.bin"):
        source, copy = EXAMPLE / "model" / name, folder / name
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            shutil.copyfile(source, copy)
    return folder


def display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: build/demo")
    parser.add_argument("--only", action="append", choices=LANGUAGES, default=[],
                        help="build only this language (repeatable)")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    languages = args.only or list(LANGUAGES)

    def one(language: str) -> tuple[str, Built | Exception]:
        try:
            return language, build(language, args.out, force=args.force)
        except (Missing, BuildError) as exc:
            return language, exc

    # The three compilers are independent; asc dominates, so run them side by side.
    with ThreadPoolExecutor(max_workers=len(languages)) as pool:
        results = list(pool.map(one, languages))
    failed = False
    for language, result in results:
        if isinstance(result, Built):
            size = result.wasm.stat().st_size
            how = f"built in {result.seconds:.1f} s" if result.rebuilt else "up to date"
            print(f"build-demo: {language:<14} {display(result.wasm)} "
                  f"({size / 1024:.0f} KiB, {how})")
        elif isinstance(result, Missing):
            print(f"build-demo: {language:<14} skipped: {result}")
        else:
            failed = True
            print(f"build-demo: {language:<14} FAILED:\n{result}", file=sys.stderr)
    models = setup_models(args.out)
    print(f"build-demo: model for load_by_name(\"digits\") in {display(models)}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
