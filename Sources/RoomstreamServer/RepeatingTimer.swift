import RoomstreamBasics
import Dispatch

/// A repeating Dispatch timer that can be shared across threads: `start` and `cancel` are
/// the only calls made on the source, and Dispatch sources are thread-safe for both.
// SAFETY: the wrapped source is only resumed once (guarded by the atomic flag) and cancelled.
public final class RepeatingTimer: @unchecked Sendable {
    private let source: DispatchSourceTimer

    public init(label: String, interval: Duration, handler: @escaping @Sendable () -> Void) {
        let nanos = interval.nanoseconds
        source = DispatchSource.makeTimerSource(queue: DispatchQueue(label: label))
        source.schedule(deadline: .now() + .nanoseconds(nanos), repeating: .nanoseconds(nanos), leeway: .nanoseconds(nanos / 10))
        source.setEventHandler(handler: handler)
    }

    private let started = AtomicFlag()

    public func start() {
        if started.setOnce() { source.resume() }
    }

    public func cancel() { source.cancel() }

    /// Dispatch crashes when a source that was never resumed is released: activate, then cancel.
    deinit {
        if started.setOnce() { source.resume() }
        source.cancel()
    }
}

import Synchronization

final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)
    /// True the first time only.
    func setOnce() -> Bool { !value.exchange(true, ordering: .relaxed) }
}
