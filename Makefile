# witxgen developer entry points. Every target that runs code first runs scripts/bootstrap.sh,
# which installs what is missing (Debian packages, .venv) and is quick when nothing is.

VENV   := .venv
PY     := $(VENV)/bin/python
SPEC   := spec/wasi-nn.witx
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k abi -x"`.
PYTEST_ARGS ?=

.PHONY: bootstrap test lint demo bench spec-history

bootstrap:
	bash scripts/bootstrap.sh

# The whole suite; it includes tests/test_lint.py, so ruff and mypy must pass too.
test: bootstrap
	$(PY) -m pytest $(PYTEST_ARGS)

lint: bootstrap
	$(PY) -m ruff check .
	$(PY) -m mypy

# For now: validate the wasi-nn spec and show its layout and core ABI.
# TODO(later issue): replace with `witxgen generate` + the end-to-end demo
# (generated Python host on wasmtime-py running a guest against the OpenVINO runtime).
demo: bootstrap
	$(VENV)/bin/witxgen check $(SPEC)
	$(VENV)/bin/witxgen abi $(SPEC)

bench: bootstrap
	$(PY) benchmarks/bench_check.py

# docs/spec-history.md: the breaking changes of every step of wasi-nn's witx history.
spec-history: bootstrap
	$(PY) scripts/spec_history.py
