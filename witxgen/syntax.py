"""Syntax tree of one .witx file, exactly as written (both dialects), with a span on every node.

The parser produces these nodes; `validate` turns them into the IR. Nothing here is
resolved or checked beyond the shape the grammar enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Span

Docs = str


@dataclass(frozen=True)
class Ident:
    """A `$name` (stored without the `$`)."""

    name: str
    span: Span


@dataclass(frozen=True)
class TypeSyn:
    span: Span


@dataclass(frozen=True)
class RefSyn(TypeSyn):
    name: str


@dataclass(frozen=True)
class BuiltinSyn(TypeSyn):
    """u8 … f64, char, bool, string, and `(@witx usize)` / `(@witx char8)`."""

    name: str


@dataclass(frozen=True)
class ListSyn(TypeSyn):
    element: TypeSyn
    old_dialect: bool = False  # written `(array T)`


@dataclass(frozen=True)
class FieldSyn:
    name: Ident
    type: TypeSyn
    docs: Docs
    span: Span


@dataclass(frozen=True)
class RecordSyn(TypeSyn):
    fields: tuple[FieldSyn, ...]
    old_dialect: bool = False  # written `(struct …)`


@dataclass(frozen=True)
class CaseName:
    """A bare case of an enum or flags, or a const of an old-dialect `int`."""

    name: Ident
    docs: Docs


@dataclass(frozen=True)
class ReprSyn:
    """`u8` (old dialect) or `(@witx tag u8)` / `(@witx repr u8)`."""

    name: str
    span: Span
    old: bool = False


@dataclass(frozen=True)
class EnumSyn(TypeSyn):
    repr: ReprSyn | None
    cases: tuple[CaseName, ...]


@dataclass(frozen=True)
class FlagsSyn(TypeSyn):
    repr: ReprSyn | None
    flags: tuple[CaseName, ...]


@dataclass(frozen=True)
class IntConstSyn:
    name: Ident
    value: int
    docs: Docs
    span: Span


@dataclass(frozen=True)
class IntSyn(TypeSyn):
    """Old dialect `(int u64 (const $x 0) …)`: an integer type with named constants."""

    repr: ReprSyn
    consts: tuple[IntConstSyn, ...]


@dataclass(frozen=True)
class CaseSyn:
    name: Ident
    type: TypeSyn | None
    docs: Docs
    span: Span


@dataclass(frozen=True)
class VariantSyn(TypeSyn):
    tag: TypeSyn | None
    cases: tuple[CaseSyn, ...]


@dataclass(frozen=True)
class UnionSyn(TypeSyn):
    """A union in either dialect.

    0.9: `(union (@witx tag $e)? T1 T2 …)` gives `payloads`.
    Old: `(union $e (field $c T) (empty $d))` gives `tag` = the first ref and `cases`.
    """

    tag: TypeSyn | None
    payloads: tuple[TypeSyn, ...]
    cases: tuple[CaseSyn, ...]
    old_dialect: bool


@dataclass(frozen=True)
class TupleSyn(TypeSyn):
    types: tuple[TypeSyn, ...]


@dataclass(frozen=True)
class ExpectedSyn(TypeSyn):
    ok: TypeSyn | None
    error: TypeSyn | None


@dataclass(frozen=True)
class HandleSyn(TypeSyn):
    pass


@dataclass(frozen=True)
class PointerSyn(TypeSyn):
    element: TypeSyn
    const: bool


@dataclass(frozen=True)
class TypenameSyn:
    name: Ident
    type: TypeSyn
    docs: Docs
    span: Span


@dataclass(frozen=True)
class ConstDeclSyn:
    """`(@witx const $type $name value)`."""

    type_name: Ident
    name: Ident
    value: int
    docs: Docs
    span: Span


@dataclass(frozen=True)
class UseSyn:
    path: str
    span: Span


@dataclass(frozen=True)
class ParamSyn:
    name: Ident
    type: TypeSyn
    docs: Docs
    span: Span


@dataclass(frozen=True)
class FunctionSyn:
    name: str
    name_span: Span
    params: tuple[ParamSyn, ...]
    results: tuple[ParamSyn, ...]
    noreturn: bool
    docs: Docs
    span: Span


@dataclass(frozen=True)
class ImportSyn:
    name: str
    span: Span


@dataclass(frozen=True)
class ModuleSyn:
    name: Ident
    imports: tuple[ImportSyn, ...]
    functions: tuple[FunctionSyn, ...]
    docs: Docs
    span: Span


Item = UseSyn | TypenameSyn | ConstDeclSyn | ModuleSyn


@dataclass(frozen=True)
class DocumentSyn:
    path: str
    items: tuple[Item, ...] = field(default_factory=tuple)
