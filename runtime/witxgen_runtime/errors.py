"""The one exception the backend raises, and the record of each error it reported.

wasi-nn's errno is coarse, so every error carries a human `detail` as well; the host glue turns
`NnError.code` (a name, never an enum number, so spec renumbering cannot leak in) into the errno of
whichever wasi-nn text it was generated from.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Every code an NnError may carry; names of wasi-nn's nn_errno cases that a backend can produce.
ERROR_CODES: frozenset[str] = frozenset(
    {
        "invalid_argument",
        "invalid_encoding",
        "unsupported_operation",
        "not_found",
        "too_large",
        "runtime_error",
        "busy",
    }
)


class NnError(Exception):
    """A wasi-nn error: `code` is one of ERROR_CODES, `detail` says what went wrong."""

    def __init__(self, code: str, detail: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown wasi-nn error code {code!r}")
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ErrorRecord:
    """One error as the embedding program sees it: which call, which code, why."""

    function: str
    code: str
    detail: str
