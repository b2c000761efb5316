"""Markdown reference target: one page per spec with every type's layout and every
function's params, results, errors and core wasm signature."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import ir
from ..abi_report import kind_of
from ..layout import RecordLayout, VariantLayout
from .base import Target


def _cell(text: str) -> str:
    """Doc text made safe for one table cell."""
    return text.replace("|", "\\|").replace("\n\n", "<br><br>").replace("\n", " ")


def _anchor(name: str) -> str:
    """GitHub's anchor for a `### name` heading (witx names are already lower snake case)."""
    return name.lower()


class MarkdownTarget(Target):
    name = "markdown"
    description = "Markdown reference"
    comment = "<!--"

    def generate(self) -> dict[str, str]:
        stem = Path(self.doc.path).stem or "spec"
        text = self.render("document.md.jinja", title=stem)
        return {f"{stem}.md": text}

    def render(self, template: str, **context: Any) -> str:
        # HTML comments need closing: patch the provenance line for this target.
        out = super().render(template, **context)
        first, _, rest = out.partition("\n")
        return f"{first} -->\n{rest}" if first.startswith("<!--") else out

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            **super().filters(),
            "cell": _cell,
            "anchor": _anchor,
            "layout": self.layouts.of,
            "record_rows": self.record_rows,
            "variant_info": self.variant_info,
            "signature": self.signature,
            "def_kind": self.def_kind,
        }

    # ---- one method per type kind: the spelling used in tables --------------

    def type_builtin(self, ty: ir.Builtin) -> str:
        return f"`{ty.name}`"

    def type_string(self, ty: ir.String) -> str:
        return "`string`"

    def type_ref(self, ty: ir.Ref) -> str:
        return f"[`{ty.name}`](#{_anchor(ty.name)})"

    def type_list(self, ty: ir.List) -> str:
        return f"list of {self.spell(ty.element)}"

    def type_pointer(self, ty: ir.Pointer) -> str:
        kind = "const pointer" if ty.const else "pointer"
        return f"{kind} to {self.spell(ty.element)}"

    def type_handle(self, ty: ir.Handle) -> str:
        return "handle"

    def type_enum(self, ty: ir.Enum) -> str:
        return f"enum ({ty.repr}): " + ", ".join(f"`{c.name}`" for c in ty.cases)

    def type_flags(self, ty: ir.Flags) -> str:
        return f"flags ({ty.repr}): " + ", ".join(f"`{c.name}`" for c in ty.flags)

    def type_record(self, ty: ir.Record) -> str:
        return "record {" + ", ".join(f"{f.name}: {self.spell(f.type)}" for f in ty.fields) + "}"

    def type_tuple(self, ty: ir.Tuple) -> str:
        return "(" + ", ".join(self.spell(t) for t in ty.types) + ")"

    def type_variant(self, ty: ir.Variant) -> str:
        cases = [c.name + (f"({self.spell(c.type)})" if c.type else "") for c in ty.cases]
        return f"{ty.kind} {{" + ", ".join(cases) + "}"

    def type_expected(self, ty: ir.Expected) -> str:
        ok = self.spell(ty.ok) if ty.ok else "nothing"
        err = f", or error {self.spell(ty.error)}" if ty.error else ""
        return f"{ok}{err}"

    # ---- helpers for templates ----------------------------------------------

    def def_kind(self, ty: ir.Type) -> str:
        """Which partial renders a definition of this type."""
        kind = kind_of(ty)
        return kind if kind in ("enum", "flags", "record", "variant", "union") else "alias"

    def record_rows(self, ty: ir.Record | ir.Tuple) -> list[dict[str, Any]]:
        lay = self.layouts.of(ty)
        assert isinstance(lay, RecordLayout)
        members = ty.fields if isinstance(ty, ir.Record) else [
            ir.Field(str(i), t) for i, t in enumerate(ty.types)]
        return [
            {"name": f.name, "type": self.spell(f.type), "offset": off,
             "size": self.layouts.of(f.type).size, "docs": f.docs}
            for f, off in zip(members, lay.offsets, strict=True)
        ]

    def variant_info(self, ty: ir.Variant) -> VariantLayout:
        lay = self.layouts.of(ty)
        assert isinstance(lay, VariantLayout)
        return lay

    def signature(self, func: ir.Function) -> str:
        abi = self.abi(func)
        params = ", ".join(f"{p.name}: {p.type}" for p in abi.params)
        results = ", ".join(abi.results) or "()"
        return f"{func.name}({params}) -> {results}"
