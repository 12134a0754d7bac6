import RoomstreamCore

/// A UTC-aligned time window `[start, end)` of a stream (room-record.md, "Which rooms go into
/// which file"): with an interval of I minutes, windows are `[k·I, (k+1)·I)` since the epoch.
public struct StreamWindow: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Epoch milliseconds, inclusive.
    public let start: Int64
    /// Epoch milliseconds, exclusive.
    public let end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// The window of `intervalMinutes` that contains `time` (epoch ms).
    public static func containing(_ time: Double, intervalMinutes: Int) -> StreamWindow {
        let length = Int64(intervalMinutes) * 60_000
        let millis = Int64(time.rounded(.down))
        let start = millis >= 0 ? millis / length * length : ((millis + 1) / length - 1) * length
        return StreamWindow(start: start, end: start + length)
    }

    public var next: StreamWindow { StreamWindow(start: end, end: end + (end - start)) }

    public func contains(_ time: Double) -> Bool { time >= Double(start) && time < Double(end) }

    public static func < (lhs: StreamWindow, rhs: StreamWindow) -> Bool { lhs.start < rhs.start }

    public var description: String { "\(Self.compact(start))_\(Self.compact(end))" }

    /// `20220904T0000Z`: sortable, file-name safe. A time off the minute (an early seal's cut,
    /// on a whole second) carries its seconds: `20220904T101723Z`.
    public static func compact(_ millis: Int64) -> String {
        let (days, second) = CivilDate.split(epochSeconds: Int(millis / 1000))
        let (year, month, day) = CivilDate.from(daysSinceEpoch: days)
        let seconds = second % 60 == 0 ? "" : pad(second % 60, 2)
        return "\(pad(year, 4))\(pad(month, 2))\(pad(day, 2))T\(pad(second / 3600, 2))\(pad(second / 60 % 60, 2))\(seconds)Z"
    }

    /// `2022-09-04`: the date partition of the window's start.
    public var startDate: String {
        let (days, _) = CivilDate.split(epochSeconds: Int(start / 1000))
        let (year, month, day) = CivilDate.from(daysSinceEpoch: days)
        return "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))"
    }

    static func pad(_ value: Int, _ width: Int) -> String { TextFormat.padded(value, width: width) }
}
