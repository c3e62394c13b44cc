#!/usr/bin/env bash
# Installs what `make bench`'s TypeORM peer needs: Node and npm (from apt, only when missing)
# and the packages pinned in package-lock.json (`npm ci`, only when node_modules is missing or
# older than the lock file). Idempotent; a no-op in well under a second once installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || {
        echo "bench: Node.js and npm are needed for the TypeORM peer; install them" >&2
        exit 1
    }
    echo "bench: installing nodejs and npm (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
fi

# npm ci writes node_modules/.package-lock.json last: newer than the lock file once complete.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "bench: installing TypeORM and pg from package-lock.json (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
fi
