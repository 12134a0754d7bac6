#!/usr/bin/env python3
"""Validates data stream files (JSON arrays of room records, plain or gzip) against
docs/room-record.schema.json (JSON Schema 2020-12, PyPI jsonschema), and checks the stable
types of docs/bi.md in the text itself: fractional figures (mos, score, user, packet_loss)
are always written with a decimal point, whole figures (bitrate, jitter, rtt, duration,
users, call_setup_time) never are, so a reader infers one type per column from any file.

usage: validate-records.py FILE...        (exit 1 and one line per problem when any)
       validate-records.py --tree DIR...  every data stream file found under DIR: `make test`
           runs the suite with TMPDIR in a fresh directory, then checks every file the tests
           sealed, delivered (directory stores, rclone's S3 bucket) or imported. A file is a
           data stream file when it is a JSON array (plain or gzip) of objects with a
           `room_id`, or an empty array named like one; the ended-room journal (rooms/, where
           tests tear entries on purpose), temporary files, and directories named
           `*synthetic*` (tests of the sealer feeding it made-up records) are not. Finding
           none fails.
"""
import gzip
import json
import os
import re
import sys

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRACTIONAL = {"mos", "score", "user", "packet_loss"}
WHOLE = {"bitrate", "jitter", "rtt", "duration", "users", "call_setup_time"}


def typed_pairs(problems, where):
    def hook(pairs):
        for key, value in pairs:
            if value is None:
                continue
            if key in FRACTIONAL and not isinstance(value, float):
                problems.append(f"{where}: {key} = {value!r} is written without a decimal point")
            if key in WHOLE and not isinstance(value, int):
                problems.append(f"{where}: {key} = {value!r} is written with a decimal point")
        return dict(pairs)
    return hook


SEALED_NAME = re.compile(r".*_\d{8}T\d{4}Z_\d{8}T\d{4}Z.*\.json(\.gz)?$")


def stream_files(roots):
    """The data stream files under `roots` (see the usage)."""
    found = []
    for root in roots:
        for directory, subdirectories, names in os.walk(root):
            subdirectories[:] = [d for d in subdirectories if d != "rooms" and "synthetic" not in d]
            for name in names:
                if not (name.endswith(".json") or name.endswith(".json.gz")):
                    continue
                path = os.path.join(directory, name)
                try:
                    raw = open(path, "rb").read()
                    if raw[:2] == b"\x1f\x8b":
                        raw = gzip.decompress(raw)
                    data = json.loads(raw)
                except (OSError, ValueError, EOFError):
                    continue  # not JSON: some other test's file
                if not isinstance(data, list):
                    continue
                if data and all(isinstance(item, dict) and "room_id" in item for item in data):
                    found.append(path)
                elif not data and SEALED_NAME.match(name):
                    found.append(path)
    return found


def main(paths):
    if paths[:1] == ["--tree"]:
        paths = stream_files(paths[1:])
        if not paths:
            print("no data stream files found under the tree")
            return 1
    schema = json.load(open(os.path.join(ROOT, "docs", "room-record.schema.json")))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems, records = [], 0
    for path in paths:
        raw = open(path, "rb").read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        data = json.loads(raw, object_pairs_hook=typed_pairs(problems, path))
        if not isinstance(data, list):
            problems.append(f"{path}: not a JSON array")
            continue
        for index, record in enumerate(data):
            records += 1
            for error in validator.iter_errors(record):
                problems.append(f"{path}[{index}] {'/'.join(map(str, error.absolute_path))}: {error.message}")
    for problem in problems[:50]:
        print(problem)
    print(f"{records} records in {len(paths)} files: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
