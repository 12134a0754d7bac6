// libFuzzer target for the ingest decode path (simdjson shim, decoder, figures engine), run
// by `make fuzz` through FuzzDriver (a corpus replayer when built normally).
import FuzzDriver
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

@main
struct FuzzIngest {
    static func main() throws {
        try FuzzDriver.run(fuzzIngestBody)
    }
}
