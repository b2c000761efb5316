"""Core wasm signatures: how each witx function lowers to i32/i64/f32/f64 params and results.

Params: scalars, enums, flags, handles and pointers pass by value; `list`/`string` pass as
(ptr, len); records, tuples and variants with payloads pass by address. Results: an
`(expected T (error E))` returns E as the core result and writes T through one
out-pointer appended to the params (one per element when T is a tuple); a scalar result
is returned directly. Targets read these steps instead of doing ABI arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir

WIDE = {"u64": "i64", "s64": "i64", "f32": "f32", "f64": "f64"}


@dataclass(frozen=True)
class CoreParam:
    """One core wasm param.

    role: "value" (the witx param itself), "ptr"/"len" (halves of a list or string),
    "addr" (address of a record/variant in guest memory), "out" (out-pointer for a result).
    source: the witx param (or, for "out", the result) it comes from; index: position of
    the tuple element an "out" pointer receives, else 0.
    """

    name: str
    type: str
    role: str
    source: str
    index: int = 0


@dataclass(frozen=True)
class FunctionAbi:
    name: str
    params: tuple[CoreParam, ...]
    results: tuple[str, ...]
    error: ir.Type | None  # the error type returned as the core result, for `expected`
    outs: tuple[ir.Type, ...]  # types written through the "out" params, in order

    @property
    def param_types(self) -> list[str]:
        return [p.type for p in self.params]


def core_type(doc: ir.Document, ty: ir.Type) -> str:
    """The single core type a scalar-like witx type lowers to."""
    ty = doc.resolve(ty)
    if isinstance(ty, ir.Builtin):
        return WIDE.get(ty.name, "i32")
    if isinstance(ty, (ir.Enum, ir.Flags)):
        return WIDE.get(ty.repr, "i32")
    if isinstance(ty, ir.Variant) and all(c.type is None for c in ty.cases):
        return WIDE.get(ty.tag_repr, "i32")
    return "i32"


def passes_by_address(doc: ir.Document, ty: ir.Type) -> bool:
    ty = doc.resolve(ty)
    if isinstance(ty, ir.Variant):
        return any(c.type is not None for c in ty.cases)
    return isinstance(ty, (ir.Record, ir.Tuple, ir.Expected))


def _out_name(ty: ir.Type, used: set[str]) -> str:
    base = ty.name if isinstance(ty, ir.Ref) else "result"
    name, i = f"{base}_out_ptr", 1
    while name in used:
        i += 1
        name = f"{base}{i}_out_ptr"
    used.add(name)
    return name


def function_abi(doc: ir.Document, func: ir.Function) -> FunctionAbi:
    params: list[CoreParam] = []
    for p in func.params:
        ty = doc.resolve(p.type)
        if isinstance(ty, (ir.List, ir.String)):
            params.append(CoreParam(f"{p.name}_ptr", "i32", "ptr", p.name))
            params.append(CoreParam(f"{p.name}_len", "i32", "len", p.name))
        elif passes_by_address(doc, ty):
            params.append(CoreParam(f"{p.name}_ptr", "i32", "addr", p.name))
        else:
            params.append(CoreParam(p.name, core_type(doc, ty), "value", p.name))

    results: tuple[str, ...] = ()
    error: ir.Type | None = None
    outs: list[ir.Type] = []
    if func.results:
        result = func.results[0]
        ty = doc.resolve(result.type)
        if isinstance(ty, ir.Expected):
            error = ty.error
            results = (core_type(doc, ty.error),) if ty.error is not None else ()
            if ty.ok is not None:
                ok = doc.resolve(ty.ok)
                outs = list(ok.types) if isinstance(ok, ir.Tuple) else [ty.ok]
        else:
            results = (core_type(doc, ty),)
    used: set[str] = set()
    params = [_unique(p, used) for p in params]
    for i, out in enumerate(outs):
        params.append(CoreParam(_out_name(out, used), "i32", "out", func.results[0].name, i))
    return FunctionAbi(func.name, tuple(params), results, error, tuple(outs))


def _unique(param: CoreParam, used: set[str]) -> CoreParam:
    """Core names must differ even when witx names collide (a list `$x` next to `$x_ptr`)."""
    name, i = param.name, 1
    while name in used:
        i += 1
        name = f"{param.name}{i}"
    used.add(name)
    return CoreParam(name, param.type, param.role, param.source, param.index)
