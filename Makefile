# Two commands do everything on a fresh machine:
#   make run   set up, load the seed data into SQLite, serve on http://127.0.0.1:8000/
#              (make run PORT=8001 serves on another port)
#   make test  set up and run the whole test suite (DATABASE_URL picks the database)
# Both need Python 3.11+ (PYTHON=... names another) and make; make test also needs Node.js with
# npm and Debian's chromium package. What is missing is named, with how to install it, before
# anything is set up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install check-python check-libraries check-port check-test-tools browser-tools run serve test lint \
	format migrations-check bench bench-smoke clean

# Python 3.11 or newer, with the venv module (Debian packages it apart, as python3-venv).
check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Python 3.11 or newer is needed; '$(PYTHON)' is" \
	    "$$($(PYTHON) --version 2>/dev/null || echo 'not installed')." \
	    "Install it (Debian: apt-get install python3 python3-venv)," \
	    "or name one: make $(or $(MAKECMDGOALS),install) PYTHON=python3.12" >&2; exit 2; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "'$(PYTHON)' has no venv module: on Debian, apt-get install python3-venv." >&2; \
	  exit 2; }

# Two packages use system libraries: PyICU builds against ICU (names are compared by their
# look-alike key) and python-magic loads libmagic (uploads are read for what they are).
check-libraries:
	@pkg-config --exists icu-i18n 2>/dev/null || { \
	  echo "ICU's development files are needed (PyICU builds against them): on Debian," \
	    "apt-get install libicu-dev pkg-config" >&2; exit 2; }
	@$(PYTHON) -c 'import ctypes.util, sys; sys.exit(not ctypes.util.find_library("magic"))' || { \
	  echo "libmagic is needed (python-magic reads uploads with it): on Debian," \
	    "apt-get install libmagic1" >&2; exit 2; }

$(VENV)/.installed: pyproject.toml | check-python check-libraries
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable ".[dev]"
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium (never a downloaded browser) and run axe-core
# from the npm registry inside the pages. make test checks for both first: run as root where
# apt-get is, it installs Debian's chromium package itself; otherwise it says what to install.
# CHROMIUM=/path/to/chromium uses another build of Chromium.
CHROMIUM ?= /usr/bin/chromium
APT_CHROMIUM := /usr/bin/chromium

check-test-tools: check-python
	@missing=0; \
	for tool in node npm; do \
	  command -v $$tool >/dev/null 2>&1 || { \
	    echo "make test needs Node.js and npm (the browser tests run axe-core from npm)," \
	      "and '$$tool' is not on the PATH. Install them: on Debian, apt-get install nodejs" \
	      "npm; elsewhere see https://nodejs.org/" >&2; missing=1; break; }; \
	done; \
	if [ ! -x '$(CHROMIUM)' ]; then \
	  if [ '$(CHROMIUM)' = '$(APT_CHROMIUM)' ] && [ "$$(id -u 2>/dev/null)" = 0 ] \
	     && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium package for the browser tests"; \
	    apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
	    [ -x '$(CHROMIUM)' ] || { echo "apt-get could not install Debian's chromium package" \
	      "(see above); install it, then run make test again" >&2; missing=1; }; \
	  elif [ '$(CHROMIUM)' = '$(APT_CHROMIUM)' ]; then \
	    echo "make test needs Debian's chromium package (for the browser tests) at" \
	      "$(CHROMIUM): run 'sudo apt-get install chromium', or run make test as root," \
	      "which installs it; or name another Chromium with CHROMIUM=/path/to/chromium" >&2; \
	    missing=1; \
	  else \
	    echo "make test needs Chromium for the browser tests, and CHROMIUM=$(CHROMIUM) is not" \
	      "an executable file: install Debian's chromium package (apt-get install chromium)" \
	      "and leave CHROMIUM unset, or point CHROMIUM at a Chromium binary" >&2; \
	    missing=1; \
	  fi; \
	fi; \
	exit $$missing

browser-tools: check-test-tools node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

# The benchmark loads the server with Debian's wrk. `make bench` measures at 10k, 1M and 10M
# signatures (long: it builds the datasets once, the 10M one in about an hour, then about 10
# minutes a size), then the staff writes at 1M, then the read mixes at 1M, and writes
# bench/results.json, bench/writes.json, bench/mix.json and docs/benchmarks.md;
# `make bench-smoke` checks the harness in under a minute on a scratch database. Both need
# PostgreSQL (BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432).
WRK ?= /usr/bin/wrk

$(WRK):
	apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk) \
		|| (echo "Install Debian's wrk package to run the benchmark." && exit 1)

bench: install $(WRK)
	bench/run
	bench/run --writes
	$(PY) bench/mix.py all

bench-smoke: install $(WRK)
	bench/run --smoke

# PORT: a number from 1 to 65535 (the default 8000).
check-port:
	@case '$(PORT)' in ''|*[!0-9]*|0*) ok=no;; *) [ '$(PORT)' -le 65535 ] && ok=yes || ok=no;; esac; \
	[ $$ok = yes ] || { echo "PORT must be a number from 1 to 65535, e.g. make run PORT=8001;" \
	  "it is '$(PORT)'." >&2; exit 2; }

run: check-port install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_statements seeds/
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "Admin: http://127.0.0.1:$(PORT)/admin/ -- to create a staff login, run:"
	@echo "    $(PY) manage.py createsuperuser"
	@echo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production: gunicorn (tracker/gunicorn.conf.py) on PostgreSQL, static files by whitenoise,
# DJANGO_DEBUG off. Needs DATABASE_URL, DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS; see the
# README and docs/reliability.md.
serve: install
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	  *) echo "make serve runs on PostgreSQL: set DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/NAME"; exit 2;; esac
	DJANGO_DEBUG=0 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=0 $(PY) manage.py collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=0 exec $(VENV)/bin/gunicorn --config tracker/gunicorn.conf.py

# One pytest worker per core; a module's tests stay together (module-scoped servers).
test: check-test-tools install browser-tools
	$(VENV)/bin/pytest --numprocesses=auto --dist=loadscope

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache node_modules test-artifacts
