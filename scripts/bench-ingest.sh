#!/usr/bin/env bash
# make bench (ingest part):
#  1. roomstream-bench: decode+apply µs per real Chrome sample vs JSONDecoder on the same bodies,
#     the write-ahead log's record size and replay speed, its group commit under fsync with
#     buffered writes + fdatasync against direct synchronous writes, sealing 100,000 journaled rooms, and
#     resident memory per live peer with 10,000 peers.
#  2. wrk with keep-alive posting rotating consecutive real Chrome samples (../shared/bench:
#     alice-samples.ndjson, ~11.5 KB each, counters increasing, seq advancing; 16 rooms × 2
#     peers) to the ingest endpoint: roomstream with the write-ahead log off and with the
#     default policy (fsync), three runs each, alternating (the goals take the median), nginx
#     reading the same bodies and answering 202, and GET /healthz in the same run: req/s,
#     server CPU-µs and context switches per request, p50 and p99;
#  3. latency at half of the saturation rate (fsync): the same load paced to about half of the
#     saturated req/s measured just before (scripts/bench-paced.lua), three runs on fresh
#     servers (one run's p99 ranged from 3.2 to 6.7 ms on this 2-core machine for the same
#     build), goal: the median run's p99 < 5 ms;
#  4. the same ingest load with 5,000 idle keep-alive connections held open beside it
#     (scripts/hold-idle-connections.py), against the same load without them, alternating, two
#     rounds each: goal within 10 % (issue 13);
#  5. ../shared/bench/compare-ingest.sh: the same load on roomstream and on a Hummingbird 2 +
#     JSONDecoder server, each alone on CPU 0 with wrk on CPU 1, alternating, best of 3 rounds
#     each (BENCH_ROUNDS; BENCH_COMPARE=0 skips it).
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
master=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; [ -n "$master" ] && kill "$master" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work" || true; }
trap cleanup EXIT

start_server() { # log_policy
  [ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work/data"
  cat > "$work/config.json" <<JSON
{"server": {"host": "127.0.0.1", "port": $PORT, "max_connections_per_client": 0}, "data_dir": "$work/data", "log": {"level": "warning"},
 "ingest": {"keys": ["bench-ingest-key-0001"], "peer_timeout_seconds": 600}, "admin": {"token": ""}, "metrics": {"open": true}, "durability": {"log_policy": "$1"}}
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
  out=$(SAMPLES="$SAMPLES" ROOMS=16 KEY=bench-ingest-key-0001 INGEST_LUA="$LOAD" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
  after=$(cpu_ticks); sw_after=$(switches)
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p50 p99; p50=$(echo "$out" | awk '$1 == "50%" {print $2}'); p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local cpu; cpu=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  local cs; cs=$(awk -v a="$sw_before" -v b="$sw_after" -v n="$requests" 'BEGIN { printf "%.2f", (b - a) / n }')
  printf '%-17s %10s req/s  %8s server CPU-us/request  %5s ctx switches/request  p50 %8s  p99 %8s  %s\n' "$name" "$rps" "$cpu" "$cs" "$p50" "$p99" "$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ')"
  eval "${name}_rps=$rps; ${name}_cpu=$cpu; ${name}_p99=$p99; ${name}_cs=$cs"
  # A refused request (503) is cheaper than a stored one and would flatter the figures.
  local errors; errors=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i} END {print n + 0}')
  [ "$errors" -gt 0 ] && failed_runs="$failed_runs $name($errors)"
  return 0
}
failed_runs=""
# One wrk thread, and a fresh server (empty data directory) for each ingest run, no warm-up:
# ingest.lua's seq counters start at 1 in every wrk thread and run, and a seq posted twice is
# a duplicate (less work), which would flatter the figures.
echo "== ingest over HTTP (wrk -t1 -c$CONNECTIONS -d${DURATION}s, keep-alive; $(nproc) cores shared by wrk and the server) =="
start_server off
measure healthz "http://127.0.0.1:$PORT/healthz"
# Three runs of each policy, alternating, each on a fresh server; the goals take the median run.
# This VM's speed drifts by 10-30 % from one minute to the next: one run of each (as before)
# could land log off in a slow minute and miss a goal that the runs around it met.
for run in 1 2 3; do
  start_server off
  measure "ingest_log_off_$run" -s "$LOAD" "http://127.0.0.1:$PORT"
  start_server fsync
  measure "ingest_log_fsync_$run" -s "$LOAD" "http://127.0.0.1:$PORT"
done
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ingest_log_off_rps=$(median3 "$ingest_log_off_1_rps" "$ingest_log_off_2_rps" "$ingest_log_off_3_rps")
ingest_log_off_cpu=$(median3 "$ingest_log_off_1_cpu" "$ingest_log_off_2_cpu" "$ingest_log_off_3_cpu")
ingest_log_off_cs=$(median3 "$ingest_log_off_1_cs" "$ingest_log_off_2_cs" "$ingest_log_off_3_cs")
ingest_log_fsync_rps=$(median3 "$ingest_log_fsync_1_rps" "$ingest_log_fsync_2_rps" "$ingest_log_fsync_3_rps")
ingest_log_fsync_cpu=$(median3 "$ingest_log_fsync_1_cpu" "$ingest_log_fsync_2_cpu" "$ingest_log_fsync_3_cpu")
ingest_log_fsync_cs=$(median3 "$ingest_log_fsync_1_cs" "$ingest_log_fsync_2_cs" "$ingest_log_fsync_3_cs")
echo "  (medians of the 3 runs: log off $ingest_log_off_rps req/s, $ingest_log_off_cpu us, $ingest_log_off_cs switches; fsync $ingest_log_fsync_rps req/s, $ingest_log_fsync_cpu us, $ingest_log_fsync_cs switches per request)"

# Latency at half of the saturation rate just measured: each connection pauses so that the
# connections together offer about half of it.
half=$(awk -v r="$ingest_log_fsync_rps" 'BEGIN { printf "%d", r / 2 }')
delay_ms=$(awk -v c="$CONNECTIONS" -v r="$half" 'BEGIN { d = c * 1000 / r - 0.5; printf "%d", (d < 1 ? 1 : d + 0.5) }')
for run in 1 2 3; do
  start_server fsync
  DELAY_MS=$delay_ms measure "ingest_half_load_$run" -s scripts/bench-paced.lua "http://127.0.0.1:$PORT"
done
echo "  (aimed at $half req/s: $CONNECTIONS connections, each pausing a random 0-$((2 * delay_ms)) ms before a request)"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# Idle connections beside the load (issue 13): a fresh server each run (see above), the holder
# opens its connections (one GET each, then keep-alive idle) before wrk starts. Every load comes
# from loopback, so the server's per-client cap is off (max_connections_per_client 0 above).
IDLE="${BENCH_IDLE_CONNECTIONS:-5000}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "== ingest with $IDLE idle keep-alive connections held open beside it (log off; alternating, 2 rounds) =="
for round in 1 2; do
  start_server off
  measure "ingest_without_idle_$round" -s "$LOAD" "http://127.0.0.1:$PORT"
  start_server off
  python3 scripts/hold-idle-connections.py --port "$PORT" --count "$IDLE" > "$work/holder.out" 2>"$work/holder.err" &
  holder=$!
  for _ in $(seq 1 600); do grep -q ready "$work/holder.out" 2>/dev/null && break; kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
  grep -q ready "$work/holder.out" || { echo "the idle-connection holder did not get ready:" >&2; cat "$work/holder.err" >&2; exit 1; }
  measure "ingest_with_idle_$round" -s "$LOAD" "http://127.0.0.1:$PORT"
  open=$(curl -fs "http://127.0.0.1:$PORT/metrics" 2>/dev/null | awk '/^roomstream_open_connections / {print $2}' || true)
  kill "$holder"; wait "$holder" 2>/dev/null || true
  echo "  (open connections on the server after the run: ${open:-n/a}; $(cat "$work/holder.err"))"
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
awk -v a1="$ingest_with_idle_1_rps" -v a2="$ingest_with_idle_2_rps" -v b1="$ingest_without_idle_1_rps" -v b2="$ingest_without_idle_2_rps" \
    -v c1="$ingest_with_idle_1_cpu" -v c2="$ingest_with_idle_2_cpu" -v d1="$ingest_without_idle_1_cpu" -v d2="$ingest_without_idle_2_cpu" -v n="$IDLE" 'BEGIN {
  r = (a1 + a2) / (b1 + b2); c = (c1 + c2) / (d1 + d2)
  printf "ratio with/without %d idle connections: throughput %.3fx, CPU per request %.2fx\n", n, r, c
  printf "goal: throughput with %d idle connections within 10%% of without: %s\n", n, (r >= 0.9 ? "met" : "NOT met") }'

# nginx, one worker, reading the same bodies and answering 202: the floor for HTTP on this
# machine (its CPU per request is what receiving 11.5 KB and answering costs the kernel and a
# minimal server).
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_max_body_size 1m;
  client_body_buffer_size 1m;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$PORT;
    location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
    location /v1/ { default_type application/json; return 202 '{"accepted":1,"duplicates":0,"late":0}'; }
  }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
master=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
pid=$(pgrep -P "$master" | head -1)
measure nginx_ingest -s "$LOAD" "http://127.0.0.1:$PORT"
kill "$master"; wait "$master" 2>/dev/null || true; pid=""; master=""

awk -v a="$ingest_log_fsync_rps" -v b="$ingest_log_off_rps" -v c="$ingest_log_fsync_cpu" -v d="$ingest_log_off_cpu" 'BEGIN {
  printf "ratio log fsync/off: throughput %.3fx, CPU per request %.2fx\n", a / b, c / d }'
awk -v a="$ingest_log_off_cpu" -v b="$nginx_ingest_cpu" 'BEGIN {
  printf "ratio roomstream (log off)/nginx, CPU per ingest request: %.2fx\n", a / b }'
awk -v c="$ingest_log_off_cpu" 'BEGIN { printf "goal: <= 35 us server CPU per ingest request: %s (%.1f us, log off, median of 3 runs)\n", (c <= 35 ? "met" : "NOT met"), c }'
awk -v off="$ingest_log_off_cs" -v fsync="$ingest_log_fsync_cs" 'BEGIN {
  printf "goal: <= 1 context switch per ingest request at saturation: %s (%.2f log off, %.2f fsync; medians)\n", (off <= 1 && fsync <= 1 ? "met" : "NOT met"), off, fsync }'
awk -v p1="$ingest_half_load_1_p99" -v p2="$ingest_half_load_2_p99" -v p3="$ingest_half_load_3_p99" '
  function ms(p,  v) { v = p + 0; if (p ~ /us$/) v /= 1000; else if (p ~ /ms$/) v += 0; else if (p ~ /s$/) v *= 1000; return v }
  BEGIN {
    a = ms(p1); b = ms(p2); c = ms(p3)
    m = (a > b) ? ((b > c) ? b : ((a > c) ? c : a)) : ((a > c) ? a : ((b > c) ? c : b))
    printf "goal: p99 < 5 ms at half of saturation (median of 3 runs): %s (%.2fms; runs %s %s %s)\n", (m < 5 ? "met" : "NOT met"), m, p1, p2, p3 }'

echo "goal: every request of every run above answered 2xx, no socket errors: $([ -z "$failed_runs" ] && echo met || echo "NOT met (runs with errors:$failed_runs)")"

if [ "${BENCH_COMPARE:-1}" != 0 ]; then
  echo "== against Hummingbird 2 + JSONDecoder (../shared/bench/compare-ingest.sh; each server alone on CPU 0, wrk on CPU 1; roomstream on its default, the write-ahead log with fsync) =="
  bash "$SHARED/bench/compare-ingest.sh" .build/release/roomstream "${BENCH_ROUNDS:-3}" | tee "$work/compare.out"
  ratio=$(sed -n 's/^ratio roomstream\/hummingbird = \([0-9.]*\).*/\1/p' "$work/compare.out")
  awk -v r="${ratio:-0}" 'BEGIN { printf "goal: >= 8x the Hummingbird peer'"'"'s req/s on one core: %s (%.2fx)\n", (r >= 8 ? "met" : "NOT met"), r }'
fi
