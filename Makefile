# neurochip: `make demo` runs the pipeline on defaults, `make test` runs the tests.
# Both do all set-up first (system packages, .venv/, an editable install).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.neurochip-installed
SOURCES := pyproject.toml setup.py $(wildcard emulator/*.pyx emulator/*.pxd emulator/*.pxi emulator/models/*.pxi emulator/models/*/*.pxi neurochip/network/*.pyx neurochip/stepped/*.pyx)

.PHONY: install demo test lint clean bench bench-env

install: $(STAMP)

$(STAMP): $(SOURCES)
	PYTHON=$(PYTHON) ./scripts/ensure-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# compiled modules whose source is gone (an older layout of the engine) would still import
	@for so in emulator/*.so neurochip/network/*.so neurochip/stepped/*.so; do [ -e "$$so" ] || continue; \
		src="$${so%%.*}.pyx"; [ -f "$$src" ] || { echo "removing stale $$so"; rm -f "$$so" "$${so%%.*}.c"; }; done
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: install
	$(BIN)/neurochip demo

lint: install
	$(BIN)/ruff check $(wildcard neurochip emulator circuits tests benchmarks scripts)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/cython-lint emulator neurochip/stepped

test: install lint
	PYTHON=$(PYTHON) ./scripts/ensure-system-deps.sh --test
	$(BIN)/python -m pytest

# the benchmarks that print the figures quoted in docs/performance.md
bench: install bench-env
	$(BIN)/python benchmarks/brunel.py --compare
	$(BIN)/python benchmarks/cuba.py --scale 1 10 --duration 10 2 --compare
	$(BIN)/python benchmarks/mapping.py
	$(BIN)/python benchmarks/circuit_fit.py

clean:
	rm -rf $(VENV) build *.egg-info demo-output emulator/*.c emulator/*.so

# --- bench-env: the peer simulators (Brian2, NEST, optionally SANA-FE) in their own venv,
# because they pin an older numpy than neurochip. benchmarks/peers/run_peer.py runs in it.
BENCH_VENV  := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.peers-installed

bench-env: $(BENCH_STAMP)

$(BENCH_STAMP): benchmarks/peers/requirements.txt benchmarks/peers/requirements-sanafe.txt
	@command -v g++ >/dev/null && command -v make >/dev/null || \
		{ echo "error: Brian2's C++ standalone mode needs g++ and make: apt-get install -y g++ make" >&2; exit 1; }
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/peers/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/peers/requirements-sanafe.txt \
		|| echo "note: SANA-FE did not install; the Brian2 and NEST peers are ready without it"
	PYNEST_QUIET=1 $(BENCH_VENV)/bin/python -c "import brian2, nest; print('bench-env: brian2', brian2.__version__, '/ nest', nest.__version__)"
	touch $@
