import Foundation
import TestSupport
@testable import RoomstreamCore
import Testing

/// The live-state bound counts real memory: the registry's `liveStateBytes` against glibc's
/// own count of allocated bytes (`rs_malloc_in_use_bytes()`) while 20,000 varied peers go live.
@Suite(.serialized) struct MemoryFootprintTests {
    /// One sample with a growing audio counter, and a custom key on the first.
    static func batch(peer: Int, seq: Int64) -> IngestBatch {
        let ts = 1_700_000_000_000.0 + Double(seq) * 1000
        var report = StatsReport()
        report.outbound = [OutboundRTP(id: "RTCOutboundRTPAudioStream_\(peer)", timestamp: ts, kind: .audio, bytesSent: Double(seq) * 4000, packetsSent: Double(seq) * 50)]
        var batch = IngestBatch()
        batch.samples = [IngestBatch.Sample(seq: seq, ts: ts, pc: "pc", report: report)]
        if seq == 1 { batch.keys = [(name: "customer", value: .string("customer-\(peer)-with-a-long-name"))] }
        return batch
    }

    /// In a child process (`roomstream-footprint-probe`): other tests allocate concurrently in
    /// this one, and glibc's counters are per arena, not per test.
    @Test(.enabled(if: !Sanitizer.isActive, "a sanitizer's allocator replaces malloc, so mallinfo2 does not see the allocations"))
    func accountedBytesTrackTheAllocator() throws {
        let probe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("roomstream-footprint-probe")
        let child = try ChildProcess(probe.path, [])
        #expect(child.wait() == 0)
        let fields = child.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let (accounted, allocated) = (try #require(fields.first), try #require(fields.last))
        // Measured: 0.99.
        #expect(accounted / allocated > 0.9 && accounted / allocated < 1.1, "accounted \(Int(accounted)) B, allocated \(Int(allocated)) B")
    }

    @Test func theBoundRefusesNewPeersAndLetsLiveOnesContinue() throws {
        var configuration = RoomRegistryConfiguration()
        configuration.maxLiveStateBytes = 200_000
        let registry = RoomRegistry(configuration: configuration)
        var admitted = 0
        var refusal: RoomError?
        for peer in 0..<10_000 where refusal == nil {
            do {
                _ = try registry.ingest(roomID: "r\(peer)", peerID: "p", batch: Self.batch(peer: peer, seq: 1), arrival: 1_700_000_000_000, userAgent: nil)
                admitted += 1
            } catch {
                refusal = error
            }
        }
        #expect(refusal == .liveStateFull(limitBytes: 200_000))
        #expect(admitted > 50)
        #expect(registry.liveStateBytes >= 200_000 && registry.liveStateBytes < 220_000)
        // A peer already live keeps reporting.
        #expect(try registry.ingest(roomID: "r0", peerID: "p", batch: Self.batch(peer: 0, seq: 2), arrival: 1_700_000_001_000, userAgent: nil).accepted == 1)
        // Rooms ending give the room back (all but the live dictionary's buckets, which stay).
        registry.expire(now: 1_700_000_000_000 + 3_600_000)
        #expect(registry.liveStateBytes < 200_000 / 4)
        #expect(try registry.ingest(roomID: "new", peerID: "p", batch: Self.batch(peer: 1, seq: 1), arrival: 1_700_003_700_000, userAgent: nil).accepted == 1)
    }
}
