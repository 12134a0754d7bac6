/// When each window of a stream may be sealed: once every room that could still end inside it
/// is known (window end + peer timeout + grace; room-record.md). A value: `due(now:)` says
/// which windows to seal, in order; `sealed(_:)` records one. After downtime every missed
/// window comes due at once, oldest first.
public struct SealScheduler: Sendable, Equatable {
    public let intervalMinutes: Int
    /// Peer timeout plus grace, in ms.
    public let watermarkDelayMilliseconds: Int64
    /// The first window not sealed yet.
    public private(set) var nextWindow: StreamWindow

    /// - Parameters:
    ///   - firstWindowContaining: the time the stream starts from (its creation, or the window
    ///     after the last one it sealed before a restart).
    public init(intervalMinutes: Int, peerTimeoutSeconds: Double, graceSeconds: Double, firstWindowContaining start: Double) {
        self.intervalMinutes = intervalMinutes
        self.watermarkDelayMilliseconds = Int64(((peerTimeoutSeconds + graceSeconds) * 1000).rounded(.up))
        self.nextWindow = StreamWindow.containing(start, intervalMinutes: intervalMinutes)
    }

    /// Resumes after the last sealed window.
    public init(intervalMinutes: Int, peerTimeoutSeconds: Double, graceSeconds: Double, after lastSealed: StreamWindow) {
        self.intervalMinutes = intervalMinutes
        self.watermarkDelayMilliseconds = Int64(((peerTimeoutSeconds + graceSeconds) * 1000).rounded(.up))
        self.nextWindow = lastSealed.next
    }

    /// The time (epoch ms) `window` may be sealed.
    public func sealTime(of window: StreamWindow) -> Int64 { window.end + watermarkDelayMilliseconds }

    /// When the next seal is due (epoch ms).
    public var nextSealTime: Int64 { sealTime(of: nextWindow) }

    /// Windows whose watermark has passed at `now`, oldest first (at most `limit`).
    public func due(now: Double, limit: Int = 10_000) -> [StreamWindow] {
        var windows: [StreamWindow] = []
        var window = nextWindow
        while Double(sealTime(of: window)) <= now, windows.count < limit {
            windows.append(window)
            window = window.next
        }
        return windows
    }

    /// Records that `window` was sealed. Windows are sealed in order: any other window is
    /// ignored (false).
    @discardableResult
    public mutating func sealed(_ window: StreamWindow) -> Bool {
        guard window == nextWindow else { return false }
        nextWindow = window.next
        return true
    }
}
