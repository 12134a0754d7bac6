#!/usr/bin/env bash
# make bench (HTTP part): wrk with keep-alive against roomstream's GET /healthz and against
# nginx serving the same 15-byte JSON body, in the same run, on loopback. Prints requests/s and
# server CPU microseconds per request (utime+stime from /proc, all threads/workers) and the
# ratios, over alternating rounds (BENCH_HTTP_ROUNDS, 3). The machine is noisy: only the ratios
# within one run mean anything.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${BENCH_SECONDS:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
RS_PORT=18480
NGINX_PORT=18481
work=$(mktemp -d)
pids=()
# The servers are waited for before their directory goes: nginx may still be writing into it.
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work" || true; }
trap cleanup EXIT

ticks_per_second=$(getconf CLK_TCK)
# Sum of utime+stime (fields 14 and 15) of the given pids, in clock ticks.
cpu_ticks() { local total=0; for pid in "$@"; do
  read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat"); total=$((total + f[11] + f[12])); done; echo "$total"; }

wait_port() { for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

# roomstream, release build, as make run builds it
.build/release/roomstream serve --host 127.0.0.1 --port "$RS_PORT" --data-dir "$work/data" --log-level warning 2>"$work/roomstream.log" &
pids+=($!); rs_pid=$!

# nginx: as many workers as roomstream has event loops (one per core), no logging
cat > "$work/nginx.conf" <<NGINX
worker_processes $(nproc);
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!); nginx_pid=$!
wait_port "$RS_PORT"; wait_port "$NGINX_PORT"
nginx_workers=$(pgrep -P "$nginx_pid" | tr '\n' ' ')

run() { # name port pids...
  local name=$1 port=$2; shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port/healthz" >/dev/null  # warm-up
  local before after out requests rps
  before=$(cpu_ticks "$@")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$port/healthz")
  after=$(cpu_ticks "$@")
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  local cpu_us; cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  printf '%-11s %12s req/s %10s requests  %8s server CPU-us/request %s\n' "$name" "$rps" "$requests" "$cpu_us" "$errors"
  eval "${name}_rps=$rps; ${name}_cpu=$cpu_us"
}

ROUNDS="${BENCH_HTTP_ROUNDS:-3}"
echo "GET /healthz, keep-alive, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores shared by wrk and the server; $ROUNDS rounds, alternating"
# Alternating rounds, and each server's best (lowest CPU per request, highest req/s): noise on
# this VM only ever adds CPU, and one round each put the two servers in different minutes.
rs_cpus=(); rs_rpss=(); nginx_cpus=(); nginx_rpss=()
for round in $(seq 1 "$ROUNDS"); do
  run roomstream "$RS_PORT" "$rs_pid"; rs_cpus+=("$roomstream_cpu"); rs_rpss+=("$roomstream_rps")
  # shellcheck disable=SC2086
  run nginx "$NGINX_PORT" $nginx_workers; nginx_cpus+=("$nginx_cpu"); nginx_rpss+=("$nginx_rps")
done
roomstream_cpu=$(printf '%s\n' "${rs_cpus[@]}" | sort -g | head -1); roomstream_rps=$(printf '%s\n' "${rs_rpss[@]}" | sort -g | tail -1)
nginx_cpu=$(printf '%s\n' "${nginx_cpus[@]}" | sort -g | head -1); nginx_rps=$(printf '%s\n' "${nginx_rpss[@]}" | sort -g | tail -1)
awk -v a="$roomstream_rps" -v b="$nginx_rps" -v c="$roomstream_cpu" -v d="$nginx_cpu" 'BEGIN {
  printf "ratio roomstream/nginx (best round of each): throughput %.2fx, CPU per request %.2fx\n", a / b, c / d
  printf "goal: <= 2x nginx'"'"'s server CPU per request: %s (%.2fx: %.2f against %.2f us)\n", (c <= 2 * d ? "met" : "NOT met"), c / d, c, d
  printf "goal: <= 30 us server CPU per request: %s (%.2f us)\n", (c <= 30 ? "met" : "NOT met"), c }'
