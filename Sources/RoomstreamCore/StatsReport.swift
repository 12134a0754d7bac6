/// Media kind of an RTP stream (`kind`, or `mediaType` in older browsers).
public enum MediaKind: Int, Sendable, CaseIterable {
    case audio = 0
    case video = 1
}

/// Direction of media as seen from the peer.
public enum MediaDirection: Int, Sendable, CaseIterable {
    case send = 0
    case recv = 1
}

/// The parts of one `getStats()` report the figures use. Every other type and field of the
/// report is ignored by the decoder; a missing field is nil, never 0.
public struct StatsReport: Sendable, Equatable {
    public var outbound: [OutboundRTP] = []
    public var inbound: [InboundRTP] = []
    public var remoteInbound: [RemoteInboundRTP] = []
    public var candidatePairs: [CandidatePair] = []
    public var localCandidates: [LocalCandidate] = []
    public var transports: [Transport] = []
    public var codecs: [Codec] = []

    public init() {}

    /// The latest object timestamp in the report (ms, client clock).
    public var timestamp: Double? {
        let all = outbound.map(\.timestamp) + inbound.map(\.timestamp) + candidatePairs.map(\.timestamp)
        return all.max()
    }
}

public struct OutboundRTP: Sendable, Equatable {
    public var id: String
    public var timestamp: Double
    public var kind: MediaKind
    public var bytesSent: Double?
    public var packetsSent: Double?
    public var codecId: String?
    public init(id: String, timestamp: Double, kind: MediaKind, bytesSent: Double? = nil, packetsSent: Double? = nil, codecId: String? = nil) {
        self.id = id
        self.timestamp = timestamp
        self.kind = kind
        self.bytesSent = bytesSent
        self.packetsSent = packetsSent
        self.codecId = codecId
    }
}

public struct InboundRTP: Sendable, Equatable {
    public var id: String
    public var timestamp: Double
    public var kind: MediaKind
    public var bytesReceived: Double?
    public var packetsReceived: Double?
    public var packetsLost: Double?
    /// Seconds.
    public var jitter: Double?
    /// Seconds, cumulative.
    public var jitterBufferDelay: Double?
    public var jitterBufferEmittedCount: Double?
    public var codecId: String?
    public var frameWidth: Double?
    public var frameHeight: Double?
    public init(id: String, timestamp: Double, kind: MediaKind) {
        self.id = id
        self.timestamp = timestamp
        self.kind = kind
    }
}

public struct RemoteInboundRTP: Sendable, Equatable {
    public var id: String
    public var timestamp: Double
    public var kind: MediaKind
    /// The `outbound-rtp` this report is about.
    public var localId: String?
    public var packetsLost: Double?
    /// Seconds.
    public var jitter: Double?
    /// Seconds.
    public var roundTripTime: Double?
    public var roundTripTimeMeasurements: Double?
    public var totalRoundTripTime: Double?
    public init(id: String, timestamp: Double, kind: MediaKind) {
        self.id = id
        self.timestamp = timestamp
        self.kind = kind
    }

    /// metrics.md: counts only once measured (Safari reports 0 before its first RTCP report).
    public var measuredRoundTripTime: Double? {
        guard let roundTripTime else { return nil }
        if let measurements = roundTripTimeMeasurements, measurements == 0 { return nil }
        if roundTripTime == 0 && (totalRoundTripTime ?? 0) == 0 { return nil }
        return roundTripTime
    }
}

public struct CandidatePair: Sendable, Equatable {
    public var id: String
    public var timestamp: Double
    public var selected: Bool?
    public var nominated: Bool?
    public var state: String?
    public var localCandidateId: String?
    /// Seconds.
    public var currentRoundTripTime: Double?
    public init(id: String, timestamp: Double) {
        self.id = id
        self.timestamp = timestamp
    }
}

public struct LocalCandidate: Sendable, Equatable {
    public var id: String
    public var candidateType: String?
    public var relayProtocol: String?
    public var networkProtocol: String?
    public var url: String?
    public init(id: String) { self.id = id }
}

public struct Transport: Sendable, Equatable {
    public var id: String
    public var selectedCandidatePairId: String?
    public init(id: String) { self.id = id }
}

public struct Codec: Sendable, Equatable {
    public var id: String
    public var mimeType: String?
    public init(id: String) { self.id = id }
}

extension StatsReport {
    /// metrics.md, "Connection type and transport": `transport.selectedCandidatePairId`; Firefox:
    /// the pair with `selected: true`; else the nominated pair in state `succeeded`.
    public var selectedCandidatePair: CandidatePair? {
        for transport in transports {
            if let id = transport.selectedCandidatePairId, let pair = candidatePairs.first(where: { $0.id == id }) { return pair }
        }
        if let pair = candidatePairs.first(where: { $0.selected == true }) { return pair }
        return candidatePairs.first { $0.nominated == true && $0.state == "succeeded" }
    }

    public func localCandidate(_ id: String?) -> LocalCandidate? {
        guard let id else { return nil }
        return localCandidates.first { $0.id == id }
    }

    public func codec(_ id: String?) -> Codec? {
        guard let id else { return nil }
        return codecs.first { $0.id == id }
    }
}
