#!/usr/bin/env bash
# Set up a virtual environment and run the whole test suite, on SQLite and on
# PostgreSQL.  PostgreSQL: IPRISK_TEST_DATABASE_URL if set, else the server on
# 127.0.0.1:5432 (database "test"); where none answers and we are root on a
# Debian-like machine, one is installed from the distribution's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"

# Debian packages the tests use, installed where missing when we are root with apt: chromium
# (the console's browser tests and its PDF printing), fonts-noto-cjk and fontconfig (Chinese glyphs in
# pages, charts and PDFs: docs/regulator.md), poppler-utils (PDF pages to PNG). Add a package here, to this one list.
DEBIAN_PACKAGES=(chromium fonts-noto-cjk fontconfig poppler-utils)

install_debian_packages() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
    local missing=()
    for p in "${DEBIAN_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "test.sh: installing ${missing[*]} from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
install_debian_packages || echo "test.sh: could not install ${DEBIAN_PACKAGES[*]}" >&2

pg_answers() {
    .venv/bin/python - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}

start_debian_postgres() {
    # Only as root on a machine with apt: install, start, allow password login.
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
    echo "test.sh: no PostgreSQL answers; installing one from Debian's packages" >&2
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do
        su postgres -c "psql -qc 'select 1'" >/dev/null 2>&1 && break
        sleep 1
    done
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    su postgres -c "createdb test" >/dev/null 2>&1 || true
    return 0
}

if [ -z "${IPRISK_TEST_DATABASE_URL:-}" ]; then
    IPRISK_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test"
    if ! pg_answers "$IPRISK_TEST_DATABASE_URL"; then
        if start_debian_postgres; then
            IPRISK_TEST_DATABASE_URL="postgresql://postgres:postgres@127.0.0.1:5432/test"
        fi
    fi
fi
if pg_answers "$IPRISK_TEST_DATABASE_URL"; then
    export IPRISK_TEST_DATABASE_URL
    echo "test.sh: PostgreSQL tests use ${IPRISK_TEST_DATABASE_URL%%@*}@…" >&2
else
    echo "test.sh: no PostgreSQL reachable; PostgreSQL tests will be skipped" >&2
    unset IPRISK_TEST_DATABASE_URL
    if [ "${CI:-}" = "true" ]; then
        echo "test.sh: CI requires PostgreSQL" >&2
        exit 1
    fi
fi

# Format and lint first: a few seconds, and a failure here fails the build.
.venv/bin/ruff format --check --quiet .
.venv/bin/ruff check --quiet .
.venv/bin/mypy scoring models_store training service
.venv/bin/mypy tests benchmarks  # every def annotated (pyproject's override for tests and benchmarks)

# Two workers (pytest-xdist), whole files to one worker: each worker trains its own small
# store and each module's servers start once. On the shared 2-core machine pytest took
# 144-269 s on two workers against 208-268 s in one process, other jobs busy throughout
# (docs/performance.md, "Test suite"). Later arguments win: "bash scripts/test.sh -n 0"
# runs in one process, "-m 'not slow'" leaves out the slow tests.
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
