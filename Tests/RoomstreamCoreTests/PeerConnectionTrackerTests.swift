@testable import RoomstreamCore
import Testing

/// metrics.md interval rules on hand-made reports.
struct PeerConnectionTrackerTests {
    static func report(at ts: Double, sent: (bytes: Double, packets: Double)? = nil, received: (bytes: Double, packets: Double, lost: Double, jitter: Double)? = nil,
                       remote: (lost: Double?, jitter: Double?, rtt: Double?)? = nil, kind: MediaKind = .audio, id: String = "1") -> StatsReport {
        var report = StatsReport()
        if let sent { report.outbound = [OutboundRTP(id: "O\(id)", timestamp: ts, kind: kind, bytesSent: sent.bytes, packetsSent: sent.packets)] }
        if let received {
            var stream = InboundRTP(id: "I\(id)", timestamp: ts, kind: kind)
            stream.bytesReceived = received.bytes
            stream.packetsReceived = received.packets
            stream.packetsLost = received.lost
            stream.jitter = received.jitter
            report.inbound = [stream]
        }
        if let remote {
            var stream = RemoteInboundRTP(id: "R\(id)", timestamp: ts, kind: kind)
            stream.localId = "O\(id)"
            stream.packetsLost = remote.lost
            stream.jitter = remote.jitter
            stream.roundTripTime = remote.rtt
            stream.roundTripTimeMeasurements = remote.rtt == nil ? nil : 1
            report.remoteInbound = [stream]
        }
        return report
    }

    func figures(_ reports: [StatsReport], pcs: [String]? = nil) -> PeerFigures {
        var trackers: [String: PeerConnectionTracker] = [:]
        var media = [MediaAccumulator](repeating: MediaAccumulator(), count: 4)
        for (index, report) in reports.enumerated() {
            let pc = pcs?[index] ?? "pc"
            let (_, contributions) = trackers[pc, default: PeerConnectionTracker()].apply(report)
            for slot in 0..<4 { media[slot].add(contributions[slot]) }
        }
        return PeerFigures(media: media, callSetupMilliseconds: nil)
    }

    @Test func bitrateLossJitterRTTOverTwoIntervals() {
        let f = figures([
            Self.report(at: 0, sent: (0, 0), received: (0, 0, 0, 0.010), remote: (0, 0.004, 0.100)),
            Self.report(at: 1000, sent: (5000, 50), received: (10_000, 98, 2, 0.010), remote: (1, 0.004, 0.100)),
            Self.report(at: 3000, sent: (15_000, 150), received: (20_000, 196, 4, 0.020), remote: (3, 0.008, 0.200)),
        ])
        #expect(abs((f.audio.send.bitrateKbps ?? 0) - 40) < 1e-9)  // 15 000 bytes over 3 active seconds
        #expect(f.audio.recv.bitrateKbps == 20_000 * 8 / 3.0 / 1000)
        #expect(f.audio.send.packetLossPercent == 3.0 / 150 * 100)
        #expect(abs((f.audio.recv.packetLossPercent ?? 0) - 4.0 / 200 * 100) < 1e-9)
        // Time-weighted: 1 s at 10 ms, 2 s at 20 ms.
        #expect(abs((f.audio.recv.jitterMilliseconds ?? 0) - (10 + 2 * 20) / 3.0) < 1e-9)
        #expect(abs((f.audio.send.rttMilliseconds ?? 0) - (100 + 2 * 200) / 3.0) < 1e-9)
        #expect(f.video.send.bitrateKbps == nil)
    }

    @Test func counterGoingDownStartsANewBaseline() {
        let f = figures([
            Self.report(at: 0, sent: (0, 0)),
            Self.report(at: 1000, sent: (10_000, 100)),
            Self.report(at: 2000, sent: (500, 5)),  // SSRC change: this interval counts nothing
            Self.report(at: 3000, sent: (10_500, 105)),
        ])
        #expect(f.audio.send.bitrateKbps == 20_000 * 8 / 2.0 / 1000)
    }

    /// metrics.md "Garbage and resets": a step implying more than 100 Gbit/s or 10 M packets/s
    /// (or a lost count rising faster than that) is a new baseline; the next steps count again.
    @Test(arguments: [
        (bytes: 1e15, packets: 10.0, lost: 1.0),       // bytes jump (the decoder already drops counters above 2^53)
        (bytes: 2000.0, packets: 1e12, lost: 1.0),     // packets jump
        (bytes: 12.6e9, packets: 20.0, lost: 1.0),     // just over 100 Gbit/s for one second
    ])
    func implausibleCounterStepsAreAResetNotMedia(_ jump: (bytes: Double, packets: Double, lost: Double)) {
        let f = figures([
            Self.report(at: 0, sent: (0, 0), received: (0, 0, 0, 0.01)),
            Self.report(at: 1000, sent: (jump.bytes, jump.packets), received: (jump.bytes, jump.packets, jump.lost, 0.01)),
            Self.report(at: 2000, sent: (jump.bytes + 5000, jump.packets + 50), received: (jump.bytes + 5000, jump.packets + 50, jump.lost + 1, 0.01)),
        ])
        #expect(f.audio.send.bitrateKbps == 40)  // only the last second: 5000 bytes
        #expect(f.audio.recv.bitrateKbps == 40)
        #expect(f.audio.recv.packetLossPercent == 1.0 / 51 * 100)
    }

    @Test func lostCountRisingFasterThanAnyStreamIsIgnoredForThatInterval() {
        let f = figures([
            Self.report(at: 0, received: (0, 0, 0, 0.01)),
            Self.report(at: 1000, received: (5000, 50, 1e9, 0.01)),
            Self.report(at: 2000, received: (10_000, 100, 1e9 + 2, 0.01)),
        ])
        #expect(f.audio.recv.bitrateKbps == 40)
        #expect(f.audio.recv.packetLossPercent == 2.0 / 52 * 100)
    }

    @Test func idleIntervalsDoNotPullTheBitrateDown() {
        let f = figures([
            Self.report(at: 0, sent: (0, 0)),
            Self.report(at: 1000, sent: (10_000, 100)),
            Self.report(at: 5000, sent: (10_000, 100)),  // muted for 4 s
            Self.report(at: 6000, sent: (20_000, 200)),
        ])
        #expect(f.audio.send.bitrateKbps == 80)
    }

    @Test func missingFieldsLeaveFiguresUnknownNotZero() {
        let f = figures([
            Self.report(at: 0, sent: (0, 0), remote: (nil, nil, nil)),
            Self.report(at: 1000, sent: (1000, 10), remote: (nil, nil, nil)),
        ])
        #expect(f.audio.send.bitrateKbps == 8)
        #expect(f.audio.send.packetLossPercent == nil)
        #expect(f.audio.send.jitterMilliseconds == nil)
        #expect(f.audio.send.rttMilliseconds == nil)
        #expect(f.audio.recv.bitrateKbps == nil)
    }

    @Test func negativeLostDeltaCountsAsZero() {
        let f = figures([
            Self.report(at: 0, received: (0, 0, 5, 0)),
            Self.report(at: 1000, received: (1000, 100, 3, 0)),  // duplicates lowered packetsLost
        ])
        #expect(f.audio.recv.packetLossPercent == 0)
    }

    @Test func twoPeerConnectionsSendingAtOnceShareTheirSeconds() {
        let f = figures([
            Self.report(at: 0, sent: (0, 0), kind: .video),
            Self.report(at: 0, sent: (0, 0), kind: .video),
            Self.report(at: 1000, sent: (100_000, 100), kind: .video),
            Self.report(at: 1000, sent: (100_000, 100), kind: .video),
        ], pcs: ["a", "b", "a", "b"])
        // 200 000 bytes over the same single second: 1600 kbit/s, not 800.
        #expect(f.video.send.bitrateKbps == 1600)
    }

    @Test func unmeasuredRemoteRTTFallsBackToTheCandidatePair() {
        var first = Self.report(at: 0, sent: (0, 0), remote: (0, 0, 0))
        var second = Self.report(at: 1000, sent: (1000, 10), remote: (0, 0, 0))
        for index in [0, 1] {
            var pair = CandidatePair(id: "CP", timestamp: Double(index) * 1000)
            pair.selected = true
            pair.currentRoundTripTime = 0.05
            if index == 0 { first.candidatePairs = [pair] } else { second.candidatePairs = [pair] }
        }
        second.remoteInbound[0].roundTripTimeMeasurements = 0
        #expect(figures([first, second]).audio.send.rttMilliseconds == 50)
    }

    @Test func activeTimeUnionMergesOverlaps() {
        var union = ActiveTimeUnion()
        union.add(start: 0, end: 1000)
        union.add(start: 500, end: 1500)
        union.add(start: 3000, end: 4000)
        union.add(start: 1500, end: 2000)
        #expect(union.totalSeconds == 3)
    }

    @Test func sequenceWindow() {
        var window = SequenceWindow()
        let results = [5, 5, 3, 400, 3, 399, 399].map { window.accept(Int64($0)) }
        // 3 after 400 is older than the window: too old to tell, treated as a duplicate.
        #expect(results == [true, false, true, true, false, true, false])
    }
}
