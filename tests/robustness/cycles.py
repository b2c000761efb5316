"""Limits and long runs: every `witxgen_runtime.Limits` field holds through a real guest, and
10,000 load/init/set_input/compute/get_output cycles in one store keep RSS bounded.

wasi-nn has no call that frees a graph or a context, and the backend keeps both alive until the
embedder drops them, so a guest that makes a new graph or context every cycle runs into
max_graphs / max_contexts: the variants show what it gets there (an errno, every cycle, and no
growth) and what each pattern costs:

* reuse: one graph, one context, 10,000 x (set_input, compute, get_output);
* context_per_cycle: one graph, a new context each cycle (max_contexts, 256 by default, ends it);
* graph_per_cycle: load_by_name + a new context each cycle (max_graphs, 64, ends it);
* graph_per_cycle_dropped: the same, with the embedder dropping each cycle's graph and context
  afterwards (`OpenVinoBackend.drop_graph`/`drop_context`): 10,000 complete cycles;
* load_bytes_dropped: `load` of the IR bytes (a compile, ~50-100 ms) + a context, dropped by the
  embedder, for fewer cycles: does compiling and dropping leak?
* contexts_unlimited: context_per_cycle with max_contexts raised past the run: the memory a live
  context costs, i.e. what the limit protects.

`python tests/robustness/cycles.py --variant NAME --cycles N --out FILE` runs one variant in this
process (report.py runs each in a process of its own) and writes RSS samples as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DIGITS_IN,
    DIGITS_OUT_BYTES,
    INVALID_ARGUMENT,
    SUCCESS,
    TOO_LARGE,
    digits_inputs,
    digits_ir,
    digits_named_dir,
    glue_variants,
    peak_rss_mb,
    rss_mb,
)
from driver_guest import DriverGuest, Layout  # noqa: E402
from witxgen_runtime import Limits, OpenVinoNn  # noqa: E402

VARIANTS = {
    # name: (guest mode, limits, embedder drops)
    "reuse": (0, {}, False),
    "context_per_cycle": (1, {}, False),
    "graph_per_cycle": (2, {}, False),
    "graph_per_cycle_dropped": (2, {}, True),
    "load_bytes_dropped": (3, {}, True),
    "contexts_unlimited": (1, {"max_contexts": 1_000_000}, False),
}


def make_guest(limits: Limits | None = None, fast: bool | None = None
               ) -> tuple[OpenVinoNn, DriverGuest, Layout]:
    nn = OpenVinoNn(precision="f32", limits=limits)
    nn.register(f"openvino::{digits_named_dir()}")
    guest = DriverGuest(nn, fast=fast)
    layout = guest.layout(name="digits", builders=digits_ir(), dims=DIGITS_IN,
                          data=digits_inputs(1)[0], out_max=4096)
    return nn, guest, layout


# --- limits -------------------------------------------------------------------------------


@dataclass
class LimitCheck:
    limit: str
    setting: str
    what: str
    got: list[int]
    want: list[int]
    ok: bool = False
    after: str = ""


def check_limits(fast: bool | None = None) -> list[LimitCheck]:
    """Each limit, reached through the guest: the call past it gets its errno, what was made
    before keeps working, and nothing else changes."""
    xml, weights = digits_ir()
    model_bytes = len(xml) + len(weights)
    checks: list[LimitCheck] = []

    def run(limit: str, setting: str, what: str, limits: Limits, want: list[int],
            steps: list[str]) -> None:
        nn, guest, layout = make_guest(limits, fast)
        got: list[int] = []
        for step in steps:
            if step == "named":
                got.append(guest.call("load_named", *layout.name))
            elif step == "bytes":
                got.append(guest.call("load_bytes", *layout.builders, 0))
            elif step == "init":
                got.append(guest.call("init"))
            elif step == "infer":
                before = guest.read(layout.out, layout.out_max)
                code = guest.call("infer", layout.tensor, layout.out, layout.out_max)
                got.append(code)
                if code and guest.read(layout.out, layout.out_max) != before:
                    got.append(-1)  # an error wrote into the output buffer
        check = LimitCheck(limit, setting, what, got, want, got == want)
        # Past the limit, what exists still works: a context of the first graph infers.
        if limit not in ("max_builders", "max_tensor_bytes", "max_model_bytes"):
            nn2_ok = guest.call("infer", layout.tensor, layout.out, layout.out_max)
            check.after = "still infers" if nn2_ok == 0 else f"infer -> {nn2_ok}"
            if limit in ("max_output_bytes", "max_input_bytes"):
                check.after = f"infer -> {nn2_ok} (the same limit)"
        checks.append(check)

    run("max_graphs", "3", "load_by_name x4", Limits(max_graphs=3),
        [SUCCESS, SUCCESS, SUCCESS, TOO_LARGE, SUCCESS], ["named"] * 4 + ["init"])
    run("max_graphs", "2", "load (bytes) x3", Limits(max_graphs=2),
        [SUCCESS, SUCCESS, TOO_LARGE, SUCCESS], ["bytes"] * 3 + ["init"])
    run("max_contexts", "4", "init_execution_context x5", Limits(max_contexts=4),
        [SUCCESS] * 5 + [TOO_LARGE], ["named"] + ["init"] * 5)
    run("max_model_bytes", f"{model_bytes - 1}", "load of a model 1 byte over",
        Limits(max_model_bytes=model_bytes - 1), [TOO_LARGE], ["bytes"])
    run("max_model_bytes", f"{model_bytes * 3 // 2}", "load twice (1.5 models' worth)",
        Limits(max_model_bytes=model_bytes * 3 // 2), [SUCCESS, TOO_LARGE], ["bytes"] * 2)
    run("max_model_bytes", f"{model_bytes - 1}", "load_by_name of a preloaded model over it",
        Limits(max_model_bytes=model_bytes - 1), [TOO_LARGE], ["named"])
    run("max_output_bytes", f"{DIGITS_OUT_BYTES - 1}", "get_output of a 40-byte output",
        Limits(max_output_bytes=DIGITS_OUT_BYTES - 1), [SUCCESS, SUCCESS, 40 + TOO_LARGE],
        ["named", "init", "infer"])
    run("max_input_bytes", "255", "set_input of 256 bytes", Limits(max_input_bytes=255),
        [SUCCESS, SUCCESS, 20 + TOO_LARGE], ["named", "init", "infer"])
    run("max_builders", "1", "load with 2 builders", Limits(max_builders=1),
        [INVALID_ARGUMENT], ["bytes"])
    run("max_tensor_bytes", "100", "load of a model computing tensors of 128 and 256 bytes",
        Limits(max_tensor_bytes=100), [TOO_LARGE], ["bytes"])
    return checks


# --- cycles ---------------------------------------------------------------------------------


@dataclass
class CycleRun:
    variant: str
    cycles: int
    glue: str
    samples: list[tuple[int, float]] = field(default_factory=list)  # (cycle, RSS MB)
    outcomes: dict[str, int] = field(default_factory=dict)
    complete_cycles: int = 0
    baseline_cycle: int = 0  # growth is measured from here (a tenth of the run) to the end
    growth_mb: float = 0.0
    peak_mb: float = 0.0
    seconds: float = 0.0
    output_ok: bool = True
    live: dict[str, int] = field(default_factory=dict)


def run_cycles(variant: str, cycles: int, fast: bool | None = None) -> CycleRun:
    mode, limit_kwargs, drops = VARIANTS[variant]
    nn, guest, layout = make_guest(Limits(**limit_kwargs), fast)
    backend = nn.backend
    if mode in (0, 1):
        assert guest.call("load_named", *layout.name) == SUCCESS
    if mode == 0:
        assert guest.call("init") == SUCCESS
    from common import glue_name

    run = CycleRun(variant, cycles, glue_name(fast))
    reference: bytes | None = None
    chunk = max(1, cycles // 20)
    start = time.perf_counter()
    done = 0
    run.samples.append((0, round(rss_mb(), 1)))
    while done < cycles:
        n = min(chunk if not drops else 1, cycles - done)
        guest.cycles(mode, n, layout)
        if drops:  # the embedder frees what the cycle made (wasi-nn cannot)
            for c in list(backend._contexts):
                backend.drop_context(c)
            for g in list(backend._graphs):
                backend.drop_graph(g)
        done += n
        if done % chunk == 0 or done == cycles:
            run.samples.append((done, round(rss_mb(), 1)))
            if guest.u32(0x18) == DIGITS_OUT_BYTES:
                out = guest.output(layout)
                reference = reference or out
                run.output_ok &= out == reference
    run.seconds = round(time.perf_counter() - start, 2)
    run.outcomes = dict(sorted(guest.histogram().items()))
    run.complete_cycles = run.outcomes.get("get_output:0", 0)
    run.baseline_cycle, at_base = next((c, mb) for c, mb in run.samples if c >= cycles // 10)
    run.growth_mb = round(run.samples[-1][1] - at_base, 1)
    run.peak_mb = round(peak_rss_mb(), 1)
    run.live = backend.stats()
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--variant", choices=[*VARIANTS, "limits"], required=True)
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--glue", choices=("default", "generic", "fast"), default="default")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    fast = {"default": None, "generic": False, "fast": True}[args.glue]
    if fast is not None and fast not in glue_variants():
        print(f"glue registration {args.glue} is not available here", file=sys.stderr)
        return 2
    result: Any
    if args.variant == "limits":
        result = [asdict(c) for c in check_limits(fast)]
    else:
        result = asdict(run_cycles(args.variant, args.cycles, fast=fast))
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
