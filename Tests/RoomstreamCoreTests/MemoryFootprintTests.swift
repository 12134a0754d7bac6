import CMallocStats
@testable import RoomstreamCore
import Testing

/// The live-state bound counts real memory: the registry's `liveStateBytes` against glibc's
/// own count of allocated bytes (`rs_malloc_in_use_bytes()`) while 20,000 varied peers go live.
@Suite(.serialized) struct MemoryFootprintTests {
    static func batch(peer: Int, seq: Int64) -> IngestBatch {
        let ts = 1_700_000_000_000.0 + Double(seq) * 1000
        var report = StatsReport()
        report.outbound = [OutboundRTP(id: "RTCOutboundRTPAudioStream_\(peer)", timestamp: ts, kind: .audio, bytesSent: Double(seq) * 4000, packetsSent: Double(seq) * 50),
                           OutboundRTP(id: "RTCOutboundRTPVideoStream_\(peer)", timestamp: ts, kind: .video, bytesSent: Double(seq) * 90_000, packetsSent: Double(seq) * 80)]
        var inbound = InboundRTP(id: "RTCInboundRTPAudioStream_\(peer)", timestamp: ts, kind: .audio)
        inbound.bytesReceived = Double(seq) * 4000
        inbound.packetsReceived = Double(seq) * 50
        report.inbound = [inbound]
        var batch = IngestBatch()
        batch.samples = [IngestBatch.Sample(seq: seq, ts: ts, pc: "pc-\(peer % 3)-with-a-long-identifier", report: report)]
        if seq == 1 {
            batch.keys = [(name: "customer_tier", value: .string(String(repeating: "g", count: peer % 40))),
                          (name: "servers", value: .strings(["sfu-\(peer)", "turn-eu-west-\(peer)"]))]
            batch.audioDevice = "Built-in Microphone (\(peer))"
            batch.sdkVersion = "roomstream-sdk/1.4.\(peer % 7)"
            batch.events = [.init(ts: ts - 500, kind: .pcCreated, pc: "pc-\(peer % 3)-with-a-long-identifier")]
        }
        return batch
    }

    @Test func accountedBytesTrackTheAllocator() throws {
        let registry = RoomRegistry()
        let before = rs_malloc_in_use_bytes()
        let peers = 20_000
        for peer in 0..<peers {
            for seq in Int64(1)...3 {
                _ = try registry.ingest(roomID: "room-\(peer / 4)-of-the-footprint-test", peerID: "peer-\(peer)", batch: Self.batch(peer: peer, seq: seq),
                                        arrival: 1_700_000_000_000.0 + Double(seq) * 1000, userAgent: nil)
            }
        }
        let allocated = Double(rs_malloc_in_use_bytes()) - Double(before)
        let accounted = Double(registry.liveStateBytes)
        // Measured: 0.99. Other tests run concurrently in this process and allocate too, hence
        // the band.
        #expect(accounted / allocated > 0.85 && accounted / allocated < 1.15, "accounted \(Int(accounted)) B, allocated \(Int(allocated)) B")
        #expect(registry.livePeerCount == peers)
        withExtendedLifetime(registry) {}
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
        #expect(registry.liveStateBytes < 20_000)
        #expect(try registry.ingest(roomID: "new", peerID: "p", batch: Self.batch(peer: 1, seq: 1), arrival: 1_700_003_700_000, userAgent: nil).accepted == 2)
    }
}
