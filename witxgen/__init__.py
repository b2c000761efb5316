"""witxgen: bindings, docs and conformance tests generated from WASI `.witx` interfaces."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("witxgen")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
