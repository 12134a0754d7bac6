/// The length of the union of time intervals, in constant memory. metrics.md: a peer's active
/// seconds for a kind and direction are the union of its active intervals over all its peer
/// connections, so two connections sending at once do not count the same second twice.
///
/// Intervals arrive nearly in time order (each peer connection's are in order; connections
/// interleave). The most recent `maxOpenIntervals` disjoint intervals are kept for merging;
/// older ones are folded into `settledMilliseconds` — an interval older than all of those
/// (a connection more than that many intervals late) is counted without merging.
public struct ActiveTimeUnion: Sendable, Codable {
    public static let maxOpenIntervals = 16
    /// The latest interval, inline: media that flows without pauses merges into it, so most
    /// peers never allocate `older`.
    /// Stored as two Doubles (NaN: none) rather than an optional range, which pads to 24 bytes.
    private var latestStart: Double = .nan
    private var latestEnd: Double = .nan
    private var latest: ClosedRange<Double>? {
        get { latestStart.isNaN ? nil : latestStart...latestEnd }
        set {
            latestStart = newValue?.lowerBound ?? .nan
            latestEnd = newValue?.upperBound ?? .nan
        }
    }
    /// Earlier disjoint intervals, oldest first.
    private var older: [ClosedRange<Double>] = []
    private var settledMilliseconds: Double = 0

    public init() {}

    var heapBytes: Int { MemoryFootprint.array(older) }

    public var totalSeconds: Double {
        let open = older.reduce(0) { $0 + ($1.upperBound - $1.lowerBound) } + (latest.map { $0.upperBound - $0.lowerBound } ?? 0)
        return (settledMilliseconds + open) / 1000
    }

    /// Adds `[start, end]` (milliseconds).
    public mutating func add(start: Double, end: Double) {
        guard end > start else { return }
        var merged = start...end
        if let current = latest, current.overlaps(merged), older.isEmpty || older[older.count - 1].upperBound < min(current.lowerBound, start) {
            // The common case: continuous with the latest interval and clear of older ones.
            latest = min(current.lowerBound, start)...max(current.upperBound, end)
            return
        }
        var all = older
        if let latest { all.append(latest) }
        var kept: [ClosedRange<Double>] = []
        kept.reserveCapacity(all.count + 1)
        for interval in all {
            if interval.overlaps(merged) {
                merged = min(interval.lowerBound, merged.lowerBound)...max(interval.upperBound, merged.upperBound)
            } else {
                kept.append(interval)
            }
        }
        let index = kept.firstIndex { $0.lowerBound > merged.lowerBound } ?? kept.count
        kept.insert(merged, at: index)
        while kept.count > Self.maxOpenIntervals {
            let oldest = kept.removeFirst()
            settledMilliseconds += oldest.upperBound - oldest.lowerBound
        }
        latest = kept.removeLast()
        older = kept
    }
}

/// Welford's running mean and variance, for the score's variance penalty.
/// Stored in 12 bytes (Int32 and Floats): it only feeds a bounded penalty, and there are
/// several per live peer.
public struct RunningStatistics: Sendable, Equatable, Codable {
    private var storedCount: Int32 = 0
    private var storedMean: Float = 0
    private var m2: Float = 0

    public init() {}

    public var count: Int { Int(storedCount) }
    public var mean: Double { Double(storedMean) }

    public mutating func add(_ value: Double) {
        guard storedCount < Int32.max else { return }
        storedCount += 1
        let sample = Float(value)
        let delta = sample - storedMean
        storedMean += delta / Float(storedCount)
        m2 += delta * (sample - storedMean)
    }

    /// Population standard deviation; 0 for fewer than two values.
    public var standardDeviation: Double { storedCount > 1 ? Double((max(0, m2) / Float(storedCount)).squareRoot()) : 0 }
}
