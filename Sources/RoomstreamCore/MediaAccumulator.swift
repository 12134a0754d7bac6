/// What one interval (two consecutive reports of one peer connection) contributed to a kind
/// and direction, summed over its streams.
struct IntervalContribution {
    var active = false
    var startMilliseconds = Double.greatestFiniteMagnitude
    var endMilliseconds = -Double.greatestFiniteMagnitude
    var bytes: Double = 0
    var lost: Double = 0
    /// recv: lost + received; send: sent. Only where the loss counter was known.
    var lossBase: Double = 0
    /// Σ value × Δpackets and Σ Δpackets, for packet-weighted means across streams.
    var jitterSum: Double = 0, jitterPackets: Double = 0
    var rttSum: Double = 0, rttPackets: Double = 0
    var jitterBufferDelaySeconds: Double = 0, jitterBufferEmitted: Double = 0
    var codecMimeType: String?
    var framePixels: Double?

    mutating func cover(start: Double, end: Double) {
        active = true
        startMilliseconds = min(startMilliseconds, start)
        endMilliseconds = max(endMilliseconds, end)
    }
}

/// Whole-presence totals of one kind and direction for a peer (metrics.md, "Over the peer's
/// whole presence"). Constant size: no samples are kept.
public struct MediaAccumulator: Sendable, Codable {
    public private(set) var bytes: Double = 0
    public private(set) var activeTime = ActiveTimeUnion()
    public private(set) var lost: Double = 0
    public private(set) var lossBase: Double = 0
    private var jitterWeighted: Double = 0, jitterWeight: Double = 0
    private var rttWeighted: Double = 0, rttWeight: Double = 0
    private var jitterBufferDelaySeconds: Double = 0, jitterBufferEmitted: Double = 0
    /// Per-interval figures over time, for the score's variance penalty.
    public private(set) var intervalLoss = RunningStatistics()
    public private(set) var intervalRTT = RunningStatistics()
    /// Stored compactly (this struct is most of a live peer): the codec as a small enum, the
    /// frame size as Float with NaN for unknown.
    private var codec: CodecKind?
    private var storedPixels: Float = .nan

    public var codecMimeType: String? { codec?.mimeType }
    var heapBytes: Int { activeTime.heapBytes }
    public var framePixels: Double? { storedPixels.isNaN ? nil : Double(storedPixels) }

    public init() {}

    mutating func add(_ interval: IntervalContribution) {
        guard interval.active else { return }
        let seconds = (interval.endMilliseconds - interval.startMilliseconds) / 1000
        bytes += interval.bytes
        activeTime.add(start: interval.startMilliseconds, end: interval.endMilliseconds)
        if interval.lossBase > 0 {
            lost += interval.lost
            lossBase += interval.lossBase
            intervalLoss.add(min(100, max(0, interval.lost / interval.lossBase * 100)))
        }
        if interval.jitterPackets > 0, seconds > 0 {
            let jitter = interval.jitterSum / interval.jitterPackets
            jitterWeighted += jitter * seconds
            jitterWeight += seconds
        }
        if interval.rttPackets > 0, seconds > 0 {
            let rtt = interval.rttSum / interval.rttPackets
            rttWeighted += rtt * seconds
            rttWeight += seconds
            intervalRTT.add(rtt * 1000)
        }
        jitterBufferDelaySeconds += interval.jitterBufferDelaySeconds
        jitterBufferEmitted += interval.jitterBufferEmitted
        if let mime = interval.codecMimeType { codec = CodecKind(mimeType: mime) }
        if let pixels = interval.framePixels { storedPixels = Float(pixels) }
    }

    /// False while no interval carried a packet: every figure is then unknown.
    public var hasMedia: Bool { activeTime.totalSeconds > 0 }

    /// kbit/s over the active seconds.
    public var bitrateKbps: Double? {
        let seconds = activeTime.totalSeconds
        return seconds > 0 ? bytes * 8 / seconds / 1000 : nil
    }

    /// Percent, clamped to [0, 100]; nil when the loss counters were never known.
    public var packetLossPercent: Double? {
        lossBase > 0 ? min(100, max(0, lost / lossBase * 100)) : nil
    }

    /// Time-weighted mean, ms.
    public var jitterMilliseconds: Double? { jitterWeight > 0 ? jitterWeighted / jitterWeight * 1000 : nil }

    /// Time-weighted mean, ms.
    public var rttMilliseconds: Double? { rttWeight > 0 ? rttWeighted / rttWeight * 1000 : nil }

    /// Mean jitter-buffer delay per emitted sample, ms, where the receiver reports it.
    public var jitterBufferMilliseconds: Double? {
        jitterBufferEmitted > 0 ? jitterBufferDelaySeconds / jitterBufferEmitted * 1000 : nil
    }
}

/// The codecs the audio MOS distinguishes (its parameters), in one byte.
enum CodecKind: UInt8, Sendable, Equatable, Codable {
    case opus, pcmu, pcma, g722, other

    init(mimeType: String) {
        switch mimeType.lowercased() {
        case "audio/opus": self = .opus
        case "audio/pcmu": self = .pcmu
        case "audio/pcma": self = .pcma
        case "audio/g722": self = .g722
        default: self = .other
        }
    }

    var mimeType: String? {
        switch self {
        case .opus: "audio/opus"
        case .pcmu: "audio/PCMU"
        case .pcma: "audio/PCMA"
        case .g722: "audio/G722"
        case .other: nil
        }
    }
}
