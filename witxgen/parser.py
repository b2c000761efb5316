"""Text → syntax tree for one .witx file, with located diagnostics for every failure.

The lark grammar (grammar/witx.lark) is built once per process. Doc comments are
collected by a lexer callback and attached to the node that follows them; nesting depth
is bounded so that hostile input cannot exhaust the stack of later passes.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import lark
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import syntax as s
from .diagnostics import Diagnostic, Span, WitxError

MAX_DEPTH = 100
"""Deepest parenthesis nesting accepted; real specs stay below 10."""

MAX_TOKENS = 10_000
"""Most tokens (doc comments included) accepted in one file; real specs stay below 2,000.
Parsing costs up to ~50 µs a token on a slow machine, so any file parses in under a second."""

_GAP_WITHOUT_ITEMS = re.compile(r"(?:\s|;;(?!;)[^\n]*|\(;(?:[^;]|;(?!\)))*;\))*")


class _DepthExceeded(Exception):
    def __init__(self, token: Token) -> None:
        self.token = token


class _TooManyTokens(Exception):
    def __init__(self, token: Token) -> None:
        self.token = token


@dataclass
class _ParseState:
    """Per-parse data the lexer callbacks fill in (one parse per thread at a time)."""

    text: str = ""
    docs: list[Token] = field(default_factory=list)
    open_parens: list[Token] = field(default_factory=list)
    tokens: int = 0


class _RunTogether(Exception):
    """A keyword immediately followed by more word characters (`listu32`)."""

    def __init__(self, token: Token, word: str) -> None:
        self.token = token
        self.word = word


_state = threading.local()


def _current() -> _ParseState:
    state: _ParseState = _state.value
    return state


def _on_doc(tok: Token) -> Token:
    _current().docs.append(tok)
    return tok


def _on_open(tok: Token) -> Token:
    stack = _current().open_parens
    stack.append(tok)
    if len(stack) > MAX_DEPTH:
        raise _DepthExceeded(tok)
    return tok


_WORD_CHAR = re.compile(r"[A-Za-z0-9_$@.\-]")


def _on_keyword(tok: Token) -> Token:
    # Lark matches keyword literals as prefixes; witx words end at a space or paren.
    state = _current()
    end = tok.end_pos or 0
    if _WORD_CHAR.match(state.text, end):
        word = _WORD.match(state.text, tok.start_pos or 0)
        raise _RunTogether(tok, word.group(0) if word else str(tok))
    return tok


def _on_close(tok: Token) -> Token:
    stack = _current().open_parens
    if stack:
        stack.pop()
    return tok


def _counted(callback: Callable[[Token], Token]) -> Callable[[Token], Token]:
    def count(tok: Token) -> Token:
        state = _current()
        state.tokens += 1
        if state.tokens > MAX_TOKENS:
            raise _TooManyTokens(tok)
        return callback(tok)

    return count


def _same(tok: Token) -> Token:
    return tok


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("witxgen").joinpath("grammar/witx.lark").read_text("utf-8")
    # Lark names an anonymous keyword terminal after its upper-cased text.
    keywords = {word.upper(): _on_keyword for word in re.findall(r'"([a-z_]+)"', grammar)}
    callbacks = {
        **keywords,
        "BUILTIN": _on_keyword,
        "DOC_COMMENT": _on_doc,
        "LPAR": _on_open,
        "WITX": _on_open,
        "INTERFACE": _on_open,
        "RPAR": _on_close,
        "ID": _same,
        "STRING": _same,
        "NUMBER": _same,
    }
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,
        # Every token is counted: parse time grows with them, so they are capped.
        lexer_callbacks={name: _counted(cb) for name, cb in callbacks.items()},
    )


# Friendly names for terminals in "expected …" messages.
_TERMINAL_NAMES = {
    "LPAR": "'('",
    "RPAR": "')'",
    "WITX": "'(@witx'",
    "INTERFACE": "'(@interface'",
    "ID": "a $name",
    "BUILTIN": "a builtin type",
    "STRING": "a string",
    "NUMBER": "a number",
    "$END": "end of file",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    pattern = _lark().get_terminal(name).pattern if name in _terminal_names() else None
    if pattern is not None and pattern.type == "str":
        return f"'{pattern.value}'"
    return name.lower()


@lru_cache(maxsize=1)
def _terminal_names() -> frozenset[str]:
    return frozenset(t.name for t in _lark().terminals)


class _Builder(Transformer[Token, Any]):
    """Builds syntax nodes bottom-up while LALR reduces (no recursion over the tree)."""

    def __init__(self, path: str, text: str, docs: list[Token]) -> None:
        super().__init__()
        self.path = path
        self.text = text
        self.doc_tokens = docs
        self.doc_starts = [t.start_pos or 0 for t in docs]
        self.gap_ends: dict[int, int] = {}

    # ---- helpers ---------------------------------------------------------

    def span(self, meta: Any) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def tspan(self, tok: Token) -> Span:
        return Span(
            self.path, tok.line or 0, tok.column or 0, tok.end_line or 0, tok.end_column or 0
        )

    def ident(self, tok: Token) -> s.Ident:
        return s.Ident(str(tok)[1:], self.tspan(tok))

    def docs_before(self, pos: int) -> str:
        """The `;;;` lines directly above `pos`, with only blanks and comments between."""
        i = bisect.bisect_left(self.doc_starts, pos) - 1
        lines: list[str] = []
        end = pos
        while i >= 0:
            tok = self.doc_tokens[i]
            if tok.end_pos is None or self.gap_end(i) < end:
                break
            body = str(tok)[3:].rstrip()  # trailing blanks (a CR too) are not part of the docs
            lines.append(body[1:] if body.startswith(" ") else body)
            end = tok.start_pos or 0
            i -= 1
        return "\n".join(reversed(lines)).rstrip()

    def gap_end(self, i: int) -> int:
        """Where the blanks and plain comments after doc comment `i` end.

        Memoised: otherwise a long block comment is scanned again for every node after it.
        """
        if i not in self.gap_ends:
            start = self.doc_tokens[i].end_pos or 0
            gap = _GAP_WITHOUT_ITEMS.match(self.text, start)  # always matches, maybe empty
            self.gap_ends[i] = gap.end() if gap else start
        return self.gap_ends[i]

    @staticmethod
    def split(children: list[Any]) -> tuple[list[Token], list[Any]]:
        toks = [c for c in children if isinstance(c, Token)]
        nodes = [c for c in children if not isinstance(c, Token)]
        return toks, nodes

    @staticmethod
    def ids(children: list[Any]) -> list[Token]:
        return [c for c in children if isinstance(c, Token) and c.type == "ID"]

    @staticmethod
    def types(children: list[Any]) -> list[s.TypeSyn]:
        return [c for c in children if isinstance(c, s.TypeSyn)]

    @staticmethod
    def number(tok: Token) -> int:
        text = str(tok).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("-")
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits, 10)  # base 10 even with leading zeros, as in wast

    # ---- top level -------------------------------------------------------

    def start(self, children: list[Any]) -> list[Any]:
        return children

    @v_args(meta=True)
    def use(self, meta: Any, c: list[Any]) -> s.UseSyn:
        (string,) = [t for t in c if isinstance(t, Token) and t.type == "STRING"]
        return s.UseSyn(_unquote(str(string)), self.span(meta))

    @v_args(meta=True)
    def typename(self, meta: Any, c: list[Any]) -> s.TypenameSyn:
        (name,) = self.ids(c)
        (ty,) = self.types(c)
        return s.TypenameSyn(
            self.ident(name), ty, self.docs_before(meta.start_pos), self.span(meta)
        )

    @v_args(meta=True)
    def witx_const(self, meta: Any, c: list[Any]) -> s.ConstDeclSyn:
        ty, name = self.ids(c)
        (num,) = [t for t in c if isinstance(t, Token) and t.type == "NUMBER"]
        return s.ConstDeclSyn(
            self.ident(ty),
            self.ident(name),
            self.number(num),
            self.docs_before(meta.start_pos),
            self.span(meta),
        )

    # ---- types -----------------------------------------------------------

    def type_ref(self, c: list[Any]) -> s.RefSyn:
        tok = c[0]
        return s.RefSyn(self.tspan(tok), str(tok)[1:])

    def builtin(self, c: list[Any]) -> s.BuiltinSyn:
        tok = c[0]
        return s.BuiltinSyn(self.tspan(tok), str(tok))

    @v_args(meta=True)
    def usize_type(self, meta: Any, c: list[Any]) -> s.BuiltinSyn:
        return s.BuiltinSyn(self.span(meta), "usize")

    @v_args(meta=True)
    def char8_type(self, meta: Any, c: list[Any]) -> s.BuiltinSyn:
        return s.BuiltinSyn(self.span(meta), "char8")

    @v_args(meta=True)
    def list_type(self, meta: Any, c: list[Any]) -> s.ListSyn:
        return s.ListSyn(self.span(meta), self.types(c)[0])

    @v_args(meta=True)
    def array_type(self, meta: Any, c: list[Any]) -> s.ListSyn:
        return s.ListSyn(self.span(meta), self.types(c)[0], old_dialect=True)

    @v_args(meta=True)
    def record_type(self, meta: Any, c: list[Any]) -> s.RecordSyn:
        return s.RecordSyn(self.span(meta), tuple(x for x in c if isinstance(x, s.FieldSyn)))

    @v_args(meta=True)
    def struct_type(self, meta: Any, c: list[Any]) -> s.RecordSyn:
        fields = tuple(x for x in c if isinstance(x, s.FieldSyn))
        return s.RecordSyn(self.span(meta), fields, old_dialect=True)

    @v_args(meta=True)
    def field(self, meta: Any, c: list[Any]) -> s.FieldSyn:
        (name,) = self.ids(c)
        (ty,) = self.types(c)
        return s.FieldSyn(self.ident(name), ty, self.docs_before(meta.start_pos), self.span(meta))

    def _cases(self, c: list[Any]) -> tuple[s.CaseName, ...]:
        return tuple(
            s.CaseName(self.ident(t), self.docs_before(t.start_pos or 0)) for t in self.ids(c)
        )

    @staticmethod
    def _repr(c: list[Any]) -> s.ReprSyn | None:
        reprs = [x for x in c if isinstance(x, s.ReprSyn)]
        return reprs[0] if reprs else None

    @v_args(meta=True)
    def enum_type(self, meta: Any, c: list[Any]) -> s.EnumSyn:
        return s.EnumSyn(self.span(meta), self._repr(c), self._cases(c))

    @v_args(meta=True)
    def flags_type(self, meta: Any, c: list[Any]) -> s.FlagsSyn:
        return s.FlagsSyn(self.span(meta), self._repr(c), self._cases(c))

    def old_repr(self, c: list[Any]) -> s.ReprSyn:
        return s.ReprSyn(str(c[0]), self.tspan(c[0]), old=True)

    def tag_repr(self, c: list[Any]) -> s.ReprSyn:
        (tok,) = [t for t in c if isinstance(t, Token) and t.type == "BUILTIN"]
        return s.ReprSyn(str(tok), self.tspan(tok))

    @v_args(meta=True)
    def int_type(self, meta: Any, c: list[Any]) -> s.IntSyn:
        (tok,) = [t for t in c if isinstance(t, Token) and t.type == "BUILTIN"]
        consts = tuple(x for x in c if isinstance(x, s.IntConstSyn))
        return s.IntSyn(self.span(meta), s.ReprSyn(str(tok), self.tspan(tok)), consts)

    @v_args(meta=True)
    def int_const(self, meta: Any, c: list[Any]) -> s.IntConstSyn:
        (name,) = self.ids(c)
        (num,) = [t for t in c if isinstance(t, Token) and t.type == "NUMBER"]
        return s.IntConstSyn(
            self.ident(name), self.number(num), self.docs_before(meta.start_pos), self.span(meta)
        )

    def tag(self, c: list[Any]) -> _Tag:
        return _Tag(self.types(c)[0])

    @v_args(meta=True)
    def case(self, meta: Any, c: list[Any]) -> s.CaseSyn:
        (name,) = self.ids(c)
        tys = self.types(c)
        return s.CaseSyn(
            self.ident(name),
            tys[0] if tys else None,
            self.docs_before(meta.start_pos),
            self.span(meta),
        )

    @v_args(meta=True)
    def variant_type(self, meta: Any, c: list[Any]) -> s.VariantSyn:
        tags = [x for x in c if isinstance(x, _Tag)]
        cases = tuple(x for x in c if isinstance(x, s.CaseSyn))
        return s.VariantSyn(self.span(meta), tags[0].type if tags else None, cases)

    def union_item(self, c: list[Any]) -> Any:
        return c[0]

    @v_args(meta=True)
    def union_field(self, meta: Any, c: list[Any]) -> s.CaseSyn:
        return self.case(meta, c)  # type: ignore[no-any-return]

    @v_args(meta=True)
    def union_empty(self, meta: Any, c: list[Any]) -> s.CaseSyn:
        return self.case(meta, c)  # type: ignore[no-any-return]

    @v_args(meta=True)
    def union_type(self, meta: Any, c: list[Any]) -> s.UnionSyn:
        tags = [x for x in c if isinstance(x, _Tag)]
        payloads = self.types(c)
        cases = tuple(x for x in c if isinstance(x, s.CaseSyn))
        tag: s.TypeSyn | None = tags[0].type if tags else None
        if cases and payloads and tag is None:
            # Old dialect: the first plain item names the tag enum.
            tag, payloads = payloads[0], payloads[1:]
        return s.UnionSyn(self.span(meta), tag, tuple(payloads), cases, old_dialect=bool(cases))

    @v_args(meta=True)
    def tuple_type(self, meta: Any, c: list[Any]) -> s.TupleSyn:
        return s.TupleSyn(self.span(meta), tuple(self.types(c)))

    @v_args(meta=True)
    def expected_type(self, meta: Any, c: list[Any]) -> s.ExpectedSyn:
        errs = [x for x in c if isinstance(x, _Error)]
        oks = self.types(c)
        return s.ExpectedSyn(
            self.span(meta), oks[0] if oks else None, errs[0].type if errs else None
        )

    def error_clause(self, c: list[Any]) -> _Error:
        return _Error(self.types(c)[0])

    @v_args(meta=True)
    def handle_type(self, meta: Any, c: list[Any]) -> s.HandleSyn:
        return s.HandleSyn(self.span(meta))

    @v_args(meta=True)
    def pointer_type(self, meta: Any, c: list[Any]) -> s.PointerSyn:
        return s.PointerSyn(self.span(meta), self.types(c)[0], const=False)

    @v_args(meta=True)
    def const_pointer_type(self, meta: Any, c: list[Any]) -> s.PointerSyn:
        return s.PointerSyn(self.span(meta), self.types(c)[0], const=True)

    # ---- modules ---------------------------------------------------------

    @v_args(meta=True)
    def module(self, meta: Any, c: list[Any]) -> s.ModuleSyn:
        (name,) = self.ids(c)
        return s.ModuleSyn(
            self.ident(name),
            tuple(x for x in c if isinstance(x, s.ImportSyn)),
            tuple(x for x in c if isinstance(x, s.FunctionSyn)),
            self.docs_before(meta.start_pos),
            self.span(meta),
        )

    @v_args(meta=True)
    def import_memory(self, meta: Any, c: list[Any]) -> s.ImportSyn:
        (string,) = [t for t in c if isinstance(t, Token) and t.type == "STRING"]
        return s.ImportSyn(_unquote(str(string)), self.span(meta))

    @v_args(meta=True)
    def function(self, meta: Any, c: list[Any]) -> s.FunctionSyn:
        (string,) = [t for t in c if isinstance(t, Token) and t.type == "STRING"]
        return s.FunctionSyn(
            _unquote(str(string)),
            self.tspan(string),
            tuple(x for x in c if isinstance(x, s.ParamSyn)),
            tuple(x.param for x in c if isinstance(x, _Result)),
            any(isinstance(x, _NoReturn) for x in c),
            self.docs_before(meta.start_pos),
            self.span(meta),
        )

    @v_args(meta=True)
    def param(self, meta: Any, c: list[Any]) -> s.ParamSyn:
        (name,) = self.ids(c)
        (ty,) = self.types(c)
        return s.ParamSyn(self.ident(name), ty, self.docs_before(meta.start_pos), self.span(meta))

    @v_args(meta=True)
    def result(self, meta: Any, c: list[Any]) -> _Result:
        return _Result(self.param(meta, c))

    def noreturn(self, c: list[Any]) -> _NoReturn:
        return _NoReturn()


# Wrappers that tell the parent rule which clause a child came from.
@dataclass(frozen=True)
class _Tag:
    type: s.TypeSyn


@dataclass(frozen=True)
class _Error:
    type: s.TypeSyn


@dataclass(frozen=True)
class _Result:
    param: s.ParamSyn


class _NoReturn:
    pass


def _unquote(text: str) -> str:
    return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def decode_source(path: str, data: bytes) -> str:
    """Decode UTF-8 source, or raise a diagnostic at the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        # Columns count characters, like every other diagnostic.
        col = len(head[head.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        span = Span(path, line, col, line, col + 1)
        msg = f"invalid UTF-8 byte 0x{data[exc.start]:02x}; witx files must be UTF-8"
        raise WitxError([Diagnostic("utf8", msg, span)]) from None


def parse(path: str, text: str) -> s.DocumentSyn:
    """Parse one file's text. Raises WitxError with located diagnostics."""
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # a BOM is harmless; keep columns where the user sees them
    state = _ParseState(text)
    _state.value = state
    try:
        tree = _lark().parse(text)
        builder = _Builder(path, text, state.docs)
        items = builder.transform(tree)
    except _DepthExceeded as exc:
        tok = exc.token
        span = Span(path, tok.line or 0, tok.column or 0, tok.line or 0, (tok.column or 0) + 1)
        msg = f"nesting deeper than {MAX_DEPTH} levels"
        raise WitxError([Diagnostic("too-deep", msg, span)], {path: text}) from None
    except _TooManyTokens as exc:
        tok = exc.token
        span = Span(path, tok.line or 0, tok.column or 0, tok.line or 0, (tok.column or 0) + 1)
        msg = f"more than {MAX_TOKENS} tokens; files this large are not supported"
        raise WitxError([Diagnostic("too-large", msg, span)], {path: text}) from None
    except _RunTogether as exc:
        tok = exc.token
        line, col = tok.line or 0, tok.column or 0
        span = Span(path, line, col, line, col + len(exc.word))
        msg = f"unexpected `{exc.word}`; a keyword must be followed by a space or parenthesis"
        raise WitxError([Diagnostic("syntax", msg, span)], {path: text}) from None
    except UnexpectedInput as exc:
        raise WitxError([_syntax_diagnostic(path, text, exc, state)], {path: text}) from None
    except RecursionError:
        span = Span(path, 1, 1)
        raise WitxError([Diagnostic("too-deep", "input nests too deeply", span)]) from None
    finally:
        _state.value = None
    return s.DocumentSyn(path, tuple(items))


_WORD = re.compile(r"[^\s()\"]+")


def _syntax_diagnostic(
    path: str, text: str, exc: UnexpectedInput, state: _ParseState
) -> Diagnostic:
    line, col = exc.line, exc.column
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        rest = text[pos : pos + 2]
        if rest.startswith('"'):
            return Diagnostic(
                "unterminated-string", "unterminated string", Span(path, line, col, line, col + 1)
            )
        if rest == "(;" or (rest.startswith(";") and text[pos - 1 : pos] == "("):
            return _unterminated_comment(path, text, pos if rest == "(;" else pos - 1)
        word_match = _WORD.match(text, pos)
        word = word_match.group(0) if word_match else text[pos : pos + 1]
        expected = _expected_list(exc.allowed or set())
        if not (word.isprintable() and len(word) < 40):
            char = repr(text[pos])[1:-1]
            span = Span(path, line, col, line, col + 1)
            return Diagnostic("syntax", f"unexpected character `{char}`", span)
        msg = f"unexpected `{word}`" + (f"; expected {expected}" if expected else "")
        return Diagnostic("syntax", msg, Span(path, line, col, line, col + max(1, len(word))))
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        if text.startswith("(;", tok.start_pos or 0):
            return _unterminated_comment(path, text, tok.start_pos or 0)
        expected = _expected_list(exc.expected)
        msg = f"unexpected `{tok}`" + (f"; expected {expected}" if expected else "")
        span = Span(path, line, col, tok.end_line or line, tok.end_column or col + 1)
        return Diagnostic("syntax", msg, span)
    # End of file inside an open form: point at the unclosed paren.
    assert isinstance(exc, (UnexpectedToken, UnexpectedEOF))
    if state.open_parens:
        tok = state.open_parens[-1]
        span = Span(path, tok.line or 0, tok.column or 0, tok.line or 0, (tok.column or 0) + 1)
        return Diagnostic("unclosed", "unexpected end of file: this `(` is never closed", span)
    lines = text.split("\n")
    return Diagnostic(
        "syntax", "unexpected end of file", Span(path, len(lines), len(lines[-1]) + 1)
    )


def _unterminated_comment(path: str, text: str, pos: int) -> Diagnostic:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    span = Span(path, line, col, line, col + 2)
    return Diagnostic("unterminated-comment", "unterminated block comment `(;`", span)


def _expected_list(names: set[str] | frozenset[str]) -> str:
    shown = sorted({_describe_terminal(n) for n in names})
    if not shown or len(shown) > 12:
        return ""
    if len(shown) == 1:
        return shown[0]
    return "one of " + ", ".join(shown)


__all__ = ["parse", "decode_source", "MAX_DEPTH", "lark"]
