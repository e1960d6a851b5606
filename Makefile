# Set-up and checks for FRANC. `make demo` and `make test` work on a fresh machine.
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test install install-test lint check-jdk bench bench-page

$(STAMP): setup.cfg pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(STAMP)

# The tests also cover the optional back-ends (Ray executor, transformers generator),
# so they get the extras; the demo needs none of them.
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test,ray,hf]'
	touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

check-jdk:
	@command -v javac >/dev/null 2>&1 || { \
	  echo "FRANC needs a JDK (javac 17+) for its Java checks."; \
	  echo "Install one with: apt-get install default-jdk-headless"; exit 1; }

demo: install check-jdk
	$(VENV)/bin/franc demo

# ruff, the import layering (pyproject.toml [tool.importlinter]) and mypy over franc/ and benchmarks/.
lint: install-test
	$(VENV)/bin/ruff check franc tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: install-test check-jdk lint
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

bench: install check-jdk
	$(PY) -m benchmarks.static_filter
	$(PY) -m benchmarks.page

# BENCHMARKS.md from the current section of each benchmark (benchmarks/results/).
bench-page: install
	$(PY) -m benchmarks.page
