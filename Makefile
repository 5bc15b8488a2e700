# make run  — install, create the database, load the demo and serve on http://127.0.0.1:$(PORT)
# make test — install the dev dependencies and run the whole suite
# make bench — run the benchmarks and print their table
# make constraints — pin constraints.txt to the versions installed in the venv (after make test passes)

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 5000
PY      = $(VENV)/bin/python
OMS     = $(VENV)/bin/oms
PYTEST_WORKERS ?= 2
# every install takes its versions from constraints.txt
PIP     = $(PY) -m pip install --quiet -c constraints.txt

.PHONY: run test bench install dev translations constraints clean

# the emulators (sandbox extra) come with make run and make test; production installs
# without them: pip install -c constraints.txt .
$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PIP) -e '.[sandbox]'
	touch $@

$(VENV)/.dev: $(VENV)/.installed examples/oms-addon-colissimo/pyproject.toml
	$(PIP) -e '.[dev,sandbox]'
	# the example partner add-on, installed as a separate distribution (found by its entry point);
	# a stale build/ would carry files removed from the example into the installed copy
	rm -rf examples/oms-addon-colissimo/build
	$(PIP) ./examples/oms-addon-colissimo
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

constraints: dev
	{ sed -n '1,3p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^oms-addon-'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) instance build *.egg-info
