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
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIngest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // SAFETY: libFuzzer guarantees `data` points to `size` readable bytes for this call.
    fuzzIngestBody(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
import Foundation

@main
struct FuzzIngestReplay {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bytes.withUnsafeBytes { fuzzIngestBody($0) }
            print("ok \(path)")
        }
    }
}
#endif
