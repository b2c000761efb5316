"""Identifier spelling per target language, with each language's reserved words escaped.

witx names are snake_case (`$graph_execution_context`, `$fd_read`); targets want
CamelCase types, snake_case functions and UPPER constants, and a name that collides
with a keyword gets a trailing underscore (Rust: a raw identifier).
"""

from __future__ import annotations

import keyword
import re

RUST_KEYWORDS = frozenset("""
    as async await break const continue crate dyn else enum extern false fn for if impl in
    let loop match mod move mut pub ref return self Self static struct super trait true type
    unsafe use where while abstract become box do final macro override priv try typeof
    unsized virtual yield union
""".split())

C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
    _Imaginary _Noreturn _Static_assert _Thread_local bool true false errno
""".split())

TS_KEYWORDS = frozenset("""
    break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof new null return super switch this throw
    true try typeof var void while with as implements interface let package private protected
    public static yield type declare namespace module abstract is of string number bool
    isize usize i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 v128 native
""".split())

PY_RESERVED = frozenset(keyword.kwlist) | frozenset({"type", "id", "len", "bytes", "format"})


def words(name: str) -> list[str]:
    return [w for w in re.split(r"[_\-.]+", name) if w]


def camel(name: str) -> str:
    """`graph_execution_context` → `GraphExecutionContext` (a leading digit gets a `_`)."""
    out = "".join(w[:1].upper() + w[1:] for w in words(name))
    return f"_{out}" if out[:1].isdigit() else out


def snake(name: str) -> str:
    out = "_".join(w.lower() for w in words(name))
    return f"_{out}" if out[:1].isdigit() else out


def upper(name: str) -> str:
    return snake(name).upper()


def escape(name: str, reserved: frozenset[str]) -> str:
    return f"{name}_" if name in reserved else name


def py_name(name: str) -> str:
    return escape(snake(name), PY_RESERVED)


def rust_name(name: str) -> str:
    return escape(snake(name), RUST_KEYWORDS)


def c_name(name: str) -> str:
    return escape(snake(name), C_KEYWORDS)


def ts_name(name: str) -> str:
    return escape(snake(name), TS_KEYWORDS)
