#!/usr/bin/env bash
# Runs a command with a real S3-compatible server beside it: moto's server (PyPI) on loopback
# with SigV4 checking on, prepared by scripts/s3-setup.py. The command sees S3_TEST_* in its
# environment. The server is stopped however the command ends; its exit status is returned.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${S3_TEST_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"
log=$(mktemp)
INITIAL_NO_AUTH_ACTION_COUNT=4 python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null && break
  kill -0 "$moto_pid" 2>/dev/null || { echo "moto server did not start:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
env_lines=$(python3 scripts/s3-setup.py "http://127.0.0.1:$port")
while IFS= read -r line; do export "${line?}"; done <<<"$env_lines"
export S3_TEST_MOTO_PID="$moto_pid"
set +e
"$@"
status=$?
set -e
exit "$status"
