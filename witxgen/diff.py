"""Semantic comparison of two specs: what changed, and whether old binaries still work.

A change is *breaking* when a guest or host built from the OLD spec misbehaves against
one built from the NEW one: an enum case renumbered, a layout or core signature changed,
something removed, an import renamed. It is *compatible* when old binaries keep working:
additions at the end, renamed types/fields/params/cases (same position and shape), docs.
Renames are found by position and structure once names no longer match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from . import ir
from .abi import function_abi
from .abi_report import kind_of
from .layout import Layouts, RecordLayout, VariantLayout

T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    scope: str  # "type tensor_type" or "module wasi_ephemeral_nn"
    item: str  # "case u8", "field data", "function load", "layout", ""
    change: str  # added, removed, renamed, renumbered, changed, layout, signature, docs
    breaking: bool
    message: str
    old: Any = None
    new: Any = None


@dataclass
class SpecDiff:
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "breaking": self.breaking,
            "summary": {
                "breaking": sum(c.breaking for c in self.changes),
                "compatible": sum(not c.breaking for c in self.changes),
            },
            "changes": [asdict(c) for c in self.changes],
        }


def _match(
    old: Sequence[T],
    new: Sequence[T],
    name: Callable[[T], str],
    similar: Callable[[T, T], bool],
) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """Pair items by name, then leftovers at the same position (or of the same shape)
    as renames. Returns (pairs, removed, added); renamed pairs have differing names."""
    new_by_name = {name(n): n for n in new}
    pairs = [(o, new_by_name[name(o)]) for o in old if name(o) in new_by_name]
    paired_new = {name(n) for _, n in pairs}
    removed = [o for o in old if name(o) not in new_by_name]
    added = [n for n in new if name(n) not in paired_new]
    new_index = {name(n): i for i, n in enumerate(new)}
    old_index = {name(o): i for i, o in enumerate(old)}
    for o in list(removed):
        i = old_index[name(o)]
        same_pos = [a for a in added if new_index[name(a)] == i and similar(o, a)]
        candidates = same_pos or [a for a in added if similar(o, a)]
        if candidates:
            pairs.append((o, candidates[0]))
            removed.remove(o)
            added.remove(candidates[0])
    return pairs, removed, added


class _Differ:
    def __init__(self, old: ir.Document, new: ir.Document) -> None:
        self.old, self.new = old, new
        self.old_layouts, self.new_layouts = Layouts(old), Layouts(new)
        self.out = SpecDiff()
        self.renames: dict[str, str] = {}  # old type name → new type name

    def add(
        self,
        scope: str,
        item: str,
        change: str,
        breaking: bool,
        message: str,
        old: Any = None,
        new: Any = None,
    ) -> None:
        self.out.changes.append(Change(scope, item, change, breaking, message, old, new))

    # ---- structural equality across the two documents -----------------------

    def same(self, a: ir.Type | None, b: ir.Type | None) -> bool:
        """Same shape, with old type names mapped through detected renames; docs ignored."""
        if a is None or b is None:
            return a is b
        if isinstance(a, ir.Ref) and isinstance(b, ir.Ref):
            return self.renames.get(a.name, a.name) == b.name
        if type(a) is not type(b):
            return False
        if isinstance(a, ir.Builtin | ir.String | ir.Handle):
            return a == b
        if isinstance(a, ir.List) and isinstance(b, ir.List):
            return self.same(a.element, b.element)
        if isinstance(a, ir.Pointer) and isinstance(b, ir.Pointer):
            return a.const == b.const and self.same(a.element, b.element)
        if isinstance(a, ir.Enum) and isinstance(b, ir.Enum):
            return a.repr == b.repr and [c.name for c in a.cases] == [c.name for c in b.cases]
        if isinstance(a, ir.Flags) and isinstance(b, ir.Flags):
            return a.repr == b.repr and [c.name for c in a.flags] == [c.name for c in b.flags]
        if isinstance(a, ir.Record) and isinstance(b, ir.Record):
            return len(a.fields) == len(b.fields) and all(
                x.name == y.name and self.same(x.type, y.type)
                for x, y in zip(a.fields, b.fields, strict=True)
            )
        if isinstance(a, ir.Tuple) and isinstance(b, ir.Tuple):
            return len(a.types) == len(b.types) and all(
                self.same(x, y) for x, y in zip(a.types, b.types, strict=True)
            )
        if isinstance(a, ir.Variant) and isinstance(b, ir.Variant):
            return (
                a.tag_repr == b.tag_repr
                and len(a.cases) == len(b.cases)
                and all(
                    x.name == y.name and x.value == y.value and self.same(x.type, y.type)
                    for x, y in zip(a.cases, b.cases, strict=True)
                )
            )
        if isinstance(a, ir.Expected) and isinstance(b, ir.Expected):
            return self.same(a.ok, b.ok) and self.same(a.error, b.error)
        return False

    # ---- types ----------------------------------------------------------------

    def types(self) -> None:
        def similar(a: ir.TypeDef, b: ir.TypeDef) -> bool:
            return self.same(a.type, b.type)

        pairs, removed, added = _match(self.old.types, self.new.types, lambda t: t.name, similar)
        for o, n in pairs:
            if o.name != n.name:
                self.renames[o.name] = n.name
        for o in removed:
            self.add(f"type {o.name}", "", "removed", True, f"type `{o.name}` was removed")
        for n in added:
            self.add(
                f"type {n.name}",
                "",
                "added",
                False,
                f"type `{n.name}` was added ({kind_of(n.type)})",
            )
        for o, n in pairs:
            self.typedef(o, n)

    def typedef(self, o: ir.TypeDef, n: ir.TypeDef) -> None:
        scope = f"type {n.name}"
        if o.name != n.name:
            self.add(
                scope,
                "",
                "renamed",
                False,
                f"type `{o.name}` is now `{n.name}` (same shape; sources need the new name)",
                o.name,
                n.name,
            )
        ot, nt = o.type, n.type
        if kind_of(ot) != kind_of(nt):
            self.add(
                scope,
                "",
                "changed",
                True,
                f"kind changed from {kind_of(ot)} to {kind_of(nt)}",
                kind_of(ot),
                kind_of(nt),
            )
        elif isinstance(ot, ir.Enum) and isinstance(nt, ir.Enum):
            self.cases(scope, "case", ot.repr, nt.repr, ot.cases, nt.cases, lambda i: i)
        elif isinstance(ot, ir.Flags) and isinstance(nt, ir.Flags):
            self.cases(scope, "flag", ot.repr, nt.repr, ot.flags, nt.flags, lambda i: 1 << i)
        elif isinstance(ot, ir.Record) and isinstance(nt, ir.Record):
            self.record(scope, o.name, n.name, ot, nt)
        elif isinstance(ot, ir.Variant) and isinstance(nt, ir.Variant):
            self.variant(scope, ot, nt)
        elif not self.same(ot, nt):
            self.add(scope, "", "changed", True, "definition changed", _short(ot), _short(nt))
        self.layout(scope, o.name, n.name)
        self.constants(scope, o, n)
        if o.docs != n.docs:
            self.add(scope, "", "docs", False, "documentation changed")

    def layout(self, scope: str, old_name: str, new_name: str) -> None:
        a = self.old_layouts.of(ir.Ref(old_name))
        b = self.new_layouts.of(ir.Ref(new_name))
        if (a.size, a.align) != (b.size, b.align):
            self.add(
                scope,
                "layout",
                "layout",
                True,
                f"size/align {a.size}/{a.align} → {b.size}/{b.align}",
                [a.size, a.align],
                [b.size, b.align],
            )
        if (
            isinstance(a, VariantLayout)
            and isinstance(b, VariantLayout)
            and (a.tag_size, a.payload_offset) != (b.tag_size, b.payload_offset)
        ):
            self.add(
                scope,
                "layout",
                "layout",
                True,
                f"tag size/payload offset {a.tag_size}/{a.payload_offset} → "
                f"{b.tag_size}/{b.payload_offset}",
            )

    def cases(
        self,
        scope: str,
        what: str,
        old_repr: str,
        new_repr: str,
        old: Sequence[ir.Case],
        new: Sequence[ir.Case],
        value: Callable[[int], int],
    ) -> None:
        if old_repr != new_repr:
            self.add(
                scope, "repr", "changed", True, f"repr {old_repr} → {new_repr}", old_repr, new_repr
            )
        old_pos = {c.name: i for i, c in enumerate(old)}
        new_pos = {c.name: i for i, c in enumerate(new)}
        pairs, removed, added = _match(
            old, new, lambda c: c.name, lambda a, b: old_pos[a.name] == new_pos[b.name]
        )
        for o, n in pairs:
            ov, nv = value(old_pos[o.name]), value(new_pos[n.name])
            if o.name != n.name:
                self.add(
                    scope,
                    f"{what} {n.name}",
                    "renamed",
                    False,
                    f"{what} `{o.name}` is now `{n.name}` (value {nv} unchanged)",
                    o.name,
                    n.name,
                )
            if ov != nv:
                self.add(
                    scope,
                    f"{what} {n.name}",
                    "renumbered",
                    True,
                    f"{what} `{n.name}` changed value {ov} → {nv}",
                    ov,
                    nv,
                )
        for o in removed:
            self.add(
                scope,
                f"{what} {o.name}",
                "removed",
                True,
                f"{what} `{o.name}` (value {value(old_pos[o.name])}) was removed",
            )
        for n in added:
            at_end = new_pos[n.name] >= len(old)
            where = "at the end" if at_end else "before existing ones, which renumbers them"
            self.add(
                scope,
                f"{what} {n.name}",
                "added",
                not at_end,
                f"{what} `{n.name}` = {value(new_pos[n.name])} added {where}",
                None,
                value(new_pos[n.name]),
            )

    def record(
        self, scope: str, old_name: str, new_name: str, ot: ir.Record, nt: ir.Record
    ) -> None:
        a = self.old_layouts.of(ir.Ref(old_name))
        b = self.new_layouts.of(ir.Ref(new_name))
        assert isinstance(a, RecordLayout) and isinstance(b, RecordLayout)
        old_off = {f.name: off for f, off in zip(ot.fields, a.offsets, strict=True)}
        new_off = {f.name: off for f, off in zip(nt.fields, b.offsets, strict=True)}

        def similar(x: ir.Field, y: ir.Field) -> bool:
            return old_off[x.name] == new_off[y.name] and self.same(x.type, y.type)

        pairs, removed, added = _match(ot.fields, nt.fields, lambda f: f.name, similar)
        for o, n in pairs:
            item = f"field {n.name}"
            if o.name != n.name:
                self.add(
                    scope,
                    item,
                    "renamed",
                    False,
                    f"field `{o.name}` is now `{n.name}`",
                    o.name,
                    n.name,
                )
            if old_off[o.name] != new_off[n.name]:
                self.add(
                    scope,
                    item,
                    "layout",
                    True,
                    f"field `{n.name}` moved from offset {old_off[o.name]} to {new_off[n.name]}",
                    old_off[o.name],
                    new_off[n.name],
                )
            if not self.same(o.type, n.type):
                self.add(
                    scope,
                    item,
                    "changed",
                    True,
                    f"field `{n.name}` changed type",
                    _short(o.type),
                    _short(n.type),
                )
        for o in removed:
            self.add(scope, f"field {o.name}", "removed", True, f"field `{o.name}` was removed")
        for n in added:
            self.add(
                scope,
                f"field {n.name}",
                "added",
                True,
                f"field `{n.name}` was added at offset {new_off[n.name]}",
            )

    def variant(self, scope: str, ot: ir.Variant, nt: ir.Variant) -> None:
        pairs, removed, added = _match(
            ot.cases, nt.cases, lambda c: c.name, lambda a, b: a.value == b.value
        )
        for o, n in pairs:
            item = f"case {n.name}"
            if o.name != n.name:
                self.add(scope, item, "renamed", False, f"case `{o.name}` is now `{n.name}`")
            if o.value != n.value:
                self.add(
                    scope,
                    item,
                    "renumbered",
                    True,
                    f"case `{n.name}` changed tag {o.value} → {n.value}",
                    o.value,
                    n.value,
                )
            if not self.same(o.type, n.type):
                self.add(scope, item, "changed", True, f"case `{n.name}` changed payload")
        for o in removed:
            self.add(scope, f"case {o.name}", "removed", True, f"case `{o.name}` was removed")
        for n in added:
            self.add(
                scope,
                f"case {n.name}",
                "added",
                n.value < len(ot.cases),
                f"case `{n.name}` = {n.value} was added",
            )

    def constants(self, scope: str, o: ir.TypeDef, n: ir.TypeDef) -> None:
        old = {c.name: c.value for c in o.constants}
        new = {c.name: c.value for c in n.constants}
        for name in old.keys() - new.keys():
            self.add(scope, f"const {name}", "removed", True, f"constant `{name}` was removed")
        for name in new.keys() - old.keys():
            self.add(scope, f"const {name}", "added", False, f"constant `{name}` was added")
        for name in old.keys() & new.keys():
            if old[name] != new[name]:
                self.add(
                    scope,
                    f"const {name}",
                    "renumbered",
                    True,
                    f"constant `{name}` changed value {old[name]} → {new[name]}",
                    old[name],
                    new[name],
                )

    # ---- modules and functions ------------------------------------------------

    def modules(self) -> None:
        single = len(self.old.modules) == len(self.new.modules) == 1
        pairs, removed, added = _match(
            self.old.modules, self.new.modules, lambda m: m.name, lambda a, b: single
        )
        for o in removed:
            self.add(f"module {o.name}", "", "removed", True, f"module `{o.name}` was removed")
        for n in added:
            self.add(f"module {n.name}", "", "added", False, f"module `{n.name}` was added")
        for om, nm in pairs:
            scope = f"module {nm.name}"
            if om.name != nm.name:
                self.add(
                    scope,
                    "",
                    "renamed",
                    True,
                    f"module `{om.name}` is now `{nm.name}`: every import name changes",
                    om.name,
                    nm.name,
                )
            self.functions(scope, om, nm)

    def functions(self, scope: str, om: ir.Module, nm: ir.Module) -> None:
        def sig(doc: ir.Document, f: ir.Function) -> tuple[list[str], tuple[str, ...]]:
            abi = function_abi(doc, f)
            return abi.param_types, abi.results

        def similar(a: ir.Function, b: ir.Function) -> bool:
            return (
                sig(self.old, a) == sig(self.new, b)
                and len(a.params) == len(b.params)
                and all(self.same(x.type, y.type) for x, y in zip(a.params, b.params, strict=True))
            )

        pairs, removed, added = _match(om.functions, nm.functions, lambda f: f.name, similar)
        for o in removed:
            self.add(
                scope, f"function {o.name}", "removed", True, f"function `{o.name}` was removed"
            )
        for n in added:
            self.add(scope, f"function {n.name}", "added", False, f"function `{n.name}` was added")
        for o, n in pairs:
            item = f"function {n.name}"
            if o.name != n.name:
                self.add(
                    scope,
                    item,
                    "renamed",
                    True,
                    f"function `{o.name}` is now `{n.name}`: the import name changes",
                    o.name,
                    n.name,
                )
            old_sig, new_sig = sig(self.old, o), sig(self.new, n)
            if old_sig != new_sig:
                self.add(
                    scope,
                    item,
                    "signature",
                    True,
                    f"`{n.name}`: core signature {_sig_text(*old_sig)} → {_sig_text(*new_sig)}",
                    _sig_text(*old_sig),
                    _sig_text(*new_sig),
                )
            self.params(scope, n.name, "param", o.params, n.params)
            self.params(scope, n.name, "result", o.results, n.results)
            if o.docs != n.docs:
                self.add(scope, item, "docs", False, f"documentation of `{n.name}` changed")

    def params(
        self, scope: str, func: str, what: str, old: Sequence[ir.Param], new: Sequence[ir.Param]
    ) -> None:
        item = f"function {func}"
        old_pos = {p.name: i for i, p in enumerate(old)}
        new_pos = {p.name: i for i, p in enumerate(new)}
        pairs, removed, added = _match(
            old,
            new,
            lambda p: p.name,
            lambda a, b: old_pos[a.name] == new_pos[b.name] and self.same(a.type, b.type),
        )
        for o, n in pairs:
            if o.name != n.name:
                self.add(
                    scope,
                    f"{item} {what} {n.name}",
                    "renamed",
                    False,
                    f"`{func}`: {what} `{o.name}` is now `{n.name}`",
                    o.name,
                    n.name,
                )
            if not self.same(o.type, n.type):
                self.add(
                    scope,
                    f"{item} {what} {n.name}",
                    "changed",
                    True,
                    f"`{func}`: {what} `{n.name}` changed type",
                    _short(o.type),
                    _short(n.type),
                )
            elif old_pos[o.name] != new_pos[n.name]:
                self.add(
                    scope,
                    f"{item} {what} {n.name}",
                    "changed",
                    True,
                    f"`{func}`: {what} `{n.name}` moved from position {old_pos[o.name]} to "
                    f"{new_pos[n.name]}",
                )
        for o in removed:
            self.add(
                scope,
                f"{item} {what} {o.name}",
                "removed",
                True,
                f"`{func}`: {what} `{o.name}` was removed",
            )
        for n in added:
            self.add(
                scope,
                f"{item} {what} {n.name}",
                "added",
                True,
                f"`{func}`: {what} `{n.name}` was added",
            )


def _short(ty: ir.Type) -> str:
    from .render import render_type

    return " ".join(render_type(ty).split())


def _sig_text(params: list[str], results: tuple[str, ...]) -> str:
    return f"({', '.join(params)}) -> ({', '.join(results)})"


def diff_documents(old: ir.Document, new: ir.Document) -> SpecDiff:
    differ = _Differ(old, new)
    differ.types()
    differ.modules()
    # Group by scope, scopes in the new spec's order (removed ones after their neighbours).
    order = [f"type {t.name}" for t in new.types] + [f"type {t.name}" for t in old.types]
    order += [f"module {m.name}" for m in (*new.modules, *old.modules)]
    rank = {scope: i for i, scope in reversed(list(enumerate(order)))}
    differ.out.changes.sort(key=lambda c: rank.get(c.scope, len(rank)))
    return differ.out


def format_text(result: SpecDiff, old_path: str, new_path: str) -> str:
    if not result.changes:
        return f"no differences between {old_path} and {new_path}\n"
    lines: list[str] = []
    scope = None
    for c in result.changes:
        if c.scope != scope:
            scope = c.scope
            lines.append(scope)
        tag = "BREAKING  " if c.breaking else "compatible"
        lines.append(f"  {tag}  {c.message}")
    n_break = sum(c.breaking for c in result.changes)
    lines.append(f"{n_break} breaking, {len(result.changes) - n_break} compatible change(s)")
    return "\n".join(lines) + "\n"
