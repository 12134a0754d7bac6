#!/usr/bin/env bash
# make bench (ingest part):
#  1. roomstream-bench: decode+apply µs per real Chrome sample vs JSONDecoder on the same bodies,
#     and resident memory per live peer with 10,000 peers.
#  2. wrk with keep-alive posting a real ~11 KB Chrome sample body (a new seq per request,
#     spread over 500 rooms × 2 peers) to the ingest endpoint, next to GET /healthz in the same
#     run: req/s, server CPU-µs and context switches per request, p99 latency, and the ratio;
#  3. the same ingest load with the write-ahead log off and with the default policy (fsync).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"
CAPTURE="$SHARED/captures/direct-chrome156.ndjson"
DURATION="${BENCH_SECONDS:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
PORT=18482
[ -f "$CAPTURE" ] || { echo "no capture at $CAPTURE (set SHARED=)" >&2; exit 1; }

echo "== decode + apply (roomstream-bench) =="
.build/release/roomstream-bench "$CAPTURE" "${BENCH_ITERATIONS:-3000}"

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$CAPTURE" "$work" <<'PY'
import json, sys, re
capture, work = sys.argv[1], sys.argv[2]
bodies = [json.loads(l)["body"] for l in open(capture) if '"peer"' in l]
body = max((b for b in bodies if b.get("samples")), key=lambda b: len(json.dumps(b)))
body.pop("events", None)
text = json.dumps(body, separators=(",", ":"))
text = re.sub(r'"seq":\d+', '"seq":SEQ', text, count=1)
prefix, suffix = text.split("SEQ")
def lua(s): return s.replace("\\", "\\\\").replace('"', '\\"')
open(f"{work}/ingest.lua", "w").write(f'''
local counter = 0
local prefix = "{lua(prefix)}"
local suffix = "{lua(suffix)}"
local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench-ingest-key-0001"}}
local threads = {{}}
function setup(thread) thread:set("id", #threads); table.insert(threads, thread) end
function init(args) counter = id * 100000000 end
request = function()
  counter = counter + 1
  local path = "/v1/rooms/bench-" .. (counter % 500) .. "/peers/p" .. (counter % 2) .. "/samples"
  return wrk.format("POST", path, headers, prefix .. counter .. suffix)
end
''')
print(f"ingest body: {len(text)} bytes")
PY
start_server() { # log_policy
  [ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work/data"
  cat > "$work/config.json" <<JSON
{"server": {"host": "127.0.0.1", "port": $PORT}, "data_dir": "$work/data", "log": {"level": "warning"},
 "ingest": {"keys": ["bench-ingest-key-0001"]}, "admin": {"token": ""}, "durability": {"log_policy": "$1"}}
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
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
  after=$(cpu_ticks); sw_after=$(switches)
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p99; p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local cpu; cpu=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  local cs; cs=$(awk -v a="$sw_before" -v b="$sw_after" -v n="$requests" 'BEGIN { printf "%.2f", (b - a) / n }')
  printf '%-16s %10s req/s  %9s requests  %8s server CPU-us/request  %6s ctx switches/request  p99 %8s  %s\n' "$name" "$rps" "$requests" "$cpu" "$cs" "$p99" "$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ')"
  eval "${name}_rps=$rps; ${name}_cpu=$cpu"
}
echo "== ingest over HTTP (wrk -t2 -c$CONNECTIONS -d${DURATION}s, keep-alive) =="
start_server fsync
wrk -t2 -c"$CONNECTIONS" -d2s -s "$work/ingest.lua" "http://127.0.0.1:$PORT" >/dev/null  # warm-up
measure healthz "http://127.0.0.1:$PORT/healthz"
measure ingest -s "$work/ingest.lua" "http://127.0.0.1:$PORT"
awk -v a="$ingest_rps" -v b="$healthz_rps" -v c="$ingest_cpu" -v d="$healthz_cpu" 'BEGIN {
  printf "ratio ingest/healthz: throughput %.3fx, CPU per request %.1fx\n", a / b, c / d }'

echo "== write-ahead log: default policy (fsync) against off, same load, same run =="
start_server off
wrk -t2 -c"$CONNECTIONS" -d2s -s "$work/ingest.lua" "http://127.0.0.1:$PORT" >/dev/null
measure ingest_log_off -s "$work/ingest.lua" "http://127.0.0.1:$PORT"
start_server fsync
wrk -t2 -c"$CONNECTIONS" -d2s -s "$work/ingest.lua" "http://127.0.0.1:$PORT" >/dev/null
measure ingest_log_fsync -s "$work/ingest.lua" "http://127.0.0.1:$PORT"
awk -v a="$ingest_log_fsync_rps" -v b="$ingest_log_off_rps" -v c="$ingest_log_fsync_cpu" -v d="$ingest_log_off_cpu" 'BEGIN {
  printf "ratio log fsync/off: throughput %.3fx, CPU per request %.2fx\n", a / b, c / d }'
