import RoomstreamBasics
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A point on a monotonic clock, in nanoseconds. Deadlines use it so wall-clock jumps
/// never fire or delay a timeout.
public struct ServerInstant: Comparable, Hashable, Sendable {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func < (lhs: ServerInstant, rhs: ServerInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: ServerInstant, rhs: Duration) -> ServerInstant {
        ServerInstant(nanoseconds: lhs.nanoseconds &+ UInt64(max(0, rhs.nanoseconds)))
    }

    /// Earlier by `rhs` (not before the clock's zero).
    public static func - (lhs: ServerInstant, rhs: Duration) -> ServerInstant {
        let back = UInt64(max(0, rhs.nanoseconds))
        return ServerInstant(nanoseconds: lhs.nanoseconds > back ? lhs.nanoseconds - back : 0)
    }

    /// How long from `rhs` to `lhs` (zero when `rhs` is later).
    public static func - (lhs: ServerInstant, rhs: ServerInstant) -> Duration {
        lhs.nanoseconds > rhs.nanoseconds ? .nanoseconds(Int64(clamping: lhs.nanoseconds - rhs.nanoseconds)) : .zero
    }
}

/// The time source of the server, injected so tests can drive deadlines.
public protocol ServerClock: Sendable {
    /// Monotonic time, for deadlines.
    func now() -> ServerInstant
    /// Wall-clock seconds since the epoch, for the `Date` header.
    func epochSeconds() -> Int
}

public struct SystemClock: ServerClock {
    public init() {}

    public func now() -> ServerInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return ServerInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    public func epochSeconds() -> Int { time(nil) }
}

public enum System {
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
