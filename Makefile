# make run  — install, create the database, load the demo and serve on http://127.0.0.1:$(PORT)
# make test — install the dev dependencies and run the whole suite
# make bench — run the benchmarks and print their table

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 5000
PY      = $(VENV)/bin/python
OMS     = $(VENV)/bin/oms
PYTEST_WORKERS ?= 2

.PHONY: run test bench install dev translations clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed examples/oms-addon-colissimo/pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	# the example partner add-on, installed as a separate distribution (found by its entry point)
	$(PY) -m pip install --quiet ./examples/oms-addon-colissimo
	touch $@

install: $(VENV)/.installed translations

dev: $(VENV)/.dev translations

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -d core/translations 2>&1 | tail -n 1

run: install
	export OMS_SANDBOXES=1 PORT=$(PORT) && \
	$(OMS) create-db && \
	$(OMS) demo && \
	echo "OMS on http://127.0.0.1:$(PORT)  (Ctrl+C to stop)" && \
	$(OMS) run --host 127.0.0.1 --port $(PORT) --with-threads --no-reload

test: dev
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

bench: dev
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) instance build *.egg-info
