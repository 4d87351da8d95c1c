# Tally: `make run` serves the platform with demo data on the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install node-deps run test lint test-postgres test-sqlite worker beat bench bench-small clean

install: $(STAMP)

# Reinstalls only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Outside clients written in JavaScript (Sunbird's client-services) that tests drive: Debian's Node and npm when
# missing, then the pinned packages of tests/sunbird_client.
NODE_CLIENT := tests/sunbird_client
node-deps: $(NODE_CLIENT)/node_modules/.installed

$(NODE_CLIENT)/node_modules/.installed: $(NODE_CLIENT)/package-lock.json
	command -v node >/dev/null && command -v npm >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null)
	cd $(NODE_CLIENT) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py demo_credentials --base-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy apps config

# Lint, the benchmarks at the small scale as a smoke test (no time is asserted), then the whole suite on PostgreSQL
# with a real Redis and Celery worker, and again on the SQLite default.
test: lint bench-small test-postgres test-sqlite

test-postgres: install node-deps
	TALLY_REQUIRE_SERVICES=1 scripts/with-services.sh $(BIN)/pytest $(PYTEST_ARGS)

test-sqlite: install node-deps
	env -u DATABASE_URL -u CELERY_BROKER_URL $(BIN)/pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install
	mkdir -p var
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule

# SCALE=full for the goals' scale (hours of data generation and load; see the README); small by default.
SCALE ?= small
bench: install
	scripts/with-services.sh scripts/bench.sh --scale $(SCALE)

bench-small: install
	scripts/with-services.sh scripts/bench.sh --scale small

clean:
	rm -rf $(VENV) var/static
