#!/usr/bin/env bash
# Schema-driven fuzzing of `microcred serve` against its own /openapi.json (schemathesis, every
# check): each answer's status, content type, headers and body must be what the document says,
# no request may get a 5xx, invalid data must be refused and valid data accepted. Fails on any
# failure schemathesis reports. Release build, real SQLite file, traffic to 127.0.0.1 only,
# bounded in examples per operation and in total time (~1 minute on 2 cores once the venv
# exists; the run itself ~25 s: ~4,000 test cases over the 39 operations schemathesis selects).
#
#   bash tests/schema/run.sh
#   MICROCRED=target/release/microcred bash tests/schema/run.sh   # an already built binary
#   SEED=7 MAX_EXAMPLES=300 TIME_LIMIT=900 bash tests/schema/run.sh  # a longer, different run
#
# The venv (tests/schema/.venv) gets the pinned schemathesis of requirements.txt; the run's
# settings and the real path parameter values are in schemathesis.toml (values from the set-up
# below, passed as MC_* variables). Reports (JUnit, NDJSON events) go to tests/schema/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18383}
SEED=${SEED:-20240917}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
TIME_LIMIT=${TIME_LIMIT:-240}  # seconds: the schemathesis run is stopped (and fails) after this
here=tests/schema
out=$here/out
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "!! $*" >&2; [ -f "$work/server.log" ] && tail -20 "$work/server.log" >&2; exit 1; }

echo "== schemathesis (PyPI, $here/.venv)"
[ -x "$here/.venv/bin/python" ] || python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
st="$here/.venv/bin/st"
"$st" --version

if [ -z "${MICROCRED:-}" ]; then
  echo "== building (release)"
  cargo build --release -q --locked -p microcred-cli
  MICROCRED="${CARGO_TARGET_DIR:-target}/release/microcred"
fi
# A private copy: a concurrent build in the same target directory cannot swap it mid-run.
cp "$MICROCRED" "$work/microcred"

admin="schema-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MICROCRED_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
MICROCRED_ADMIN_TOKEN="$admin" MICROCRED_LOG=warn \
  "$work/microcred" serve --listen "127.0.0.1:$PORT" --database "$work/schema.db" 2> "$work/server.log" &
server_pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || fail "the server did not start"

echo "== set-up: institution, token with every scope, achievement, credentials"
# call METHOD PATH TOKEN [BODY]: the answer's body; fails unless 2xx.
call() {
  curl -sf -X "$1" "$base$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
    ${4:+--data-binary "$4"} || fail "$1 $2 failed"
}
field() { python3 -c 'import json, sys; v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1"; }
inst=northbridge
did=$(call POST /v1/institutions "$admin" \
  "{\"slug\": \"$inst\", \"suspension\": true, \"profile\": $(cat examples/issuer-profile.json)}" | field did)
token=$(call POST "/v1/institutions/$inst/tokens" "$admin" \
  '{"scopes": ["issue", "revoke", "manage"], "label": "schemathesis"}' | field token)
# A token for DELETE /v1/institutions/{inst}/tokens/{id} to revoke (not the one the run uses).
spare_token=$(call POST "/v1/institutions/$inst/tokens" "$admin" '{"scopes": ["issue"], "label": "spare"}' | field id)
call PUT "/v1/institutions/$inst/achievements/df-101" "$token" @examples/achievements/df-101.json >/dev/null
issue='{"achievement": "df-101", "recipient": "did:example:learner", "results": {"final-assessment": "86", "status": "Completed"}}'
issued=$(call POST "/v1/institutions/$inst/credentials" "$token" "$issue")
credential=$(echo "$issued" | field id)
status_list=$(echo "$issued" | field credential.credentialStatus.0.statusListCredential)
status_list=${status_list##*/}
# Revoked during the run (revocation is permanent: the other credential stays suspendable).
to_revoke=$(call POST "/v1/institutions/$inst/credentials" "$token" "$issue" | field id)
# An offer of it to a wallet (its id and its exchange's id are secrets the routes take).
offered=$(call POST "/v1/institutions/$inst/offers" "$token" "{\"credentials\": [{\"credential\": \"$credential\"}], \"expiresIn\": 3600}")
offer=$(echo "$offered" | field id)
exchange=$(echo "$offered" | field exchangeUrl)
exchange=${exchange##*/}
echo "institution $inst ($did), credential $credential, status list $status_list, offer $offer"

echo "== schemathesis run: seed $SEED, at most $MAX_EXAMPLES examples per operation and phase, at most $TIME_LIMIT s"
rm -rf "$out"
mkdir -p "$out"
# The issuer the VC API issuer accepts (schemathesis.toml puts it into generated credentials).
printf '"%s"\n' "$did" > "$out/issuer.dict"
start=$SECONDS
set +e
MC_ADMIN="$admin" MC_TOKEN="$token" MC_INST="$inst" MC_ACH=df-101 MC_CREDENTIAL="$credential" \
MC_REVOKE="$to_revoke" MC_LIST="$status_list" MC_TOKEN_ID="$spare_token" \
MC_OFFER="$offer" MC_EXCHANGE="$exchange" \
HYPOTHESIS_STORAGE_DIRECTORY="$out/hypothesis" \
  timeout --kill-after=10 "$TIME_LIMIT" \
  "$st" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
    --checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES" --no-color \
    --report junit,ndjson --report-dir "$out"
rc=$?
set -e
echo "== schemathesis finished in $((SECONDS - start)) s (exit $rc)"
kill -0 "$server_pid" 2>/dev/null || fail "the server died during the run"
[ "$rc" != 124 ] || fail "schemathesis did not finish within $TIME_LIMIT s"
[ "$rc" = 0 ] || fail "schemathesis reported failures (see above; reports in $out)"
# A failure behind the answers (a background writer, a panic answered as 500) is logged as ERROR.
if grep -q ' ERROR ' "$work/server.log"; then
  grep ' ERROR ' "$work/server.log" | head -5 >&2
  fail "the server logged errors during the run"
fi
echo "== /openapi.json matches the service"
