// libFuzzer target for the ingest decode path (simdjson shim, decoder, figures engine).
// `make fuzz` builds it with -DFUZZING and -sanitize=fuzzer,address, where libFuzzer supplies
// main. Built normally it is a replayer: `roomstream-fuzz-ingest FILE…` runs each file
// through the same entry point, so a crash input can be reproduced without the fuzzer.
import RoomstreamCore
import RoomstreamIngest

/// Decodes the input as an ingest body; when it is valid, applies it to a peer and builds the
/// room record. Any outcome but a crash is fine: bad input must only ever be an `IngestError`.
func fuzzIngestBody(_ bytes: UnsafeRawBufferPointer) {
    guard let batch = try? IngestDecoder.decode(bytes) else { return }
    let registry = RoomRegistry()
    let arrival = (batch.latestTimestamp ?? 0).clamped(to: -1e15...1e15) + 50
    guard (try? registry.ingest(roomID: "fuzz", peerID: "peer", batch: batch, arrival: arrival, userAgent: nil)) != nil else { return }
    for room in registry.liveRooms + registry.endedRooms {
        _ = RoomRecord.json(room, publicURL: "http://localhost", includeState: true)
    }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { isFinite ? min(max(self, range.lowerBound), range.upperBound) : 0 }
}

#if FUZZING
/// libFuzzer's driver, from libclang_rt.fuzzer_no_main (linked by scripts/fuzz.sh).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#endif

@main
struct FuzzIngest {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        // SAFETY: libFuzzer passes `size` readable bytes at `data` for the duration of the callback.
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            fuzzIngestBody(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        exit(status)
        #else
        for path in CommandLine.arguments.dropFirst() {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bytes.withUnsafeBytes { fuzzIngestBody($0) }
            print("ok \(path)")
        }
        #endif
    }
}

import Foundation
