# Tally: `make run` serves the platform with demo data on the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHARTJS := static/vendor/chart.js/chart.umd.min.js
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install node-deps run test lint test-postgres test-sqlite chromium worker beat bench bench-small soak clean

install: $(STAMP) $(CHARTJS)

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

# Chart.js for the staff dashboards, at the version package-lock.json pins, copied into static/ so that Tally serves
# it itself (no CDN). npm comes from Debian when the machine has none.
$(CHARTJS): package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm)
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(@D)
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md $(@D)/

# Served by gunicorn, as in production: it decodes chunked request bodies, which Django's development server cannot.
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py demo_credentials --base-url http://$(HOST):$(PORT)
	DJANGO_SETTINGS_MODULE=config.settings.local $(BIN)/gunicorn config.wsgi:application --bind $(HOST):$(PORT) \
		--workers 2 --threads 4

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy apps config

# Lint, the benchmarks at the small scale as a smoke test (no time is asserted), then the whole suite on PostgreSQL
# with a real Redis and Celery worker, and again on the SQLite default.
test: lint bench-small test-postgres test-sqlite

# The browser tests drive Debian's Chromium by its path; installed when missing, like the services.
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test-postgres: install node-deps chromium
	TALLY_REQUIRE_SERVICES=1 scripts/with-services.sh $(BIN)/pytest $(PYTEST_ARGS)

test-sqlite: install node-deps chromium
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

# Every endpoint of every dialect for SECONDS (after a warm-up) against gunicorn with Redis, on a database of its own:
# requests, errors (goal 0), p50, p99 and the servers' memory at start and end (goal: flat, within 20%).
SECONDS ?= 180
soak: install
	BENCH_COMMAND=soak BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tally_soak \
		BENCH_EVENT_STORE=var/soak/events scripts/with-services.sh scripts/bench.sh --seconds $(SECONDS)

clean:
	rm -rf $(VENV) var/static node_modules static/vendor
