# Harbor: the everyday commands. `make` alone lists them.
#
# With DATABASE_URL and REDIS_URL unset (the default), nothing needs to be installed but Python:
# settings start an embedded PostgreSQL under var/pgdata and Celery uses a filesystem broker
# under var/celery. Set them (in the environment or in .env) to use real servers.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The port `make run` serves on (127.0.0.1 only), e.g. `make run WEB_PORT=8001`.
WEB_PORT ?= 8000
# pytest-xdist workers for `make test` (each gets its own test database); JOBS=0 runs serially.
JOBS ?= auto
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k intake -x"` or PYTEST_ARGS=--create-db.
PYTEST_ARGS ?=
# `make bench`: the data set's size (full: 200 departments, 200,000 walk-ins; small; tiny), the
# locust users and seconds of load, and BENCH_ARGS for more (e.g. BENCH_ARGS=--fresh to generate
# the data set again). Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and redis-server.
SIZE ?= full
USERS ?= 17
DURATION ?= 120
BENCH_ARGS ?=
BENCH_STAMP := $(VENV)/.installed-bench

.DEFAULT_GOAL := help
# pytest-xdist workers for `make test-e2e`: each journey has a browser, a live server and a worker.
E2E_JOBS ?= 2

.PHONY: help venv install run demo-code test test-e2e lint format bench chaos db-stop clean

help: ## List the targets
	@echo "Harbor — make targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml changes. The code runs from the checkout (pyproject has
# packages = []), so only the pinned dependencies and the dev extra are installed, read straight
# from pyproject.toml: no build of the project, no egg-info or build/ left in the checkout.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
		print(*p["dependencies"], *p["optional-dependencies"]["dev"], sep="\n")' > $(VENV)/requirements.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements.txt
	@touch $@

venv: $(STAMP) ## Create .venv and install the pinned dependencies (instant when up to date)
install: venv ## Same as venv

# DJANGO_DEBUG defaults to true for `make run` only (set it in the environment to override).
run: export DJANGO_DEBUG ?= true
# Links in the demo's text messages point at this server.
run: export HARBOR_SITE_URL ?= http://127.0.0.1:$(WEB_PORT)
run: $(STAMP) ## Migrate, load the demo data, then serve web + Celery worker + beat on http://127.0.0.1:8000/
	@mkdir -p var/celery
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "Harbor is starting on http://127.0.0.1:$(WEB_PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" WEB_PORT=$(WEB_PORT) $(BIN)/honcho start -f Procfile.dev

# The demo's staff sign in with a password and a code: this prints the current code.
DEMO_LOGIN ?= officer
demo-code: export DJANGO_DEBUG ?= true
demo-code: $(STAMP) ## Print a demo login's current two-factor code (make demo-code DEMO_LOGIN=coordinator)
	@$(BIN)/python manage.py demo_code $(DEMO_LOGIN)

test: $(STAMP) ## Run the test suite but the browser journeys (pytest); exits with pytest's status
	$(BIN)/pytest -n $(JOBS) -m "not e2e" $(PYTEST_ARGS)

# Needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium); never downloads one.
# Screenshots of every step go to var/screenshots/ (HARBOR_SCREENSHOT_DIR to change).
test-e2e: $(STAMP) ## Run the browser journeys (Playwright + Chromium, live server, real worker)
	$(BIN)/pytest -n $(E2E_JOBS) -m e2e tests/e2e $(PYTEST_ARGS)

# The benchmark's tools (locust, matplotlib), pinned in pyproject.toml's `bench` extra.
$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
		print(*p["optional-dependencies"]["bench"], sep="\n")' > $(VENV)/requirements-bench.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements-bench.txt
	@touch $@

bench: $(BENCH_STAMP) ## Statewide benchmark (SIZE=full|small|tiny USERS=17 DURATION=120) → bench/RESULTS.md
	$(BIN)/python -m bench.run --size $(SIZE) --users $(USERS) --duration $(DURATION) $(BENCH_ARGS)

chaos: $(BENCH_STAMP) ## Fault tests on servers of their own (killed worker, Redis, web; 20 accepts) → bench/RESULTS.md
	$(BIN)/python -m bench.chaos

lint: $(STAMP) ## Check formatting and lint rules (ruff)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP) ## Reformat and apply safe lint fixes (ruff)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

db-stop: ## Stop the embedded PostgreSQL (a no-op when it is not running)
	@if [ -x $(BIN)/python ] && [ -f var/pgdata/postmaster.pid ]; then \
		$(BIN)/python -m config.embedded_postgres stop; \
	else \
		echo "embedded PostgreSQL is not running"; \
	fi

clean: db-stop ## Stop the embedded PostgreSQL and delete var/ (its data, the broker, beat state)
	rm -rf var/ staticfiles/
