import CEpoll
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
    /// The cores this process may use (the default number of event loops): the CPUs of its
    /// affinity mask (`taskset`, a cpuset), capped by its cgroup's CPU quota (a container's CPU
    /// limit), rounded up; at least 1. Foundation's `activeProcessorCount` counts the machine's
    /// online CPUs: under `taskset -c 0` on this 2-core machine it made two loops share one
    /// core (8,000–8,450 against 9,400–10,000 req/s for the ingest load with one loop).
    /// Read once, at first use.
    public static let coreCount: Int = CPUBudget.cores(
        affinity: Int(rs_affinity_cpu_count()), online: ProcessInfo.processInfo.activeProcessorCount,
        quota: CPUBudget.cgroupQuota())
}

/// How many cores a CPU affinity mask and a cgroup quota leave a process.
public enum CPUBudget {
    /// `affinity` (nil or ≤ 0 when unknown) capped by `quota` cores; `online` when the mask is
    /// unknown.
    public static func cores(affinity: Int?, online: Int, quota: Int?) -> Int {
        var cores = affinity.flatMap { $0 > 0 ? $0 : nil } ?? online
        if let quota, quota > 0 { cores = min(cores, quota) }
        return max(1, cores)
    }

    /// Cores granted by cgroup v2 `cpu.max` (`"<quota> <period>"` in µs, or `"max <period>"`),
    /// rounded up (1.5 CPUs: 2 loops, the second one's share is still worth having); nil when
    /// unlimited or unreadable.
    public static func cores(cpuMax: String) -> Int? {
        let fields = cpuMax.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2 else { return nil }
        return cores(quota: String(fields[0]), period: String(fields[1]))
    }

    /// Cores granted by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1:
    /// unlimited), rounded up; nil when unlimited or unreadable.
    public static func cores(quota: String, period: String) -> Int? {
        guard let quota = Int(quota.trimmingCharacters(in: .whitespacesAndNewlines)), quota > 0,
              let period = Int(period.trimmingCharacters(in: .whitespacesAndNewlines)), period > 0
        else { return nil }
        return (quota + period - 1) / period
    }

    /// This process's cgroup CPU quota in cores, if any: v2 (`/proc/self/cgroup`'s `0::<path>`,
    /// then the namespace root a container sees), then v1. A limit set on a parent cgroup only
    /// is not seen.
    static func cgroupQuota() -> Int? {
        // A file that is missing or unreadable means no quota known there (not every system
        // mounts cgroup v2, or v1's cpu controller).
        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
        var candidates = ["/sys/fs/cgroup/cpu.max"]
        if let membership = read("/proc/self/cgroup"),
           let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) {
            let path = line.dropFirst(3)
            if path != "/" { candidates.insert("/sys/fs/cgroup\(path)/cpu.max", at: 0) }
        }
        for path in candidates {
            if let text = read(path) { return cores(cpuMax: text) }
        }
        if let quota = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), let period = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us") {
            return cores(quota: quota, period: period)
        }
        return nil
    }
}
