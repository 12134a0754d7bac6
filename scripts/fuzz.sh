#!/usr/bin/env bash
# make fuzz: libFuzzer on the HTTP parser and on the ingest decode path, $1 seconds each
# (default 60). Both are SwiftPM executables built here with coverage instrumentation and
# AddressSanitizer, linked with libFuzzer's no-main runtime; their @main hands control to
# LLVMFuzzerRunDriver. Crashes land in .build-fuzz/ as crash-<sha1>; reproduce one with
# `swift run roomstream-fuzz-http FILE` or `swift run roomstream-fuzz-ingest FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build-fuzz
mkdir -p "$out/corpus-http" "$out/corpus-ingest"
export SWIFT_BACKTRACE=enable=no

swiftc_path=$(readlink -f "$(command -v swiftc)")
no_main=$(find "$(dirname "$(dirname "$swiftc_path")")/lib/clang" -name 'libclang_rt.fuzzer_no_main-x86_64.a' | head -n 1)
[ -n "$no_main" ] || { echo "libclang_rt.fuzzer_no_main not found in the Swift toolchain" >&2; exit 1; }
flags=(-c release --scratch-path "$out/swiftpm"
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DFUZZING
  -Xcc -fsanitize=fuzzer-no-link,address -Xcxx -fsanitize=fuzzer-no-link,address -Xlinker "$no_main" -Xlinker -lstdc++)
swift build "${flags[@]}" --product roomstream-fuzz-http
swift build "${flags[@]}" --product roomstream-fuzz-ingest

"$out/swiftpm/release/roomstream-fuzz-http" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus-http" Fuzz/corpus/http-parser
"$out/swiftpm/release/roomstream-fuzz-ingest" -max_total_time="$seconds" -max_len=131072 -print_final_stats=1 \
  -dict=Fuzz/ingest.dict -artifact_prefix="$out/" "$out/corpus-ingest" Fuzz/corpus/ingest
