#!/usr/bin/env bash
# make bench (ingest part):
#  1. roomstream-bench: decode+apply µs per real Chrome sample vs JSONDecoder on the same bodies,
#     and resident memory per live peer with 10,000 peers.
#  2. wrk with keep-alive posting rotating consecutive real Chrome samples (../shared/bench:
#     alice-samples.ndjson, ~11.5 KB each, counters increasing, seq advancing; 16 rooms × 2
#     peers) to the ingest endpoint, next to GET /healthz in the same
#     run: req/s, server CPU-µs and context switches per request, p99 latency, and the ratio;
#  3. the same ingest load with the write-ahead log off and with the default policy (fsync);
#  4. ../shared/bench/compare-ingest.sh: the same load on roomstream and on a Hummingbird 2 +
#     JSONDecoder server, each alone on CPU 0 with wrk on CPU 1 (BENCH_COMPARE=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"
CAPTURE="$SHARED/captures/direct-chrome156.ndjson"
SAMPLES="$SHARED/bench/alice-samples.ndjson"
LOAD="$SHARED/bench/ingest.lua"
DURATION="${BENCH_SECONDS:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
PORT=18482
[ -f "$CAPTURE" ] && [ -f "$SAMPLES" ] || { echo "no capture at $CAPTURE or samples at $SAMPLES (set SHARED=)" >&2; exit 1; }

echo "== decode + apply (roomstream-bench) =="
.build/release/roomstream-bench "$CAPTURE" "${BENCH_ITERATIONS:-3000}"

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_server() { # log_policy
  [ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work/data"
  cat > "$work/config.json" <<JSON
{"server": {"host": "127.0.0.1", "port": $PORT}, "data_dir": "$work/data", "log": {"level": "warning"},
 "ingest": {"keys": ["bench-ingest-key-0001"], "peer_timeout_seconds": 600}, "admin": {"token": ""}, "durability": {"log_policy": "$1"}}
JSON
  .build/release/roomstream serve --config "$work/config.json" 2>"$work/log" &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
}

ticks_per_second=$(getconf CLK_TCK)
cpu_ticks() { read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat"); echo $((f[11] + f[12])); }
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' /proc/"$pid"/task/*/status 2>/dev/null; }
measure() { # name, wrk args...
  local name=$1; shift
  local before after out requests rps sw_before sw_after
  before=$(cpu_ticks); sw_before=$(switches)
  out=$(SAMPLES="$SAMPLES" ROOMS=16 KEY=bench-ingest-key-0001 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
  after=$(cpu_ticks); sw_after=$(switches)
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p99; p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local cpu; cpu=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  local cs; cs=$(awk -v a="$sw_before" -v b="$sw_after" -v n="$requests" 'BEGIN { printf "%.2f", (b - a) / n }')
  printf '%-16s %10s req/s  %9s requests  %8s server CPU-us/request  %6s ctx switches/request  p99 %8s  %s\n' "$name" "$rps" "$requests" "$cpu" "$cs" "$p99" "$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ')"
  eval "${name}_rps=$rps; ${name}_cpu=$cpu"
}
# One wrk thread, and a fresh server (empty data directory) for each ingest run, no warm-up:
# ingest.lua's seq counters start at 1 in every wrk thread and run, and a seq posted twice is
# a duplicate (less work), which would flatter the figures.
echo "== ingest over HTTP (wrk -t1 -c$CONNECTIONS -d${DURATION}s, keep-alive; write-ahead log off, then fsync, the default) =="
start_server off
measure healthz "http://127.0.0.1:$PORT/healthz"
measure ingest_log_off -s "$LOAD" "http://127.0.0.1:$PORT"
start_server fsync
measure ingest_log_fsync -s "$LOAD" "http://127.0.0.1:$PORT"
awk -v a="$ingest_log_fsync_rps" -v b="$healthz_rps" -v c="$ingest_log_fsync_cpu" -v d="$healthz_cpu" 'BEGIN {
  printf "ratio ingest (fsync)/healthz: throughput %.3fx, CPU per request %.1fx\n", a / b, c / d }'
awk -v a="$ingest_log_fsync_rps" -v b="$ingest_log_off_rps" -v c="$ingest_log_fsync_cpu" -v d="$ingest_log_off_cpu" 'BEGIN {
  printf "ratio log fsync/off: throughput %.3fx, CPU per request %.2fx\n", a / b, c / d }'

if [ "${BENCH_COMPARE:-1}" != 0 ]; then
  echo "== against Hummingbird 2 + JSONDecoder (../shared/bench/compare-ingest.sh; each server alone on CPU 0, wrk on CPU 1) =="
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  bash "$SHARED/bench/compare-ingest.sh" .build/release/roomstream "${BENCH_ROUNDS:-2}"
fi
