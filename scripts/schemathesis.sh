#!/usr/bin/env bash
# Runs schemathesis (PyPI, pinned in ensure-python-packages.sh) against docs/openapi.yaml and
# a live roomstream: generated and boundary requests for every documented operation, checking
# that none gets a 5xx and every answer's status, content type, headers and body match the
# spec. Two passes: the admin routes with the admin token, the ingest routes with an ingest key.
#
#   scripts/schemathesis.sh PATH/TO/roomstream
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1")
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-30}
work=$(mktemp -d); pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
admin=st-admin-token-000000001; key=st-ingest-key-0001
cat >"$work/config.json" <<J
{"server": {"host": "127.0.0.1", "port": $port}, "ingest": {"keys": ["$key"]}, "admin": {"token": "$admin"},
 "streams": [{"id": "s", "interval_minutes": 60, "destination": {"type": "directory", "path": "files/s"}}], "log": {"level": "warning"}}
J
"$BIN" serve --config "$work/config.json" --data-dir "$work/data" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
st=(python3 -m schemathesis.cli --config-file scripts/schemathesis.toml run docs/openapi.yaml -u "http://127.0.0.1:$port"
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
    -n "$EXAMPLES" --seed 1 --phases examples,coverage,fuzzing --no-color)
status=0
"${st[@]}" -H "Authorization: Bearer $admin" --exclude-path-regex '/(samples|leave)$' >"$work/admin.log" 2>&1 || status=$?
"${st[@]}" -H "Authorization: Bearer $key" --include-path-regex '/(samples|leave)$' >"$work/ingest.log" 2>&1 || status=$?
for pass in admin ingest; do
  echo "schemathesis ($pass routes): $(grep -E 'generated|passed|failure' "$work/$pass.log" | tail -1 | sed 's/^ *//')"
done
if [ "$status" -ne 0 ]; then cat "$work/admin.log" "$work/ingest.log"; tail -20 "$work/server.log"; fi
kill -0 "$pid" 2>/dev/null || { echo "roomstream exited during the run:" >&2; tail -20 "$work/server.log" >&2; exit 1; }
exit "$status"
