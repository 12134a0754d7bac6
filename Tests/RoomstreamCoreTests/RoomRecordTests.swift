import Foundation
@testable import RoomstreamCore
import Testing

struct RoomRecordTests {
    @Test(arguments: [
        (1.25, 1, 1.3), (-1.25, 1, -1.3), (2.5, 0, 3.0), (-2.5, 0, -3.0), (4.349, 2, 4.35), (0.04, 1, 0.0), (3.6, 1, 3.6),
    ])
    func roundsHalfAwayFromZero(_ value: Double, _ decimals: Int, _ expected: Double) {
        #expect(RoomRecord.round(value, decimals: decimals) == expected)
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"), (1_662_250_162_885, "2022-09-04T00:09:22.885Z"),
        (951_782_400_001, "2000-02-29T00:00:00.001Z"), (1_798_761_599_999, "2026-12-31T23:59:59.999Z"),
    ])
    func isoTimestamps(_ millis: Double, _ text: String) {
        #expect(ISO8601Milliseconds.format(millis) == text)
        #expect(ISO8601Milliseconds.parse(text) == millis)
    }

    @Test func rejectsMalformedTimestamps() {
        for text in ["2022-09-04T00:09:22Z", "2022-13-04T00:09:22.885Z", "2022-09-04 00:09:22.885Z", ""] {
            #expect(ISO8601Milliseconds.parse(text) == nil)
        }
    }

    @Test func combinedValuesAreTheMeanOfKnownDirections() {
        var kind = KindFigures()
        kind.send.bitrateKbps = 13
        kind.recv.bitrateKbps = 24
        kind.send.packetLossPercent = 3.6
        kind.recv.packetLossPercent = 0.1
        kind.recv.jitterMilliseconds = 4
        #expect(kind.bitrateKbps == 18.5)
        #expect(RoomRecord.round(kind.packetLossPercent ?? -1, decimals: 1) == 1.9)  // spec example
        #expect(kind.jitterMilliseconds == 4)  // only one direction known
        #expect(KindFigures().bitrateKbps == nil)
    }

    /// The writer is total: no Double traps it, and every output is a JSON number or null.
    @Test(arguments: [
        Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude, 9.3e18, -9.3e18, 1e30, 8e27, 9_007_199_254_740_994,
        9_007_199_254_740_991.4, 1e15 + 0.5, .nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, 1e-300, 0.5, -2.5,
    ])
    func writerIsTotalOnEveryDouble(_ value: Double) throws {
        for decimals in [nil, 0, 1, 2, 3] as [Int?] {
            var writer = JSONWriter()
            writer.beginArray()
            if let decimals { writer.number(value, decimals: decimals) } else { writer.integer(value) }
            writer.endArray()
            let parsed = try JSONSerialization.jsonObject(with: Data(writer.text.utf8)) as? [Any]
            let element = try #require(parsed?.first, "\(writer.text)")
            if value.isFinite {
                let number = try #require(element as? NSNumber, "\(writer.text)").doubleValue
                #expect(abs(number - value) <= max(1, abs(value) * 1e-15), "\(writer.text) for \(value)")
            } else {
                #expect(element is NSNull, "\(writer.text)")
            }
        }
    }

    @Test func writerPlacesCommasAndRoundsNumbers() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a"); writer.number(4.349, decimals: 2)
        writer.key("b"); writer.number(6.0, decimals: 1)
        writer.key("c"); writer.integer(nil)
        writer.key("d"); writer.beginArray(); writer.string("x\"y"); writer.integer(2.5); writer.endArray()
        writer.key("e"); writer.beginObject(); writer.endObject()
        writer.endObject()
        #expect(writer.text == #"{"a":4.35,"b":6.0,"c":null,"d":["x\"y",3],"e":{}}"#)
    }

    @Test(arguments: [("room 1", "room%201"), ("a/b?c", "a%2Fb%3Fc"), ("é", "%C3%A9"), ("2022-09-04T00:09:22.885Z", "2022-09-04T00%3A09%3A22.885Z")])
    func percentEncoding(_ text: String, _ expected: String) {
        #expect(TextFormat.percentEncode(text) == expected)
    }
}

/// The whole record for a small synthetic room: every key, its nesting and order, rounding and nulls.
struct RoomRecordShapeTests {
    @Test func recordOfASmallRoomHasTheSpecShape() throws {
        let registry = RoomRegistry()
        let t0 = 1_662_250_162_885.0
        var batch = IngestBatch()
        batch.sdkVersion = "1.0.0"
        batch.userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.5005.61 Safari/537.36"
        batch.keys = [("tier", .string("gold")), ("servers", .strings(["sfu-1", "sfu-2"]))]
        batch.audioDevice = "Mic"
        batch.userRating = 4
        batch.events = [.init(ts: t0, kind: .pcCreated, pc: "pc1"), .init(ts: t0 + 900, kind: .connectionState("connected"), pc: "pc1")]
        func report(_ ts: Double, _ bytes: Double, _ packets: Double, _ lost: Double) -> StatsReport {
            var report = StatsReport()
            report.outbound = [OutboundRTP(id: "OA", timestamp: ts, kind: .audio, bytesSent: bytes, packetsSent: packets)]
            var remote = RemoteInboundRTP(id: "RA", timestamp: ts, kind: .audio)
            remote.localId = "OA"
            remote.packetsLost = lost
            remote.jitter = 0.006
            remote.roundTripTime = 0.1
            remote.roundTripTimeMeasurements = 1
            report.remoteInbound = [remote]
            return report
        }
        batch.samples = [
            .init(seq: 1, ts: t0 + 1000, pc: "pc1", report: report(t0 + 1000, 0, 0, 0)),
            .init(seq: 2, ts: t0 + 3000, pc: "pc1", report: report(t0 + 3000, 8000, 100, 2)),
        ]
        batch.events.append(.init(ts: t0 + 3000, kind: .leave))
        _ = try registry.ingest(roomID: "room 1", peerID: "alice", batch: batch, arrival: t0 + 3000, userAgent: nil)
        let room = try #require(registry.room(id: "room 1"))
        let json = RoomRecord.json(room, publicURL: "https://stats.example.com")
        // 8000 bytes over 2 s: 32 kbit/s; loss 2/100 = 2 %; jitter 6 ms; rtt 100 ms.
        let mos = RoomRecord.round(AudioMOS.mos(rttMilliseconds: 100, jitterBufferMilliseconds: 12, lossPercent: 2), decimals: 2)
        let score = RoomRecord.round(MediaScore.score(.init(audioLossPercent: 2, rttMilliseconds: 100, jitterMilliseconds: 6)), decimals: 1)
        // Fractional figures keep a decimal point when whole (docs/bi.md, "Stable types").
        func n(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) + ".0" : "\(value)" }
        let expected = """
        {"room_url":"https://stats.example.com/v1/rooms/room%201?start=2022-09-04T00%3A09%3A22.885Z","room_id":"room 1",\
        "start_time":"2022-09-04T00:09:22.885Z","end_time":"2022-09-04T00:09:25.885Z","duration":3,"users":1,\
        "stats":{"mos":\(n(mos)),"score":\(n(score)),"user":4.0,"call_setup_time":900,\
        "audio":{"send":{"bitrate":32,"packet_loss":2.0,"jitter":6,"rtt":100},"recv":{"bitrate":null,"packet_loss":null,"jitter":null},"bitrate":32,"packet_loss":2.0,"jitter":6},\
        "video":{"send":{"bitrate":null,"packet_loss":null,"jitter":null,"rtt":null},"recv":{"bitrate":null,"packet_loss":null,"jitter":null},"bitrate":null,"packet_loss":null,"jitter":null}},\
        "peers":[{"peer_id":"alice","os":"Linux","os_version":"64-bit","browser":"Chrome","browser_version":"102.0.5005.61",\
        "location":{"city":null,"country":null,"organization":null},"sdk_version":"1.0.0","start_time":"2022-09-04T00:09:22.885Z","duration":3,\
        "keys":{"tier":"gold","servers":["sfu-1","sfu-2"]},"features":{"connection_type":null,"media_transport":null},\
        "stats":{"mos":\(n(mos)),"score":\(n(score)),"call_setup_time":900,\
        "audio":{"send":{"mos":\(n(mos)),"score":\(n(score)),"bitrate":32,"packet_loss":2.0,"jitter":6,"rtt":100},"recv":{"mos":null,"score":null,"bitrate":null,"packet_loss":null,"jitter":null},"bitrate":32,"packet_loss":2.0,"jitter":6},\
        "video":{"send":{"mos":null,"bitrate":null,"packet_loss":null,"jitter":null,"rtt":null},"recv":{"mos":null,"bitrate":null,"packet_loss":null,"jitter":null},"bitrate":null,"packet_loss":null,"jitter":null}},\
        "audio_device":"Mic","video_device":null}]}
        """
        #expect(json == expected)
    }
}
