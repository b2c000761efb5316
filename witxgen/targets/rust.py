"""Rust guest bindings: one self-contained `.rs` file per witx module, no crates.

Each file holds every type of the document (enums and flags as newtypes with named
constants, records as `#[repr(C)]` structs with size/align asserts, variants as tag +
union), an `abi` helper module (the (ptr, len) shape of lists and strings), a `raw`
module of `#[link(wasm_import_module)]` imports with the exact core signatures, and
safe wrappers that take slices, `&str` and references and return `Result<T, E>`.

Inline compound types (an enum written in a param, a record inside a record) get a
synthetic name from where they appear, since Rust has no anonymous structs. Every
type that holds a list or string, directly or through others, carries a lifetime `'a`.

A wrapper with a raw pointer param is an `unsafe fn`. One pattern gets a safe variant as
well, `<function>_into`: a caller-owned output buffer passed as a pointer and its size
(wasi-nn's `get_output`, preview1's `random_get`, `fd_prestat_dir_name`, `fd_readdir`,
`path_readlink`). The rule (`buffer_pairs`), per function, on the witx params in order:

* a param whose type is, through any aliases, `(@witx pointer u8)` or
  `(@witx pointer (@witx char8))` (mutable; a `const_pointer` is an input, not a buffer),
* immediately followed by a param whose type is, through any aliases, an integer
  (`u8`..`u64`, `s8`..`s64`, `usize`) and whose name ends with `_len`, `_size`,
  `_max_size` or `max_len`,

is one buffer. The variant takes `name: &mut [u8]` (named after the pointer param) in place
of both params and passes `name.as_mut_ptr()` and `name.len()` (saturated to the integer
type's maximum) to the unsafe wrapper. It is generated only when every raw pointer of the
function is in such a pair, so that the variant needs no `unsafe` from its caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import ir
from ..abi import CoreParam
from ..layout import BUILTIN_SIZES
from ..naming import RUST_KEYWORDS, camel, rust_name, snake, upper
from .base import GenerateError, GenerateOptions, Target

PRIMITIVES = {
    "u8": "u8", "u16": "u16", "u32": "u32", "u64": "u64",
    "s8": "i8", "s16": "i16", "s32": "i32", "s64": "i64",
    "f32": "f32", "f64": "f64", "char": "char", "char8": "u8", "usize": "usize", "bool": "bool",
}

RESULT = "::core::result::Result"
ELIDED, STATIC = "'_", "'static"  # lifetimes for wrapper params and for host-written values
COMPOUND = (ir.Enum, ir.Flags, ir.Record, ir.Tuple, ir.Variant, ir.Handle)

# The buffer pattern (see the module docs): element types of the pointer, integer types and
# name endings of the size param.
BUFFER_ELEMENTS = frozenset({"u8", "char8"})
LENGTH_TYPES = frozenset({"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "usize"})
LENGTH_SUFFIXES = ("_len", "_size", "_max_size", "max_len")


@dataclass(frozen=True)
class Member:
    """A record field, flag, enum case or variant case as the templates need it."""

    name: str  # Rust identifier (field, const or constructor)
    witx: str  # the witx name, for messages and Debug output
    type: str  # Rust type, "" when there is none (enum case, payload-less variant case)
    value: int  # enum/variant tag value, flag bit, record offset
    docs: str
    field: str = ""  # variant: the union field holding this case's payload
    tag: str = ""  # variant: the expression for this case's tag value


@dataclass(frozen=True)
class Item:
    """One type definition (named in the witx, or synthesized for an inline type)."""

    partial: str  # template: _enum, _flags, _record, _tuple, _variant, _handle, _alias
    name: str  # Rust type name, without generics
    witx: str
    generics: str  # "<'a>" or ""
    docs: str
    ty: ir.Type
    size: int
    align: int
    repr: str = ""  # enum/flags/payload-less variant: the Rust integer type
    target: str = ""  # alias: the aliased Rust type
    members: tuple[Member, ...] = ()
    constants: tuple[Member, ...] = ()
    union: str = ""  # variant: name of the payload union
    tag_type: str = ""  # variant: Rust type of the tag field
    tag_value: str = ""  # variant: expression giving the tag's integer, for `match`
    assert_layout: bool = True
    full: bool = False  # the cases use every tag value, so a `_` match arm is dead

    @property
    def mask(self) -> int:
        """Flags: every defined bit set."""
        return (1 << len(self.members)) - 1

    @property
    def static(self) -> str:
        """The type as written inside `size_of::<…>()`."""
        return f"{self.name}<'static>" if self.generics else self.name


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    docs: str


@dataclass(frozen=True)
class SliceVariant:
    """The safe `_into` variant of a wrapper whose buffers are (pointer, size) pairs."""

    name: str
    docs: str
    params: tuple[Param, ...]
    args: tuple[str, ...]  # what it passes to the unsafe wrapper, one per wrapper param
    buffers: tuple[tuple[str, str], ...]  # (slice param, size param it stands in for)
    result_docs: str

    @property
    def doc_text(self) -> str:
        return _doc_text(self.docs, self.params, self.result_docs, unsafe=False)

    @property
    def param_decls(self) -> list[str]:
        return [f"{p.name}: {p.type}" for p in self.params]


@dataclass(frozen=True)
class Function:
    """One witx function: its raw import and its wrapper."""

    witx: str
    name: str  # wrapper and raw import name
    docs: str
    raw_params: tuple[tuple[str, str], ...]  # (name, core type)
    raw_result: str  # " -> i32", " -> !" or ""
    params: tuple[Param, ...]
    unsafe: bool
    returns: str  # " -> T" or ""
    shape: str  # "expected", "scalar", "unit" or "noreturn"
    outs: tuple[tuple[str, str], ...]  # (local, Rust type) of each out-pointer
    args: tuple[str, ...]  # one expression per core param
    ok: str  # expected: the Ok value
    err: str  # expected: the Err value, built from `__ret`
    value: str  # scalar: the return value, built from `__ret`
    result_docs: str
    into: SliceVariant | None = None  # the safe variant, for the buffer pattern

    @property
    def doc_text(self) -> str:
        """The wrapper's docs: the function's, then its params, result and safety rules."""
        text = _doc_text(self.docs, self.params, self.result_docs, self.unsafe)
        if self.into is not None:
            text += f"\n\nSee [`{self.into.name}`] for a safe variant that takes a slice."
        return text

    @property
    def body_indent(self) -> int:
        """Where the call sits: inside `unsafe { }` unless the whole function is unsafe."""
        return 4 if self.unsafe else 8

    @property
    def param_decls(self) -> list[str]:
        return [f"{p.name}: {p.type}" for p in self.params]

    @property
    def raw_decls(self) -> list[str]:
        return [f"{n}: {t}" for n, t in self.raw_params]


class RustTarget(Target):
    name = "rust"
    description = "Rust guest bindings: raw wasm imports + safe wrappers (no crates)"
    comment = "//"

    def __init__(self, doc: ir.Document, options: GenerateOptions) -> None:
        super().__init__(doc, options)
        self._lt = "'a"  # lifetime spelled for list/string-holding types
        self._lifetimes: dict[ir.Type, bool] = {}
        self._names: dict[str, str] = {}  # typedef name → Rust name
        self._anon: dict[ir.Type, str] = {}  # inline compound type → synthesized name
        self._anon_items: list[tuple[str, str, ir.Type]] = []  # (name, origin, type)
        self._unions: dict[str, str] = {}  # variant name → its payload union's name
        self._taken: set[str] = set()  # every Rust type name handed out
        taken = self._taken
        for td in doc.types:
            self._names[td.name] = self._fresh(camel(td.name), taken)
        for td in doc.types:
            self._hoist_members(td.type, td.name, taken)
        for module in doc.modules:
            for func in module.functions:
                self._hoist_function(func, taken)

    # ---- naming --------------------------------------------------------------

    @staticmethod
    def _fresh(base: str, taken: set[str]) -> str:
        # `Self` is the one keyword camel() can produce; a trailing `_` would trip the
        # non_camel_case_types lint, so add a word instead.
        name = f"{base}Type" if base in RUST_KEYWORDS else base
        candidate, i = name, 1
        while candidate in taken:
            i += 1
            candidate = f"{name}{i}"
        taken.add(candidate)
        return candidate

    def _hoist(self, ty: ir.Type, origin: str, taken: set[str]) -> None:
        if isinstance(ty, COMPOUND):
            if ty in self._anon:  # an identical inline type elsewhere already has a name
                return
            name = self._fresh(camel(origin), taken)
            self._anon[ty] = name
            self._anon_items.append((name, origin, ty))
        self._hoist_members(ty, origin, taken)

    def _hoist_members(self, ty: ir.Type, origin: str, taken: set[str]) -> None:
        """Name the inline compound types nested inside `ty` (not `ty` itself)."""
        for label, member in _labelled_children(ty):
            self._hoist(member, f"{origin}_{label}", taken)

    def _hoist_function(self, func: ir.Function, taken: set[str]) -> None:
        for p in func.params:
            self._hoist(p.type, f"{func.name}_{p.name}", taken)
        for r in func.results:
            ty = r.type
            if not isinstance(ty, ir.Expected):
                self._hoist(ty, f"{func.name}_result", taken)
                continue
            if isinstance(ty.ok, ir.Tuple):
                # The elements come back through separate out-pointers, as a Rust tuple.
                for i, t in enumerate(ty.ok.types):
                    self._hoist(t, f"{func.name}_ok_{i}", taken)
            elif ty.ok is not None:
                self._hoist(ty.ok, f"{func.name}_ok", taken)
            if ty.error is not None:
                self._hoist(ty.error, f"{func.name}_error", taken)

    def type_name(self, ty: ir.Type) -> str:
        """The nominal Rust name of a named or hoisted type, following aliases."""
        while isinstance(ty, ir.Ref):
            inner = self.doc.typedef(ty.name).type
            if not isinstance(inner, ir.Ref):
                return self._names[ty.name]
            ty = inner
        return self._anon[ty]

    # ---- lifetimes -----------------------------------------------------------

    def needs_lifetime(self, ty: ir.Type) -> bool:
        """Whether the Rust type borrows (holds a list or string somewhere)."""
        if ty not in self._lifetimes:
            self._lifetimes[ty] = any(self.needs_lifetime(t) for t in _children(self.doc, ty)) \
                or isinstance(ty, (ir.List, ir.String))
        return self._lifetimes[ty]

    def rs(self, ty: ir.Type, lifetime: str = "'a") -> str:
        """`ty` spelled with the given lifetime for any borrowing parts."""
        saved, self._lt = self._lt, lifetime
        try:
            return self.spell(ty)
        finally:
            self._lt = saved

    def _generic(self, ty: ir.Type) -> str:
        return f"<{self._lt}>" if self.needs_lifetime(ty) else ""

    # ---- one method per type kind -------------------------------------------

    def type_builtin(self, ty: ir.Builtin) -> str:
        return PRIMITIVES[ty.name]

    def type_string(self, ty: ir.String) -> str:
        return f"abi::Str<{self._lt}>"

    def type_ref(self, ty: ir.Ref) -> str:
        return self._names[ty.name] + self._generic(ty)

    def type_list(self, ty: ir.List) -> str:
        return f"abi::List<{self._lt}, {self.spell(ty.element)}>"

    def type_pointer(self, ty: ir.Pointer) -> str:
        return f"*{'const' if ty.const else 'mut'} {self.spell(ty.element)}"

    def _anon_name(self, ty: ir.Type) -> str:
        if ty not in self._anon:
            raise GenerateError(f"rust: inline {type(ty).__name__.lower()} in an unexpected place")
        return self._anon[ty] + self._generic(ty)

    def type_handle(self, ty: ir.Handle) -> str:
        return self._anon_name(ty)

    def type_enum(self, ty: ir.Enum) -> str:
        return self._anon_name(ty)

    def type_flags(self, ty: ir.Flags) -> str:
        return self._anon_name(ty)

    def type_record(self, ty: ir.Record) -> str:
        return self._anon_name(ty)

    def type_tuple(self, ty: ir.Tuple) -> str:
        if ty in self._anon:
            return self._anon_name(ty)
        return _tuple([self.spell(t) for t in ty.types])

    def type_variant(self, ty: ir.Variant) -> str:
        return self._anon_name(ty)

    def type_expected(self, ty: ir.Expected) -> str:
        ok = self.spell(ty.ok) if ty.ok is not None else "()"
        err = self.spell(ty.error) if ty.error is not None else "()"
        return f"{RESULT}<{ok}, {err}>"

    # ---- type definitions ----------------------------------------------------

    def items(self) -> Iterator[Item]:
        for td in self.doc.types:
            yield self._item(self._names[td.name], td.name, td.type, td.docs, td.constants)
        for name, origin, ty in self._anon_items:
            docs = f"The inline type of `{origin}` in the witx, named after where it appears."
            yield self._item(name, origin, ty, docs, ())

    def _item(  # noqa: C901 - one branch per type kind
        self, name: str, witx: str, ty: ir.Type, docs: str, constants: tuple[ir.Constant, ...]
    ) -> Item:
        lay = self.layouts.of(ty)
        generics = "<'a>" if self.needs_lifetime(ty) else ""
        base = Item("_alias", name, witx, generics, docs, ty, lay.size, lay.align)
        if isinstance(ty, ir.Enum):
            members = [Member(upper(c.name), c.name, "", i, c.docs)
                       for i, c in enumerate(ty.cases)]
            return replace(base, partial="_enum", repr=PRIMITIVES[ty.repr],
                           members=_unique(members, witx), full=_full(ty.repr, members))
        if isinstance(ty, ir.Variant) and all(c.type is None for c in ty.cases):
            members = [Member(upper(c.name), c.name, "", c.value, c.docs) for c in ty.cases]
            return replace(base, partial="_enum", repr=PRIMITIVES[ty.tag_repr],
                           members=_unique(members, witx), full=_full(ty.tag_repr, members))
        if isinstance(ty, ir.Flags):
            members = [Member(upper(c.name), c.name, "", i, c.docs)
                       for i, c in enumerate(ty.flags)]
            return replace(base, partial="_flags", repr=PRIMITIVES[ty.repr],
                           members=_unique(members, witx))
        if isinstance(ty, ir.Record):
            offsets = self.layouts.struct([f.type for f in ty.fields]).offsets
            members = [Member(rust_name(f.name), f.name, self.rs(f.type), off, f.docs)
                       for f, off in zip(ty.fields, offsets, strict=True)]
            return replace(base, partial="_record", members=_unique(members, witx))
        if isinstance(ty, ir.Tuple):
            offsets = self.layouts.struct(list(ty.types)).offsets
            members = [Member(str(i), str(i), self.rs(t), off, "")
                       for i, (t, off) in enumerate(zip(ty.types, offsets, strict=True))]
            return replace(base, partial="_tuple", members=tuple(members))
        if isinstance(ty, ir.Variant):
            return self._variant_item(ty, base)
        if isinstance(ty, ir.Handle):
            return replace(base, partial="_handle")
        # Builtins, strings, lists, pointers, references and `expected`: a type alias.
        consts = [Member(f"{upper(witx)}_{upper(c.name)}", c.name, name, c.value, c.docs)
                  for c in constants]
        # Rust's Result has no fixed layout; an `expected` only ever crosses as out-pointers.
        return replace(base, target=self.rs(ty), constants=_unique(consts, witx),
                       assert_layout=not isinstance(self.resolve(ty), ir.Expected))

    def _variant_item(self, ty: ir.Variant, base: Item) -> Item:
        if ty.tag is not None:
            tag_type = self.rs(ir.Ref(ty.tag))
            tag_new = self.type_name(ir.Ref(ty.tag)) + "({})"
        else:
            tag_type, tag_new = PRIMITIVES[ty.tag_repr], "{}"
        members = [Member(rust_name(c.name), c.name, self.rs(c.type) if c.type else "", c.value,
                          c.docs, rust_name(c.name) if c.type else "", tag_new.format(c.value))
                   for c in ty.cases]
        if base.name not in self._unions:
            self._unions[base.name] = self._fresh(f"{base.name}Payload", self._taken)
        return replace(base, partial="_variant", members=_unique(members, base.witx),
                       union=self._unions[base.name], tag_type=tag_type,
                       tag_value="self.tag.0" if ty.tag else "self.tag",
                       full=_full(ty.tag_repr, members))

    # ---- functions -----------------------------------------------------------

    def function(self, func: ir.Function) -> Function:
        abi = self.abi(func)
        params = tuple(Param(rust_name(p.name), self._param_type(p.type), p.docs)
                       for p in func.params)
        _unique([Member(p.name, p.name, "", 0, "") for p in params], func.name)
        outs = tuple((f"__out{i}", self.rs(t, STATIC)) for i, t in enumerate(abi.outs))
        args = tuple(self._arg(func, cp) for cp in abi.params)
        unsafe = any(self._has_pointer(p.type) for p in func.params)
        shape, returns, ok, err, value, result_docs = "unit", "", "", "", "", ""
        if func.noreturn:
            shape, returns = "noreturn", " -> !"
        elif func.results:
            result_docs = func.results[0].docs
            resolved = self.resolve(func.results[0].type)
            if isinstance(resolved, ir.Expected):
                shape = "expected"
                ok_type, ok = self._ok(resolved, outs)
                assert abi.error is not None  # validate guarantees an error type
                err_type = self.rs(abi.error, STATIC)
                err = self._lift("__ret", abi.error)
                returns = f" -> {RESULT}<{ok_type}, {err_type}>"
            else:
                shape = "scalar"
                returns = f" -> {self.rs(func.results[0].type, STATIC)}"
                value = self._lift("__ret", func.results[0].type)
        raw_params = _dedupe([(rust_name(cp.name), cp.type) for cp in abi.params])
        raw_result = " -> !" if func.noreturn else (f" -> {abi.results[0]}" if abi.results
                                                    else "")
        return Function(func.name, rust_name(func.name), func.docs, raw_params, raw_result,
                        params, unsafe, returns, shape, outs, args, ok, err, value, result_docs,
                        self._slice_variant(func, params, result_docs))

    def _slice_variant(self, func: ir.Function, params: tuple[Param, ...],
                       result_docs: str) -> SliceVariant | None:
        """The safe variant taking `&mut [u8]` for each buffer pair, if that leaves no raw
        pointer; its name is settled in `generate` (`_into`, unless taken)."""
        pairs = dict(buffer_pairs(self.doc, func))
        if not pairs:
            return None
        sizes = set(pairs.values())
        rest = [p for i, p in enumerate(func.params) if i not in pairs and i not in sizes]
        if any(self._has_pointer(p.type) for p in rest):
            return None
        new_params: list[Param] = []
        args: list[str] = []
        buffers: list[tuple[str, str]] = []
        for i, p in enumerate(params):
            if i in sizes:
                continue
            if i not in pairs:
                new_params.append(p)
                args.append(p.name)
                continue
            size = params[pairs[i]]
            new_params.append(Param(p.name, "&mut [u8]", p.docs))
            args.append(f"{p.name}.as_mut_ptr()")
            args.append(_saturated_len(f"{p.name}.len()",
                                       self.resolve(func.params[pairs[i]].type)))
            buffers.append((p.name, size.name))
        what = ", ".join(f"`{b}.len()` is passed as `{n}`" for b, n in buffers)
        docs = (f"Safe variant of [`{rust_name(func.name)}`]: each output buffer is a "
                f"`&mut [u8]`, so the host\nwrites only into the slice ({what}).")
        if func.docs.strip():
            docs = func.docs.strip() + "\n\n" + docs
        return SliceVariant(f"{func.name}_into", docs, tuple(new_params), tuple(args),
                            tuple(buffers), result_docs)

    def _ok(self, expected: ir.Expected, outs: tuple[tuple[str, str], ...]) -> tuple[str, str]:
        """The Ok type and value: the single out, or a tuple when `ok` is a tuple."""
        values = [f"{local}.assume_init()" for local, _ in outs]
        types = [t for _, t in outs]
        if expected.ok is None:
            return "()", "()"
        if not isinstance(self.resolve(expected.ok), ir.Tuple):
            return types[0], values[0]
        return _tuple(types), _tuple(values)

    def _param_type(self, ty: ir.Type) -> str:
        resolved = self.resolve(ty)
        if isinstance(resolved, ir.String):
            return "&str"
        if isinstance(resolved, ir.List):
            return f"&[{self.rs(resolved.element, ELIDED)}]"
        if self._by_address(resolved):
            return f"&{self.rs(ty, ELIDED)}"
        return self.rs(ty, ELIDED)

    def _by_address(self, resolved: ir.Type) -> bool:
        if isinstance(resolved, ir.Variant):
            return any(c.type is not None for c in resolved.cases)
        return isinstance(resolved, (ir.Record, ir.Tuple, ir.Expected))

    def _arg(self, func: ir.Function, cp: CoreParam) -> str:
        if cp.role == "out":
            return f"__out{cp.index}.as_mut_ptr() as i32"
        name = rust_name(cp.source)
        if cp.role == "ptr":
            return f"{name}.as_ptr() as i32"
        if cp.role == "len":
            return f"{name}.len() as i32"
        param = next(p for p in func.params if p.name == cp.source)
        if cp.role == "addr":
            return f"{name} as *const {self.rs(param.type, ELIDED)} as i32"
        return self._lower(name, param.type, cp.type)

    def _lower(self, expr: str, ty: ir.Type, core: str) -> str:
        """A wrapper value as the core wasm integer or float the import takes."""
        resolved = self.resolve(ty)
        if isinstance(resolved, (ir.Enum, ir.Flags, ir.Variant, ir.Handle)):
            return f"{expr}.0 as {core}"
        if isinstance(resolved, ir.Builtin):
            if resolved.name == "char":
                return f"{expr} as u32 as {core}"
            if PRIMITIVES[resolved.name] == core:
                return expr
        return f"{expr} as {core}"

    def _lift(self, expr: str, ty: ir.Type) -> str:
        """A core result value as the witx type it stands for."""
        resolved = self.resolve(ty)
        if isinstance(resolved, (ir.Enum, ir.Flags, ir.Variant)):
            repr_ = resolved.tag_repr if isinstance(resolved, ir.Variant) else resolved.repr
            return f"{self.type_name(ty)}({expr} as {PRIMITIVES[repr_]})"
        if isinstance(resolved, ir.Handle):
            return f"{self.type_name(ty)}({expr} as u32)"
        if isinstance(resolved, ir.Pointer):
            return f"{expr} as usize as {self.rs(ty, STATIC)}"
        assert isinstance(resolved, ir.Builtin)
        name = resolved.name
        if name == "bool":
            return f"{expr} != 0"
        if name == "char":
            return (f"::core::char::from_u32({expr} as u32)"
                    ".unwrap_or(::core::char::REPLACEMENT_CHARACTER)")
        if name in ("f32", "f64", "s64"):
            return expr
        return f"{expr} as {PRIMITIVES[name]}"

    def _has_pointer(self, ty: ir.Type) -> bool:
        """Whether the host may dereference a raw pointer found in `ty` (so: unsafe)."""
        ty = self.resolve(ty)
        return isinstance(ty, ir.Pointer) or any(
            self._has_pointer(t) for t in _children(self.doc, ty))

    # ---- output ----------------------------------------------------------------

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {**super().filters(), "rs_docs": rs_docs, "rs_str": rs_str,
                "rs_comment": rs_comment, "rs_oneline": oneline, "rs_wrap": rs_wrap}

    def generate(self) -> dict[str, str]:
        items = list(self.items())
        modules = self.doc.modules or (None,)
        files: dict[str, str] = {}
        for module in modules:
            functions = [self.function(f) for f in module.functions] if module else []
            _unique([Member(f.name, f.witx, "", 0, "") for f in functions],
                    module.name if module else "document")
            functions = _name_variants(functions)
            stem = module.name if module else Path(self.doc.path).stem
            files[f"{snake(stem)}.rs"] = self.render(
                "module.rs.jinja", module=module, items=items, functions=functions)
        return files


def _labelled_children(ty: ir.Type) -> list[tuple[str, ir.Type]]:
    """The types written inside `ty` (not through references), with a name for each."""
    if isinstance(ty, (ir.List, ir.Pointer)):
        return [("element", ty.element)]
    if isinstance(ty, ir.Record):
        return [(f.name, f.type) for f in ty.fields]
    if isinstance(ty, ir.Tuple):
        return [(str(i), t) for i, t in enumerate(ty.types)]
    if isinstance(ty, ir.Variant):
        return [(c.name, c.type) for c in ty.cases if c.type is not None]
    if isinstance(ty, ir.Expected):
        return [(label, t) for label, t in (("ok", ty.ok), ("error", ty.error)) if t is not None]
    return []


def _children(doc: ir.Document, ty: ir.Type) -> list[ir.Type]:
    if isinstance(ty, ir.Ref):
        return [doc.typedef(ty.name).type]
    return [t for _, t in _labelled_children(ty)]


def _full(repr_: str, members: list[Member]) -> bool:
    return len({m.value for m in members}) == 1 << (8 * BUILTIN_SIZES[repr_])


def _tuple(parts: list[str]) -> str:
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def _unique(members: list[Member], owner: str) -> tuple[Member, ...]:
    """Two witx names that spell the same Rust identifier cannot both be emitted."""
    seen: dict[str, str] = {}
    for m in members:
        if m.name in seen:
            raise GenerateError(f"rust: `{seen[m.name]}` and `{m.witx}` in `{owner}` both "
                                f"become the Rust name `{m.name}`")
        seen[m.name] = m.witx
    return tuple(members)


def _dedupe(params: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    seen: set[str] = set()
    out = []
    for name, core in params:
        candidate, i = name, 1
        while candidate in seen:
            i += 1
            candidate = f"{name}{i}"
        seen.add(candidate)
        out.append((candidate, core))
    return tuple(out)


def buffer_pairs(doc: ir.Document, func: ir.Function) -> list[tuple[int, int]]:
    """(pointer param, size param) indices of each output byte buffer of `func`: a mutable
    pointer to u8/char8 right before an integer param named `*_len`, `*_size`,
    `*_max_size` or `*max_len` (aliases followed). See the module docs."""
    pairs: list[tuple[int, int]] = []
    i = 0
    while i + 1 < len(func.params):
        ptr, size = doc.resolve(func.params[i].type), doc.resolve(func.params[i + 1].type)
        element = doc.resolve(ptr.element) if isinstance(ptr, ir.Pointer) else None
        if (isinstance(ptr, ir.Pointer) and not ptr.const
                and isinstance(element, ir.Builtin) and element.name in BUFFER_ELEMENTS
                and isinstance(size, ir.Builtin) and size.name in LENGTH_TYPES
                and func.params[i + 1].name.endswith(LENGTH_SUFFIXES)):
            pairs.append((i, i + 1))
            i += 2
        else:
            i += 1
    return pairs


def _saturated_len(expr: str, ty: ir.Type) -> str:
    """A `usize` length as the integer type `ty` (a Builtin), never wrapping: a length the
    type cannot hold becomes its maximum, still no more than the buffer has."""
    assert isinstance(ty, ir.Builtin)
    prim = PRIMITIVES[ty.name]
    if prim == "usize":
        return expr
    if prim in ("u64", "i64"):  # wasm32: usize is 32 bits, so this is lossless
        return f"{expr} as {prim}"
    return f"{expr}.min({prim}::MAX as usize) as {prim}"


def _name_variants(functions: list[Function]) -> list[Function]:
    """Give each safe variant its Rust name: `<wrapper>_into`, numbered if that is taken."""
    taken = {f.name for f in functions}
    out = []
    for f in functions:
        if f.into is not None:
            base = rust_name(f.into.name)
            name, i = base, 1
            while name in taken:
                i += 1
                name = f"{base}{i}"
            taken.add(name)
            f = replace(f, into=replace(f.into, name=name))
        out.append(f)
    return out


def _doc_text(docs: str, params: tuple[Param, ...], result_docs: str, unsafe: bool) -> str:
    """A wrapper's docs: the function's, then its params, result and safety rules."""
    sections = [docs.strip()] if docs.strip() else []
    if any(p.docs.strip() for p in params):
        sections.append("# Parameters\n" + "\n".join(
            f"* `{p.name}`" + (": " + p.docs.strip().replace("\n", "\n  ") if p.docs else "")
            for p in params))
    if result_docs.strip():
        sections.append("# Returns\n" + result_docs.strip())
    if unsafe:
        sections.append("# Safety\nThe host follows the raw pointers passed in: each must "
                        "be valid for\nwhat the call reads or writes through it.")
    return "\n\n".join(sections)


def rs_docs(text: str, indent: int = 0) -> str:
    """witx doc text as `///` lines (empty when there are no docs)."""
    pad = " " * indent
    return "".join(f"{pad}///{' ' if line.strip() else ''}{line.rstrip()}\n"
                   for line in text.splitlines()) if text.strip() else ""


def rs_wrap(items: list[str], head: str, tail: str, indent: int = 0) -> str:
    """`head` + comma-separated `items` + `tail`, one item a line when the line would pass
    100 columns at `indent` (as rustfmt does). Continuation lines are indented relative to
    `head`; the caller indents the whole result."""
    line = head + ", ".join(items) + tail
    if indent + len(line) <= 100 or not items:
        return line
    return head + "\n" + "".join(f"    {i},\n" for i in items) + tail


def rs_comment(text: str) -> str:
    return "".join(f"//{' ' if line.strip() else ''}{line.rstrip()}\n"
                   for line in text.splitlines()) if text.strip() else ""


def oneline(text: str) -> str:
    return " ".join(text.split())


def rs_str(text: str) -> str:
    """A Rust string literal."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    return '"' + "".join(out) + '"'
