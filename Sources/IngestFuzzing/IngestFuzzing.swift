import RoomstreamCore
import RoomstreamIngest

/// The ingest fuzz target's body, shared with `FuzzRegressionTests` so that every input the
/// fuzzer found replays in `make test`. An input is either
/// - one or more ingest bodies separated by NUL bytes (valid JSON text never contains one), or
/// - `0x01` then raw 16-byte (bytes, packets) pairs of IEEE doubles: each pair becomes one body
///   whose outbound, inbound and remote-inbound counters carry those values, one second after
///   the previous. Random doubles are mostly huge, tiny, negative or denormal, so counter
///   steps of every magnitude come up at once instead of after millions of text mutations.
/// The bodies are applied in order to one peer, as a hostile client would send them, so
/// counters can advance, reset, jump to 1e30 or go negative across bodies. After each body
/// and after the room ends, every room is rendered and the record must be well-formed JSON.
/// Any outcome but a trap or a malformed record is fine: bad input must only ever be an
/// `IngestError`.
public enum IngestFuzzing {
    /// Problems found (empty when the input was handled correctly). The fuzz target traps on
    /// any, so libFuzzer records the input; the tests expect none.
    public static func run(_ bytes: UnsafeRawBufferPointer) -> [String] {
        if bytes.first == 0x01 {
            return run(bodies: numericBodies(bytes.dropFirst()))
        }
        return run(bodies: bytes.split(separator: 0, omittingEmptySubsequences: true).map(Array.init))
    }

    /// Bodies from (bytes, packets) double pairs, timestamps one second apart.
    static func numericBodies(_ bytes: Slice<UnsafeRawBufferPointer>) -> [[UInt8]] {
        let raw = Array(bytes)
        var bodies: [[UInt8]] = []
        var offset = 0
        while offset + 16 <= raw.count, bodies.count < 64 {
            var bits: (UInt64, UInt64) = (0, 0)
            for index in 0..<8 {
                bits.0 |= UInt64(raw[offset + index]) << (8 * UInt64(index))
                bits.1 |= UInt64(raw[offset + 8 + index]) << (8 * UInt64(index))
            }
            offset += 16
            // Swift prints finite doubles as JSON numbers (1e+30); NaN and infinities as null.
            func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
            let (counter, packets) = (json(Double(bitPattern: bits.0)), json(Double(bitPattern: bits.1)))
            let ts = 1_700_000_000_000 + bodies.count * 1000
            let stats = [
                #"{"id":"O","type":"outbound-rtp","timestamp":\#(ts),"kind":"audio","bytesSent":\#(counter),"packetsSent":\#(packets)}"#,
                #"{"id":"I","type":"inbound-rtp","timestamp":\#(ts),"kind":"video","bytesReceived":\#(counter),"packetsReceived":\#(packets),"packetsLost":\#(packets),"jitter":\#(packets),"jitterBufferDelay":\#(counter),"jitterBufferEmittedCount":\#(packets),"frameWidth":\#(packets),"frameHeight":\#(packets)}"#,
                #"{"id":"R","type":"remote-inbound-rtp","timestamp":\#(ts),"kind":"audio","localId":"O","packetsLost":\#(packets),"jitter":\#(packets),"roundTripTime":\#(packets),"roundTripTimeMeasurements":1}"#,
            ]
            let body = #"{"samples":[{"seq":\#(bodies.count + 1),"ts":\#(ts),"pc":"pc","stats":[\#(stats.joined(separator: ","))]}]}"#
            bodies.append(Array(body.utf8))
        }
        return bodies
    }

    static func run(bodies: [[UInt8]]) -> [String] {
        let registry = RoomRegistry()
        var problems: [String] = []
        var arrival = 0.0
        func render(_ when: String) {
            for room in registry.liveRooms + registry.endedRooms {
                let json = RoomRecord.json(room, publicURL: "http://localhost", includeState: true)
                if !JSONValidation.isValid(Array(json.utf8)) { problems.append("\(when): malformed record \(json.prefix(2000))") }
            }
        }
        for (index, body) in bodies.enumerated() {
            // A body the decoder refuses is a correct outcome for garbage: ignore its error.
            guard let batch = try? IngestDecoder.decode(body) else { continue }  // ignore: see above
            // Each body arrives after the previous one, near its own timestamps (clamped: the
            // decoder bounds them already; arrival must stay ordered for the peer).
            arrival = max(arrival + 50, clamped(batch.latestTimestamp ?? 0) + 50)
            // Refused (room full, keys over budget) is a correct outcome too: ignore it.
            _ = try? registry.ingest(roomID: "fuzz", peerID: "peer", batch: batch, arrival: arrival, userAgent: nil)  // ignore: see above
            render("after body \(index)")
        }
        _ = registry.leave(roomID: "fuzz", peerID: "peer", arrival: arrival + 1000)
        registry.expire(now: arrival + 1e9)
        render("after the room ended")
        return problems
    }

    static func clamped(_ value: Double) -> Double { value.isFinite ? min(max(value, -1e15), 1e15) : 0 }
}
