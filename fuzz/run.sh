#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets (libFuzzer via cargo-fuzz, optimized, with debug
# assertions and overflow checks). No sanitizer by default: the workspace forbids `unsafe`, so
# AddressSanitizer would only watch dependencies, at a third of the speed
# (FUZZ_SANITIZER=address to use it). Works with the stable toolchain: cargo-fuzz's nightly-only flags are enabled
# with RUSTC_BOOTSTRAP=1, so nothing but crates.io is needed.
#
#   bash fuzz/run.sh                         # every target for FUZZ_SECONDS (default 20) each: CI
#   FUZZ_SECONDS=3600 bash fuzz/run.sh jsonld_rdfc   # a long campaign on one target
#   FUZZ_RUNS=10000000 bash fuzz/run.sh      # a fixed number of executions per target
#   FUZZ_JOBS=2 ...                          # parallel workers per target (default 1; with
#                                            # FUZZ_RUNS, each worker runs that many)
#
# Seeds come from the repository's test vectors (seed.sh); found inputs accumulate in
# fuzz/corpus/<target>/, crashes in fuzz/artifacts/<target>/ (reproduce: cargo fuzz run
# <target> <file>). Exit status is non-zero if any target crashed, leaked, hung or ran out of
# memory.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
mapfile -t all < <(cargo fuzz list)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
bash seed.sh >/dev/null
flags=(-O -a -s "${FUZZ_SANITIZER:-none}")
cargo fuzz build "${flags[@]}"
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-1}
# Several workers write their own logs (fuzz-N.log here); one worker logs to $log.
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  limit=(-max_total_time="$seconds")
  [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
  # Inputs up to 64 KiB by default (libFuzzer mutates best on small inputs; the size attacks
  # have their own tests); more than 2 GiB RSS or 10 s for one input is a failure.
  mkdir -p logs; log="logs/$t.log"
  if cargo fuzz run "${flags[@]}" "$t" "corpus/$t" -- "${limit[@]}" \
      -max_len="${FUZZ_MAX_LEN:-65536}" -rss_limit_mb=2048 \
      -timeout=10 "${parallel[@]}" -print_final_stats=1 \
      >"$log" 2>&1; then
    # With -jobs, each job's own log (fuzz-N.log) holds its count; the sum is the total.
    if [ "$jobs" -gt 1 ]; then counted=(fuzz-*.log); else counted=("$log"); fi
    runs=$(grep -hE '^stat::number_of_executed_units' "${counted[@]}" | awk '{s+=$2} END {print s+0}')
    echo "fuzz $t: ok, $runs executions"
  else
    echo "fuzz $t: FAILED (log: fuzz/$log; crashing input in fuzz/artifacts/$t/)"
    tail -30 "$log"
    failed+=("$t")
  fi
  [ "$jobs" -gt 1 ] && rm -f fuzz-*.log
done
[ ${#failed[@]} -eq 0 ] || { echo "crashing targets: ${failed[*]}"; exit 1; }
