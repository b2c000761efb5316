"""Hostile guests and hostile models, on our runtime and on the wasmtime CLI.

* `run_ours(cases)`: each model case in a process of its own (so that peak RSS figures are
  separate), the call cases together in one; each guest runs through `witxgen_runtime.run_wasi`
  with the digits model preloaded as "digits". A process that dies (signal, no result) is a crash.
* `run_cli(cli, cases)`: each case as `wasmtime run -S nn -S nn-graph=openvino::DIR guest.wasm`.
* `mutation_batch(kind, count, seed)`: byte-level mutations of valid IR xml, IR weights, ONNX and
  TFLite models loaded straight into the backend, in a child process that writes each input to
  disk before loading it, so that a crash leaves its reproducer behind.

Peak RSS comes from `wait4`'s rusage of each child (ru_maxrss, the same measure for both
runtimes); our children also report VmHWM themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_setup import Cli  # noqa: E402
from common import (  # noqa: E402
    BUILD_DIR,
    ERRNO_NAMES,
    TFLITE_ADD,
    digits_ir,
    digits_named_dir,
    digits_onnx,
    peak_rss_mb,
)
from guests import TRAP, Case, all_cases, case  # noqa: E402

HERE = Path(__file__).resolve()
CASE_TIMEOUT = 120.0
#: Peak RSS a hostile model may cost our runtime's process, baseline included.
PEAK_BOUND_MB = 1024.0


@dataclass
class Proc:
    returncode: int | None  # None: killed at the timeout
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str

    @property
    def signal(self) -> int | None:
        return -self.returncode if self.returncode is not None and self.returncode < 0 else None


def _address_space_cap(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_process(argv: Sequence[str], timeout: float, env: dict[str, str] | None = None,
                cwd: Path | None = None, mem_cap: int | None = None) -> Proc:
    """Run `argv`, killing it (by its pid) after `timeout`; peak RSS from wait4. `mem_cap`: an
    address-space limit (RLIMIT_AS) for the child, so that a runtime that would take all the
    machine's memory fails an allocation instead (the machine is shared)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd,
                                preexec_fn=_address_space_cap(mem_cap) if mem_cap else None)
        deadline = start + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.kill(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Proc(None if timed_out else proc.returncode, seconds,
                    usage.ru_maxrss / 1024, out.read().decode(errors="replace"),
                    err.read().decode(errors="replace"))


@dataclass
class Outcome:
    """What one hostile guest got from one runtime."""

    case: str
    runtime: str
    kind: str  # exit | trap | error | panic | signal | timeout | crash
    exit: int | None = None
    detail: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0
    expect: int | str | None = None
    ok: bool | None = None  # matches DESIGN.md §5 (our runtime only)

    @property
    def killed(self) -> bool:
        """The runtime process itself died (a panic, a signal) or hung."""
        return self.kind in ("panic", "signal", "timeout", "crash")

    def text(self) -> str:
        if self.kind == "exit" and self.exit is not None:
            return describe_exit(self.exit)
        if self.kind == "signal":
            return f"killed by signal {self.exit}"
        if self.kind == "panic":
            return "panic (exit 101)"
        if self.kind == "error":
            return f"error exit {self.exit}"
        return self.kind


def describe_exit(code: int) -> str:
    if code == 0:
        return "success"
    if 100 <= code <= 108:
        return f"setup failed: {ERRNO_NAMES.get(code - 100, code - 100)}"
    if code < 100:
        stage, errno = divmod(code, 10)
        name = ERRNO_NAMES.get(errno, str(errno))
        return name if stage == 0 else f"step {stage}: {name}"
    if code == 134:
        return "trap"
    return f"exit {code}"


def expected_text(expect: int | str) -> str:
    return "trap" if expect == TRAP else describe_exit(int(expect))


# --- our runtime -------------------------------------------------------------------------


def _child_cases(names: list[str]) -> int:
    """In a child: run the named cases in this process, one JSON line each."""
    from witxgen_runtime import RunConfig, run_wasi

    graphs = [f"openvino::{digits_named_dir()}"]
    for name in names:
        c = case(name)
        start = time.perf_counter()
        config = RunConfig(nn_graphs=graphs if c.named else (), cache_dir=None,
                           stdout=os.devnull, stderr=os.devnull)
        result = run_wasi(c.wasm, config)
        errors = [f"{e.function}: {e.code}: {e.detail}"[:300] for e in
                  (list(result.nn.errors)[-2:] if result.nn else [])]
        print(json.dumps({"case": name, "exit": result.exit_code, "trap": result.trap,
                          "errors": errors, "seconds": time.perf_counter() - start,
                          "vmhwm_mb": peak_rss_mb()}), flush=True)
    return 0


def _judge(c: Case, o: Outcome) -> Outcome:
    o.expect = c.expect
    if c.expect == TRAP:
        o.ok = o.kind == "trap"
    else:
        o.ok = o.kind == "exit" and o.exit == c.expect
    return o


def run_ours(cases: Sequence[Case], timeout: float = CASE_TIMEOUT,
             mem_cap: int | None = None, separate: bool = True) -> list[Outcome]:
    """Model cases one process each (separate=False: all cases in one process); call cases in
    one process."""
    if separate:
        groups: list[list[Case]] = [[c] for c in cases if c.group == "model"]
        calls = [c for c in cases if c.group != "model"]
        if calls:
            groups.append(calls)
    else:
        groups = [list(cases)]
    outcomes: list[Outcome] = []
    for group in groups:
        proc = run_process([sys.executable, str(HERE), "--child", ",".join(c.name for c in group)],
                           timeout * len(group), mem_cap=mem_cap)
        seen: dict[str, dict[str, Any]] = {}
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                seen[record["case"]] = record
        for c in group:
            record = seen.get(c.name)
            if record is None:  # the process died or hung before this case finished
                kind = "timeout" if proc.returncode is None else (
                    "signal" if proc.signal else "crash")
                last = proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else []
                outcomes.append(_judge(c, Outcome(
                    c.name, "ours", kind, proc.signal or proc.returncode,
                    " ".join(last)[:300], proc.seconds, proc.peak_mb)))
                continue
            trap = record["trap"]
            kind = "trap" if trap is not None else "exit"
            detail = trap or "; ".join(record["errors"])
            peak = proc.peak_mb if len(group) == 1 else record["vmhwm_mb"]
            outcomes.append(_judge(c, Outcome(c.name, "ours", kind, record["exit"], detail,
                                              round(record["seconds"], 3), round(peak, 1))))
    return outcomes


# --- the wasmtime CLI ------------------------------------------------------------------------


def _cli_reason(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if "panicked at" in ln:
            i = lines.index(ln)
            return " ".join(lines[i: i + 2])[:300]
    caused = [ln for ln in lines if ln[:2].rstrip(":").isdigit() or ln.startswith("Caused")]
    return (caused[-1] if caused else (lines[-1] if lines else ""))[:300]


def run_cli(cli: Cli, cases: Sequence[Case], timeout: float = CASE_TIMEOUT,
            mem_cap: int | None = None) -> list[Outcome]:
    wasm_dir = BUILD_DIR / "guests"
    wasm_dir.mkdir(parents=True, exist_ok=True)
    graphs = [f"openvino::{digits_named_dir()}"]
    outcomes = []
    for c in cases:
        wasm = wasm_dir / f"{c.name}.wasm"
        wasm.write_bytes(c.wasm)
        proc = run_process(cli.argv(wasm, graphs if c.named else []), timeout, env=cli.env,
                           mem_cap=mem_cap)
        code = proc.returncode
        if code is None:
            kind = "timeout"
        elif code < 0:
            kind = "signal"
        elif code == 101:
            kind = "panic"
        elif code == 134:
            kind = "trap"
        elif code == 1 and "Error:" in proc.stderr:
            kind = "error"  # a host error ended the run (wasmtime's CLI: exit 1 + message)
        else:
            kind = "exit"
        exit_value = -code if code is not None and code < 0 else code
        outcomes.append(Outcome(c.name, "wasmtime-cli", kind, exit_value,
                                "" if kind == "exit" else _cli_reason(proc.stderr),
                                round(proc.seconds, 3), round(proc.peak_mb, 1), c.expect))
    return outcomes


# --- byte mutations of valid models, straight into the backend ------------------------------


MUTATION_KINDS = ("ir_xml", "ir_xml_numbers", "ir_weights", "onnx", "tflite")
EXTREME_NUMBERS = (b"0", b"-1", b"1048576", b"2147483647", b"2147483648", b"4294967295",
                   b"4294967296", b"9223372036854775807", b"18446744073709551615", b"1e30")


def _mutant(kind: str, rng: random.Random) -> tuple[list[bytes], str]:
    xml, weights = digits_ir()
    if kind == "ir_xml_numbers":  # numbers in the xml (shapes, offsets, sizes) made extreme
        import re

        numbers = list(re.finditer(rb"\d+", xml))
        text = bytearray(xml)
        for m in sorted(rng.sample(numbers, k=rng.randint(1, 3)), key=lambda m: -m.start()):
            text[m.start():m.end()] = rng.choice(EXTREME_NUMBERS)
        return [bytes(text), weights], "openvino"
    if kind == "ir_xml":
        source = xml
    elif kind == "ir_weights":
        source = weights
    elif kind == "onnx":
        source = digits_onnx()
    else:
        source = TFLITE_ADD
    data = bytearray(source)
    how = rng.randrange(4)
    if how == 0:  # flip a few bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == 1:  # truncate
        del data[rng.randrange(len(data)):]
    elif how == 2:  # splice a random chunk in
        at = rng.randrange(len(data))
        data[at:at] = rng.randbytes(rng.randint(1, 64))
    else:  # set 4 bytes to an extreme integer (lengths, offsets, counts)
        at = rng.randrange(max(len(data) - 4, 1))
        data[at:at + 4] = rng.choice((b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f",
                                      b"\x00\x00\x00\x80", b"\x00\x00\x01\x00"))
    if kind == "ir_xml":
        return [bytes(data), weights], "openvino"
    if kind == "ir_weights":
        return [xml, bytes(data)], "openvino"
    return [bytes(data)], "onnx" if kind == "onnx" else "tensorflowlite"


def _child_mutations(kind: str, start: int, count: int, seed: int, crash_file: Path) -> int:
    from witxgen_runtime import NnError, OpenVinoBackend

    backend = OpenVinoBackend(precision="f32")
    codes: Counter[str] = Counter()
    slowest = 0.0
    for i in range(start, count):
        rng = random.Random(f"{seed}:{kind}:{i}")
        builders, encoding = _mutant(kind, rng)
        crash_file.write_bytes(json.dumps({"index": i, "encoding": encoding,
                                           "builders": [b.hex() for b in builders]}).encode())
        t0 = time.perf_counter()
        try:
            graph = backend.load(builders, encoding, "cpu")
            ctx = backend.init_execution_context(graph)
            codes["loaded"] += 1
            backend.drop_context(ctx)
            backend.drop_graph(graph)
        except NnError as exc:
            codes[exc.code] += 1
        slowest = max(slowest, time.perf_counter() - t0)
        print(json.dumps({"done": i + 1}), flush=True)
    crash_file.unlink(missing_ok=True)
    print(json.dumps({"codes": dict(codes), "slowest": slowest, "vmhwm_mb": peak_rss_mb()}),
          flush=True)
    return 0


@dataclass
class MutationResult:
    kind: str
    count: int
    seed: int
    codes: Counter[str] = field(default_factory=Counter)
    crashes: list[dict[str, Any]] = field(default_factory=list)
    hangs: int = 0
    slowest: float = 0.0
    peak_mb: float = 0.0
    seconds: float = 0.0


def mutation_batch(kind: str, count: int, seed: int, timeout: float = 300.0) -> MutationResult:
    """`count` mutants of `kind`; a child that dies is restarted after the input that killed
    it, which is kept (build/robustness/crashers/)."""
    result = MutationResult(kind, count, seed)
    crash_dir = BUILD_DIR / "crashers"
    crash_dir.mkdir(parents=True, exist_ok=True)
    start = 0
    began = time.perf_counter()
    while start < count:
        crash_file = crash_dir / f"current-{kind}-{os.getpid()}.json"
        proc = run_process([sys.executable, str(HERE), "--child-mutations", kind, str(start),
                            str(count), str(seed), str(crash_file)], timeout)
        done = start
        for line in proc.stdout.splitlines():
            record = json.loads(line)
            if "done" in record:
                done = record["done"]
            else:
                result.codes.update(record["codes"])
                result.slowest = max(result.slowest, record["slowest"])
        result.peak_mb = max(result.peak_mb, proc.peak_mb)
        if proc.returncode == 0:
            break
        kept = crash_dir / f"{kind}-{seed}-{done}.json"
        if crash_file.exists():
            crash_file.replace(kept)
        if proc.returncode is None:
            result.hangs += 1
        result.crashes.append({"index": done, "returncode": proc.returncode,
                               "reproducer": str(kept.relative_to(BUILD_DIR.parents[1])),
                               "stderr": proc.stderr.strip().splitlines()[-1:]})
        start = done + 1
    result.seconds = round(time.perf_counter() - began, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", help="(internal) run these cases in this process")
    parser.add_argument("--child-mutations", nargs=5,
                        metavar=("KIND", "START", "COUNT", "SEED", "CRASH_FILE"))
    parser.add_argument("--cases", default="", help="comma-separated case names (default all)")
    parser.add_argument("--cli", action="store_true", help="also run the wasmtime CLI")
    args = parser.parse_args(argv)
    if args.child:
        return _child_cases(args.child.split(","))
    if args.child_mutations:
        kind, start, count, seed, crash = args.child_mutations
        return _child_mutations(kind, int(start), int(count), int(seed), Path(crash))
    cases = [case(n) for n in args.cases.split(",")] if args.cases else list(all_cases())
    outcomes = run_ours(cases)
    if args.cli:
        from cli_setup import find_cli

        cli, why = find_cli()
        if cli is None:
            print(why, file=sys.stderr)
        else:
            outcomes += run_cli(cli, cases)
    for o in outcomes:
        print(json.dumps(asdict(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
