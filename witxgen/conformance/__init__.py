"""wasi-nn conformance: a case catalog, a suite generator (the `conformance` target) and a
runner that drives any runtime through adapters.

* `model` — the vocabulary of cases: steps (one per wasi-nn call, plus memory checks),
  symbolic arguments (enum and errno *names*, OOB pointers, BAD handles) and expectations in
  the catalog's notation (`=invalid_argument`, `∈{…}`, `TRAP|…`, `NOCRASH`).
* `catalog` — the cases themselves, as data.
* `facts` — what a case needs from a wasi-nn witx text: enum numbers, errno numbers, core
  signatures and the tensor record layout, all read from the IR.
* `wat` / `build` — the small WAT assembler and the lowering of a case into a guest.
* `fixtures` — the models the guests load, built with OpenVINO.
* `runner`, `adapters`, `expectations`, `report` — running a suite and reporting a matrix.
"""
