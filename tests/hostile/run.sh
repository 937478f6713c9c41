#!/usr/bin/env bash
# Hostile requests against a real `microcred serve` (release build, SQLite file) and the
# `microcred verify` binary: every answer is JSON, 4xx (or 503 with Retry-After when the CPU
# pool is full), within bounded time, with the server's peak memory bounded, while other
# requests keep being served. Traffic goes to 127.0.0.1 only.
#
#   bash tests/hostile/run.sh                 # ~1 minute after the build
#   MICROCRED=target/release/microcred bash tests/hostile/run.sh   # an already built binary
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18282}
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${MICROCRED:-}" ]; then
  cargo build --release -q --locked -p microcred-cli
  MICROCRED="${CARGO_TARGET_DIR:-target}/release/microcred"
fi
cp "$MICROCRED" "$work/microcred"
admin="hostile-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Trace-level logging: the suite checks that no token or query string reaches the log.
MICROCRED_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
MICROCRED_ADMIN_TOKEN="$admin" MICROCRED_LOG=trace \
  "$work/microcred" serve --listen "127.0.0.1:$PORT" --database "$work/hostile.db" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 tests/hostile/hostile.py --base "http://127.0.0.1:$PORT" --admin "$admin" --pid "$server_pid" \
  --cli "$work/microcred" --work "$work" --log "$work/server.log" --db "$work/hostile.db"
