"""Conformance target: a wasi-nn conformance suite generated from the IR and the case catalog.

Output (under OUT/conformance/):
* `cases/<id>.wat` — one self-checking WASI guest per case (WAT text; runners compile it),
* `cases/<id>.json` — its sidecar in wasi-testsuite's legacy form (`args`, `dirs`, `env`,
  `exit_code`, `stdout`) plus an `nn` object: graphs to preload, capabilities required,
  the steps with their accepted outcomes, the steps at which a trap is acceptable,
* `fixtures/<name>/model.*` — the models the cases use (built with OpenVINO),
* `suite.json` — the manifest: enum and errno numbers of this text, every case, the cases
  left out (and why), the fixtures.

Numbers come from the IR of the text being generated: a suite built from an old wasi-nn
text sends that text's numbers, so running it against a newer runtime shows renumbering.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from .. import __version__, ir
from ..conformance.build import FAIL_EXIT, STEP_MARKER, LeftOut, Program, lower_case
from ..conformance.catalog import CASES
from ..conformance.facts import EnumFacts, SpecFacts, spec_facts
from ..conformance.fixtures import Fixture, FixtureError, Fixtures
from ..conformance.wat import Import
from .base import GenerateError, Target

SUITE_FORMAT = 1


def json_text(provenance: str, data: dict[str, Any]) -> str:
    """`data` as indented JSON whose first line carries the provenance (JSON has no comments,
    so it is the first key)."""
    body = json.dumps(data, indent=2, ensure_ascii=False)
    return '{"provenance": ' + json.dumps(provenance) + ",\n" + body[2:] + "\n"


def _enum_map(e: EnumFacts) -> dict[str, int]:
    return {name: i for i, name in enumerate(e.cases)}


class ConformanceTarget(Target):
    name = "conformance"
    description = "wasi-nn conformance suite"
    comment = ";;"

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {**super().filters(), "signature": self.signature}

    # ---- one method per type kind: how the suite's notes spell a witx type --------------

    def type_builtin(self, ty: ir.Builtin) -> str:
        return ty.name

    def type_string(self, ty: ir.String) -> str:
        return "string"

    def type_ref(self, ty: ir.Ref) -> str:
        return ty.name

    def type_list(self, ty: ir.List) -> str:
        return f"list<{self.spell(ty.element)}>"

    def type_pointer(self, ty: ir.Pointer) -> str:
        return f"{'const ' if ty.const else ''}pointer<{self.spell(ty.element)}>"

    def type_handle(self, ty: ir.Handle) -> str:
        return "handle"

    def type_enum(self, ty: ir.Enum) -> str:
        return f"enum<{ty.repr}>"

    def type_flags(self, ty: ir.Flags) -> str:
        return f"flags<{ty.repr}>"

    def type_record(self, ty: ir.Record) -> str:
        return "record{" + ", ".join(self.spell(f.type) for f in ty.fields) + "}"

    def type_tuple(self, ty: ir.Tuple) -> str:
        return "tuple<" + ", ".join(self.spell(t) for t in ty.types) + ">"

    def type_variant(self, ty: ir.Variant) -> str:
        return f"variant<{ty.tag_repr}>"

    def type_expected(self, ty: ir.Expected) -> str:
        ok = self.spell(ty.ok) if ty.ok else "_"
        err = self.spell(ty.error) if ty.error else "_"
        return f"expected<{ok}, {err}>"

    # ---- generation -------------------------------------------------------------------

    @staticmethod
    def signature(imp: Import) -> str:
        params = f" (param {' '.join(imp.params)})" if imp.params else ""
        results = f" (result {' '.join(imp.results)})" if imp.results else ""
        return params + results

    def generate(self) -> dict[str, str | bytes]:
        facts = spec_facts(self.doc)
        fixtures = Fixtures()
        files: dict[str, str | bytes] = {}
        entries: list[dict[str, Any]] = []
        left_out: list[dict[str, str]] = []
        try:
            for case in CASES:
                try:
                    program = lower_case(case, facts, fixtures)
                except LeftOut as why:
                    left_out.append({"id": case.id, "reason": str(why)})
                    continue
                files[f"cases/{case.id}.wat"] = self.render(
                    "module.wat.jinja", case=case, program=program, lib=program.lib)
                files[f"cases/{case.id}.json"] = json_text(
                    f"{self.options.provenance}", self.sidecar(program, fixtures))
                entries.append(self.entry(program))
            for name in sorted({g for c in CASES for g in c.graphs}):
                fixtures.get(name)  # preloaded fixtures ship even if no case embedded them
        except FixtureError as exc:
            raise GenerateError(str(exc)) from None
        shipped = fixtures.built()
        for fixture in shipped:
            for file, data in sorted(fixture.files.items()):
                files[f"fixtures/{fixture.name}/{file}"] = data
        files["suite.json"] = json_text(self.options.provenance,
                                        self.manifest(facts, entries, left_out, shipped))
        return files

    def sidecar(self, program: Program, fixtures: Fixtures) -> dict[str, Any]:
        case = program.case
        graphs = [{"name": g, "encoding": fixtures.get(g).encoding, "dir": f"../fixtures/{g}"}
                  for g in case.graphs]
        return {
            "args": [],
            "dirs": [],
            "env": {},
            "exit_code": 0,
            "stdout": "ok\n" if case.memory else "",
            "nn": {
                "id": case.id,
                "section": case.section,
                "title": case.title,
                "spec": case.spec,
                "source": case.source,
                "module": f"{case.id}.wat",
                "graphs": graphs,
                "requires": list(case.requires),
                "tags": list(case.tags),
                "memory": case.memory,
                "trap_steps": program.trap_steps,
                "step_marker": STEP_MARKER if case.memory else None,
                "fail_exit_code": FAIL_EXIT,
                "steps": [{"step": s.n, "call": s.call, "expect": s.expect, "errnos": s.errnos,
                           "trap": s.trap} for s in program.steps],
                "notes": program.notes,
            },
        }

    @staticmethod
    def entry(program: Program) -> dict[str, Any]:
        case = program.case
        return {"id": case.id, "section": case.section, "title": case.title,
                "spec": case.spec, "requires": list(case.requires), "tags": list(case.tags),
                "module": f"cases/{case.id}.wat", "sidecar": f"cases/{case.id}.json"}

    def manifest(self, facts: SpecFacts, entries: list[dict[str, Any]],
                 left_out: list[dict[str, str]], fixtures: list[Fixture]) -> dict[str, Any]:
        calls = sorted({n for n in facts.functions})
        return {
            "format": SUITE_FORMAT,
            "generator": f"witxgen {__version__}",
            "spec": self.options.spec_path,
            "module": facts.module,
            "functions": calls,
            "errno": _enum_map(facts.errno),
            "tensor_type": _enum_map(facts.tensor_type),
            "graph_encoding": _enum_map(facts.encoding),
            "execution_target": _enum_map(facts.target),
            "tensor_layout": {"size": facts.tensor.size, "dims": facts.tensor.dims_offset,
                              "type": facts.tensor.type_offset, "data": facts.tensor.data_offset,
                              "padding": [list(p) for p in facts.tensor.padding]},
            "cases": entries,
            "left_out": left_out,
            "fixtures": [{"name": f.name, "encoding": f.encoding,
                          "files": {n: hashlib.sha256(d).hexdigest()
                                    for n, d in sorted(f.files.items())}} for f in fixtures],
        }
