// The live-state accounting against the allocator, alone in its process: prints the bytes the
// registry accounts and the bytes glibc's malloc handed out (mallinfo2) while 20,000 varied
// peers go live. Run by MemoryFootprintTests.
import CMallocStats
import RoomstreamCore

enum Probe {
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

}

let registry = RoomRegistry()
let before = rs_malloc_in_use_bytes()
for peer in 0..<20_000 {
    for seq in Int64(1)...3 {
        _ = try registry.ingest(roomID: "room-\(peer / 4)-of-the-footprint-test", peerID: "peer-\(peer)", batch: Probe.batch(peer: peer, seq: seq),
                                arrival: 1_700_000_000_000.0 + Double(seq) * 1000, userAgent: nil)
    }
}
let allocated = Int(rs_malloc_in_use_bytes()) - Int(before)
print(registry.liveStateBytes, allocated)
