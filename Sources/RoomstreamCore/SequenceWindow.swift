/// Which sample `seq` numbers of a peer were accepted, in constant memory: the highest one and
/// a bitmap of the `width` below it. A retry of an accepted sample is a duplicate; a seq older
/// than the window is also treated as a duplicate (it is from a retry far behind the stream).
public struct SequenceWindow: Sendable, Equatable, Codable {
    public static let width: Int64 = 256
    private var highest: Int64?
    /// Four words inline (no heap allocation): bit `offset` = `highest − offset` was accepted.
    private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

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

    enum CodingKeys: String, CodingKey { case highest, bits }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        highest = try container.decodeIfPresent(Int64.self, forKey: .highest)
        let words = try container.decode([UInt64].self, forKey: .bits)
        guard words.count == 4 else { throw DecodingError.dataCorruptedError(forKey: .bits, in: container, debugDescription: "4 words expected") }
        bits = (words[0], words[1], words[2], words[3])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(highest, forKey: .highest)
        try container.encode([bits.0, bits.1, bits.2, bits.3], forKey: .bits)
    }

    public static func == (lhs: SequenceWindow, rhs: SequenceWindow) -> Bool {
        lhs.highest == rhs.highest && lhs.bits == rhs.bits
    }

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: bits.0
        case 1: bits.1
        case 2: bits.2
        default: bits.3
        }
    }

    private mutating func setWord(_ index: Int, _ value: UInt64) {
        switch index {
        case 0: bits.0 = value
        case 1: bits.1 = value
        case 2: bits.2 = value
        default: bits.3 = value
        }
    }

    private func isSet(_ offset: Int64) -> Bool { word(Int(offset / 64)) & (1 << UInt64(offset % 64)) != 0 }
    private mutating func set(_ offset: Int64) { setWord(Int(offset / 64), word(Int(offset / 64)) | 1 << UInt64(offset % 64)) }

    /// Moves every bit `distance` places toward older offsets.
    private mutating func shift(by distance: Int64) {
        guard distance < Self.width else {
            bits = (0, 0, 0, 0)
            return
        }
        // Shift the 256-bit value left by `distance` (toward older offsets).
        let words = [bits.0, bits.1, bits.2, bits.3]
        let wordShift = Int(distance / 64), bitShift = UInt64(distance % 64)
        var shifted: [UInt64] = [0, 0, 0, 0]
        for index in (0..<4).reversed() where index - wordShift >= 0 {
            var value = words[index - wordShift] << bitShift
            if bitShift > 0, index - wordShift - 1 >= 0 { value |= words[index - wordShift - 1] >> (64 - bitShift) }
            shifted[index] = value
        }
        bits = (shifted[0], shifted[1], shifted[2], shifted[3])
    }
}
