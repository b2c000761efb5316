"""How long `witxgen check` takes on every real .witx we have, and where the time goes.

Measures, on the shared corpus (`../shared/witx` next to the repo; WITXGEN_SHARED overrides
the shared/ folder):

* in-process: load + validate every file, repeated --repeat times (median and min);
* subprocesses: the interpreter's own start-up (`python -c pass`), importing the CLI, and one
  `witxgen check` of all files, each as a ratio to the interpreter start-up;
* the grammar: first parse in a fresh process (builds the Lark parser; lark's on-disk cache
  cold, then warm) against later parses in the same process (the Lark object is lru_cached).

Two corpus files are invalid on purpose and must fail; any other outcome makes the script exit 1.
Times are only reported, never asserted. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout without installing, too

from witxgen.diagnostics import WitxError  # noqa: E402
from witxgen.loader import load_document  # noqa: E402

# Relative to shared/witx. Both are broken upstream: a duplicated enum case, and a draft that
# dropped its `use` of WASI's typenames but still names `$errno` and `$size`.
EXPECTED_INVALID = frozenset({"wasi-nn/2023-08-22_b07340c.witx", "wasi-nn/2020-07-20_4a2f4ba.witx"})
# The first wasi-nn draft `use`s typenames.witx from WASI's ephemeral phase of the time.
OLD_EPHEMERAL = Path("wasi/oldsyntax-2021-02-04_9d9d444/phases/ephemeral/witx")
GRAMMAR_SAMPLE = Path("wasi-nn/2023-08-23_747d8df.witx")


def shared_witx() -> Path:
    override = os.environ.get("WITXGEN_SHARED")
    shared = Path(override) if override else REPO_ROOT.parent / "shared"
    return shared / "witx"


def includes_for(witx: Path, path: Path) -> list[Path]:
    return [witx / OLD_EPHEMERAL] if path.name.startswith("2020-05-14") else []


def load_all(witx: Path, files: Sequence[Path]) -> set[str]:
    """Load + validate every file; returns the (relative) names of the ones that failed."""
    failed = set()
    for path in files:
        try:
            load_document(path, includes_for(witx, path))
        except WitxError:
            failed.add(path.relative_to(witx).as_posix())
    return failed


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_cmd(argv: Sequence[str | Path], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([str(a) for a in argv], cwd=REPO_ROOT, env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def witxgen_cmd() -> list[str]:
    script = Path(sys.executable).parent / "witxgen"  # the venv's console script
    return [str(script)] if script.is_file() else [sys.executable, "-m", "witxgen"]


# Runs in a fresh interpreter: import the parser, time the first parse, then later ones.
GRAMMAR_PROBE = textwrap.dedent("""
    import json, statistics, sys, time
    sys.path.insert(0, sys.argv[1])
    t0 = time.perf_counter()
    from witxgen.parser import parse
    t1 = time.perf_counter()
    text = open(sys.argv[2], encoding="utf-8").read()
    parse("sample.witx", text)
    t2 = time.perf_counter()
    later = []
    for _ in range(int(sys.argv[3])):
        s = time.perf_counter()
        parse("sample.witx", text)
        later.append(time.perf_counter() - s)
    print(json.dumps({"import": t1 - t0, "first": t2 - t1, "later": statistics.median(later)}))
""")


def grammar_probe(sample: Path, tmpdir: str, runs: int) -> dict[str, float]:
    # lark's cache=True keeps the built parser in tempfile.gettempdir(), i.e. $TMPDIR.
    env = dict(os.environ, TMPDIR=tmpdir)
    proc = subprocess.run([sys.executable, "-c", GRAMMAR_PROBE, str(REPO_ROOT), str(sample),
                           str(runs)], env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=10, help="in-process passes (default 10)")
    ap.add_argument("--runs", type=int, default=7,
                    help="runs of each subprocess measurement (default 7)")
    args = ap.parse_args(argv)

    witx = shared_witx()
    if not witx.is_dir():
        print(f"bench: {witx} not found (set WITXGEN_SHARED to the shared/ folder)",
              file=sys.stderr)
        return 1
    files = sorted(witx.rglob("*.witx"))
    total_bytes = sum(f.stat().st_size for f in files)

    # --- in process ---------------------------------------------------------------------
    first_pass = time.perf_counter()
    failed = load_all(witx, files)  # also builds the grammar: reported separately below
    first_pass = time.perf_counter() - first_pass
    if failed != EXPECTED_INVALID:
        print(f"bench: unexpected outcome: failed {sorted(failed)}, "
              f"expected {sorted(EXPECTED_INVALID)}", file=sys.stderr)
        return 1
    passes = [timed(lambda: load_all(witx, files)) for _ in range(args.repeat)]

    # --- subprocesses -------------------------------------------------------------------
    startup = [run_cmd([sys.executable, "-c", "pass"]) for _ in range(args.runs)]
    imports = [run_cmd([sys.executable, "-c", "import witxgen.cli"]) for _ in range(args.runs)]
    check_argv: list[str | Path] = [*witxgen_cmd(), "check", "-I", witx / OLD_EPHEMERAL, *files]
    proc = subprocess.run([str(a) for a in check_argv], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=False)
    want = f"{len(EXPECTED_INVALID)} of {len(files)} file(s) invalid"
    if proc.returncode != 1 or want not in proc.stderr:
        print(f"bench: `witxgen check` of all files: exit {proc.returncode}, expected 1 and "
              f"{want!r}\n{proc.stderr[-2000:]}", file=sys.stderr)
        return 1
    cli = [run_cmd(check_argv) for _ in range(args.runs)]

    # --- grammar ------------------------------------------------------------------------
    with tempfile.TemporaryDirectory(prefix="witxgen-bench-") as tmp:
        cold = grammar_probe(witx / GRAMMAR_SAMPLE, tmp, 20)  # empty lark cache
        warm = grammar_probe(witx / GRAMMAR_SAMPLE, tmp, 20)  # cache written by the cold run

    # --- report -------------------------------------------------------------------------
    base = statistics.median(startup)
    n = len(files)
    print(f"corpus: {witx} — {n} files, {total_bytes / 1024:.0f} KiB, "
          f"{len(EXPECTED_INVALID)} invalid on purpose")
    print(f"python: {sys.version.split()[0]} ({sys.executable}); "
          f"{args.repeat} in-process passes, {args.runs} runs per subprocess\n")
    rows: list[tuple[str, float]] = [
        ("in-process: all files, median", statistics.median(passes)),
        ("in-process: all files, min", min(passes)),
        ("in-process: per file (median / n)", statistics.median(passes) / n),
        ("in-process: first pass (+ grammar)", first_pass),
        ("python -c pass (start-up)", base),
        ("python -c 'import witxgen.cli'", statistics.median(imports)),
        ("witxgen check <all files>, 1 process", statistics.median(cli)),
        ("grammar: first parse, lark cache cold", cold["first"]),
        ("grammar: first parse, lark cache warm", warm["first"]),
        ("grammar: later parse (same process)", warm["later"]),
        ("import witxgen.parser (fresh process)", warm["import"]),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'ms':>9}  {'× start-up':>10}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 10}")
    for label, secs in rows:
        print(f"{label:<{width}}  {ms(secs)}  {secs / base:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
