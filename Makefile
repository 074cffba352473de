# The two commands a newcomer needs: `make run` and `make test` (and `make lab`).
# Each creates .venv if missing and installs the pinned set once (a stamp file
# records which lock it installed, so editing the lock reinstalls). `make run` and
# `make lab` install the runtime lock only; `make test` adds the test lock and the
# system packages the tests need (scripts/system-packages, shared with .ci/run).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.labkit-installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.labkit-test-installed-$(shell cat requirements.lock requirements-test.lock pyproject.toml | cksum | cut -d' ' -f1)
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# Offline by construction: lessons and tests may only reach loopback.
export LABKIT_NO_NETWORK := 1
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install install-test system-packages run test lab release lock bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) --upgrade pip==25.3
	$(PIP) -r requirements.lock
	$(PIP) --no-deps -e .
	@rm -f $(VENV)/.labkit-installed-*
	@touch $@

install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.lock
	$(PIP) -r requirements.lock -r requirements-test.lock
	@rm -f $(VENV)/.labkit-test-installed-*
	@touch $@

## bubblewrap, chromium, chromium-driver (apt as root; otherwise the command to run)
system-packages:
	@scripts/system-packages

## Execute every lesson headless against the emulator; summary in build/summary.md
run: install
	$(PY) -m labkit run --out build

## The whole test suite, every lesson notebook executed under nbval included
test: system-packages install-test
	$(PY) -m pytest -n 2 --dist loadfile --nbval-lax tests $(wildcard notebooks/*.ipynb)

## JupyterLab on your own copies of the lessons (work/), offline, terminals on your lab
# make lab NAME=ana | make lab WORK=~/my-lessons | make lab SOLUTIONS=1 (instructor versions)
# | make lab JUPYTER_ARGS=--port=8890 (options for jupyter lab itself).
# labkit/serve.py: the course's JupyterLab settings (jupyter/), --allow-root only for root,
# student versions copied once into WORK, and a Ctrl-C that ends without a make error.
lab: install
	$(PY) -m labkit lab $(if $(NAME),--name $(NAME)) $(if $(WORK),--work $(WORK)) \
	  $(if $(filter 1 yes true,$(SOLUTIONS)),--solutions) $(if $(JUPYTER_ARGS),-- $(JUPYTER_ARGS))

## Student versions of the lessons in release/ (solutions stubbed, hidden checks removed)
release: install
	$(PY) -m labkit release

## Benchmarks (figures, not tests)
bench: install
	$(PY) benchmarks/bench_lessons.py

## Re-resolve the pins from pyproject.toml in a scratch venv
lock:
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/pip install --quiet pip==25.3 && build/lockenv/bin/pip install --quiet .
	(head -2 requirements.lock; build/lockenv/bin/pip freeze --exclude-editable | grep -vE '^(labkit|pip|setuptools|wheel)[= ]') > build/runtime.txt
	build/lockenv/bin/pip install --quiet '.[test]'
	build/lockenv/bin/pip freeze --exclude-editable | grep -vE '^(labkit|pip|setuptools|wheel)[= ]' > build/all.txt
	(head -2 requirements-test.lock; grep -vxFf build/runtime.txt build/all.txt) > build/test.txt
	mv build/runtime.txt requirements.lock && mv build/test.txt requirements-test.lock

clean:
	rm -rf build
