#!/usr/bin/env bash
# Where single issuance over HTTP spends its CPU: `microcred serve` (release build) under
# valgrind's callgrind, N single issuances over HTTP (eddsa-rdfc-2022), then the inclusive
# instruction share of JSON-LD processing, lint and signing. Callgrind counts instructions,
# not time: the figures repeat for the same binary and inputs whatever else the machine does.
#
#   bash tests/load/profile_single.sh            # 200 issuances, ~2 minutes
#   N=50 MC=path/to/other/microcred OUT=single.callgrind bash tests/load/profile_single.sh
#
# Issue #11: single issuance spends no CPU on a second JSON-LD expansion. `to_rdf` (JSON-LD
# to RDF) is then reached from signing only; `lint_json_ld` (lint's own expansion) not at all.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-200}
PORT=${PORT:-18282}
if [ -z "${MC:-}" ]; then
  cargo build --release --locked -q -p microcred-cli
  MC=target/release/microcred
fi
command -v valgrind >/dev/null || { echo "valgrind is needed (Debian package valgrind)"; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

admin="profile-admin-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MICROCRED_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
MICROCRED_ADMIN_TOKEN="$admin" MICROCRED_LOG=warn \
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$MC" serve --listen "127.0.0.1:$PORT" --database "$work/p.db" 2> "$work/server.log" &
pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 300); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$base/healthz" >/dev/null || { tail "$work/server.log"; exit 1; }

json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
curl -sf -X POST "$base/v1/institutions" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d "{\"slug\":\"northbridge\",\"profile\":$(cat examples/issuer-profile.json)}" >/dev/null
token=$(curl -sf -X POST "$base/v1/institutions/northbridge/tokens" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"scopes":["issue","manage"]}' | json_field token)
curl -sf -X PUT "$base/v1/institutions/northbridge/achievements/df-101" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary @examples/achievements/df-101.json >/dev/null
for i in $(seq "$N"); do
  curl -sf -o /dev/null -X POST "$base/v1/institutions/northbridge/credentials" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"achievement\":\"df-101\",\"recipient\":\"did:example:p$i\",\"results\":{\"final-assessment\":\"8$((i % 10))\",\"status\":\"Completed\"}}"
done
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""

[ -n "${OUT:-}" ] && cp "$work/callgrind.out" "$OUT"   # for callgrind_annotate / kcachegrind
callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.out" > "$work/annotated.txt" 2>/dev/null
total=$(sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' "$work/annotated.txt" | tr -d ,)
echo "== $N single issuances over HTTP: $total instructions in all"
share() { # label, pattern: the largest inclusive count of a function matching the pattern
  local n
  n=$(grep -E "$2" "$work/annotated.txt" | head -1 | awk '{print $1}' | tr -d , || true)
  n=${n:-0}
  printf '%-52s %6.2f%%  (%s per issuance)\n' "$1" "$(python3 -c "print(100 * $n / $total)")" "$(python3 -c "print(round($n / $N))")"
}
share "JSON-LD to RDF (microcred_rdf::to_rdf*)" 'microcred_rdf::to_rdf'
share "  RDFC-1.0 canonicalization" 'microcred_rdf::canon::canonicalize'
share "lint: field checks (lint_fields)" 'microcred_core::lint::lint_fields'
share "lint: its own JSON-LD expansion (lint_json_ld)" 'microcred_core::lint::lint_json_ld'
share "signing (ProofSetup::sign_owned)" 'ProofSetup::sign_owned'
share "Ed25519 signature" 'ed25519_dalek::signing::SigningKey.*::sign'
