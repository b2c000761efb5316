"""What a compiled guest imports: used by every target's tests to compare with the ABI."""

from __future__ import annotations

from pathlib import Path

Signature = tuple[list[str], list[str]]


def wasm_imports(wasm: Path) -> dict[tuple[str, str], Signature]:
    """(module, name) → (param types, result types) of every function the module imports."""
    import wasmtime

    module = wasmtime.Module.from_file(wasmtime.Engine(), str(wasm))
    found: dict[tuple[str, str], Signature] = {}
    for imp in module.imports:
        ty = imp.type
        if isinstance(ty, wasmtime.FuncType):
            found[(imp.module, imp.name or "")] = ([str(p) for p in ty.params],
                                                    [str(r) for r in ty.results])
    return found
