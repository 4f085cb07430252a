# neurochip: `make demo` runs the pipeline on defaults, `make test` runs the tests.
# Both do all set-up first (system packages, .venv/, an editable install).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.neurochip-installed
SOURCES := pyproject.toml setup.py $(wildcard emulator/*.pyx emulator/*.pxd)

.PHONY: install demo test lint clean

install: $(STAMP)

$(STAMP): $(SOURCES)
	PYTHON=$(PYTHON) ./scripts/ensure-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: install
	$(BIN)/neurochip demo

lint: install
	$(BIN)/ruff check $(wildcard neurochip emulator circuits tests benchmarks scripts)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/cython-lint emulator

test: install lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info demo-output emulator/*.c emulator/*.so
