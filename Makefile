# wakebench: every target bootstraps .venv from a bare machine (python3 + venv).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JS     := clients/js

.PHONY: demo test lint bench venv clean

venv: $(STAMP) $(JS)/node_modules/.package-lock.json

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

demo: $(STAMP)
	$(BIN)/wakebench run --board sim --speed 60 --scenario scenarios/demo.yaml

test: $(STAMP) $(JS)/node_modules/.package-lock.json
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP) $(JS)/node_modules/.package-lock.json
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
