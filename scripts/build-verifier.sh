#!/usr/bin/env bash
# Builds the employer's verifier page as a standalone folder (default: target/verifier):
#   index.html, verifier.js, verifier.css   the page (web/verifier/, copied unchanged)
#   verifier-wasm.js                        the WebAssembly module, base64 in one statement
#   microcred_verifier.wasm                 the same module as a file (not loaded by the page)
# The folder works from any static host and from file://: the page fetches nothing (its
# Content-Security-Policy forbids connections), so the module comes as a script.
# Serve it with `microcred serve --verifier-dir FOLDER` at /verify/, or open index.html.
# Needs the wasm32 target: `rustup target add wasm32-unknown-unknown`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/target/verifier}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "build-verifier: the wasm32-unknown-unknown target is not installed; run:" >&2
  echo "  rustup target add wasm32-unknown-unknown" >&2
  exit 2
fi
(cd "$ROOT" && cargo build --locked --quiet -p microcred-wasm --target wasm32-unknown-unknown --profile wasm)
WASM="$TARGET_DIR/wasm32-unknown-unknown/wasm/microcred_wasm.wasm"

mkdir -p "$OUT"
cp "$ROOT/web/verifier/index.html" "$ROOT/web/verifier/verifier.js" "$ROOT/web/verifier/verifier.css" "$OUT/"
cp "$WASM" "$OUT/microcred_verifier.wasm"
python3 - "$WASM" "$OUT/verifier-wasm.js" <<'PY'
import base64, sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as f:
    f.write('globalThis.MICROCRED_WASM = "%s";\n' % base64.b64encode(data).decode())
PY
size=$(stat -c %s "$OUT/microcred_verifier.wasm")
gz=$(gzip -9 -c "$OUT/microcred_verifier.wasm" | wc -c)
echo "build-verifier: $OUT (module $((size / 1024)) KiB, $((gz / 1024)) KiB gzipped)"
