"""Memory layout of every IR type on wasm32: size, alignment, field offsets, tag/payload.

Rules: builtins have their natural size; handles, pointers and `usize` are 4 bytes;
lists and strings are {ptr u32, len u32}; enums and flags are their repr; records and
tuples follow C struct rules; variants put the tag first and the payload at the largest
payload alignment, rounded up to the variant's alignment.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir

BUILTIN_SIZES = {
    "u8": 1,
    "s8": 1,
    "char8": 1,
    "bool": 1,
    "u16": 2,
    "s16": 2,
    "u32": 4,
    "s32": 4,
    "f32": 4,
    "char": 4,
    "usize": 4,
    "u64": 8,
    "s64": 8,
    "f64": 8,
}


def align_to(offset: int, align: int) -> int:
    return -(-offset // align) * align


@dataclass(frozen=True)
class Layout:
    size: int
    align: int


@dataclass(frozen=True)
class RecordLayout(Layout):
    offsets: tuple[int, ...]


@dataclass(frozen=True)
class VariantLayout(Layout):
    tag_size: int
    payload_offset: int


class Layouts:
    """Computes and caches layouts for the types of one document."""

    def __init__(self, doc: ir.Document) -> None:
        self.doc = doc
        self._named: dict[str, Layout] = {}

    def of(self, ty: ir.Type) -> Layout:  # noqa: C901 - one branch per type kind
        if isinstance(ty, ir.Ref):
            if ty.name not in self._named:
                self._named[ty.name] = self.of(self.doc.typedef(ty.name).type)
            return self._named[ty.name]
        if isinstance(ty, ir.Builtin):
            n = BUILTIN_SIZES[ty.name]
            return Layout(n, n)
        if isinstance(ty, (ir.Handle, ir.Pointer)):
            return Layout(4, 4)
        if isinstance(ty, (ir.List, ir.String)):
            return Layout(8, 4)
        if isinstance(ty, (ir.Enum, ir.Flags)):
            n = BUILTIN_SIZES[ty.repr]
            return Layout(n, n)
        if isinstance(ty, ir.Record):
            return self.struct([f.type for f in ty.fields])
        if isinstance(ty, ir.Tuple):
            return self.struct(list(ty.types))
        if isinstance(ty, ir.Variant):
            return self.variant(ty.tag_repr, [c.type for c in ty.cases])
        if isinstance(ty, ir.Expected):
            return self.variant("u8", [ty.ok, ty.error])
        raise AssertionError(f"no layout for {type(ty).__name__}")

    def struct(self, members: list[ir.Type]) -> RecordLayout:
        offset, align, offsets = 0, 1, []
        for member in members:
            lay = self.of(member)
            offset = align_to(offset, lay.align)
            offsets.append(offset)
            offset += lay.size
            align = max(align, lay.align)
        return RecordLayout(align_to(offset, align), align, tuple(offsets))

    def variant(self, tag_repr: str, payloads: list[ir.Type | None]) -> VariantLayout:
        tag = BUILTIN_SIZES[tag_repr]
        payload_align, payload_size = 1, 0
        for p in payloads:
            if p is not None:
                lay = self.of(p)
                payload_align = max(payload_align, lay.align)
                payload_size = max(payload_size, lay.size)
        align = max(tag, payload_align)
        payload_offset = align_to(tag, payload_align)
        return VariantLayout(
            align_to(payload_offset + payload_size, align), align, tag, payload_offset
        )
