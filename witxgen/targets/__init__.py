"""The registry of code-generation targets, by the name the CLI uses.

Targets load lazily so that `witxgen targets` and one-target runs stay fast.
"""

from __future__ import annotations

import importlib

from .base import GenerateError, GenerateOptions, Target

# name → (module, class, one-line description)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "python-host": ("python_host", "PythonHostTarget",
                    "Python host stubs for wasmtime-py: typed abstract class + add_to_linker"),
    "rust": ("rust", "RustTarget",
             "Rust guest bindings: raw wasm imports + safe wrappers (no crates)"),
    "assemblyscript": ("assemblyscript", "AssemblyScriptTarget",
                       "AssemblyScript guest bindings: @external imports + typed wrappers"),
    "c": ("c", "CTarget",
          "C guest header: typedefs, constants, layout asserts, import attributes"),
    "markdown": ("markdown", "MarkdownTarget",
                 "Markdown reference: every type with its layout, every function's ABI"),
    "conformance": ("conformance", "ConformanceTarget",
                    "wasi-nn conformance suite: self-checking WAT guests, sidecars, fixtures"),
}

# `generate` without -t: the bindings and docs (the conformance suite needs OpenVINO to
# build its fixture models, so it is asked for by name).
DEFAULT_TARGETS = [name for name in REGISTRY if name != "conformance"]


def target_class(name: str) -> type[Target]:
    module, cls, _ = REGISTRY[name]
    loaded = importlib.import_module(f"{__name__}.{module}")
    target: type[Target] = getattr(loaded, cls)
    return target


__all__ = ["REGISTRY", "DEFAULT_TARGETS", "GenerateError", "GenerateOptions", "Target",
           "target_class"]
