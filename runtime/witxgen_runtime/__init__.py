"""witxgen's wasi-nn runtime for Python hosts: OpenVINO behind the generated host glue."""

from .backend import (
    ENCODINGS,
    SUPPORTED_ENCODINGS,
    TARGETS,
    TENSOR_TYPES,
    GraphInfo,
    OpenVinoBackend,
    OutputInfo,
    PortInfo,
    detect_encoding,
)
from .errors import ERROR_CODES, ErrorRecord, NnError
from .host import add_wasi_nn
from .limits import Limits
from .nn import OpenVinoNn
from .run import RunConfig, RunResult, run_wasi

__all__ = [
    "ENCODINGS",
    "ERROR_CODES",
    "SUPPORTED_ENCODINGS",
    "TARGETS",
    "TENSOR_TYPES",
    "ErrorRecord",
    "GraphInfo",
    "Limits",
    "NnError",
    "OpenVinoBackend",
    "OpenVinoNn",
    "RunConfig",
    "RunResult",
    "add_wasi_nn",
    "run_wasi",
    "OutputInfo",
    "PortInfo",
    "detect_encoding",
]
