#!/usr/bin/env bash
# make fuzz: libFuzzer on the HTTP parser and on the ingest decode path, $1 seconds each
# (default 60). Crashes land in .build-fuzz/ as crash-<sha1>; reproduce an ingest crash with
# `swift run roomstream-fuzz-ingest FILE`, a parser crash with .build-fuzz/http-parser-fuzz FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build-fuzz
mkdir -p "$out/corpus-http" "$out/corpus-ingest"
export SWIFT_BACKTRACE=enable=no

# HTTP parser: the parser sources and the fuzz entry point as one module.
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name RoomstreamHTTPFuzz \
  Sources/RoomstreamHTTP/*.swift Fuzz/HTTPParserFuzz.swift -o "$out/http-parser-fuzz"
"$out/http-parser-fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus-http" Fuzz/corpus/http-parser

# Ingest decode path: the SwiftPM product with coverage instrumentation (C++ shim included),
# linked with libFuzzer's no-main runtime; its @main hands control to LLVMFuzzerRunDriver.
no_main=$(find "$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")/lib/clang" -name 'libclang_rt.fuzzer_no_main-x86_64.a' | head -n 1)
swift build -c release --product roomstream-fuzz-ingest --scratch-path "$out/swiftpm" \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DFUZZING \
  -Xcc -fsanitize=fuzzer-no-link,address -Xcxx -fsanitize=fuzzer-no-link,address -Xlinker "$no_main"
"$out/swiftpm/release/roomstream-fuzz-ingest" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus-ingest" Fuzz/corpus/ingest
