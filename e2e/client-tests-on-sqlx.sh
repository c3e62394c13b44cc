#!/usr/bin/env bash
# The client's integration tests again, with PostgreSQL on sqlx (FOXDB_POSTGRES_DRIVER=sqlx;
# the first run used the default, tokio-postgres): the test binaries `cargo test --all-targets`
# built, each run from client/ as cargo runs it. MongoDB's tests are left out (no PostgreSQL in
# them).
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t binaries < <(
  ${CARGO:-cargo} test --all-targets --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if (message.get("reason") == "compiler-artifact" and message.get("executable")
            and message["target"]["kind"] == ["test"]
            and message["manifest_path"].endswith("/client/Cargo.toml")
            and not message["target"]["name"].startswith("mongo")):
        print(message["executable"])
')
if [ "${#binaries[@]}" -eq 0 ]; then
  echo "no client test binaries found" >&2
  exit 1
fi

failed=()
for binary in "${binaries[@]}"; do
  echo "== $(basename "$binary") (PostgreSQL on sqlx)"
  if ! (cd client && FOXDB_POSTGRES_DRIVER=sqlx "$binary" --quiet); then
    failed+=("$(basename "$binary")")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed with PostgreSQL on sqlx: ${failed[*]}" >&2
  exit 1
fi
echo "${#binaries[@]} client test binaries passed with PostgreSQL on sqlx"
