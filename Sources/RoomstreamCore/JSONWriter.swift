/// A small streaming JSON writer: keys in the order written, commas placed automatically.
public struct JSONWriter: Sendable {
    public private(set) var text = ""
    /// Per open container: whether the next member needs a comma before it.
    private var needsComma: [Bool] = [false]
    /// A key was just written: its value follows without a comma.
    private var afterKey = false

    public init() { text.reserveCapacity(4096) }

    private mutating func prepareValue() {
        if afterKey {
            afterKey = false
            return
        }
        let last = needsComma.count - 1
        if needsComma[last] { text += "," }
        needsComma[last] = true
    }

    public mutating func beginObject() { prepareValue(); text += "{"; needsComma.append(false) }
    public mutating func endObject() { text += "}"; needsComma.removeLast() }
    public mutating func beginArray() { prepareValue(); text += "["; needsComma.append(false) }
    public mutating func endArray() { text += "]"; needsComma.removeLast() }

    public mutating func key(_ name: String) {
        prepareValue()
        appendQuoted(name)
        text += ":"
        afterKey = true
    }

    public mutating func string(_ value: String) {
        prepareValue()
        appendQuoted(value)
    }

    public mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    public mutating func null() { raw("null") }

    /// A value already serialized as JSON.
    public mutating func raw(_ json: String) {
        prepareValue()
        text += json
    }

    /// Magnitudes below this (2^53) are whole numbers written as integers; above it a Double
    /// is written in exponent form (`1e+30`, still a JSON number). Total for every Double: no
    /// value can trap (`Int(x)` would, past Int.max), NaN and infinities are null.
    static let largestExactInteger = 9_007_199_254_740_992.0

    /// Rounded half away from zero to an integer; null when unknown or not finite.
    public mutating func integer(_ number: Double?) {
        guard let number, number.isFinite else { return null() }
        let rounded = number.rounded(.toNearestOrAwayFromZero)
        raw(abs(rounded) < Self.largestExactInteger ? String(Int(rounded)) : "\(rounded)")
    }

    /// Rounded half away from zero to `decimals` places; null when unknown or not finite. With
    /// `decimals` > 0 a whole value keeps one decimal (`4.0`): a reader infers a column's type
    /// from its values, and `4` in one file and `4.5` in the next would make it BIGINT in one
    /// and DOUBLE in the other (docs/bi.md, "Stable types").
    public mutating func number(_ number: Double?, decimals: Int) {
        guard let number, number.isFinite else { return null() }
        let rounded = RoomRecord.round(number, decimals: decimals)
        guard rounded.isFinite else { return raw("\(number)") }  // the scaling overflowed: too large to have decimals
        guard rounded == rounded.rounded() && abs(rounded) < Self.largestExactInteger else { return raw("\(rounded)") }
        raw(String(Int(rounded)) + (decimals > 0 ? ".0" : ""))
    }

    private mutating func appendQuoted(_ string: String) {
        JSONString.append(string, to: &text)
    }
}
