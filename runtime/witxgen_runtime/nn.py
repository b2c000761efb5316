"""wasi-nn on OpenVINO for Wasm guests: the generated host stubs filled in by the backend.

`OpenVinoNn` implements `witxgen_host.wasi_ephemeral_nn.WasiEphemeralNn`. Enum values become
names before they reach the backend and backend error names become this spec's errno values
on the way back, so the numbering of the spec the glue was generated from is the only one
that matters.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from witxgen_host import wasi_ephemeral_nn as nn
from witxgen_host._guest import GuestError, GuestPtr, MissingMemory

from .backend import OpenVinoBackend
from .errors import ErrorRecord, NnError
from .limits import Limits

_T = TypeVar("_T")
_log = logging.getLogger("witxgen_runtime")

ERRNO_BY_CODE = {member.name.lower(): member for member in nn.NnErrno}
# Enum values become the backend's names through a lookup (an enum's `.name` is a property,
# slow enough to show in the cost of a host call).
_TYPE_NAMES = {member: member.name.lower() for member in nn.TensorType}


class OpenVinoNn(nn.WasiEphemeralNn):
    """One guest's wasi-nn state: its graphs and execution contexts.

    Use one instance per wasmtime Store (handles of one guest must not be visible to
    another). Several instances may share one `OpenVinoBackend`'s named models by passing
    `backend=`; then they share handles too, so only do that for cooperating guests.
    """

    def __init__(
        self,
        backend: OpenVinoBackend | None = None,
        *,
        precision: str = "f32",
        limits: Limits | None = None,
        error_history: int = 100,
    ) -> None:
        self.backend = backend or OpenVinoBackend(precision=precision, limits=limits)
        self.errors: collections.deque[ErrorRecord] = collections.deque(maxlen=error_history)

    # ---- setting up, for the embedding program ----------------------------------------

    def register(self, spec: str) -> str:
        """Make `ENCODING::DIR` loadable by name (the directory's last component)."""
        return self.backend.register_dir(spec)

    def register_named(
        self, name: str, encoding: str, builders: Sequence[bytes], target: str = "cpu"
    ) -> None:
        self.backend.register_named(name, encoding, builders, target)

    # ---- wasi-nn ---------------------------------------------------------------------

    def load(
        self,
        builder: nn.GraphBuilderArray,
        encoding: nn.GraphEncoding,
        target: nn.ExecutionTarget,
    ) -> nn.Graph:
        handle = self._call(self.backend.load, builder, encoding.name.lower(), target.name.lower())
        return nn.Graph(handle)

    def load_by_name(self, name: str) -> nn.Graph:
        return nn.Graph(self._call(self.backend.load_by_name, name))

    def init_execution_context(self, graph: nn.Graph) -> nn.GraphExecutionContext:
        return nn.GraphExecutionContext(self._call(self.backend.init_execution_context, graph))

    # set_input, compute and get_output run once per inference: they call the backend
    # directly rather than through `_call`, one Python call less each.

    def set_input(self, context: nn.GraphExecutionContext, index: int, tensor: nn.Tensor) -> None:
        try:
            self.backend.set_input(
                context, index, tensor.dimensions, _TYPE_NAMES[tensor.type_], tensor.data
            )
        except NnError as exc:
            raise _errno_error(exc) from None

    def compute(self, context: nn.GraphExecutionContext) -> None:
        try:
            self.backend.compute(context)
        except NnError as exc:
            raise _errno_error(exc) from None

    def get_output(
        self,
        context: nn.GraphExecutionContext,
        index: int,
        out_buffer: GuestPtr[int],
        out_buffer_max_size: nn.BufferSize,
    ) -> nn.BufferSize:
        # The whole declared buffer must be guest memory, even when the output is smaller:
        # a bad region is the guest's mistake whatever the output's size.
        target = out_buffer.view(out_buffer_max_size)
        try:
            return nn.BufferSize(self.backend.get_output_into(context, index, target))
        except NnError as exc:
            raise _errno_error(exc) from None

    def on_error(self, function: str, error: BaseException) -> None:
        detail = str(error)
        if isinstance(error, nn.NnErrnoError):
            code = error.errno.name.lower()
            detail = error.message or code  # str() would repeat the code
        elif isinstance(error, MissingMemory):
            code = "missing_memory"
        elif isinstance(error, GuestError):
            code = "invalid_argument"
        else:
            code = "trap"
        self.errors.append(ErrorRecord(function, code, detail))
        # Keep text only: a kept exception's traceback reaches the calling Store through its
        # frames, and would keep the Store, its memory and its models alive.
        self.last_error = None

    # ---- helpers ---------------------------------------------------------------------

    @staticmethod
    def _call(method: Callable[..., _T], *args: object) -> _T:
        try:
            return method(*args)
        except NnError as exc:
            raise _errno_error(exc) from None


def _errno_error(exc: NnError) -> nn.NnErrnoError:
    return nn.NnErrnoError(ERRNO_BY_CODE[exc.code], exc.detail)
