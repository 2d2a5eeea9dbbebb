# Two commands do everything on a fresh machine:
#   make run   set up, load the seed data into SQLite, serve on http://127.0.0.1:8000/
#   make test  set up and run the whole test suite (DATABASE_URL picks the database)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install browser-tools run serve test lint format migrations-check bench bench-smoke clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable ".[dev]"
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium (never a downloaded browser) and run axe-core
# from the npm registry inside the pages.
CHROMIUM ?= /usr/bin/chromium
browser-tools: node_modules/axe-core/axe.min.js $(CHROMIUM)

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

$(CHROMIUM):
	apt-get install -y -q chromium || (echo "Install Debian's chromium package to run the browser tests." && exit 1)

# The benchmark loads the server with Debian's wrk. `make bench` measures at 10k and 1M
# signatures (long: it builds the datasets once, then about 10 minutes a size) and writes
# bench/results.json and docs/benchmarks.md; `make bench-smoke` checks the harness in under a
# minute on a scratch database. Both need PostgreSQL (BENCH_POSTGRES, default
# postgres://postgres@127.0.0.1:5432).
WRK ?= /usr/bin/wrk

$(WRK):
	apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk) \
		|| (echo "Install Debian's wrk package to run the benchmark." && exit 1)

bench: install $(WRK)
	bench/run

bench-smoke: install $(WRK)
	bench/run --smoke

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_statements seeds/
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "Admin: http://127.0.0.1:8000/admin/ -- to create a staff login, run:"
	@echo "    $(PY) manage.py createsuperuser"
	@echo
	$(PY) manage.py runserver 127.0.0.1:8000

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
test: install browser-tools
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
