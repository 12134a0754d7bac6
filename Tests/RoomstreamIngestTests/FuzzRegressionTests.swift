import Foundation
import RoomstreamCore
import RoomstreamIngest
import Testing

/// Inputs the fuzzers found (Fuzz/regressions) and the seed corpus, through the whole path:
/// decode, apply, build the record. Each must give a result or an IngestError, never a trap.
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var inputs: [String] {
        ["Fuzz/regressions", "Fuzz/corpus/ingest"].flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(directory).path)) ?? [])
                .filter { !$0.hasPrefix(".") }.map { "\(directory)/\($0)" }
        }.sorted()
    }

    @Test(arguments: inputs)
    func replay(_ path: String) throws {
        let bytes = try Array(Data(contentsOf: Self.root.appendingPathComponent(path)))
        guard let batch = try? IngestDecoder.decode(bytes) else { return }
        let registry = RoomRegistry()
        _ = try? registry.ingest(roomID: "r", peerID: "p", batch: batch, arrival: (batch.latestTimestamp ?? 0) + 50, userAgent: nil)
        for room in registry.liveRooms + registry.endedRooms {
            #expect(!RoomRecord.json(room, publicURL: "http://x", includeState: true).isEmpty)
        }
    }
}
