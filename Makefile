# Two commands do everything on a fresh machine:
#   make demo   builds the demo study in demo.db and starts the app on it
#   make test   runs the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DEMO_DB ?= demo.db
PORT   ?= 8501

.PHONY: demo test lint fuzz bench clean venv

$(VENV)/.installed-app: pyproject.toml
	@echo "== creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "== installing with the app extras (first run: about a minute)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[app]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	@echo "== creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "== installing with dev extras (first run: about a minute)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-app

venv: $(VENV)/.installed-app

demo: $(VENV)/.installed-app
	@echo "== building the demo study in $(DEMO_DB)"
	$(PY) -m coding demo --db $(DEMO_DB) $(if $(CI),--no-app,--port $(PORT))

test: lint
	@echo "== test services: PostgreSQL and Chromium (scripts/test-services.sh)"
	bash scripts/test-services.sh
	@echo "== pytest: the whole suite on 2 workers"
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(VENV)/.installed-dev
	@echo "== lint: ruff check, ruff format --check, mypy --strict"
	$(VENV)/bin/ruff check coding tests benchmarks app.py
	$(VENV)/bin/ruff format --check coding tests benchmarks app.py
	$(VENV)/bin/mypy coding app.py

# Property tests with fresh random seeds and many examples (FUZZ_EXAMPLES, default 2000), on
# purpose rather than in `make test`; failures are saved in .hypothesis/fuzz and replayed next time.
fuzz: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -n 2 -p no:cacheprovider $$(grep -l '^from hypothesis' tests/*.py)

bench: $(VENV)/.installed-dev
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm .pytest_cache .hypothesis
