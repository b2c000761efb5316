"""Adding wasi-nn to your own wasmtime-py `Linker` and `Store`.

    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    nn = witxgen_runtime.OpenVinoNn(precision="f32")
    nn.register("openvino::models/digits")        # optional: models for load_by_name
    witxgen_runtime.add_wasi_nn(linker, nn)
    store = wasmtime.Store(engine) ...             # one OpenVinoNn per Store

Afterwards `nn.errors` holds the detail of every error the guest was given.

Call `witxgen_runtime.run.ensure_signal_stack()` on the thread before you run the guest (as
`run_wasi` does) when the process makes and destroys OpenVINO Cores of its own: see there why
a wasm trap could otherwise kill the process.

Logging: the glue logs every error and trap (traps at ERROR, with the Python exception
attached) on the "witxgen_host" logger, and the backend logs on "witxgen_runtime". Both get a
`logging.NullHandler` here, so an embedder that configures no logging gets no output from them
(without it, Python's last-resort handler would print each trap's traceback to stderr, under
`witxgen run` too); configure logging to see them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import wasmtime
from witxgen_host import wasi_ephemeral_nn

from .nn import OpenVinoNn

for _name in ("witxgen_host", "witxgen_runtime"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


def add_wasi_nn(
    linker: wasmtime.Linker,
    nn: OpenVinoNn | Callable[[wasmtime.Caller], OpenVinoNn],
    *,
    get_memory: Callable[[wasmtime.Caller], object] | None = None,
) -> None:
    """Define the `wasi_ephemeral_nn` imports on `linker`, served by `nn`.

    Pass one `OpenVinoNn` when the linker serves one store, or a function that picks the
    instance for a call's store when it serves several. `get_memory(caller)` returns the
    calling instance's memory; by default each call looks up the caller's "memory" export.
    Returning a memory kept from instantiation saves that lookup (about a microsecond a
    call) where each store holds one instance, as under `run_wasi`. It must belong to the
    calling store: wasmtime aborts the process on a memory of another store.
    """
    if isinstance(nn, OpenVinoNn):
        impl = nn
        wasi_ephemeral_nn.add_to_linker(linker, lambda _caller: impl, get_memory=get_memory)
    else:
        wasi_ephemeral_nn.add_to_linker(linker, nn, get_memory=get_memory)
