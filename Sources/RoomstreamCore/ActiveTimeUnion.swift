/// The length of the union of time intervals, in constant memory. metrics.md: a peer's active
/// seconds for a kind and direction are the union of its active intervals over all its peer
/// connections, so two connections sending at once do not count the same second twice.
///
/// Intervals arrive nearly in time order (each peer connection's are in order; connections
/// interleave). The most recent `maxOpenIntervals` disjoint intervals are kept for merging;
/// older ones are folded into `settledMilliseconds` — an interval older than all of those
/// (a connection more than that many intervals late) is counted without merging.
public struct ActiveTimeUnion: Sendable, Equatable {
    public static let maxOpenIntervals = 16
    /// The latest interval, inline: media that flows without pauses merges into it, so most
    /// peers never allocate `older`.
    private var latest: ClosedRange<Double>?
    /// Earlier disjoint intervals, oldest first.
    private var older: [ClosedRange<Double>] = []
    private var settledMilliseconds: Double = 0

    public init() {}

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
public struct RunningStatistics: Sendable, Equatable {
    public private(set) var count: Int = 0
    public private(set) var mean: Double = 0
    private var m2: Double = 0

    public init() {}

    public mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        m2 += delta * (value - mean)
    }

    /// Population standard deviation; 0 for fewer than two values.
    public var standardDeviation: Double { count > 1 ? (m2 / Double(count)).squareRoot() : 0 }
}
