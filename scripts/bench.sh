#!/usr/bin/env bash
# make bench: runs `manage.py bench` on a PostgreSQL database of its own (BENCH_DATABASE_URL, created when missing),
# and an event store of its own, so that the generated data never touches what the platform serves from.
# make soak runs `manage.py soak` the same way (BENCH_COMMAND=soak), on a database and event store of its own.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
# The small scale (the smoke run of `make test`) keeps a database and event store apart from the full scale's, so
# that a test run never replaces the full scale's hours of generated data.
suffix=""
[[ " $* " == *" --scale small "* ]] && suffix="_small"
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tally_bench${suffix}}"
export DJANGO_SETTINGS_MODULE=config.settings.bench
# The bench's tracking-event store, apart from the one `make run` serves (var/events) for the same reason.
export TALLY_EVENT_STORE="${BENCH_EVENT_STORE:-var/bench/events${suffix/_/-}}"
"$PY" - "$DATABASE_URL" <<'PYEOF'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
with psycopg.connect(urlunsplit(url._replace(scheme="postgresql", path="/postgres")), autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PYEOF
"$PY" manage.py migrate --noinput --verbosity 0
exec "$PY" manage.py "${BENCH_COMMAND:-bench}" "$@"
