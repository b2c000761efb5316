"""The wasi-nn backend core on OpenVINO: graphs, execution contexts, tensors and the error policy.

It knows nothing of wasm: the host glue (`witxgen_host` subclasses) reads guest memory, maps enum
numbers to the names used here (encodings, targets, tensor types, error codes) and calls in. Names,
never numbers, cross this boundary, so a renumbered spec cannot change what a call means.

Error policy (DESIGN.md §5): every public method either returns or raises `NnError`; any other
exception (OpenVINO's, a bug's) becomes `NnError("runtime_error", ...)` (MemoryError: too_large).
Each error is appended to `OpenVinoBackend.errors` and logged at INFO on the "witxgen_runtime"
logger (INFO so that a guest probing error cases does not fill stderr unless the embedder asks).

Handles: graph and execution-context handles come from two separate counters that start at 1 (so a
guest's zero-initialised handle is never valid) and only grow; a handle is never reused, even after
`drop_graph`/`drop_context`. Past 2**32 - 1 handles, creating one more gives too_large.

Named models (`register_named`, `register_dir`) are checked when registered (encoding, builder
count, files present) and read + compiled lazily, on the first `load_by_name`; later calls share the
compiled model. A model that fails to compile is not cached: each `load_by_name` retries it.

Threads: a lock guards the handle tables and is never held while OpenVINO reads, compiles or infers.
One context is used by one call at a time: a call on a context that another thread is using gets
busy. Contexts of one graph (and all graph handles made from one `load_by_name` name) share one
compiled model; each context has its own OpenVINO InferRequest.
"""

from __future__ import annotations

import collections
import functools
import importlib
import io
import itertools
import logging
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import openvino as ov

from .errors import ErrorRecord, NnError
from .limits import Limits

__all__ = [
    "ENCODINGS",
    "SUPPORTED_ENCODINGS",
    "TARGETS",
    "TENSOR_TYPES",
    "GraphInfo",
    "OpenVinoBackend",
    "OutputInfo",
    "PortInfo",
    "detect_encoding",
    "shared_core",
]

log = logging.getLogger("witxgen_runtime")

#: Every graph_encoding name of the wasi-nn spec, and the ones this backend can load.
ENCODINGS = ("openvino", "onnx", "tensorflow", "pytorch", "tensorflowlite", "autodetect")
SUPPORTED_ENCODINGS = ("openvino", "onnx", "tensorflowlite", "autodetect")
#: Every execution_target name of the spec.
TARGETS = ("cpu", "gpu", "tpu")
#: tensor_type name -> little-endian numpy dtype. The names equal OpenVINO's element type names.
TENSOR_TYPES: dict[str, np.dtype[Any]] = {
    "f16": np.dtype("<f2"),
    "f32": np.dtype("<f4"),
    "f64": np.dtype("<f8"),
    "u8": np.dtype("u1"),
    "i32": np.dtype("<i4"),
    "i64": np.dtype("<i8"),
}
#: Builders each encoding takes (OpenVINO IR = xml + weights).
_BUILDER_COUNTS = {"openvino": 2, "onnx": 1, "tensorflowlite": 1}
#: Files of an `ENCODING::DIR` model directory (the wasmtime CLI's convention).
_DIR_FILES = {
    "openvino": ("model.xml", "model.bin"),
    "onnx": ("model.onnx",),
    "tensorflowlite": ("model.tflite",),
}
_MAX_HANDLE = 0xFFFF_FFFF

#: The most bytes a wasi-nn tensor can describe (its lengths are u32); more is an overflow.
_MAX_TENSOR_BYTES = 0xFFFF_FFFF


def _find_raw_infer() -> Callable[..., Any] | None:
    """The binding under `ov.InferRequest.infer`, `infer(request, inputs, share_outputs,
    decode_strings)`: calling it directly skips the public wrapper's input dispatch and
    result dict (about 2 µs a compute). None when this openvino has no such binding."""
    try:
        bindings = importlib.import_module("openvino._pyopenvino")  # private: may be missing
        raw: Callable[..., Any] = bindings.InferRequest.infer
    except (ImportError, AttributeError):
        return None
    return raw if issubclass(ov.InferRequest, bindings.InferRequest) else None


_raw_infer = _find_raw_infer()
_NO_INPUTS: dict[int, Any] = {}


def _infer(request: Any) -> None:
    """Run `request` synchronously, on this thread (OpenVINO releases the GIL meanwhile):
    start_async + wait would hand it to a worker thread and back, tens of microseconds on a
    small model."""
    global _raw_infer
    raw = _raw_infer
    if raw is not None and type(request) is ov.InferRequest:
        try:
            raw(request, _NO_INPUTS, True, False)
            return
        except TypeError:  # pybind found no matching overload (a newer openvino): public API
            _raw_infer = None
    request.infer(share_outputs=True)


_T = TypeVar("_T")


# --- public info records -----------------------------------------------------------------


@dataclass(frozen=True)
class PortInfo:
    """A model input or output: its first tensor name ("" if none), OpenVINO element type name
    ("f32", "u8", ..., or another OpenVINO name such as "bf16" or "boolean") and shape (None for a
    dynamic dimension; the whole shape is None when even the rank is dynamic)."""

    name: str
    type: str
    shape: tuple[int | None, ...] | None
    #: (min, max) per dimension, max -1 when unbounded; None when the rank is dynamic.
    bounds: tuple[tuple[int, int], ...] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class GraphInfo:
    inputs: tuple[PortInfo, ...]
    outputs: tuple[PortInfo, ...]


@dataclass(frozen=True)
class OutputInfo:
    """An output as the last compute produced it."""

    dims: tuple[int, ...]
    type: str
    nbytes: int


# --- internal state ----------------------------------------------------------------------


@dataclass
class _Compiled:
    """One compiled model, shared by graph handles and contexts."""

    compiled: Any  # ov.CompiledModel
    info: GraphInfo
    nbytes: int  # counted against Limits.max_model_bytes while held
    keepalive: Any  # the weights buffer the compiled model may point into
    holders: int = 0  # graphs + contexts + (1 if cached by a registered name)


@dataclass
class _Graph:
    model: _Compiled
    name: str | None


@dataclass
class _Context:
    graph: int
    model: _Compiled
    request: Any  # ov.InferRequest
    #: Per input: the array we copied the last set_input into, bound to the request (through
    #: the ov.Tensor kept beside it, which does not keep the array alive by itself).
    inputs: list[Any]
    input_tensors: list[Any]
    #: Per input: (tensor type, dims) of the last accepted set_input and a writable byte view
    #: of its array; a later set_input with the same type and dims only copies its bytes.
    input_fast: list[tuple[str, list[int], memoryview] | None]
    #: Per output with a static shape and a numpy type: our array the request writes into, and
    #: a read-only byte view of it; None where OpenVINO allocates (dynamic shapes).
    outputs: list[Any]
    output_bytes: list[memoryview | None]
    computed: bool = False
    #: Holds one token while no call uses the context: a call takes it with `list.pop` and
    #: puts it back with `append`, each one atomic step, so claiming needs no lock.
    free: list[bool] = field(default_factory=lambda: [True])
    ready: bool = False  # every input has been set


@dataclass
class _Named:
    name: str
    encoding: str
    device: str
    builders: tuple[bytes, ...] | None  # from register_named
    paths: tuple[Path, ...] | None  # from register_dir
    nbytes: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    model: _Compiled | None = None


# --- the error boundary ------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 4000:
        text = text[:4000] + " ..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _api(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Make `fn` raise only NnError, and report each error (history + log)."""
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(self: OpenVinoBackend, *args: Any, **kwargs: Any) -> _T:
        try:
            return fn(self, *args, **kwargs)
        except NnError as exc:
            self._report(name, exc)
            raise
        except MemoryError as exc:
            err = NnError("too_large", f"out of memory: {_one_line(exc)}")
            self._report(name, err)
            raise err from exc
        except Exception as exc:
            err = NnError("runtime_error", _one_line(exc))
            self._report(name, err)
            raise err from exc

    return wrapper


def _fail(code: str, detail: str) -> NnError:
    return NnError(code, detail)


# --- bytes helpers -----------------------------------------------------------------------


def _byte_view(obj: object, what: str) -> memoryview:
    """A 1-D unsigned-byte view of a bytes-like object, without copying when it is contiguous."""
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise _fail("invalid_argument", f"{what} is {type(obj).__name__}, not bytes-like") from None
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def _is_immutable(view: memoryview) -> bool:
    """True when nothing can change the bytes behind `view` (they belong to a bytes object)."""
    return isinstance(view.obj, bytes)


def _owned_bytes(view: memoryview) -> bytes:
    """The bytes behind `view` as an immutable object, copying only when they could change."""
    if isinstance(view.obj, bytes) and view.nbytes == len(view.obj):
        return view.obj
    return view.tobytes()


def _looks_like_xml(view: memoryview) -> bool:
    head = bytes(view[:512])
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    head = head.lstrip(b" \t\r\n")
    return head.startswith(b"<?xml") or head.startswith(b"<net")


def _looks_like_tflite(view: memoryview) -> bool:
    return view.nbytes >= 8 and bytes(view[4:8]) == b"TFL3"


# --- ONNX protobuf scanning --------------------------------------------------------------
#
# A guest's ONNX model may name "external data": a tensor whose bytes OpenVINO's ONNX frontend
# reads from a host path given in the model (absolute paths included). That would let a guest read
# any host file into a tensor and back out through an output, so ONNX bytes from a guest are
# scanned first and rejected if any tensor uses external data. The scan follows every message of
# onnx.proto that can hold a TensorProto; it fails closed on malformed protobuf.


class _BadProtobuf(ValueError):
    pass


# message -> {field number: child message} for the fields that lead to TensorProtos.
_ONNX_CHILDREN: dict[str, dict[int, str]] = {
    "Model": {7: "Graph", 20: "TrainingInfo", 25: "Function"},
    "Graph": {1: "Node", 5: "Tensor", 15: "SparseTensor"},
    "Node": {5: "Attribute"},
    "Attribute": {5: "Tensor", 6: "Graph", 10: "Tensor", 11: "Graph", 22: "SparseTensor",
                  23: "SparseTensor"},
    "Function": {7: "Node", 11: "Attribute"},
    "TrainingInfo": {1: "Graph", 2: "Graph"},
    "SparseTensor": {1: "Tensor", 2: "Tensor"},
    "Tensor": {},
}
# ModelProto's fields and wire types (0 varint, 2 length-delimited).
_ONNX_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}
_ONNX_MAX_DEPTH = 64


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise _BadProtobuf("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _BadProtobuf("varint longer than 10 bytes")


def _pb_fields(buf: memoryview, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value or start, end) of each field in buf[pos:end]."""
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _BadProtobuf("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
        elif wire == 1 or wire == 5:
            pos += 8 if wire == 1 else 4
            if pos > end:
                raise _BadProtobuf("truncated fixed-size field")
            yield number, wire, 0, pos
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise _BadProtobuf("length-delimited field runs past its message")
            yield number, wire, pos, pos + length
            pos += length
        else:
            raise _BadProtobuf(f"wire type {wire} (groups or invalid) in field {number}")


def _check_onnx(buf: memoryview, *, strict: bool) -> None:
    """Raise _BadProtobuf unless `buf` is an ONNX ModelProto with a graph and no external data.

    strict: every top-level field must be one of ModelProto's (used to recognise ONNX bytes)."""
    has_graph = False
    stack = [("Model", 0, buf.nbytes, 0)]
    while stack:
        message, start, end, depth = stack.pop()
        if depth > _ONNX_MAX_DEPTH:
            raise _BadProtobuf(f"messages nested deeper than {_ONNX_MAX_DEPTH}")
        children = _ONNX_CHILDREN[message]
        for number, wire, a, b in _pb_fields(buf, start, end):
            if message == "Model":
                expected = _ONNX_MODEL_FIELDS.get(number)
                if expected is None and strict:
                    raise _BadProtobuf(f"field {number} is not a ModelProto field")
                if expected is not None and wire != expected:
                    raise _BadProtobuf(f"ModelProto field {number} has wire type {wire}")
                has_graph |= number == 7
            elif message == "Tensor" and (number == 13 or (number == 14 and (wire, a) != (0, 0))):
                raise _BadProtobuf("a tensor uses external data (a host path); not allowed")
            child = children.get(number)
            if child is not None:
                if wire != 2:
                    raise _BadProtobuf(f"{message} field {number} has wire type {wire}")
                stack.append((child, a, b, depth + 1))
    if not has_graph:
        raise _BadProtobuf("no graph in the ModelProto")


def detect_encoding(builders: Sequence[memoryview]) -> str:
    """Recognise the encoding of `builders` (autodetect): OpenVINO IR (2 builders, the first XML),
    TFLite ("TFL3" at bytes 4..8) or ONNX (a ModelProto with a graph). Raises NnError."""
    count = len(builders)
    if count == 2:
        if _looks_like_xml(builders[0]):
            return "openvino"
        raise _fail("runtime_error", "autodetect: 2 builders, but the first is not OpenVINO IR XML")
    if count != 1:
        raise _fail("invalid_argument", f"autodetect: {count} builders; models take 1 or 2")
    only = builders[0]
    if _looks_like_xml(only):
        raise _fail(
            "invalid_argument", "autodetect: OpenVINO IR XML needs 2 builders (xml, weights)"
        )
    if _looks_like_tflite(only):
        return "tensorflowlite"
    try:
        _check_onnx(only, strict=True)
    except _BadProtobuf as exc:
        raise _fail(
            "runtime_error",
            f"autodetect: not OpenVINO IR, TFLite or ONNX (as ONNX: {exc})",
        ) from None
    return "onnx"


# --- the backend -------------------------------------------------------------------------

_shared_core: Any = None
_shared_core_lock = threading.Lock()


def shared_core() -> Any:
    """The process's `ov.Core` for backends not given one: created on first use, never destroyed.

    Why never destroyed: OpenVINO's CPU plugin installs its own alternate signal stack
    (sigaltstack) on the thread that first compiles with it and, when the Core that loaded it is
    destroyed, puts back the one it found there. Cores destroyed in another order than they were
    made (one guest's run ending after the next one's started, as in any loop over `run_wasi`)
    leave a freed stack installed, and the next wasm trap, which wasmtime takes as a signal on
    that stack, kills the process with SIGSEGV. A Core that lives as long as the process keeps
    the plugin and its stack alive (and spares every backend a Core and its thread pool)."""
    global _shared_core
    with _shared_core_lock:
        if _shared_core is None:
            _shared_core = ov.Core()
        return _shared_core


class OpenVinoBackend:
    """wasi-nn graphs, contexts and tensors on OpenVINO.

    precision:
      "f32"  - compile with INFERENCE_PRECISION_HINT=f32: results equal an f32 reference (the
               conformance and accuracy runs use this).
      "auto" - OpenVINO's default for the device: bf16 on CPUs with AVX512-BF16/AMX (this machine
               reports bf16), f16 on GPUs; faster, less exact.
    limits: resource limits (see Limits); core: the ov.Core to use (default: `shared_core()`;
      in a process that runs wasm, Cores must not be destroyed out of order: see there).
    error_history: how many errors `errors` keeps.
    """

    def __init__(
        self,
        precision: str = "f32",
        limits: Limits | None = None,
        core: Any | None = None,
        *,
        error_history: int = 100,
    ) -> None:
        if precision not in ("f32", "auto"):
            raise ValueError(f"precision must be 'f32' or 'auto', not {precision!r}")
        self.precision = precision
        self.limits = limits if limits is not None else Limits()
        self.core = core if core is not None else shared_core()
        self._config: dict[str, str] = (
            {"INFERENCE_PRECISION_HINT": "f32"} if precision == "f32" else {}
        )
        #: The last `error_history` errors, oldest first.
        self.errors: collections.deque[ErrorRecord] = collections.deque(maxlen=error_history)
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()  # frontends are not documented as thread-safe
        self._graphs: dict[int, _Graph] = {}
        self._contexts: dict[int, _Context] = {}
        self._named: dict[str, _Named] = {}
        self._graph_ids = itertools.count(1)
        self._context_ids = itertools.count(1)
        self._pending_graphs = 0
        self._pending_contexts = 0
        self._model_bytes = 0  # held + reserved
        self._devices: tuple[str, ...] | None = None
        self._frontend_manager: Any = None
        self._frontends: dict[str, Any] = {}

    # --- reporting ---

    def _report(self, function: str, err: NnError) -> None:
        self.errors.append(ErrorRecord(function, err.code, err.detail))
        log.info("wasi-nn %s: %s: %s", function, err.code, err.detail)

    @property
    def last_error(self) -> ErrorRecord | None:
        return self.errors[-1] if self.errors else None

    # --- checks shared by load and registration ---

    def _device_for(self, target: object) -> str:
        if target == "cpu":
            return "CPU"
        if target == "gpu":
            if any(d == "GPU" or d.startswith("GPU.") for d in self.devices):
                return "GPU"
            raise _fail("unsupported_operation", "target gpu: OpenVINO reports no GPU device")
        if target == "tpu":
            raise _fail("unsupported_operation", "target tpu: this host has no TPU backend")
        raise _fail("invalid_argument", f"unknown execution target {target!r}")

    @property
    def devices(self) -> tuple[str, ...]:
        """OpenVINO's available devices (asked once)."""
        if self._devices is None:
            try:
                self._devices = tuple(str(d) for d in self.core.available_devices)
            except Exception as exc:  # a broken GPU driver must not break the CPU path
                log.info("wasi-nn: listing OpenVINO devices failed: %s", _one_line(exc))
                self._devices = ("CPU",)
        return self._devices

    @staticmethod
    def _check_encoding(encoding: object) -> str:
        if encoding in SUPPORTED_ENCODINGS:
            return str(encoding)
        if encoding in ENCODINGS:
            raise _fail("invalid_encoding", f"encoding {encoding} is not supported by this host")
        raise _fail("invalid_encoding", f"unknown graph encoding {encoding!r}")

    @staticmethod
    def _check_builder_count(encoding: str, count: int) -> None:
        want = _BUILDER_COUNTS[encoding]
        if count != want:
            what = "xml and weights" if encoding == "openvino" else "the model"
            raise _fail(
                "invalid_argument",
                f"encoding {encoding} takes {want} builder(s) ({what}), got {count}",
            )

    def _builder_views(self, builders: object, encoding: object) -> tuple[str, list[memoryview]]:
        """Validate count, encoding and size before anything reads model bytes."""
        if isinstance(builders, (bytes, bytearray, memoryview, str)) or not isinstance(
            builders, Sequence
        ):
            raise _fail("invalid_argument", "builders must be a sequence of bytes-like objects")
        count = len(builders)
        if count > self.limits.max_builders:
            raise _fail(
                "invalid_argument",
                f"{count} graph builders, more than the limit of {self.limits.max_builders}",
            )
        enc = self._check_encoding(encoding)
        if enc != "autodetect":
            self._check_builder_count(enc, count)
        views = [_byte_view(b, f"builder {i}") for i, b in enumerate(builders)]
        total = sum(v.nbytes for v in views)
        if total > self.limits.max_model_bytes:
            raise _fail(
                "too_large",
                f"model is {total} bytes, more than the limit of {self.limits.max_model_bytes}",
            )
        if enc == "autodetect":
            enc = detect_encoding(views)
            self._check_builder_count(enc, count)
        return enc, views

    # --- reservations (limits under concurrency) ---

    def _reserve_graph(self, model_bytes: int) -> None:
        with self._lock:
            if len(self._graphs) + self._pending_graphs >= self.limits.max_graphs:
                raise _fail("too_large", f"already {self.limits.max_graphs} graphs (the limit)")
            if self._model_bytes + model_bytes > self.limits.max_model_bytes:
                raise _fail(
                    "too_large",
                    f"models would hold {self._model_bytes + model_bytes} bytes, more than the "
                    f"limit of {self.limits.max_model_bytes}",
                )
            self._pending_graphs += 1
            self._model_bytes += model_bytes

    def _unreserve_graph(self, model_bytes: int) -> None:
        with self._lock:
            self._pending_graphs -= 1
            self._model_bytes -= model_bytes

    @staticmethod
    def _next_handle(counter: Iterator[int], what: str) -> int:
        handle = next(counter)
        if handle > _MAX_HANDLE:
            raise _fail("too_large", f"no {what} handles left (handles are never reused)")
        return handle

    def _release(self, model: _Compiled) -> None:
        """Drop one holder of `model` (call with the lock held)."""
        model.holders -= 1
        if model.holders == 0:
            self._model_bytes -= model.nbytes

    # --- reading and compiling ---

    def _read(self, encoding: str, views: list[memoryview]) -> tuple[Any, Any]:
        """(ov.Model, keepalive) from guest-supplied builder bytes."""
        if encoding == "openvino":
            return self._read_ir(views[0], views[1])
        if encoding == "onnx":
            return self._read_onnx(views[0]), None
        if encoding == "tensorflowlite":
            return self._read_tflite(views[0]), None
        raise AssertionError(encoding)

    def _read_ir(self, xml_view: memoryview, weights_view: memoryview) -> tuple[Any, Any]:
        try:
            xml = str(xml_view, "utf-8")
        except UnicodeDecodeError as exc:
            raise _fail("runtime_error", f"OpenVINO IR xml is not UTF-8: {exc}") from None
        size = weights_view.nbytes
        # The compiled model may point into the weights (the CPU plugin computes from constants
        # it need not repack in place), and OpenVINO holds no reference to a Python buffer it
        # was given: so the buffer must never change and must live as long as the compiled
        # model (_Compiled.keepalive). bytes objects are used in place; anything mutable (a view
        # of guest memory) is copied once into an array we own.
        if size == 0:
            weights: Any = np.zeros(0, np.uint8)
            tensor = ov.Tensor(ov.Type.u8, [0])
        elif _is_immutable(weights_view):
            weights = np.frombuffer(weights_view, np.uint8)
            tensor = ov.Tensor(weights, [size], ov.Type.u8)  # wraps read-only memory, no copy
        else:
            weights = np.empty(size, np.uint8)
            weights[:] = np.frombuffer(weights_view, np.uint8)
            tensor = ov.Tensor(weights, shared_memory=True)
        with self._read_lock:
            model = self.core.read_model(model=xml, weights=tensor)
        return model, (weights, tensor)

    def _read_onnx(self, view: memoryview) -> Any:
        try:
            _check_onnx(view, strict=False)
        except _BadProtobuf as exc:
            raise _fail("runtime_error", f"ONNX model rejected: {exc}") from None
        # The ONNX frontend reads a Python stream; BytesIO shares a bytes object's buffer.
        stream = io.BytesIO(_owned_bytes(view))
        with self._read_lock:
            frontend = self._frontend("onnx")
            return frontend.convert(frontend.load(stream))

    def _frontend(self, framework: str) -> Any:
        """OpenVINO's frontend for `framework` (call with the read lock held)."""
        frontend = self._frontends.get(framework)
        if frontend is None:
            if self._frontend_manager is None:
                self._frontend_manager = ov.frontend.FrontEndManager()
            frontend = self._frontend_manager.load_by_framework(framework)
            self._frontends[framework] = frontend
        return frontend

    def _read_tflite(self, view: memoryview) -> Any:
        # OpenVINO's TFLite frontend only reads a path ending in ".tflite" (no stream, no bytes).
        # On Linux the bytes go to an anonymous memfd reached through a "model.tflite" symlink in
        # a private temporary directory, so they never touch a disk; elsewhere, a temporary file.
        with tempfile.TemporaryDirectory(prefix="witxgen-nn-") as tmp:
            path = os.path.join(tmp, "model.tflite")
            fd = -1
            if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
                fd = os.memfd_create("witxgen-nn-model.tflite", os.MFD_CLOEXEC)
                os.symlink(f"/proc/self/fd/{fd}", path)
            else:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb", closefd=False) as out:
                    out.write(view)
                with self._read_lock:
                    # The TFLite frontend itself, not read_model's search of every frontend
                    # (which would also try TensorFlow's text format on these bytes).
                    frontend = self._frontend("tflite")
                    return frontend.convert(frontend.load(path))
            finally:
                os.close(fd)

    def _read_path(self, encoding: str, paths: tuple[Path, ...]) -> Any:
        """A registered directory's model (the embedder's own files: read natively, mmapped)."""
        with self._read_lock:
            if encoding == "openvino":
                return self.core.read_model(str(paths[0]), str(paths[1]))
            return self.core.read_model(str(paths[0]))

    def _compile(self, model: Any, device: str, nbytes: int, keepalive: Any) -> _Compiled:
        _check_tensor_sizes(model, self.limits.max_tensor_bytes)
        compiled = self.core.compile_model(model, device, self._config)
        info = GraphInfo(
            inputs=tuple(_port_info(p) for p in compiled.inputs),
            outputs=tuple(_port_info(p) for p in compiled.outputs),
        )
        if not info.outputs:
            raise _fail("runtime_error", "the model has no outputs")
        return _Compiled(compiled=compiled, info=info, nbytes=nbytes, keepalive=keepalive)

    def _compile_guarded(
        self, read: Callable[[], tuple[Any, Any]], device: str, nbytes: int
    ) -> _Compiled:
        """read + compile, with every OpenVINO failure a runtime_error naming the step."""
        try:
            model, keepalive = read()
        except NnError:
            raise
        except MemoryError:
            raise
        except Exception as exc:
            raise _fail("runtime_error", f"reading the model failed: {_one_line(exc)}") from exc
        try:
            return self._compile(model, device, nbytes, keepalive)
        except NnError:
            raise
        except MemoryError:
            raise
        except Exception as exc:
            detail = f"compiling for {device} failed: {_one_line(exc)}"
            raise _fail("runtime_error", detail) from exc

    def _add_graph(self, model: _Compiled, name: str | None) -> int:
        """Turn a reserved slot into a graph handle (call with the lock held)."""
        handle = self._next_handle(self._graph_ids, "graph")
        self._pending_graphs -= 1
        model.holders += 1
        self._graphs[handle] = _Graph(model=model, name=name)
        return handle

    # --- wasi-nn calls ---

    @_api
    def load(self, builders: Sequence[bytes | bytearray | memoryview], encoding: str,
             target: str) -> int:
        """Read and compile a model; return a new graph handle.

        openvino: builders = (IR xml, weights). Weights given as `bytes` are used in place;
        any other buffer (e.g. a view of guest memory) is copied once, since the compiled model
        may keep pointing into it. onnx, tensorflowlite: one builder. autodetect: see
        detect_encoding. tensorflow, pytorch: invalid_encoding."""
        enc, views = self._builder_views(builders, encoding)
        device = self._device_for(target)
        nbytes = sum(v.nbytes for v in views)
        self._reserve_graph(nbytes)
        try:
            model = self._compile_guarded(lambda: self._read(enc, views), device, nbytes)
            with self._lock:
                return self._add_graph(model, None)
        except BaseException:
            self._unreserve_graph(nbytes)
            raise

    @_api
    def register_named(self, name: str, encoding: str,
                       builders: Sequence[bytes | bytearray | memoryview],
                       target: str = "cpu") -> None:
        """Make a model loadable by `load_by_name(name)`; compiled on its first load."""
        if not isinstance(name, str) or not name:
            raise _fail("invalid_argument", "a model name must be a non-empty str")
        enc, views = self._builder_views(builders, encoding)
        device = self._device_for(target)
        owned = tuple(_owned_bytes(v) for v in views)
        self._add_named(_Named(name=name, encoding=enc, device=device, builders=owned,
                               paths=None, nbytes=sum(len(b) for b in owned)))

    @_api
    def register_dir(self, spec: str, target: str = "cpu") -> str:
        """Register `ENCODING::DIR` (the wasmtime CLI's --nn-graph form); return its name (DIR's
        last path component). DIR holds model.xml + model.bin (openvino), model.onnx or
        model.tflite; autodetect takes whichever is there."""
        if not isinstance(spec, str):
            raise _fail("invalid_argument", "a graph spec must be a str ENCODING::DIR")
        encoding, sep, directory = spec.partition("::")
        if not sep or not encoding or not directory:
            raise _fail("invalid_argument", f"graph spec {spec!r} is not ENCODING::DIR")
        enc = self._check_encoding(encoding)
        device = self._device_for(target)
        path = Path(directory)
        if not path.is_dir():
            raise _fail("not_found", f"model directory {directory} does not exist")
        if enc == "autodetect":
            found = [e for e, files in _DIR_FILES.items() if (path / files[0]).is_file()]
            if not found:
                raise _fail(
                    "not_found", f"{directory} has no model.xml, model.onnx or model.tflite"
                )
            enc = found[0]
        paths = tuple(path / f for f in _DIR_FILES[enc])
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise _fail("not_found", f"{directory} has no {' or '.join(missing)} for {enc}")
        name = path.name or path.resolve().name
        if name in ("", ".", ".."):
            name = path.resolve().name
        self._add_named(_Named(name=name, encoding=enc, device=device, builders=None,
                               paths=paths, nbytes=sum(p.stat().st_size for p in paths)))
        return name

    def _add_named(self, entry: _Named) -> None:
        with self._lock:
            if entry.name in self._named:
                raise _fail("invalid_argument", f"a model named {entry.name!r} is registered")
            self._named[entry.name] = entry

    @property
    def names(self) -> tuple[str, ...]:
        """Registered model names."""
        with self._lock:
            return tuple(self._named)

    @_api
    def load_by_name(self, name: str) -> int:
        """A new graph handle for a registered model (compiled on the first call, then shared)."""
        if not isinstance(name, str):
            raise _fail("invalid_argument", "a model name must be a str")
        with self._lock:
            entry = self._named.get(name)
        if entry is None:
            raise _fail("not_found", f"no model named {name!r}")
        self._reserve_graph(0)
        try:
            with entry.lock:
                if entry.model is None:
                    entry.model = self._compile_named(entry)
            with self._lock:
                return self._add_graph(entry.model, name)
        except BaseException:
            self._unreserve_graph(0)
            raise

    def _compile_named(self, entry: _Named) -> _Compiled:
        with self._lock:
            if self._model_bytes + entry.nbytes > self.limits.max_model_bytes:
                raise _fail(
                    "too_large",
                    f"model {entry.name!r} ({entry.nbytes} bytes) would take models past the "
                    f"limit of {self.limits.max_model_bytes} bytes",
                )
            self._model_bytes += entry.nbytes
        try:
            if entry.paths is not None:
                paths = entry.paths
                model = self._compile_guarded(
                    lambda: (self._read_path(entry.encoding, paths), None),
                    entry.device, entry.nbytes,
                )
            else:
                assert entry.builders is not None
                views = [memoryview(b) for b in entry.builders]
                model = self._compile_guarded(
                    lambda: self._read(entry.encoding, views), entry.device, entry.nbytes
                )
        except BaseException:
            with self._lock:
                self._model_bytes -= entry.nbytes
            raise
        with self._lock:
            model.holders += 1  # the name's cache holds it for good
        return model

    @_api
    def init_execution_context(self, graph: int) -> int:
        """A new execution context (its own InferRequest on the graph's compiled model)."""
        with self._lock:
            g = self._graphs.get(graph) if isinstance(graph, int) else None
            if g is None:
                raise _fail("invalid_argument", f"unknown graph handle {graph!r}")
            if len(self._contexts) + self._pending_contexts >= self.limits.max_contexts:
                raise _fail(
                    "too_large", f"already {self.limits.max_contexts} contexts (the limit)"
                )
            self._pending_contexts += 1
            model = g.model
            model.holders += 1
        try:
            request = model.compiled.create_infer_request()
            n = len(model.info.inputs)
            ctx = _Context(graph=graph, model=model, request=request,
                           inputs=[None] * n, input_tensors=[None] * n,
                           input_fast=[None] * n, ready=n == 0,
                           outputs=[], output_bytes=[])
            for i, port in enumerate(model.info.outputs):
                array = _bind_output(request, i, port)
                ctx.outputs.append(array)
                ctx.output_bytes.append(None if array is None else _bytes_of(array))
            with self._lock:
                handle = self._next_handle(self._context_ids, "context")
                self._contexts[handle] = ctx
                self._pending_contexts -= 1
            return handle
        except BaseException:
            with self._lock:
                self._pending_contexts -= 1
                self._release(model)
            raise

    def _claim(self, ctx: object) -> _Context:
        """Take context `ctx` for one call; `_unclaim` it in a finally."""
        c = self._contexts.get(ctx) if isinstance(ctx, int) else None
        if c is None:
            raise _fail("invalid_argument", f"unknown execution context {ctx!r}")
        try:
            c.free.pop()
        except IndexError:  # another call holds it (or drop_context took it for good)
            raise _fail("busy", f"execution context {ctx} is in use by another call") from None
        return c

    @staticmethod
    def _unclaim(c: _Context) -> None:
        c.free.append(True)

    @_api
    def set_input(self, ctx: int, index: int, dims: Sequence[int], tensor_type: str,
                  data: bytes | bytearray | memoryview) -> None:
        """Check the tensor against the model's input `index` and copy it in."""
        dtype = TENSOR_TYPES.get(tensor_type) if isinstance(tensor_type, str) else None
        if dtype is None:
            raise _fail("invalid_argument", f"unknown tensor type {tensor_type!r}")
        c = self._claim(ctx)
        try:
            fast = c.input_fast[index] if type(index) is int and 0 <= index < len(
                c.input_fast) else None
            if fast is not None and fast[0] == tensor_type and type(dims) is list and (
                    fast[1] == dims and bool not in map(type, dims)):  # True == 1, no dim
                # The type and dims this input accepted last time: only the bytes are new.
                target = fast[2]
                if type(data) is memoryview and data.nbytes == target.nbytes and (
                        target.nbytes <= self.limits.max_input_bytes):
                    try:
                        target[:] = data  # the request reads this array at compute
                        return
                    except (ValueError, TypeError):  # not 1-D bytes: the general path
                        pass
            port = _port(c.model.info.inputs, index, "input")
            shape = _check_dims(dims)
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > _MAX_TENSOR_BYTES:
                raise _fail("invalid_argument", f"dims {list(shape)} overflow: {nbytes} bytes")
            view = _byte_view(data, "tensor data")
            if view.nbytes != nbytes:
                raise _fail(
                    "invalid_argument",
                    f"tensor data is {view.nbytes} bytes; dims {list(shape)} of {tensor_type} "
                    f"take {nbytes}",
                )
            if port.type != tensor_type:
                raise _fail(
                    "invalid_argument",
                    f"input {index} ({port.name or 'unnamed'}) takes {port.type}, "
                    f"got {tensor_type}",
                )
            _check_shape(port, shape, index)
            if nbytes > self.limits.max_input_bytes:
                raise _fail(
                    "too_large",
                    f"input is {nbytes} bytes, more than the limit of "
                    f"{self.limits.max_input_bytes}",
                )
            source = np.frombuffer(view, dtype=dtype).reshape(shape)
            array = c.inputs[index]
            if array is not None and array.shape == shape:
                np.copyto(array, source)  # the request reads this array at compute
            else:
                array = source.copy()
                tensor = ov.Tensor(array, shared_memory=True)
                c.request.set_input_tensor(index, tensor)
                c.inputs[index], c.input_tensors[index] = array, tensor
                c.ready = all(a is not None for a in c.inputs)
            c.input_fast[index] = (tensor_type, list(shape), memoryview(array).cast("B"))
        finally:
            self._unclaim(c)

    @_api
    def compute(self, ctx: int) -> None:
        """Run inference on the inputs set so far (all must be set); outputs stay until the next
        compute."""
        c = self._claim(ctx)
        try:
            if not c.ready:
                missing = [i for i, array in enumerate(c.inputs) if array is None]
                raise _fail("invalid_argument", f"inputs {missing} not set before compute")
            c.computed = False
            try:
                _infer(c.request)
            except Exception as exc:
                raise _fail("runtime_error", f"inference failed: {_one_line(exc)}") from exc
            c.computed = True
        finally:
            self._unclaim(c)

    def _output(self, c: _Context, ctx: object, index: object) -> tuple[int, PortInfo]:
        port = _port(c.model.info.outputs, index, "output")
        if not c.computed:
            raise _fail("invalid_argument", f"get_output before a successful compute on {ctx}")
        return int(index), port  # type: ignore[call-overload]

    @_api
    def output_info(self, ctx: int, index: int) -> OutputInfo:
        """Dims, type name and byte size of output `index` from the last compute."""
        c = self._claim(ctx)
        try:
            i, port = self._output(c, ctx, index)
            array = c.outputs[i]
            if array is None:
                array = c.request.get_output_tensor(i).data
            return OutputInfo(dims=tuple(array.shape), type=port.type, nbytes=int(array.nbytes))
        finally:
            self._unclaim(c)

    @_api
    def get_output(self, ctx: int, index: int) -> memoryview:
        """Output `index` of the last compute as a read-only, C-contiguous, 1-D byte view.

        The view shares memory with the context's output buffer: it stays valid (the memory is
        kept alive) but its contents change at the next compute on this context, so copy it out
        (the glue copies into guest memory) before computing again."""
        c = self._claim(ctx)
        try:
            # A view of its own: releasing it spares the context's cached view.
            return memoryview(self._output_bytes(c, ctx, index))
        finally:
            self._unclaim(c)

    @_api
    def get_output_into(self, ctx: int, index: int, buffer: memoryview) -> int:
        """Copy output `index` of the last compute into the writable byte buffer `buffer`;
        how many bytes it wrote. too_large (and nothing written) when they do not fit."""
        c = self._claim(ctx)
        try:
            cached = c.output_bytes
            data = cached[index] if (
                c.computed and type(index) is int and 0 <= index < len(cached)) else None
            if data is None or data.nbytes > self.limits.max_output_bytes:
                data = self._output_bytes(c, ctx, index)  # every check, and its error
            nbytes = data.nbytes
            if nbytes > buffer.nbytes:
                raise _fail(
                    "too_large", f"output {index} is {nbytes} bytes; the buffer holds "
                    f"{buffer.nbytes}",
                )
            buffer[:nbytes] = data
            return nbytes
        finally:
            self._unclaim(c)

    def _output_bytes(self, c: _Context, ctx: object, index: object) -> memoryview:
        i, port = self._output(c, ctx, index)
        cached = c.output_bytes[i]
        if cached is not None:
            if cached.nbytes > self.limits.max_output_bytes:
                raise self._too_large_output(i, cached.nbytes)
            return cached
        tensor = c.request.get_output_tensor(i)
        nbytes = int(tensor.byte_size)
        if nbytes > self.limits.max_output_bytes:
            raise self._too_large_output(i, nbytes)
        array = tensor.data
        if array.dtype.hasobject or array.dtype.kind in "USV":
            raise _fail("runtime_error", f"output {i} of type {port.type} has no bytes")
        return _bytes_of(array)

    def _too_large_output(self, index: int, nbytes: int) -> NnError:
        return _fail(
            "too_large",
            f"output {index} is {nbytes} bytes, more than the limit of "
            f"{self.limits.max_output_bytes}",
        )

    # --- beyond wasi-nn: for the embedding program ---

    @_api
    def graph_info(self, graph: int) -> GraphInfo:
        """The inputs and outputs a graph's model takes and gives."""
        with self._lock:
            g = self._graphs.get(graph) if isinstance(graph, int) else None
            if g is None:
                raise _fail("invalid_argument", f"unknown graph handle {graph!r}")
            return g.model.info

    @_api
    def drop_context(self, ctx: int) -> None:
        """Forget a context (its handle is never reused)."""
        with self._lock:
            c = self._contexts.get(ctx) if isinstance(ctx, int) else None
            if c is None:
                raise _fail("invalid_argument", f"unknown execution context {ctx!r}")
            try:
                c.free.pop()  # never given back: a call that found `c` just before gets busy
            except IndexError:
                raise _fail(
                    "busy", f"execution context {ctx} is in use by another call"
                ) from None
            del self._contexts[ctx]
            self._release(c.model)

    @_api
    def drop_graph(self, graph: int) -> None:
        """Forget a graph handle; its contexts keep working (the handle is never reused)."""
        with self._lock:
            g = self._graphs.pop(graph, None) if isinstance(graph, int) else None
            if g is None:
                raise _fail("invalid_argument", f"unknown graph handle {graph!r}")
            self._release(g.model)

    def stats(self) -> dict[str, int]:
        """Live graphs, contexts, and model bytes held (against the limits)."""
        with self._lock:
            return {
                "graphs": len(self._graphs),
                "contexts": len(self._contexts),
                "model_bytes": self._model_bytes,
            }


# --- port helpers ------------------------------------------------------------------------


def _bytes_of(array: Any) -> memoryview:
    """A read-only 1-D byte view of `array` (copied first only if not C-contiguous)."""
    flat = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    return memoryview(flat).toreadonly()  # type: ignore[arg-type]


def _check_tensor_sizes(model: Any, limit: int) -> None:
    """too_large if an operation of `model` (other than a Constant) declares an output of more
    than `limit` bytes: its static shape, or the lower bounds of a dynamic one. Compiling such a
    model would make OpenVINO fold or allocate that tensor (a guest's Broadcast to [1<<16, 1<<16]
    costs 16 GiB of host memory and minutes of CPU otherwise)."""
    for op in model.get_ordered_ops():
        if op.get_type_name() == "Constant":
            continue
        for i in range(op.get_output_size()):
            bits = op.get_output_element_type(i).bitwidth
            partial = op.get_output_partial_shape(i)
            if bits == 0 or partial.rank.is_dynamic:
                continue
            elements = math.prod(d.get_min_length() for d in partial)
            nbytes = (elements * bits + 7) // 8
            if nbytes > limit:
                raise _fail(
                    "too_large",
                    f"operation {op.get_friendly_name()!r} ({op.get_type_name()}) makes a "
                    f"{partial} tensor of {nbytes} bytes, more than the limit of {limit}",
                )


def _bind_output(request: Any, index: int, port: PortInfo) -> Any:
    """Give the request our own array for a static-shaped output of one of the six types, so
    that get_output is a view of it without asking OpenVINO; None to let OpenVINO allocate."""
    dtype = TENSOR_TYPES.get(port.type)
    if dtype is None or port.shape is None or None in port.shape:
        return None
    array = np.zeros(tuple(int(d) for d in port.shape if d is not None), dtype)
    try:
        request.set_output_tensor(index, ov.Tensor(array, shared_memory=True))
    except Exception:  # a device that will not write into host memory: let it allocate
        return None
    return array


def _port_info(port: Any) -> PortInfo:
    names = sorted(port.get_names())
    type_name = port.get_element_type().get_type_name()
    partial = port.get_partial_shape()
    if partial.rank.is_dynamic:
        return PortInfo(names[0] if names else "", type_name, None, None)
    shape: list[int | None] = []
    bounds: list[tuple[int, int]] = []
    for dim in partial:
        if dim.is_static:
            n = dim.get_length()
            shape.append(n)
            bounds.append((n, n))
        else:
            shape.append(None)
            bounds.append((dim.get_min_length(), dim.get_max_length()))
    return PortInfo(names[0] if names else "", type_name, tuple(shape), tuple(bounds))


def _port(ports: tuple[PortInfo, ...], index: object, what: str) -> PortInfo:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(ports):
        raise _fail(
            "invalid_argument", f"{what} index {index!r} out of range (the model has {len(ports)})"
        )
    return ports[index]


def _check_dims(dims: object) -> tuple[int, ...]:
    if type(dims) is not list and type(dims) is not tuple and (
        isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence)
    ):
        raise _fail("invalid_argument", "dims must be a sequence of ints")
    shape = tuple(dims)
    if shape and all(type(d) is int and 0 < d <= _MAX_HANDLE for d in shape):
        return shape  # the common case, checked fast
    if not shape:
        raise _fail("invalid_argument", "rank-0 tensor (empty dims)")
    for i, d in enumerate(shape):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise _fail("invalid_argument", f"dim {i} is {d!r}, not an int")
        if d <= 0:
            raise _fail("invalid_argument", f"dim {i} is {d}; dims must be positive")
        if d > _MAX_HANDLE:
            raise _fail("invalid_argument", f"dim {i} is {d}, more than a u32")
    return tuple(int(d) for d in shape)


def _check_shape(port: PortInfo, shape: tuple[int, ...], index: int) -> None:
    if port.bounds is None or shape == port.shape:
        return
    if len(shape) != len(port.bounds):
        raise _fail(
            "invalid_argument",
            f"input {index} takes rank {len(port.bounds)} {_shape_text(port)}, got dims "
            f"{list(shape)}",
        )
    for i, (d, (low, high)) in enumerate(zip(shape, port.bounds, strict=True)):
        if d < low or (high >= 0 and d > high):
            raise _fail(
                "invalid_argument",
                f"input {index} takes shape {_shape_text(port)}, got dims {list(shape)} "
                f"(dim {i})",
            )


def _shape_text(port: PortInfo) -> str:
    if port.shape is None:
        return "[...]"
    return "[" + ",".join("?" if d is None else str(d) for d in port.shape) + "]"
