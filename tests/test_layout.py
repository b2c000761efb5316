"""Layout and ABI rules on small hand-written types (the corpus tests cover real specs)."""

from __future__ import annotations

import pytest
from conftest import REPO

from witxgen import ir
from witxgen.abi import function_abi
from witxgen.abi_report import as_json
from witxgen.loader import load_document, load_text

EVERY_KIND = REPO / "tests" / "cases" / "valid" / "every-kind.witx"


def test_every_kind_in_json() -> None:
    types = as_json(load_document(EVERY_KIND))["types"]
    assert {name: t["kind"] for name, t in types.items()} == {
        "p": "pointer",
        "cp": "const_pointer",
        "s": "string",
        "al": "alias",
        "e": "expected",
        "t": "tuple",
        "v": "variant",
        "b": "builtin",
        "c": "builtin",
        "f": "flags",
        "b2": "builtin",
    }
    assert types["t"]["fields"] == {"0": 0, "1": 8} and types["t"]["size"] == 16
    assert (types["v"]["size"], types["v"]["align"], types["v"]["payload_offset"]) == (16, 8, 8)
    assert (types["e"]["size"], types["e"]["payload_offset"]) == (8, 4)


@pytest.mark.parametrize(
    ("fields", "size", "align", "offsets"),
    [
        ("(field $a u8) (field $b u32) (field $c u8)", 12, 4, [0, 4, 8]),
        ("(field $a u8) (field $b u16)", 4, 2, [0, 2]),
        ("(field $a u64) (field $b u8)", 16, 8, [0, 8]),
        ("(field $a u8) (field $b (list u8)) (field $c u8)", 16, 4, [0, 4, 12]),
        ("(field $a (@witx pointer u64)) (field $b f64)", 16, 8, [0, 8]),
    ],
)
def test_record_rules(fields: str, size: int, align: int, offsets: list[int]) -> None:
    doc = load_text(f"(typename $r (record {fields}))")
    entry = as_json(doc)["types"]["r"]
    assert (entry["size"], entry["align"], list(entry["fields"].values())) == (size, align, offsets)


def test_variant_with_u16_tag_enum() -> None:
    doc = load_text("""
        (typename $k (enum (@witx tag u16) $a $b $c))
        (typename $v (variant (@witx tag $k) (case $c u8) (case $a u32)))
    """)
    entry = as_json(doc)["types"]["v"]
    assert (entry["tag_size"], entry["payload_offset"], entry["size"]) == (2, 4, 8)
    variant = doc.resolve(ir.Ref("v"))
    assert isinstance(variant, ir.Variant)
    assert [(c.name, c.value) for c in variant.cases] == [("c", 2), ("a", 0)]


def test_core_signature_rules() -> None:
    doc = load_text("""
        (typename $e (enum (@witx tag u8) $ok $bad))
        (typename $f (flags (@witx repr u64) $x))
        (typename $r (record (field $a u32)))
        (module $m
          (@interface func (export "f")
            (param $a u64) (param $b f32) (param $c f64) (param $d string) (param $e $f)
            (param $g $r) (param $h (@witx pointer u8)) (param $i s8)
            (result $err (expected (tuple u32 u64) (error $e)))))
    """)
    abi = function_abi(doc, doc.module("m").function("f"))
    assert abi.param_types == [
        "i64",
        "f32",
        "f64",
        "i32",
        "i32",
        "i64",
        "i32",
        "i32",
        "i32",
        "i32",
        "i32",
    ]
    assert [p.role for p in abi.params][-2:] == ["out", "out"]
    assert abi.results == ("i32",)


def test_scalar_result_is_returned() -> None:
    doc = load_text('(module $m (@interface func (export "now") (result $t u64)))')
    abi = function_abi(doc, doc.module("m").function("now"))
    assert (abi.param_types, abi.results) == ([], ("i64",))
