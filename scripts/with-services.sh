#!/usr/bin/env bash
# Runs a command with PostgreSQL and Redis reachable at DATABASE_URL and CELERY_BROKER_URL.
# Where nothing answers at those addresses, starts throwaway servers on loopback in a temporary folder (installing
# the Debian packages when missing) and stops them when the command ends.
set -euo pipefail

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tally}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
PY="${PY:-.venv/bin/python}"

url_part() { "$PY" -c "import sys; from urllib.parse import urlsplit; u = urlsplit(sys.argv[1]); print(getattr(u, sys.argv[2]) or sys.argv[3])" "$@"; }
pg_host=$(url_part "$DATABASE_URL" hostname 127.0.0.1)
pg_port=$(url_part "$DATABASE_URL" port 5432)
pg_user=$(url_part "$DATABASE_URL" username postgres)
redis_host=$(url_part "$CELERY_BROKER_URL" hostname 127.0.0.1)
redis_port=$(url_part "$CELERY_BROKER_URL" port 6379)

postgres_answers() {
  "$PY" - "$DATABASE_URL" <<'PYEOF' >/dev/null 2>&1
import sys
from urllib.parse import urlsplit, urlunsplit
import psycopg
url = urlsplit(sys.argv[1])
psycopg.connect(urlunsplit(url._replace(scheme="postgresql", path="/postgres")), connect_timeout=3).close()
PYEOF
}
redis_answers() {
  "$PY" -c "import sys, redis; redis.Redis.from_url(sys.argv[1], socket_timeout=3).ping()" "$CELERY_BROKER_URL" >/dev/null 2>&1
}
is_loopback() { [[ "$1" == 127.* || "$1" == "localhost" || "$1" == "::1" ]]; }

workdir=""
cleanup() {
  [ -n "$workdir" ] || return 0
  if [ -f "$workdir/pg/postmaster.pid" ]; then
    runuser -u "$pg_os_user" -- "$pg_bin/pg_ctl" -D "$workdir/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$workdir/redis.pid" ]; then kill "$(cat "$workdir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

apt_install() {
  echo "with-services: installing Debian packages: $*" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "with-services: need root to install $*" >&2; exit 1; fi
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! postgres_answers; then
  is_loopback "$pg_host" || { echo "with-services: PostgreSQL at $pg_host:$pg_port does not answer" >&2; exit 1; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ]; then apt_install postgresql; pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); fi
  workdir=${workdir:-$(mktemp -d -t tally-services.XXXXXX)}
  chmod 755 "$workdir"
  # initdb refuses to run as root: the server runs as the packages' postgres user (or nobody).
  pg_os_user=$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)
  [ "$(id -u)" -eq 0 ] || pg_os_user=$(id -un)
  mkdir -p "$workdir/pg" && chown "$pg_os_user" "$workdir/pg"
  run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$pg_os_user" -- "$@"; else "$@"; fi; }
  run_pg "$pg_bin/initdb" -D "$workdir/pg" -U "$pg_user" --auth=trust >/dev/null
  run_pg "$pg_bin/pg_ctl" -D "$workdir/pg" -l "$workdir/pg/server.log" -w \
    -o "-c listen_addresses=$pg_host -p $pg_port -k $workdir/pg -c fsync=off" start >/dev/null
  echo "with-services: started a throwaway PostgreSQL on $pg_host:$pg_port" >&2
fi

if ! redis_answers; then
  is_loopback "$redis_host" || { echo "with-services: Redis at $redis_host:$redis_port does not answer" >&2; exit 1; }
  command -v redis-server >/dev/null || apt_install redis-server
  workdir=${workdir:-$(mktemp -d -t tally-services.XXXXXX)}
  redis-server --bind "$redis_host" --port "$redis_port" --save "" --appendonly no --daemonize yes \
    --dir "$workdir" --pidfile "$workdir/redis.pid" --logfile "$workdir/redis.log"
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  echo "with-services: started a throwaway Redis on $redis_host:$redis_port" >&2
fi

"$@"
