#!/usr/bin/env python3
"""Runs every SQL block of docs/bi.md verbatim in DuckDB (PyPI duckdb) from DIRECTORY (where
`files/` is), except the S3 set-up, and checks each query's result against the same figures
computed here in plain Python from the JSON files. Also runs the pandas snippet's reading.

With S3_TEST_RCLONE_* in the environment (scripts/with-s3-test-server.sh), the files are also
put in that bucket and the S3 block runs (its ${...} filled in, its INSTALL skipped and httpfs
loaded from PyPI's duckdb-extension-httpfs: the extension repository is not reachable here),
then every query again over the bucket.

usage: bi-check.py DIRECTORY   (exit 1 on a mismatch)
"""
import collections
import datetime
import glob
import gzip
import json
import os
import re
import sys
import time

import duckdb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
problems = []


def check(condition, message):
    print(("  ok    " if condition else "  FAIL  ") + message)
    if not condition:
        problems.append(message)


def load_records():
    records = []
    for path in sorted(glob.glob("files/dt=*/hourly_*.json*")):
        with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as f:
            records += json.load(f)
    return records


def close(a, b, tolerance=0.011):
    """Rows equal, numbers within the query's rounding (the figures here are not rounded)."""
    if len(a) != len(b):
        return False
    return all(x == y or (isinstance(x, float) and isinstance(y, float) and abs(x - y) <= tolerance) for x, y in zip(a, b))


def main(directory):
    os.chdir(directory)
    text = open(os.path.join(ROOT, "docs", "bi.md")).read()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    local = [b for b in blocks if "INSTALL httpfs" not in b]
    s3_block = next((b for b in blocks if "INSTALL httpfs" in b), None)
    files = glob.glob("files/dt=*/hourly_*.json*")
    days = sorted({f.split("/")[1] for f in files})
    print(f"{len(files)} files ({sum(f.endswith('.gz') for f in files)} gzip), days {days}")
    check(len(days) >= 3, "files over several days")
    check(any(f.endswith(".gz") for f in files) and any(f.endswith(".json") for f in files), "gzip and plain files")
    empty = [f for f in files if (gzip.open(f) if f.endswith(".gz") else open(f, "rb")).read().strip() == b"[]"]
    check(len(empty) > 0, f"empty windows among them ({len(empty)})")

    records = load_records()
    peers = [(r, p) for r in records for p in r["peers"]]
    con = duckdb.connect()
    results = []
    for block in local:
        # Each block as written (DuckDB runs several statements and returns the last result).
        cursor = con.execute(block)
        code = "\n".join(line for line in block.splitlines() if not line.strip().startswith("--")).strip()
        if code.upper().startswith("SELECT"):
            results.append(cursor.fetchall())
    check(len(results) == 5, f"five queries ran ({len(results)})")
    check(con.execute("SELECT count(*) FROM rooms").fetchone()[0] == len(records), f"the view holds every room ({len(records)})")
    # An empty window alone reads with the same columns.
    if empty:
        one = con.execute(f"DESCRIBE SELECT * FROM read_json('{empty[0]}', format = 'array', columns = {{room_id: 'VARCHAR'}})").fetchall()
        check(one[0][0] == "room_id", "an empty window reads with the declared columns")

    by_browser = collections.defaultdict(list)
    for _, p in peers:
        by_browser[p["browser"]].append(p["stats"]["mos"])
    expected = sorted(((b, len(v), sum(m for m in v if m is not None) / len([m for m in v if m is not None])) for b, v in by_browser.items()), key=lambda t: -t[1])
    check(len(results[0]) == len(expected) and all(close(tuple(x), y) for x, y in zip(results[0], expected)), f"MOS per browser: {results[0]} == {expected}")

    lossy = {r["room_id"] for r in records if (r["stats"]["audio"]["packet_loss"] or 0) > 2 or (r["stats"]["video"]["packet_loss"] or 0) > 2}
    check({row[0] for row in results[1]} == lossy and len(lossy) > 0, f"rooms over 2 % loss: {len(results[1])} == {len(lossy)}")

    per_day = collections.Counter(datetime.datetime.fromisoformat(r["start_time"].replace("Z", "+00:00")).date() for r in records)
    check({(row[0], row[1]) for row in results[2]} == set(per_day.items()), f"calls per day: {results[2]} == {sorted(per_day.items())}")

    by_country = collections.defaultdict(list)
    for _, p in peers:
        by_country[p["location"]["country"] or "unknown"].append(p["features"]["connection_type"] == "TURN")
    expected_turn = sorted((c, len(v), 100.0 * sum(v) / len(v)) for c, v in by_country.items())
    got_turn = sorted(tuple(row) for row in results[3])
    check(len(got_turn) == len(expected_turn) and all(close(x, y, 0.051) for x, y in zip(got_turn, expected_turn)) and any(t[2] > 0 for t in expected_turn),
          f"TURN share per country: {got_turn} == {expected_turn}")

    by_org = collections.defaultdict(list)
    for _, p in peers:
        by_org[p["location"]["organization"] or "unknown"].append(p["stats"]["mos"])
    expected_org = {o for o, v in by_org.items() if len(v) >= 3}
    check({row[0] for row in results[4]} == expected_org, f"worst networks: {[row[0] for row in results[4]]} == {sorted(expected_org)}")

    # The same queries over S3.
    if os.environ.get("S3_TEST_RCLONE_ENDPOINT") and s3_block:
        import boto3
        import duckdb_extension_httpfs
        endpoint = os.environ["S3_TEST_RCLONE_ENDPOINT"]
        bucket = os.environ.get("S3_TEST_RCLONE_BUCKET", "roomstream-test")
        key, secret = os.environ["S3_TEST_RCLONE_ACCESS_KEY_ID"], os.environ["S3_TEST_RCLONE_SECRET_ACCESS_KEY"]
        prefix = f"bi-{os.getpid()}-{int(time.time())}/"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
        for path in files:
            client.upload_file(path, bucket, prefix + path[len("files/"):])
        values = {"KEY_ID": key, "SECRET": secret, "REGION": "us-east-1", "ENDPOINT": endpoint.split("://", 1)[1], "URL_STYLE": "path",
                  "USE_SSL": "false", "BUCKET": bucket, "PREFIX": prefix}
        statement = s3_block
        for name, value in values.items():
            statement = statement.replace("${" + name + "}", value)
        httpfs = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions", "v" + duckdb.__version__, "httpfs.duckdb_extension")
        statement = statement.replace("INSTALL httpfs;", "").replace("LOAD httpfs;", f"LOAD '{httpfs}';")
        remote = duckdb.connect()
        remote.execute(local[0])  # the room_records macro (and the local view, replaced next)
        remote.execute(statement)
        remote.execute(local[1])  # the peers view, over the bucket's rooms view
        check(remote.execute("SELECT count(*) FROM rooms").fetchone()[0] == len(records), f"S3: the view over the bucket holds every room ({len(records)})")
        remote_results = []
        for block in local[2:]:
            code = "\n".join(line for line in block.splitlines() if not line.strip().startswith("--")).strip()
            if code.upper().startswith("SELECT"):
                remote_results.append(remote.execute(block).fetchall())
        check(remote_results == results, "S3: every query gives the same answer over the bucket")
    else:
        print("  skip  S3 (no S3_TEST_RCLONE_ENDPOINT)")

    # The pandas snippet, as written.
    snippet = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    namespace = {}
    exec(snippet.replace("print(", "_printed = ("), namespace)
    check(len(namespace["rooms"]) == len(records) and len(namespace["peers"]) == len(peers), "pandas: json_normalize reads every room and peer")
    print(f"BI checks: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
