"""Syntax trees → one frozen `ir.Document`, collecting every error before raising.

This pass owns the meaning of witx: name resolution, duplicate and cycle checks, repr
and tag rules, and the normalisation of the old dialect into the IR's single form
(documented in `ir`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from . import ir
from . import syntax as s
from .diagnostics import DiagnosticSink, Related, Span, WitxError
from .parser import MAX_DEPTH

UNSIGNED_REPRS = {"u8": 8, "u16": 16, "u32": 32, "u64": 64}
INT_RANGES = {
    **{u: (0, (1 << bits) - 1) for u, bits in UNSIGNED_REPRS.items()},
    "s8": (-(1 << 7), (1 << 7) - 1),
    "s16": (-(1 << 15), (1 << 15) - 1),
    "s32": (-(1 << 31), (1 << 31) - 1),
    "s64": (-(1 << 63), (1 << 63) - 1),
    "usize": (0, (1 << 32) - 1),
    "char8": (0, 255),
}
SCALAR_RESULT_TYPES = (ir.Builtin, ir.Enum, ir.Flags, ir.Handle, ir.Pointer)
_LEAVES = (Span, s.Ident, s.CaseName)  # hold no types; the tree walks skip them (speed)
HINT_BUDGET = 20_000
"""Typename comparisons that "did you mean" suggestions may make in one validation."""


def smallest_repr(count: int) -> str:
    """The narrowest unsigned repr that numbers `count` cases from 0."""
    for name, bits in UNSIGNED_REPRS.items():
        if count <= 1 << bits:
            return name
    return "u64"


def is_old_dialect(doc: s.DocumentSyn) -> bool:
    """True when a file uses constructs that exist only before witx 0.9."""
    stack: list[object] = list(doc.items)
    while stack:
        node = stack.pop()
        if isinstance(node, (s.ListSyn, s.RecordSyn)) and node.old_dialect:
            return True
        if isinstance(node, (s.EnumSyn, s.FlagsSyn)) and node.repr and node.repr.old:
            return True
        if isinstance(node, s.IntSyn) or (isinstance(node, s.UnionSyn) and node.old_dialect):
            return True
        if isinstance(node, s.FunctionSyn) and len(node.results) > 1:
            return True
        if hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                value = getattr(node, name)
                if isinstance(value, tuple) and value and not isinstance(value[0], _LEAVES):
                    stack.extend(value)
                elif hasattr(value, "__dataclass_fields__") and not isinstance(value, _LEAVES):
                    stack.append(value)
    return False


class _Validator:
    def __init__(self, docs: Sequence[s.DocumentSyn]) -> None:
        self.sink = DiagnosticSink()
        self.docs = docs
        # One dialect per document: an old-dialect module file may hold no old-only construct
        # itself (its types live in the typenames file it `use`s).
        self.old_dialect = any(is_old_dialect(d) for d in docs)
        self.typenames: dict[str, s.TypenameSyn] = {}
        self.converted: dict[str, ir.Type] = {}
        self.in_progress: list[str] = []
        self.bad_types: set[str] = set()
        self.deps: dict[str, list[str]] = {}
        self.depth: dict[str, int] = {}  # nesting levels of each typename, through references
        self.hints: dict[str, str] = {}
        self.hint_budget = HINT_BUDGET
        self.names_length = 0  # total length of the typenames, set once they are known

    # ---- diagnostics helpers ----------------------------------------------

    def error(self, code: str, msg: str, span: Span | None, *related: Related) -> None:
        self.sink.error(code, msg, span, related)

    def check_duplicates(
        self, what: str, names: Iterable[s.Ident], code: str, sigil: str = "$"
    ) -> None:
        seen: dict[str, s.Ident] = {}
        for ident in names:
            first = seen.get(ident.name)
            if first is None:
                seen[ident.name] = ident
            else:
                self.error(
                    code,
                    f"duplicate {what} `{sigil}{ident.name}`",
                    ident.span,
                    Related(first.span, "first defined here"),
                )

    # ---- entry point ------------------------------------------------------

    def run(self) -> ir.Document:
        typenames: list[s.TypenameSyn] = []
        consts: list[s.ConstDeclSyn] = []
        modules: list[s.ModuleSyn] = []
        for doc in self.docs:
            for item in doc.items:
                if isinstance(item, s.TypenameSyn):
                    typenames.append(item)
                elif isinstance(item, s.ConstDeclSyn):
                    consts.append(item)
                elif isinstance(item, s.ModuleSyn):
                    modules.append(item)
        self.check_duplicates("type", (t.name for t in typenames), "duplicate-type")
        for t in typenames:
            self.typenames.setdefault(t.name.name, t)
        self.names_length = sum(map(len, self.typenames))

        typedefs = []
        for t in typenames:
            if self.typenames[t.name.name] is not t:
                self.type(t.type)  # a duplicate's body can still hold errors worth reporting
                continue
            ty = self.typedef_type(t.name.name)
            constants = self.int_constants(t)
            typedefs.append(ir.TypeDef(t.name.name, ty, t.docs, constants, t.span))
        self.report_cycles()
        self.report_depth()
        typedefs = self.attach_consts(typedefs, consts)

        self.check_duplicates("module", (m.name for m in modules), "duplicate-module")
        ir_modules = tuple(self.module(m) for m in modules)
        if self.sink:
            raise WitxError(self.sink.diagnostics)
        return ir.Document(tuple(typedefs), ir_modules)

    # ---- type definitions ---------------------------------------------------

    def typedef_type(self, name: str) -> ir.Type:
        """The IR type of typename `name`, converting it on first use (tags need this)."""
        if name in self.converted:
            return self.converted[name]
        if name in self.in_progress:
            cycle = self.in_progress[self.in_progress.index(name) :] + [name]
            if name not in self.bad_types:
                self.bad_types.update(cycle)
                syn = self.typenames[name]
                path = " → ".join(f"${n}" for n in cycle)
                self.error("recursive-type", f"recursive type `${name}` ({path})", syn.name.span)
            return ir.Builtin("u32")  # placeholder so conversion can go on
        self.in_progress.append(name)
        syn = self.typenames[name]
        if isinstance(syn.type, s.IntSyn):
            ty: ir.Type = self.int_type(syn.type)
        else:
            ty = self.type(syn.type)
        self.in_progress.pop()
        self.converted[name] = ty
        return ty

    def int_type(self, syn: s.IntSyn) -> ir.Type:
        if syn.repr.name not in ir.INT_TYPES:
            self.error(
                "invalid-repr", f"`int` needs an integer type, not `{syn.repr.name}`", syn.repr.span
            )
            return ir.Builtin("u64")
        return ir.Builtin(syn.repr.name)

    def int_constants(self, t: s.TypenameSyn) -> tuple[ir.Constant, ...]:
        if not isinstance(t.type, s.IntSyn):
            return ()
        self.check_duplicates("constant", (c.name for c in t.type.consts), "duplicate-const")
        out = []
        for c in t.type.consts:
            self.check_fits(c.value, t.type.repr.name, c.span)
            out.append(ir.Constant(c.name.name, c.value, c.docs, c.span))
        return tuple(out)

    def attach_consts(
        self, typedefs: list[ir.TypeDef], consts: list[s.ConstDeclSyn]
    ) -> list[ir.TypeDef]:
        by_type: dict[str, list[s.ConstDeclSyn]] = {}
        for c in consts:
            if c.type_name.name not in self.typenames:
                self.unknown_type(c.type_name.name, c.type_name.span)
                continue
            by_type.setdefault(c.type_name.name, []).append(c)
        out = []
        for td in typedefs:
            extra = by_type.get(td.name, [])
            if extra:
                existing = {k.name: k for k in td.constants}
                resolved = self.resolve_shallow(td.type)
                if not (isinstance(resolved, ir.Builtin) and resolved.name in INT_RANGES):
                    self.error(
                        "const-type",
                        f"constants need an integer type; `${td.name}` is not",
                        extra[0].type_name.span,
                    )
                    continue
                self.check_duplicates("constant", (c.name for c in extra), "duplicate-const")
                new = []
                for c in extra:
                    if c.name.name in existing:
                        self.error(
                            "duplicate-const", f"duplicate constant `${c.name.name}`", c.name.span
                        )
                    self.check_fits(c.value, resolved.name, c.span)
                    new.append(ir.Constant(c.name.name, c.value, c.docs, c.span))
                td = ir.TypeDef(td.name, td.type, td.docs, td.constants + tuple(new), td.span)
            out.append(td)
        return out

    def check_fits(self, value: int, repr_name: str, span: Span) -> None:
        lo, hi = INT_RANGES.get(repr_name, (None, None))
        if lo is not None and hi is not None and not lo <= value <= hi:
            self.error("out-of-range", f"value {value} does not fit in `{repr_name}`", span)

    def resolve_shallow(self, ty: ir.Type) -> ir.Type:
        """Follow references (converting on demand); a broken chain gives a placeholder."""
        seen = set()
        while isinstance(ty, ir.Ref) and ty.name not in seen:
            seen.add(ty.name)
            if ty.name not in self.typenames:
                return ir.Builtin("u32")
            ty = self.typedef_type(ty.name)
        return ir.Builtin("u32") if isinstance(ty, ir.Ref) else ty

    def report_cycles(self) -> None:
        """Find reference cycles among typenames with an iterative depth-first search, and
        measure each typename's nesting depth once its references are measured."""
        deps = self.deps = {name: _refs_in(syn.type) for name, syn in self.typenames.items()}
        state: dict[str, int] = {}  # 1: on the current path, 2: finished
        for root in deps:
            if root in state:
                continue
            state[root] = 1
            path, stack = [root], [iter(deps[root])]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    done = path.pop()
                    state[done] = 2
                    self.depth[done] = _nesting(self.typenames[done].type, self.depth)
                    stack.pop()
                elif nxt in deps and nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(deps[nxt]))
                elif state.get(nxt) == 1:
                    cycle = path[path.index(nxt) :] + [nxt]
                    if not self.bad_types & set(cycle):
                        self.bad_types.update(cycle)
                        shown = " → ".join(f"${n}" for n in cycle)
                        span = self.typenames[nxt].name.span
                        self.error("recursive-type", f"recursive type `${nxt}` ({shown})", span)

    def report_depth(self) -> None:
        """Types may nest at most MAX_DEPTH levels counting through references, since layout
        and the targets recurse through them. Only the innermost typename past it is named."""
        for name, syn in self.typenames.items():
            if self.depth.get(name, 0) > MAX_DEPTH and all(
                self.depth.get(d, 0) <= MAX_DEPTH for d in self.deps[name]
            ):
                self.error(
                    "too-deep",
                    f"type `${name}` nests deeper than {MAX_DEPTH} levels through its references",
                    syn.name.span,
                )

    def unknown_type(self, name: str, span: Span) -> None:
        if name not in self.hints:
            # difflib compares with every typename, at a cost growing with both lengths, and
            # hostile input can hold thousands of unknown names: suggestions stop past a budget.
            self.hint_budget -= len(self.typenames) + len(name) * self.names_length // 100
            close = []
            if self.hint_budget >= 0:
                close = difflib.get_close_matches(name, list(self.typenames), n=1)
            self.hints[name] = f"; did you mean `${close[0]}`?" if close else ""
        self.error("unknown-type", f"unknown type `${name}`{self.hints[name]}", span)

    # ---- type expressions ---------------------------------------------------

    def type(self, syn: s.TypeSyn) -> ir.Type:  # noqa: C901 - one branch per type kind
        if isinstance(syn, s.RefSyn):
            # References are not followed here (long chains must not recurse); cycles are
            # found by report_cycles and referenced types are converted in their own turn.
            if syn.name not in self.typenames:
                self.unknown_type(syn.name, syn.span)
            return ir.Ref(syn.name)
        if isinstance(syn, s.BuiltinSyn):
            return ir.String() if syn.name == "string" else ir.Builtin(syn.name)
        if isinstance(syn, s.ListSyn):
            return ir.List(self.type(syn.element))
        if isinstance(syn, s.PointerSyn):
            return ir.Pointer(self.type(syn.element), syn.const)
        if isinstance(syn, s.HandleSyn):
            return ir.Handle()
        if isinstance(syn, s.RecordSyn):
            self.check_duplicates("field", (f.name for f in syn.fields), "duplicate-field")
            return ir.Record(
                tuple(ir.Field(f.name.name, self.type(f.type), f.docs, f.span) for f in syn.fields)
            )
        if isinstance(syn, s.TupleSyn):
            return ir.Tuple(tuple(self.type(t) for t in syn.types))
        if isinstance(syn, s.EnumSyn):
            return self.enum(syn)
        if isinstance(syn, s.FlagsSyn):
            return self.flags(syn)
        if isinstance(syn, s.VariantSyn):
            return self.variant(syn)
        if isinstance(syn, s.UnionSyn):
            return self.union(syn)
        if isinstance(syn, s.ExpectedSyn):
            return ir.Expected(
                self.type(syn.ok) if syn.ok else None,
                self.type(syn.error) if syn.error else None,
            )
        if isinstance(syn, s.IntSyn):
            self.error(
                "misplaced-int", "`int` may only appear directly inside a typename", syn.span
            )
            return self.int_type(syn)
        raise AssertionError(f"unhandled syntax node {type(syn).__name__}")

    def repr_of(self, repr_syn: s.ReprSyn | None, count: int, what: str, span: Span) -> str:
        if repr_syn is None:
            return smallest_repr(count)
        if repr_syn.name not in UNSIGNED_REPRS:
            self.error(
                "invalid-repr",
                f"invalid repr `{repr_syn.name}` for {what}; expected u8, u16, u32 or u64",
                repr_syn.span,
            )
            return smallest_repr(count)
        return repr_syn.name

    def enum(self, syn: s.EnumSyn) -> ir.Enum:
        names = [c.name for c in syn.cases]
        self.check_duplicates("enum case", names, "duplicate-case")
        repr_name = self.repr_of(syn.repr, len(names), "an enum", syn.span)
        limit = 1 << UNSIGNED_REPRS[repr_name]
        if len(names) > limit:
            self.error(
                "tag-overflow",
                f"{len(names)} cases do not fit in tag `{repr_name}` (at most {limit})",
                names[limit].span,
            )
        if not names:
            self.error("empty-enum", "an enum needs at least one case", syn.span)
        return ir.Enum(
            repr_name, tuple(ir.Case(c.name.name, c.docs, c.name.span) for c in syn.cases)
        )

    def flags(self, syn: s.FlagsSyn) -> ir.Flags:
        names = [c.name for c in syn.flags]
        self.check_duplicates("flag", names, "duplicate-case")
        repr_name = syn.repr.name if syn.repr else "u32"
        if syn.repr is None:
            repr_name = next((r for r, b in UNSIGNED_REPRS.items() if len(names) <= b), "u64")
        else:
            repr_name = self.repr_of(syn.repr, len(names), "flags", syn.span)
        bits = UNSIGNED_REPRS[repr_name]
        if len(names) > bits:
            self.error(
                "too-many-flags",
                f"{len(names)} flags do not fit in `{repr_name}` (at most {bits})",
                names[bits].span,
            )
        return ir.Flags(
            repr_name, tuple(ir.Case(c.name.name, c.docs, c.name.span) for c in syn.flags)
        )

    def tag_enum(self, tag: s.TypeSyn) -> tuple[str | None, ir.Enum | None, str | None]:
        """(enum name, enum, repr) of a variant's tag; a bare unsigned int is allowed too."""
        if isinstance(tag, s.BuiltinSyn) and tag.name in UNSIGNED_REPRS:
            return None, None, tag.name
        if isinstance(tag, s.RefSyn) and tag.name in self.typenames:
            # Converting a typename on demand recurses; a chain of variants tagged by
            # variants would exhaust the stack, so only (aliases of) enums are converted here.
            resolved = None
            if isinstance(self.alias_target(tag.name), (s.EnumSyn, s.RefSyn)):
                resolved = self.resolve_shallow(ir.Ref(tag.name))
            if isinstance(resolved, ir.Enum):
                return tag.name, resolved, resolved.repr
            self.error("tag-not-enum", f"variant tag `${tag.name}` is not an enum", tag.span)
            return None, None, None
        if isinstance(tag, s.RefSyn):
            self.unknown_type(tag.name, tag.span)
            return None, None, None
        self.error(
            "tag-not-enum", "a variant tag must name an enum or an unsigned integer type", tag.span
        )
        return None, None, None

    def alias_target(self, name: str) -> s.TypeSyn:
        """The syntax that typename `name`'s alias chain ends at (a ref if broken or cyclic)."""
        syn = self.typenames[name].type
        seen = {name}
        while isinstance(syn, s.RefSyn) and syn.name in self.typenames and syn.name not in seen:
            seen.add(syn.name)
            syn = self.typenames[syn.name].type
        return syn

    def variant_cases(
        self, tag: s.TypeSyn | None, cases: Sequence[s.CaseSyn], span: Span
    ) -> tuple[str, str | None, tuple[ir.VariantCase, ...], ir.Enum | None]:
        self.check_duplicates("variant case", (c.name for c in cases), "duplicate-case")
        tag_name, tag_enum, repr_name = self.tag_enum(tag) if tag else (None, None, None)
        values: dict[str, int] = {}  # built once: a per-case scan is quadratic in the cases
        for i, k in enumerate(tag_enum.cases if tag_enum else ()):
            values.setdefault(k.name, i)  # a repeated name keeps its first value
        out = []
        for i, c in enumerate(cases):
            value = i
            if tag_enum is not None:
                if c.name.name not in values:
                    self.error(
                        "case-not-in-tag",
                        f"case `${c.name.name}` is not a case of tag enum `${tag_name}`",
                        c.name.span,
                    )
                else:
                    value = values[c.name.name]
            out.append(
                ir.VariantCase(
                    c.name.name, self.type(c.type) if c.type else None, value, c.docs, c.span
                )
            )
        if repr_name is None:
            repr_name = smallest_repr(len(cases))
        elif tag_enum is None and len(cases) > 1 << UNSIGNED_REPRS[repr_name]:
            self.error("tag-overflow", f"{len(cases)} cases do not fit in tag `{repr_name}`", span)
        if not cases:
            self.error("empty-variant", "a variant needs at least one case", span)
        return repr_name, tag_name, tuple(out), tag_enum

    def variant(self, syn: s.VariantSyn) -> ir.Variant:
        repr_name, tag_name, cases, tag_enum = self.variant_cases(syn.tag, syn.cases, syn.span)
        return ir.Variant(repr_name, tag_name, cases, _variant_kind(cases, tag_enum))

    def union(self, syn: s.UnionSyn) -> ir.Variant:
        if syn.old_dialect:
            if syn.payloads:
                self.error(
                    "syntax",
                    "old-dialect union items must be `(field …)` or `(empty …)`",
                    syn.payloads[0].span,
                )
            repr_name, tag_name, cases, tag_enum = self.variant_cases(syn.tag, syn.cases, syn.span)
            return ir.Variant(repr_name, tag_name, cases, _variant_kind(cases, tag_enum))
        tag_name, tag_enum, tag_repr = self.tag_enum(syn.tag) if syn.tag else (None, None, None)
        payloads = [self.type(t) for t in syn.payloads]
        if tag_enum is not None:
            if len(payloads) != len(tag_enum.cases):
                self.error(
                    "union-arity",
                    f"union has {len(payloads)} payloads but tag `${tag_name}` has "
                    f"{len(tag_enum.cases)} cases",
                    syn.span,
                )
            names = [c.name for c in tag_enum.cases]
        else:
            names = [str(i) for i in range(len(payloads))]
        if not payloads:
            self.error("empty-variant", "a union needs at least one payload type", syn.span)
        pairs = zip(names, payloads, strict=False)  # an arity mismatch was reported above
        cases = tuple(ir.VariantCase(n, p, i) for i, (n, p) in enumerate(pairs))
        return ir.Variant(tag_repr or smallest_repr(len(cases)), tag_name, cases, "union")

    # ---- modules and functions ----------------------------------------------

    def module(self, m: s.ModuleSyn) -> ir.Module:
        self.check_duplicates(
            "function",
            (s.Ident(f.name, f.name_span) for f in m.functions),
            "duplicate-function",
            sigil="",
        )
        funcs = tuple(self.function(f, self.old_dialect) for f in m.functions)
        return ir.Module(m.name.name, funcs, tuple(i.name for i in m.imports), m.docs, m.span)

    def function(self, f: s.FunctionSyn, old: bool) -> ir.Function:
        self.check_duplicates(
            "parameter", (p.name for p in (*f.params, *f.results)), "duplicate-param"
        )
        params = tuple(ir.Param(p.name.name, self.type(p.type), p.docs, p.span) for p in f.params)
        results = tuple(ir.Param(r.name.name, self.type(r.type), r.docs, r.span) for r in f.results)
        if f.noreturn and results:
            self.error(
                "noreturn-result", "a `noreturn` function cannot have results", f.results[0].span
            )
            return ir.Function(f.name, params, (), True, f.docs, f.span)
        results = self.normalise_results(f, results, old)
        return ir.Function(f.name, params, results, f.noreturn, f.docs, f.span)

    def normalise_results(
        self, f: s.FunctionSyn, results: tuple[ir.Param, ...], old: bool
    ) -> tuple[ir.Param, ...]:
        if not results:
            return ()
        first = results[0]
        first_resolved = self.resolve_shallow(first.type)
        if len(results) > 1 or (old and isinstance(first_resolved, ir.Enum)):
            # Old dialect: the first result is the error code, the others come back
            # through out-pointers; that is exactly `(expected (tuple …) (error E))`.
            if not self.is_error_code(first_resolved):
                self.error(
                    "result-shape",
                    "with several results the first must be an error enum or integer",
                    f.results[0].type.span,
                )
                return ()
            rest = [r.type for r in results[1:]]
            ok = None if not rest else rest[0] if len(rest) == 1 else ir.Tuple(tuple(rest))
            return (ir.Param(first.name, ir.Expected(ok, first.type), first.docs, first.span),)
        if isinstance(first_resolved, ir.Expected):
            if first_resolved.error is None:
                self.error(
                    "result-shape",
                    "an `expected` result needs an `(error …)` type to return",
                    f.results[0].type.span,
                )
            elif not self.is_error_code(self.resolve_shallow(first_resolved.error)):
                self.error(
                    "result-shape",
                    "the error type of a result must be an enum or an integer",
                    f.results[0].type.span,
                )
            return results
        if not isinstance(first_resolved, SCALAR_RESULT_TYPES) or (
            isinstance(first_resolved, ir.Builtin) and first_resolved.name == "bool"
        ):
            self.error(
                "result-shape",
                "a result must be a scalar or `(expected T (error E))`; "
                "the core ABI cannot return this type",
                f.results[0].type.span,
            )
        return results

    @staticmethod
    def is_error_code(ty: ir.Type) -> bool:
        return isinstance(ty, ir.Enum) or (isinstance(ty, ir.Builtin) and ty.name in INT_RANGES)


def _refs_in(syn: s.TypeSyn) -> list[str]:
    """Names a type expression refers to, in order, without recursion."""
    names: dict[str, None] = {}  # ordered and O(1) to test, for types with many refs
    stack: list[object] = [syn]
    while stack:
        node = stack.pop()
        if isinstance(node, s.RefSyn):
            names.setdefault(node.name)
        elif hasattr(node, "__dataclass_fields__"):
            for name in reversed(list(node.__dataclass_fields__)):
                value = getattr(node, name)
                if isinstance(value, tuple) and value and not isinstance(value[0], _LEAVES):
                    stack.extend(reversed(value))
                elif hasattr(value, "__dataclass_fields__") and not isinstance(value, _LEAVES):
                    stack.append(value)
    return list(names)


def _nesting(syn: s.TypeSyn, named: dict[str, int]) -> int:
    """Levels of type expressions in `syn`, a reference counting as its target's levels."""
    deepest = 0
    stack: list[tuple[object, int]] = [(syn, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, s.TypeSyn):
            level += 1 + (named.get(node.name, 0) if isinstance(node, s.RefSyn) else 0)
            deepest = max(deepest, level)
        for name in getattr(node, "__dataclass_fields__", ()):
            value = getattr(node, name)
            if isinstance(value, _TYPE_PARTS):  # not spans, names or enum cases: speed
                stack.append((value, level))
            elif isinstance(value, tuple) and value and isinstance(value[0], _TYPE_PARTS):
                stack.extend((v, level) for v in value)
    return deepest


_TYPE_PARTS = (s.TypeSyn, s.FieldSyn, s.CaseSyn)


def _variant_kind(cases: tuple[ir.VariantCase, ...], tag_enum: ir.Enum | None) -> str:
    if tag_enum is None:
        return "variant"
    in_order = [c.name for c in cases] == [k.name for k in tag_enum.cases]
    all_payloads = all(c.type is not None for c in cases)
    no_docs = all(not c.docs for c in cases)  # a positional union has nowhere to put docs
    return "union" if in_order and all_payloads and no_docs else "variant"


def validate(docs: Sequence[s.DocumentSyn]) -> ir.Document:
    """Validate parsed files (entry file last-loaded order) into one Document."""
    return _Validator(docs).run()
