#!/usr/bin/env bash
# The service's load figures on three deployments, one after another in one run (issue #12):
# one instance on SQLite, one instance on PostgreSQL, two instances on one PostgreSQL database.
# Each is `tests/load/run.sh` (batch and single issuance, GET /credentials/{id}, the count
# check that everything acknowledged is stored), on a fresh database; the summary at the end
# puts their results side by side.
#
#   POSTGRES=postgres://postgres@127.0.0.1:5432/test bash tests/load/instances.sh   # ~6 minutes
#   DURATION=10 bash tests/load/instances.sh
#
# POSTGRES (default: MICROCRED_TEST_POSTGRES, else postgres://postgres@127.0.0.1:5432/test)
# names a database this script may create and drop schemas in (`psql` is needed).
set -euo pipefail
cd "$(dirname "$0")/../.."

POSTGRES=${POSTGRES:-${MICROCRED_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}}
command -v psql >/dev/null || { echo "psql is needed (Debian package postgresql-client)"; exit 1; }
psql -q "$POSTGRES" -c 'SELECT 1' >/dev/null || { echo "cannot reach $POSTGRES"; exit 1; }

out=$(mktemp -d)
schemas=()
cleanup() {
  for s in "${schemas[@]}"; do psql -q "$POSTGRES" -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 || true; done
  rm -rf "$out"
}
trap cleanup EXIT

# A fresh schema, and the URL that puts the service in it.
schema_url() {
  local s="mc_load_$$_$1"
  psql -q "$POSTGRES" -c "DROP SCHEMA IF EXISTS $s CASCADE; CREATE SCHEMA $s" >/dev/null
  schemas+=("$s")
  local sep='?'; [[ "$POSTGRES" == *\?* ]] && sep='&'
  echo "${POSTGRES}${sep}options=-c%20search_path%3D$s"
}

status=0
echo "== 1/3: one instance on SQLite"
bash tests/load/run.sh | tee "$out/sqlite.txt" || status=1
pg1=$(schema_url one)
echo "== 2/3: one instance on PostgreSQL"
DATABASE=$pg1 INSTANCES=1 bash tests/load/run.sh | tee "$out/pg1.txt" || status=1
pg2=$(schema_url two)
echo "== 3/3: two instances on one PostgreSQL database"
DATABASE=$pg2 INSTANCES=2 PORT=18191 bash tests/load/run.sh | tee "$out/pg2.txt" || status=1

pick() { # file, label: the figure after the label on the results line
  awk -v l="$2" 'index($0, l) == 1 {sub(l, ""); print $1; exit}' "$1"
}
echo
echo "== summary ($(nproc) cores; credentials/s for batch, requests/s for single and GET)"
printf '%-28s %10s %10s %10s %10s\n' deployment "sign x1" batch single GET
for f in sqlite:"SQLite, 1 instance" pg1:"PostgreSQL, 1 instance" pg2:"PostgreSQL, 2 instances"; do
  file="$out/${f%%:*}.txt"
  printf '%-28s %10s %10s %10s %10s\n' "${f#*:}" \
    "$(pick "$file" "core sign rate, 1 thread")" \
    "$(pick "$file" "batch issuance over HTTP")" \
    "$(pick "$file" "single issuance over HTTP")" \
    "$(pick "$file" "GET /credentials/{id}")"
done
exit "$status"
