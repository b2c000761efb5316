"""Checks shared by every language's run test of tests/guests/SCENARIO.md.

Each guest (Rust, AssemblyScript, C) runs the same 16 steps against `FakeNn`; what crossed
the boundary must be the same whatever the language, so it is asserted in one place.
"""

from __future__ import annotations

import struct
from pathlib import Path

from guest_harness import GuestRun, run_guest
from nn_fake_host import FakeNn, InputRecord, LoadCall
from wasm_imports import wasm_imports
from witxgen_host.wasi_ephemeral_nn import Graph, NnErrno, NnErrnoError

from witxgen.abi import function_abi
from witxgen.loader import load_document

EXPECTED_CALLS = [
    "load", "load", "load", "load", "load_by_name", "load_by_name",
    "init_execution_context", "init_execution_context", "set_input", "set_input",
    "get_output", "compute", "get_output", "get_output", "get_output",
]


def assert_imports_match_spec(guest: Path, spec: Path) -> None:
    """The guest's wasi-nn imports carry exactly the spec's core signatures."""
    nn = {name: sig for (mod, name), sig in wasm_imports(guest).items()
          if mod == "wasi_ephemeral_nn"}
    doc = load_document(spec)
    assert nn == {f.name: (function_abi(doc, f).param_types, ["i32"])
                  for f in doc.module("wasi_ephemeral_nn").functions}


def assert_scenario_passes(guest: Path) -> None:
    """Run the guest and check its verdict and every value the host received and sent."""
    run = run_guest(guest)
    assert run.exit_code == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.stdout.splitlines()[-1] == "PASS"
    host = run.host
    assert host.loads == [
        LoadCall([b"<xml/>", b"\x01\x02\x03"], 0, 0),  # step 1
        LoadCall([b"<xml/>"], 0, 0),  # step 2
        LoadCall([b"a", b"b"], 1, 0),  # step 3: onnx
        LoadCall([b"a", b"b"], 0, 2),  # step 4: tpu
    ]
    assert host.names == [b"add1", b"nope"]
    assert host.graphs_issued == [1, 2]
    assert host.contexts_issued == [100]
    assert host.inputs == [InputRecord(100, [1, 4], 1, struct.pack("<4f", 1.0, 2.0, 3.0, 4.0))]
    assert host.calls == EXPECTED_CALLS


class NoNames(FakeNn):
    """A host that knows no model names: the scenario must fail at step 5."""

    def load_by_name(self, name: str) -> Graph:
        raise NnErrnoError(NnErrno.NOT_FOUND, "this host knows no names")


def run_against_host_without_names(guest: Path) -> GuestRun:
    """The guest checks what comes back: returns its run, which should fail at step 5."""
    run = run_guest(guest, host=NoNames())
    assert run.exit_code == 1, run.stdout
    return run
