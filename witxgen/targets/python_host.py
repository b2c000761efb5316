"""Python host target: a `witxgen_host` package that implements witx imports on wasmtime-py.

Files: `witxgen_host/__init__.py`, `_guest.py` (bounds-checked guest memory, the same for
every spec), `types.py` (one Python type per witx typename, one exception per error type)
and one module per witx module with an abstract class (one typed method per function), one
glue body per function (`_host_<name>`: lifts the arguments out of guest memory, calls the
method, lowers the results through the out-pointers, maps failures) and
`add_to_linker(linker, get_impl, *, get_memory=None, fast=None)`, which registers each body
either with wasmtime-py's `define_func` or, faster, through wasmtime's C API
(`_guest.Imports`).

This class decides names, Python types, struct formats and lift/lower expressions; the
templates in `templates/python-host/` only lay them out.
"""

from __future__ import annotations

import keyword
import re
import struct
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import ir
from ..abi import CoreParam, core_type
from ..layout import RecordLayout, VariantLayout
from ..naming import camel, py_name, snake, upper
from .base import GenerateError, GenerateOptions, Target

PACKAGE = "witxgen_host"
LINE = 100  # ruff's line length for the generated code

# struct format code of each builtin, little-endian, no alignment ("<").
BUILTIN_FMT = {
    "u8": "B", "s8": "b", "u16": "H", "s16": "h", "u32": "I", "s32": "i", "u64": "Q",
    "s64": "q", "f32": "f", "f64": "d", "char": "I", "char8": "B", "usize": "I", "bool": "?",
}
BUILTIN_PY = {"f32": "float", "f64": "float", "bool": "bool", "char": "str"}  # else int
BUILTIN_CODEC = {name: f"_guest.{name.upper()}" for name in BUILTIN_FMT}
INT_RANGE = {
    "u8": (0, 0xFF), "u16": (0, 0xFFFF), "u32": (0, 0xFFFFFFFF), "u64": (0, (1 << 64) - 1),
    "usize": (0, 0xFFFFFFFF), "char8": (0, 0xFF),
    "s8": (-(1 << 7), (1 << 7) - 1), "s16": (-(1 << 15), (1 << 15) - 1),
    "s32": (-(1 << 31), (1 << 31) - 1), "s64": (-(1 << 63), (1 << 63) - 1),
}
WASM_MASK = {"i32": "0xFFFFFFFF", "i64": "0xFFFFFFFFFFFFFFFF"}
WASM_PY = {"i32": "int", "i64": "int", "f32": "float", "f64": "float"}

# Public names the generated files define besides the spec's own; a typename that would
# spell the same is reported instead of silently shadowing them.
RESERVED_TYPES = {"GuestPtr", "HostCallError", "Ok", "Err"}
RESERVED_METHODS = {"on_error", "last_error"}
GLUE_LOCALS = {"g", "impl", "r", "caller", "exc", "wasmtime", "typing", "abc", "struct",
               "get_impl", "open_guest"}


def _ident(name: str) -> str:
    """A witx name as a Python parameter, field or method name."""
    out = py_name(name)
    return f"{out}_" if out in ("self", "cls") else out


def _cls(name: str) -> str:
    out = camel(name)
    return f"{out}_" if keyword.iskeyword(out) else out


def _member(name: str) -> str:
    return upper(name)


def _struct_name(fmt: str) -> str:
    return "_S_" + fmt.replace("?", "Z")


def _quote(lines: list[str], indent: int) -> str:
    """Lines of docstring text as a triple-quoted string at `indent`, or ""."""
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return ""
    pad = " " * indent
    body = [ln.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') for ln in lines]
    if body[-1].endswith('"'):
        body[-1] += " "
    if len(body) == 1 and len(body[0]) + indent + 6 <= LINE:
        return f'{pad}"""{body[0]}"""'
    inner = "\n".join(f"{pad}{ln}" if ln else "" for ln in body[1:])
    return f'{pad}"""{body[0]}\n{inner}\n{pad}"""'


def _wrap(text: str, indent: int, first: str = "", rest: str = "") -> list[str]:
    """Doc text (paragraphs separated by blank lines) wrapped for a docstring at `indent`."""
    width = LINE - indent - 4
    lines: list[str] = []
    for para in text.strip().split("\n\n"):
        if lines:
            lines.append("")
        lines += textwrap.wrap(" ".join(para.split()), width, initial_indent=first,
                               subsequent_indent=rest or first, break_long_words=False,
                               break_on_hyphens=False)
    return lines


def _docstring(text: str, indent: int = 0) -> str:
    """`text` as a triple-quoted docstring wrapped to the line length, or ""."""
    return _quote(_wrap(text, indent), indent) if text.strip() else ""


def _wrap_call(head: str, args: Iterable[object], tail: str, indent: int) -> str:
    """`head(args)tail` at `indent`: on one line when it fits, else one argument per line
    (each of them wrapped the same way)."""
    texts = [str(a) for a in args]
    pad = " " * indent
    one = f"{pad}{head}({', '.join(texts)}){tail}"
    if len(one) <= LINE:
        return one
    inner = "".join(f"{pad}    {_fit(a, indent + 4, ',')}\n" for a in texts)
    return f"{pad}{head}(\n{inner}{pad}){tail}"


def _split_call(text: str) -> tuple[str, list[str]] | None:
    """`head(a, b)` → (head, [a, b]) when `text` ends with the call's closing parenthesis."""
    if not text.endswith(")"):
        return None
    depth, quote, start, head = 0, "", -1, ""
    parts: list[str] = []
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return None
                head, start = text[:i], i + 1
                parts = []
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                head = ""  # a later call decides
        elif ch == "," and depth == 1:
            parts.append(text[start:i].strip())
            start = i + 1
    if not head or depth:
        return None
    last = text[start:-1].strip()
    return head, [*parts, last] if last else parts


def _fit(text: str, indent: int, tail: str = "") -> str:
    """A line of code (without its indentation) wrapped at its last call to fit the line
    length; continuation lines are indented for `indent`."""
    if indent + len(text) + len(tail) <= LINE:
        return text + tail
    call = _split_call(text)
    if call is None:
        return text + tail
    return _wrap_call(call[0], call[1], tail, indent).lstrip()


def _q(text: str) -> str:
    """A Python string literal (witx names are plain ASCII)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _isort_key(name: str) -> tuple[int, list[tuple[int, str]]]:
    """ruff's isort order: CONSTANTS, then Classes, then the rest; each case-insensitively,
    with numbers in numeric order."""
    rank = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    parts = re.split(r"(\d+)", name.lower())
    return rank, [(int(p), "") if p.isdigit() else (-1, p) for p in parts if p]


class _CannotLower(Exception):
    """A type that holds a list or string: the host cannot write it (no guest allocator)."""


@dataclass
class _LiftFn:
    """One generated `_lift_<key>(g, addr)` (or, for lists, `(g, ptr, count)`) function."""

    name: str
    shape: str  # "struct" | "variant" | "list"
    pytype: str
    struct: str | None = None  # struct read at addr as `r`
    ctor: str | None = None  # None: return args[0] as is; "": a tuple; else a class
    args: list[str] = field(default_factory=list)
    tag_raw: str = ""  # variant: the raw tag, bound to `raw`
    tag: str = ""  # variant: the expression of the tag
    branches: list[tuple[int, str]] = field(default_factory=list)
    fallback: str = ""
    item: str = ""  # list: the expression of one element
    source: str = ""  # list: `for <var> in <source>`
    var: str = "r"


@dataclass
class _LowerFn:
    name: str
    shape: str  # "struct" | "variant" | "expected"
    pytype: str
    stmts: list[str] = field(default_factory=list)  # struct: statements in order
    tag_struct: str = ""
    table: str = ""
    branches: list[tuple[int, list[str]]] = field(default_factory=list)
    ok: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)


@dataclass
class _Glue:
    """Everything the template needs for one function: its method and its host glue."""

    func: ir.Function
    method: str
    method_def: str  # the abstract method's `def` line(s)
    method_doc: str
    glue_def: str  # the `def` line(s) of the host function's body (`_host_<method>`)
    call: str  # `r = impl.method(args)`, laid out
    define: str  # the `host.define(...)` statement in `add_to_linker`
    core: list[tuple[str, str]]  # (python name, wasm type)
    core_results: list[str]
    masks: list[str]  # python names of unsigned pointer/length params
    memory: bool
    outs: list[tuple[str, int]]
    lowers: list[str]
    ending: str  # "errno" | "direct" | "none" | "noreturn"
    direct: str  # the expression returned for ending == "direct"
    failure: str


class _Plan:
    """The private helpers one host module needs, collected while its glue is planned:
    struct layouts, enum/tag tables, lift/lower functions and pointer codecs."""

    def __init__(self, target: PythonHostTarget) -> None:
        self.t = target
        self.structs: dict[str, str] = {}  # fmt -> name
        self.enums: dict[str, str] = {}  # name -> table of members
        self.tags: dict[str, tuple[str, str, list[tuple[int, str]]]] = {}
        self.lifts: dict[str, _LiftFn | None] = {}
        self.lowers: dict[str, _LowerFn | None] = {}
        self.codecs: dict[str, tuple[str, str, int, int, str, str]] = {}
        self.uses: set[str] = set()  # names imported from _guest / typing the code needs

    # ---- registries -----------------------------------------------------------------

    def struct(self, fmt: str) -> str:
        name = _struct_name(fmt)
        self.structs[fmt] = name
        return name

    def enum_table(self, name: str) -> str:
        table = f"_E_{upper(name)}"
        self.enums[table] = _cls(name)
        return table

    def tag_table(self, key: str, ty: ir.Variant, owner: str) -> str:
        table = f"_V_{key.upper()}"
        if table not in self.tags:
            tag_cls = _cls(ty.tag) if ty.tag else f"{owner}Tag"
            cases = [(c.value, f"{tag_cls}.{_member(c.name)}") for c in ty.cases]
            self.tags[table] = (table, tag_cls, cases)
        return table

    # ---- lifting ----------------------------------------------------------------------

    def lift_raw(self, ty: ir.Type, raws: list[str], what: str) -> str:
        """The Python value of `ty` from its raw struct fields (unsigned where unsigned)."""
        t = self.t
        if isinstance(ty, ir.Ref):
            inner = t.doc.typedef(ty.name).type
            if isinstance(inner, ir.Handle):
                return f"{_cls(ty.name)}({raws[0]})"
            if isinstance(inner, ir.Enum):
                return f"_guest.lift_enum({self.enum_table(ty.name)}, {raws[0]}, {_q(what)})"
            if isinstance(inner, ir.Flags):
                mask = (1 << len(inner.flags)) - 1
                return f"_guest.lift_flags({_cls(ty.name)}, {mask:#x}, {raws[0]}, {_q(what)})"
            if isinstance(inner, ir.Variant):
                table = self.tag_table(snake(ty.name), inner, _cls(ty.name))
                return f"{_cls(ty.name)}(_guest.lift_tag({table}, {raws[0]}, {_q(what)}), None)"
            return self.lift_raw(inner, raws, what)
        if isinstance(ty, ir.Builtin):
            if ty.name == "char":
                return f"_guest.lift_char({raws[0]}, {_q(what)})"
            return raws[0]
        if isinstance(ty, ir.String):
            return f"g.string({raws[0]}, {raws[1]}, {_q(what)})"
        if isinstance(ty, ir.List):
            elem = t.resolve(ty.element)
            if isinstance(elem, ir.Builtin) and elem.name in ("u8", "char8"):
                return f"g.byte_view({raws[0]}, {raws[1]}, {_q(what)})"
            if isinstance(elem, ir.Builtin) and elem.name not in ("char", "bool"):
                code = BUILTIN_FMT[elem.name]
                kind = "floats" if elem.name in ("f32", "f64") else "ints"
                return (f'g.{kind}("{code}", {struct.calcsize(code)}, {raws[0]}, {raws[1]}, '
                        f"{_q(what)})")
            return f"{self.need_list(ty.element, what)}(g, {raws[0]}, {raws[1]})"
        if isinstance(ty, ir.Pointer):
            self.uses.add("GuestPtr")
            return f"GuestPtr(g, {raws[0]}, {self.need_codec(ty.element)})"
        if isinstance(ty, ir.Handle):
            return raws[0]
        raise GenerateError(t.anonymous(ty))

    def mem_lift(self, ty: ir.Type, addr: str, what: str) -> str:
        """The Python value of `ty` read at `addr` (already bounds-checked)."""
        res = self.t.resolve(ty)
        if isinstance(res, ir.Builtin):
            return f"{BUILTIN_CODEC[res.name]}.lift(g, {addr})"
        return f"{self.need_lift(ty, what)}(g, {addr})"

    def need_lift(self, ty: ir.Type, what: str) -> str:
        t = self.t
        key = t.key(ty)
        name = f"_lift_{key}"
        if key in self.lifts:
            return name
        self.lifts[key] = None
        res = t.resolve(ty)
        pytype = t.spell(ty)
        own = ty.name if isinstance(ty, ir.Ref) else what
        fmt = t.scalar_fmt(ty)
        if fmt is not None:
            raws = [f"r[{i}]" for i in range(t.nraw(fmt))]
            fn = _LiftFn(name, "struct", pytype, self.struct(fmt), None,
                         [self.lift_raw(ty, raws, own)])
        elif isinstance(res, (ir.Record, ir.Tuple)):
            fn = self._lift_record(ty, res, name, pytype, own)
        elif isinstance(res, ir.Variant):
            fn = self._lift_variant(ty, res, name, pytype, own)
        elif isinstance(res, ir.Expected):
            fn = self._lift_expected(res, name, pytype, own)
        else:  # pragma: no cover - every kind is scalar-like or composite
            raise AssertionError(res)
        self.lifts[key] = fn
        return name

    def _members(self, ty: ir.Record | ir.Tuple) -> list[tuple[str, ir.Type]]:
        if isinstance(ty, ir.Record):
            return [(f.name, f.type) for f in ty.fields]
        return [(str(i), m) for i, m in enumerate(ty.types)]

    def _record_struct(self, ty: ir.Record | ir.Tuple) -> tuple[str, list[list[int]]]:
        """The struct format of a record's scalar-like fields (composite ones padded over)
        and, per field, the indices of its raw values in the unpacked tuple."""
        t = self.t
        lay = t.layouts.of(ty)
        assert isinstance(lay, RecordLayout)
        fmt, pos, index = "", 0, 0
        where: list[list[int]] = []
        for (_, mty), off in zip(self._members(ty), lay.offsets, strict=True):
            f = t.scalar_fmt(mty)
            if f is None:
                where.append([])
                continue
            if off > pos:
                fmt += f"{off - pos}x"
            fmt += f
            pos = off + t.size(mty)
            n = t.nraw(f)
            where.append(list(range(index, index + n)))
            index += n
        if lay.size > pos and fmt:
            fmt += f"{lay.size - pos}x"
        return fmt, where

    def _lift_record(self, ty: ir.Type, res: ir.Record | ir.Tuple, name: str, pytype: str,
                     own: str) -> _LiftFn:
        t = self.t
        lay = t.layouts.of(res)
        assert isinstance(lay, RecordLayout)
        fmt, where = self._record_struct(res)
        args = []
        for (mname, mty), off, idx in zip(self._members(res), lay.offsets, where, strict=True):
            what = f"{own}.{mname}"
            if idx:
                args.append(self.lift_raw(mty, [f"r[{i}]" for i in idx], what))
            else:
                args.append(self.mem_lift(mty, f"addr + {off}" if off else "addr", what))
        ctor = _cls(ty.name) if isinstance(ty, ir.Ref) and isinstance(res, ir.Record) else ""
        return _LiftFn(name, "struct", pytype, self.struct(fmt) if fmt else None, ctor, args)

    def _lift_variant(self, ty: ir.Type, res: ir.Variant, name: str, pytype: str,
                      own: str) -> _LiftFn:
        t = self.t
        assert isinstance(ty, ir.Ref)  # anonymous variants are refused by `spell`
        cls = _cls(ty.name)
        lay = t.layouts.of(res)
        assert isinstance(lay, VariantLayout)
        table = self.tag_table(snake(ty.name), res, cls)
        tag_fmt = BUILTIN_FMT[res.tag_repr]
        tag_raw = f"{self.struct(tag_fmt)}.unpack_from(g.view, addr)[0]"
        tag = f"_guest.lift_tag({table}, raw, {_q(own)})"
        payload = f"addr + {lay.payload_offset}"
        branches = [(c.value, f"{cls}(tag, {self.mem_lift(c.type, payload, f'{own}.{c.name}')})")
                    for c in res.cases if c.type is not None]
        if any(c.type is None for c in res.cases):
            fallback = f"return {cls}(tag, None)"
        else:
            fallback = f"return {branches.pop()[1]}"
        return _LiftFn(name, "variant", pytype, tag_raw=tag_raw, tag=tag, branches=branches,
                       fallback=fallback)

    def _lift_expected(self, res: ir.Expected, name: str, pytype: str, own: str) -> _LiftFn:
        t = self.t
        lay = t.layouts.of(res)
        assert isinstance(lay, VariantLayout)
        self.uses.add("GuestError")
        payload = f"addr + {lay.payload_offset}"
        ok = self.mem_lift(res.ok, payload, f"{own}.ok") if res.ok else "None"
        err = self.mem_lift(res.error, payload, f"{own}.error") if res.error else "None"
        return _LiftFn(name, "variant", pytype, tag="g.view[addr]",
                       branches=[(0, f"_guest.Ok({ok})"), (1, f"_guest.Err({err})")],
                       fallback=f'raise _guest.GuestError(f"{own}: tag {{tag}} is not a case")')

    def need_list(self, elem: ir.Type, what: str) -> str:
        t = self.t
        key = f"list__{t.key(elem)}"
        name = f"_lift_{key}"
        if key in self.lifts:
            return name
        self.lifts[key] = None
        own = elem.name if isinstance(elem, ir.Ref) else what
        fmt = t.scalar_fmt(elem)
        if fmt is not None:
            raws = [f"r[{i}]" for i in range(t.nraw(fmt))]
            fn = _LiftFn(name, "list", t.spell(elem), item=self.lift_raw(elem, raws, own),
                         source=f"g.rows({self.struct(fmt)}, ptr, count, {_q(own)})")
        else:
            fn = _LiftFn(name, "list", t.spell(elem), item=self.mem_lift(elem, "a", own),
                         source=f"g.addresses(ptr, count, {t.size(elem)}, {_q(own)})", var="a")
        self.lifts[key] = fn
        return name

    # ---- lowering ---------------------------------------------------------------------

    def lower_raw(self, ty: ir.Type, value: str) -> list[str]:
        """The raw struct values of a scalar-like `ty` holding `value`."""
        t = self.t
        res = t.resolve(ty)
        if isinstance(res, (ir.String, ir.List)):
            raise _CannotLower(t.spell(ty))
        if isinstance(res, ir.Builtin) and res.name == "char":
            return [f"ord({value})"]
        if isinstance(res, ir.Pointer):
            return [f"{value}.address"]
        if isinstance(res, ir.Variant):
            return [f"{value}.tag"]
        return [value]

    def mem_lower(self, ty: ir.Type, addr: str, value: str) -> list[str]:
        """Statements writing `value` of `ty` at `addr` (already bounds-checked)."""
        fmt = self.t.scalar_fmt(ty)
        if fmt is not None:
            raws = self.lower_raw(ty, value)
            return [f"{self.struct(fmt)}.pack_into(g.view, {addr}, {', '.join(raws)})"]
        return [f"{self.need_lower(ty)}(g, {addr}, {value})"]

    def need_lower(self, ty: ir.Type) -> str:
        t = self.t
        key = t.key(ty)
        name = f"_lower_{key}"
        if key in self.lowers:
            return name
        if t.holds_list(ty):
            raise _CannotLower(t.spell(ty))
        self.lowers[key] = None
        res = t.resolve(ty)
        pytype = t.spell(ty)
        fmt = t.scalar_fmt(ty)
        if fmt is not None:
            fn = _LowerFn(name, "struct", pytype, self.mem_lower(ty, "addr", "v"))
        elif isinstance(res, (ir.Record, ir.Tuple)):
            fn = self._lower_record(res, name, pytype)
        elif isinstance(res, ir.Variant):
            fn = self._lower_variant(ty, res, name, pytype)
        elif isinstance(res, ir.Expected):
            fn = self._lower_expected(res, name, pytype)
        else:  # pragma: no cover
            raise AssertionError(res)
        self.lowers[key] = fn
        return name

    def _lower_record(self, res: ir.Record | ir.Tuple, name: str, pytype: str) -> _LowerFn:
        t = self.t
        lay = t.layouts.of(res)
        assert isinstance(lay, RecordLayout)
        fmt, where = self._record_struct(res)
        packed: list[str] = []
        nested: list[str] = []
        for (mname, mty), off, idx in zip(self._members(res), lay.offsets, where, strict=True):
            value = f"v.{_ident(mname)}" if isinstance(res, ir.Record) else f"v[{mname}]"
            if idx:
                packed += self.lower_raw(mty, value)
            else:
                nested += self.mem_lower(mty, f"addr + {off}" if off else "addr", value)
        stmts = []
        if fmt:
            # the struct goes first: its padding zeroes the bytes the nested writes fill
            stmts.append(f"{self.struct(fmt)}.pack_into(g.view, addr, {', '.join(packed)})")
        return _LowerFn(name, "struct", pytype, stmts + nested)

    def _lower_variant(self, ty: ir.Type, res: ir.Variant, name: str, pytype: str) -> _LowerFn:
        t = self.t
        assert isinstance(ty, ir.Ref)
        lay = t.layouts.of(res)
        assert isinstance(lay, VariantLayout)
        table = self.tag_table(snake(ty.name), res, _cls(ty.name))
        payload = f"addr + {lay.payload_offset}"
        branches = []
        payloads = {t.spell(c.type) if c.type else "None" for c in res.cases}
        for i, c in enumerate(res.cases):
            if c.type is None:
                continue
            if len(payloads) == 1:  # the payload is already of this type
                branches.append((c.value, self.mem_lower(c.type, payload, "v.payload")))
                continue
            self.uses.add("typing")
            cast = f"p{i} = typing.cast({t.spell(c.type)}, v.payload)"
            branches.append((c.value, [cast, *self.mem_lower(c.type, payload, f"p{i}")]))
        return _LowerFn(name, "variant", pytype, tag_struct=self.struct(BUILTIN_FMT[res.tag_repr]),
                        table=table, branches=branches)

    def _lower_expected(self, res: ir.Expected, name: str, pytype: str) -> _LowerFn:
        lay = self.t.layouts.of(res)
        assert isinstance(lay, VariantLayout)
        payload = f"addr + {lay.payload_offset}"
        ok = self.mem_lower(res.ok, payload, "v.value") if res.ok else []
        err = self.mem_lower(res.error, payload, "v.error") if res.error else []
        return _LowerFn(name, "expected", pytype, ok=ok, err=err)

    # ---- pointer targets ----------------------------------------------------------------

    def need_codec(self, ty: ir.Type) -> str:
        t = self.t
        res = t.resolve(ty)
        if isinstance(res, ir.Builtin):
            return BUILTIN_CODEC[res.name]
        key = t.key(ty)
        name = f"_C_{key.upper()}"
        if key not in self.codecs:
            self.codecs[key] = ("", "", 0, 0, "", "")  # placeholder against recursion
            lift = self.need_lift(ty, key)
            try:
                lower = self.need_lower(ty)
            except _CannotLower:
                lower = "None"
            self.codecs[key] = (name, t.spell(ty), t.size(ty), t.align(ty), lift, lower)
        return name


class PythonHostTarget(Target):
    name = "python-host"
    description = "Python host stubs for wasmtime-py"
    comment = "#"

    def __init__(self, doc: ir.Document, options: GenerateOptions) -> None:
        super().__init__(doc, options)
        self.used: set[str] = set()  # names from _guest that the file being planned spells

    # ---- files --------------------------------------------------------------------------

    def generate(self) -> dict[str, str]:
        self._check_names()
        files = {
            f"{PACKAGE}/__init__.py": self.render("__init__.py.jinja", modules=[
                f"`{self.module_file(m)}`" for m in self.doc.modules]),
            f"{PACKAGE}/_guest.py": self.render("_guest.py.jinja"),
            f"{PACKAGE}/types.py": self.render("types.py.jinja", **self.types_context()),
        }
        for module in self.doc.modules:
            files[f"{PACKAGE}/{self.module_file(module)}.py"] = self.render(
                "module.py.jinja", **self.module_context(module))
        return files

    def render(self, template: str, **context: Any) -> str:
        # A long spec path makes the provenance line longer than ruff allows: say so there.
        out = re.sub(r"\n{4,}", "\n\n\n", super().render(template, **context))
        first, sep, rest = out.partition("\n")
        if first.startswith("#") and len(first) > LINE:
            return f"{first}  # noqa: E501{sep}{rest}"
        return out

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            **super().filters(),
            "cls": _cls,
            "ident": _ident,
            "member": _member,
            "docstring": _docstring,
            "q": _q,
            "wrap_call": _wrap_call,
            "fit": _fit,
        }

    def module_file(self, module: ir.Module) -> str:
        return py_name(module.name)

    def _check_names(self) -> None:
        seen: dict[str, str] = {}
        for td in self.doc.types:
            spelled = _cls(td.name)
            if spelled in RESERVED_TYPES or spelled in seen:
                other = seen.get(spelled, "a name of the generated support code")
                raise GenerateError(
                    f"python-host: typename `{td.name}` would be spelled `{spelled}`, "
                    f"like {other}")
            seen[spelled] = f"typename `{td.name}`"
        for module in self.doc.modules:
            if self.module_file(module) in ("types", "_guest", "__init__"):
                raise GenerateError(
                    f"python-host: module `{module.name}` would overwrite a support file")
            for func in module.functions:
                if _ident(func.name) in RESERVED_METHODS:
                    raise GenerateError(
                        f"python-host: function `{module.name}.{func.name}` would hide the "
                        f"`{_ident(func.name)}` member of the host class")

    # ---- one method per type kind: the Python annotation -------------------------------

    def type_builtin(self, ty: ir.Builtin) -> str:
        return BUILTIN_PY.get(ty.name, "int")

    def type_string(self, ty: ir.String) -> str:
        return "str"

    def type_ref(self, ty: ir.Ref) -> str:
        return _cls(ty.name)

    def type_list(self, ty: ir.List) -> str:
        elem = self.resolve(ty.element)
        if isinstance(elem, ir.Builtin) and elem.name in ("u8", "char8"):
            return "memoryview"
        return f"list[{self.spell(ty.element)}]"

    def type_pointer(self, ty: ir.Pointer) -> str:
        self.used.add("GuestPtr")
        return f"GuestPtr[{self.spell(ty.element)}]"

    def type_handle(self, ty: ir.Handle) -> str:
        return "int"

    def type_enum(self, ty: ir.Enum) -> str:
        raise GenerateError(self.anonymous(ty))

    def type_flags(self, ty: ir.Flags) -> str:
        raise GenerateError(self.anonymous(ty))

    def type_record(self, ty: ir.Record) -> str:
        raise GenerateError(self.anonymous(ty))

    def type_tuple(self, ty: ir.Tuple) -> str:
        return f"tuple[{', '.join(self.spell(t) for t in ty.types)}]"

    def type_variant(self, ty: ir.Variant) -> str:
        raise GenerateError(self.anonymous(ty))

    def type_expected(self, ty: ir.Expected) -> str:
        ok = self.spell(ty.ok) if ty.ok else "None"
        err = self.spell(ty.error) if ty.error else "None"
        self.used.update(("Ok", "Err"))
        return f"Ok[{ok}] | Err[{err}]"

    def anonymous(self, ty: ir.Type) -> str:
        kind = type(ty).__name__.lower()
        return (f"python-host: an anonymous {kind} needs a typename to become a Python class "
                f"(give it a `(typename $name …)`)")

    # ---- type facts the plan uses ----------------------------------------------------------

    def key(self, ty: ir.Type) -> str:
        """A unique identifier fragment per type: the snake name of a typename, else a
        structural key with `__` separators (which no snake name contains)."""
        if isinstance(ty, ir.Ref):
            return snake(ty.name)
        if isinstance(ty, ir.Builtin):
            return ty.name
        if isinstance(ty, ir.String):
            return "string"
        if isinstance(ty, ir.Handle):
            return "handle"
        if isinstance(ty, ir.List):
            return f"list__{self.key(ty.element)}"
        if isinstance(ty, ir.Pointer):
            return f"{'cptr' if ty.const else 'ptr'}__{self.key(ty.element)}"
        if isinstance(ty, ir.Tuple):
            return f"tuple{len(ty.types)}__" + "__".join(self.key(t) for t in ty.types)
        if isinstance(ty, ir.Expected):
            ok = self.key(ty.ok) if ty.ok else "none"
            err = self.key(ty.error) if ty.error else "none"
            return f"expected__{ok}__{err}"
        raise GenerateError(self.anonymous(ty))

    def scalar_fmt(self, ty: ir.Type) -> str | None:
        """The struct format of a scalar-like type (one or two raw values), else None."""
        res = self.resolve(ty)
        if isinstance(res, ir.Builtin):
            return BUILTIN_FMT[res.name]
        if isinstance(res, (ir.String, ir.List)):
            return "II"
        if isinstance(res, (ir.Pointer, ir.Handle)):
            return "I"
        if isinstance(res, (ir.Enum, ir.Flags)):
            return BUILTIN_FMT[res.repr]
        if isinstance(res, ir.Variant) and all(c.type is None for c in res.cases):
            return BUILTIN_FMT[res.tag_repr]
        return None

    @staticmethod
    def nraw(fmt: str) -> int:
        return len(struct.unpack("<" + fmt, bytes(struct.calcsize("<" + fmt))))

    def holds_list(self, ty: ir.Type) -> bool:
        """Whether writing `ty` would need a list or string (pointers don't count)."""
        res = self.resolve(ty)
        if isinstance(res, (ir.List, ir.String)):
            return True
        if isinstance(res, ir.Record):
            return any(self.holds_list(f.type) for f in res.fields)
        if isinstance(res, ir.Tuple):
            return any(self.holds_list(m) for m in res.types)
        if isinstance(res, ir.Variant):
            return any(c.type is not None and self.holds_list(c.type) for c in res.cases)
        if isinstance(res, ir.Expected):
            return any(m is not None and self.holds_list(m) for m in (res.ok, res.error))
        return False

    # ---- types.py ------------------------------------------------------------------------

    def sorted_types(self) -> list[ir.TypeDef]:
        """Typenames with every one it refers to first (aliases are evaluated at import)."""
        done: dict[str, ir.TypeDef] = {}

        def refs(ty: ir.Type | None) -> Iterable[str]:
            if ty is None:
                return
            if isinstance(ty, ir.Ref):
                yield ty.name
            elif isinstance(ty, (ir.List, ir.Pointer)):
                yield from refs(ty.element)
            elif isinstance(ty, ir.Tuple):
                for m in ty.types:
                    yield from refs(m)
            elif isinstance(ty, ir.Record):
                for f in ty.fields:
                    yield from refs(f.type)
            elif isinstance(ty, ir.Variant):
                if ty.tag:
                    yield ty.tag
                for c in ty.cases:
                    yield from refs(c.type)
            elif isinstance(ty, ir.Expected):
                yield from refs(ty.ok)
                yield from refs(ty.error)

        def visit(td: ir.TypeDef) -> None:
            if td.name in done:
                return
            for name in refs(td.type):
                visit(self.doc.typedef(name))
            done[td.name] = td

        for td in self.doc.types:
            visit(td)
        return list(done.values())

    def def_kind(self, ty: ir.Type) -> str:
        """Which partial renders a typename of this type."""
        if isinstance(ty, ir.Enum):
            return "enum"
        if isinstance(ty, ir.Flags):
            return "flags"
        if isinstance(ty, ir.Record):
            return "record"
        if isinstance(ty, ir.Variant):
            return "variant"
        if isinstance(ty, ir.Handle):
            return "handle"
        return "alias"

    def error_types(self) -> list[tuple[str, ir.Type]]:
        """(typename or synthetic name, type) of every error type a function returns."""
        found: dict[str, ir.Type] = {}
        for module in self.doc.modules:
            for func in module.functions:
                error = self.abi(func).error
                if error is not None:
                    found.setdefault(self.error_key(module, error), error)
        return list(found.items())

    def error_key(self, module: ir.Module, error: ir.Type) -> str:
        return error.name if isinstance(error, ir.Ref) else f"{module.name}_error_code"

    def exception_name(self, key: str) -> str:
        return f"{_cls(key)}Error"

    def types_context(self) -> dict[str, Any]:
        self.used = set()
        defs = []
        imports: set[str] = set()
        names: list[str] = []
        for td in self.sorted_types():
            kind = self.def_kind(td.type)
            entry: dict[str, Any] = {"td": td, "kind": kind, "cls": _cls(td.name),
                                     "docs": td.docs}
            names.append(_cls(td.name))
            if isinstance(td.type, (ir.Enum, ir.Flags)):
                imports.add("enum")
                cases = td.type.cases if isinstance(td.type, ir.Enum) else td.type.flags
                entry["cases"] = [(_member(c.name), i, c.docs) for i, c in enumerate(cases)]
            elif isinstance(td.type, ir.Record):
                imports.add("dataclasses")
                entry["fields"] = [(_ident(f.name), self.spell(f.type),
                                    self.with_note(f.docs, f.type)) for f in td.type.fields]
            elif isinstance(td.type, ir.Variant):
                imports.update(("dataclasses", "enum") if not td.type.tag else ("dataclasses",))
                entry.update(self.variant_context(td.name, td.type))
                if not td.type.tag:
                    names.append(entry["tag_cls"])
            elif kind == "handle":
                imports.add("typing")
            else:
                imports.add("typing")
                entry["alias"] = self.spell(td.type)
                entry["docs"] = self.with_note(td.docs, td.type)
            entry["constants"] = [(f"{upper(td.name)}_{upper(c.name)}", c.value, c.docs)
                                  for c in td.constants]
            if td.constants:
                imports.add("typing")
            names += [c[0] for c in entry["constants"]]
            defs.append(entry)
        errors = []
        for key, ty in self.error_types():
            res = self.resolve(ty)
            errors.append({
                "name": self.exception_name(key), "witx": key,
                "type": self.spell(ty) if isinstance(res, ir.Enum) else "int",
                "enum": isinstance(res, ir.Enum),
            })
            names.append(self.exception_name(key))
        guest = set(self.used)
        if errors:
            guest.add("HostCallError")
        return {"defs": defs, "errors": errors, "imports": sorted(imports),
                "guest_imports": sorted(guest), "names": names}

    def with_note(self, docs: str, ty: ir.Type, sep: str = "\n\n") -> str:
        """Docs plus the lifetime rule when the value is a view of guest memory."""
        res = self.resolve(ty)
        note = ""
        if isinstance(res, ir.List) and self.spell(res) == "memoryview":
            note = ("Lifted as a `memoryview` of guest memory (no copy), valid only during "
                    "the host call; copy what you keep.")
        elif isinstance(res, ir.Pointer):
            note = "A `GuestPtr`, valid only during the host call."
        return f"{docs}{sep}{note}".strip() if note else docs

    def variant_context(self, name: str, ty: ir.Variant) -> dict[str, Any]:
        tag_cls = _cls(ty.tag) if ty.tag else f"{_cls(name)}Tag"
        payloads: list[str] = []
        for c in ty.cases:
            spelled = self.spell(c.type) if c.type is not None else "None"
            if spelled not in payloads:
                payloads.append(spelled)
        cases = [(_member(c.name), c.value, self.spell(c.type) if c.type else "None", c.docs)
                 for c in ty.cases]
        return {
            "tag_cls": tag_cls,
            "own_tag": ty.tag is None,
            "payload": " | ".join(payloads),
            "cases": cases,
            "docs": self.variant_docs(name, tag_cls, cases),
        }

    def variant_docs(self, name: str, tag_cls: str,
                     cases: list[tuple[str, int, str, str]]) -> str:
        docs = self.doc.typedef(name).docs
        table = "; ".join(f"`{m}`: {p}" for m, _, p, _ in cases)
        return f"{docs}\n\nCases of `tag` ({tag_cls}) and their `payload`: {table}.".strip()

    # ---- one module ----------------------------------------------------------------------

    def module_context(self, module: ir.Module) -> dict[str, Any]:
        self.used = set()
        plan = _Plan(self)
        failures: dict[str, tuple[str, str, str, str]] = {}
        cls = _cls(module.name)
        glue = [self.plan_function(module, func, plan, failures, cls)
                for func in module.functions]
        uses = self.used | plan.uses
        lifts = sorted((f for f in plan.lifts.values() if f is not None), key=lambda f: f.name)
        lowers = sorted((f for f in plan.lowers.values() if f is not None), key=lambda f: f.name)
        guest_names: list[str] = sorted(n for n in ("GuestPtr", "Ok", "Err") if n in uses)
        if lifts or lowers or any(gl.memory for gl in glue):
            guest_names.insert(0, "Guest")
        wasm = sorted({t for gl in glue for _, t in gl.core} | {t for gl in glue
                                                               for t in gl.core_results})
        doc = (f"Host side of witx module `{module.name}` for wasmtime-py.\n\n{module.docs}\n\n"
               f"Subclass `{cls}`, implement one method per function, then call "
               f"`add_to_linker(linker, get_impl)`. A method returns its result or raises the "
               f"error exception (like `{self.first_exception(module) or 'SomeError'}`) to "
               "return an error code; any other exception traps the guest. Values lifted from "
               "guest memory (`memoryview`, `GuestPtr`) are valid only during the call.")
        return {
            "module": module,
            "module_doc": doc,
            "cls": cls,
            "glue": glue,
            "structs": sorted((name, fmt) for fmt, name in plan.structs.items()),
            "enums": sorted(plan.enums.items()),
            "tags": sorted(plan.tags.values()),
            "lifts": lifts,
            "lowers": lowers,
            "codecs": sorted(v for v in plan.codecs.values()),
            "failures": sorted(failures.values()),
            "guest_names": guest_names,
            "types": self.types_context()["names"],
            "imports": sorted(self.types_context()["names"], key=_isort_key),
            "typing": "typing" in uses or any(gl.ending == "noreturn" for gl in glue),
            "struct": bool(plan.structs),
            "wasm": wasm,
        }

    def first_exception(self, module: ir.Module) -> str:
        for func in module.functions:
            error = self.abi(func).error
            if error is not None:
                return self.exception_name(self.error_key(module, error))
        return ""

    def plan_function(self, module: ir.Module, func: ir.Function, plan: _Plan,
                      failures: dict[str, tuple[str, str, str, str]], cls: str) -> _Glue:
        abi = self.abi(func)
        where = f"{module.name}.{func.name}"
        names: dict[str, str] = {}
        for p in abi.params:  # distinct Python names, even where spellings collide
            name, i = self.core_name(p), 1
            while name in names.values():
                i += 1
                name = f"{self.core_name(p)}{i}"
            names[p.name] = name
        core = [(names[p.name], p.type) for p in abi.params]
        masks = [names[p.name] for p in abi.params if p.role != "value"]
        memory = any(p.role != "value" or isinstance(self.resolve(self.param_type(func, p)),
                                                     ir.Pointer) for p in abi.params)
        out_params = [p for p in abi.params if p.role == "out"]
        outs = [(names[p.name], self.size(ty))
                for p, ty in zip(out_params, abi.outs, strict=True)]

        args = []
        for param in func.params:
            parts = [p for p in abi.params if p.source == param.name and p.role != "out"]
            args.append(self.lift_param(param, parts, names, plan))

        lowers: list[str] = []
        for i, (p, ty) in enumerate(zip(out_params, abi.outs, strict=True)):
            value = "r" if len(abi.outs) == 1 else f"r[{i}]"
            try:
                lowers += plan.mem_lower(ty, names[p.name], value)
            except _CannotLower:
                # The witx ABI gives a host no way to allocate guest memory, so such a result
                # (old wasi-nn drafts returned a whole tensor) can never be delivered: the
                # function is generated, and a call traps saying why.
                message = f"{where}: a result holding a list or string cannot be written"
                lowers = [f"raise _guest.TrapError({_q(message)})"]
                break

        failure = self.failure(module, abi.error, failures)
        returns, result_docs, ending, direct = "None", "", "none", ""
        if func.noreturn:
            returns, ending = "typing.NoReturn", "noreturn"
        elif func.results:
            result = func.results[0]
            result_docs = result.docs
            res = self.resolve(result.type)
            if isinstance(res, ir.Expected):
                ending = "errno"
                if res.ok is not None:
                    returns = self.spell(res.ok)
            else:
                returns, ending = self.spell(result.type), "direct"
                direct = self.direct_result(result.type, where)
        raises = ""
        if abi.error is not None:
            raises = self.exception_name(self.error_key(module, abi.error))
        method = _ident(func.name)
        params = [(_ident(p.name), self.spell(p.type), self.with_note(p.docs, p.type, " "))
                  for p in func.params]
        glue_returns = WASM_PY[abi.results[0]] if abi.results else "None"
        assign = "r = " if lowers or ending == "direct" else ""
        return _Glue(
            func=func, method=method,
            method_def=_wrap_call(f"def {method}", ["self", *(f"{n}: {t}" for n, t, _ in params)],
                                  f" -> {returns}:", 4),
            method_doc=self.method_doc(func, params, result_docs, raises),
            glue_def=_wrap_call(f"def _host_{method}",
                                [f"get_impl: Callable[[wasmtime.Caller], {cls}]",
                                 "open_guest: _guest.OpenGuest",
                                 "caller: wasmtime.Caller",
                                 *(f"{n}: {WASM_PY[t]}" for n, t in core)],
                                f" -> {glue_returns}:", 0),
            call=_wrap_call(f"{assign}impl.{method}", args, "", 8),
            define=_wrap_call("host.define", [
                _q(func.name),
                f"wasmtime.FuncType([{', '.join(t for _, t in core)}], "
                f"[{', '.join(abi.results)}])",
                f"_host_{method}"], "", 4),
            core=core, core_results=list(abi.results), masks=masks, memory=memory,
            outs=outs, lowers=lowers, ending=ending, direct=direct, failure=failure)

    def method_doc(self, func: ir.Function, params: list[tuple[str, str, str]],
                   result_docs: str, raises: str) -> str:
        indent = 8
        lines = _wrap(func.docs, indent) if func.docs.strip() else []
        documented = [(n, d) for n, _, d in params if d.strip()]
        if documented:
            lines += ["", "Args:"] if lines else ["Args:"]
            for name, docs in documented:
                lines += _wrap(f"{name}: {docs}", indent, "    ", "        ")
        if result_docs.strip():
            lines += ["", "Returns:"] if lines else ["Returns:"]
            lines += _wrap(result_docs, indent, "    ")
        if raises:
            lines += ["", "Raises:"] if lines else ["Raises:"]
            lines += _wrap(f"{raises}: to return that error code to the guest.", indent, "    ")
        return _quote(lines, indent)

    def param_type(self, func: ir.Function, p: CoreParam) -> ir.Type:
        for param in func.params:
            if param.name == p.source:
                return param.type
        return ir.Builtin("u32")  # an out-pointer

    def core_name(self, p: CoreParam) -> str:
        name = _ident(p.name)
        return f"{name}_" if name in GLUE_LOCALS else name

    def lift_param(self, param: ir.Param, parts: list[CoreParam], names: dict[str, str],
                   plan: _Plan) -> str:
        what = param.name
        if parts[0].role == "value":
            raw = self.value_raw(param.type, names[parts[0].name], what)
            return plan.lift_raw(param.type, [raw], what)
        if parts[0].role == "addr":
            ptr = names[parts[0].name]
            return plan.mem_lift(param.type, f"g.at({ptr}, {self.size(param.type)}, {_q(what)})",
                                 what)
        return plan.lift_raw(param.type, [names[p.name] for p in parts], what)

    def value_raw(self, ty: ir.Type, name: str, what: str) -> str:
        """A core param as the raw value `lift_raw` expects (unsigned where unsigned)."""
        res = self.resolve(ty)
        fmt = self.scalar_fmt(ty)
        wasm = core_type(self.doc, ty)
        if isinstance(res, (ir.Enum, ir.Flags, ir.Variant)) or fmt in ("I", "Q"):
            return f"{name} & {WASM_MASK[wasm]}"
        if fmt in ("B", "H"):
            limit = 0xFF if fmt == "B" else 0xFFFF
            return f"_guest.narrow_u({name}, {limit:#x}, {_q(what)})"
        if fmt in ("b", "h"):
            return f"_guest.narrow_s({name}, {8 if fmt == 'b' else 16}, {_q(what)})"
        if fmt == "?":
            return f"{name} != 0"
        return name

    def direct_result(self, ty: ir.Type, where: str) -> str:
        """The core value of a scalar result returned directly (checked to fit)."""
        res = self.resolve(ty)
        if isinstance(res, ir.Builtin):
            if res.name in ("f32", "f64"):
                return "float(r)"
            if res.name == "char":
                return "ord(r)"
            low, high = INT_RANGE[res.name]
            return f"_guest.result_int(r, {low}, {high:#x}, {_q(where)})"
        if isinstance(res, ir.Pointer):
            return "r.address"
        if isinstance(res, ir.Handle):
            return f"_guest.result_int(r, 0, 0xFFFFFFFF, {_q(where)})"
        if isinstance(res, (ir.Enum, ir.Flags)):
            return "int(r)"
        raise GenerateError(f"python-host: {where}: cannot return {self.spell(ty)} directly")

    def failure(self, module: ir.Module, error: ir.Type | None,
                failures: dict[str, tuple[str, str, str, str]]) -> str:
        """The `_guest.Failure` of an error type: (name, exception, invalid, missing)."""
        if error is None:
            failures["_F"] = ("_F", "None", "None", "None")
            return "_F"
        key = self.error_key(module, error)
        name = f"_F_{upper(key)}"
        res = self.resolve(error)
        invalid = missing = "None"
        if isinstance(res, ir.Enum):
            cases = [c.name for c in res.cases]
            for candidate in ("invalid_argument", "inval"):
                if candidate in cases:
                    invalid = str(cases.index(candidate))
                    break
            if "missing_memory" in cases:
                missing = str(cases.index("missing_memory"))
        failures[name] = (name, self.exception_name(key), invalid, missing)
        return name
