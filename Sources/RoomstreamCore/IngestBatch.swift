/// One decoded ingest request (ingest-api.md), validated and ready to apply.
public struct IngestBatch: Sendable, Equatable {
    public enum KeyValue: Sendable, Equatable, Codable {
        case string(String)
        case strings([String])
    }

    public struct Event: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case pcCreated
            case connectionState(String)
            case iceConnectionState(String)
            case leave
            /// A type this version does not know: it still counts as activity.
            case other
        }
        /// Epoch ms on the client's clock.
        public var ts: Double
        public var kind: Kind
        public var pc: String?
        public init(ts: Double, kind: Kind, pc: String? = nil) {
            self.ts = ts
            self.kind = kind
            self.pc = pc
        }
    }

    public struct Sample: Sendable, Equatable {
        public var seq: Int64
        public var ts: Double
        public var pc: String
        public var report: StatsReport
        public init(seq: Int64, ts: Double, pc: String, report: StatsReport) {
            self.seq = seq
            self.ts = ts
            self.pc = pc
            self.report = report
        }
    }

    public var sdkVersion: String?
    public var userAgent: String?
    public var keys: [(name: String, value: KeyValue)] = []
    public var audioDevice: String?
    public var videoDevice: String?
    public var userRating: Int?
    /// Where the request came from (the service's look-up of the client address, never the
    /// body); recorded in the write-ahead log beside the batch, not in its encoding.
    public var location: PeerLocation?
    public var events: [Event] = []
    public var samples: [Sample] = []

    public init() {}

    public static func == (lhs: IngestBatch, rhs: IngestBatch) -> Bool {
        lhs.sdkVersion == rhs.sdkVersion && lhs.userAgent == rhs.userAgent
            && lhs.keys.elementsEqual(rhs.keys) { $0.name == $1.name && $0.value == $1.value }
            && lhs.audioDevice == rhs.audioDevice && lhs.videoDevice == rhs.videoDevice
            && lhs.userRating == rhs.userRating && lhs.location == rhs.location && lhs.events == rhs.events && lhs.samples == rhs.samples
    }

    /// The latest client timestamp in the request, for the clock-offset estimate.
    public var latestTimestamp: Double? {
        (events.map(\.ts) + samples.map(\.ts)).max()
    }
}
