#!/usr/bin/env bash
# Installs what the S3 tests need from PyPI (moto's server and boto3), idempotently: nothing
# runs when they import. As root pip installs system-wide, otherwise for the user.
set -euo pipefail
python3 -c 'import moto.server, boto3, flask, flask_cors' 2>/dev/null && exit 0
echo "installing: moto[server] boto3" >&2
if [ "$(id -u)" -eq 0 ]; then user=(); else user=(--user); fi
# Debian's own python3 refuses system-wide pip installs (PEP 668) unless told otherwise.
python3 -m pip install --quiet "${user[@]}" 'moto[server]' boto3 2>/dev/null \
  || python3 -m pip install --quiet --break-system-packages "${user[@]}" 'moto[server]' boto3
