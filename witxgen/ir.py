"""The validated, frozen intermediate representation of a witx document.

Invariants (established by `validate`, relied on by layout, ABI and every target):

* Every `Ref` names a `TypeDef` of the same `Document`; type definitions are acyclic.
* Both dialects map to one form: `struct` → `Record`, `array` → `List`, `int` → a
  builtin typedef with `constants`, an old-dialect `union` → `Variant`, old multi-result
  functions → one `expected` result. So the IR of a file and of its `fmt` output are equal.
* `Enum.repr`, `Flags.repr` and `Variant.tag_repr` are always set (inferred when the
  text leaves them out) and every case value fits its repr.
* `Variant.cases[i].value` is the tag value written for that case: its position, or the
  value of the same-named case in the tag enum when the variant has one.
* `Variant.kind` is "union" only when the payloads can be written positionally: the
  variant has a tag enum, covers its cases in order, and every case has a payload.
* Names are stored without the leading `$`. Spans never take part in equality, so two
  documents are equal when they define the same things with the same docs.
* A function has at most one result; `noreturn` functions have none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Span

INT_TYPES = ("u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64")
BUILTIN_TYPES = (*INT_TYPES, "f32", "f64", "char", "char8", "usize", "bool")


def _nospan() -> Span | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Type:
    """Base of all type expressions."""


@dataclass(frozen=True)
class Builtin(Type):
    name: str  # one of BUILTIN_TYPES


@dataclass(frozen=True)
class String(Type):
    pass


@dataclass(frozen=True)
class Ref(Type):
    name: str


@dataclass(frozen=True)
class List(Type):
    element: Type


@dataclass(frozen=True)
class Pointer(Type):
    element: Type
    const: bool = False


@dataclass(frozen=True)
class Handle(Type):
    pass


@dataclass(frozen=True)
class Case:
    """A case of an enum or a flag of a flags type."""

    name: str
    docs: str = ""
    span: Span | None = _nospan()


@dataclass(frozen=True)
class Enum(Type):
    repr: str
    cases: tuple[Case, ...]

    def value_of(self, name: str) -> int:
        return [c.name for c in self.cases].index(name)


@dataclass(frozen=True)
class Flags(Type):
    repr: str
    flags: tuple[Case, ...]


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    docs: str = ""
    span: Span | None = _nospan()


@dataclass(frozen=True)
class Record(Type):
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Tuple(Type):
    types: tuple[Type, ...]


@dataclass(frozen=True)
class VariantCase:
    name: str
    type: Type | None
    value: int
    docs: str = ""
    span: Span | None = _nospan()


@dataclass(frozen=True)
class Variant(Type):
    tag_repr: str
    tag: str | None  # name of the tag enum, if the variant has one
    cases: tuple[VariantCase, ...]
    kind: str = "variant"  # or "union"


@dataclass(frozen=True)
class Expected(Type):
    ok: Type | None
    error: Type | None


@dataclass(frozen=True)
class Constant:
    name: str
    value: int
    docs: str = ""
    span: Span | None = _nospan()


@dataclass(frozen=True)
class TypeDef:
    name: str
    type: Type
    docs: str = ""
    constants: tuple[Constant, ...] = ()
    span: Span | None = _nospan()


@dataclass(frozen=True)
class Param:
    name: str
    type: Type
    docs: str = ""
    span: Span | None = _nospan()


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    results: tuple[Param, ...]
    noreturn: bool = False
    docs: str = ""
    span: Span | None = _nospan()


@dataclass(frozen=True)
class Module:
    name: str
    functions: tuple[Function, ...]
    imports: tuple[str, ...] = ("memory",)
    docs: str = ""
    span: Span | None = _nospan()

    def function(self, name: str) -> Function:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Document:
    types: tuple[TypeDef, ...]
    modules: tuple[Module, ...]
    path: str = field(default="", compare=False)
    files: tuple[str, ...] = field(default=(), compare=False)  # every file read, entry first

    def typedef(self, name: str) -> TypeDef:
        return self._by_name()[name]

    def _by_name(self) -> dict[str, TypeDef]:
        cache: dict[str, TypeDef] | None = self.__dict__.get("_index")
        if cache is None:
            cache = {t.name: t for t in self.types}
            object.__setattr__(self, "_index", cache)
        return cache

    def resolve(self, ty: Type) -> Type:
        """Follow references until a type that is not a `Ref`."""
        while isinstance(ty, Ref):
            ty = self._by_name()[ty.name].type
        return ty

    def module(self, name: str) -> Module:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)
