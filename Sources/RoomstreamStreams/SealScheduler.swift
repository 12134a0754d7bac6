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
    /// Set by `sealEarly`: `nextWindow` was cut short and is due at this time, not at its
    /// watermark. Not persisted: a restart before the seal drops the request.
    public private(set) var earlySealTime: Int64?

    /// - Parameters:
    ///   - firstWindowContaining: the time the stream starts from (its creation, or the window
    ///     after the last one it sealed before a restart).
    public init(intervalMinutes: Int, peerTimeoutSeconds: Double, graceSeconds: Double, firstWindowContaining start: Double) {
        self.intervalMinutes = intervalMinutes
        self.watermarkDelayMilliseconds = Int64(((peerTimeoutSeconds + graceSeconds) * 1000).rounded(.up))
        self.nextWindow = StreamWindow.containing(start, intervalMinutes: intervalMinutes)
    }

    /// Resumes after the last sealed window, which ended at `lastSealedEnd` (epoch ms; after an
    /// early seal not on a window boundary, the next window runs to the boundary).
    public init(intervalMinutes: Int, peerTimeoutSeconds: Double, graceSeconds: Double, resumingAt lastSealedEnd: Int64) {
        self.intervalMinutes = intervalMinutes
        self.watermarkDelayMilliseconds = Int64(((peerTimeoutSeconds + graceSeconds) * 1000).rounded(.up))
        self.nextWindow = Self.window(startingAt: lastSealedEnd, intervalMinutes: intervalMinutes)
    }

    /// `[start, the next boundary)`: a whole window when `start` is a boundary.
    static func window(startingAt start: Int64, intervalMinutes: Int) -> StreamWindow {
        StreamWindow(start: start, end: StreamWindow.containing(Double(start), intervalMinutes: intervalMinutes).end)
    }

    /// The time (epoch ms) `window` may be sealed.
    public func sealTime(of window: StreamWindow) -> Int64 {
        if window == nextWindow, let earlySealTime { return earlySealTime }
        return window.end + watermarkDelayMilliseconds
    }

    /// Cuts the next window short at `cut` (epoch ms, after its start and before its end) and
    /// makes it due at `now`: its file holds the rooms that ended before `cut`; the window's
    /// rest, `[cut, end)`, becomes the following window, sealed as usual.
    @discardableResult
    public mutating func sealEarly(at cut: Int64, now: Int64) -> StreamWindow? {
        guard cut > nextWindow.start, cut < nextWindow.end else { return nil }
        nextWindow = StreamWindow(start: nextWindow.start, end: cut)
        earlySealTime = now
        return nextWindow
    }

    /// When the next seal is due (epoch ms).
    public var nextSealTime: Int64 { sealTime(of: nextWindow) }

    /// Windows whose watermark has passed at `now`, oldest first (at most `limit`).
    public func due(now: Double, limit: Int = 10_000) -> [StreamWindow] {
        var windows: [StreamWindow] = []
        var window = nextWindow
        while Double(sealTime(of: window)) <= now, windows.count < limit {
            windows.append(window)
            window = Self.window(startingAt: window.end, intervalMinutes: intervalMinutes)
        }
        return windows
    }

    /// Records that `window` was sealed. Windows are sealed in order: any other window is
    /// ignored (false).
    @discardableResult
    public mutating func sealed(_ window: StreamWindow) -> Bool {
        guard window == nextWindow else { return false }
        nextWindow = Self.window(startingAt: window.end, intervalMinutes: intervalMinutes)
        earlySealTime = nil
        return true
    }
}
