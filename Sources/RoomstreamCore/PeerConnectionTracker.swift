/// The previous counters of one peer connection's streams, so each new report yields the
/// interval since the last one (metrics.md, "Per interval"). Stats ids are unique only within
/// a peer connection, hence one tracker per `pc`.
struct PeerConnectionTracker: Sendable {
    /// Streams remembered per peer connection; beyond it new stream ids are ignored (their
    /// media does not count), which no real call reaches.
    static let maxStreams = 64

    struct SendCounters { var timestamp: Double; var bytes: Double?; var packets: Double? }
    struct RecvCounters {
        var timestamp: Double; var bytes: Double?; var packets: Double?; var lost: Double?
        var jitterBufferDelay: Double?; var jitterBufferEmitted: Double?
    }

    private var outbound: [String: SendCounters] = [:]
    private var inbound: [String: RecvCounters] = [:]
    private var remoteLost: [String: Double] = [:]
    private(set) var lastReportTimestamp: Double?

    /// One slot per kind × direction: index `kind.rawValue * 2 + direction.rawValue`.
    static func slot(_ kind: MediaKind, _ direction: MediaDirection) -> Int { kind.rawValue * 2 + direction.rawValue }

    /// Seconds since this connection's previous report (for connection-type time), and the
    /// per-slot contributions of the interval.
    mutating func apply(_ report: StatsReport) -> (seconds: Double, contributions: [IntervalContribution]) {
        var contributions = [IntervalContribution](repeating: IntervalContribution(), count: 4)
        let selectedPairRTT = report.selectedCandidatePair?.currentRoundTripTime

        // outbound-rtp: send bitrate; remember each stream's Δpackets for send loss, jitter, rtt.
        var sentInInterval: [String: (packets: Double, kind: MediaKind)] = [:]
        for stream in report.outbound {
            let current = SendCounters(timestamp: stream.timestamp, bytes: stream.bytesSent, packets: stream.packetsSent)
            guard let previous = outbound[stream.id] else {
                if outbound.count < Self.maxStreams { outbound[stream.id] = current }
                continue
            }
            guard stream.timestamp > previous.timestamp else { continue }
            outbound[stream.id] = current
            guard let bytes = current.bytes, let packets = current.packets,
                  let previousBytes = previous.bytes, let previousPackets = previous.packets,
                  bytes >= previousBytes, packets >= previousPackets  // a counter going down starts a new baseline
            else { continue }
            let deltaPackets = packets - previousPackets
            guard deltaPackets > 0 else { continue }
            let slot = Self.slot(stream.kind, .send)
            contributions[slot].cover(start: previous.timestamp, end: stream.timestamp)
            contributions[slot].bytes += bytes - previousBytes
            if let mime = report.codec(stream.codecId)?.mimeType { contributions[slot].codecMimeType = mime }
            sentInInterval[stream.id] = (deltaPackets, stream.kind)
        }

        // remote-inbound-rtp: what the far end says about our outbound streams.
        var reported: Set<String> = []
        for remote in report.remoteInbound {
            let previousLost = remoteLost[remote.id]
            if let lost = remote.packetsLost, remoteLost[remote.id] != nil || remoteLost.count < Self.maxStreams {
                remoteLost[remote.id] = lost
            }
            guard let localId = remote.localId, let sent = sentInInterval[localId] else { continue }
            reported.insert(localId)
            let slot = Self.slot(sent.kind, .send)
            if let lost = remote.packetsLost, let previousLost {
                contributions[slot].lost += max(0, lost - previousLost)  // duplicates can lower packetsLost
                contributions[slot].lossBase += sent.packets
            }
            if let jitter = remote.jitter {
                contributions[slot].jitterSum += jitter * sent.packets
                contributions[slot].jitterPackets += sent.packets
            }
            if let rtt = remote.measuredRoundTripTime ?? selectedPairRTT {
                contributions[slot].rttSum += rtt * sent.packets
                contributions[slot].rttPackets += sent.packets
            }
        }
        // Active outbound streams nobody reported on: rtt from the candidate pair.
        if let rtt = selectedPairRTT {
            for (id, sent) in sentInInterval where !reported.contains(id) {
                let slot = Self.slot(sent.kind, .send)
                contributions[slot].rttSum += rtt * sent.packets
                contributions[slot].rttPackets += sent.packets
            }
        }

        // inbound-rtp: receive bitrate, loss, jitter, jitter buffer.
        for stream in report.inbound {
            let current = RecvCounters(
                timestamp: stream.timestamp, bytes: stream.bytesReceived, packets: stream.packetsReceived,
                lost: stream.packetsLost, jitterBufferDelay: stream.jitterBufferDelay, jitterBufferEmitted: stream.jitterBufferEmittedCount)
            guard let previous = inbound[stream.id] else {
                if inbound.count < Self.maxStreams { inbound[stream.id] = current }
                continue
            }
            guard stream.timestamp > previous.timestamp else { continue }
            inbound[stream.id] = current
            guard let bytes = current.bytes, let packets = current.packets,
                  let previousBytes = previous.bytes, let previousPackets = previous.packets,
                  bytes >= previousBytes, packets >= previousPackets
            else { continue }
            let deltaPackets = packets - previousPackets
            guard deltaPackets > 0 else { continue }
            let slot = Self.slot(stream.kind, .recv)
            contributions[slot].cover(start: previous.timestamp, end: stream.timestamp)
            contributions[slot].bytes += bytes - previousBytes
            if let lost = current.lost, let previousLost = previous.lost {
                let deltaLost = max(0, lost - previousLost)
                contributions[slot].lost += deltaLost
                contributions[slot].lossBase += deltaLost + deltaPackets
            }
            if let jitter = stream.jitter {
                contributions[slot].jitterSum += jitter * deltaPackets
                contributions[slot].jitterPackets += deltaPackets
            }
            if let delay = current.jitterBufferDelay, let emitted = current.jitterBufferEmitted,
               let previousDelay = previous.jitterBufferDelay, let previousEmitted = previous.jitterBufferEmitted,
               delay >= previousDelay, emitted > previousEmitted {
                contributions[slot].jitterBufferDelaySeconds += delay - previousDelay
                contributions[slot].jitterBufferEmitted += emitted - previousEmitted
            }
            if let mime = report.codec(stream.codecId)?.mimeType { contributions[slot].codecMimeType = mime }
            if let width = stream.frameWidth, let height = stream.frameHeight, width > 0, height > 0 {
                contributions[slot].framePixels = width * height
            }
        }

        let reportTime = report.timestamp
        var seconds: Double = 0
        if let reportTime, let last = lastReportTimestamp, reportTime > last { seconds = (reportTime - last) / 1000 }
        if let reportTime, reportTime > (lastReportTimestamp ?? -.infinity) { lastReportTimestamp = reportTime }
        return (seconds, contributions)
    }
}
