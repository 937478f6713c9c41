#!/usr/bin/env bash
# Wallets against the issuer service: real wallet libraries from npm play the learner's wallet.
#   - OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow, with Sphereon's
#     client (@sphereon/oid4vci-client; oid4vci.mjs): single offer, batch of 3, tx_code (wrong
#     PIN refused, right PIN works), did:jwk holder, the library's legacy OpenID4VCIClient, an
#     eddsa-jcs-2022 configuration, a deferred credential released by the institution, credential
#     requests in 1.0-final (`proofs`) and draft-13 (`format`) shape sent by fetch; refused: a reused pre-authorized code
#     (invalid_grant), a nonce the issuer never gave, a nonce used twice (invalid_nonce), a key
#     proof for another audience (invalid_proof).
#   - A VC API exchange (as Learner Credential Wallet runs it) with Digital Bazaar's vc-js
#     (vcapi.mjs): DID Authentication with eddsa-rdfc-2022 and with Ed25519Signature2020 (as LCW
#     signs); refused: a wrong challenge, a wrong domain, an unsigned presentation, a replay.
#   - Every credential received is verified with `microcred verify --json` (the institution's
#     did.json as --did-doc, status lists fetched from the loopback service) AND with Digital
#     Bazaar vc-js given only the published contexts (tests/interop/verify.mjs --vc), and must be
#     bound to the wallet's DID (credentialSubject.id).
# Starts `microcred serve --init` on a loopback port in a temporary directory and sets it up with
# curl as tests/pages/run.sh does. Prints `wallet: N passed, M failed`; exit 1 on any failure,
# 2 on a setup failure (a missing tool is a setup failure: nothing is ever skipped).
#
#   bash tests/wallet/run.sh                     # builds: cargo build --release -p microcred-cli
#   MICROCRED=target/release/microcred bash tests/wallet/run.sh
# Environment: WALLET_OUT=DIR keeps the received credentials and logs there (default
# tests/wallet/out/, git-ignored; emptied at the start). Needs node >= 20, npm, curl, python3.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${WALLET_OUT:-$HERE/out}
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '       %s\n' "$2"; }
note() { echo "note - $*"; }
die() { echo "wallet: setup failed: $*" >&2; exit 2; }

# 1. Tools and packages.
for t in node npm curl python3; do command -v "$t" >/dev/null || die "$t is needed"; done
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || die "node >= 20 is needed"
npm_ci() { # dir
  if [[ ! -d "$1/node_modules" ]] || [[ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]]; then
    echo "== npm ci (${1#"$ROOT"/})"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $1 failed"
  fi
}
npm_ci "$HERE"
npm_ci "$ROOT/tests/interop" # its verify.mjs is the vc-js verifier used below
if [ -z "${MICROCRED:-}" ]; then
  (cd "$ROOT" && cargo build -q --release --locked -p microcred-cli) || die "cargo build failed"
  MICROCRED="$ROOT/target/release/microcred"
fi
[ -x "$MICROCRED" ] || die "no microcred binary at $MICROCRED"
MICROCRED=$(cd "$(dirname "$MICROCRED")" && pwd)/$(basename "$MICROCRED")
mkdir -p "$OUT" && rm -rf "${OUT:?}"/* || die "cannot use $OUT"

# 2. The service (as tests/pages/run.sh starts it).
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B="http://127.0.0.1:$PORT"
ADMIN="wallet-admin-$(date +%s%N)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  cp "$WORK/server.log" "$OUT/server.log" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
(cd "$WORK" && MICROCRED_ADMIN_TOKEN="$ADMIN" MICROCRED_LOG=warn exec "$MICROCRED" serve --init \
  --listen "127.0.0.1:$PORT" --database "$WORK/microcred.db" >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$B/healthz" >/dev/null || { cat "$WORK/server.log" >&2; die "the service did not start"; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
api() { # method path token [curl args...]
  local m=$1 p=$2 t=$3; shift 3
  curl -sf -X "$m" "$B$p" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' "$@"
}
EX="$ROOT/examples"
INST=north
api POST /v1/institutions "$ADMIN" -d "{\"slug\": \"$INST\", \"profile\": $(cat "$EX/issuer-profile.json")}" >/dev/null \
  || die "create institution"
TOKEN=$(api POST "/v1/institutions/$INST/tokens" "$ADMIN" -d '{"scopes": ["issue", "manage", "revoke"]}' | json '["token"]') \
  || die "create token"
for a in df-101 df-102 df-103; do
  api PUT "/v1/institutions/$INST/achievements/$a" "$TOKEN" --data-binary @"$EX/achievements/$a.json" >/dev/null \
    || die "achievement $a"
done
curl -sf "$B/institutions/$INST/did.json" >"$WORK/did.json" || die "GET /institutions/$INST/did.json"
cp "$WORK/did.json" "$OUT/did.json"

# offer NAME TXCODE ITEM... -> the offer's JSON in $OUT/NAME.offer.json (institution API).
# ITEM is an achievement slug, with +jcs (cryptosuite eddsa-jcs-2022) and/or +pending (deferred).
offer() {
  local name=$1 tx=$2; shift 2
  local creds="" a extra
  for a in "$@"; do
    extra=""
    [[ $a == *+jcs* ]] && extra+=', "cryptosuite": "eddsa-jcs-2022"'
    [[ $a == *+pending* ]] && extra+=', "pending": true'
    creds+="${creds:+, }{\"achievement\": \"${a%%+*}\", \"recipient\": \"learner-$name@example.org\", \"results\": {\"status\": \"Completed\"}$extra}"
  done
  local code
  code=$(curl -s -o "$OUT/$name.offer.json" -w '%{http_code}' -X POST "$B/v1/institutions/$INST/offers" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"credentials\": [$creds], \"txCode\": $tx}")
  if [ "$code" != 201 ]; then
    bad "$name: create the offer (POST /v1/institutions/$INST/offers)" "HTTP $code $(head -c 400 "$OUT/$name.offer.json")"
    return 1
  fi
}
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]) or '')" "$OUT/$1.offer.json" "$2"; }

# wallet NAME SCRIPT ARGS... -> runs a wallet script; its summary in $OUT/NAME.json
wallet() {
  local name=$1 script=$2; shift 2
  (cd "$HERE" && node "$script" "$@") >"$OUT/$name.json" 2>"$OUT/$name.stderr"
}
summary() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ''))" "$OUT/$1.json" "$2" 2>/dev/null; }
why() { head -c 700 "$OUT/$1.json"; tail -3 "$OUT/$1.stderr" 2>/dev/null; }

HOLDERS=() # "DIR DID" per run that received credentials

# Metadata at both well-known places (RFC 8414 / OID4VCI 1.0 inserted form, and the appended
# form where Sphereon's client and earlier drafts' wallets look) must be the same document.
same_doc() { # what inserted appended
  local a b
  a=$(curl -sf "$2") && b=$(curl -sf "$3") || { bad "$1 metadata: GET $2 and $3" "not both 2xx"; return; }
  if python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1]) == json.loads(sys.argv[2]) else 1)' "$a" "$b"; then
    ok "$1 metadata: the same document at both well-known places"
  else
    bad "$1 metadata: differs between $2 and $3"
  fi
}
same_doc "credential issuer" "$B/.well-known/openid-credential-issuer/institutions/$INST" "$B/institutions/$INST/.well-known/openid-credential-issuer"
same_doc "authorization server" "$B/.well-known/oauth-authorization-server/institutions/$INST" "$B/institutions/$INST/.well-known/oauth-authorization-server"

# 3. OpenID4VCI with Sphereon's client.
oid_ok() { # name expected-count wallet-args... (offer NAME first)
  local name=$1 n=$2; shift 2
  local uri; uri=$(field "$name" offerUri)
  [ -n "$uri" ] || { bad "$name: the offer has no offerUri"; return; }
  if wallet "$name" oid4vci.mjs --offer-uri "$uri" --out "$OUT/$name" "$@" &&
     [ "$(summary "$name" count)" = "$n" ]; then
    ok "$name: OID4VCI wallet received $n credential(s) ($(summary "$name" configurationIds))"
    HOLDERS+=("$OUT/$name $(summary "$name" holder)")
  else
    bad "$name: OID4VCI pre-authorized flow" "$(why "$name")"
  fi
}
oid_err() { # name code description wallet-args...
  local name=$1 code=$2 what=$3; shift 3
  local uri; uri=$(field "$name" offerUri)
  [ -n "$uri" ] || { bad "$name: the offer has no offerUri"; return; }
  if wallet "$name" oid4vci.mjs --offer-uri "$uri" --expect-error "$code" "$@"; then
    ok "$name: $what refused with $code"
  else
    bad "$name: $what must be refused with $code" "$(why "$name")"
  fi
}

offer single false df-101 && oid_ok single 1
offer batch false df-101 df-102 df-103 && oid_ok batch 3
if offer pin true df-101; then
  PIN=$(field pin txCode)
  if [ -z "$PIN" ]; then
    bad "pin: the offer made with txCode true returns no txCode"
  else
    WRONG=$(python3 -c "import sys; p=sys.argv[1]; print(''.join('1' if c == '0' else '0' for c in p))" "$PIN")
    oid_err pin invalid_grant "a wrong PIN" --pin "$WRONG"
    mv "$OUT/pin.json" "$OUT/pin-wrong.json"
    oid_ok pin 1 --pin "$PIN"
  fi
fi
offer jwk false df-102 && oid_ok jwk 1 --did-method jwk
offer legacy false df-103 && oid_ok legacy 1 --client legacy # the library's OpenID4VCIClient, client_id sent
offer jcs false df-101+jcs df-102 && oid_ok jcs 2
# request shapes the library cannot send (the credential request by fetch, the rest by the library)
offer proofs false df-101 df-102+jcs && oid_ok proofs 2 --request-shape v1-proofs
if offer draft13 false df-102; then
  oid_ok draft13 1 --request-shape draft13
  keys=$(summary draft13 responseKeys)
  if grep -qw credential <<<"$keys" && grep -qw c_nonce <<<"$keys"; then
    ok "draft13: a draft-13 request is answered in that draft's shape (keys: $keys)"
  else
    bad "draft13: a draft-13 request must be answered with credential and c_nonce" "keys: $keys"
  fi
fi
if offer deferred false df-101+pending; then
  RELEASE="curl -sf -o /dev/null -X POST '$B/v1/institutions/$INST/offers/$(field deferred id)/items/0/release' -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' -d '{}'"
  oid_ok deferred 1 --on-deferred "$RELEASE"
  if [ "$(summary deferred deferred)" = 1 ] && [ -n "$(summary deferred deferredPending)" ]; then
    ok "deferred: the credential was pending (202 transaction_id) until the institution released it"
  else
    bad "deferred: the pending item must be deferred (202 transaction_id), then released" "$(why deferred)"
  fi
fi
offer replay false df-101 && oid_err replay invalid_grant "a reused pre-authorized code" --replay-code
offer stale false df-101 && oid_err stale invalid_nonce "a c_nonce the issuer never gave" --nonce-mode stale
offer reuse false df-101 && oid_err reuse invalid_nonce "a c_nonce used twice" --nonce-mode reuse
offer aud false df-101 && oid_err aud invalid_proof "a key proof for another audience (aud)" --aud-mode wrong
# Not judged: Sphereon's default nonce handling on a batch (one c_nonce for every request).
if offer library-nonce false df-101 df-102 2>/dev/null; then
  if wallet library-nonce oid4vci.mjs --offer-uri "$(field library-nonce offerUri)" --nonce-mode library; then
    note "library-nonce: Sphereon's default nonce handling works on a batch of 2 (the issuer accepts one c_nonce twice)"
  else
    note "library-nonce: Sphereon's default nonce handling fails on a batch of 2 (it signs every proof with one c_nonce; the issuer's nonces are single-use): $(summary library-nonce error)"
  fi
fi

# 4. VC API exchange with Digital Bazaar's vc-js.
vc_run() { # name what vcapi-args...
  local name=$1 what=$2; shift 2
  local url; url=$(field "$name" exchangeUrl)
  [ -n "$url" ] || { bad "$name: the offer has no exchangeUrl"; return; }
  if wallet "$name" vcapi.mjs --exchange "$url" "$@"; then
    ok "$name: $what"
    if [ -d "$OUT/$name" ]; then HOLDERS+=("$OUT/$name $(summary "$name" holder)"); fi
  else
    bad "$name: $what" "$(why "$name")"
  fi
}
offer vcapi false df-101 df-102 && vc_run vcapi "VC API exchange, DID Authentication (eddsa-rdfc-2022), 2 credentials" --out "$OUT/vcapi"
offer vcapi-lcw false df-103 &&
  vc_run vcapi-lcw "VC API exchange, DID Authentication signed as Learner Credential Wallet does (Ed25519Signature2020, VC 1.1)" \
    --suite Ed25519Signature2020 --out "$OUT/vcapi-lcw"
offer vcapi-challenge false df-101 && vc_run vcapi-challenge "VC API: a presentation over another challenge is refused" --case wrong-challenge
offer vcapi-domain false df-101 && vc_run vcapi-domain "VC API: a presentation for another domain is refused" --case wrong-domain
offer vcapi-unsigned false df-101 && vc_run vcapi-unsigned "VC API: an unsigned presentation is refused" --case unsigned
offer vcapi-replay false df-101 && vc_run vcapi-replay "VC API: the exchange replayed after completion is refused" --case replay

# 5. Every credential received: microcred verify, vc-js (published contexts only), binding.
FILES=()
for h in "${HOLDERS[@]}"; do
  dir=${h%% *}; did=${h#* }
  files=("$dir"/credential-*.json)
  [ -e "${files[0]}" ] || { bad "${dir##*/}: no credential files"; continue; }
  FILES+=("${files[@]}")
  if out=$(cd "$HERE" && node lib.mjs bound "$did" "${files[@]}" 2>&1); then
    ok "${dir##*/}: ${#files[@]} credential(s) bound to the wallet's DID $did"
  else
    bad "${dir##*/}: binding to $did" "$out"
  fi
done
if [ ${#FILES[@]} -eq 0 ]; then
  bad "no credential was received, nothing to verify"
else
  for f in "${FILES[@]}"; do
    rel=${f#"$OUT"/}
    res=$("$MICROCRED" verify --json --did-doc "$WORK/did.json" --online --allow-http "$f" 2>&1); rc=$?
    if [ $rc = 0 ]; then ok "microcred verify: $rel"; else bad "microcred verify: $rel (exit $rc)" "$(head -c 700 <<<"$res")"; fi
  done
  vres=$(cd "$ROOT/tests/interop" && node verify.mjs --vc --suites eddsa-rdfc-2022,eddsa-jcs-2022 \
    --did-doc "$WORK/did.json" "${FILES[@]}" 2>&1)
  for f in "${FILES[@]}"; do
    rel=${f#"$OUT"/}
    if grep -qxF "OK $f" <<<"$vres"; then
      ok "vc-js verifyCredential (published contexts only): $rel"
    else
      bad "vc-js verifyCredential (published contexts only): $rel" "$(grep -F "$f" <<<"$vres" | head -3)"
    fi
  done
fi

echo "wallet: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
