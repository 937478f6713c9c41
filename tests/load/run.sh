#!/usr/bin/env bash
# Load test of `microcred serve` on loopback (release build, real SQLite file, durable
# commits), with the core's own single-thread sign rate measured in the same run.
#
#   bash tests/load/run.sh            # ~2 minutes
#   DURATION=30 BATCH_ROWS=2000 bash tests/load/run.sh
#   DATABASE=postgres://postgres@127.0.0.1:5432/test INSTANCES=2 bash tests/load/run.sh
#
# DATABASE: where the service keeps its data (default: a fresh SQLite file; a PostgreSQL URL
# must name an empty database or schema). INSTANCES: how many `microcred serve` processes share
# it (ports PORT, PORT+1, ...; one base URL, as behind a load balancer); each wrk run is then
# one wrk per instance at once, with the connections split between them, and the rates added.
# `tests/load/instances.sh` runs SQLite x1, PostgreSQL x1 and PostgreSQL x2 one after another.
#
# Targets (2-core machine): batch issuance >= 80% of cores x single-thread sign rate;
# >= 2,000 single issuances/s; >= 20,000 GET /credentials/{id} per second with p99 < 10 ms;
# no errors. Traffic goes to 127.0.0.1 only; every step is bounded in time.
#
# The machine's load average is printed with every figure: other work on the machine (a
# build, a test suite) takes cores from the server and from the sign-rate measurement alike,
# so compare figures taken when the load before the run was low. (Once the run is under way
# the load average also counts the test's own server and wrk: the load when the run started
# is the one that says how quiet the machine was.)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-15}          # seconds per wrk run
BATCH_ROWS=${BATCH_ROWS:-1000}    # rows per batch request
BATCH_CONN=${BATCH_CONN:-2}       # concurrent batch requests
# The service admits 9 x cores CPU jobs at once (cores running, 8 x cores waiting; see
# `[limits]`) and answers 503 + Retry-After beyond that: more single-issuance connections than
# that would measure refusals, not issuance.
SINGLE_CONN=${SINGLE_CONN:-$((9 * $(nproc)))}
GET_CONN=${GET_CONN:-64}
PORT=${PORT:-18181}
DATABASE=${DATABASE:-}
INSTANCES=${INSTANCES:-1}
SUITE=${SUITE:-}                  # cryptosuite (default: the service's default)
BENCH_SECS=${BENCH_SECS:-5}       # seconds per sign-rate measurement
CORES=$(nproc)

if ! command -v wrk >/dev/null; then
  echo "== installing wrk (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi

work=$(mktemp -d)
server_pids=()
cleanup() {
  for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "!! $*" >&2; [ -f "$work/server.log" ] && tail -20 "$work/server.log" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
start_load=$(load)

echo "== building (release)"
cargo build --release -q -p microcred-cli
# A private copy: a concurrent build in the same target directory cannot swap it mid-run.
cp "${CARGO_TARGET_DIR:-target}/release/microcred" "$work/microcred"
mc="$work/microcred"

bench() { # name: the core's sign rate on one thread (and, in $work/NAME.txt, the batch signer's)
  "$mc" serve --bench-sign "$BENCH_SECS" ${SUITE:+--bench-suite "$SUITE"} > "$work/$1.txt"
  sed -n 's/^sign_rate_per_thread=//p' "$work/$1.txt"
}
batch_bench() { sed -n 's/^batch_sign_rate_per_thread=//p' "$work/$1.txt"; }
echo "== core sign rate (one thread, the credential the service issues, no HTTP, no storage); load $(load)"
sign_before=$(bench bench1)
cat "$work/bench1.txt"
suite=$(sed -n 's/^suite=//p' "$work/bench1.txt")
# For reference: what pure signing reaches with every core busy (one process per core).
for i in $(seq "$CORES"); do bench "par$i" > "$work/par$i.rate" & done
wait
parallel_rate=$(cat "$work"/par*.rate | awk '{s += $1} END {printf "%.0f", s}')
echo "pure signing on $CORES cores at once: $parallel_rate credentials/s"

admin="load-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
master=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
database=${DATABASE:-$work/load.db}
base="http://127.0.0.1:$PORT"
bases=()
for i in $(seq 0 $((INSTANCES - 1))); do
  port=$((PORT + i))
  log="$work/server.log"; [ "$i" -gt 0 ] && log="$work/server-$i.log"
  MICROCRED_MASTER_KEY=$master MICROCRED_ADMIN_TOKEN="$admin" MICROCRED_LOG=warn \
    "$mc" serve --listen "127.0.0.1:$port" --base-url "$base" --database "$database" 2> "$log" &
  server_pids+=($!)
  bases+=("http://127.0.0.1:$port")
  for _ in $(seq 100); do curl -sf "${bases[$i]}/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "${bases[$i]}/healthz" >/dev/null || fail "server $((i + 1)) did not start"
done

json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
curl -sf -X POST "$base/v1/institutions" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d "{\"slug\":\"northbridge\",\"profile\":$(cat examples/issuer-profile.json)}" >/dev/null \
  || fail "creating the institution failed"
token=$(curl -sf -X POST "$base/v1/institutions/northbridge/tokens" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"scopes":["issue","manage"]}' | json_field token)
[ -n "$token" ] || fail "creating a token failed"
curl -sf -X PUT "$base/v1/institutions/northbridge/achievements/df-101" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary @examples/achievements/df-101.json >/dev/null \
  || fail "creating the achievement failed"

# Request bodies and wrk scripts.
{
  printf '{"achievement":"df-101","cryptosuite":"%s","rows":[' "$suite"
  for i in $(seq "$BATCH_ROWS"); do
    [ "$i" -gt 1 ] && printf ','
    printf '{"recipient":"did:example:learner%d","results":{"final-assessment":"8%d","status":"Completed"}}' "$i" $((i % 10))
  done
  printf ']}'
} > "$work/batch.json"
printf '{"achievement":"df-101","cryptosuite":"%s","recipient":"did:example:single","results":{"final-assessment":"86","status":"Completed"}}' "$suite" > "$work/single.json"
# POST the body in $BODY; a response is bad unless its status is 2xx and, for a batch, its
# body says no row failed. done() prints the count of bad responses.
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local f = assert(io.open(os.getenv("BODY")))
wrk.body = f:read("*a")
f:close()
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() bad = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 or (string.find(body, '"failed":', 1, true) and not string.find(body, '"failed":0,', 1, true)) then
    bad = bad + 1
  end
end
function done()
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  print("bad responses: " .. n)
end
LUA

errors=0
run_wrk() { # name, connections, wrk args... (the URL, last, is a path on every instance)
  local name=$1 conn=$2; shift 2
  local path=${*: -1}; set -- "${@:1:$#-1}"
  local before; before=$(load)
  local per=$(( (conn + INSTANCES - 1) / INSTANCES )) pids=() i
  for i in $(seq 0 $((INSTANCES - 1))); do
    wrk --timeout 60s -c"$per" "$@" "${bases[$i]}$path" > "$work/$name-$i.txt" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  { cat "$work/$name"-*.txt
    echo "load average before $before, after $(load)"
    # One instance: wrk's own figures; several: their sums (and the worst p99).
    awk '/^Requests\/sec/ {r += $2} / requests in / {n += $1} / 99%/ {v = $2 + 0; if ($2 ~ /us$/) v /= 1000; else if ($2 !~ /ms$/) v *= 1000; printf "p99 %.2fms\n", v}
         END {printf "Requests/sec: %.2f (all instances)\n%d requests in total\n", r, n}' "$work/$name"-*.txt
  } > "$work/$name.txt"
  cat "$work/$name.txt"
  if grep -q -E "Non-2xx|Socket errors" "$work/$name.txt" \
    || { grep -q "^bad responses: " "$work/$name.txt" && grep "^bad responses: " "$work/$name.txt" | grep -qv "^bad responses: 0$"; }; then
    echo "!! $name had errors" >&2; errors=1
  fi
}
rps() { awk '/^Requests\/sec: .*all instances/ {print $2}' "$work/$1.txt"; }
count() { awk '/ requests in total/ {print $1}' "$work/$1.txt"; }
loads() { sed -n 's/^load average before \([^ ]*\) .*, after \([^ ]*\) .*/\1 -> \2/p' "$work/$1.txt"; }
# The count once requests still in flight when wrk stopped have finished.
settled_total() {
  local a b; a=$(total); sleep 1; b=$(total)
  while [ "$a" != "$b" ]; do a=$b; sleep 1; b=$(total); done
  echo "$b"
}
total() { curl -sf "$base/v1/institutions/northbridge/credentials?limit=1" -H "Authorization: Bearer $admin" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }

echo "== batch issuance: $BATCH_ROWS rows per request, $BATCH_CONN concurrent, ${DURATION}s"
TOKEN=$token BODY=$work/batch.json run_wrk batch "$BATCH_CONN" -t1 -d"${DURATION}s" -s "$work/post.lua" \
  /v1/institutions/northbridge/credentials/batch
after_batch=$(settled_total)

echo "== single issuance: $SINGLE_CONN connections, ${DURATION}s"
TOKEN=$token BODY=$work/single.json run_wrk single "$SINGLE_CONN" -t2 -d"${DURATION}s" -s "$work/post.lua" \
  /v1/institutions/northbridge/credentials
after_single=$(settled_total)

echo "== GET /credentials/{id}: $GET_CONN connections, ${DURATION}s, 1000 different credentials"
curl -sf "$base/v1/institutions/northbridge/credentials?limit=1000" -H "Authorization: Bearer $admin" \
  | grep -o '"url":"[^"]*"' | sed 's/.*\/credentials\/\([^"]*\)"/\1/' > "$work/ids.txt"
[ -s "$work/ids.txt" ] || fail "listing credentials failed"
cat > "$work/get.lua" <<'LUA'
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/credentials/" .. ids[(n % #ids) + 1])
end
LUA
IDS=$work/ids.txt run_wrk get "$GET_CONN" -t2 -d"${DURATION}s" --latency -s "$work/get.lua" /

# The sign rate again after the load: the reference is the higher of the two measurements
# (the stricter target when the machine's speed drifted during the run).
echo "== core sign rate again; load $(load)"
sign_after=$(bench bench2)
echo "sign_rate_per_thread=$sign_after"
sign_rate=$(( sign_before > sign_after ? sign_before : sign_after ))
batch_before=$(batch_bench bench1); batch_after=$(batch_bench bench2)
batch_sign_rate=$(( batch_before > batch_after ? batch_before : batch_after ))

# Everything acknowledged is stored, and nothing beyond what was sent: wrk counts completed
# responses; requests still in flight when it stopped may have been stored too (at most one
# per connection).
stored_ok=yes
check_count() { # stored, acknowledged, in-flight bound, what
  if [ "$1" -lt "$2" ] || [ "$1" -gt $(( $2 + $3 )) ]; then
    echo "!! $4: $1 credentials stored, $2 acknowledged (+ at most $3 in flight)" >&2; errors=1; stored_ok=no
  fi
}
check_count "$after_batch" $(( $(count batch) * BATCH_ROWS )) $(( BATCH_CONN * BATCH_ROWS )) "batch run"
check_count $(( after_single - after_batch )) "$(count single)" "$SINGLE_CONN" "single run"

batch_rate=$(awk -v r="$(rps batch)" -v n="$BATCH_ROWS" 'BEGIN {printf "%.0f", r * n}')
p99=$(awk '/^p99 / {print $2}' "$work/get.txt" | sort -g | tail -1)
echo
if [ -z "$DATABASE" ]; then
  where="SQLite, durable commits: WAL + synchronous=FULL; $(du -h "$work/load.db" | cut -f1) database"
else
  where="PostgreSQL, $INSTANCES instance(s) on one database"
fi
echo "== results ($CORES cores; $where)"
awk -v suite="$suite" -v s1="$sign_before" -v s2="$sign_after" -v s="$sign_rate" -v par="$parallel_rate" -v c="$CORES" \
    -v bs="$batch_sign_rate" \
    -v b="$batch_rate" -v one="$(rps single)" -v g="$(rps get)" -v p="$p99" \
    -v lb="$(loads batch)" -v ls="$(loads single)" -v lg="$(loads get)" 'BEGIN {
  printf "suite                           %s\n", suite
  printf "core sign rate, 1 thread        %8.0f credentials/s (before %.0f, after %.0f: the higher is used)\n", s, s1, s2
  printf "cores x sign rate               %8.0f credentials/s (pure signing on all cores at once: %.0f = %.0f%%)\n", s * c, par, 100 * par / (s * c)
  printf "batch issuance over HTTP        %8.0f credentials/s = %.0f%% of cores x sign rate (target >= 80%%)  [load %s]\n", b, 100 * b / (s * c), lb
  printf "                                         = %.0f%% of cores x batch signer rate (%.0f/s on 1 thread: proof options prepared once)\n", 100 * b / (bs * c), bs
  printf "single issuance over HTTP       %8.0f requests/s (target >= 2000)  [load %s]\n", one, ls
  printf "GET /credentials/{id}           %8.0f requests/s (target >= 20000), p99 %s (target < 10ms)  [load %s]\n", g, p, lg
}'
echo "stored: $after_single credentials (count check: $stored_ok); errors: $errors; load average when the run started: $start_load"
exit "$errors"
