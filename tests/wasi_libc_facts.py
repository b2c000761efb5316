"""Extract the wasm32 layout and core-wasm signature facts from wasi-libc's ``<wasi/api.h>``.

Debian's ``wasi-libc`` ships ``/usr/include/wasm32-wasi/wasi/api.h``, generated from the preview1
witx (and since hand-maintained). Its facts are the reference witxgen is checked against:

* ``_Static_assert(sizeof(__wasi_T_t) == N, "witx calculated size")`` → ``sizes[T]``; likewise
  ``_Alignof`` → ``aligns[T]`` and ``offsetof(__wasi_T_t, f)`` → ``offsets[T][f]``. Names drop
  the ``__wasi_`` prefix and ``_t`` suffix (``fdstat``); C field names equal the witx ones.
* The header has no raw ``__imported_wasi_snapshot_preview1_*`` declarations (those live in
  wasi-libc's ``__wasilibc_real.c``), so core signatures are derived from the public
  ``__wasi_F(...)`` prototypes with this mapping, which reproduces the raw imports:

  - ``const char *x`` (a witx ``string``) → ``i32, i32``: the wrapper passes ``x, strlen(x)``;
  - any other pointer (out-pointers ``retptrN``, list pointers, buffers) → ``i32``; a list's
    length is already a separate C parameter (``iovs, iovs_len``);
  - a scalar whose typedef chain ends in a 64-bit integer → ``i64``; 8/16/32-bit integers,
    ``int``, ``size_t`` → ``i32`` (``float``/``double`` → ``f32``/``f64``, unused by preview1);
  - ``void`` parameter list → no params;
  - result ``__wasi_errno_t`` → ``["i32"]`` (the u16 errno is widened), ``_Noreturn void`` → ``[]``.

  Anything else (a struct by value, an unknown type) raises ``ValueError`` rather than guess.

Run ``python tests/wasi_libc_facts.py [api.h]`` to print counts and samples (a self-test).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_H = Path("/usr/include/wasm32-wasi/wasi/api.h")

Signature = tuple[list[str], list[str]]

# C scalar types at the end of a typedef chain.
_BASE_CORE_TYPES = {
    "int8_t": "i32",
    "uint8_t": "i32",
    "int16_t": "i32",
    "uint16_t": "i32",
    "int32_t": "i32",
    "uint32_t": "i32",
    "int": "i32",
    "size_t": "i32",
    "__SIZE_TYPE__": "i32",
    "int64_t": "i64",
    "uint64_t": "i64",
    "float": "f32",
    "double": "f64",
}

_RESULTS = {"__wasi_errno_t": ["i32"], "_Noreturn void": []}

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_ANY_WITX_ASSERT = re.compile(r'_Static_assert\([^;]*"witx calculated')
_SIZE = re.compile(
    r'_Static_assert\(\s*sizeof\(\s*__wasi_(\w+)_t\s*\)\s*==\s*(\d+)\s*,\s*"witx calculated size"'
)
_ALIGN = re.compile(
    r"_Static_assert\(\s*_Alignof\(\s*__wasi_(\w+)_t\s*\)\s*==\s*(\d+)\s*,"
    r'\s*"witx calculated align"'
)
_OFFSET = re.compile(
    r"_Static_assert\(\s*offsetof\(\s*__wasi_(\w+)_t\s*,\s*(\w+)\s*\)\s*==\s*(\d+)\s*,"
    r'\s*"witx calculated offset"'
)
# Scalar typedefs only; `typedef struct/union ... {` is not matched (no `{` allowed).
_TYPEDEF = re.compile(r"^typedef\s+([\w ]+?)\s+__wasi_(\w+)_t\s*;", re.MULTILINE)
_FUNCTION = re.compile(
    r"^(__wasi_errno_t|_Noreturn\s+void)\s+__wasi_(\w+)\s*\(([^)]*)\)", re.MULTILINE
)
# Every `__wasi_name(`, to prove _FUNCTION missed no prototype.
_ANY_CALL = re.compile(r"\b__wasi_(\w+)\s*\(")
_PARAM = re.compile(r"(?P<type>.*?[\w*])\s*\b(?P<name>\w+)")


@dataclass(frozen=True)
class ApiFacts:
    """What api.h asserts about preview1, keyed by witx names (no ``__wasi_``/``_t``)."""

    sizes: dict[str, int] = field(default_factory=dict)
    aligns: dict[str, int] = field(default_factory=dict)
    offsets: dict[str, dict[str, int]] = field(default_factory=dict)
    functions: dict[str, Signature] = field(default_factory=dict)
    # Scalar typedefs, witx name → C type (e.g. "filesize" → "uint64_t").
    typedefs: dict[str, str] = field(default_factory=dict)


def _put(table: dict[str, int], key: str, value: int, what: str) -> None:
    if table.setdefault(key, value) != value:
        raise ValueError(f"conflicting {what} asserts for {key}: {table[key]} and {value}")


def _core_scalar(c_type: str, typedefs: dict[str, str]) -> str:
    seen: set[str] = set()
    while c_type not in _BASE_CORE_TYPES:
        match = re.fullmatch(r"__wasi_(\w+)_t", c_type)
        if match is None or match[1] not in typedefs or c_type in seen:
            raise ValueError(f"cannot map C type {c_type!r} to a core wasm type")
        seen.add(c_type)
        c_type = typedefs[match[1]]
    return _BASE_CORE_TYPES[c_type]


def _core_params(param_list: str, typedefs: dict[str, str]) -> list[str]:
    text = " ".join(param_list.split())
    if text in ("", "void"):
        return []
    core: list[str] = []
    for param in text.split(","):
        match = _PARAM.fullmatch(param.strip())
        if match is None:
            raise ValueError(f"cannot parse C parameter {param!r}")
        c_type = match["type"]
        pointers = c_type.count("*")
        base = " ".join(c_type.replace("*", " ").replace("const", " ").split())
        if pointers == 1 and base == "char":
            core += ["i32", "i32"]  # witx string: the wrapper passes (ptr, strlen(ptr))
        elif pointers:
            core.append("i32")
        else:
            core.append(_core_scalar(base, typedefs))
    return core


def parse_api_h(path: Path | str = DEFAULT_API_H) -> ApiFacts:
    """Parse api.h; raise ``ValueError`` if any witx assert or prototype is left unparsed."""
    text = _COMMENT.sub(" ", Path(path).read_text(encoding="utf-8"))
    facts = ApiFacts()

    for name, value in _SIZE.findall(text):
        _put(facts.sizes, name, int(value), "size")
    for name, value in _ALIGN.findall(text):
        _put(facts.aligns, name, int(value), "align")
    n_offsets = 0
    for name, fld, value in _OFFSET.findall(text):
        _put(facts.offsets.setdefault(name, {}), fld, int(value), f"offset of {name}")
        n_offsets += 1
    n_asserts = len(_ANY_WITX_ASSERT.findall(text))
    if len(facts.sizes) + len(facts.aligns) + n_offsets != n_asserts:
        raise ValueError(f"{path}: parsed fewer witx asserts than the {n_asserts} present")

    for c_type, name in _TYPEDEF.findall(text):
        facts.typedefs[name] = " ".join(c_type.split())

    for ret, name, params in _FUNCTION.findall(text):
        results = _RESULTS[" ".join(ret.split())]
        facts.functions[name] = (_core_params(params, facts.typedefs), list(results))
    missed = set(_ANY_CALL.findall(text)) - set(facts.functions)
    if missed:
        raise ValueError(f"{path}: unparsed prototypes: {sorted(missed)}")
    return facts


# The header asserts 33 sizes (flags typedefs and the inner C unions carry none) and
# declares 45 functions; these floors catch a parser that silently stops matching.
MIN_SIZES = 30
MIN_OFFSETS = 30
MIN_FUNCTIONS = 45


def _self_test(path: Path) -> None:
    facts = parse_api_h(path)
    n_offsets = sum(len(fields) for fields in facts.offsets.values())
    print(
        f"{path}: {len(facts.sizes)} sizes, {len(facts.aligns)} aligns, "
        f"{n_offsets} offsets in {len(facts.offsets)} records, {len(facts.functions)} functions, "
        f"{len(facts.typedefs)} scalar typedefs"
    )
    for name in ("fdstat", "event", "subscription_u", "subscription", "iovec", "prestat"):
        print(
            f"  {name}: size {facts.sizes.get(name)} align {facts.aligns.get(name)} "
            f"fields {facts.offsets.get(name)}"
        )
    for name in ("fd_read", "path_open", "args_sizes_get", "proc_exit", "poll_oneoff"):
        params, results = facts.functions[name]
        print(f"  {name}: {params} -> {results}")
    assert len(facts.sizes) >= MIN_SIZES, len(facts.sizes)
    assert facts.aligns.keys() == facts.sizes.keys()
    assert facts.offsets.keys() <= facts.sizes.keys()
    assert n_offsets >= MIN_OFFSETS, n_offsets
    assert len(facts.functions) >= MIN_FUNCTIONS, len(facts.functions)


if __name__ == "__main__":
    _self_test(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_API_H)
