"""C guest target: one self-contained header per spec for clang's wasm32-wasi target.

The header holds every type of the document (the loader inlines `use`d files, so the
types are shared by all of the document's modules), `#define` constants, `_Static_assert`s
on every size, alignment and field offset that layout.py computed, one raw import per
function with its exact core signature (abi.py) and a typed `static inline` wrapper.

Names: one lower-case prefix per document, derived from the module name with the WASI
phase word dropped (`wasi_ephemeral_nn` → `wasi_nn`, `wasi_snapshot_preview1` →
`wasi_preview1`). Types are `<prefix>_<name>_t`, constants `<PREFIX>_<TYPE>_<CASE>`,
wrappers `<prefix>_<func>`, raw imports `<prefix>_raw_<func>`. No name starts with an
underscore, so the header never meets wasi-libc's reserved `__wasi_*`/`__WASI_*` names
and can be included next to <wasi/api.h>.

Every enum (and payload-less variant with its own tag constants) also gets
`const char *<prefix>_<name>_name(<prefix>_<name>_t value)`: the witx name of a case, or
"unknown" for a value the witx does not list (so it can go straight to printf `%s`). When
that name is already taken by another declaration, `_` is appended until it is free.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import ir
from ..abi import CoreParam
from ..layout import VariantLayout
from ..naming import C_KEYWORDS, escape, words
from .base import GenerateError, Target

# Beyond the keywords: names the header itself relies on (a param called `int32_t` would
# shadow the cast in a wrapper body) and lower-case macros of the headers it includes.
C_RESERVED = C_KEYWORDS | frozenset("""
    int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t intptr_t uintptr_t
    size_t ptrdiff_t wchar_t max_align_t offsetof NULL
""".split())

# WASI phase words dropped from a module name to make the prefix.
PHASE_WORDS = frozenset({"ephemeral", "snapshot", "unstable"})

C_SCALARS = {
    "u8": "uint8_t", "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t",
    "s8": "int8_t", "s16": "int16_t", "s32": "int32_t", "s64": "int64_t",
    "f32": "float", "f64": "double", "char": "uint32_t", "char8": "char",
    "usize": "size_t", "bool": "bool",
}
CORE_C = {"i32": "int32_t", "i64": "int64_t", "f32": "float", "f64": "double"}
INT_BITS = {"u8": 8, "u16": 16, "u32": 32, "u64": 64, "s8": 8, "s16": 16, "s32": 32, "s64": 64}

# Type kinds that need a C definition of their own when they appear without a typename.
NEEDS_DECL = (ir.List, ir.String, ir.Tuple, ir.Expected, ir.Record, ir.Variant, ir.Enum,
              ir.Flags)


def c_part(name: str) -> str:
    """snake_case made of C identifier characters, even for export names like `a b`."""
    return re.sub(r"[^0-9a-z_]", "_", "_".join(w.lower() for w in words(name))) or "_"


def c_snake(name: str) -> str:
    """`c_part` that can also start an identifier (`2big` → `_2big`)."""
    out = c_part(name)
    return f"_{out}" if out[0].isdigit() else out


def c_ident(name: str) -> str:
    return escape(c_snake(name), C_RESERVED)


def module_prefix(name: str) -> str:
    """`wasi_ephemeral_nn` → `wasi_nn`; a name without a phase word stays as it is."""
    parts = [w.lower() for w in words(name)]
    if len(parts) > 2 and parts[0] == "wasi" and parts[1] in PHASE_WORDS:
        parts = parts[:1] + parts[2:]
    return c_snake("_".join(parts)) if parts else "witx"


def declarator(ctype: str, name: str) -> str:
    """`uint8_t *` + `buf` → `uint8_t *buf`; `size_t` + `n` → `size_t n`."""
    return f"{ctype}{name}" if ctype.endswith("*") else f"{ctype} {name}"


def pointer_to(ctype: str, const: bool) -> str:
    if not const:
        return f"{ctype} *" if not ctype.endswith("*") else f"{ctype}*"
    # `const` binds to what is on its left once the element is itself a pointer.
    return f"{ctype}const *" if ctype.endswith("*") else f"const {ctype} *"


def doc_comment(text: str, indent: str = "") -> str:
    """`/** … */` block for `text` (empty for no docs); comment delimiters are defused."""
    text = text.strip()
    if not text:
        return ""
    safe = text.replace("*/", "*\\/").replace("/*", "/\\*")
    lines = [f"{indent} * {line}".rstrip() for line in safe.splitlines()]
    return "\n".join([f"{indent}/**", *lines, f"{indent} */"]) + "\n"


def c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def int_literal(repr_: str, value: int) -> str:
    """An integer constant of the C type for `repr_`, exact for every value it can hold."""
    bits = INT_BITS[repr_]
    if repr_.startswith("u"):
        return f"UINT{bits}_C({value})"
    if value == -(1 << (bits - 1)):
        return f"INT{bits}_MIN"  # `-N` would overflow: N itself does not fit
    return f"INT{bits}_C({value})"


@dataclass(frozen=True)
class Member:
    """A struct field or a union arm."""

    name: str
    decl: str  # full C declarator, e.g. `const uint32_t *ptr`
    docs: str = ""
    offset: int = 0


@dataclass(frozen=True)
class Constant:
    name: str
    value: str  # C expression
    docs: str = ""


@dataclass(frozen=True)
class Decl:
    """One C type definition; `kind` picks the partial (`_<kind>.jinja`)."""

    kind: str
    name: str
    title: str  # what the type is in witx terms, for the doc comment
    docs: str
    size: int
    align: int
    base: str = ""  # the C type a scalar typedef names
    members: tuple[Member, ...] = ()
    tag: str = ""  # C type of a variant's tag
    payload_offset: int = 0
    constants: tuple[Constant, ...] = ()
    name_fn: str = ""  # enum: the function giving a value's witx case name
    case_names: tuple[str, ...] = ()  # enum: the witx name of each constant, in order


@dataclass(frozen=True)
class Function:
    module: str
    import_name: str
    name: str  # the typed wrapper
    raw_name: str  # the import
    docs: str
    core: str  # core signature as text, e.g. `(i32, i32) -> i32`
    raw_result: str
    raw_params: tuple[str, ...]
    result: str
    params: tuple[str, ...]
    body: str  # the wrapper's one statement: the raw call, cast and returned
    noreturn: bool
    returns_error: bool


@dataclass(frozen=True)
class WrapperParam:
    decl: str  # C declarator in the wrapper's parameter list
    arg: str  # the expression passed to the raw import
    doc: str  # `@param` line, or ""


class CTarget(Target):
    name = "c"
    description = "C guest header"
    comment = "//"

    def __init__(self, doc: ir.Document, options: Any) -> None:
        stem = c_snake(Path(doc.path).stem or "witx")
        self.header = (doc.modules[0].name if len(doc.modules) == 1 else stem) + ".h"
        self.prefix = module_prefix(doc.modules[0].name) if len(doc.modules) == 1 else stem
        self.anonymous: dict[ir.Type, str] = {}
        super().__init__(doc, options)

    # ---- output --------------------------------------------------------------

    def generate(self) -> dict[str, str]:
        decls = self.declarations()
        modules = [(m, [self.function(m, f) for f in m.functions]) for m in self.doc.modules]
        decls = self.settle_name_functions(decls, [f for _, fs in modules for f in fs])
        self.check_unique(decls, [f for _, fs in modules for f in fs])
        guard = f"WITXGEN_{c_snake(self.header.removesuffix('.h')).upper()}_H"
        text = self.render("header.h.jinja", decls=decls, modules=modules, guard=guard,
                           header=self.header)
        # Partials end in blank lines of their own; keep one between definitions.
        return {self.header: re.sub(r"\n{3,}", "\n\n", text)}

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {**super().filters(), "doc_comment": doc_comment, "c_string": c_string,
                "declare": declarator}

    # ---- one method per type kind: the C spelling where the type is used -----

    def type_builtin(self, ty: ir.Builtin) -> str:
        return C_SCALARS[ty.name]

    def type_string(self, ty: ir.String) -> str:
        return self.anonymous_name(ty)

    def type_ref(self, ty: ir.Ref) -> str:
        return self.type_name(ty.name)

    def type_list(self, ty: ir.List) -> str:
        return self.anonymous_name(ty)

    def type_pointer(self, ty: ir.Pointer) -> str:
        return pointer_to(self.spell(ty.element), ty.const)

    def type_handle(self, ty: ir.Handle) -> str:
        return "uint32_t"

    def type_enum(self, ty: ir.Enum) -> str:
        return self.anonymous_name(ty)

    def type_flags(self, ty: ir.Flags) -> str:
        return self.anonymous_name(ty)

    def type_record(self, ty: ir.Record) -> str:
        return self.anonymous_name(ty)

    def type_tuple(self, ty: ir.Tuple) -> str:
        return self.anonymous_name(ty)

    def type_variant(self, ty: ir.Variant) -> str:
        return self.anonymous_name(ty)

    def type_expected(self, ty: ir.Expected) -> str:
        return self.anonymous_name(ty)

    # ---- names ---------------------------------------------------------------

    def type_name(self, witx_name: str) -> str:
        return f"{self.prefix}_{c_part(witx_name)}_t"

    def const_name(self, *parts: str) -> str:
        return "_".join(c_part(p).upper() for p in (self.prefix, *parts))

    def mangle(self, ty: ir.Type) -> str:
        """A structural name for a type without a typename (`list_list_u8`)."""
        if isinstance(ty, ir.Builtin):
            return ty.name
        if isinstance(ty, ir.Ref):
            return c_part(ty.name)
        if isinstance(ty, ir.Handle | ir.String):
            return type(ty).__name__.lower()
        if isinstance(ty, ir.Pointer):
            return ("cptr_" if ty.const else "ptr_") + self.mangle(ty.element)
        if isinstance(ty, ir.List):
            return "list_" + self.mangle(ty.element)
        if isinstance(ty, ir.Tuple):  # the arity keeps nested tuples unambiguous
            return "_".join([f"tuple{len(ty.types)}", *(self.mangle(t) for t in ty.types)])
        if isinstance(ty, ir.Expected):
            parts = [self.mangle(t) if t is not None else "void" for t in (ty.ok, ty.error)]
            return "_".join(["expected", *parts])
        # An inline record/variant/enum/flags: no short structural name, so a digest.
        digest = hashlib.sha256(repr(ty).encode()).hexdigest()[:8]
        return f"{type(ty).__name__.lower()}_{digest}"

    def anonymous_name(self, ty: ir.Type) -> str:
        name = self.anonymous.get(ty)
        if name is None:
            # A typename may already spell the same (`(typename $list_u8 (list u8))`).
            taken = {self.type_name(td.name) for td in self.doc.types}
            taken |= set(self.anonymous.values())
            stem, n = f"{self.prefix}_{self.mangle(ty)}", 1
            name = f"{stem}_t"
            while name in taken:
                n += 1
                name = f"{stem}_{n}_t"
            self.anonymous[ty] = name
        return name

    # ---- type definitions ----------------------------------------------------

    def declarations(self) -> list[Decl]:
        """Every definition, each after the ones it mentions (the IR is acyclic)."""
        out: list[Decl] = []
        done: set[object] = set()

        def visit(key: object, name: str, ty: ir.Type, td: ir.TypeDef | None) -> None:
            if key in done:
                return
            done.add(key)
            for dep in self.dependencies(ty, top=True):
                if isinstance(dep, ir.Ref):
                    visit(dep.name, self.type_name(dep.name), self.doc.typedef(dep.name).type,
                          self.doc.typedef(dep.name))
                else:
                    visit(dep, self.anonymous_name(dep), dep, None)
            out.append(self.declaration(name, ty, td))

        for td in self.doc.types:
            visit(td.name, self.type_name(td.name), td.type, td)
        for module in self.doc.modules:
            for func in module.functions:
                for ty in self.signature_types(func):
                    for dep in self.dependencies(ty, top=False):
                        if not isinstance(dep, ir.Ref):
                            visit(dep, self.anonymous_name(dep), dep, None)
        return out

    def signature_types(self, func: ir.Function) -> Iterator[ir.Type]:
        """The types a wrapper spells: params (a list's element), outs, error, result."""
        for p in func.params:
            ty = self.resolve(p.type)
            if isinstance(ty, ir.List):
                yield ty.element  # passed as (const element *, size_t)
            elif not isinstance(ty, ir.String):  # a string is (const char *, size_t)
                yield p.type
        abi = self.abi(func)
        yield from abi.outs
        if abi.error is not None:
            yield abi.error
        elif func.results:
            yield func.results[0].type

    def dependencies(self, ty: ir.Type, top: bool) -> Iterator[ir.Type]:
        """Named and anonymous types that `ty`'s C spelling (or definition, if `top`) uses."""
        if isinstance(ty, ir.Ref):
            yield ty
            return
        if not top and isinstance(ty, NEEDS_DECL):
            yield ty
            return
        children: list[ir.Type] = []
        if isinstance(ty, ir.List | ir.Pointer):
            children = [ty.element]
        elif isinstance(ty, ir.Record):
            children = [f.type for f in ty.fields]
        elif isinstance(ty, ir.Tuple):
            children = list(ty.types)
        elif isinstance(ty, ir.Variant):
            children = [c.type for c in ty.cases if c.type is not None]
            if ty.tag is not None:
                children.append(ir.Ref(ty.tag))
        elif isinstance(ty, ir.Expected):
            children = [t for t in (ty.ok, ty.error) if t is not None]
        for child in children:
            yield from self.dependencies(child, top=False)

    def declaration(self, name: str, ty: ir.Type, td: ir.TypeDef | None) -> Decl:
        lay = self.layouts.of(ty)
        docs = td.docs if td is not None else ""
        title = f"witx `{td.name}`" if td is not None else f"witx `{self.mangle(ty)}`"
        common: dict[str, Any] = {"name": name, "docs": docs, "size": lay.size,
                                  "align": lay.align}
        constants = self.typedef_constants(td) if td is not None else ()
        if isinstance(ty, ir.Enum):
            cases = tuple(Constant(self.const_name(self.decl_stem(name), c.name),
                                   f"({int_literal(ty.repr, i)})", c.docs)
                          for i, c in enumerate(ty.cases))
            return Decl("enum", base=C_SCALARS[ty.repr], constants=cases,
                        title=f"{title}: enum ({ty.repr})", name_fn=self.name_fn(name),
                        case_names=tuple(c.name for c in ty.cases), **common)
        if isinstance(ty, ir.Flags):
            bits = INT_BITS[ty.repr]
            flags = tuple(Constant(self.const_name(self.decl_stem(name), f.name),
                                   f"(({name})(UINT{bits}_C(1) << {i}))", f.docs)
                          for i, f in enumerate(ty.flags))
            return Decl("flags", base=C_SCALARS[ty.repr], constants=flags,
                        title=f"{title}: flags ({ty.repr})", **common)
        if isinstance(ty, ir.Record | ir.Tuple | ir.List | ir.String):
            kind = {ir.Record: "record", ir.Tuple: "tuple"}.get(type(ty), "list")
            return Decl(kind, members=self.struct_members(ty), constants=constants,
                        title=f"{title}: {kind}", **common)
        if isinstance(ty, ir.Variant | ir.Expected):
            return self.variant_declaration(ty, title, common)
        base = self.spell(ty)
        return Decl("alias", base=base, constants=constants, title=title, **common)

    def name_fn(self, c_type_name: str) -> str:
        """`wasi_nn_nn_errno_t` → `wasi_nn_nn_errno_name` (made unique in `generate`)."""
        return c_type_name.removesuffix("_t") + "_name"

    def decl_stem(self, c_type_name: str) -> str:
        """`wasi_nn_tensor_type_t` → `tensor_type`: the part constants are named after."""
        return c_type_name.removeprefix(self.prefix + "_").removesuffix("_t")

    def typedef_constants(self, td: ir.TypeDef) -> tuple[Constant, ...]:
        if not td.constants:
            return ()
        base = self.resolve(td.type)
        if not isinstance(base, ir.Builtin) or base.name not in INT_BITS:
            raise GenerateError(f"constants of `{td.name}` need an integer type")
        return tuple(Constant(self.const_name(td.name, c.name),
                              f"({int_literal(base.name, c.value)})", c.docs)
                     for c in td.constants)

    def struct_members(self, ty: ir.Record | ir.Tuple | ir.List | ir.String) -> tuple[Member, ...]:
        if isinstance(ty, ir.Record):
            named = [(c_ident(f.name), f.type, f.docs) for f in ty.fields]
        elif isinstance(ty, ir.Tuple):
            named = [(f"f{i}", t, "") for i, t in enumerate(ty.types)]
        else:  # a list is {pointer to its elements, element count}
            element = ir.Builtin("char8") if isinstance(ty, ir.String) else ty.element
            named = [("ptr", ir.Pointer(element, const=True), ""),
                     ("len", ir.Builtin("usize"), "Number of elements at `ptr`.")]
        # layout.py lays out the C members; for a list that must agree with its layout.
        lay, whole = self.layouts.struct([t for _, t, _ in named]), self.layouts.of(ty)
        if (lay.size, lay.align) != (whole.size, whole.align):
            raise GenerateError(f"C struct for {self.mangle(ty)} does not match its layout")
        return tuple(Member(n, declarator(self.spell(t), n), d, off)
                     for (n, t, d), off in zip(named, lay.offsets, strict=True))

    def variant_declaration(self, ty: ir.Variant | ir.Expected, title: str,
                            common: dict[str, Any]) -> Decl:
        lay = self.layouts.of(ty)
        assert isinstance(lay, VariantLayout)
        if isinstance(ty, ir.Variant):
            arms = [(c_ident(c.name), c.type, c.docs) for c in ty.cases]
            tag = self.type_name(ty.tag) if ty.tag is not None else C_SCALARS[ty.tag_repr]
            kind_title = f"{ty.kind} (tag {ty.tag_repr})"
            stem = self.decl_stem(common["name"])
            # A variant without a tag enum gets its own tag constants.
            constants = () if ty.tag is not None else tuple(
                Constant(self.const_name(stem, c.name), f"({int_literal(ty.tag_repr, c.value)})",
                         c.docs)
                for c in ty.cases)
        else:
            arms = [("ok", ty.ok, "Tag 0."), ("err", ty.error, "Tag 1.")]
            tag, kind_title, constants = "uint8_t", "expected (tag u8: 0 ok, 1 err)", ()
        members = tuple(Member(n, declarator(self.spell(t), n), d)
                        for n, t, d in arms if t is not None)
        if not members:  # nothing but a tag: passed by value, so a plain integer
            names: dict[str, Any] = {}
            if constants:  # its own tag constants (a tag enum has its own name function)
                assert isinstance(ty, ir.Variant)
                names = {"name_fn": self.name_fn(common["name"]),
                         "case_names": tuple(c.name for c in ty.cases)}
            return Decl("enum", base=tag, constants=constants,
                        title=f"{title}: {kind_title}", **names, **common)
        return Decl("variant", members=members, tag=tag, payload_offset=lay.payload_offset,
                    constants=constants, title=f"{title}: {kind_title}", **common)

    # ---- functions -----------------------------------------------------------

    def function(self, module: ir.Module, func: ir.Function) -> Function:
        abi = self.abi(func)
        fprefix = self.prefix if len(self.doc.modules) == 1 else module_prefix(module.name)
        by_name = {p.name: p for p in func.params}
        raw_used: set[str] = set()
        raw_params = tuple(f"{CORE_C[c.type]} {unique(c_ident(c.name), raw_used)}"
                           for c in abi.params)
        used: set[str] = set()
        wrapped = [self.wrapper_param(c, by_name.get(c.source), abi.outs, used)
                   for c in abi.params]
        if abi.error is not None:
            result = self.spell(abi.error)
        elif func.results:
            result = self.spell(func.results[0].type)
        else:
            result = "void"
        docs = [func.docs] if func.docs else []
        docs += [w.doc for w in wrapped if w.doc]
        docs += [f"@return {r.docs}" for r in func.results if r.docs]
        raw_name = f"{fprefix}_raw_{c_part(func.name)}"
        call = f"{raw_name}({', '.join(w.arg for w in wrapped)})"
        results = ", ".join(abi.results)
        return Function(
            module=module.name, import_name=func.name,
            name=f"{fprefix}_{c_part(func.name)}", raw_name=raw_name,
            docs="\n".join(docs),
            core=f"({', '.join(abi.param_types)}) -> ({results})",
            raw_result=CORE_C[abi.results[0]] if abi.results else "void",
            raw_params=raw_params, result=result, params=tuple(w.decl for w in wrapped),
            body=f"return ({result}){call}" if result != "void" else call,
            noreturn=func.noreturn, returns_error=abi.error is not None,
        )

    def wrapper_param(self, core: CoreParam, param: ir.Param | None,
                      outs: tuple[ir.Type, ...], used: set[str]) -> WrapperParam:
        """The typed wrapper's counterpart of one core param: (ptr, len) stay two params."""
        to_core = f"({CORE_C[core.type]})"
        if core.role == "out":
            name = unique(c_ident(core.name), used)
            out = outs[core.index]
            what = f"`{self.mangle(out)}`"
            if len(outs) > 1:
                what = f"result {core.index + 1} of {len(outs)}, {what},"
            return WrapperParam(declarator(pointer_to(self.spell(out), False), name),
                                f"{to_core}(intptr_t){name}",
                                f"@param[out] {name} Receives the {what} on success.")
        assert param is not None, "abi.py names the witx param of every non-out core param"
        ty = self.resolve(param.type)
        if core.role == "len":
            name = unique(c_ident(f"{param.name}_len"), used)
            unit = "Bytes" if isinstance(ty, ir.String) else "Elements"
            return WrapperParam(declarator("size_t", name), f"{to_core}{name}",
                                f"@param {name} {unit} at `{c_ident(param.name)}`.")
        name = unique(c_ident(param.name), used)
        doc = f"@param {name} {param.docs}" if param.docs else ""
        if core.role in ("ptr", "addr"):
            if isinstance(ty, ir.String):
                element: ir.Type = ir.Builtin("char8")
            else:
                element = ty.element if isinstance(ty, ir.List) else param.type
            ctype = pointer_to(self.spell(element), const=True)
            return WrapperParam(declarator(ctype, name), f"{to_core}(intptr_t){name}", doc)
        ctype = self.spell(param.type)
        if isinstance(ty, ir.Pointer):
            return WrapperParam(declarator(ctype, name), f"{to_core}(intptr_t){name}", doc)
        if isinstance(ty, ir.Builtin) and ty.name == "char8":  # char is signed; u8 is not
            return WrapperParam(declarator(ctype, name), f"{to_core}(uint8_t){name}", doc)
        return WrapperParam(declarator(ctype, name), f"{to_core}{name}", doc)

    # ---- checks --------------------------------------------------------------

    def settle_name_functions(self, decls: list[Decl], functions: list[Function]) -> list[Decl]:
        """Rename a name function whose name another declaration already has (`_` appended);
        every other name is fixed by the witx, so only these give way."""
        used = {d.name for d in decls} | {c.name for d in decls for c in d.constants}
        used |= {n for f in functions for n in (f.name, f.raw_name)}
        out = []
        for d in decls:
            if d.name_fn:
                d = replace(d, name_fn=unique(d.name_fn, used))
            out.append(d)
        return out

    def check_unique(self, decls: list[Decl], functions: list[Function]) -> None:
        seen: dict[str, str] = {}
        names = [(d.name, d.title) for d in decls]
        names += [(c.name, f"constant of {d.title}") for d in decls for c in d.constants]
        names += [(n, f"function `{f.import_name}`") for f in functions
                  for n in (f.name, f.raw_name)]
        names += [(d.name_fn, f"name function of {d.title}") for d in decls if d.name_fn]
        for name, what in names:
            if name in seen:
                raise GenerateError(f"C name `{name}` is used by both {seen[name]} and {what}")
            seen[name] = what


def unique(name: str, used: set[str]) -> str:
    while name in used:
        name += "_"
    used.add(name)
    return name
