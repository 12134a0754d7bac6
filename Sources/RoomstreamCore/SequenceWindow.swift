/// Which sample `seq` numbers of a peer were accepted, in constant memory: the highest one and
/// a bitmap of the `width` below it. A retry of an accepted sample is a duplicate; a seq older
/// than the window is also treated as a duplicate (it is from a retry far behind the stream).
public struct SequenceWindow: Sendable, Equatable {
    public static let width: Int64 = 256
    private var highest: Int64?
    private var bits = [UInt64](repeating: 0, count: Int(SequenceWindow.width / 64))

    public init() {}

    /// Records `seq`; false when it was already accepted (or is too old to tell).
    public mutating func accept(_ seq: Int64) -> Bool {
        guard let top = highest else {
            highest = seq
            set(0)
            return true
        }
        if seq > top {
            shift(by: seq - top)
            highest = seq
            set(0)
            return true
        }
        let offset = top - seq
        guard offset < Self.width else { return false }
        if isSet(offset) { return false }
        set(offset)
        return true
    }

    private func isSet(_ offset: Int64) -> Bool { bits[Int(offset / 64)] & (1 << UInt64(offset % 64)) != 0 }
    private mutating func set(_ offset: Int64) { bits[Int(offset / 64)] |= 1 << UInt64(offset % 64) }

    /// Moves every bit `distance` places toward older offsets.
    private mutating func shift(by distance: Int64) {
        guard distance < Self.width else {
            for index in bits.indices { bits[index] = 0 }
            return
        }
        var shifted = [UInt64](repeating: 0, count: bits.count)
        for offset in 0..<(Self.width - distance) where isSet(offset) {
            let target = offset + distance
            shifted[Int(target / 64)] |= 1 << UInt64(target % 64)
        }
        bits = shifted
    }
}
