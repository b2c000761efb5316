"""The vocabulary of conformance cases: steps, symbolic arguments, expectations.

A case is a sequence of steps run by one self-checking guest. Arguments are symbolic so
that one catalog serves every wasi-nn text: enum cases and errno values are *names* (turned
into numbers from the IR of the text a suite is generated from), handles are slot names
(`"G"`, `"X"`) or `BAD`, pointers may be `OOB` (past the end of memory) or `WRAP` (so close
to 2**32 that pointer + length wraps).

Expectations use the catalog's notation (see `parse_expect`):
`=NAME` one errno; `∈{A,B}` any of them; `∈{*}` any errno the text defines; `TRAP|…` a trap
is also acceptable; `NOCRASH` anything but a host crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BAD_HANDLE = 0x7FFF_FFF0


@dataclass(frozen=True)
class Ptr:
    """A pointer argument: `oob` = memory size + 16; `wrap` = 2**32 - 16; `end` = memory size
    minus `value` (a region starting inside memory and running past its end)."""

    kind: str
    value: int = 0


OOB = Ptr("oob")
WRAP = Ptr("wrap")


def near_end(n: int) -> Ptr:
    return Ptr("end", n)


@dataclass(frozen=True)
class Beyond:
    """An enum value past the text's last case: len(cases) + offset."""

    offset: int = 0


EnumArg = str | int | Beyond  # a case name, a raw number, or past the last case
HandleArg = str | int  # a slot name ("G") or a raw handle value (BAD_HANDLE)


@dataclass(frozen=True)
class Model:
    """The bytes of one file of a fixture, as a builder."""

    fixture: str
    file: str


@dataclass(frozen=True)
class Blob:
    data: bytes


@dataclass(frozen=True)
class Region:
    """A builder entry given by raw pointer and length (nothing is placed in memory)."""

    ptr: Ptr
    length: int


Builder = Model | Blob | Region


def ir_files(fixture: str) -> tuple[Model, Model]:
    return Model(fixture, "model.xml"), Model(fixture, "model.bin")


@dataclass(frozen=True, kw_only=True)
class Tensor:
    dims: tuple[int, ...]
    type: EnumArg
    data: bytes
    label: str | None = None  # names the data buffer, for Overwrite
    dims_ptr: Ptr | None = None
    data_ptr: Ptr | None = None
    data_len: int | None = None  # with data_ptr: the length to claim
    padding: int | None = None  # fill the record's padding bytes with this


@dataclass(frozen=True, kw_only=True)
class Step:
    expect: str = "=success"
    pass_if: tuple[str, ...] = ()  # errno names that end the case successfully


@dataclass(frozen=True, kw_only=True)
class Load(Step):
    builders: tuple[Builder, ...]
    encoding: EnumArg = "openvino"
    target: EnumArg = "cpu"
    graph: str = "G"
    array_ptr: Ptr | None = None  # instead of the builder array's real address
    out: Ptr | None = None  # instead of the graph slot


@dataclass(frozen=True, kw_only=True)
class LoadByName(Step):
    name: bytes
    graph: str = "G"
    name_ptr: Ptr | None = None
    out: Ptr | None = None


@dataclass(frozen=True, kw_only=True)
class InitContext(Step):
    graph: HandleArg = "G"
    ctx: str = "X"
    out: Ptr | None = None


@dataclass(frozen=True, kw_only=True)
class SetInput(Step):
    ctx: HandleArg = "X"
    index: int = 0
    tensor: Tensor
    record_ptr: Ptr | None = None


@dataclass(frozen=True, kw_only=True)
class Compute(Step):
    ctx: HandleArg = "X"


@dataclass(frozen=True, kw_only=True)
class GetOutput(Step):
    ctx: HandleArg = "X"
    index: int = 0
    size: int = 16  # buffer bytes, filled with `fill` first
    max_len: int | None = None  # the max size passed (default: size)
    fill: int = 0xAA
    data: bytes | None = None  # expected bytes at the start of the buffer (on success)
    written: int | None = None  # expected bytes_written (on success)
    untouched: bool = False  # the whole buffer must still hold `fill` (on error)
    label: str | None = None  # names the buffer, for SameBytes
    buffer_ptr: Ptr | None = None
    written_ptr: Ptr | None = None


@dataclass(frozen=True, kw_only=True)
class Overwrite(Step):
    """Overwrite a labelled tensor data buffer (not a call)."""

    label: str
    fill: int = 0


@dataclass(frozen=True, kw_only=True)
class DistinctHandles(Step):
    a: str
    b: str


@dataclass(frozen=True, kw_only=True)
class SameBytes(Step):
    """Two labelled output buffers hold the same first `length` bytes."""

    a: str
    b: str
    length: int


@dataclass(frozen=True, kw_only=True)
class FillPattern(Step):
    """Fill a labelled tensor's data with f32 values (i mod 256) / 255, by a loop in the
    guest (too big for a data segment)."""

    label: str


@dataclass(frozen=True, kw_only=True)
class Top1(Step):
    """The largest f32 of a labelled output buffer of `count` elements is at `index`."""

    label: str
    count: int
    index: int


CALLS = (Load, LoadByName, InitContext, SetInput, Compute, GetOutput)
FUNCTION_OF = {Load: "load", LoadByName: "load_by_name", InitContext: "init_execution_context",
               SetInput: "set_input", Compute: "compute", GetOutput: "get_output"}


@dataclass(frozen=True, kw_only=True)
class Case:
    id: str
    title: str
    spec: str  # the expectation, in the catalog's notation, as the report shows it
    source: str  # where the expectation comes from
    steps: tuple[Step, ...]
    section: str
    requires: tuple[str, ...] = ()  # capabilities; "!onnx": only on runtimes without it
    tags: tuple[str, ...] = ()
    memory: bool = True  # False: the guest exports no memory
    graphs: tuple[str, ...] = ()  # fixtures preloaded for load_by_name
    import_all: bool = False  # import every function of the module (the link case)


# --- expectations ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """errnos: accepted errno names (None: any errno the text defines, `∈{*}`);
    trap: a trap is accepted too; anything: no check at all (NOCRASH)."""

    errnos: tuple[str, ...] | None
    trap: bool = False
    anything: bool = False
    text: str = field(default="", compare=False)


_SET = re.compile(r"^∈\{(.*)\}$")


def parse_expect(text: str) -> Expect:
    raw = text.strip()
    if raw == "NOCRASH":
        return Expect(None, trap=True, anything=True, text=raw)
    rest, trap = raw, False
    if rest.startswith("TRAP|"):
        rest, trap = rest[5:], True
    if rest.startswith("="):
        return Expect((rest[1:].strip(),), trap, text=raw)
    m = _SET.match(rest)
    if m is None:
        raise ValueError(f"bad expectation {text!r}")
    names = tuple(n.strip() for n in m.group(1).split(",") if n.strip())
    if names == ("*",):
        return Expect(None, trap, text=raw)
    return Expect(names, trap, text=raw)
