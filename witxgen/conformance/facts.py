"""What the conformance cases need from a wasi-nn witx text, read from its IR.

Enum numbers (tensor_type, graph_encoding, execution_target, nn_errno), the core signature
of each function, and the layout of the tensor record and of a graph builder entry. Types
are found through the function signatures, not by typedef name, so texts that call the
error enum `$errno` (2020) or `$nn_errno` (later) both work. A text whose functions have a
different shape (before 2020-08-11: `load` took one byte array, `get_output` returned a
tensor) is refused with a `GenerateError` that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import ir
from ..abi import FunctionAbi, function_abi
from ..layout import Layouts, RecordLayout
from ..targets.base import GenerateError

#: Function name -> the kind of each witx param, by position, that the catalog relies on.
SHAPES: dict[str, tuple[str, ...]] = {
    "load": ("builder_array", "enum", "enum"),
    "load_by_name": ("bytes",),
    "init_execution_context": ("handle",),
    "set_input": ("handle", "u32", "tensor"),
    "compute": ("handle",),
    "get_output": ("handle", "u32", "pointer", "u32"),
}
#: Function name -> the core param roles its ABI must have.
ROLES: dict[str, tuple[str, ...]] = {
    "load": ("ptr", "len", "value", "value", "out"),
    "load_by_name": ("ptr", "len", "out"),
    "init_execution_context": ("value", "out"),
    "set_input": ("value", "value", "addr"),
    "compute": ("value",),
    "get_output": ("value", "value", "value", "value", "out"),
}


@dataclass(frozen=True)
class EnumFacts:
    name: str
    cases: tuple[str, ...]
    size: int  # bytes of its repr

    def value(self, name: str) -> int:
        return self.cases.index(name)


@dataclass(frozen=True)
class TensorLayout:
    size: int
    align: int
    dims_offset: int
    type_offset: int
    type_size: int
    data_offset: int
    padding: tuple[tuple[int, int], ...]  # (offset, length) of each gap


@dataclass(frozen=True)
class SpecFacts:
    module: str
    functions: dict[str, FunctionAbi]  # only the functions this text has
    all_functions: tuple[FunctionAbi, ...]  # every function of the module, in order
    errno: EnumFacts
    tensor_type: EnumFacts
    encoding: EnumFacts
    target: EnumFacts
    tensor: TensorLayout
    builder_size: int  # one graph_builder entry: {ptr, len}

    def has(self, function: str) -> bool:
        return function in self.functions


def _kind(doc: ir.Document, ty: ir.Type) -> str:
    t = doc.resolve(ty)
    if isinstance(t, ir.List):
        el = doc.resolve(t.element)
        if isinstance(el, ir.List):
            return "builder_array"
        if isinstance(el, ir.Builtin) and el.name in ("u8", "char8"):
            return "bytes"
        return "list"
    if isinstance(t, ir.String):
        return "bytes"
    if isinstance(t, ir.Enum):
        return "enum"
    if isinstance(t, ir.Handle):
        return "handle"
    if isinstance(t, ir.Builtin):
        return t.name
    if isinstance(t, ir.Pointer):
        return "pointer"
    if isinstance(t, ir.Record):
        names = [f.name for f in t.fields]
        return "tensor" if names[:1] == ["dimensions"] and len(names) == 3 else "record"
    return type(t).__name__.lower()


def _enum(doc: ir.Document, ty: ir.Type | None, what: str) -> EnumFacts:
    if ty is None:
        raise GenerateError(f"{what}: not found")
    t = doc.resolve(ty)
    if not isinstance(t, ir.Enum):
        raise GenerateError(f"{what} is not an enum")
    name = ty.name if isinstance(ty, ir.Ref) else what
    return EnumFacts(name, tuple(c.name for c in t.cases), Layouts(doc).of(t).size)


def spec_facts(doc: ir.Document) -> SpecFacts:
    where = doc.path or "this text"
    module = next((m for m in doc.modules if any(f.name == "load" for f in m.functions)), None)
    if module is None:
        raise GenerateError(f"{where}: no module with a `load` function; the conformance "
                            "suite is for wasi-nn texts (module wasi_ephemeral_nn)")
    functions: dict[str, FunctionAbi] = {}
    for func in module.functions:
        if func.name not in SHAPES:
            continue
        abi = function_abi(doc, func)
        kinds = tuple(_kind(doc, p.type) for p in func.params)
        roles = tuple(p.role for p in abi.params)
        if kinds != SHAPES[func.name] or roles != ROLES[func.name]:
            raise GenerateError(
                f"{where}: function {func.name} has the shape ({', '.join(kinds)}) -> "
                f"core ({', '.join(roles)}), but the conformance catalog is written for "
                f"({', '.join(SHAPES[func.name])}) -> core ({', '.join(ROLES[func.name])}), "
                "the shape of wasi-nn texts since 2020-08-11; older texts cannot be tested "
                "with it")
        functions[func.name] = abi
    required = [n for n in SHAPES if n != "load_by_name"]
    missing = [n for n in required if n not in functions]
    if missing:
        raise GenerateError(f"{where}: module {module.name} lacks {', '.join(missing)}; the "
                            "conformance catalog needs every wasi-nn function but load_by_name")
    load = module.function("load")
    set_input = module.function("set_input")
    error = functions["load"].error
    tensor_ty = doc.resolve(set_input.params[2].type)
    assert isinstance(tensor_ty, ir.Record)
    layouts = Layouts(doc)
    lay = layouts.of(tensor_ty)
    assert isinstance(lay, RecordLayout)
    sizes = [layouts.of(f.type).size for f in tensor_ty.fields]
    padding = []
    ends = [o + s for o, s in zip(lay.offsets, sizes, strict=True)]
    for end, nxt in zip(ends, [*lay.offsets[1:], lay.size], strict=True):
        if nxt > end:
            padding.append((end, nxt - end))
    tensor = TensorLayout(lay.size, lay.align, lay.offsets[0], lay.offsets[1], sizes[1],
                          lay.offsets[2], tuple(padding))
    builders = doc.resolve(load.params[0].type)
    assert isinstance(builders, ir.List)
    return SpecFacts(
        module=module.name,
        functions=functions,
        all_functions=tuple(function_abi(doc, f) for f in module.functions),
        errno=_enum(doc, error, "the error type of load"),
        tensor_type=_enum(doc, tensor_ty.fields[1].type, "tensor.type"),
        encoding=_enum(doc, load.params[1].type, "load's encoding"),
        target=_enum(doc, load.params[2].type, "load's target"),
        tensor=tensor,
        builder_size=layouts.of(builders.element).size,
    )
