"""The wasi-nn facts of DESIGN.md §4: core signatures, tensor layout, enum values by version."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SPEC, includes_for

from witxgen import ir
from witxgen.abi import function_abi
from witxgen.abi_report import as_json
from witxgen.layout import Layouts, RecordLayout
from witxgen.loader import load_document

NEWEST = "2023-08-23_747d8df.witx"

SIGNATURES = {
    "load": ["builder_ptr", "builder_len", "encoding", "target", "graph_out_ptr"],
    "load_by_name": ["name_ptr", "name_len", "graph_out_ptr"],
    "init_execution_context": ["graph", "graph_execution_context_out_ptr"],
    "set_input": ["context", "index", "tensor_ptr"],
    "compute": ["context"],
    "get_output": ["context", "index", "out_buffer", "out_buffer_max_size", "buffer_size_out_ptr"],
}

NEWEST_ENUMS = {
    "tensor_type": ["f16", "f32", "f64", "u8", "i32", "i64"],
    "graph_encoding": ["openvino", "onnx", "tensorflow", "pytorch", "tensorflowlite", "autodetect"],
    "execution_target": ["cpu", "gpu", "tpu"],
    "nn_errno": [
        "success",
        "invalid_argument",
        "invalid_encoding",
        "missing_memory",
        "busy",
        "runtime_error",
        "unsupported_operation",
        "too_large",
        "not_found",
    ],
}


@pytest.fixture(scope="module", params=["spec", "upstream"])
def newest(request: pytest.FixtureRequest, witx_dir: Path) -> ir.Document:
    path = SPEC if request.param == "spec" else witx_dir / "wasi-nn" / NEWEST
    return load_document(path)


def test_spec_copy_defines_the_same_interface(witx_dir: Path) -> None:
    ours = load_document(SPEC)
    upstream = load_document(witx_dir / "wasi-nn" / NEWEST)
    assert as_json(ours) == as_json(upstream)
    strip = _without_docs
    assert strip(ours) == strip(upstream)
    assert all(t.docs for t in ours.types), "every spec type documents itself"


def _without_docs(doc: ir.Document) -> str:
    from witxgen.render import render_document

    text = render_document(doc)
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith(";;;"))


def test_signatures(newest: ir.Document) -> None:
    module = newest.module("wasi_ephemeral_nn")
    assert [f.name for f in module.functions] == [
        "load",
        "load_by_name",
        "init_execution_context",
        "set_input",
        "get_output",
        "compute",
    ]
    for func in module.functions:
        abi = function_abi(newest, func)
        assert [p.name for p in abi.params] == SIGNATURES[func.name]
        assert abi.param_types == ["i32"] * len(SIGNATURES[func.name])
        assert abi.results == ("i32",)


def test_tensor_layout(newest: ir.Document) -> None:
    layouts = Layouts(newest)
    tensor = layouts.of(ir.Ref("tensor"))
    assert isinstance(tensor, RecordLayout)
    assert (tensor.size, tensor.align, tensor.offsets) == (20, 4, (0, 8, 12))
    # dims: {ptr @0, len @4}; type u8 @8 then 3 bytes of padding; data: {ptr @12, len @16}
    assert layouts.of(ir.Ref("tensor_dimensions")).size == 8
    assert layouts.of(ir.Ref("tensor_type")).size == 1
    builders = newest.resolve(ir.Ref("graph_builder_array"))
    assert isinstance(builders, ir.List)
    assert layouts.of(builders.element).size == 8  # each entry is a {ptr, len} pair


def test_enum_values(newest: ir.Document) -> None:
    for name, cases in NEWEST_ENUMS.items():
        enum = newest.resolve(ir.Ref(name))
        assert isinstance(enum, ir.Enum)
        assert {c.name: enum.value_of(c.name) for c in enum.cases} == {
            c: i for i, c in enumerate(cases)
        }
    assert newest.resolve(ir.Ref("nn_errno")).repr == "u16"  # type: ignore[attr-defined]
    assert newest.resolve(ir.Ref("tensor_type")).repr == "u8"  # type: ignore[attr-defined]


# The value of a case, per spec version: the renumberings bindings must not miss.
HISTORY = [
    # (file, enum, case, value)
    ("2020-08-07_6f76f9f.witx", "tensor_type", "i32", 2),
    ("2020-08-11_793d4cd.witx", "tensor_type", "u8", 2),  # 2020-08: u8 inserted, i32 → 3
    ("2020-08-11_793d4cd.witx", "tensor_type", "i32", 3),
    ("2022-04-06_c557b2e.witx", "graph_encoding", "onnx", 2),
    ("2022-04-06_c557b2e.witx", "graph_encoding", "tensorflow", 1),
    ("2022-08-09_e5e1a6c.witx", "graph_encoding", "onnx", 1),  # 2022-08: reordered
    ("2022-08-09_e5e1a6c.witx", "graph_encoding", "tensorflow", 2),
    ("2022-04-06_c557b2e.witx", "nn_errno", "missing_memory", 2),
    ("2022-08-09_e5e1a6c.witx", "nn_errno", "missing_memory", 3),  # invalid_encoding inserted
    ("2023-08-14_e9f2ad2.witx", "tensor_type", "u8", 2),
    ("2023-08-14_e9f2ad2.witx", "tensor_type", "i32", 3),
    (NEWEST, "tensor_type", "u8", 3),  # 2023-08: f64 inserted, u8 → 3, i32 → 4
    (NEWEST, "tensor_type", "i32", 4),
    ("2023-11-07_1b078f5.witx", "graph_encoding", "autodetect", 6),  # kserve (PR only)
]


@pytest.mark.parametrize(
    ("file", "enum", "case", "value"), HISTORY, ids=[f"{f[:10]}-{e}-{c}" for f, e, c, _ in HISTORY]
)
def test_history(witx_dir: Path, file: str, enum: str, case: str, value: int) -> None:
    path = witx_dir / "wasi-nn" / file
    doc = load_document(path, includes_for(path))
    ty = doc.resolve(ir.Ref(enum))
    assert isinstance(ty, ir.Enum)
    assert ty.value_of(case) == value
