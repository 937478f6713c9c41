#!/usr/bin/env bash
# The main job on the bundled example key and sample data: issue a microcredential, lint,
# verify it, then show that a tampered copy fails. Needs only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p microcred-cli
mc="${CARGO_TARGET_DIR:-target}/release/microcred"
out=$(mktemp -d)
echo "== issuing DF-101 to did:example:learner1 with keys-example/issuer-key.json (example key: never for production)"
"$mc" issue --key keys-example/issuer-key.json \
  --achievement examples/achievements/df-101.json --issuer examples/issuer-profile.json \
  --recipient did:example:learner1 --result final-assessment=86 --result status=Completed \
  --out "$out/df-101.json"
echo "   wrote $out/df-101.json ($(wc -c < "$out/df-101.json") bytes)"
echo "== lint"
"$mc" lint "$out/df-101.json"
echo "== verify (pinned to the institution's key)"
"$mc" verify --issuer-key keys-example/issuer-key.json "$out/df-101.json"
echo "== verify a tampered copy (score 86 -> 99): must be INVALID"
sed 's/"86"/"99"/' "$out/df-101.json" > "$out/tampered.json"
if "$mc" verify "$out/tampered.json"; then echo "tampered copy verified: BUG" >&2; exit 1; fi
echo "demo OK: the signed credential verifies, the tampered copy does not ($out)"
