"""AssemblyScript guest bindings: `@external` imports with the exact core signatures + wrappers.

Output (for asc 0.28 with `@assemblyscript/wasi-shim`):

* `<module>.ts` per witx module (a document without modules gives `<file stem>.ts` with its
  types only). It holds every type, a `raw` namespace of `@external` declarations whose
  params and results are only u32/i32/u64/i64/f32/f64, and one camelCase wrapper per
  function that lowers idiomatic values (string, Uint8Array, Array<T>, classes) to them.
* `witx_rt.ts`, the same for every document: `Result<T, E>`, `Slice` and the memory helpers
  the wrappers use. The module file never names an AssemblyScript builtin such as `load`
  directly, because a witx function called `load` would shadow it in that file.

Type shapes: enums, flags and payload-less variants are `type X = <repr>` plus a namespace
of `@inline` constants (so record fields keep the witx width); an enum's namespace also has
`name(value: X): string`, the witx name of a case or "unknown" (`NnErrno.name(e)`, like
Rust's Display; constants are UPPER_CASE, so `name` never clashes); handles are `u32` aliases;
records, tuples, variants and expecteds are `@unmanaged` classes laid out byte for byte as
layout.py says (padding fields fill gaps, nested structs are views at their offset), and
each class is followed by compile-time `offsetof` checks that stop asc if the layouts differ.

Bytes in: a `list u8` (or `char8`) record field's setter and a wrapper param of that type
take any `ArrayBufferView` (Uint8Array, Float32Array, DataView, ...) and pass its bytes, so a
guest hands over a Float32Array without `Uint8Array.wrap(f32.buffer)`. The type aliases
(`TensorData = Uint8Array`) stay as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .. import ir
from ..abi import CoreParam
from ..layout import RecordLayout, VariantLayout, align_to
from ..naming import TS_KEYWORDS, camel, snake, ts_name, upper
from .base import GenerateError, GenerateOptions, Target

BUILTINS = {
    "u8": "u8", "u16": "u16", "u32": "u32", "u64": "u64",
    "s8": "i8", "s16": "i16", "s32": "i32", "s64": "i64",
    "f32": "f32", "f64": "f64", "char": "u32", "char8": "u8", "usize": "usize", "bool": "bool",
}
SIGNED = {"s8", "s16", "s32", "s64"}

# Globals the generated module file names itself (or that users expect to keep their meaning):
# a witx name that would spell one of them gets a trailing underscore.
TYPE_RESERVED = frozenset("""
    Array ArrayBuffer ArrayBufferView Boolean Box DataView Date Error Float32Array Float64Array
    Function Int16Array Int32Array Int64Array Int8Array JSON Map Math Mathf NaN Infinity
    Number Object RangeError RegExp Result Set Slice StaticArray String Symbol SyntaxError
    TypeError URIError Uint16Array Uint32Array Uint64Array Uint8Array Uint8ClampedArray
    WeakMap WeakSet ERROR
""".split())
VALUE_RESERVED = TS_KEYWORDS | frozenset({"raw", "memory", "offsetof", "constructor"})
# Names asc refuses as class fields, and (a longer list) as getter names: found by
# compiling each keyword in both places.
MEMBER_RESERVED = frozenset("""
    abstract accessor constructor declare override private protected public static
""".split())
ACCESSOR_RESERVED = MEMBER_RESERVED | TS_KEYWORDS | frozenset({"async", "await"})
RT_FILE = "witx_rt"


def lower_camel(name: str) -> str:
    c = camel(name)
    return c if c.startswith("_") else c[:1].lower() + c[1:]


def unique(name: str, used: set[str]) -> str:
    while name in used:
        name += "_"
    used.add(name)
    return name


def literal(value: int) -> str:
    """An integer literal asc reads for any u8..u64/s8..s64 value."""
    if value < 0:
        return "i64.MIN_VALUE" if value == -(1 << 63) else str(value)
    return hex(value) if value > 0xFFFF else str(value)


# ---- view models handed to the templates ---------------------------------------------------


@dataclass
class Const:
    name: str
    value: str
    docs: str = ""
    witx: str = ""  # enum case: its witx name, for the name function


@dataclass
class Member:
    """One line group of an @unmanaged class; `kind` picks the template snippet."""

    kind: str  # field | pad | list | struct | case_scalar | case_struct | case_list | case_empty
    name: str
    type: str = ""
    docs: str = ""
    offset: int = 0
    size: int = 0
    setter: str = ""  # list setter / case setter method name
    setter_type: str = ""  # list setter param type ("" = no setter)
    ptr: str = ""  # list: names of the ptr/len fields (or case getters)
    len: str = ""
    len_offset: int = 0  # case_list: where the length is (offset holds the pointer)
    set_ptr: str = ""  # list setter: expressions for the pointer and the length of `v`
    set_len: str = ""
    tag: str = ""  # case: tag value literal


@dataclass
class Decl:
    name: str
    kind: str  # alias | enum | flags | record | variant
    partial: str
    docs: str = ""
    target: str = ""  # alias/enum/flags: the type it names
    consts: list[Const] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    statics: list[Const] = field(default_factory=list)  # variant tag values
    size: int = 0
    checks: list[tuple[str, int]] = field(default_factory=list)  # (member, offset)


@dataclass
class ValuesClass:
    name: str
    doc: str
    fields: list[tuple[str, str]]


@dataclass
class RawParam:
    name: str
    type: str


@dataclass
class Func:
    import_name: str
    raw_name: str
    raw_params: list[RawParam]
    raw_result: str
    name: str
    docs: str
    params: list[tuple[str, str, str]]  # (name, type, docs)
    returns: str
    body: list[str]
    values: ValuesClass | None = None


# ---- the target -------------------------------------------------------------------------------


class AssemblyScriptTarget(Target):
    name: ClassVar[str] = "assemblyscript"
    description: ClassVar[str] = "AssemblyScript guest bindings: @external imports + typed wrappers"
    comment: ClassVar[str] = "//"

    def __init__(self, doc: ir.Document, options: GenerateOptions) -> None:
        super().__init__(doc, options)
        self._top: set[str] = set()
        self._names: dict[str, str] = {}  # typedef name → AS name
        self._anon: dict[ir.Type, str] = {}  # anonymous compound type → synthesized AS name
        self._anon_order: list[ir.Type] = []
        for td in doc.types:
            self._names[td.name] = unique(self._type_name(td.name), self._top)
        for td in doc.types:
            self._walk_children(td.type, self._names[td.name])
        for module in doc.modules:
            for func in module.functions:
                owner = camel(func.name)
                for p in func.params:
                    self._walk(p.type, owner + camel(p.name))
                for r in func.results:
                    ty = self.resolve(r.type)
                    if isinstance(ty, ir.Expected) and not isinstance(r.type, ir.Ref):
                        ok = ty.ok
                        if isinstance(ok, ir.Tuple):  # split into out-pointers by the ABI
                            for i, t in enumerate(ok.types):
                                self._walk(t, f"{owner}Ok{i}")
                        elif ok is not None:
                            self._walk(ok, owner + "Ok")
                        if ty.error is not None:
                            self._walk(ty.error, owner + "Err")
                    else:
                        self._walk(r.type, owner + camel(r.name))
        # Wrappers share the file scope with the types (each module file has all of them).
        # The raw declarations keep the witx spelling, so they read like the import names.
        self._func_names: dict[tuple[str, str], str] = {}
        self._values_names: dict[tuple[str, str], str] = {}
        self._raw_names: dict[tuple[str, str], str] = {}
        for module in doc.modules:
            used, raw_used = self._top | VALUE_RESERVED, set[str]()
            for func in module.functions:
                key = (module.name, func.name)
                self._func_names[key] = unique(lower_camel(func.name), used)
                self._values_names[key] = unique(camel(func.name) + "Values", used)
                self._raw_names[key] = unique(ts_name(func.name), raw_used)

    # ---- naming ------------------------------------------------------------------------

    @staticmethod
    def _type_name(name: str) -> str:
        n = camel(name)
        return f"{n}_" if n in TYPE_RESERVED else n

    def _walk(self, ty: ir.Type, owner: str) -> None:
        """Give every anonymous type that needs a declaration a name built from its owner."""
        if isinstance(ty, (ir.Record, ir.Tuple, ir.Variant, ir.Expected, ir.Enum, ir.Flags)):
            if ty not in self._anon:
                self._anon[ty] = unique(self._type_name(owner), self._top)
                self._anon_order.append(ty)
                self._walk_children(ty, self._anon[ty])
            return
        self._walk_children(ty, owner)

    def _walk_children(self, ty: ir.Type, owner: str) -> None:
        if isinstance(ty, ir.Record):
            for f in ty.fields:
                self._walk(f.type, owner + camel(f.name))
        elif isinstance(ty, ir.Tuple):
            for i, t in enumerate(ty.types):
                self._walk(t, f"{owner}{i}")
        elif isinstance(ty, ir.Variant):
            for c in ty.cases:
                if c.type is not None:
                    self._walk(c.type, owner + camel(c.name))
        elif isinstance(ty, ir.Expected):
            for suffix, side in (("Ok", ty.ok), ("Err", ty.error)):
                if side is not None:
                    self._walk(side, owner + suffix)
        elif isinstance(ty, (ir.List, ir.Pointer)):
            self._walk(ty.element, owner + "Item")

    # ---- type spelling (the value an AssemblyScript caller holds) ------------------------

    def type_builtin(self, ty: ir.Builtin) -> str:
        return BUILTINS[ty.name]

    def type_string(self, ty: ir.String) -> str:
        return "string"

    def type_ref(self, ty: ir.Ref) -> str:
        return self._names[ty.name]

    def type_list(self, ty: ir.List) -> str:
        el = self.resolve(ty.element)
        if isinstance(el, ir.Builtin) and el.name in ("u8", "char8"):
            return "Uint8Array"
        return f"Array<{self.spell(ty.element)}>"

    def type_pointer(self, ty: ir.Pointer) -> str:
        return "usize"

    def type_handle(self, ty: ir.Handle) -> str:
        return "u32"

    def type_enum(self, ty: ir.Enum) -> str:
        return self._anon[ty]

    def type_flags(self, ty: ir.Flags) -> str:
        return self._anon[ty]

    def type_record(self, ty: ir.Record) -> str:
        return self._anon[ty]

    def type_tuple(self, ty: ir.Tuple) -> str:
        return self._anon[ty]

    def type_variant(self, ty: ir.Variant) -> str:
        return self._anon[ty]

    def type_expected(self, ty: ir.Expected) -> str:
        return self._anon[ty]

    # ---- shapes --------------------------------------------------------------------------

    def shape(self, ty: ir.Type) -> str:
        """scalar (one wasm value, stored at its natural width), list (ptr+len) or struct."""
        ty = self.resolve(ty)
        if isinstance(ty, (ir.Builtin, ir.Handle, ir.Pointer, ir.Enum, ir.Flags)):
            return "scalar"
        if isinstance(ty, ir.Variant) and all(c.type is None for c in ty.cases):
            return "scalar"
        if isinstance(ty, (ir.List, ir.String)):
            return "list"
        return "struct"

    def byte_list(self, ty: ir.Type) -> bool:
        """A list of u8/char8: passed from any ArrayBufferView, by its bytes."""
        ty = self.resolve(ty)
        if not isinstance(ty, ir.List):
            return False
        el = self.resolve(ty.element)
        return isinstance(el, ir.Builtin) and el.name in ("u8", "char8")

    def param_type(self, ty: ir.Type) -> str:
        """What a wrapper param (or a record setter) of type `ty` accepts."""
        return "ArrayBufferView" if self.byte_list(ty) else self.spell(ty)

    def direct_list(self, ty: ir.Type) -> bool:
        """A list whose AssemblyScript value already holds the elements in witx layout."""
        ty = self.resolve(ty)
        return isinstance(ty, ir.List) and self.shape(ty.element) == "scalar"

    def _list_halves(self) -> tuple[int, int]:
        lay = self.layouts.struct([ir.Builtin("u32"), ir.Builtin("u32")])
        return lay.offsets[0], lay.offsets[1]

    # ---- declarations --------------------------------------------------------------------

    def decls(self) -> list[Decl]:
        out = [self._decl(self._names[td.name], td.type, td.docs, td.constants)
               for td in self.doc.types]
        out += [self._decl(self._anon[t], t, "", ()) for t in self._anon_order]
        return out

    def _decl(self, name: str, ty: ir.Type, docs: str,
              constants: tuple[ir.Constant, ...]) -> Decl:
        body = self.resolve(ty)
        consts: list[Const] = []
        used: set[str] = set()
        kind = "alias"
        target = ""
        if isinstance(body, ir.Enum):
            consts = [Const(unique(upper(c.name), used), literal(i), c.docs, c.name)
                      for i, c in enumerate(body.cases)]
            kind, target = "enum", BUILTINS[body.repr]
        elif isinstance(body, ir.Flags):
            consts = [Const(unique(upper(c.name), used), literal(1 << i), c.docs)
                      for i, c in enumerate(body.flags)]
            kind, target = "flags", BUILTINS[body.repr]
        elif isinstance(body, ir.Variant) and self.shape(body) == "scalar":
            consts = [Const(unique(upper(c.name), used), literal(c.value), c.docs, c.name)
                      for c in body.cases]
            kind, target = "enum", BUILTINS[body.tag_repr]
        elif isinstance(body, (ir.Record, ir.Tuple)) and not isinstance(ty, ir.Ref):
            return self._record(name, body, docs)
        elif isinstance(body, (ir.Variant, ir.Expected)) and not isinstance(ty, ir.Ref):
            return self._variant(name, body, docs)
        if isinstance(ty, ir.Ref) or kind == "alias":
            target = self.spell(ty)
        consts += [Const(unique(upper(c.name), used), literal(c.value), c.docs)
                   for c in constants]
        partial = {"enum": "_enum.jinja", "flags": "_flags.jinja"}.get(kind, "_alias.jinja")
        return Decl(name, kind, partial, docs, target, consts)

    def _record(self, name: str, ty: ir.Record | ir.Tuple, docs: str) -> Decl:
        lay = self.layouts.of(ty)
        assert isinstance(lay, RecordLayout)
        if isinstance(ty, ir.Record):
            items = [(f.name, f.type, f.docs) for f in ty.fields]
        else:
            items = [(f"_{i}", t, "") for i, t in enumerate(ty.types)]
        decl = Decl(name, "record", "_record.jinja", docs, size=lay.size)
        used: set[str] = set()
        pads = _Padding(lay.align)
        cur = 0
        for (fname, fty, fdocs), off in zip(items, lay.offsets, strict=True):
            decl.members += pads.fill(cur, off)
            cur = off + self.size(fty)
            base = fname if fname.startswith("_") else lower_camel(fname)
            shape = self.shape(fty)
            if shape == "scalar":
                m = Member("field", self._member(base, used), self.spell(fty), fdocs, off)
                decl.checks.append((m.name, off))
            elif shape == "list":
                ptr_off, len_off = self._list_halves()
                m = Member("list", self._member(base, used), self.spell(fty), fdocs, off,
                           ptr=self._member(base + "Ptr", used),
                           len=self._member(base + "Len", used))
                if isinstance(self.resolve(fty), ir.String):  # the caller encodes and keeps it
                    m.setter_type, m.set_ptr, m.set_len = ("ArrayBuffer", "__rt.addr(v)",
                                                           "v.byteLength")
                elif self.byte_list(fty):
                    m.setter_type, m.set_ptr, m.set_len = ("ArrayBufferView", "v.dataStart",
                                                           "v.byteLength")
                elif self.direct_list(fty):
                    m.setter_type, m.set_ptr, m.set_len = self.spell(fty), "v.dataStart", "v.length"
                if m.setter_type:
                    m.setter = self._member("set" + camel(fname), used)
                decl.checks += [(m.ptr, off + ptr_off), (m.len, off + len_off)]
            else:
                decl.members += pads.fill(off, cur)
                m = Member("struct", self._member(base, used, True), self.spell(fty), fdocs, off,
                           self.size(fty))
            decl.members.append(m)
        decl.members += pads.fill(cur, lay.size)
        return decl

    def _variant(self, name: str, ty: ir.Variant | ir.Expected, docs: str) -> Decl:
        lay = self.layouts.of(ty)
        assert isinstance(lay, VariantLayout)
        if isinstance(ty, ir.Expected):
            cases = [ir.VariantCase("ok", ty.ok, 0), ir.VariantCase("err", ty.error, 1)]
            tag_type, has_enum = "u8", False
        else:
            cases = list(ty.cases)
            has_enum = ty.tag is not None
            tag_type = self._names[ty.tag] if ty.tag is not None else BUILTINS[ty.tag_repr]
        decl = Decl(name, "variant", "_variant.jinja", docs, size=lay.size)
        used: set[str] = set()
        tag = Member("field", self._member("tag", used), tag_type,
                     "Which case the payload holds.", 0)
        decl.members.append(tag)
        decl.checks.append((tag.name, 0))
        pads = _Padding(lay.align)
        decl.members += pads.fill(lay.tag_size, lay.size)
        statics: set[str] = set()
        for c in cases:
            if not has_enum:
                decl.statics.append(Const(unique(upper(c.name), statics), literal(c.value)))
            base = lower_camel(c.name)
            setter = "set" + camel(c.name)
            m = Member("case_empty", "", tag_type, c.docs, lay.payload_offset,
                       tag=literal(c.value))
            if c.type is not None:
                shape = self.shape(c.type)
                m.type, m.size = self.spell(c.type), self.size(c.type)
                if shape == "list":
                    ptr_off, len_off = self._list_halves()
                    m.kind = "case_list"
                    m.ptr = self._member(base + "Ptr", used, True)
                    m.len = self._member(base + "Len", used, True)
                    m.offset = lay.payload_offset + ptr_off
                    m.len_offset = lay.payload_offset + len_off
                else:
                    m.kind = f"case_{shape}"
                    m.name = self._member(base, used, True)
            m.setter = self._member(setter, used)
            decl.members.append(m)
        return decl

    @staticmethod
    def _member(name: str, used: set[str], accessor: bool = False) -> str:
        reserved = ACCESSOR_RESERVED if accessor else MEMBER_RESERVED
        return unique(f"{name}_" if name in reserved else name, used)

    # ---- functions -----------------------------------------------------------------------

    def functions(self, module: ir.Module) -> tuple[list[Func], int]:
        """The wrappers of `module` and the size of the static area for scalar results."""
        built = [self._function(module, f) for f in module.functions]
        return [f for f, _ in built], max((area for _, area in built), default=0)

    def _raw_type(self, core: str, ty: ir.Type | None) -> str:
        r = self.resolve(ty) if ty is not None else None
        signed = isinstance(r, ir.Builtin) and r.name in SIGNED
        return {"i32": "i32" if signed else "u32", "i64": "i64" if signed else "u64"}.get(
            core, core)

    def _function(self, module: ir.Module, func: ir.Function) -> tuple[Func, int]:
        abi = self.abi(func)
        params_by_name = {p.name: p for p in func.params}
        raw_used: set[str] = set()
        raw_params = []
        for cp in abi.params:
            source = params_by_name.get(cp.source) if cp.role == "value" else None
            raw_params.append(RawParam(unique(ts_name(cp.name), raw_used),
                                       self._raw_type(cp.type, source.type if source else None)))
        result_ty = None
        if func.results and abi.error is None:
            result_ty = func.results[0].type
        raw_result = (self._raw_type(abi.results[0], abi.error or result_ty)
                      if abi.results else "void")

        lw = _Lowering(self)
        used = set(VALUE_RESERVED)
        params: list[tuple[str, str, str]] = []
        local: dict[str, str] = {}
        for p in func.params:
            local[p.name] = unique(lower_camel(p.name), used)
            params.append((local[p.name], self.param_type(p.type), p.docs))
        args: list[str] = []
        values: list[tuple[str, str]] = []  # (type, load expression) of returned outs
        area = 0
        for cp, rp in zip(abi.params, raw_params, strict=True):
            if cp.role == "out":
                out_ty = abi.outs[cp.index]
                if self.shape(out_ty) == "struct":
                    pname = unique(lower_camel(cp.name.removesuffix("_ptr")), used)
                    which = "the result" if len(abi.outs) == 1 else f"result {cp.index}"
                    params.append((pname, self.spell(out_ty), f"Receives {which} from the host."))
                    args.append(f"<u32>__rt.addr({pname})")
                else:
                    area = align_to(area, self.align(out_ty))
                    values.append(self._load(out_ty, area))
                    args.append(f"<u32>(__retArea + {area})")
                    area += self.size(out_ty)
            else:
                args.append(lw.arg(cp, local[cp.source], params_by_name[cp.source].type, rp.type))

        body = list(lw.setup)
        if values:
            body.insert(0, f"__rt.zero(__retArea, {area});")
        raw_name = self._raw_names[(module.name, func.name)]
        call = f"raw.{raw_name}({', '.join(args)})"
        error = self.spell(abi.error) if abi.error is not None else ""
        values_class = None
        if len(values) > 1:
            vname = self._values_names[(module.name, func.name)]
            values_class = ValuesClass(vname, f"The values `{lower_camel(func.name)}` returns.",
                                       [(f"_{i}", t) for i, (t, _) in enumerate(values)])
            value_type = vname
            value_expr = f"new {vname}({', '.join(e for _, e in values)})"
        elif values:
            value_type, value_expr = values[0]
        else:
            value_type = value_expr = ""

        release = ["__rt.release();"] if lw.pinned else []
        if error:
            body.append(f"const __err = <{error}>{call};")
            body += release
            if value_type:
                returns = f"Result<{value_type}, {error}>"
                body.append(f"return new Result<{value_type}, {error}>(__err, {value_expr});")
            else:
                returns = error
                body.append("return __err;")
        elif raw_result != "void" and result_ty is not None:
            returns = self.spell(result_ty)
            body.append(f"const __ret = <{returns}>{call};")
            body += release
            body.append("return __ret;")
        else:
            body.append(f"{call};")
            body += release
            returns = value_type or "void"
            if value_type:
                body.append(f"return {value_expr};")

        docs = _function_docs(func.docs, params, func.noreturn)
        return Func(func.name, raw_name, raw_params, raw_result,
                    self._func_names[(module.name, func.name)], docs, params, returns, body,
                    values_class), area

    def _load(self, ty: ir.Type, offset: int) -> tuple[str, str]:
        if self.shape(ty) == "list":
            ptr_off, len_off = self._list_halves()
            return "Slice", (f"__rt.slice(__retArea + {offset + ptr_off}, "
                             f"__retArea + {offset + len_off})")
        t = self.spell(ty)
        return t, f"__rt.get<{t}>(__retArea + {offset})"

    # ---- files ---------------------------------------------------------------------------

    def file_for(self, module: ir.Module | None) -> str:
        """The file a module's bindings go to (a document without modules: its types)."""
        n = snake(module.name if module is not None else Path(self.doc.path).stem) or "witx"
        return f"{n}_.ts" if n == RT_FILE else f"{n}.ts"

    def generate(self) -> dict[str, str]:
        files = {f"{RT_FILE}.ts": self.render("witx_rt.ts.jinja")}
        decls = self.decls()
        modules: list[ir.Module | None] = list(self.doc.modules) or [None]
        for module in modules:
            funcs, area = self.functions(module) if module is not None else ([], 0)
            name = self.file_for(module)
            if name in files:
                raise GenerateError(f"two modules map to the file {name}")
            files[name] = self.render("module.ts.jinja", module=module, decls=decls,
                                      funcs=funcs, area=area, rt=RT_FILE)
        return files

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {**super().filters(), "doclines": doc_lines, "jsdoc": jsdoc, "ts_str": json.dumps,
                "basename": lambda p: Path(p).name}


def _function_docs(docs: str, params: list[tuple[str, str, str]], noreturn: bool) -> str:
    parts = [docs.strip("\n")] if docs.strip() else []
    tags = [f"@param {name} {text.strip()}".rstrip() for name, _, text in params if text.strip()]
    if noreturn:
        tags.append("Does not return: the host ends the program.")
    if tags:
        parts.append("\n".join(tags))
    return "\n\n".join(parts)


def jsdoc(text: str, indent: str = "") -> str:
    """A `/** */` block with a trailing newline, or "" for no docs."""
    lines = doc_lines(text)
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    body = "".join(f"{indent} *{' ' + line if line else ''}\n" for line in lines)
    return f"{indent}/**\n{body}{indent} */\n"


def doc_lines(text: str) -> list[str]:
    """Doc text as the lines of a `/** */` block (a `*/` inside would end it early)."""
    if not text.strip():
        return []
    return [line.rstrip().replace("*/", "*\\/") for line in text.strip("\n").splitlines()]


class _Padding:
    """Private fields that fill [start, end) without raising the class past its alignment."""

    def __init__(self, align: int) -> None:
        self.align = align
        self.count = 0

    def fill(self, start: int, end: int) -> list[Member]:
        out = []
        while start < end:
            k = next(k for k in (8, 4, 2, 1)
                     if k <= self.align and start % k == 0 and start + k <= end)
            out.append(Member("pad", f"__pad{self.count}", f"u{k * 8}", offset=start))
            self.count += 1
            start += k
        return out


class _Lowering:
    """Statements that turn a wrapper's params into core args; temporaries are pinned in rt."""

    def __init__(self, target: AssemblyScriptTarget) -> None:
        self.t = target
        self.setup: list[str] = []
        self.pinned = False
        self.n = 0
        self._pending: dict[str, tuple[str, str]] = {}  # witx param → (ptr, len) exprs

    def tmp(self, base: str) -> str:
        self.n += 1
        return f"__{base}{self.n}"

    def arg(self, cp: CoreParam, name: str, ty: ir.Type, raw_type: str) -> str:
        if cp.role == "value":
            return f"<{raw_type}>{name}"
        if cp.role == "addr":
            return f"<u32>__rt.addr({name})"
        if cp.source not in self._pending:
            self._pending[cp.source] = self.lower(name, ty, self.setup, "")
        ptr, length = self._pending[cp.source]
        return f"<u32>{ptr}" if cp.role == "ptr" else f"<u32>{length}"

    def lower(self, expr: str, ty: ir.Type, out: list[str], indent: str) -> tuple[str, str]:
        """(ptr, len) expressions of a list or string value."""
        r = self.t.resolve(ty)
        if isinstance(r, ir.String):
            self.pinned = True
            v = self.tmp("utf8")
            out.append(f"{indent}const {v} = __rt.utf8({expr});")
            return f"__rt.addr({v})", f"{v}.byteLength"
        assert isinstance(r, ir.List)
        if self.t.byte_list(r):
            return f"{expr}.dataStart", f"{expr}.byteLength"
        if self.t.direct_list(r):
            return f"{expr}.dataStart", f"{expr}.length"
        self.pinned = True
        size = self.t.size(r.element)
        buf, i = self.tmp("buf"), self.tmp("i")
        out.append(f"{indent}const {buf} = __rt.addr(__rt.temp({expr}.length * {size}));")
        out.append(f"{indent}for (let {i} = 0; {i} < {expr}.length; {i}++) {{")
        self.store(f"{expr}[{i}]", r.element, f"{buf} + <usize>{i} * {size}", out, indent + "  ")
        out.append(f"{indent}}}")
        return buf, f"{expr}.length"

    def store(self, expr: str, ty: ir.Type, addr: str, out: list[str], indent: str) -> None:
        shape = self.t.shape(ty)
        if shape == "scalar":
            out.append(f"{indent}__rt.set<{self.t.spell(ty)}>({addr}, {expr});")
        elif shape == "struct":
            out.append(f"{indent}__rt.copy({addr}, __rt.addr({expr}), {self.t.size(ty)});")
        else:
            v = self.tmp("el")
            out.append(f"{indent}const {v} = {expr};")
            ptr, length = self.lower(v, ty, out, indent)
            ptr_off, len_off = self.t._list_halves()
            out.append(f"{indent}__rt.set<u32>({addr} + {ptr_off}, <u32>{ptr});")
            out.append(f"{indent}__rt.set<u32>({addr} + {len_off}, <u32>{length});")

