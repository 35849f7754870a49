# Two commands set everything up on a fresh machine: `make lab` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install bundle lab test test-js test-py browser bench wheel clean

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	npm ci --no-audit --no-fund
	npm run build
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) bundle

bundle:
	npm run build --silent

# Containers run as root, which jupyter refuses without --allow-root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) $(LAB_ARGS) notebooks/00_tour.ipynb

browser:
	bash .ci/ensure-chromium

test-js: install
	npm test

test-py: install browser
	$(PY) -m pytest

test: test-js test-py

bench: install browser
	$(PY) bench/bench_foundation.py
	$(PY) bench/bench_explanations.py
	$(PY) bench/bench_dashboard.py
	$(PY) bench/bench_inspector.py
	$(PY) bench/bench_scale.py
	$(PY) bench/bench_training.py
	$(PY) bench/bench_images.py

wheel: install
	$(PY) -m build --wheel --outdir dist

clean:
	rm -rf $(VENV) node_modules nnwidgets/static dist build
