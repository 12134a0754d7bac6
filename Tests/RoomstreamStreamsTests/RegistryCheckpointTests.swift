import Foundation
import RoomstreamCore
@testable import RoomstreamStreams
import Testing

/// The live state survives a checkpoint exactly: a restored registry renders the same records
/// and, fed the same next requests, keeps computing the same figures.
struct RegistryCheckpointTests {
    static let t0 = 1_700_000_000_000.0

    /// A rich request: media both ways with loss, jitter, rtt, codecs and frame sizes, a
    /// selected candidate pair, events, keys and devices.
    static func batch(_ seq: Int64, at ts: Double, scale: Double) -> IngestBatch {
        var report = StatsReport()
        report.outbound = [OutboundRTP(id: "O1", timestamp: ts, kind: .audio, bytesSent: 1000 * scale, packetsSent: 10 * scale, codecId: "C1"),
                           OutboundRTP(id: "O2", timestamp: ts, kind: .video, bytesSent: 90_000 * scale, packetsSent: 80 * scale)]
        var inbound = InboundRTP(id: "I1", timestamp: ts, kind: .audio)
        inbound.bytesReceived = 1200 * scale
        inbound.packetsReceived = 12 * scale
        inbound.packetsLost = scale / 2
        inbound.jitter = 0.01 + scale / 10_000
        inbound.jitterBufferDelay = 0.05 * scale
        inbound.jitterBufferEmittedCount = 480 * scale
        inbound.codecId = "C1"
        var video = InboundRTP(id: "I2", timestamp: ts, kind: .video)
        video.bytesReceived = 80_000 * scale
        video.packetsReceived = 70 * scale
        video.frameWidth = 640
        video.frameHeight = 480
        report.inbound = [inbound, video]
        var remote = RemoteInboundRTP(id: "R1", timestamp: ts, kind: .audio)
        remote.localId = "O1"
        remote.packetsLost = scale / 4
        remote.jitter = 0.02
        remote.roundTripTime = 0.05 + scale / 100_000
        remote.roundTripTimeMeasurements = scale
        report.remoteInbound = [remote]
        var pair = CandidatePair(id: "P1", timestamp: ts)
        pair.selected = true
        pair.localCandidateId = "L1"
        pair.currentRoundTripTime = 0.04
        report.candidatePairs = [pair]
        var local = LocalCandidate(id: "L1")
        local.candidateType = "relay"
        local.relayProtocol = "udp"
        report.localCandidates = [local]
        var codec = Codec(id: "C1")
        codec.mimeType = "audio/opus"
        report.codecs = [codec]
        var batch = IngestBatch()
        batch.samples = [IngestBatch.Sample(seq: seq, ts: ts, pc: "pc1", report: report)]
        if seq == 1 {
            batch.events = [.init(ts: ts - 900, kind: .pcCreated, pc: "pc1"), .init(ts: ts - 400, kind: .connectionState("connected"), pc: "pc1")]
            batch.keys = [(name: "tier", value: .string("gold")), (name: "servers", value: .strings(["sfu-1", "sfu-2"]))]
            batch.audioDevice = "Mic"
            batch.userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
            batch.userRating = 4
        }
        return batch
    }

    static func feed(_ registry: RoomRegistry, seqs: ClosedRange<Int64>) throws {
        for seq in seqs {
            for (room, peer) in [("call-1", "alice"), ("call-1", "bob"), ("call-2", "carol")] {
                let ts = t0 + Double(seq) * 1000
                _ = try registry.ingest(roomID: room, peerID: peer, batch: batch(seq, at: ts, scale: Double(seq * seq)), arrival: ts + 20, userAgent: nil)
            }
        }
    }

    static func records(_ registry: RoomRegistry) -> [String] {
        (registry.liveRooms + registry.endedRooms).map { RoomRecord.json($0, publicURL: "http://x", includeState: true) }.sorted()
    }

    @Test func aRestoredRegistryContinuesExactly() throws {
        let data = NSTemporaryDirectory() + "roomstream-checkpoint-\(UUID().uuidString)"
        let original = RoomRegistry()
        try Self.feed(original, seqs: 1...5)
        _ = try original.ingest(roomID: "short", peerID: "p", batch: Self.batch(1, at: Self.t0, scale: 1), arrival: Self.t0, userAgent: nil)
        _ = original.leave(roomID: "short", peerID: "p", arrival: Self.t0 + 500)  // ended, not yet journaled
        let checkpoint = RegistryCheckpoint(dataDirectory: data)
        try checkpoint.write(original, now: Self.t0)
        let restored = RoomRegistry(restoring: try #require(try checkpoint.load()))
        #expect(Self.records(restored) == Self.records(original))
        #expect(restored.livePeerCount == original.livePeerCount)
        #expect(restored.takeNewlyEnded().map(\.id) == ["short"])

        // The same next requests give the same figures: every accumulator came back.
        try Self.feed(original, seqs: 6...9)
        try Self.feed(restored, seqs: 6...9)
        #expect(Self.records(restored) == Self.records(original))
        // Duplicates are still recognized (the seq window came back).
        #expect(try restored.ingest(roomID: "call-1", peerID: "alice", batch: Self.batch(9, at: Self.t0 + 9000, scale: 81), arrival: Self.t0 + 9100, userAgent: nil).duplicates == 1)
        // And silence still ends the rooms (expiry entries were rebuilt).
        #expect(Set(restored.expire(now: Self.t0 + 9100 + 30_000).map(\.id)) == ["call-1", "call-2"])
    }

    @Test func noCheckpointIsNilAndAnUnreadableOneRefusesToStart() throws {
        let data = NSTemporaryDirectory() + "roomstream-checkpoint-\(UUID().uuidString)"
        let checkpoint = RegistryCheckpoint(dataDirectory: data)
        #expect(try checkpoint.load() == nil)
        try FileManager.default.createDirectory(atPath: data + "/rooms", withIntermediateDirectories: true)
        try Data("{\"version\":1,\"saved_at\":0,\"registry\":{\"li".utf8).write(to: URL(fileURLWithPath: checkpoint.path))
        #expect { _ = try checkpoint.load() } throws: { "\($0)".contains("move it aside") }
    }
}
