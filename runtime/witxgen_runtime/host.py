"""Adding wasi-nn to your own wasmtime-py `Linker` and `Store`.

    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    nn = witxgen_runtime.OpenVinoNn(precision="f32")
    nn.register("openvino::models/digits")        # optional: models for load_by_name
    witxgen_runtime.add_wasi_nn(linker, nn)
    store = wasmtime.Store(engine) ...             # one OpenVinoNn per Store

Afterwards `nn.errors` holds the detail of every error the guest was given.
"""

from __future__ import annotations

from collections.abc import Callable

import wasmtime
from witxgen_host import wasi_ephemeral_nn

from .nn import OpenVinoNn


def add_wasi_nn(
    linker: wasmtime.Linker,
    nn: OpenVinoNn | Callable[[wasmtime.Caller], OpenVinoNn],
) -> None:
    """Define the `wasi_ephemeral_nn` imports on `linker`, served by `nn`.

    Pass one `OpenVinoNn` when the linker serves one store, or a function that picks the
    instance for a call's store when it serves several.
    """
    if isinstance(nn, OpenVinoNn):
        impl = nn
        wasi_ephemeral_nn.add_to_linker(linker, lambda _caller: impl)
    else:
        wasi_ephemeral_nn.add_to_linker(linker, nn)
