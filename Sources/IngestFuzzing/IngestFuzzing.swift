import RoomstreamCore
import RoomstreamIngest

/// The ingest fuzz target's body, shared with `FuzzRegressionTests` so that every input the
/// fuzzer found replays in `make test`. An input is one or more ingest bodies separated by NUL
/// bytes (valid JSON text never contains one): they are applied in order to one peer, as a
/// hostile client would send them, so counters can advance, reset, jump to 1e30 or go
/// negative across bodies. After each body and after the room ends, every room is rendered
/// and the record must be well-formed JSON. Any outcome but a trap or a malformed record is
/// fine: bad input must only ever be an `IngestError`.
public enum IngestFuzzing {
    /// Problems found (empty when the input was handled correctly). The fuzz target traps on
    /// any, so libFuzzer records the input; the tests expect none.
    public static func run(_ bytes: UnsafeRawBufferPointer) -> [String] {
        let registry = RoomRegistry()
        var problems: [String] = []
        var arrival = 0.0
        func render(_ when: String) {
            for room in registry.liveRooms + registry.endedRooms {
                let json = RoomRecord.json(room, publicURL: "http://localhost", includeState: true)
                if !JSONValidation.isValid(Array(json.utf8)) { problems.append("\(when): malformed record \(json.prefix(2000))") }
            }
        }
        for (index, body) in bytes.split(separator: 0, omittingEmptySubsequences: true).enumerated() {
            guard let batch = try? IngestDecoder.decode(Array(body)) else { continue }
            // Each body arrives after the previous one, near its own timestamps (clamped: the
            // decoder bounds them already; arrival must stay ordered for the peer).
            arrival = max(arrival + 50, clamped(batch.latestTimestamp ?? 0) + 50)
            _ = try? registry.ingest(roomID: "fuzz", peerID: "peer", batch: batch, arrival: arrival, userAgent: nil)
            render("after body \(index)")
        }
        _ = registry.leave(roomID: "fuzz", peerID: "peer", arrival: arrival + 1000)
        registry.expire(now: arrival + 1e9)
        render("after the room ended")
        return problems
    }

    static func clamped(_ value: Double) -> Double { value.isFinite ? min(max(value, -1e15), 1e15) : 0 }
}
