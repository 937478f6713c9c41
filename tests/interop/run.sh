#!/usr/bin/env bash
# End-to-end interoperability check: microcred <-> Digital Bazaar's
# JavaScript Data Integrity implementation (jsonld-signatures,
# @digitalbazaar/data-integrity, @digitalbazaar/vc, the eddsa-jcs-2022 and
# eddsa-rdfc-2022 cryptosuites, ed25519-signature-2020), the Digital
# Credentials Consortium's @digitalcredentials/verifier-core, a PyLD-based
# verifier (pyld_verify.py) and SpruceID ssi (tests/ssi-verify), all offline.
# The external verifiers get only the JSON-LD contexts that their publishers
# serve (published-contexts/), as a verifier in the field does.
#
#   bash tests/interop/run.sh [--js-only]
#
# Environment:
#   MICROCRED=PATH      use this microcred binary (default: build it with
#                       `cargo build --release -p microcred-cli`)
#   INTEROP_SUITES=LIST cryptosuites to exercise (default
#                       eddsa-jcs-2022,eddsa-rdfc-2022; either one alone)
#   INTEROP_JSONLD=0    skip the JSON-LD safe-mode expansion checks
#   INTEROP_EXAMPLES=DIR  achievements/*.json and issuer-profile.json
#                       (default: examples/ of the repository)
#   INTEROP_OUT=DIR     work in DIR (kept); default: a temp dir, removed
#                       when everything passed
#   INTEROP_PYTHON=PY   Python with pyld_verify.py's packages (default:
#                       tests/interop/.venv/bin/python, else python3)
#   SSI_VERIFY=BIN      the ssi verifier (default: tests/ssi-verify's
#                       release build)
#   CI=true             a verifier that is missing (PyLD, ssi) is a failure,
#                       not a skip
#   --js-only           only the JS side: the W3C / project vectors and
#                       fixtures/elsewhere, with DCC's verifier-core too
#                       (no microcred needed)
#
# Ends with `interop: N passed, M failed`; exits 1 if M > 0.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SUITES="${INTEROP_SUITES:-eddsa-jcs-2022,eddsa-rdfc-2022}"
JSONLD="${INTEROP_JSONLD:-1}"
JS_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --js-only) JS_ONLY=1 ;;
    -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
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
# what the service issues whatever INTEROP_SUITES says
ALL_SUITES="eddsa-jcs-2022,eddsa-rdfc-2022"

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
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
SSI_DISAGREE=()
SSI_DID_ARGS=()
SKIPPED=()
finish() {
  local rc=$?
  local secs=$((SECONDS - START))
  stop_server
  echo
  if [[ ${#SKIPPED[@]} -gt 0 ]]; then
    echo "skipped (not installed):"
    printf '  - %s\n' "${SKIPPED[@]}"
  fi
  if [[ ${#SSI_DISAGREE[@]} -gt 0 ]]; then
    echo "ssi disagrees with the other verifiers on (notes, not failures; see README):"
    printf '  - %s\n' "${SSI_DISAGREE[@]}"
  fi
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

# the other field verifiers: PyLD (Python) and SpruceID ssi (Rust)
PY=""
if [[ -n "${INTEROP_PYTHON:-}" ]]; then
  PY="$INTEROP_PYTHON"
elif [[ -x "$HERE/.venv/bin/python" ]]; then
  PY="$HERE/.venv/bin/python"
else
  PY="$(command -v python3 || true)"
fi
if [[ ! -f "$HERE/pyld_verify.py" ]] || [[ -z "$PY" ]] ||
   ! "$PY" -c 'import pyld, rfc8785, cryptography' >/dev/null 2>&1; then
  PY=""
fi
SSI="${SSI_VERIFY:-${CARGO_TARGET_DIR:-$ROOT/tests/ssi-verify/target}/release/ssi-verify}"
[[ -x "$SSI" ]] || SSI=""
INDEX="$HERE/published-contexts/index.json"

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
  js_notes "$label" "$out"
}
# js_notes LABEL OUTPUT   one note for verify.mjs's NOTE lines (files that
# verified only with the eddsa-jcs-2022 @context comparison made by value)
js_notes() {
  local n
  n=$(grep -c '^NOTE ' <<<"$2" || true)
  if [[ $n -gt 0 ]]; then
    printf '%s\n' "$2" | grep '^NOTE ' >>logs/js-notes.log
    note "$1: vc-js verified $n file(s) only with the eddsa-jcs-2022 @context prefix compared by value (@digitalbazaar/eddsa-jcs-2022-cryptosuite 1.0.0 rejects inline contexts: \"document.@context does not start with proof.@context\"; README)"
  fi
}
# js_reject LABEL [verify.mjs options --] FILE...
#                                every file is rejected by JS (FAIL, exit 1)
js_reject() {
  local label=$1; shift
  local opts=()
  if [[ " $* " == *" -- "* ]]; then
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
  fi
  local out rc=0 f
  out=$(node "$HERE/verify.mjs" --suites "$SUITES" "${opts[@]}" "$@" 2>&1) || rc=$?
  for f in "$@"; do
    if grep -qF "FAIL $f: " <<<"$out"; then
      ok "$label: JS rejects ${f#"$HERE"/}"
    else
      bad "$label: JS rejects ${f#"$HERE"/}" "$(grep -F " $f" <<<"$out" || printf '%s' "$out")"
    fi
  done
  if [[ $rc -ne 1 ]]; then bad "$label: verify.mjs exit $rc, want 1" "$out"; fi
}
# dcc_verify LABEL [verifier-core.mjs options] -- FILE...
#                                every file is OK for DCC's verifier-core
# dcc_reject LABEL [options] -- FILE...   every file is FAIL there
dcc_run() {
  local want=$1 label=$2; shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  local out rc=0 f
  out=$(node "$HERE/verifier-core.mjs" "${opts[@]}" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" >>logs/verifier-core.log
  for f in "$@"; do
    local name="$label: verifier-core ${want/OK/verifies}"
    name="${name/FAIL/rejects} ${f#"$HERE"/}"
    local hit=0
    if [[ $want == OK ]]; then
      grep -qxF "OK $f" <<<"$out" && hit=1
    else
      grep -qF "FAIL $f: " <<<"$out" && hit=1
    fi
    if [[ $hit -eq 1 ]]; then
      ok "$name"
    else
      bad "$name" "$(awk -v f="$f" 'index($0, f) {p=1; print; next} /^(OK|FAIL) / {p=0} p' <<<"$out")"
    fi
  done
  local want_rc=0
  [[ $want == FAIL ]] && want_rc=1
  if [[ $rc -ne $want_rc ]]; then bad "$label: verifier-core.mjs exit $rc, want $want_rc" "$out"; fi
}
dcc_verify() { dcc_run OK "$@"; }
dcc_reject() { dcc_run FAIL "$@"; }
# tool_judge TOOL WANT LABEL SOFT RC OUTPUT FILE...
#                                the `OK FILE` / `FAIL FILE: reason` lines of
#                                TOOL say WANT (OK or FAIL) for every FILE.
#                                SOFT=ssi: a different answer is a note (ssi
#                                disagrees with the other verifiers), not a
#                                failure; exit status 2+ is always a failure
tool_judge() {
  local tool=$1 want=$2 label=$3 soft=$4 rc=$5 out=$6; shift 6
  local f hit verb=verifies
  [[ $want == FAIL ]] && verb=rejects
  for f in "$@"; do
    hit=0
    if [[ $want == OK ]]; then
      grep -qxF "OK $f" <<<"$out" && hit=1
    else
      grep -qF "FAIL $f: " <<<"$out" && hit=1
    fi
    local name="$label: $tool $verb ${f#"$HERE"/}"
    if [[ $hit -eq 1 ]]; then
      ok "$name"
    elif [[ $soft == ssi ]] && grep -qE "^(OK|FAIL) $f" <<<"$out"; then
      local line why
      line=$(grep -m1 -E "^(OK|FAIL) $f" <<<"$out" | cut -c1-300)
      why=$(ssi_why "$want" "$f" "$line")
      note "$name: no, ssi disagrees with the other verifiers: $line [$why]"
      SSI_DISAGREE+=("$label: ${f#"$HERE"/}: ${line%% *} (want $want): $why")
    else
      bad "$name" "$(grep -F " $f" <<<"$out" || printf '%s' "$out")"
    fi
  done
  if [[ $rc -ge 2 ]]; then bad "$label: $tool exit $rc (usage error or crash)" "$out"; fi
}
# py_run WANT LABEL [pyld_verify.py options] -- FILE...   (PyLD)
py_run() {
  local want=$1 label=$2; shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  if [[ -z "$PY" ]]; then skipped "PyLD (pyld_verify.py)"; return 0; fi
  local out rc=0
  out=$("$PY" "$HERE/pyld_verify.py" --contexts "$INDEX" "${opts[@]}" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" >>logs/pyld.log
  tool_judge PyLD "$want" "$label" hard "$rc" "$out" "$@"
}
# ssi_run WANT LABEL [ssi-verify options] -- FILE...      (SpruceID ssi)
ssi_run() {
  local want=$1 label=$2; shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  if [[ -z "$SSI" ]]; then skipped "ssi (tests/ssi-verify)"; return 0; fi
  local out rc=0
  SSI_DID_ARGS=("${opts[@]}")
  out=$("$SSI" --contexts "$INDEX" "${opts[@]}" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" >>logs/ssi.log
  tool_judge ssi "$want" "$label" ssi "$rc" "$out" "$@"
}
# ssi_why WANT FILE LINE   why ssi disagrees, as far as run.sh can tell:
# * spruceid/ssi#667: a number written with a fraction part (e.g. 1.0) is
#   read as a double, so the RDF differs: shown by ssi saying WANT for the
#   same JSON as JSON.stringify writes it (1.0 -> 1: the same JSON-LD for
#   the other three);
# * ssi ignores a term's @type coercion on a native JSON boolean (the OB 3.0
#   contexts coerce `hashed` to https://www.w3.org/2001/XMLSchema#boolean):
#   the file has such a value (jsontool.mjs coerced-booleans);
# * this ssi build has no eddsa-jcs-2022.
ssi_why() {
  local want=$1 f=$2 line=$3 copy out nums bools why=()
  if grep -q 'unsupported cryptographic suite' <<<"$line"; then
    echo "this ssi build has no such cryptosuite"
    return
  fi
  nums=$(jt fraction-numbers "$f" 2>/dev/null || true)
  bools=$(jt coerced-booleans "$f" 2>/dev/null | sed 's|.*[#/]\([^#/ ]*\) .*|\1|' | sort -u | tr '\n' ' ' || true)
  copy="logs/ssi-why-$(basename "$f")"
  jt compact "$f" "$copy" 2>/dev/null || true
  out=$("$SSI" --contexts "$INDEX" "${SSI_DID_ARGS[@]}" "$copy" 2>&1 || true)
  if [[ -n "$nums" ]] && grep -qE "^$want $copy" <<<"$out"; then
    echo "spruceid/ssi#667: number(s) written with a fraction part ($(cut -c1-40 <<<"$nums")); ssi says $want for the same JSON re-serialized"
    return
  fi
  [[ -n "$nums" ]] && why+=("spruceid/ssi#667: number(s) written with a fraction part ($(cut -c1-40 <<<"$nums"))")
  [[ -n "${bools// /}" ]] && why+=("ssi ignores the @type coercion of native booleans: ${bools% }")
  # the first N-Quad where ssi and jsonld.js differ (credentials only)
  if [[ $(jt get "$f" type 2>/dev/null) != *VerifiablePresentation* ]]; then
    local theirs ours
    theirs=$("$SSI" --contexts "$INDEX" --nquads "$f" 2>/dev/null | sed 's/_:[A-Za-z0-9]* /_: /g' | sort || true)
    ours=$(jt nquads "$f" 2>/dev/null | sed 's/_:[A-Za-z0-9]* /_: /g' | sort || true)
    if [[ -n "$theirs" && -n "$ours" && "$theirs" != "$ours" ]]; then
      why+=("first difference: ssi $(comm -23 <(printf '%s\n' "$theirs") <(printf '%s\n' "$ours") | head -n 1 | cut -c1-200) / jsonld.js $(comm -13 <(printf '%s\n' "$theirs") <(printf '%s\n' "$ours") | head -n 1 | cut -c1-200)")
    fi
  fi
  if [[ ${#why[@]} -gt 0 ]]; then
    printf '%s\n' "${why[@]}" | paste -sd '|' - | sed 's/|/; /g'
  else
    echo "UNEXPLAINED ($(head -n 1 <<<"$out" | cut -c1-200))"
  fi
}
# a verifier that is not installed: a note, or under CI=true a failure
skipped() {
  [[ " ${SKIPPED[*]} " == *" $1 "* ]] && return 0
  SKIPPED+=("$1")
  if [[ "${CI:-}" == true ]]; then
    bad "$1 is installed (CI=true: every verifier must run; see .ci/run)"
  else
    note "$1 is not installed: its checks are skipped (README: how to install)"
  fi
}
# field_verify WANT LABEL [--did-doc F]... [--status-list F]... -- FILE...
#   the four verifiers in the field: vc-js (verify.mjs --vc), DCC verifier-core
#   (files with an eddsa-rdfc-2022 proof), PyLD, ssi. --did-doc goes to all,
#   --status-list to vc-js and verifier-core (PyLD and ssi do not check status)
field_verify() {
  local want=$1 label=$2; shift 2
  local dids=() lists=()
  while [[ $1 != -- ]]; do
    case $1 in
      --did-doc) dids+=(--did-doc "$2") ;;
      --status-list) lists+=(--status-list "$2") ;;
      *) echo "field_verify: unknown option $1" >&2; return 2 ;;
    esac
    shift 2
  done
  shift
  local files=("$@") rdfc
  if [[ $want == OK ]]; then
    js_verify "$label" --suites "$ALL_SUITES" "${dids[@]}" "${lists[@]}" --vc -- "${files[@]}"
  else
    js_reject "$label" --suites "$ALL_SUITES" "${dids[@]}" "${lists[@]}" --vc -- "${files[@]}"
  fi
  mapfile -t rdfc < <(rdfc_files "${files[@]}")
  if [[ ${#rdfc[@]} -gt 0 ]]; then
    dcc_run "$want" "$label" "${dids[@]}" "${lists[@]}" -- "${rdfc[@]}"
  fi
  py_run "$want" "$label" --vc "${dids[@]}" -- "${files[@]}"
  ssi_run "$want" "$label" --vc "${dids[@]}" -- "${files[@]}"
}
# check_outcome NAME CHECK OUTCOME [microcred verify args...] FILE
#                                `microcred verify --json` reports CHECK with OUTCOME
check_outcome() {
  local name=$1 check=$2 want=$3; shift 3
  "$MC" verify --json "$@" >logs/outcome.out 2>&1 || true
  expect_ok "$name" jt check-outcome logs/outcome.out "$check" "$want"
}
# expect_exit_says NAME CODE TEXT CMD...   exits with CODE and prints TEXT
# (case-insensitive, stdout or stderr)
expect_exit_says() {
  local name=$1 want=$2 text=$3; shift 3
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -eq $want ]] && grep -qiF -- "$text" <<<"$out"; then
    ok "$name"
  else
    bad "$name (exit $rc, want $want and the text \"$text\": $*)" "$out"
  fi
}
# expect_fail_says NAME TEXT CMD...        exits 1..99 and prints TEXT
expect_fail_says() {
  local name=$1 text=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -ne 0 && $rc -lt 100 ]] && grep -qiF -- "$text" <<<"$out"; then
    ok "$name (exit $rc)"
  else
    bad "$name (exit $rc, want non-zero and the text \"$text\": $*)" "$out"
  fi
}
proof_value() { node "$HERE/jsontool.mjs" get "$1" proof.proofValue 2>&1 || true; }
jt() { node "$HERE/jsontool.mjs" "$@"; }
suites_of() { jt proof-suites "$1" 2>/dev/null || true; }
# files among the arguments that carry an eddsa-rdfc-2022 proof (the only
# Data Integrity cryptosuite verifier-core has)
rdfc_files() {
  local f
  for f in "$@"; do
    [[ ",$(suites_of "$f")," == *",eddsa-rdfc-2022,"* ]] && printf '%s\n' "$f"
  done
  return 0
}

EW="$FIX/elsewhere"
DCC="$EW/dcc-ed25519-2020"
CREDLY="$EW/credly-did-web"
XURL="https://interop.microcred.example/ns/extra/v1"
XFILE="$FIX/extra-context/interop-extra-v1.jsonld"
touch logs/verifier-core.log

# ------------------------------------------------------------ published contexts
echo "== the contexts a verifier in the field can load (published-contexts/)"
expect_ok "published-contexts/ holds exactly its sources' bytes (published-contexts.mjs --check)" \
  node "$HERE/published-contexts.mjs" --check
expect_ok "loader.mjs loads every context of published-contexts/index.json" \
  node "$HERE/loader.mjs" --check
[[ -n "$PY" ]] || skipped "PyLD (pyld_verify.py)"
[[ -n "$SSI" ]] || skipped "ssi (tests/ssi-verify)"

# ------------------------------------------------------------ 0. JS self-test
echo "== 0. JS implementation against the W3C / project vectors"
if has_suite eddsa-jcs-2022; then
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
fi
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
  jt tamper value "$W3C/eddsa-rdfc-2022/signedDataInt.json" tampered/w3c-vector-rdfc-value.json >/dev/null
  js_reject "vector tampered" tampered/w3c-vector-rdfc-value.json
  dcc_verify "vector" -- "$OBMIN/signed-eddsa-rdfc-2022.json"
fi

echo "== 0b. credentials issued elsewhere (fixtures/elsewhere, by make-fixtures.mjs), in JS"
expect_ok "make-fixtures.mjs --check: the JS stack regenerates fixtures/elsewhere byte for byte" \
  node "$HERE/make-fixtures.mjs" --check
js_verify "DCC-style VC 1.1, Ed25519Signature2020" --suites Ed25519Signature2020 --vc --expand -- \
  "$DCC/credential.json"
js_reject "DCC-style VC 1.1, Ed25519Signature2020" --suites Ed25519Signature2020 -- \
  "$DCC/credential.tampered.json"
js_verify "Credly-style did:web, eddsa-rdfc-2022" --suites eddsa-rdfc-2022 --did-doc "$CREDLY/did.json" \
  --vc --expand -- "$CREDLY/credential.json"
js_verify "Credly-style, key as Ed25519VerificationKey2020 in the DID document" --suites eddsa-rdfc-2022 \
  --did-doc "$CREDLY/did-ed25519-2020.json" --vc -- "$CREDLY/credential.json"
# --vc: @digitalbazaar/vc requires issuer == the key's controller
js_reject "Credly-style did:web, eddsa-rdfc-2022" --suites eddsa-rdfc-2022 --did-doc "$CREDLY/did.json" --vc -- \
  "$CREDLY/credential.tampered.json" "$CREDLY/credential.issuer-mismatch.json"
dcc_verify "elsewhere" --did-doc "$CREDLY/did.json" -- "$DCC/credential.json" "$CREDLY/credential.json"
dcc_verify "elsewhere (1EdTech OB 3.0 JSON schema too)" --require-schema --did-doc "$CREDLY/did.json" -- \
  "$CREDLY/credential.json"
dcc_reject "elsewhere" --did-doc "$CREDLY/did.json" -- "$DCC/credential.tampered.json" \
  "$CREDLY/credential.tampered.json" "$CREDLY/credential.issuer-mismatch.json"
expect_exit_says "verifier-core without the did:web DID document: did_web_unresolved" 1 did_web_unresolved \
  node "$HERE/verifier-core.mjs" "$CREDLY/credential.json"

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
# `microcred sign` without a lint profile signs any valid OB 3.0 credential,
# including the minimal ob-min MicroCredential that lacks the EU Annex I
# elements (warnings only; `--profile eu-2022` would refuse it).
MC_INPUT_NAMES=(w3c-alumni edge-cases ob-min df-101 df-102)
# fixtures that are also signed from their own text (not re-serialized)
TEXT_NAMES=(edge-cases big-numbers)
# The edge-case fixture has a member named "a\u0000b" (for JCS key order);
# as JSON-LD that name becomes a property IRI with a NUL, which is not an
# IRI, so `microcred sign` (which lints JSON-LD first) refuses it. microcred
# signs a copy without that member; JS signs the fixture as it is (JCS).
# For eddsa-rdfc-2022 both sides sign a copy that also lacks 1e-7 and
# 5e-324, which jsonld.js 9 turns into "0"^^xsd:integer (JSON-LD 1.1 says
# xsd:double; see README, "Where the implementations differ").
mkdir -p src
jt ld-variant "$FIX/edge-cases.unsigned.json" src/edge-cases.ld.json >/dev/null
jt ld-variant "$FIX/edge-cases.unsigned.json" src/edge-cases.rdfc.json --rdfc >/dev/null
src_of() { # SIDE(mc|js) NAME SUITE -> the unsigned input to use
  if [[ $2 == edge-cases && $3 == eddsa-rdfc-2022 ]]; then
    echo src/edge-cases.rdfc.json
  elif [[ $2 == edge-cases && $1 == mc ]]; then
    echo src/edge-cases.ld.json
  else
    echo "${INPUTS[$2]}"
  fi
}
MC_DF101="mc/df-101.${SUITE_LIST[0]}.unsigned.json"
JS_DF101="js/df-101.${SUITE_LIST[0]}.unsigned.json"

# issue every example achievement, once per suite, with results (from the
# achievement's resultDescriptions), evidence, and its alignments
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
issue_args() { # ACHIEVEMENT -> ISSUE_ARGS
  local name r
  name=$(basename "$1" .json)
  ISSUE_ARGS=(--key k.json --achievement "$1" --recipient "$LEARNER" "${PROFILE_ARGS[@]}"
    --evidence "https://portfolio.example/learner1/$name")
  while IFS= read -r r; do
    [[ -n $r ]] && ISSUE_ARGS+=(--result "$r")
  done < <(jt result-args "$1")
}
for ach in "${ACHIEVEMENTS[@]}"; do
  name=$(basename "$ach" .json)
  issue_args "$ach"
  for suite in "${SUITE_LIST[@]}"; do
    out="mc/issued-$name.$suite.json"
    expect_ok "microcred issue $name ($suite)" \
      "$MC" issue "${ISSUE_ARGS[@]}" --suite "$suite" --out "$out"
    if [[ -s "$out" ]]; then MC_SIGNED+=("$out"); MC_ISSUED+=("$out"); fi
  done
done
for f in "${MC_ISSUED[@]}"; do
  expect_ok "$(basename "$f") has results, evidence and alignments" jt check-ob "$f"
done
[[ ${#MC_ISSUED[@]} -gt 0 ]] &&
  expect_ok "some issued credentials have non-ASCII text" jt non-ascii "${MC_ISSUED[@]}"
if has_suite eddsa-rdfc-2022 && [[ ${#ACHIEVEMENTS[@]} -gt 0 ]]; then
  issue_args "${ACHIEVEMENTS[0]}"
  "$MC" issue "${ISSUE_ARGS[@]}" --out mc/issued-default.json >logs/default.log 2>&1 || true
  expect_same "microcred issue signs with eddsa-rdfc-2022 by default" \
    "$(suites_of mc/issued-default.json)" eddsa-rdfc-2022
fi

# microcred sign over the shared inputs (issuer = microcred's DID)
for name in "${MC_INPUT_NAMES[@]}"; do
  for suite in "${SUITE_LIST[@]}"; do
    jt set-issuer "$(src_of mc "$name" "$suite")" "$MC_DID" "mc/$name.$suite.unsigned.json"
    out="mc/$name.$suite.json"
    expect_ok "microcred sign $name ($suite)" \
      "$MC" sign --key k.json --suite "$suite" "mc/$name.$suite.unsigned.json" --out "$out"
    [[ -s "$out" ]] && MC_SIGNED+=("$out")
  done
done
if has_suite eddsa-rdfc-2022; then
  "$MC" sign --key k.json "$MC_DF101" --out mc/df-101.default.json >logs/default.log 2>&1 || true
  expect_same "microcred sign signs with eddsa-rdfc-2022 by default" \
    "$(suites_of mc/df-101.default.json)" eddsa-rdfc-2022
fi
# fixtures signed as written (1.0, 1e21, 2^53+1, escapes reach the signer
# verbatim; only the issuer placeholder is replaced)
# (for microcred without the NUL-named member, i.e. without its line)
has_suite eddsa-jcs-2022 || TEXT_NAMES=()
for name in "${TEXT_NAMES[@]}"; do
  sed "s|did:example:replaced-by-run-sh|$MC_DID|" "$FIX/$name.unsigned.json" |
    grep -v '"a\\u0000b"' >"mc/$name-text.unsigned.json"
  out="mc/$name-text.eddsa-jcs-2022.json"
  expect_ok "microcred sign $name as written (eddsa-jcs-2022)" \
    "$MC" sign --key k.json --suite eddsa-jcs-2022 "mc/$name-text.unsigned.json" --out "$out"
  [[ -s "$out" ]] && MC_SIGNED+=("$out")
done
# a number that overflows a double (1e400) cannot be canonicalized: refuse
if has_suite eddsa-jcs-2022; then
sed 's/1e308/1e400/' mc/big-numbers-text.unsigned.json >mc/overflow.unsigned.json
expect_fail "microcred sign refuses a number that overflows a double (1e400)" \
  "$MC" sign --key k.json --suite eddsa-jcs-2022 mc/overflow.unsigned.json --out mc/overflow.json
expect_fail "JS sign refuses a number that overflows a double (1e400)" \
  node "$HERE/sign.mjs" --key k.json --out js/overflow.json mc/overflow.unsigned.json
fi

# proof sets: `microcred sign` on a signed credential appends a proof
MC_PROOFSETS=()
if has_suite eddsa-rdfc-2022 && has_suite eddsa-jcs-2022; then
  echo "-- proof sets signed by microcred (eddsa-rdfc-2022, then eddsa-jcs-2022)"
  first_rdfc_issued=$(printf '%s\n' "${MC_ISSUED[@]}" | grep -m1 'eddsa-rdfc-2022' || true)
  for src in $first_rdfc_issued mc/edge-cases.eddsa-rdfc-2022.json; do
    [[ -s "$src" ]] || continue
    out="mc/proofset-$(basename "$src" .eddsa-rdfc-2022.json).json"
    expect_ok "microcred sign --suite eddsa-jcs-2022 adds a proof to $src" \
      "$MC" sign --key k.json --suite eddsa-jcs-2022 "$src" --out "$out"
    expect_same "$out holds the proof set eddsa-rdfc-2022,eddsa-jcs-2022" \
      "$(suites_of "$out")" "eddsa-rdfc-2022,eddsa-jcs-2022"
    [[ -s "$out" ]] && { MC_SIGNED+=("$out"); MC_PROOFSETS+=("$out"); }
  done
fi

# verify.mjs requires every proof of a proof set to verify
if [[ ${#MC_SIGNED[@]} -gt 0 ]]; then
  js_verify "microcred->JS" --vc -- "${MC_SIGNED[@]}"
fi
if [[ "$JSONLD" == 1 && ${#MC_ISSUED[@]} -gt 0 ]]; then
  js_verify "microcred->JS JSON-LD" --expand -- "${MC_ISSUED[@]}"
fi
# DCC's verifier-core: only eddsa-rdfc-2022 (and Ed25519Signature2020)
mapfile -t MC_RDFC < <(rdfc_files "${MC_SIGNED[@]}")
if [[ ${#MC_RDFC[@]} -gt 0 ]]; then
  dcc_verify "microcred->DCC" -- "${MC_RDFC[@]}"
  mapfile -t MC_RDFC_ISSUED < <(rdfc_files "${MC_ISSUED[@]}")
  [[ ${#MC_RDFC_ISSUED[@]} -gt 0 ]] &&
    dcc_verify "microcred->DCC, 1EdTech OB 3.0 JSON schema" --require-schema -- "${MC_RDFC_ISSUED[@]}"
fi
# the other field verifiers over every issued example achievement
if [[ ${#MC_ISSUED[@]} -gt 0 ]]; then
  py_run OK "microcred issue->PyLD" --vc -- "${MC_ISSUED[@]}"
  ssi_run OK "microcred issue->ssi" --vc -- "${MC_ISSUED[@]}"
fi
# ssi's two JSON-LD differences (README), each on a minimal credential signed
# by JS: shown, not judged (the other verifiers' answers are judged)
if has_suite eddsa-rdfc-2022; then
  mkdir -p probe
  probe_term() { # NAME DATATYPE VALUE-TEXT
    printf '{\n  "@context": ["https://www.w3.org/ns/credentials/v2", {"probe": {"@id": "https://w3id.org/microcred/interop-probe#%s", "@type": "%s"}}],\n  "type": ["VerifiableCredential"],\n  "issuer": "%s",\n  "credentialSubject": {"id": "did:example:probe", "probe": %s}\n}\n' \
      "$1" "$2" "$MC_DID" "$3" >"probe/$1.unsigned.json"
    node "$HERE/sign.mjs" --key k.json --suite eddsa-rdfc-2022 --keep-source-text \
      --out "probe/$1.json" "probe/$1.unsigned.json"
  }
  probe_term boolean https://www.w3.org/2001/XMLSchema#boolean true
  probe_term fraction https://www.w3.org/2001/XMLSchema#float 1.0
  PROBES=(probe/boolean.json probe/fraction.json)
  js_verify "ssi probe" --vc -- "${PROBES[@]}"
  py_run OK "ssi probe" --vc -- "${PROBES[@]}"
  for f in "${PROBES[@]}"; do
    expect_exit "microcred verify $f" 0 "$MC" verify "$f"
  done
  if [[ -n "$SSI" ]]; then
    out=$("$SSI" --contexts "$INDEX" --vc "${PROBES[@]}" 2>&1 || true)
    if grep -qxF "OK probe/boolean.json" <<<"$out"; then
      note "ssi now agrees on a native boolean under a term coerced to https://www.w3.org/2001/XMLSchema#boolean (update the README)"
    else
      note "ssi probe: a native boolean under a term coerced to https://www.w3.org/2001/XMLSchema#boolean: ssi ignores the coercion: $(grep -m1 -F probe/boolean.json <<<"$out" | cut -c1-160)"
    fi
    if grep -qxF "OK probe/fraction.json" <<<"$out"; then
      note "ssi now agrees on a number written 1.0 (spruceid/ssi#667; update the README)"
    else
      note "ssi probe: the number 1.0 under a term coerced to xsd:float (spruceid/ssi#667): $(grep -m1 -F probe/fraction.json <<<"$out" | cut -c1-160)"
    fi
  fi
fi
if has_suite eddsa-jcs-2022 && [[ -s mc/df-101.eddsa-jcs-2022.json ]]; then
  out=$(node "$HERE/verifier-core.mjs" mc/df-101.eddsa-jcs-2022.json 2>&1 || true)
  note "verifier-core has no eddsa-jcs-2022 suite; on a jcs-only credential it says: $(head -n 1 <<<"$out")"
fi

# same key, same input, same `created` => Ed25519 gives the same signature,
# so equal proofValues mean byte-identical canonical forms
echo "-- same proofValue from both implementations"
# `microcred sign` refuses a credential whose issuer is not the key's DID, so
# it cannot re-create the W3C vector itself; check that it verifies the
# vector's signature instead (the vector's issuer is not its key's DID, so
# the verdict as a whole is "invalid": only the signature check counts)
if has_suite eddsa-jcs-2022; then
  check_outcome "microcred: W3C eddsa-jcs-2022 vector signature passes" signature pass \
    "$W3C/eddsa-jcs-2022/signedJCS.json"
  check_outcome "microcred: tampered W3C vector signature fails" signature fail \
    tampered/w3c-vector-value.json
fi
if has_suite eddsa-rdfc-2022; then
  check_outcome "microcred: W3C eddsa-rdfc-2022 vector signature passes" signature pass \
    "$W3C/eddsa-rdfc-2022/signedDataInt.json"
  check_outcome "microcred: tampered W3C eddsa-rdfc-2022 vector signature fails" signature fail \
    tampered/w3c-vector-rdfc-value.json
fi
T=2024-05-06T07:08:09Z
for name in "${MC_INPUT_NAMES[@]}" "${TEXT_NAMES[@]/%/-text}"; do
  for suite in "${SUITE_LIST[@]}"; do
    [[ $name == *-text && $suite != eddsa-jcs-2022 ]] && continue
    in="mc/$name.$suite.unsigned.json"
    [[ $name == *-text ]] && in="mc/$name.unsigned.json"
    "$MC" sign --key k.json --suite "$suite" --created "$T" "$in" \
      --out "mc/$name.$suite.fixed.json" >logs/fixed.log 2>&1 || true
    node "$HERE/sign.mjs" --key k.json --suite "$suite" --created "$T" \
      "$in" >"js/$name.$suite.fixed-mckey.json" 2>>logs/fixed.log || true
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
  for suite in "${SUITE_LIST[@]}"; do
    jt set-issuer "$(src_of js "$name" "$suite")" "$JS_DID" "js/$name.$suite.unsigned.json"
    out="js/$name.$suite.json"
    expect_ok "JS sign $name ($suite)" \
      node "$HERE/sign.mjs" --key kj.json --suite "$suite" --out "$out" "js/$name.$suite.unsigned.json"
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
# microcred's issued credentials, re-signed by JS under the JS key, with the
# suite they had
for f in "${MC_ISSUED[@]}"; do
  base=$(basename "$f" .json)
  jt strip-proof "$f" "js/$base.unsigned.json"
  jt set-issuer "js/$base.unsigned.json" "$JS_DID" "js/$base.unsigned.json"
  expect_ok "JS re-sign $base" \
    node "$HERE/sign.mjs" --key kj.json --suite "$(suites_of "$f")" --out "js/$base.json" \
    "js/$base.unsigned.json"
  [[ -s "js/$base.json" ]] && JS_SIGNED+=("js/$base.json")
done
# key-file interop: JS signs with microcred's key file, microcred with JS's
if node "$HERE/sign.mjs" --key k.json --suite "${SUITE_LIST[0]}" --out js/df-101.mckey.json "$MC_DF101" \
  2>logs/mckey.log; then
  ok "JS sign with microcred's key file"
  JS_SIGNED+=(js/df-101.mckey.json)
else
  bad "JS sign with microcred's key file" "$(cat logs/mckey.log)"
fi
expect_ok "microcred sign with keygen.mjs's key file" \
  "$MC" sign --key kj.json --suite "${SUITE_LIST[0]}" "$JS_DF101" --out mc/df-101.jskey.json
[[ -s mc/df-101.jskey.json ]] &&
  js_verify "microcred(JS key)->JS" --vc -- mc/df-101.jskey.json
# neither suite depends on formatting or member order
for suite in "${SUITE_LIST[@]}"; do
  jt compact "js/ob-min.$suite.json" "js/ob-min.$suite.compact.json"
  jt reorder "js/edge-cases.$suite.json" "js/edge-cases.$suite.reordered.json"
  JS_SIGNED+=("js/ob-min.$suite.compact.json" "js/edge-cases.$suite.reordered.json")
done
# proof sets signed by JS (rdfc, then jcs on the result)
JS_PROOFSETS=()
if has_suite eddsa-rdfc-2022 && has_suite eddsa-jcs-2022; then
  first_rdfc_resigned=$(printf '%s\n' "${JS_SIGNED[@]}" | grep -m1 '^js/issued-.*eddsa-rdfc-2022' || true)
  for src in js/ob-min.eddsa-rdfc-2022.json $first_rdfc_resigned; do
    [[ -s "$src" ]] || continue
    out="js/proofset-$(basename "$src" .eddsa-rdfc-2022.json).json"
    expect_ok "JS adds an eddsa-jcs-2022 proof to $src" \
      node "$HERE/sign.mjs" --key kj.json --suite eddsa-jcs-2022 --out "$out" "$src"
    expect_same "$out holds the proof set eddsa-rdfc-2022,eddsa-jcs-2022" \
      "$(suites_of "$out")" "eddsa-rdfc-2022,eddsa-jcs-2022"
    [[ -s "$out" ]] && { JS_SIGNED+=("$out"); JS_PROOFSETS+=("$out"); }
  done
fi

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
has_suite eddsa-jcs-2022 &&
  expect_exit "microcred verify project OB research vector (jcs, did:key issuer)" 0 \
    "$MC" verify "$OBMIN/signed-eddsa-jcs-2022.json"
if has_suite eddsa-rdfc-2022; then
  expect_exit "microcred verify project OB research vector (rdfc, did:key issuer)" 0 \
    "$MC" verify "$OBMIN/signed-eddsa-rdfc-2022.json"
  mapfile -t JS_RDFC < <(rdfc_files "${JS_SIGNED[@]}")
  [[ ${#JS_RDFC[@]} -gt 0 ]] && dcc_verify "JS->DCC" -- "${JS_RDFC[@]}"
fi

# a legacy Ed25519Signature2020 VC 1.1 credential signed by JS just now
echo "-- Ed25519Signature2020 (VC 1.1) signed by JS"
jt strip-proof "$DCC/credential.json" js/legacy.unsigned.json
jt set-issuer js/legacy.unsigned.json "$JS_DID" js/legacy.unsigned.json
expect_ok "JS sign Ed25519Signature2020 (VC 1.1, OB 3.0)" \
  node "$HERE/sign.mjs" --key kj.json --suite Ed25519Signature2020 --out js/legacy.json \
  js/legacy.unsigned.json
js_verify "JS self-check" --suites Ed25519Signature2020 --vc -- js/legacy.json
expect_exit "microcred verify js/legacy.json (Ed25519Signature2020)" 0 "$MC" verify js/legacy.json
dcc_verify "JS->DCC" -- js/legacy.json
jt tamper nfd js/legacy.json tampered/js-legacy-nfd.json >/dev/null
js_reject "tampered" --suites Ed25519Signature2020 -- tampered/js-legacy-nfd.json
expect_exit "microcred verify rejects tampered/js-legacy-nfd.json" 1 "$MC" verify tampered/js-legacy-nfd.json
dcc_reject "tampered" -- tampered/js-legacy-nfd.json

# where jsonld.js 9 and JSON-LD 1.1 part ways (README: "Where the
# implementations differ"): shown, not judged
if has_suite eddsa-rdfc-2022; then
  jt set-issuer "$FIX/edge-cases.unsigned.json" "$JS_DID" js/edge-cases-raw.unsigned.json
  if node "$HERE/sign.mjs" --key kj.json --suite eddsa-rdfc-2022 --out js/edge-cases-raw.rdfc.json \
    js/edge-cases-raw.unsigned.json 2>/dev/null; then
    out=$("$MC" verify js/edge-cases-raw.rdfc.json 2>&1 | tr -d '\000' | grep -m1 -E '^ +proof|signature +FAIL' || true)
    note "JS signs the raw edge-case fixture (NUL in a property name, 1e-7) with eddsa-rdfc-2022; microcred says:${out}"
  fi
  # one deviation at a time: same key, input and `created` on both sides
  differ() { # NAME LD-VARIANT-FLAG WHAT
    jt ld-variant "$FIX/edge-cases.unsigned.json" "src/$1.json" "$2" >/dev/null
    jt set-issuer "src/$1.json" "$MC_DID" "mc/$1.unsigned.json"
    "$MC" sign --key k.json --suite eddsa-rdfc-2022 --created "$T" "mc/$1.unsigned.json" \
      --out "mc/$1.rdfc.json" >/dev/null 2>&1 || true
    node "$HERE/sign.mjs" --key k.json --suite eddsa-rdfc-2022 --created "$T" \
      "mc/$1.unsigned.json" >"js/$1.rdfc.json" 2>/dev/null || true
    if [[ "$(proof_value "mc/$1.rdfc.json")" != "$(proof_value "js/$1.rdfc.json")" ]]; then
      note "$3: microcred and JS give different eddsa-rdfc-2022 proofValues (known JS deviation, see README)"
    else
      note "$3: microcred and JS now give the same eddsa-rdfc-2022 proofValue (update the README)"
    fi
  }
  differ edge-cases-tiny --no-high-bmp "1e-7 and 5e-324 (jsonld.js: \"0\"^^xsd:integer; JSON-LD 1.1: xsd:double)"
  differ edge-cases-ff71 --no-tiny "properties ｱ (U+FF71) and 😀 (U+1F600) (rdf-canonize: UTF-16 order; RDFC-1.0: code point order)"
fi

# a JSON-LD context that microcred does not bundle (--context URL=FILE)
if has_suite eddsa-rdfc-2022; then
  echo "-- a context that is not bundled: --context URL=FILE"
  jt add-context "$MC_DF101" "$XURL" interopNote "Suivi à distance — 遠隔学習" \
    mc/extra.unsigned.json
  jt add-context "$JS_DF101" "$XURL" interopNote "Suivi à distance — 遠隔学習" \
    js/extra.unsigned.json
  expect_fail_says "microcred sign (eddsa-rdfc-2022) without the context names the URL" "$XURL" \
    "$MC" sign --key k.json --suite eddsa-rdfc-2022 mc/extra.unsigned.json --out mc/extra.no.json
  expect_ok "microcred sign --context URL=FILE (eddsa-rdfc-2022)" \
    "$MC" sign --key k.json --suite eddsa-rdfc-2022 --context "$XURL=$XFILE" \
    mc/extra.unsigned.json --out mc/extra.rdfc.json
  js_verify "microcred->JS, extra context" --context "$XURL=$XFILE" --vc --expand -- mc/extra.rdfc.json
  expect_ok "JS sign with the extra context (eddsa-rdfc-2022)" \
    node "$HERE/sign.mjs" --key kj.json --suite eddsa-rdfc-2022 --context "$XURL=$XFILE" \
    --out js/extra.rdfc.json js/extra.unsigned.json
  for f in mc/extra.rdfc.json js/extra.rdfc.json; do
    expect_exit "microcred verify --context URL=FILE $f" 0 \
      "$MC" verify --context "$XURL=$XFILE" "$f"
    expect_fail_says "microcred verify $f without --context names the URL" "$XURL" \
      "$MC" verify "$f"
  done
fi

# ------------------------------------------------------------ C. tampering
echo "== C. tampered credentials fail everywhere"
TAMPERED=()
tamper() { # KIND SRC DEST
  if [[ ! -s "$2" ]]; then
    bad "tamper $1 $2: no such file (an earlier step failed)"
  elif jt tamper "$1" "$2" "$3" >/dev/null 2>logs/tamper.err; then
    TAMPERED+=("$3")
  else
    bad "tamper $1 $2" "$(cat logs/tamper.err)"
  fi
}
first_issued="${MC_ISSUED[0]:-mc/df-101.eddsa-jcs-2022.json}"
if has_suite eddsa-jcs-2022; then
  first_jcs_issued=$(printf '%s\n' "${MC_ISSUED[@]}" | grep -m1 'eddsa-jcs-2022' || true)
  tamper value "$first_jcs_issued" tampered/mc-issued-jcs-value.json
  tamper created "$first_jcs_issued" tampered/mc-issued-jcs-created.json
  tamper context "$first_jcs_issued" tampered/mc-issued-jcs-context.json
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
  [[ -s "js/$(basename "$first_jcs_issued")" ]] &&
    tamper value "js/$(basename "$first_jcs_issued")" tampered/js-issued-jcs-value.json
fi
if has_suite eddsa-rdfc-2022; then
  first_rdfc_issued=$(printf '%s\n' "${MC_ISSUED[@]}" | grep -m1 'eddsa-rdfc-2022' || true)
  tamper value "$first_rdfc_issued" tampered/mc-issued-rdfc-value.json
  tamper created "$first_rdfc_issued" tampered/mc-issued-rdfc-created.json
  tamper nfd "$first_rdfc_issued" tampered/mc-issued-rdfc-nfd.json
  # dropping the OB context: the OB terms then mean other IRIs (VC 2.0's
  # @vocab), so the RDF changes. (Swapping 3.0.3 for 3.0.2 would not: RDFC
  # signs the RDF, not the context URLs.)
  tamper context-drop "$first_rdfc_issued" tampered/mc-issued-rdfc-context.json
  tamper number mc/edge-cases.eddsa-rdfc-2022.json tampered/mc-edge-rdfc-number.json
  tamper value js/ob-min.eddsa-rdfc-2022.json tampered/js-obmin-rdfc-value.json
  tamper created js/ob-min.eddsa-rdfc-2022.json tampered/js-obmin-rdfc-created.json
  [[ -s "js/$(basename "$first_rdfc_issued")" ]] &&
    tamper nfd "js/$(basename "$first_rdfc_issued")" tampered/js-issued-rdfc-nfd.json
fi
for f in "${MC_PROOFSETS[@]}" "${JS_PROOFSETS[@]}"; do
  b=$(basename "$f" .json)
  tamper value "$f" "tampered/${f%%/*}-$b-value.json"
done
# a proof set with one broken proof is not valid (every proof must verify)
ONE_BROKEN=()
for f in "${MC_PROOFSETS[@]:0:1}" "${JS_PROOFSETS[@]:0:1}"; do
  b=$(basename "$f" .json)
  tamper created-last "$f" "tampered/${f%%/*}-$b-created-last.json" &&
    ONE_BROKEN+=("tampered/${f%%/*}-$b-created-last.json")
done
js_reject "tampered" "${TAMPERED[@]}"
for f in "${TAMPERED[@]}"; do
  expect_exit "microcred verify rejects $f" 1 "$MC" verify "$f"
done
for f in "${TAMPERED[@]:0:1}" tampered/mc-issued-rdfc-value.json "${ONE_BROKEN[@]:0:1}"; do
  [[ -s "$f" ]] && check_outcome "microcred verify --json names the failing check for $f: signature fail" \
    signature fail "$f"
done
expect_exit "microcred verify exits 1 when one of several files is tampered" 1 \
  "$MC" verify "${JS_SIGNED[0]}" "${TAMPERED[0]}"
# verifier-core: eddsa-rdfc-2022 proofs only; and it needs one proof of a set
# to verify (jsonld-signatures ProofSet: results.some(r => r.verified)), so
# the proof sets with only their jcs proof broken are not given to it
DCC_TAMPERED=()
for f in $(rdfc_files "${TAMPERED[@]}"); do
  [[ " ${ONE_BROKEN[*]} " == *" $f "* ]] || DCC_TAMPERED+=("$f")
done
[[ ${#DCC_TAMPERED[@]} -gt 0 ]] && dcc_reject "tampered" -- "${DCC_TAMPERED[@]}"
if [[ ${#ONE_BROKEN[@]} -gt 0 ]]; then
  out=$(node "$HERE/verifier-core.mjs" "${ONE_BROKEN[0]}" 2>&1 || true)
  note "verifier-core on a proof set whose eddsa-jcs-2022 proof is broken: $(head -n 1 <<<"$out")"
fi
# appending a context after the signed ones is allowed for eddsa-jcs-2022
# (vc-di-eddsa, Verify Proof (eddsa-jcs-2022), step 4; w3c/vc-di-eddsa#79)
if has_suite eddsa-jcs-2022; then
  APPENDED=()
  jt tamper context-append "$first_jcs_issued" mc/appended-context.json >/dev/null &&
    APPENDED+=(mc/appended-context.json)
  jt tamper context-append js/ob-min.eddsa-jcs-2022.json js/appended-context.json >/dev/null &&
    APPENDED+=(js/appended-context.json)
  js_verify "appended @context (allowed by eddsa-jcs-2022)" -- "${APPENDED[@]}"
  for f in "${APPENDED[@]}"; do
    expect_exit "microcred verify accepts appended @context like the spec: $f" 0 "$MC" verify "$f"
  done
fi

# ------------------------------------------------------------ D. issued elsewhere
echo "== D. credentials issued elsewhere, verified by microcred"
expect_exit "microcred verify DCC-style VC 1.1 Ed25519Signature2020 credential (did:key)" 0 \
  "$MC" verify "$DCC/credential.json"
expect_exit "microcred verify rejects the tampered DCC-style credential" 1 \
  "$MC" verify "$DCC/credential.tampered.json"
check_outcome "microcred verify --json: tampered DCC-style credential fails the signature check" \
  signature fail "$DCC/credential.tampered.json"
expect_exit "microcred verify --did-doc did.json: Credly-style did:web credential" 0 \
  "$MC" verify --did-doc "$CREDLY/did.json" "$CREDLY/credential.json"
expect_exit "microcred verify --did-doc (Ed25519VerificationKey2020 DID document)" 0 \
  "$MC" verify --did-doc "$CREDLY/did-ed25519-2020.json" "$CREDLY/credential.json"
expect_exit "microcred verify --issuer-key did.json (the key pinned)" 0 \
  "$MC" verify --issuer-key "$CREDLY/did.json" "$CREDLY/credential.json"
expect_exit "microcred verify --issuer-key z6Mk… of another key: invalid" 1 \
  "$MC" verify --did-doc "$CREDLY/did.json" --issuer-key "${MC_DID#did:key:}" "$CREDLY/credential.json"
expect_exit "microcred verify --did-doc rejects the tampered Credly-style credential" 1 \
  "$MC" verify --did-doc "$CREDLY/did.json" "$CREDLY/credential.tampered.json"
check_outcome "microcred verify --json: tampered Credly-style credential fails the signature check" \
  signature fail --did-doc "$CREDLY/did.json" "$CREDLY/credential.tampered.json"
expect_exit "microcred verify rejects issuer.id != the key's controller" 1 \
  "$MC" verify --did-doc "$CREDLY/did.json" "$CREDLY/credential.issuer-mismatch.json"
check_outcome "issuer mismatch: the signature itself passes" \
  signature pass --did-doc "$CREDLY/did.json" "$CREDLY/credential.issuer-mismatch.json"
check_outcome "issuer mismatch: the issuer_key check fails" \
  issuer_key fail --did-doc "$CREDLY/did.json" "$CREDLY/credential.issuer-mismatch.json"
expect_exit_says "microcred verify without the DID document: exit 2, asks for the DID document" \
  2 "DID document" "$MC" verify "$CREDLY/credential.json"
check_outcome "without the DID document the signature is unknown (not failed)" \
  signature unknown "$CREDLY/credential.json"
# what an employer reads (kept in the log)
for f in "$CREDLY/credential.tampered.json" "$CREDLY/credential.issuer-mismatch.json"; do
  "$MC" verify --did-doc "$CREDLY/did.json" "$f" >>logs/employer-view.txt 2>&1 || true
done
"$MC" verify "$CREDLY/credential.json" >>logs/employer-view.txt 2>&1 || true
while IFS= read -r line; do
  note "microcred's verdict in words:${line#*=>}"
done < <(grep -E '^ *=>' logs/employer-view.txt | sort -u)

# ------------------------------------------------------------ E. the issuer service
# `microcred serve` on a free loopback port, in the temp dir, with a public
# base URL (https, as in production: did:web needs https): its ids, DID and
# status list URLs are under https://issuer.interop.example, where the
# verifiers' loaders serve the files fetched from the local port
echo "== E. the issuer service (microcred serve): single, batch and VC API issuance, status lists"
SVC_PUBLIC="https://issuer.interop.example"
mkdir -p svc
SVC_ADMIN="interop-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
MICROCRED_MASTER_KEY="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" \
MICROCRED_ADMIN_TOKEN="$SVC_ADMIN" MICROCRED_LOG=warn \
  "$MC" serve --listen 127.0.0.1:0 --database "$WORK/svc/service.db" \
  --base-url "$SVC_PUBLIC" 2>logs/server.log &
SERVER_PID=$!
SVC_LOCAL=""
for _ in $(seq 1 100); do
  SVC_LOCAL=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' logs/server.log 2>/dev/null |
    head -n 1 | sed 's/^listening on //' || true)
  [[ -n "$SVC_LOCAL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
SVC_OK=0
if [[ -z "$SVC_LOCAL" ]]; then
  bad "microcred serve starts and listens on a loopback port" "$(cat logs/server.log)"
elif node "$HERE/service.mjs" --local "$SVC_LOCAL" --admin "$SVC_ADMIN" \
  --examples "$EXAMPLES" --out svc >logs/service.log 2>&1; then
  ok "service: institution, token, catalogue; single, batch (JSON, CSV) and VC API issuance; DID document, status lists, revocation ($(tail -n 1 logs/service.log))"
  SVC_OK=1
else
  bad "service.mjs drives the service" "$(cat logs/service.log; tail -n 20 logs/server.log)"
fi
SVC_FILES=() SVC_GOOD=() SVC_LISTS=() SVC_LIST_ARGS=() SVC_REVOKED=""
if [[ $SVC_OK -eq 1 ]]; then
  mapfile -t SVC_FILES < <(jt get svc/manifest.json credentials 2>/dev/null |
    node -e 'for (const c of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log("svc/" + c.file)')
  SVC_REVOKED="svc/$(jt get svc/manifest.json revoked)"
  for f in "${SVC_FILES[@]}"; do [[ $f != "$SVC_REVOKED" ]] && SVC_GOOD+=("$f"); done
  mapfile -t SVC_LISTS < <(ls svc/status-*.json)
  for f in "${SVC_LISTS[@]}"; do SVC_LIST_ARGS+=(--status-list "$f"); done
  expect_same "service: credentials from single, batch and VC API issuance, both suites" \
    "$(node -e 'const m=JSON.parse(require("fs").readFileSync("svc/manifest.json","utf8"));
      console.log([...new Set(m.credentials.map(c => c.how + ":" + c.suite))].sort().join(" "))')" \
    "batch:eddsa-jcs-2022 batch:eddsa-rdfc-2022 single:eddsa-jcs-2022 single:eddsa-rdfc-2022 vc-api:eddsa-jcs-2022 vc-api:eddsa-rdfc-2022"
  expect_same "service: every credential has revocation and suspension status entries" \
    "$(for f in "${SVC_FILES[@]}"; do jt get "$f" credentialStatus | node -e '
      console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).map(s => s.statusPurpose).join(","))'; done | sort -u)" \
    "revocation,suspension"
  # microcred: the issuer's DID document pinned, the status lists as fetched
  expect_exit "microcred verify: the service's credentials, not revoked (status lists, DID document)" 0 \
    "$MC" verify --issuer-key svc/did.json "${SVC_LIST_ARGS[@]}" --require-status "${SVC_GOOD[@]}"
  expect_exit_says "microcred verify --status-list: the revoked credential is REVOKED" 1 REVOKED \
    "$MC" verify --issuer-key svc/did.json "${SVC_LIST_ARGS[@]}" "$SVC_REVOKED"
  # the field: the DID document at its did:web URL, the status lists at theirs
  field_verify OK "service->field" --did-doc svc/did.json "${SVC_LIST_ARGS[@]}" -- "${SVC_GOOD[@]}"
  # the status list credentials themselves (signed by the institution)
  field_verify OK "service status list->field" --did-doc svc/did.json -- "${SVC_LISTS[@]}"
  expect_exit "microcred verify: the service's status list credentials" 0 \
    "$MC" verify --issuer-key svc/did.json "${SVC_LISTS[@]}"
  # revocation: vc-js (vc-bitstring-status-list) and verifier-core report it;
  # PyLD and ssi check no status, so for them it is a good signature
  js_reject "service revoked" --suites "$ALL_SUITES" --did-doc svc/did.json "${SVC_LIST_ARGS[@]}" --vc -- "$SVC_REVOKED"
  expect_exit_says "verifier-core reports the revoked credential revoked (revocation_status: false)" 1 \
    "revocation_status: false" node "$HERE/verifier-core.mjs" --did-doc svc/did.json "${SVC_LIST_ARGS[@]}" \
    "$SVC_REVOKED"
  py_run OK "service revoked (PyLD checks no status: the signature)" --vc --did-doc svc/did.json -- "$SVC_REVOKED"
  ssi_run OK "service revoked (ssi checks no status: the signature)" --vc --did-doc svc/did.json -- "$SVC_REVOKED"
  # without the DID document a field verifier cannot resolve the did:web
  expect_exit_says "verifier-core without the service's DID document: did_web_unresolved" 1 \
    did_web_unresolved node "$HERE/verifier-core.mjs" "${SVC_GOOD[0]}"
  # the OB 3.0 JSON schema expects one credentialStatus object (README, "The
  # issuer service"): shown, not judged
  out=$(node "$HERE/verifier-core.mjs" --json --require-schema --did-doc svc/did.json "${SVC_LIST_ARGS[@]}" \
    "${SVC_GOOD[0]}" 2>&1 | node -e '
      const r = JSON.parse(require("fs").readFileSync(0, "utf8").split("\n")[0]);
      console.log(r.ok ? "passes" : r.problems.join("; ").slice(0, 300))' 2>&1 || true)
  note "verifier-core's 1EdTech OB 3.0 JSON-schema check on a service credential (two credentialStatus entries): $out"
fi

# ------------------------------------------------------------ F. baked badges
echo "== F. baked PNG: microcred bake, unbaked by microcred and by png.mjs, verified everywhere"
BAKE_SRC=$(printf '%s\n' "${MC_ISSUED[@]}" | grep -m1 'eddsa-rdfc-2022' || true)
[[ -n "$BAKE_SRC" ]] || BAKE_SRC="${MC_ISSUED[0]:-}"
mkdir -p baked
if [[ -n "$BAKE_SRC" ]]; then
  node "$HERE/png.mjs" make baked/plain.png
  expect_ok "microcred bake --image plain.png ($BAKE_SRC)" \
    "$MC" bake --image baked/plain.png --credential "$BAKE_SRC" --out baked/badge.png
  BAKED=(baked/badge.png)
  [[ $SVC_OK -eq 1 ]] && BAKED+=(svc/badge-service.png)
  for png in "${BAKED[@]}"; do
    b=$(basename "$png" .png)
    if [[ $png == svc/* ]]; then src="svc/$(jt get svc/manifest.json badge.credential)"; else src=$BAKE_SRC; fi
    expect_ok "microcred unbake $png" sh -c "\"\$1\" unbake \"\$2\" > \"\$3\"" _ "$MC" "$png" "baked/$b.mc.json"
    expect_ok "png.mjs unbake $png (iTXt openbadgecredential, CRCs checked)" \
      node "$HERE/png.mjs" unbake "$png" "baked/$b.js.json"
    expect_ok "both unbake $png to the credential's exact bytes" \
      cmp "baked/$b.mc.json" "$src"
    expect_ok "png.mjs and microcred unbake $png alike" cmp "baked/$b.mc.json" "baked/$b.js.json"
    png_did=()
    [[ $png == svc/* ]] && png_did=(--did-doc svc/did.json)
    expect_exit "microcred verify $png (the image itself)" 0 \
      "$MC" verify "${png_did[@]}" "$png"
  done
  field_verify OK "baked->field" -- baked/badge.js.json
  [[ -s baked/badge-service.js.json ]] &&
    field_verify OK "service baked->field" --did-doc svc/did.json "${SVC_LIST_ARGS[@]}" -- baked/badge-service.js.json
fi

# ------------------------------------------------------------ G. presentations
echo "== G. a presentation of microcred credentials, signed by its holder in JS"
CHALLENGE="interop-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
DOMAIN="employer.interop.example"
HOLDER_DID=$(node "$HERE/keygen.mjs" holder.json)
mkdir -p vp
VP_RDFC=()
first_rdfc_issued=$(printf '%s\n' "${MC_ISSUED[@]}" | grep -m1 'eddsa-rdfc-2022' || true)
[[ -n "$first_rdfc_issued" ]] && VP_RDFC+=("$first_rdfc_issued")
[[ ${#SVC_GOOD[@]} -gt 0 ]] && VP_RDFC+=("$(printf '%s\n' "${SVC_GOOD[@]}" | grep -m1 'eddsa-rdfc-2022')")
VP_DID=()
[[ $SVC_OK -eq 1 ]] && VP_DID=(--did-doc svc/did.json)
if [[ ${#VP_RDFC[@]} -gt 0 ]]; then
  expect_ok "present.mjs: vc-js signPresentation, holder $HOLDER_DID, eddsa-rdfc-2022, challenge and domain" \
    node "$HERE/present.mjs" --key holder.json --challenge "$CHALLENGE" --domain "$DOMAIN" \
    --out vp/vp-rdfc.json "${VP_RDFC[@]}"
  VPS=(vp/vp-rdfc.json)
  first_jcs_issued=$(printf '%s\n' "${MC_ISSUED[@]}" | grep -m1 'eddsa-jcs-2022' || true)
  if [[ -n "$first_jcs_issued" ]]; then
    expect_ok "present.mjs: the same with eddsa-jcs-2022 (holder proof and one jcs credential)" \
      node "$HERE/present.mjs" --key holder.json --suite eddsa-jcs-2022 --challenge "$CHALLENGE" \
      --domain "$DOMAIN" --out vp/vp-jcs.json "${VP_RDFC[@]}" "$first_jcs_issued"
    [[ -s vp/vp-jcs.json ]] && VPS+=(vp/vp-jcs.json)
  fi
  js_verify "presentation" --suites "$ALL_SUITES" "${VP_DID[@]}" "${SVC_LIST_ARGS[@]}" --vp --challenge "$CHALLENGE" \
    --domain "$DOMAIN" -- "${VPS[@]}"
  js_reject "presentation, another challenge" --suites "$ALL_SUITES" "${VP_DID[@]}" --vp --challenge other --domain "$DOMAIN" -- \
    vp/vp-rdfc.json
  py_run OK "presentation" --vc "${VP_DID[@]}" -- "${VPS[@]}"
  ssi_run OK "presentation" --vc "${VP_DID[@]}" -- "${VPS[@]}"
  # verifier-core verifyPresentation checks a presentation's proof with
  # AssertionProofPurpose (dist/Verify.js), so a holder's `authentication`
  # proof never verifies there: its credential results are judged, the
  # presentation signature is shown
  out=$(node "$HERE/verifier-core.mjs" --vp --challenge "$CHALLENGE" "${VP_DID[@]}" "${SVC_LIST_ARGS[@]}" \
    --json vp/vp-rdfc.json 2>&1 || true)
  printf '%s\n' "$out" >>logs/verifier-core.log
  expect_ok "presentation: verifier-core verifies every credential in vp/vp-rdfc.json" \
    node -e 'const r = JSON.parse(process.argv[1].split("\n")[0]);
      const bad = r.problems.filter(p => !p.startsWith("presentation"));
      if (bad.length || !(r.credentialResults || []).length) { console.log(JSON.stringify(r.problems)); process.exit(1); }' "$out"
  note "verifier-core on the holder-signed presentation (authentication proof): presentation signature $(node -e '
    const r = JSON.parse(process.argv[1].split("\n")[0]);
    console.log((r.presentationResult || {}).signature + ": " +
      ((r.presentationResult || {}).errors || []).map(e => String(e.message)).join("; "))' "$out" 2>&1 | cut -c1-300) (README)"
  # the same holder key and credentials with proofPurpose assertionMethod:
  # what verifier-core checks, so the holder's signature is judged there too
  expect_ok "present.mjs --purpose assertionMethod (for verifier-core)" \
    node "$HERE/present.mjs" --key holder.json --purpose assertionMethod --challenge "$CHALLENGE" \
    --domain "$DOMAIN" --out vp/vp-rdfc-assertion.json "${VP_RDFC[@]}"
  dcc_verify "presentation (holder proof with proofPurpose assertionMethod)" --vp --challenge "$CHALLENGE" \
    "${VP_DID[@]}" "${SVC_LIST_ARGS[@]}" -- vp/vp-rdfc-assertion.json
  # microcred's service verifies it too (W3C VC API)
  if [[ $SVC_OK -eq 1 ]]; then
    expect_ok "presentation: microcred's POST /presentations/verify says verified (challenge, domain)" \
      node -e '
        const [base, file, challenge, domain] = process.argv.slice(1);
        const vp = JSON.parse(require("fs").readFileSync(file, "utf8"));
        fetch(base + "/presentations/verify", {method: "POST",
          headers: {"content-type": "application/json"},
          body: JSON.stringify({verifiablePresentation: vp, options: {challenge, domain}})})
        .then(async r => { const t = await r.text();
          if (r.status !== 200 || JSON.parse(t).verified !== true) { console.log(r.status, t.slice(0, 800)); process.exit(1); } })' \
      "$SVC_LOCAL" vp/vp-rdfc.json "$CHALLENGE" "$DOMAIN"
  fi
fi

# ------------------------------------------------------------ H. the old placeholder context
# microcred used to put https://microcredential.example/ns/v1/context.json
# (served by nobody) into credentials. A verifier in the field loads every
# context by its URL, so such a credential fails there, however well it
# verifies in microcred (which bundles that context, so old credentials keep
# verifying). JS signs one with the context given by hand.
echo "== H. a credential naming the old placeholder context: rejected in the field, accepted by microcred"
PLACEHOLDER="https://microcredential.example/ns/v1/context.json"
expect_fail "the placeholder context is not among the published contexts" \
  grep -qF "\"$PLACEHOLDER\"" "$INDEX"
jt set-issuer "$FIX/legacy-placeholder/df-101-placeholder-context.unsigned.json" "$JS_DID" \
  js/placeholder.unsigned.json
PH=()
for suite in "${SUITE_LIST[@]}"; do
  expect_ok "JS signs the placeholder-context credential ($suite, context given with --context)" \
    node "$HERE/sign.mjs" --key kj.json --suite "$suite" --context "$PLACEHOLDER=$ROOT/contexts/microcred-v1.jsonld" \
    --out "js/placeholder.$suite.json" js/placeholder.unsigned.json
  [[ -s "js/placeholder.$suite.json" ]] && PH+=("js/placeholder.$suite.json")
done
for f in "${PH[@]}"; do
  expect_exit "microcred verify still accepts $f (legacy URL bundled)" 0 "$MC" verify "$f"
done
if [[ -s js/placeholder.eddsa-rdfc-2022.json ]]; then
  field_verify FAIL "placeholder context" -- js/placeholder.eddsa-rdfc-2022.json
  expect_exit_says "vc-js names the unserved context URL" 1 "$PLACEHOLDER" \
    node "$HERE/verify.mjs" --vc js/placeholder.eddsa-rdfc-2022.json
  expect_exit_says "verifier-core tried to load it (blocked, i.e. not served)" 1 "blocked (offline): $PLACEHOLDER" \
    node "$HERE/verifier-core.mjs" js/placeholder.eddsa-rdfc-2022.json
fi
if [[ -s js/placeholder.eddsa-jcs-2022.json ]]; then
  # eddsa-jcs-2022 signs the JSON, not the RDF: a verifier that does no
  # JSON-LD processing has no context to load
  js_reject "placeholder context, eddsa-jcs-2022, JSON-LD safe mode" --vc --expand -- js/placeholder.eddsa-jcs-2022.json
  py_run FAIL "placeholder context, eddsa-jcs-2022" --vc -- js/placeholder.eddsa-jcs-2022.json
  out=$(node "$HERE/verify.mjs" --vc js/placeholder.eddsa-jcs-2022.json 2>&1 || true)
  note "vc-js without JSON-LD expansion on the eddsa-jcs-2022 placeholder credential (the jcs suite loads no context): $(head -n 1 <<<"$out")"
  if [[ -n "$SSI" ]]; then
    out=$("$SSI" --contexts "$INDEX" js/placeholder.eddsa-jcs-2022.json 2>&1 || true)
    note "ssi on the eddsa-jcs-2022 placeholder credential: $(head -n 1 <<<"$out" | cut -c1-300)"
  fi
fi

# ------------------------------------------------------------ I. stacks, CLR 2.0 records, endorsements
# The Digital Fluency series issued in section A (DF-101, DF-102, DF-103 and the
# certificate whose stackingRequirement lists them): checked as a stack by
# microcred, bundled by `microcred clr` into a signed ClrCredential, and an
# endorsement made by `microcred endorse` embedded in an achievement. The
# records and endorsements go to the field verifiers (publisher-served
# contexts only) and to verifier-core's check of 1EdTech's JSON schemas.
echo "== I. stacks, CLR 2.0 records and endorsements: microcred and the field"
CLRS=() ENDORSEMENTS=() ENDORSED=()
for suite in "${SUITE_LIST[@]}"; do
  parts=("mc/issued-df-101.$suite.json" "mc/issued-df-102.$suite.json" "mc/issued-df-103.$suite.json")
  cert="mc/issued-df-certificate.$suite.json"
  if [[ ! -s $cert || ! -s ${parts[0]} || ! -s ${parts[1]} || ! -s ${parts[2]} ]]; then
    bad "the Digital Fluency series was issued with $suite (section A)"
    continue
  fi
  expect_exit "microcred verify --component: the series stacks into the certificate ($suite)" 0 \
    "$MC" verify "$cert" --component "${parts[0]}" --component "${parts[1]}" --component "${parts[2]}"
  expect_exit_says "microcred verify --component: without DF-103 the stack is invalid ($suite)" 1 \
    "STACK INVALID" "$MC" verify "$cert" --component "${parts[0]}" --component "${parts[1]}"
  expect_ok "microcred clr: the series as one learner's record ($suite)" \
    "$MC" clr --key k.json --suite "$suite" --name "Digital Fluency pathway record" \
    --precedes DF-101=DF-102 --precedes DF-101=DF-103 --out "mc/clr.$suite.json" \
    "${parts[@]}" "$cert"
  if [[ -s "mc/clr.$suite.json" ]]; then
    CLRS+=("mc/clr.$suite.json")
    expect_exit_says "microcred verify: the record, every credential in it, its associations and pathway ($suite)" \
      0 "RECORD VALID" "$MC" verify "mc/clr.$suite.json"
  fi
done
if "$MC" keygen --out endorser.json >logs/endorser.out 2>&1; then
  for suite in "${SUITE_LIST[@]}"; do
    e="mc/endorsement.$suite.json"
    expect_ok "microcred endorse: an industry council endorses DF-101 ($suite)" \
      "$MC" endorse --key endorser.json --endorser-name "Interop Industry Council" \
      --subject "$EXAMPLES/achievements/df-101.json" --suite "$suite" \
      --comment "Meets our members' hiring needs" --out "$e"
    [[ -s $e ]] || continue
    ENDORSEMENTS+=("$e")
    node -e '
      const fs = require("fs");
      const a = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
      a.endorsement = [JSON.parse(fs.readFileSync(process.argv[2], "utf8"))];
      fs.writeFileSync(process.argv[3], JSON.stringify(a, null, 2));
    ' "$EXAMPLES/achievements/df-101.json" "$e" "mc/df-101-endorsed.$suite.json"
    issue_args "mc/df-101-endorsed.$suite.json"
    out="mc/issued-endorsed.$suite.json"
    expect_ok "microcred issue from the endorsed achievement ($suite)" \
      "$MC" issue "${ISSUE_ARGS[@]}" --suite "$suite" --out "$out"
    if [[ -s $out ]]; then
      ENDORSED+=("$out")
      expect_exit_says "microcred verify reports the embedded endorsement ($suite)" 0 \
        "Interop Industry Council" "$MC" verify "$out"
    fi
  done
else
  bad "microcred keygen --out endorser.json" "$(cat logs/endorser.out)"
fi
[[ ${#CLRS[@]} -gt 0 ]] && field_verify OK "CLR 2.0 record->field" -- "${CLRS[@]}"
[[ ${#ENDORSEMENTS[@]} -gt 0 ]] && field_verify OK "endorsement->field" -- "${ENDORSEMENTS[@]}"
[[ ${#ENDORSED[@]} -gt 0 ]] && field_verify OK "endorsed credential->field" -- "${ENDORSED[@]}"
mapfile -t SCHEMA_FILES < <(rdfc_files "${CLRS[@]}" "${ENDORSEMENTS[@]}" "${ENDORSED[@]}")
if [[ ${#SCHEMA_FILES[@]} -gt 0 ]]; then
  dcc_verify "CLR, endorsement and endorsed credential->DCC, 1EdTech CLR 2.0 / OB 3.0 JSON schemas" \
    --require-schema -- "${SCHEMA_FILES[@]}"
fi

# the service's own pathway: it issues the certificate when the last component arrives, and
# the pathway record (CLR) of that certificate; both go to the field and the JSON schemas
if [[ $SVC_OK -eq 1 ]]; then
  svc() { # METHOD PATH TOKEN [JSON] -> body (fails on an HTTP error)
    local args=(-sS -f -X "$1" "$SVC_LOCAL$2" -H "Authorization: Bearer $3")
    [[ -n "${4:-}" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
    curl "${args[@]}"
  }
  PW_OK=1
  profile=$(cat "$EXAMPLES/issuer-profile.json")
  svc POST /v1/institutions "$SVC_ADMIN" "{\"slug\": \"pathway\", \"profile\": $profile}" >/dev/null || PW_OK=0
  PW_TOKEN=$(svc POST /v1/institutions/pathway/tokens "$SVC_ADMIN" '{"scopes": ["issue", "revoke", "manage"]}' |
    node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).token)' || true)
  for n in df-101 df-102 df-103; do
    svc PUT "/v1/institutions/pathway/achievements/$n" "$PW_TOKEN" "$(cat "$EXAMPLES/achievements/$n.json")" >/dev/null || PW_OK=0
  done
  cert_def=$(node -e '
    const fs = require("fs");
    const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    c.stackingRequirement.requiredAchievement = ["df-101", "df-102", "df-103"].map(
      n => `${process.argv[2]}/institutions/pathway/achievements/${n}`);
    console.log(JSON.stringify(c));' "$EXAMPLES/achievements/df-certificate.json" "$SVC_PUBLIC")
  svc PUT /v1/institutions/pathway/achievements/df-certificate "$PW_TOKEN" "$cert_def" >/dev/null || PW_OK=0
  for n in df-101 df-102 df-103; do
    svc POST /v1/institutions/pathway/credentials "$PW_TOKEN" \
      "{\"achievement\": \"$n\", \"recipient\": \"$LEARNER\", \"results\": {\"status\": \"Completed\"}}" >/dev/null || PW_OK=0
  done
  PW_CERT=""
  for _ in $(seq 1 100); do
    PW_CERT=$(svc GET "/v1/institutions/pathway/credentials?limit=50" "$PW_TOKEN" | node -e '
      const l = JSON.parse(require("fs").readFileSync(0, "utf8")).credentials;
      const c = l.find(c => c.achievement === "df-certificate");
      console.log(c ? c.id : "")' || true)
    [[ -n "$PW_CERT" ]] && break
    sleep 0.2
  done
  if [[ $PW_OK -eq 1 && -n "$PW_CERT" ]]; then
    ok "service pathway: the certificate is issued by the service when the last component arrives"
    curl -sS -f "$SVC_LOCAL/credentials/$PW_CERT" -o svc/pathway-cert.json
    curl -sS -f "$SVC_LOCAL/credentials/$PW_CERT/clr" -o svc/pathway-record.json
    curl -sS -f "$SVC_LOCAL/institutions/pathway/did.json" -o svc/did-pathway.json
    # the status lists the certificate and the record's credentials name, as served
    PW_LISTS=()
    i=0
    while IFS= read -r url; do
      [[ -n "$url" ]] || continue
      i=$((i + 1))
      curl -sS -f "$SVC_LOCAL${url#"$SVC_PUBLIC"}" -o "svc/pw-status-$i.json" &&
        PW_LISTS+=(--status-list "svc/pw-status-$i.json")
    done < <(node -e '
      const fs = require("fs"), urls = new Set();
      const walk = v => { if (v && typeof v === "object") {
        if (v.statusListCredential) urls.add(v.statusListCredential);
        Object.values(v).forEach(walk); } };
      process.argv.slice(1).forEach(f => walk(JSON.parse(fs.readFileSync(f, "utf8"))));
      console.log([...urls].join("\n"));' svc/pathway-cert.json svc/pathway-record.json)
    expect_exit_says "microcred verify: the service's pathway record" 0 "RECORD VALID" \
      "$MC" verify --did-doc svc/did-pathway.json "${PW_LISTS[@]}" svc/pathway-record.json
    field_verify OK "service pathway->field" --did-doc svc/did-pathway.json "${PW_LISTS[@]}" -- \
      svc/pathway-cert.json svc/pathway-record.json
    dcc_verify "service pathway->DCC, 1EdTech OB 3.0 / CLR 2.0 JSON schemas" --require-schema \
      --did-doc svc/did-pathway.json "${PW_LISTS[@]}" -- svc/pathway-cert.json svc/pathway-record.json
  else
    bad "service pathway: institution, achievements, components and an automatic certificate" \
      "$(tail -n 20 logs/server.log)"
  fi
fi
