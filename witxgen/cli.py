"""The `witxgen` command line: argument parsing, exit codes and error rendering only.

Exit codes: 0 success; 1 invalid input (diagnostics on stderr); 2 usage error;
70 internal error (a bug in witxgen, reported without a traceback unless
WITXGEN_DEBUG is set).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import __version__
from .diagnostics import WitxError, render_all

if TYPE_CHECKING:
    from . import ir


def load_document(path: str, include: Sequence[str]) -> ir.Document:
    """The loader, imported on first use: building the parser costs more than `--help`."""
    from .loader import load_document as load

    return load(path, include)


EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


def _add_includes(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-I",
        "--include",
        dest="include",
        action="append",
        default=[],
        metavar="DIR",
        help="extra directory to search for `use`d files "
        "(after the including file's own directory); repeatable",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="witxgen",
        description="Read WASI .witx interface files (both dialects) and check them, show "
        "their memory layout and core wasm ABI, or print them in canonical form.",
        epilog="Exit codes: 0 ok, 1 invalid input, 2 usage error, 70 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"witxgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser(
        "check",
        help="validate witx files",
        description="Validate each FILE with everything it `use`s. "
        "Prints every error found; exit 1 if any file is invalid.",
    )
    _add_includes(check)
    check.add_argument("files", nargs="+", metavar="FILE")

    abi = sub.add_parser(
        "abi",
        help="show type layouts and core wasm signatures",
        description="Print the size, alignment and offsets of every type "
        "(wasm32) and the core wasm signature of every function.",
    )
    _add_includes(abi)
    abi.add_argument("file", metavar="FILE")
    abi.add_argument(
        "--json",
        action="store_true",
        help='machine-readable output: {"types": {...}, "modules": {...}}',
    )

    fmt = sub.add_parser(
        "fmt",
        help="print canonical witx (0.9 dialect)",
        description="Print FILE, with everything it `use`s inlined, as "
        "canonical witx in the 0.9 dialect. Old-dialect input "
        "is converted.",
    )
    _add_includes(fmt)
    fmt.add_argument("file", metavar="FILE")

    from .targets import DEFAULT_TARGETS, REGISTRY

    gen = sub.add_parser(
        "generate", help="generate bindings and docs",
        description="Generate bindings for FILE into OUT/<target>/ (default: every target "
                    "into generated/). With --check nothing is written: exit 1 and list each "
                    "file that differs, is missing or is stale.",
        epilog="Templates: --templates DIR overrides built-in templates by name, e.g. "
               "DIR/rust/module.rs.jinja replaces the Rust module template. "
               "Targets: " + ", ".join(REGISTRY) + ".")
    _add_includes(gen)
    gen.add_argument("file", metavar="FILE")
    gen.add_argument("-t", "--target", dest="targets", action="append", choices=list(REGISTRY),
                     metavar="TARGET", help="target to generate (repeatable; default: all of "
                     + ", ".join(DEFAULT_TARGETS) + ")")
    gen.add_argument("-o", "--out", default="generated", metavar="OUT",
                     help="output folder (default: generated)")
    gen.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 if any file would change")
    gen.add_argument("--templates", metavar="DIR", help="folder of template overrides")

    diff = sub.add_parser(
        "diff", help="compare two specs and classify every change",
        description="Compare OLD and NEW (either dialect): added, removed and renamed types, "
                    "cases, fields, functions and params; renumbered cases; layout and core "
                    "signature changes. Each change is breaking (binaries built on OLD "
                    "misbehave against NEW) or compatible.",
        epilog="Exit codes: 0 nothing breaks, 3 something breaks, 1 invalid input, 2 usage.")
    _add_includes(diff)
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--json", action="store_true", help="machine-readable output")

    run = sub.add_parser(
        "run", help="run a WASI command module with wasi-nn on OpenVINO",
        description="Run GUEST.wasm (a WASI command) with WASI and wasi-nn imports; wasi-nn "
                    "runs on OpenVINO in this process. The guest's exit code becomes ours; a "
                    "trap exits 134 with a one-line reason. Compiled modules are cached in "
                    "~/.cache/witxgen/modules (WITXGEN_NO_CACHE=1 disables it).",
        epilog="Example: witxgen run --dir images --nn-graph openvino::examples/digits/model "
               "guest.wasm images/digit-3-2.pgm")
    run.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                     help="preopen a host directory (as GUEST, default the same path)")
    run.add_argument("--env", action="append", default=[], metavar="K=V",
                     help="set an environment variable for the guest")
    run.add_argument("--nn-graph", action="append", default=[], metavar="ENC::DIR",
                     help="make DIR's model loadable by name (DIR's last component); ENC is "
                          "openvino (model.xml + model.bin), onnx (model.onnx) or "
                          "tensorflowlite (model.tflite)")
    run.add_argument("--precision", choices=["f32", "auto"], default="f32",
                     help="f32: exact f32 inference (default); auto: OpenVINO's default, which "
                          "is bf16 on CPUs that support it")
    run.add_argument("wasm", metavar="GUEST.wasm")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                     help="arguments passed to the guest")

    conf = sub.add_parser(
        "conformance", help="run the wasi-nn conformance suite on runtimes",
        description="Run a wasi-nn conformance suite (self-checking guests) on one or more "
                    "runtimes and print the matrix of outcomes: pass, fail, skip, xfail, "
                    "xpass, crash, timeout. Runtimes are built in (witxgen, wasmtime) or "
                    "plug in as adapter files in wasi-testsuite's shape.",
        epilog="Exit codes: 0 every outcome expected, 1 an unexpected outcome (fail, crash, "
               "timeout, xpass), 2 usage error. Example: witxgen conformance --runtime "
               "witxgen --runtime wasmtime --expectations "
               "conformance/expectations/wasmtime.toml")
    from .conformance.command import add_arguments

    add_arguments(conf)

    sub.add_parser("targets", help="list the code-generation targets",
                   description="List the targets `generate -t` accepts.")
    return parser


def _cmd_check(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            load_document(path, args.include)
        except WitxError as exc:
            failed += 1
            print(render_all(exc.diagnostics, exc.sources), file=sys.stderr)
    if failed:
        print(f"witxgen: {failed} of {len(args.files)} file(s) invalid", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _cmd_abi(args: argparse.Namespace) -> int:
    from .abi_report import as_json, as_table

    doc = load_document(args.file, args.include)
    if args.json:
        print(json.dumps(as_json(doc), indent=2))
    else:
        sys.stdout.write(as_table(doc))
    return EXIT_OK


def _cmd_fmt(args: argparse.Namespace) -> int:
    from .render import render_document

    sys.stdout.write(render_document(load_document(args.file, args.include)))
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .generate import check_files, render_targets, write_files
    from .targets import DEFAULT_TARGETS, GenerateError

    targets = args.targets or DEFAULT_TARGETS
    templates = Path(args.templates) if args.templates else None
    if templates is not None and not templates.is_dir():
        print(f"witxgen: error: --templates {templates}: not a folder", file=sys.stderr)
        return EXIT_USAGE
    doc = load_document(args.file, args.include)
    try:
        files = render_targets(doc, targets, templates)
    except GenerateError as exc:
        print(f"witxgen: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    out = Path(args.out)
    if args.check:
        report = check_files(files, out, targets)
        for label, paths in (("differs", report.differing), ("missing", report.missing),
                             ("stale", report.stale)):
            for p in paths:
                print(f"{p}: {label}", file=sys.stderr)
        if not report.ok:
            print("witxgen: generated files are out of date; run `witxgen generate "
                  f"{args.file}` to update them", file=sys.stderr)
            return EXIT_INVALID
        print(f"witxgen: {len(files)} generated file(s) up to date", file=sys.stderr)
        return EXIT_OK
    written, unchanged = write_files(files, out)
    print(f"witxgen: wrote {written} file(s), {unchanged} unchanged, in {out}/", file=sys.stderr)
    return EXIT_OK


EXIT_BREAKING = 3


def _cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff_documents, format_text

    old = load_document(args.old, args.include)
    new = load_document(args.new, args.include)
    result = diff_documents(old, new)
    if args.json:
        data = {"old": args.old, "new": args.new, **result.as_json()}
        print(json.dumps(data, indent=2))
    else:
        sys.stdout.write(format_text(result, args.old, args.new))
    return EXIT_BREAKING if result.breaking else EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    def pair(text: str, sep: str, what: str) -> tuple[str, str]:
        left, found, right = text.partition(sep)
        if not left or (sep == "=" and not found):
            raise ValueError(f"{what} {text!r}: expected {what.upper()}")
        return left, right if found else left

    try:
        dirs = [pair(d, "::", "--dir") for d in args.dir]
        env = [pair(e, "=", "--env") for e in args.env]
        for spec in args.nn_graph:
            if "::" not in spec:
                raise ValueError(f"--nn-graph {spec!r}: expected ENCODING::DIR")
    except ValueError as exc:
        print(f"witxgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    wasm = Path(args.wasm)
    if not wasm.is_file():
        print(f"witxgen: error: {wasm}: no such file", file=sys.stderr)
        return EXIT_INVALID
    try:
        from witxgen_runtime import NnError, RunConfig, run_wasi
    except ImportError as exc:
        print(f"witxgen: error: the runtime is not installed ({exc}); "
              "install witxgen[runtime]", file=sys.stderr)
        return EXIT_INVALID
    import wasmtime

    config = RunConfig(args=args.args, env=env, dirs=dirs, nn_graphs=args.nn_graph,
                       precision=args.precision)
    try:
        result = run_wasi(wasm, config)
    except NnError as exc:  # a --nn-graph that cannot be registered
        print(f"witxgen: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except wasmtime.WasmtimeError as exc:  # not a valid module, or it fails to link
        print(f"witxgen: error: {wasm}: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_INVALID
    if result.trap is not None:
        print(f"witxgen: {wasm.name}: trap: {result.trap}", file=sys.stderr)
    return int(result.exit_code)


def _cmd_conformance(args: argparse.Namespace) -> int:
    from .conformance.command import run as run_conformance

    return run_conformance(args)


def _cmd_targets(args: argparse.Namespace) -> int:
    from .targets import REGISTRY

    width = max(len(n) for n in REGISTRY)
    for name, (_, _, description) in REGISTRY.items():
        print(f"{name.ljust(width)}  {description}")
    return EXIT_OK


COMMANDS = {"check": _cmd_check, "abi": _cmd_abi, "fmt": _cmd_fmt, "generate": _cmd_generate,
            "diff": _cmd_diff, "run": _cmd_run, "conformance": _cmd_conformance,
            "targets": _cmd_targets}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except WitxError as exc:
        n = len(exc.diagnostics)
        print(render_all(exc.diagnostics, exc.sources), file=sys.stderr)
        print(f"witxgen: {n} error{'s' if n != 1 else ''}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in witxgen: say so briefly, keep the trace for debugging
        if os.environ.get("WITXGEN_DEBUG"):
            traceback.print_exc()
        print(
            f"witxgen: internal error: {type(exc).__name__}: {exc} "
            "(set WITXGEN_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
