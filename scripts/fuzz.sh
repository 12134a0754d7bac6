#!/usr/bin/env bash
# Builds the libFuzzer target for the HTTP parser and runs it for $1 seconds (default 60).
# Crashes are written to .build-fuzz/ as crash-<sha1>; reproduce with the binary and that file.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build-fuzz
mkdir -p "$out/corpus"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name RoomstreamHTTPFuzz \
  Sources/RoomstreamHTTP/*.swift Fuzz/HTTPParserFuzz.swift -o "$out/http-parser-fuzz"
SWIFT_BACKTRACE=enable=no "$out/http-parser-fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus" Fuzz/corpus/http-parser
