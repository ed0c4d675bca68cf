# wakebench: every target bootstraps .venv from a bare machine (python3 + venv).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JS     := clients/js

.PHONY: demo test lint bench venv clean compiled

venv: $(STAMP) $(JS)/node_modules/.package-lock.json compiled

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# the JavaScript client's packages, exactly as package-lock.json pins them (needs npm; the JS
# tests skip, saying so, without node)
$(JS)/node_modules/.package-lock.json: $(JS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd $(JS) && npm ci --no-audit --no-fund; \
	else echo "make: npm not found: the JavaScript tests will skip (Debian: apt-get install nodejs npm)"; fi

# the virtual-time core compiled with mypyc (build_compiled.py; CONTRIBUTING "Compiled build"):
# rebuilt when a compiled source or a module it imports changes; without a C compiler it says so
# in one line and the pure-Python modules run
COMPILED_STAMP := build/mypyc/stamp
COMPILED_SRC := $(shell $(PYTHON) build_compiled.py --sources 2>/dev/null)

compiled: $(COMPILED_STAMP)

$(COMPILED_STAMP): $(STAMP) build_compiled.py $(COMPILED_SRC)
	$(BIN)/python build_compiled.py
	@mkdir -p $(dir $@) && touch $@

demo: $(STAMP) compiled
	$(BIN)/wakebench run --board sim --speed 60 --scenario scenarios/demo.yaml

test: $(STAMP) $(JS)/node_modules/.package-lock.json compiled
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP) $(JS)/node_modules/.package-lock.json compiled
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	-$(PYTHON) build_compiled.py --clean
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build/mypyc
