# The two commands: `make run` starts the whole CRM with demo data,
# `make test` sets up and runs the whole test suite.
# The first Python 3.11+ that actually runs (pyenv shims may exist for versions that are not installed).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && command -v $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_WORKERS ?= 2

.PHONY: run test setup assets messages bench clean-var

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

static/vendor/.copied: package.json package-lock.json scripts/vendor.sh
	npm ci --no-audit --no-fund
	scripts/vendor.sh
	@touch $@

setup: $(VENV)/.installed static/vendor/.copied

assets: static/vendor/.copied

run: setup
	$(PY) -m crm.devstack run

test: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider

messages: setup
	$(PY) manage.py makemessages -l fa -l fi --no-obsolete --ignore=.venv --ignore=node_modules --ignore=static/vendor --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

bench: setup
	$(PY) bench/run.py

clean-var:
	rm -rf var/postgres var/redis
