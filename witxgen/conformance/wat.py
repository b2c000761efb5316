"""A small assembler for self-checking WASI guests written as WAT.

It lays out a static memory image (data segments for model bytes, tensors, buffers and
messages), keeps named 4-byte slots for handles, and records a list of operations (`Op`:
a call, an errno check, a byte comparison, …). Templates under `templates/conformance/`
render the operations, one macro per kind; every number they print was computed here.

Memory map: bytes 0..64 are scratch for the helper functions (an iovec, the nwritten
cell, a digit buffer); allocations start at 64. The memory has a fixed number of pages
(no growth), so "out of bounds" is a constant: memory size + 16.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Ptr

PAGE = 65536
SCRATCH = {"iov": 0, "nwritten": 8, "digits_end": 48}
FIRST_FREE = 64
WRAP_ADDRESS = 0xFFFF_FFF0


def wat_string(data: bytes) -> str:
    """`data` as the inside of a WAT string literal."""
    out = []
    for b in data:
        if 0x20 <= b < 0x7F and b not in (0x22, 0x5C):
            out.append(chr(b))
        else:
            out.append(f"\\{b:02x}")
    return "".join(out)


def const(value: int) -> str:
    return f"(i32.const {value & 0xFFFF_FFFF if value >= 0 else value})"


@dataclass
class Segment:
    offset: int
    data: bytes

    @property
    def lines(self) -> list[str]:
        """The data as WAT string literals of at most 48 bytes each."""
        return [wat_string(self.data[i:i + 48]) for i in range(0, len(self.data), 48)]


@dataclass
class Op:
    """One operation of `_start`; `kind` picks the template macro, `args` its fields."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["args"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class Import:
    module: str
    name: str
    params: list[str]
    results: list[str]


class Assembler:
    """Memory image + operations of one guest. `memory_size` is fixed before assembling (the
    builder measures a first pass), so pointers past the end are known constants."""

    def __init__(self, memory: bool, memory_size: int = PAGE) -> None:
        self.memory = memory
        self.memory_size = memory_size
        self.top = FIRST_FREE
        self.segments: list[Segment] = []
        self.ops: list[Op] = []
        self.slots: dict[str, int] = {}
        self._strings: dict[bytes, tuple[int, int]] = {}

    # ---- memory -------------------------------------------------------------------------

    def alloc(self, size: int, align: int = 8) -> int:
        self.top = -(-self.top // align) * align
        address = self.top
        self.top += size
        return address

    def place(self, data: bytes, align: int = 8) -> int:
        """Allocate `data` and initialise it (a data segment unless it is all zeros)."""
        address = self.alloc(max(len(data), 1), align)
        if any(data):
            self.segments.append(Segment(address, data))
        return address

    def string(self, text: str) -> tuple[int, int]:
        raw = text.encode()
        if raw not in self._strings:
            self._strings[raw] = (self.place(raw, 1), len(raw))
        return self._strings[raw]

    def slot(self, name: str) -> int:
        """A 4-byte cell for a handle or a result (allocated on first use)."""
        if name not in self.slots:
            self.slots[name] = self.alloc(4, 4)
        return self.slots[name]

    def pointer(self, ptr: Ptr) -> int:
        if ptr.kind == "oob":
            return self.memory_size + 16
        if ptr.kind == "wrap":
            return WRAP_ADDRESS
        if ptr.kind == "end":
            return self.memory_size - ptr.value
        raise ValueError(ptr.kind)

    @property
    def pages(self) -> int:
        return max(1, -(-self.top // PAGE))

    # ---- operations ---------------------------------------------------------------------

    def emit(self, kind: str, **args: Any) -> Op:
        op = Op(kind, args)
        self.ops.append(op)
        return op

    def message(self, text: str) -> dict[str, int]:
        """A message for a failure report: {"ptr", "len"} (no memory: nothing to print)."""
        if not self.memory:
            return {"ptr": 0, "len": 0}
        ptr, length = self.string(text)
        return {"ptr": ptr, "len": length}
