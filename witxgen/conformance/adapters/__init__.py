"""Built-in runtime adapters, written in wasi-testsuite's adapter shape (a module with
`get_name`, `get_version`, `compute_argv`, …) so that they double as examples for adapters of
other runtimes. `witxgen` itself runs in-process and has no adapter file (see `runner`)."""
