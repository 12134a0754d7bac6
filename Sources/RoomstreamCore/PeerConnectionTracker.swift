/// The previous counters of one peer connection's streams, so each new report yields the
/// interval since the last one (metrics.md, "Per interval"). Stats ids are unique only within
/// a peer connection, hence one tracker per `pc`.
struct PeerConnectionTracker: Sendable, Codable {
    /// Streams remembered per peer connection; beyond it new stream ids are ignored (their
    /// media does not count), which no real call reaches.
    static let maxStreams = 64

    /// The last counters of one stream. One dictionary for every stream type (stats ids are
    /// unique within a report), with NaN for "missing" instead of optionals: this is most of a
    /// live peer's memory.
    struct Counters: Codable {
        var timestamp: Double
        var bytes: Double
        var packets: Double
        var lost: Double
        var jitterBufferDelay: Double
        var jitterBufferEmitted: Double

        init(timestamp: Double, bytes: Double? = nil, packets: Double? = nil, lost: Double? = nil, jitterBufferDelay: Double? = nil, jitterBufferEmitted: Double? = nil) {
            self.timestamp = timestamp
            self.bytes = bytes ?? .nan
            self.packets = packets ?? .nan
            self.lost = lost ?? .nan
            self.jitterBufferDelay = jitterBufferDelay ?? .nan
            self.jitterBufferEmitted = jitterBufferEmitted ?? .nan
        }

        static func known(_ value: Double) -> Double? { value.isNaN ? nil : value }
    }

    /// (stats id, counters), searched linearly: a connection has a handful of streams, and an
    /// array has no spare buckets (this is most of a live peer's memory).
    private var streams: [StreamEntry] = []

    /// One stream's last counters (a named struct rather than a tuple: Codable, same layout).
    struct StreamEntry: Codable {
        var id: String
        var counters: Counters
    }
    private(set) var lastReportTimestamp: Double?

    var heapBytes: Int { MemoryFootprint.array(streams) + streams.reduce(0) { $0 + MemoryFootprint.string($1.id) } }

    private func counters(_ id: String) -> Counters? {
        streams.first { $0.id == id }?.counters
    }

    private mutating func store(_ id: String, _ counters: Counters) {
        if let index = streams.firstIndex(where: { $0.id == id }) { streams[index].counters = counters }
        else if streams.count < Self.maxStreams {
            // Grown one entry at a time rather than doubled: a connection's streams arrive in
            // its first report and then stay, so the doubling's spare room (a Chrome call's 6
            // streams sat in room for 10, 256 bytes per live peer) would be held for the call.
            if streams.count == streams.capacity { streams.reserveCapacity(streams.count + 1) }
            streams.append(StreamEntry(id: id, counters: counters))
        }
    }

    private mutating func remember(_ id: String, _ counters: Counters) { store(id, counters) }

    /// Stores a stream's new counters and returns its previous ones when they start a valid
    /// interval (the timestamp advanced); nil for a new stream or a repeated report.
    private mutating func advance(_ id: String, to current: Counters) -> Counters? {
        guard let previous = counters(id) else {
            remember(id, current)
            return nil
        }
        guard current.timestamp > previous.timestamp else { return nil }
        store(id, current)
        return previous
    }

    /// A counter step implying more than this is not media but a reset or garbage (metrics.md,
    /// "Garbage and resets"): no WebRTC stream comes near 100 Gbit/s or 10 M packets/s.
    static let maxBitsPerSecond = 100e9
    static let maxPacketsPerSecond = 10e6
    /// Mean jitter-buffer delay per emitted sample above this (seconds) is garbage.
    static let maxJitterBufferSecondsPerSample = 60.0

    /// Δbytes and Δpackets of an interval; nil when a counter is missing, went down, or jumped
    /// faster than any real stream (a new baseline: the interval counts nothing), or no packet
    /// flowed (the stream was not active).
    private static func deltas(bytes: Double?, packets: Double?, since previous: Counters, at timestamp: Double) -> (Double, Double)? {
        guard let bytes, let packets, let previousBytes = Counters.known(previous.bytes), let previousPackets = Counters.known(previous.packets),
              bytes >= previousBytes, packets >= previousPackets, packets > previousPackets
        else { return nil }
        let seconds = (timestamp - previous.timestamp) / 1000
        let deltaBytes = bytes - previousBytes, deltaPackets = packets - previousPackets
        guard deltaBytes * 8 <= maxBitsPerSecond * seconds, deltaPackets <= maxPacketsPerSecond * seconds else { return nil }
        return (deltaBytes, deltaPackets)
    }

    /// Δlost of an interval of `seconds`, nil when it implies an impossible packet rate.
    private static func lostDelta(_ lost: Double, since previousLost: Double, seconds: Double) -> Double? {
        let delta = max(0, lost - previousLost)  // duplicates can lower packetsLost
        return delta <= maxPacketsPerSecond * seconds ? delta : nil
    }

    /// One slot per kind × direction: index `kind.rawValue * 2 + direction.rawValue`.
    static func slot(_ kind: MediaKind, _ direction: MediaDirection) -> Int { kind.rawValue * 2 + direction.rawValue }

    /// Seconds since this connection's previous report (for connection-type time), and the
    /// per-slot contributions of the interval.
    mutating func apply(_ report: StatsReport) -> (seconds: Double, contributions: [IntervalContribution]) {
        var contributions = [IntervalContribution](repeating: IntervalContribution(), count: 4)
        let selectedPairRTT = report.selectedCandidatePair?.currentRoundTripTime

        // outbound-rtp: send bitrate; remember each stream's Δpackets for send loss, jitter, rtt.
        var sentInInterval: [String: (packets: Double, kind: MediaKind, seconds: Double)] = [:]
        for stream in report.outbound {
            guard let previous = advance(stream.id, to: Counters(timestamp: stream.timestamp, bytes: stream.bytesSent, packets: stream.packetsSent)),
                  let (deltaBytes, deltaPackets) = Self.deltas(bytes: stream.bytesSent, packets: stream.packetsSent, since: previous, at: stream.timestamp)
            else { continue }
            let slot = Self.slot(stream.kind, .send)
            contributions[slot].cover(start: previous.timestamp, end: stream.timestamp)
            contributions[slot].bytes += deltaBytes
            if let mime = report.codec(stream.codecId)?.mimeType { contributions[slot].codecMimeType = mime }
            sentInInterval[stream.id] = (deltaPackets, stream.kind, (stream.timestamp - previous.timestamp) / 1000)
        }

        // remote-inbound-rtp: what the far end says about our outbound streams.
        var reported: Set<String> = []
        for remote in report.remoteInbound {
            let previousLost = counters(remote.id).flatMap { Counters.known($0.lost) }
            if let lost = remote.packetsLost { remember(remote.id, Counters(timestamp: remote.timestamp, lost: lost)) }
            guard let localId = remote.localId, let sent = sentInInterval[localId] else { continue }
            reported.insert(localId)
            let slot = Self.slot(sent.kind, .send)
            if let lost = remote.packetsLost, let previousLost, let deltaLost = Self.lostDelta(lost, since: previousLost, seconds: sent.seconds) {
                contributions[slot].lost += deltaLost
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
            let current = Counters(
                timestamp: stream.timestamp, bytes: stream.bytesReceived, packets: stream.packetsReceived,
                lost: stream.packetsLost, jitterBufferDelay: stream.jitterBufferDelay, jitterBufferEmitted: stream.jitterBufferEmittedCount)
            guard let previous = advance(stream.id, to: current),
                  let (deltaBytes, deltaPackets) = Self.deltas(bytes: stream.bytesReceived, packets: stream.packetsReceived, since: previous, at: stream.timestamp)
            else { continue }
            let slot = Self.slot(stream.kind, .recv)
            contributions[slot].cover(start: previous.timestamp, end: stream.timestamp)
            contributions[slot].bytes += deltaBytes
            if let lost = stream.packetsLost, let previousLost = Counters.known(previous.lost),
               let deltaLost = Self.lostDelta(lost, since: previousLost, seconds: (stream.timestamp - previous.timestamp) / 1000) {
                contributions[slot].lost += deltaLost
                contributions[slot].lossBase += deltaLost + deltaPackets
            }
            if let jitter = stream.jitter {
                contributions[slot].jitterSum += jitter * deltaPackets
                contributions[slot].jitterPackets += deltaPackets
            }
            if let delay = stream.jitterBufferDelay, let emitted = stream.jitterBufferEmittedCount,
               let previousDelay = Counters.known(previous.jitterBufferDelay), let previousEmitted = Counters.known(previous.jitterBufferEmitted),
               delay >= previousDelay, emitted > previousEmitted,
               delay - previousDelay <= Self.maxJitterBufferSecondsPerSample * (emitted - previousEmitted) {
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
