#!/usr/bin/env bash
# The employer's verifier page (web/verifier + the WebAssembly verifier) in headless Chromium,
# against the CLI. Makes fixtures with `microcred` in a temporary directory (a key, a signed
# credential, a tampered copy, a baked PNG badge, a revoked credential with its signed status
# list, a credential whose name is markup), serves the built page folder on a loopback port,
# and runs check.mjs (Playwright, `playwright-core` from package-lock.json, driving Debian's
# Chromium): each file loaded over HTTP and from file:// must give the exit code and the JSON
# report `microcred verify --json` gives. Screenshots go to tests/verifier/out/.
# Prints `verifier: N passed, M failed`; exits 1 on any failure, 2 on setup failure (a missing
# tool is a setup failure, never a skip).
#
# Environment:
#   MICROCRED=/path      the CLI (default: cargo build --release -p microcred-cli)
#   VERIFIER_DIR=/path   the built page folder (default: scripts/build-verifier.sh target/verifier)
#   SERVICE_URL=http://… load the page from a running service at SERVICE_URL/verify/ instead of
#                        serving VERIFIER_DIR with python3 -m http.server (file:// still uses
#                        VERIFIER_DIR)
#   CHROMIUM=/path       browser binary (default: /usr/bin/chromium; installed with apt-get
#                        when missing and running as root)
#   TIMING_RUNS=N        verifications timed in the browser (default 20)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/verifier"
OUT="$HERE/out"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
die() { echo "verifier: setup failed: $*" >&2; echo "verifier: 0 passed, 1 failed"; exit 2; }

# 1. Tools.
for t in node npm python3; do
  command -v "$t" >/dev/null 2>&1 || die "$t is needed"
done
if [ ! -x "$CHROMIUM" ]; then
  if [ "$CHROMIUM" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
      || die "apt-get install chromium failed"
  else
    die "no $CHROMIUM: install Debian's chromium (apt-get install chromium) or set CHROMIUM"
  fi
fi
[ -x "$CHROMIUM" ] || die "no $CHROMIUM"

# 2. The CLI and the page.
if [ -z "${MICROCRED:-}" ]; then
  (cd "$ROOT" && cargo build -q --release -p microcred-cli) || die "cargo build --release -p microcred-cli failed"
  MICROCRED="$ROOT/target/release/microcred"
fi
[ -x "$MICROCRED" ] || die "no microcred binary at $MICROCRED"
MICROCRED=$(cd "$(dirname "$MICROCRED")" && pwd)/$(basename "$MICROCRED")
if [ -z "${VERIFIER_DIR:-}" ]; then
  VERIFIER_DIR="$ROOT/target/verifier"
  bash "$ROOT/scripts/build-verifier.sh" "$VERIFIER_DIR" || die "scripts/build-verifier.sh failed"
fi
for f in index.html verifier.js verifier.css verifier-wasm.js; do
  [ -f "$VERIFIER_DIR/$f" ] || die "$VERIFIER_DIR/$f is missing (build it with scripts/build-verifier.sh)"
done
VERIFIER_DIR=$(cd "$VERIFIER_DIR" && pwd)

# 3. Playwright (the library only: no browser download).
(cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null) \
  || die "npm ci in tests/verifier failed"

# 4. Fixtures.
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
FX="$WORK/fixtures"
mkdir -p "$FX"
EX="$ROOT/examples"
mc() { (cd "$FX" && "$MICROCRED" "$@") >>"$WORK/fixtures.log" 2>&1 || { cat "$WORK/fixtures.log" >&2; die "microcred $*"; }; }
mc keygen --out key.json
mc issue --key key.json --achievement "$EX/achievements/df-101.json" --issuer "$EX/issuer-profile.json" \
  --recipient did:example:learner1 --result final-assessment=86 --result status=Completed --out valid.json
# Tampered: one character of the achievement's name changed.
python3 - "$FX/valid.json" "$FX/tampered.json" <<'PY' || die "tampering"
import sys
s = open(sys.argv[1], encoding="utf-8").read()
assert "Productivity Tools" in s
open(sys.argv[2], "w", encoding="utf-8").write(s.replace("Productivity Tools", "Productivity Toolz", 1))
PY
mc bake --generate --credential valid.json --out badge.png
# Markup in the achievement's name: a valid credential the page must show as text.
python3 - "$EX/achievements/df-101.json" "$FX/evil-101.json" <<'PY' || die "hostile achievement"
import json, sys
a = json.load(open(sys.argv[1], encoding="utf-8"))
a["name"] = "Evil <script>alert(1)</script> & <img src=x onerror=alert(2)>"
json.dump(a, open(sys.argv[2], "w", encoding="utf-8"))
PY
mc issue --key key.json --achievement evil-101.json --issuer "$EX/issuer-profile.json" \
  --recipient did:example:learner1 --result status=Completed --out hostile.json
# Revoked, offline: the credential with a BitstringStatusListEntry (index 42), re-signed with
# `microcred sign`, and the issuer's signed BitstringStatusListCredential with bit 42 set.
python3 - "$FX" <<'PY' || die "status list fixtures"
import base64, gzip, json, sys
d = sys.argv[1]
c = json.load(open(f"{d}/valid.json", encoding="utf-8"))
del c["proof"]
c["id"] = "urn:uuid:7b0f2d1e-4a42-4c42-9c42-000000000042"
url = "https://status.example/northbridge/revocation/1"
c["credentialStatus"] = {"id": f"{url}#42", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                         "statusListIndex": "42", "statusListCredential": url}
json.dump(c, open(f"{d}/revoked.unsigned.json", "w", encoding="utf-8"), indent=2)
bits = bytearray(131072 // 8)  # the spec's minimum length (16 KB)
bits[42 // 8] |= 0x80 >> (42 % 8)  # index 0 is the left-most bit
encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).decode().rstrip("=")
lst = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
       "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": c["issuer"]["id"],
       "validFrom": c["validFrom"],
       "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                             "encodedList": encoded}}
json.dump(lst, open(f"{d}/list.unsigned.json", "w", encoding="utf-8"), indent=2)
PY
mc sign --key key.json --out revoked.json revoked.unsigned.json
mc sign --key key.json --out list.json list.unsigned.json
# The same revocation in a verification bundle (as `microcred bundle` saves it).
mc bundle --status-list list.json --out bundle.json revoked.json
mc bake --generate --credential valid.json --out badge.svg
# A CLR 2.0 record of two of the learner's credentials.
mc clr --key key.json --name "Amara's record" valid.json hostile.json --out clr.json
# Stacks: the Digital Fluency series to one learner, and the certificate listing them; once to
# a DID, once to an e-mail address (each credential hashes it with its own salt).
for who in did:example:learner1 amara@example.org; do
  prefix=""
  [ "$who" = amara@example.org ] && prefix="email-"
  ids=()
  for part in df-101:2025-02-21 df-102:2025-03-28 df-103:2025-05-02; do
    mc issue --key key.json --achievement "$EX/achievements/${part%%:*}.json" --issuer "$EX/issuer-profile.json" \
      --recipient "$who" --result status=Completed --valid-from "${part#*:}T17:00:00Z" \
      --out "$prefix${part%%:*}.json"
    ids+=(--evidence "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$FX/$prefix${part%%:*}.json")")
  done
  mc issue --key key.json --achievement "$EX/achievements/df-certificate.json" --issuer "$EX/issuer-profile.json" \
    --recipient "$who" --result status=Completed --valid-from 2025-05-23T17:00:00Z \
    "${ids[@]}" --out "${prefix}cert.json"
done
# Pinning and trust: the issuer's public key as text, another institution's key (DID
# document), a trust list with the issuer, one without it.
mc keygen --out other-key.json
mc did-doc --key other-key.json --out other-did.json
python3 - "$FX" <<'PY' || die "trust lists"
import json, sys
d = sys.argv[1]
key = json.load(open(f"{d}/key.json", encoding="utf-8"))
other = json.load(open(f"{d}/other-key.json", encoding="utf-8"))
open(f"{d}/key.pub", "w").write(key["publicKeyMultibase"])
def trust(k, name):
    return {"institutions": [{"name": name, "id": k["controller"], "keys": [k["publicKeyMultibase"]]}]}
json.dump(trust(key, "Northbridge College"), open(f"{d}/trust.json", "w"))
json.dump(trust(other, "Some Other College"), open(f"{d}/trust-other.json", "w"))
PY
# Verification time for both the CLI and the page (whole minutes: the datetime input's
# format), after every fixture's validFrom.
AT=$(python3 -c 'import datetime as d; t = d.datetime.now(d.timezone.utc) + d.timedelta(minutes=2); print(t.strftime("%Y-%m-%dT%H:%M"))')

# 5. The page over HTTP.
if [ -n "${SERVICE_URL:-}" ]; then
  HTTP_URL="${SERVICE_URL%/}/verify/"
  curl -sf "$HTTP_URL" >/dev/null || die "$HTTP_URL does not answer"
else
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 -m http.server --bind 127.0.0.1 --directory "$VERIFIER_DIR" "$PORT" >"$WORK/http.log" 2>&1 &
  SERVER_PID=$!
  HTTP_URL="http://127.0.0.1:$PORT/index.html"
  for _ in $(seq 1 100); do curl -sf "$HTTP_URL" >/dev/null && break; sleep 0.1; done
  curl -sf "$HTTP_URL" >/dev/null || { cat "$WORK/http.log" >&2; die "python3 -m http.server did not start"; }
fi

# 6. Chromium.
mkdir -p "$OUT"
rm -f "$OUT"/*.png
(cd "$HERE" && MICROCRED="$MICROCRED" FIXTURES="$FX" VERIFIER_DIR="$VERIFIER_DIR" HTTP_URL="$HTTP_URL" AT="$AT" \
  OUT="$OUT" CHROMIUM="$CHROMIUM" node check.mjs)
exit $?
