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
from .limits import Limits

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
    "OutputInfo",
    "PortInfo",
    "detect_encoding",
]
