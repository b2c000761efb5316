"""A wasi-nn host with fixed rules (tests/guests/SCENARIO.md), built on the generated
`witxgen_host.wasi_ephemeral_nn` stubs, that records everything crossing the boundary.

No inference backend: "compute" adds 1.0 to every f32 of input 0. Run tests assert on the
records (`loads`, `names`, `inputs`, handles issued, `calls`, `errors`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from witxgen_host.wasi_ephemeral_nn import (
    BufferSize,
    ExecutionTarget,
    Graph,
    GraphBuilderArray,
    GraphEncoding,
    GraphExecutionContext,
    GuestPtr,
    NnErrno,
    NnErrnoError,
    Tensor,
    WasiEphemeralNn,
)

FIRST_GRAPH = 1
FIRST_CONTEXT = 100


@dataclass(frozen=True)
class LoadCall:
    builders: list[bytes]
    encoding: int
    target: int


@dataclass(frozen=True)
class InputRecord:
    context: int
    dims: list[int]
    type_value: int
    data: bytes


@dataclass
class _Context:
    graph: int
    input: bytes | None = None
    output: bytes | None = None


@dataclass
class FakeNn(WasiEphemeralNn):
    """The SCENARIO.md test host. Handles are never reused."""

    loads: list[LoadCall] = field(default_factory=list)
    names: list[bytes] = field(default_factory=list)
    inputs: list[InputRecord] = field(default_factory=list)
    graphs_issued: list[int] = field(default_factory=list)
    contexts_issued: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every method called, in order
    errors: list[tuple[str, BaseException]] = field(default_factory=list)  # from on_error
    _next_graph: int = FIRST_GRAPH
    _next_context: int = FIRST_CONTEXT
    _graphs: set[int] = field(default_factory=set)
    _contexts: dict[int, _Context] = field(default_factory=dict)

    def _new_graph(self) -> Graph:
        handle = self._next_graph
        self._next_graph += 1
        self._graphs.add(handle)
        self.graphs_issued.append(handle)
        return Graph(handle)

    def _context(self, ctx: GraphExecutionContext) -> _Context:
        found = self._contexts.get(ctx)
        if found is None:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT, f"unknown context {ctx}")
        return found

    def load(self, builder: GraphBuilderArray, encoding: GraphEncoding,
             target: ExecutionTarget) -> Graph:
        self.calls.append("load")
        self.loads.append(LoadCall([bytes(b) for b in builder], int(encoding), int(target)))
        if target == ExecutionTarget.TPU:
            raise NnErrnoError(NnErrno.UNSUPPORTED_OPERATION, "no TPU here")
        if encoding != GraphEncoding.OPENVINO:
            raise NnErrnoError(NnErrno.INVALID_ENCODING, f"{encoding.name} is not supported")
        if len(builder) != 2:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT,
                               f"OpenVINO IR takes 2 builders, got {len(builder)}")
        return self._new_graph()

    def load_by_name(self, name: str) -> Graph:
        self.calls.append("load_by_name")
        self.names.append(name.encode("utf-8"))
        if name != "add1":
            raise NnErrnoError(NnErrno.NOT_FOUND, f"no model named {name!r}")
        return self._new_graph()

    def init_execution_context(self, graph: Graph) -> GraphExecutionContext:
        self.calls.append("init_execution_context")
        if graph not in self._graphs:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT, f"unknown graph {graph}")
        handle = self._next_context
        self._next_context += 1
        self._contexts[handle] = _Context(graph)
        self.contexts_issued.append(handle)
        return GraphExecutionContext(handle)

    def set_input(self, context: GraphExecutionContext, index: int, tensor: Tensor) -> None:
        self.calls.append("set_input")
        ctx = self._context(context)
        if index != 0:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT, f"no input {index}")
        data = bytes(tensor.data)  # copied: later guest writes must not change it
        self.inputs.append(InputRecord(context, list(tensor.dimensions),
                                       int(tensor.type_), data))
        ctx.input = data
        ctx.output = None

    def compute(self, context: GraphExecutionContext) -> None:
        self.calls.append("compute")
        ctx = self._context(context)
        if ctx.input is None:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT, "compute before set_input")
        if len(ctx.input) % 4:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT, "input is not a whole number of f32s")
        count = len(ctx.input) // 4
        values = struct.unpack(f"<{count}f", ctx.input)
        ctx.output = struct.pack(f"<{count}f", *(v + 1.0 for v in values))

    def get_output(self, context: GraphExecutionContext, index: int,
                   out_buffer: GuestPtr[int], out_buffer_max_size: BufferSize) -> BufferSize:
        self.calls.append("get_output")
        ctx = self._context(context)
        if index != 0:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT, f"no output {index}")
        if ctx.output is None:
            raise NnErrnoError(NnErrno.INVALID_ARGUMENT, "get_output before compute")
        if len(ctx.output) > out_buffer_max_size:
            raise NnErrnoError(NnErrno.TOO_LARGE, f"output is {len(ctx.output)} bytes, buffer "
                               f"{out_buffer_max_size}")
        out_buffer.write_bytes(ctx.output)
        return len(ctx.output)

    def on_error(self, function: str, error: BaseException) -> None:
        super().on_error(function, error)
        self.errors.append((function, error))
