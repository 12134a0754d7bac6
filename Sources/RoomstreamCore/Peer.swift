/// One peer of a room: its facts and constant-size running figures. Times are service-clock
/// epoch milliseconds unless named otherwise.
public struct Peer: Sendable {
    public static let maxPeerConnections = 16
    public static let maxKeys = 64

    public let id: String
    public private(set) var sdkVersion: String?
    /// OS and browser, parsed once when the user agent changes (the raw string is not kept).
    public private(set) var agent: UserAgent?
    private var userAgentHash: Int?
    public private(set) var keys: [String: IngestBatch.KeyValue] = [:]
    public private(set) var keyOrder: [String] = []
    public private(set) var audioDevice: String?
    public private(set) var videoDevice: String?
    /// From the client address of the first request that could be placed (kept for the
    /// peer's life: a call that switches networks keeps where it started).
    public private(set) var location: PeerLocation?
    public private(set) var ratingSum = 0
    public private(set) var ratingCount = 0

    /// The smallest `arrival − latest ts` seen (ingest-api.md): client ts + offset = service time.
    public private(set) var clockOffsetMilliseconds: Double?
    public private(set) var firstActivity: Double?
    public private(set) var lastActivity: Double?
    /// Service time the last request of this peer arrived, for the silence timeout.
    public private(set) var lastArrival: Double = 0
    public private(set) var isPresent = false
    private var presenceStart: Double?
    private var presenceMilliseconds: Double = 0

    private var sequences = SequenceWindow()
    /// Per peer connection, searched linearly (at most 16): no dictionary's spare buckets.
    private var trackers: [TrackedConnection] = []
    /// The four kind × direction accumulators, stored inline (no array allocation per peer).
    private var audioSend = MediaAccumulator(), audioRecv = MediaAccumulator()
    private var videoSend = MediaAccumulator(), videoRecv = MediaAccumulator()
    /// In slot order: kind × 2 + direction.
    public var media: [MediaAccumulator] { [audioSend, audioRecv, videoSend, videoRecv] }
    private var features = FeatureUsage()
    private var firstPcCreated: PcCreated?
    private var firstConnected: Double?
    private var firstIceConnected: Double?

    public init(id: String) { self.id = id }

    public struct ApplyResult: Sendable, Equatable {
        public var accepted = 0
        public var duplicates = 0
        public var left = false
    }

    /// Custom keys (count, bytes of names and values) this peer would hold after `batch`: the
    /// registry refuses a request that would take them over the per-peer budget.
    public func keyUsage(after batch: IngestBatch) -> (count: Int, bytes: Int) {
        func bytes(_ value: IngestBatch.KeyValue) -> Int {
            switch value {
            case .string(let text): text.utf8.count
            case .strings(let texts): texts.reduce(0) { $0 + $1.utf8.count }
            }
        }
        var merged = keys
        for (name, value) in batch.keys { merged[name] = value }
        return (merged.count, merged.reduce(0) { $0 + $1.key.utf8.count + bytes($1.value) })
    }

    /// Applies a validated request that arrived at service time `arrival`.
    public mutating func apply(_ batch: IngestBatch, arrival: Double, defaultUserAgent: String?) -> ApplyResult {
        var result = ApplyResult()
        lastArrival = max(lastArrival, arrival)
        if let latest = batch.latestTimestamp {
            let candidate = arrival - latest
            clockOffsetMilliseconds = min(clockOffsetMilliseconds ?? candidate, candidate)
        }
        if let sdk = batch.sdkVersion { sdkVersion = sdk }
        if let text = batch.userAgent ?? (agent == nil ? defaultUserAgent : nil), text.hashValue != userAgentHash {
            userAgentHash = text.hashValue
            agent = UserAgent(parsing: text)
        }
        for (name, value) in batch.keys {
            if keys[name] == nil {
                guard keyOrder.count < Self.maxKeys else { continue }
                keyOrder.append(name)
            }
            keys[name] = value
        }
        if location == nil, let found = batch.location { location = found }
        if let device = batch.audioDevice { audioDevice = device }
        if let device = batch.videoDevice { videoDevice = device }
        if let rating = batch.userRating {
            ratingSum += rating
            ratingCount += 1
        }
        let offset = clockOffsetMilliseconds ?? 0
        for event in batch.events {
            markActivity(event.ts + offset)
            result.accepted += 1
            switch event.kind {
            case .pcCreated:
                if let pc = event.pc, event.ts < (firstPcCreated?.ts ?? .infinity) { firstPcCreated = PcCreated(pc: pc, ts: event.ts) }
            case .connectionState(let state) where state == "connected":
                firstConnected = min(firstConnected ?? event.ts, event.ts)
            case .iceConnectionState(let state) where state == "connected" || state == "completed":
                firstIceConnected = min(firstIceConnected ?? event.ts, event.ts)
            case .leave:
                result.left = true
            default:
                break
            }
        }
        for sample in batch.samples {
            guard sequences.accept(sample.seq) else {
                result.duplicates += 1
                continue
            }
            result.accepted += 1
            markActivity(sample.ts + offset)
            var index = trackers.firstIndex { $0.pc == sample.pc }
            if index == nil, trackers.count < Self.maxPeerConnections {
                trackers.append(TrackedConnection(pc: sample.pc, tracker: PeerConnectionTracker()))
                index = trackers.count - 1
            }
            guard let index else { continue }
            let (seconds, contributions) = trackers[index].tracker.apply(sample.report)
            audioSend.add(contributions[0])
            audioRecv.add(contributions[1])
            videoSend.add(contributions[2])
            videoRecv.add(contributions[3])
            features.observe(sample.report, seconds: seconds)
        }
        if result.left { leave() }
        return result
    }

    /// The peer's activity at service time `time`: it is present from then on.
    private mutating func markActivity(_ time: Double) {
        if !isPresent {
            isPresent = true
            presenceStart = time
        }
        firstActivity = min(firstActivity ?? time, time)
        lastActivity = max(lastActivity ?? time, time)
    }

    /// Leave, or silence past the peer timeout: presence ends at the last activity.
    public mutating func leave() {
        guard isPresent else { return }
        isPresent = false
        if let start = presenceStart, let end = lastActivity, end > start { presenceMilliseconds += end - start }
        presenceStart = nil
    }

    /// Seconds present (a peer that left and came back counts only its time present).
    public var presenceSeconds: Double {
        var total = presenceMilliseconds
        if isPresent, let start = presenceStart, let end = lastActivity, end > start { total += end - start }
        return total / 1000
    }

    /// metrics.md: pc_created of the first peer connection → first `connected` connectionState,
    /// else first connected iceConnectionState. nil without both events.
    public var callSetupMilliseconds: Double? {
        guard let created = firstPcCreated?.ts, let connected = firstConnected ?? firstIceConnected, connected >= created else { return nil }
        return connected - created
    }

    public var figures: PeerFigures { PeerFigures(media: media, callSetupMilliseconds: callSetupMilliseconds) }

    /// Heap bytes this peer holds beyond its own inline struct (see `MemoryFootprint`).
    var heapBytes: Int {
        var total = MemoryFootprint.string(id) + MemoryFootprint.string(sdkVersion) + MemoryFootprint.string(audioDevice) + MemoryFootprint.string(videoDevice)
        if let agent { total += [agent.os, agent.osVersion, agent.browser, agent.browserVersion].reduce(0) { $0 + MemoryFootprint.string($1) } }
        total += MemoryFootprint.dictionary(keys) + MemoryFootprint.array(keyOrder)
        for (name, value) in keys {
            total += MemoryFootprint.string(name)
            switch value {
            case .string(let text): total += MemoryFootprint.string(text)
            case .strings(let texts): total += MemoryFootprint.array(texts) + texts.reduce(0) { $0 + MemoryFootprint.string($1) }
            }
        }
        for name in keyOrder { total += MemoryFootprint.string(name) }
        total += MemoryFootprint.array(trackers)
        for connection in trackers { total += MemoryFootprint.string(connection.pc) + connection.tracker.heapBytes }
        total += audioSend.heapBytes + audioRecv.heapBytes + videoSend.heapBytes + videoRecv.heapBytes
        total += features.heapBytes + MemoryFootprint.string(firstPcCreated?.pc)
        total += location?.heapBytes ?? 0
        return total
    }

    public var connectionType: String? { features.current?.type }
    public var mediaTransport: String? { features.current?.transport }
}

/// One peer connection's tracker (a named struct rather than a tuple: it is Codable, for
/// checkpoints, with the same layout).
struct TrackedConnection: Sendable, Codable {
    var pc: String
    var tracker: PeerConnectionTracker
}

/// The first `pc_created` event: which connection, and when (client clock).
struct PcCreated: Sendable, Codable {
    var pc: String
    var ts: Double
}

/// A peer is checkpointed whole (every accumulator), so a restart continues it exactly.
extension Peer: Codable {}

/// Which connection type and transport a peer used the most time (metrics.md).
struct FeatureUsage: Sendable, Codable {
    struct Usage: Sendable, Codable { var type: String; var transport: String?; var seconds: Double; var lastSeen: Int }
    private var usages: [Usage] = []
    private var observations = 0

    mutating func observe(_ report: StatsReport, seconds: Double) {
        guard let pair = report.selectedCandidatePair, let candidate = report.localCandidate(pair.localCandidateId) else { return }
        observations += 1
        let isRelay = candidate.candidateType == "relay"
        let type = isRelay ? "TURN" : "direct"
        let transport = isRelay ? Self.relayTransport(candidate) : candidate.networkProtocol?.lowercased()
        if let index = usages.firstIndex(where: { $0.type == type && $0.transport == transport }) {
            usages[index].seconds += seconds
            usages[index].lastSeen = observations
        } else if usages.count < 8 {
            usages.append(Usage(type: type, transport: transport, seconds: seconds, lastSeen: observations))
        }
    }

    /// relayProtocol, else inferred from the TURN url (Safari omits relayProtocol).
    static func relayTransport(_ candidate: LocalCandidate) -> String? {
        if let relay = candidate.relayProtocol?.lowercased() { return relay }
        guard let url = candidate.url?.lowercased() else { return nil }
        if url.hasPrefix("turns:") { return "tls" }
        if url.contains("transport=tcp") { return "tcp" }
        return "udp"
    }

    var heapBytes: Int {
        MemoryFootprint.array(usages) + usages.reduce(0) { $0 + MemoryFootprint.string($1.type) + MemoryFootprint.string($1.transport) }
    }

    /// The most-used one; on a tie, the one seen last.
    var current: Usage? {
        usages.max { ($0.seconds, $0.lastSeen) < ($1.seconds, $1.lastSeen) }
    }
}
