#!/usr/bin/env bash
# A throwaway PostgreSQL for the store tests: installs the Debian package if
# needed, runs its own cluster (not the packaged "main" one) on 127.0.0.1, and
# prints the URL to give as SLEEPTIME_TEST_PG_URL.
#
#   eval "export SLEEPTIME_TEST_PG_URL=$(scripts/postgres.sh)"
#   scripts/postgres.sh stop
#
# Settings (environment): PGPORT (default 55432), PGDATA_DIR (default
# /tmp/sleeptime-pg-$PGPORT). Only the URL goes to stdout; progress goes to stderr.
# The cluster trusts every loopback connection and runs with fsync off: it is
# for tests only, never for data you want to keep.
set -euo pipefail

PORT="${PGPORT:-55432}"
DATA="${PGDATA_DIR:-/tmp/sleeptime-pg-$PORT}"
DB=sleeptime_test
URL="postgresql://postgres@127.0.0.1:$PORT/$DB"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    # Newest installed major version; the Debian package puts binaries here, off PATH.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && echo "$dir"
}

install_postgres() {
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL is not installed and installing it needs root"
        exit 1
    fi
    log "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # Update the package lists only when the install fails: they are usually fresh enough.
    if ! apt-get install -y -q postgresql >&2; then
        apt-get update -q >&2
        apt-get install -y -q postgresql >&2
    fi
}

# Run a command as the postgres user (initdb refuses to run as root).
as_postgres() {
    if [[ $(id -un) == postgres ]]; then
        (cd /tmp && "$@")
    elif [[ $(id -u) -eq 0 ]]; then
        (cd /tmp && runuser -u postgres -- "$@")
    else
        log "run this script as root or as the postgres user"
        exit 1
    fi
}

BINDIR=$(find_bindir || true)
if [[ -z "$BINDIR" ]]; then
    install_postgres
    BINDIR=$(find_bindir || true)
    if [[ -z "$BINDIR" ]]; then
        log "no initdb/pg_ctl under /usr/lib/postgresql/*/bin after installing"
        exit 1
    fi
fi

if [[ "${1:-start}" == stop ]]; then
    if [[ -f "$DATA/PG_VERSION" ]] && as_postgres "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        as_postgres "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >&2
    else
        log "not running"
    fi
    exit 0
fi

psql_admin() {
    as_postgres "$BINDIR/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

if [[ ! -f "$DATA/PG_VERSION" ]]; then
    log "creating a cluster in $DATA"
    # A half-made directory from an interrupted run would make initdb refuse.
    rm -rf "$DATA"
    install -d -o postgres -g postgres -m 700 "$DATA" 2>/dev/null || as_postgres mkdir -m 700 -p "$DATA"
    as_postgres "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
fi

if ! as_postgres "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "starting on 127.0.0.1:$PORT"
    # The socket lives in the data dir so that no system directory is needed;
    # durability is switched off because this cluster only ever holds test data.
    as_postgres "$BINDIR/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DATA \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
fi

for _ in $(seq 1 30); do
    if as_postgres "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        break
    fi
    sleep 1
done
if ! as_postgres "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    log "the server did not come up; see $DATA/server.log"
    exit 1
fi

if [[ -z $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'") ]]; then
    psql_admin -c "CREATE DATABASE $DB"
fi

echo "$URL"
