#!/usr/bin/env bash
# Builds each fuzz target's seed corpus (fuzz/corpus/<target>/) from the test vectors kept in
# the repository (W3C, 1EdTech, RFC 8785 and research-derived vectors; their sources are in each
# folder's SOURCES.md). Existing corpus files are kept, so long campaigns accumulate.
set -euo pipefail
cd "$(dirname "$0")"
root=..
seed() { # seed <target> <files...>: copies files named by content hash
  local target=$1; shift
  mkdir -p "corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le 262144 ] || continue
    cp "$f" "corpus/$target/seed-$(sha256sum "$f" | cut -c1-16)"
  done
}
mapfile -t json < <(find "$root/crates" "$root/examples" "$root/contexts" -path '*/target' -prune -o \
  \( -name '*.json' -o -name '*.jsonld' \) -type f -print | sort)
mapfile -t jsonld < <(find "$root/crates/microcred-rdf/tests/data" "$root/crates/microcred-core/tests/vectors" \
  "$root/crates/microcred-cli/tests/data" \( -name '*.jsonld' -o -name '*.json' \) -type f | sort)
mapfile -t signed < <(grep -rlE '"(proof|proofValue)"' "${jsonld[@]}" | sort)
mapfile -t did < <(grep -rlE '"(verificationMethod|publicKeyMultibase|publicKeyJwk)"' "${json[@]}" | sort)
mapfile -t status < <(grep -rlE 'BitstringStatusList|encodedList' "${json[@]}" | sort)
mapfile -t images < <(find "$root/crates" -path '*/target' -prune -o \( -name '*.png' -o -name '*.svg' \) -type f -print | sort)

seed json_strict "${json[@]}" "$root"/crates/microcred-core/tests/vectors/rfc8785/input/*.json
seed jsonld_rdfc "${jsonld[@]}"
seed verify_credential "${signed[@]}"
seed verifier_page "${signed[@]}" "${did[@]}" "${status[@]}" "${images[@]}"
seed did_document "${did[@]}"
seed status_list "${status[@]}"
# encodedList strings on their own, as the decoder receives them
mkdir -p corpus/status_list
grep -rhoE '"encodedList" *: *"[^"]+"' "${status[@]}" 2>/dev/null | sed -E 's/.*: *"([^"]+)"/\1/' |
  while read -r e; do printf '%s' "$e" > "corpus/status_list/enc-$(printf '%s' "$e" | sha256sum | cut -c1-16)"; done
[ -d fuzz_targets ] && [ -f fuzz_targets/unbake.rs ] && seed unbake "${images[@]}"
# hand-made seeds where the repository has no vectors (e.g. batch CSV)
for d in seeds/*/; do seed "$(basename "$d")" "$d"*; done
for d in corpus/*/; do echo "$(basename "$d"): $(find "$d" -type f | wc -l) seeds"; done
