"""The `witxgen abi` report: every type's layout and every function's core signature.

`as_json` is a stable contract that other tools script against (see the README).
"""

from __future__ import annotations

from typing import Any

from . import ir
from .abi import function_abi
from .layout import Layouts, RecordLayout, VariantLayout


def kind_of(ty: ir.Type) -> str:
    if isinstance(ty, ir.Variant):
        return ty.kind
    if isinstance(ty, ir.Pointer):
        return "const_pointer" if ty.const else "pointer"
    if isinstance(ty, ir.Ref):
        return "alias"
    return {
        ir.Builtin: "builtin",
        ir.String: "string",
        ir.Enum: "enum",
        ir.Flags: "flags",
        ir.Record: "record",
        ir.Handle: "handle",
        ir.List: "list",
        ir.Expected: "expected",
        ir.Tuple: "tuple",
    }[type(ty)]


def as_json(doc: ir.Document) -> dict[str, Any]:
    layouts = Layouts(doc)
    types: dict[str, Any] = {}
    for td in doc.types:
        lay = layouts.of(ir.Ref(td.name))
        entry: dict[str, Any] = {"kind": kind_of(td.type), "size": lay.size, "align": lay.align}
        body = doc.resolve(td.type)
        if isinstance(td.type, ir.Record | ir.Tuple) and isinstance(lay, RecordLayout):
            names = (
                [f.name for f in td.type.fields]
                if isinstance(td.type, ir.Record)
                else [str(i) for i in range(len(lay.offsets))]
            )
            entry["fields"] = dict(zip(names, lay.offsets, strict=True))
        if (
            isinstance(body, ir.Variant | ir.Expected)
            and isinstance(lay, VariantLayout)
            and not isinstance(td.type, ir.Ref)
        ):
            entry["tag_size"] = lay.tag_size
            entry["payload_offset"] = lay.payload_offset
        types[td.name] = entry
    modules = {
        m.name: {
            f.name: {"params": abi.param_types, "results": list(abi.results)}
            for f in m.functions
            for abi in [function_abi(doc, f)]
        }
        for m in doc.modules
    }
    return {"types": types, "modules": modules}


def as_table(doc: ir.Document) -> str:
    data = as_json(doc)
    rows = [("type", "kind", "size", "align", "layout")]
    for name, t in data["types"].items():
        detail = ""
        if "fields" in t:
            detail = ", ".join(f"{f}@{o}" for f, o in t["fields"].items())
        if "tag_size" in t:
            detail = f"tag {t['tag_size']} byte(s), payload @{t['payload_offset']}"
        rows.append((name, t["kind"], str(t["size"]), str(t["align"]), detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    ]
    out = [line.rstrip() for line in lines]
    for mod, funcs in data["modules"].items():
        out += ["", f"module {mod}"]
        for fname, sig in funcs.items():
            params = ", ".join(sig["params"])
            results = ", ".join(sig["results"]) or "()"
            out.append(f"  {fname}({params}) -> {results}")
    return "\n".join(out) + "\n"
