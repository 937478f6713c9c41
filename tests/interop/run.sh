#!/usr/bin/env bash
# End-to-end interoperability check: microcred <-> Digital Bazaar's
# JavaScript Data Integrity implementation (jsonld-signatures,
# @digitalbazaar/data-integrity, eddsa-jcs-2022 cryptosuite).
#
#   bash tests/interop/run.sh [--js-only]
#
# Environment:
#   MICROCRED=PATH      use this microcred binary (default: build it with
#                       `cargo build --release -p microcred-cli`)
#   INTEROP_SUITES=LIST cryptosuites to exercise (default eddsa-jcs-2022;
#                       eddsa-jcs-2022,eddsa-rdfc-2022 adds RDFC)
#   INTEROP_JSONLD=0    skip the JSON-LD safe-mode expansion checks
#   INTEROP_EXAMPLES=DIR  achievements/*.json and issuer-profile.json
#                       (default: examples/ of the repository)
#   INTEROP_OUT=DIR     work in DIR (kept); default: a temp dir, removed
#                       when everything passed
#   --js-only           only the JS self-tests against the W3C vectors
#                       (no microcred needed)
#
# Ends with `interop: N passed, M failed`; exits 1 if M > 0.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SUITES="${INTEROP_SUITES:-eddsa-jcs-2022}"
JSONLD="${INTEROP_JSONLD:-1}"
JS_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --js-only) JS_ONLY=1 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
IFS=',' read -r -a SUITE_LIST <<<"$SUITES"
for s in "${SUITE_LIST[@]}"; do
  case "$s" in
    eddsa-jcs-2022|eddsa-rdfc-2022) ;;
    *) echo "run.sh: unknown suite $s in INTEROP_SUITES" >&2; exit 2 ;;
  esac
done
has_suite() { [[ ",$SUITES," == *",$1,"* ]]; }

START=$SECONDS
FIX="$HERE/fixtures"
W3C="$FIX/w3c-vc-di-eddsa/TestVectors"
OBMIN="$FIX/research-derived/ob30-microcredential-min"
VECTOR_KEY="$FIX/w3c-vc-di-eddsa-key.multikey.json"
LEARNER="did:example:learner1"
EXAMPLES="${INTEROP_EXAMPLES:-$ROOT/examples}"

PASS=0
FAIL=0
FAILED=()
ok() { PASS=$((PASS + 1)); echo "  ok   $1"; }
bad() {
  FAIL=$((FAIL + 1)); FAILED+=("$1"); echo "  FAIL $1"
  if [[ -n "${2:-}" ]]; then printf '%s\n' "$2" | head -n 40 | sed 's/^/       | /'; fi
}
note() { echo "  note $1"; }
finish() {
  local rc=$?
  local secs=$((SECONDS - START))
  echo
  if [[ ${#FAILED[@]} -gt 0 ]]; then
    echo "failed checks:"
    printf '  - %s\n' "${FAILED[@]}"
  fi
  if [[ -n "$WORK" ]]; then
    if [[ $KEEP -eq 0 && $FAIL -eq 0 && $rc -eq 0 ]]; then
      rm -rf "$WORK"
    else
      echo "work dir kept: $WORK"
    fi
  fi
  echo "(${secs}s)"
  echo "interop: $PASS passed, $FAIL failed"
  if [[ $rc -ne 0 ]]; then exit "$rc"; fi
  if [[ $FAIL -ne 0 ]]; then exit 1; fi
}
trap finish EXIT
# a command that fails outside of a check stops the run and counts as failed
trap 'bad "run.sh stopped: line $LINENO: $BASH_COMMAND (exit $?)"' ERR
WORK=""
KEEP=0

# ------------------------------------------------------------ setup
if [[ ! -d "$HERE/node_modules" ]] ||
   [[ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]]; then
  echo "== npm ci (tests/interop)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) ||
    { bad "npm ci in tests/interop"; exit 1; }
fi

MC=""
if [[ $JS_ONLY -eq 0 ]]; then
  if [[ -n "${MICROCRED:-}" ]]; then
    MC="$MICROCRED"
  else
    echo "== cargo build --release -p microcred-cli"
    (cd "$ROOT" && cargo build --release -p microcred-cli) ||
      { bad "cargo build --release -p microcred-cli"; exit 1; }
    MC="${CARGO_TARGET_DIR:-$ROOT/target}/release/microcred"
  fi
  [[ "$MC" == */* ]] && MC="$(cd "$(dirname "$MC")" && pwd)/$(basename "$MC")"
  if ! "$MC" --help >/dev/null 2>&1; then
    bad "$MC --help works"
    exit 1
  fi
fi

if [[ -n "${INTEROP_OUT:-}" ]]; then
  WORK="$INTEROP_OUT"
  rm -rf "$WORK"
  mkdir -p "$WORK"
  KEEP=1
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/microcred-interop.XXXXXX")"
  KEEP=0
fi
cd "$WORK"
mkdir -p mc js tampered logs


# expect_ok NAME CMD...          the command exits 0
expect_ok() {
  local name=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -eq 0 ]]; then ok "$name"; else bad "$name (exit $rc: $*)" "$out"; fi
}
# expect_exit NAME CODE CMD...   the command exits with CODE
expect_exit() {
  local name=$1 want=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -eq $want ]]; then ok "$name"; else bad "$name (exit $rc, want $want: $*)" "$out"; fi
}
# expect_fail NAME CMD...        the command exits non-zero (and does not crash)
expect_fail() {
  local name=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -ne 0 && $rc -lt 100 ]]; then ok "$name"; else bad "$name (exit $rc: $*)" "$out"; fi
}
# expect_same NAME A B           two strings are equal
expect_same() {
  if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1" "$(printf 'got:  %s\nwant: %s' "$2" "$3")"; fi
}
# js_verify LABEL [verify.mjs options] -- FILE...   every file verifies in JS
js_verify() {
  local label=$1; shift
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  local out rc=0 f
  out=$(node "$HERE/verify.mjs" --suites "$SUITES" "${opts[@]}" "$@" 2>&1) || rc=$?
  for f in "$@"; do
    if grep -qxF "OK $f" <<<"$out"; then
      ok "$label: JS verifies ${f#"$HERE"/}"
    else
      bad "$label: JS verifies ${f#"$HERE"/}" "$(grep -F " $f" <<<"$out" || printf '%s' "$out")"
    fi
  done
  if [[ $rc -ne 0 ]] && ! grep -q '^FAIL ' <<<"$out"; then
    bad "$label: verify.mjs ran (exit $rc)" "$out"
  fi
}
# js_reject LABEL FILE...        every file is rejected by JS (FAIL, exit 1)
js_reject() {
  local label=$1; shift
  local out rc=0 f
  out=$(node "$HERE/verify.mjs" --suites "$SUITES" "$@" 2>&1) || rc=$?
  for f in "$@"; do
    if grep -qF "FAIL $f: " <<<"$out"; then
      ok "$label: JS rejects ${f#"$HERE"/}"
    else
      bad "$label: JS rejects ${f#"$HERE"/}" "$(grep -F " $f" <<<"$out" || printf '%s' "$out")"
    fi
  done
  if [[ $rc -ne 1 ]]; then bad "$label: verify.mjs exit $rc, want 1" "$out"; fi
}
proof_value() { node "$HERE/jsontool.mjs" get "$1" proof.proofValue 2>&1 || true; }
jt() { node "$HERE/jsontool.mjs" "$@"; }

# ------------------------------------------------------------ 0. JS self-test
echo "== 0. JS implementation against the W3C / project vectors"
js_verify "vector" -- "$W3C/eddsa-jcs-2022/signedJCS.json" "$OBMIN/signed-eddsa-jcs-2022.json"
node "$HERE/sign.mjs" --key "$W3C/keyPair.json" --created 2023-02-24T23:36:38Z \
  "$W3C/unsigned.json" >js/w3c-vector-jcs.json
expect_same "JS sign reproduces W3C eddsa-jcs-2022 proofValue" \
  "$(proof_value js/w3c-vector-jcs.json)" "$(proof_value "$W3C/eddsa-jcs-2022/signedJCS.json")"
node "$HERE/sign.mjs" --key "$VECTOR_KEY" --created 2025-06-30T12:00:05Z \
  "$OBMIN/unsigned.json" >js/obmin-vector-jcs.json
expect_same "JS sign reproduces OB 3.0 research vector (jcs) proofValue" \
  "$(proof_value js/obmin-vector-jcs.json)" "$(proof_value "$OBMIN/signed-eddsa-jcs-2022.json")"
jt tamper value "$W3C/eddsa-jcs-2022/signedJCS.json" tampered/w3c-vector-value.json >/dev/null
jt tamper created "$W3C/eddsa-jcs-2022/signedJCS.json" tampered/w3c-vector-created.json >/dev/null
js_reject "vector tampered" tampered/w3c-vector-value.json tampered/w3c-vector-created.json
if has_suite eddsa-rdfc-2022; then
  js_verify "vector" -- "$W3C/eddsa-rdfc-2022/signedDataInt.json" "$OBMIN/signed-eddsa-rdfc-2022.json"
  node "$HERE/sign.mjs" --key "$W3C/keyPair.json" --suite eddsa-rdfc-2022 \
    --created 2023-02-24T23:36:38Z "$W3C/unsigned.json" >js/w3c-vector-rdfc.json
  expect_same "JS sign reproduces W3C eddsa-rdfc-2022 proofValue" \
    "$(proof_value js/w3c-vector-rdfc.json)" "$(proof_value "$W3C/eddsa-rdfc-2022/signedDataInt.json")"
  node "$HERE/sign.mjs" --key "$VECTOR_KEY" --suite eddsa-rdfc-2022 \
    --created 2025-06-30T12:00:05Z "$OBMIN/unsigned.json" >js/obmin-vector-rdfc.json
  expect_same "JS sign reproduces OB 3.0 research vector (rdfc) proofValue" \
    "$(proof_value js/obmin-vector-rdfc.json)" "$(proof_value "$OBMIN/signed-eddsa-rdfc-2022.json")"
fi

if [[ $JS_ONLY -eq 1 ]]; then
  exit 0
fi

# ------------------------------------------------------------ A. microcred -> JS
echo "== A. signed by microcred, verified by JS ($MC)"
MC_DID=""
if MC_DID=$("$MC" keygen --out k.json 2>logs/keygen.err); then
  MC_DID=$(printf '%s\n' "$MC_DID" | grep -o 'did:key:z[1-9A-HJ-NP-Za-km-z]*' | tail -n 1 || true)
  expect_ok "microcred keygen writes a Multikey key pair for the DID it prints ($MC_DID)" \
    jt check-key k.json "$MC_DID"
else
  bad "microcred keygen --out k.json" "$(cat logs/keygen.err)"
  echo "cannot go on without a microcred key" >&2
  exit 1
fi

# inputs shared by both directions: name -> unsigned file
declare -A INPUTS=(
  [w3c-alumni]="$W3C/unsigned.json"
  [edge-cases]="$FIX/edge-cases.unsigned.json"
  [ob-min]="$OBMIN/unsigned.json"
  [df-101]="$FIX/samples/df-101-productivity-tools.json"
  [df-102]="$FIX/samples/df-102-digital-content.json"
)
INPUT_NAMES=(w3c-alumni edge-cases ob-min df-101 df-102)
# `microcred sign` lints first and refuses a MicroCredential that lacks the
# EU mandatory elements, which the minimal ob-min credential does; so
# microcred signs the others (the OB ones come from `microcred issue`).
MC_INPUT_NAMES=(w3c-alumni edge-cases df-101 df-102)
# The shared samples df-101/df-102 use credentialSchema type
# "1EdTechJsonSchemaValidator2019" without the OB extensions context, so
# JSON-LD safe mode (and hence eddsa-rdfc-2022) rejects them; JCS only.
skip() { [[ $2 == eddsa-rdfc-2022 && ( $1 == df-101 || $1 == df-102 ) ]]; }
# fixtures that are also signed from their own text (not re-serialized)
TEXT_NAMES=(edge-cases big-numbers)

# issue every example achievement
MC_SIGNED=()
MC_ISSUED=()
PROFILE_ARGS=()
[[ -f "$EXAMPLES/issuer-profile.json" ]] &&
  PROFILE_ARGS=(--issuer "$EXAMPLES/issuer-profile.json")
shopt -s nullglob
ACHIEVEMENTS=("$EXAMPLES"/achievements/*.json)
shopt -u nullglob
if [[ ${#ACHIEVEMENTS[@]} -eq 0 ]]; then
  bad "$EXAMPLES/achievements/*.json exist (nothing to issue)"
fi
for ach in "${ACHIEVEMENTS[@]}"; do
  name=$(basename "$ach" .json)
  out="mc/issued-$name.json"
  expect_ok "microcred issue $name" \
    "$MC" issue --key k.json --achievement "$ach" --recipient "$LEARNER" \
    "${PROFILE_ARGS[@]}" --out "$out"
  if [[ -s "$out" ]]; then MC_SIGNED+=("$out"); MC_ISSUED+=("$out"); fi
done

# microcred sign over the shared inputs (issuer = microcred's DID)
for name in "${MC_INPUT_NAMES[@]}"; do
  jt set-issuer "${INPUTS[$name]}" "$MC_DID" "mc/$name.unsigned.json"
  for suite in "${SUITE_LIST[@]}"; do
    skip "$name" "$suite" && continue
    out="mc/$name.$suite.json"
    expect_ok "microcred sign $name ($suite)" \
      "$MC" sign --key k.json --suite "$suite" "mc/$name.unsigned.json" --out "$out"
    [[ -s "$out" ]] && MC_SIGNED+=("$out")
  done
done
# fixtures signed as written (1.0, 1e21, 2^53+1, escapes reach the signer
# verbatim; only the issuer placeholder is replaced)
for name in "${TEXT_NAMES[@]}"; do
  sed "s|did:example:replaced-by-run-sh|$MC_DID|" "$FIX/$name.unsigned.json" \
    >"mc/$name-text.unsigned.json"
  out="mc/$name-text.eddsa-jcs-2022.json"
  expect_ok "microcred sign $name as written (eddsa-jcs-2022)" \
    "$MC" sign --key k.json --suite eddsa-jcs-2022 "mc/$name-text.unsigned.json" --out "$out"
  [[ -s "$out" ]] && MC_SIGNED+=("$out")
done
# a number that overflows a double (1e400) cannot be canonicalized: refuse
sed 's/1e308/1e400/' mc/big-numbers-text.unsigned.json >mc/overflow.unsigned.json
expect_fail "microcred sign refuses a number that overflows a double (1e400)" \
  "$MC" sign --key k.json mc/overflow.unsigned.json --out mc/overflow.json
expect_fail "JS sign refuses a number that overflows a double (1e400)" \
  node "$HERE/sign.mjs" --key k.json --out js/overflow.json mc/overflow.unsigned.json

if [[ ${#MC_SIGNED[@]} -gt 0 ]]; then
  js_verify "microcred->JS" --vc -- "${MC_SIGNED[@]}"
fi
if [[ "$JSONLD" == 1 && ${#MC_ISSUED[@]} -gt 0 ]]; then
  js_verify "microcred->JS JSON-LD" --expand -- "${MC_ISSUED[@]}"
fi

# same key, same input, same `created` => Ed25519 gives the same signature,
# so equal proofValues mean byte-identical canonical forms
echo "-- same proofValue from both implementations"
# `microcred sign` refuses a credential whose issuer is not the key's DID, so
# it cannot re-create the W3C vector itself; check that it verifies the
# vector's signature instead (the vector's issuer is not its key's DID, so
# the verdict as a whole is "invalid": only the signature check counts)
check_signature() { # NAME FILE OUTCOME
  local rc=0
  "$MC" verify --json "$2" >logs/sigcheck.out 2>&1 || rc=$?
  expect_ok "$1" jt check-outcome logs/sigcheck.out signature "$3"
}
check_signature "microcred: W3C eddsa-jcs-2022 vector signature passes" \
  "$W3C/eddsa-jcs-2022/signedJCS.json" pass
check_signature "microcred: tampered W3C vector signature fails" \
  tampered/w3c-vector-value.json fail
if has_suite eddsa-rdfc-2022; then
  check_signature "microcred: W3C eddsa-rdfc-2022 vector signature passes" \
    "$W3C/eddsa-rdfc-2022/signedDataInt.json" pass
fi
T=2024-05-06T07:08:09Z
for name in "${MC_INPUT_NAMES[@]}" edge-cases-text big-numbers-text; do
  for suite in "${SUITE_LIST[@]}"; do
    [[ $name == *-text && $suite != eddsa-jcs-2022 ]] && continue
    skip "$name" "$suite" && continue
    "$MC" sign --key k.json --suite "$suite" --created "$T" "mc/$name.unsigned.json" \
      --out "mc/$name.$suite.fixed.json" >logs/fixed.log 2>&1 || true
    node "$HERE/sign.mjs" --key k.json --suite "$suite" --created "$T" \
      "mc/$name.unsigned.json" >"js/$name.$suite.fixed-mckey.json" 2>>logs/fixed.log || true
    expect_same "same proofValue from microcred and JS: $name ($suite)" \
      "$(proof_value "mc/$name.$suite.fixed.json")" "$(proof_value "js/$name.$suite.fixed-mckey.json")"
  done
done

echo "-- microcred verifies its own output"
for f in "${MC_SIGNED[@]}"; do
  expect_exit "microcred verify $f" 0 "$MC" verify "$f"
done

# ------------------------------------------------------------ B. JS -> microcred
echo "== B. signed by JS, verified by microcred"
JS_DID=$(node "$HERE/keygen.mjs" kj.json)
expect_ok "keygen.mjs key pair for $JS_DID" jt check-key kj.json "$JS_DID"
JS_SIGNED=()
for name in "${INPUT_NAMES[@]}"; do
  jt set-issuer "${INPUTS[$name]}" "$JS_DID" "js/$name.unsigned.json"
  for suite in "${SUITE_LIST[@]}"; do
    skip "$name" "$suite" && continue
    out="js/$name.$suite.json"
    expect_ok "JS sign $name ($suite)" \
      node "$HERE/sign.mjs" --key kj.json --suite "$suite" --out "$out" "js/$name.unsigned.json"
    [[ -s "$out" ]] && JS_SIGNED+=("$out")
  done
done
# fixtures with their own text kept (literal 1.0, 1e21, 2^53+1, \u escapes)
for name in "${TEXT_NAMES[@]}"; do
  sed "s|did:example:replaced-by-run-sh|$JS_DID|" "$FIX/$name.unsigned.json" \
    >"js/$name-text.unsigned.json"
  expect_ok "JS sign $name as written (--keep-source-text)" \
    node "$HERE/sign.mjs" --key kj.json --keep-source-text --out "js/$name-text.json" \
    "js/$name-text.unsigned.json"
  [[ -s "js/$name-text.json" ]] && JS_SIGNED+=("js/$name-text.json")
done
# microcred's issued credentials, re-signed by JS under the JS key
for f in "${MC_ISSUED[@]}"; do
  base=$(basename "$f" .json)
  jt strip-proof "$f" "js/$base.unsigned.json"
  jt set-issuer "js/$base.unsigned.json" "$JS_DID" "js/$base.unsigned.json"
  expect_ok "JS re-sign $base" \
    node "$HERE/sign.mjs" --key kj.json --out "js/$base.json" "js/$base.unsigned.json"
  [[ -s "js/$base.json" ]] && JS_SIGNED+=("js/$base.json")
done
# key-file interop: JS signs with microcred's key file, microcred with JS's
if node "$HERE/sign.mjs" --key k.json --out js/df-101.mckey.json mc/df-101.unsigned.json \
  2>logs/mckey.log; then
  ok "JS sign with microcred's key file"
  JS_SIGNED+=(js/df-101.mckey.json)
else
  bad "JS sign with microcred's key file" "$(cat logs/mckey.log)"
fi
expect_ok "microcred sign with keygen.mjs's key file" \
  "$MC" sign --key kj.json --suite eddsa-jcs-2022 js/df-101.unsigned.json --out mc/df-101.jskey.json
[[ -s mc/df-101.jskey.json ]] &&
  js_verify "microcred(JS key)->JS" --vc -- mc/df-101.jskey.json
# JCS does not depend on formatting or member order
jt compact js/ob-min.eddsa-jcs-2022.json js/ob-min.compact.json
jt reorder js/edge-cases.eddsa-jcs-2022.json js/edge-cases.reordered.json
JS_SIGNED+=(js/ob-min.compact.json js/edge-cases.reordered.json)

js_verify "JS self-check" --vc -- "${JS_SIGNED[@]}"
for f in "${JS_SIGNED[@]}"; do
  expect_exit "microcred verify $f" 0 "$MC" verify "$f"
done
expect_exit "microcred verify (all ${#JS_SIGNED[@]} JS-signed files at once)" 0 \
  "$MC" verify "${JS_SIGNED[@]}"
rc=0
"$MC" verify --json "${JS_SIGNED[@]}" >logs/verify-json.out 2>logs/verify-json.err || rc=$?
if [[ $rc -eq 0 ]]; then
  expect_ok "microcred verify --json prints one JSON object per file" \
    jt count-json logs/verify-json.out "${#JS_SIGNED[@]}"
else
  bad "microcred verify --json (exit $rc)" "$(cat logs/verify-json.out logs/verify-json.err)"
fi
expect_exit "microcred verify project OB research vector (jcs, did:key issuer)" 0 \
  "$MC" verify "$OBMIN/signed-eddsa-jcs-2022.json"

# ------------------------------------------------------------ C. tampering
echo "== C. tampered credentials fail everywhere"
TAMPERED=()
tamper() { # KIND SRC DEST
  if jt tamper "$1" "$2" "$3" >/dev/null 2>logs/tamper.err; then
    TAMPERED+=("$3")
  else
    bad "tamper $1 $2" "$(cat logs/tamper.err)"
  fi
}
first_issued="${MC_ISSUED[0]:-mc/df-101.eddsa-jcs-2022.json}"
tamper value "$first_issued" tampered/mc-issued-value.json
tamper created "$first_issued" tampered/mc-issued-created.json
tamper context "$first_issued" tampered/mc-issued-context.json
tamper value mc/edge-cases.eddsa-jcs-2022.json tampered/mc-edge-value.json
tamper number mc/edge-cases.eddsa-jcs-2022.json tampered/mc-edge-number.json
tamper nfd mc/edge-cases.eddsa-jcs-2022.json tampered/mc-edge-nfd.json
tamper value mc/df-101.eddsa-jcs-2022.json tampered/mc-df101-value.json
tamper value js/ob-min.eddsa-jcs-2022.json tampered/js-obmin-value.json
tamper created js/ob-min.eddsa-jcs-2022.json tampered/js-obmin-created.json
tamper context js/ob-min.eddsa-jcs-2022.json tampered/js-obmin-context.json
tamper value js/edge-cases-text.json tampered/js-edge-value.json
tamper number js/edge-cases-text.json tampered/js-edge-number.json
tamper nfd js/edge-cases-text.json tampered/js-edge-nfd.json
[[ -s "js/$(basename "$first_issued")" ]] &&
  tamper value "js/$(basename "$first_issued")" tampered/js-issued-value.json
js_reject "tampered" "${TAMPERED[@]}"
# appending a context after the signed ones is allowed for eddsa-jcs-2022
# (vc-di-eddsa, Verify Proof (eddsa-jcs-2022), step 4; w3c/vc-di-eddsa#79)
APPENDED=()
jt tamper context-append "$first_issued" mc/appended-context.json >/dev/null &&
  APPENDED+=(mc/appended-context.json)
jt tamper context-append js/ob-min.eddsa-jcs-2022.json js/appended-context.json >/dev/null &&
  APPENDED+=(js/appended-context.json)
js_verify "appended @context (allowed by eddsa-jcs-2022)" -- "${APPENDED[@]}"
for f in "${APPENDED[@]}"; do
  expect_exit "microcred verify accepts appended @context like the spec: $f" 0 "$MC" verify "$f"
done
for f in "${TAMPERED[@]}"; do
  expect_exit "microcred verify rejects $f" 1 "$MC" verify "$f"
done
expect_exit "microcred verify exits 1 when one of several files is tampered" 1 \
  "$MC" verify "${JS_SIGNED[0]}" "${TAMPERED[0]}"
