"""IR → canonical witx text in the 0.9 dialect (what `witxgen fmt` prints).

Parsing the output gives an IR equal to the input's: both dialects print the same way,
reprs and tags are always written out, and every doc comment is kept.
"""

from __future__ import annotations

from . import ir

INDENT = "  "


def _docs(docs: str, indent: str) -> list[str]:
    if not docs:
        return []
    return [f"{indent};;; {line}".rstrip() if line else f"{indent};;;" for line in docs.split("\n")]


def render_type(ty: ir.Type, indent: str = "") -> str:  # noqa: C901 - one branch per kind
    inner = indent + INDENT
    if isinstance(ty, ir.Builtin):
        return f"(@witx {ty.name})" if ty.name in ("usize", "char8") else ty.name
    if isinstance(ty, ir.String):
        return "string"
    if isinstance(ty, ir.Ref):
        return f"${ty.name}"
    if isinstance(ty, ir.List):
        return f"(list {render_type(ty.element, indent)})"
    if isinstance(ty, ir.Pointer):
        kind = "const_pointer" if ty.const else "pointer"
        return f"(@witx {kind} {render_type(ty.element, indent)})"
    if isinstance(ty, ir.Handle):
        return "(handle)"
    if isinstance(ty, ir.Tuple):
        return "(tuple " + " ".join(render_type(t, indent) for t in ty.types) + ")"
    if isinstance(ty, ir.Expected):
        parts = ["expected"]
        if ty.ok is not None:
            parts.append(render_type(ty.ok, indent))
        if ty.error is not None:
            parts.append(f"(error {render_type(ty.error, indent)})")
        return "(" + " ".join(parts) + ")"
    lines: list[str]
    if isinstance(ty, (ir.Enum, ir.Flags)):
        head = (
            f"(enum (@witx tag {ty.repr})"
            if isinstance(ty, ir.Enum)
            else f"(flags (@witx repr {ty.repr})"
        )
        lines = [head]
        for c in ty.cases if isinstance(ty, ir.Enum) else ty.flags:
            lines += _docs(c.docs, inner) + [f"{inner}${c.name}"]
    elif isinstance(ty, ir.Record):
        lines = ["(record"]
        for f in ty.fields:
            lines += _docs(f.docs, inner)
            lines.append(f"{inner}(field ${f.name} {render_type(f.type, inner)})")
    elif isinstance(ty, ir.Variant) and ty.kind == "union":
        head = f"(union (@witx tag ${ty.tag})" if ty.tag else "(union"
        lines = [head] + [f"{inner}{render_type(c.type, inner)}" for c in ty.cases if c.type]
    elif isinstance(ty, ir.Variant):
        tag = f"${ty.tag}" if ty.tag else ty.tag_repr
        lines = [f"(variant (@witx tag {tag})"]
        for vc in ty.cases:
            lines += _docs(vc.docs, inner)
            payload = f" {render_type(vc.type, inner)}" if vc.type is not None else ""
            lines.append(f"{inner}(case ${vc.name}{payload})")
    else:
        raise AssertionError(f"cannot render {type(ty).__name__}")
    return "\n".join(lines) + f"\n{indent})"


def render_document(doc: ir.Document) -> str:
    out: list[str] = []
    for td in doc.types:
        out += _docs(td.docs, "")
        ty = render_type(td.type, INDENT)
        out.append(
            f"(typename ${td.name}\n{INDENT}{ty}\n)"
            if "\n" in ty
            else f"(typename ${td.name} {ty})"
        )
        for c in td.constants:
            out += _docs(c.docs, "")
            out.append(f"(@witx const ${td.name} ${c.name} {c.value})")
        out.append("")
    for m in doc.modules:
        out += _docs(m.docs, "")
        out.append(f"(module ${m.name}")
        for name in m.imports:
            out.append(f'{INDENT}(import "{name}" (memory))')
        for f in m.functions:
            out += _docs(f.docs, INDENT)
            out.append(f'{INDENT}(@interface func (export "{f.name}")')
            inner = INDENT * 2
            for p in f.params:
                out += _docs(p.docs, inner)
                out.append(f"{inner}(param ${p.name} {render_type(p.type, inner)})")
            for r in f.results:
                out += _docs(r.docs, inner)
                out.append(f"{inner}(result ${r.name} {render_type(r.type, inner)})")
            if f.noreturn:
                out.append(f"{inner}(@witx noreturn)")
            out.append(f"{INDENT})")
        out.append(")")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
