"""Lowering a catalog case into a guest program for one wasi-nn text.

Names become numbers here, from the text's IR (`SpecFacts`): enum cases, errno values, the
tensor record's field offsets and padding, a builder entry's size. A case that names
something the text lacks (a tensor type, an errno, `load_by_name`) is left out with the
reason. Every step gets a marker on stderr (`wasi-nn-conformance: step N`) before it runs,
so a runner can tell at which step a trap or crash happened; on failure the guest prints
`FAIL step N: …` and exits 1; when every step passed it prints `ok` and exits 0. A guest
without memory cannot print, nor even call proc_exit (wasmtime's WASI needs the memory for
that too): it passes by returning from `_start` and fails by trapping (`unreachable`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from . import model as m
from .facts import EnumFacts, SpecFacts
from .fixtures import Fixtures
from .wat import PAGE, SCRATCH, Assembler, Import, Op, const

STEP_MARKER = "wasi-nn-conformance: step "
#: The exit code of a guest that found a wrong result.
FAIL_EXIT = 1


class LeftOut(Exception):
    """The case cannot be expressed in this text (the message says why)."""


@dataclass
class StepInfo:
    n: int
    call: str  # the wasi-nn function, or the kind of check
    expect: str  # as written in the catalog
    errnos: list[int] | None  # accepted numbers; None: any defined errno
    trap: bool
    anything: bool


@dataclass
class Program:
    case: m.Case
    imports: list[Import]
    memory: bool
    pages: int
    segments: list[Any]
    ops: list[Op]
    lib: dict[str, int]
    steps: list[StepInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # names dropped from accepted sets

    @property
    def trap_steps(self) -> list[int]:
        return [s.n for s in self.steps if s.trap]


class _Lowering:
    def __init__(self, case: m.Case, facts: SpecFacts, fixtures: Fixtures,
                 memory_size: int) -> None:
        self.case = case
        self.facts = facts
        self.fixtures = fixtures
        self.asm = Assembler(case.memory, memory_size)
        self.labels: dict[str, tuple[int, int]] = {}
        self.steps: list[StepInfo] = []
        self.notes: list[str] = []
        self.used: set[str] = set()
        self.lib: dict[str, int] = {**SCRATCH, "stdout": 1, "stderr": 2, "fail_exit": FAIL_EXIT}
        if case.memory:
            self.lib["marker"], self.lib["marker_len"] = self.asm.string(STEP_MARKER)
            self.lib["newline"], _ = self.asm.string("\n")
            self.lib["ok"], self.lib["ok_len"] = self.asm.string("ok\n")

    # ---- names -> numbers -----------------------------------------------------------

    def enum(self, facts: EnumFacts, arg: m.EnumArg, what: str) -> int:
        if isinstance(arg, m.Beyond):
            return len(facts.cases) + arg.offset
        if isinstance(arg, int):
            return arg
        if arg not in facts.cases:
            raise LeftOut(f"{what} `{arg}` does not exist in this text's {facts.name}")
        return facts.value(arg)

    def errnos(self, names: tuple[str, ...]) -> list[int]:
        known = [n for n in names if n in self.facts.errno.cases]
        dropped = [n for n in names if n not in self.facts.errno.cases]
        if not known:
            raise LeftOut(f"errno {', '.join(names)} does not exist in this text's "
                          f"{self.facts.errno.name}")
        if dropped:
            self.notes.append(f"errno {', '.join(dropped)} not in this text: accepted set "
                              f"narrowed to {', '.join(known)}")
        return sorted(self.facts.errno.value(n) for n in known)

    def function(self, name: str) -> str:
        if not self.facts.has(name):
            raise LeftOut(f"this text has no function `{name}`")
        self.used.add(name)
        return f"$nn_{name}"

    def handle(self, arg: m.HandleArg) -> str:
        if isinstance(arg, int):
            return const(arg)
        return f"(i32.load {const(self.asm.slot(arg))})"

    def ptr(self, override: m.Ptr | None, default: int) -> str:
        return const(self.asm.pointer(override) if override is not None else default)

    # ---- steps ----------------------------------------------------------------------

    def lower(self) -> None:
        for step in self.case.steps:  # labelled tensor data first: steps before may fill it
            if isinstance(step, m.SetInput) and step.tensor.label and self.case.memory:
                t = step.tensor
                self.labels[t.label] = (self.asm.place(t.data), len(t.data))  # type: ignore
        for n, step in enumerate(self.case.steps, 1):
            if self.case.memory:
                self.asm.emit("step", n=n)
            method = getattr(self, f"step_{type(step).__name__}")
            method(n, step)

    def call(self, n: int, step: m.Step, func: str, args: list[str],
             on_success: list[Op] | None = None) -> None:
        name = func
        wat_name = self.function(func)
        expect = m.parse_expect(step.expect)
        accepted = None if expect.errnos is None else self.errnos(expect.errnos)
        self.steps.append(StepInfo(n, name, step.expect, accepted, expect.trap,
                                   expect.anything))
        self.asm.emit("call", func=wat_name, operands=args, comment=f"{name} — {step.expect}")
        if not expect.anything:
            if accepted is None:
                bad = f"(i32.gt_u (local.get $r) {const(len(self.facts.errno.cases) - 1)})"
                shown = "∈{0.." + str(len(self.facts.errno.cases) - 1) + "}"
            else:
                bad = _all("i32.and", [f"(i32.ne (local.get $r) {const(v)})" for v in accepted])
                shown = (f"={accepted[0]}" if len(accepted) == 1
                         else "∈{" + ",".join(map(str, accepted)) + "}")
            self.asm.emit("check_errno", bad=bad,
                          msg=self.asm.message(f"FAIL step {n}: expected errno {shown}, got "),
                          tail=self.asm.message(f" ({name})\n"))
        if step.pass_if:
            values = self.errnos(step.pass_if)
            self.asm.emit("pass_if", cond=_all(
                "i32.or", [f"(i32.eq (local.get $r) {const(v)})" for v in values]))
        if on_success:
            success = self.facts.errno.value("success")
            self.asm.emit("on_success", cond=f"(i32.eq (local.get $r) {const(success)})",
                          ops=on_success)

    def check(self, n: int, what: str) -> None:
        self.steps.append(StepInfo(n, what, "check", [], False, False))

    def builder(self, b: m.Builder) -> tuple[int, int]:
        if isinstance(b, m.Model):
            fixture = self.fixtures.get(b.fixture)
            data = fixture.files[b.file]
            return self.asm.place(data), len(data)
        if isinstance(b, m.Blob):
            return self.asm.place(b.data), len(b.data)
        return self.asm.pointer(b.ptr), b.length

    def step_Load(self, n: int, s: m.Load) -> None:
        encoding = self.enum(self.facts.encoding, s.encoding, "encoding")
        target = self.enum(self.facts.target, s.target, "target")
        if not self.case.memory:
            args = [const(0), const(0), const(encoding), const(target), const(0)]
            self.call(n, s, "load", args)
            return
        entries = b""
        for b in s.builders:
            ptr, length = self.builder(b)
            entry = struct.pack("<II", ptr, length)
            entries += entry + bytes(self.facts.builder_size - len(entry))
        array = self.asm.place(entries, 4)
        args = [self.ptr(s.array_ptr, array), const(len(s.builders)), const(encoding),
                const(target), self.ptr(s.out, self.asm.slot(s.graph))]
        self.call(n, s, "load", args)

    def step_LoadByName(self, n: int, s: m.LoadByName) -> None:
        if not self.case.memory:
            self.call(n, s, "load_by_name", [const(0), const(0), const(0)])
            return
        name = self.asm.place(s.name, 1)
        self.call(n, s, "load_by_name", [self.ptr(s.name_ptr, name), const(len(s.name)),
                                         self.ptr(s.out, self.asm.slot(s.graph))])

    def step_InitContext(self, n: int, s: m.InitContext) -> None:
        out = self.ptr(s.out, self.asm.slot(s.ctx)) if self.case.memory else const(0)
        self.call(n, s, "init_execution_context", [self.handle(s.graph), out])

    def step_SetInput(self, n: int, s: m.SetInput) -> None:
        t = s.tensor
        type_value = self.enum(self.facts.tensor_type, t.type, "tensor type")
        if not self.case.memory:
            self.call(n, s, "set_input", [self.handle(s.ctx), const(s.index), const(0)])
            return
        lay = self.facts.tensor
        dims = self.asm.place(struct.pack(f"<{len(t.dims)}I", *t.dims), 4)
        data = self.labels[t.label][0] if t.label else self.asm.place(t.data)
        record = bytearray([t.padding or 0] * lay.size)
        dims_ptr = self.asm.pointer(t.dims_ptr) if t.dims_ptr else dims
        data_ptr = self.asm.pointer(t.data_ptr) if t.data_ptr else data
        data_len = t.data_len if t.data_len is not None else len(t.data)
        struct.pack_into("<II", record, lay.dims_offset, dims_ptr, len(t.dims))
        record[lay.type_offset:lay.type_offset + lay.type_size] = type_value.to_bytes(
            lay.type_size, "little")
        struct.pack_into("<II", record, lay.data_offset, data_ptr, data_len)
        address = self.asm.place(bytes(record), lay.align)
        self.call(n, s, "set_input", [self.handle(s.ctx), const(s.index),
                                      self.ptr(s.record_ptr, address)])

    def step_Compute(self, n: int, s: m.Compute) -> None:
        self.call(n, s, "compute", [self.handle(s.ctx)])

    def step_GetOutput(self, n: int, s: m.GetOutput) -> None:
        if not self.case.memory:
            self.call(n, s, "get_output", [self.handle(s.ctx), const(s.index), const(0),
                                           const(s.size), const(0)])
            return
        asm = self.asm
        if s.buffer_ptr is not None:
            buf = asm.pointer(s.buffer_ptr)
        else:
            buf = asm.place(bytes([s.fill]) * s.size)
        if s.label:
            self.labels[s.label] = (buf, s.size)
        written = asm.slot(f"written{n}")
        checks: list[Op] = []
        if s.written is not None:
            checks.append(Op("check_u32", {
                "value": f"(i32.load {const(written)})", "expected": const(s.written),
                "msg": asm.message(f"FAIL step {n}: bytes_written: expected {s.written}, got "),
            }))
        if s.data is not None:
            expected = asm.place(s.data)
            checks.append(Op("check_bytes", {
                "a": const(buf), "b": const(expected), "len": const(len(s.data)),
                "msg": asm.message(f"FAIL step {n}: output {s.index} differs from the expected "
                                   f"{len(s.data)} bytes at byte "),
            }))
        if s.untouched and s.data is not None and s.size > len(s.data):
            checks.append(Op("check_fill", {
                "ptr": const(buf + len(s.data)), "len": const(s.size - len(s.data)),
                "byte": const(s.fill),
                "msg": asm.message(f"FAIL step {n}: the buffer after the output was written "
                                   f"(should still be {s.fill:#04x}) at byte "),
            }))
        max_len = s.size if s.max_len is None else s.max_len
        self.call(n, s, "get_output", [self.handle(s.ctx), const(s.index), const(buf),
                                       const(max_len), self.ptr(s.written_ptr, written)],
                  on_success=checks)
        if s.untouched and s.data is None:
            self.asm.emit("check_fill", ptr=const(buf), len=const(s.size), byte=const(s.fill),
                          msg=asm.message(f"FAIL step {n}: the buffer was written (should "
                                          f"still be {s.fill:#04x}) at byte "))

    def step_Overwrite(self, n: int, s: m.Overwrite) -> None:
        ptr, length = self.labels[s.label]
        self.check(n, "overwrite")
        self.asm.emit("fill", ptr=const(ptr), len=const(length), byte=const(s.fill))

    def step_DistinctHandles(self, n: int, s: m.DistinctHandles) -> None:
        self.check(n, "distinct handles")
        self.asm.emit("check_ne", a=self.handle(s.a), b=self.handle(s.b), msg=self.asm.message(
            f"FAIL step {n}: handles {s.a} and {s.b} are equal: "))

    def step_SameBytes(self, n: int, s: m.SameBytes) -> None:
        self.check(n, "same bytes")
        a, _ = self.labels[s.a]
        b, _ = self.labels[s.b]
        self.asm.emit("check_bytes", a=const(a), b=const(b), len=const(s.length),
                      msg=self.asm.message(f"FAIL step {n}: {s.a} and {s.b} differ at byte "))

    def step_FillPattern(self, n: int, s: m.FillPattern) -> None:
        ptr, length = self.labels[s.label]
        self.check(n, "fill pattern")
        self.asm.emit("pattern", ptr=const(ptr), count=const(length // 4))

    def step_Top1(self, n: int, s: m.Top1) -> None:
        ptr, _ = self.labels[s.label]
        self.check(n, "top-1")
        self.asm.emit("top1", ptr=const(ptr), count=const(s.count), index=const(s.index),
                      msg=self.asm.message(f"FAIL step {n}: top-1 class: expected {s.index}, "
                                           "got "))


def _all(op: str, terms: list[str]) -> str:
    expr = terms[0]
    for t in terms[1:]:
        expr = f"({op} {expr} {t})"
    return expr


def lower_case(case: m.Case, facts: SpecFacts, fixtures: Fixtures) -> Program:
    """The guest program for `case`; raises LeftOut when the text cannot express it."""
    first = _Lowering(case, facts, fixtures, PAGE)
    first.lower()  # measures the memory image
    pages = first.asm.pages + 1  # one spare page: pointers near the end stay unused
    low = _Lowering(case, facts, fixtures, pages * PAGE)
    low.lower()
    names = set(low.used)
    if case.import_all:
        abis = list(facts.all_functions)
    else:
        abis = [a for a in facts.all_functions if a.name in names]
    imports = [Import(facts.module, a.name, a.param_types, list(a.results)) for a in abis]
    return Program(case=case, imports=imports, memory=case.memory, pages=pages,
                   segments=sorted(low.asm.segments, key=lambda s: s.offset),
                   ops=low.asm.ops, lib=low.lib, steps=low.steps, notes=low.notes)
