import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamIngest
import Testing
import TestSupport

/// Room records against docs/room-record.schema.json and the stable-type rules of docs/bi.md
/// (scripts/validate-records.py, PyPI jsonschema): the real browser captures, and rooms made
/// to reach the corners (no video, ratings, list-valued keys, locations, a single figure).
struct RecordSchemaTests {
    static let scripts = BIQueriesTests.scripts

    static func records() throws -> [String] {
        let registry = RoomRegistry()
        var rooms: [String] = []
        if SharedData.runnable {
            for name in ["direct-chrome156", "lossy-turn-udp-chrome156", "rtcstats-firefox-standard-stats-sfu", "rtcstats-safari-standard-stats"] {
                let text = try String(contentsOf: SharedData.captures.appendingPathComponent("\(name).ndjson"), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    guard let peer = object["peer"] as? String else { continue }
                    let batch = try IngestDecoder.decode(Array(try JSONSerialization.data(withJSONObject: try #require(object["body"]))))
                    _ = try registry.ingest(roomID: name, peerID: peer, batch: batch, arrival: (batch.latestTimestamp ?? 0) + 50, userAgent: nil)
                }
            }
        }
        // Corners: a rating and list-valued keys; an audio-only peer; a located peer.
        var rated = try IngestDecoder.decode(Array(IngestRoutesTests.sample.utf8))
        rated.userRating = 4
        rated.location = PeerLocation(city: "Stockholm", country: "Sweden", organization: nil)
        _ = try registry.ingest(roomID: "corners", peerID: "rated", batch: rated, arrival: 1_700_000_002_000, userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36")
        let quiet = try IngestDecoder.decode(Array(#"{"events":[{"ts":1700000000000,"type":"pc_created","pc":"x"}]}"#.utf8))
        _ = try registry.ingest(roomID: "corners", peerID: "quiet", batch: quiet, arrival: 1_700_000_001_000, userAgent: nil)
        for room in registry.liveRooms { rooms.append(RoomRecord.json(room, publicURL: "https://stats.example.com")) }
        return rooms
    }

    @Test(.enabled(if: BIQueriesTests.runnable, "needs jsonschema from PyPI (make test installs it)"),
          .enabled(if: !Sanitizer.isActive, "a CPU-heavy integration test (JSON, Python, files); under a sanitizer it starves the 2-core machine's test pool, and the sanitizer runs are for the service's own threads and memory"))
    func everyRecordMatchesTheSchemaAndItsTypesAreStable() async throws {
        let records = try Self.records()
        #expect(records.count >= 1)
        let path = NSTemporaryDirectory() + "roomstream-records-\(UUID().uuidString).json"
        try Data(("[\n" + records.joined(separator: ",\n") + "\n]\n").utf8).write(to: URL(fileURLWithPath: path))
        let validate = try ChildProcess("/usr/bin/env", ["python3", "\(Self.scripts)/validate-records.py", path])
        #expect(await validate.exited() == 0, "\(validate.stdout)\(validate.stderr)")
        // The rule itself, on the writer: fractional figures keep a decimal point when whole.
        var writer = JSONWriter()
        writer.beginArray()
        writer.number(4, decimals: 2)
        writer.number(0, decimals: 1)
        writer.number(3.25, decimals: 1)
        writer.number(7, decimals: 0)
        writer.integer(12.4)
        writer.endArray()
        #expect(writer.text == "[4.0,0.0,3.3,7,12]")
    }
}
