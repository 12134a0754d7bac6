/// Character classes from RFC 9110 §5.6.2 (token), §5.5 (field-value) and RFC 3986 (URI), as a
/// 256-entry table so each byte costs one load.
enum ByteClass {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    private static let tokenBit: UInt8 = 1
    private static let fieldValueBit: UInt8 = 2
    private static let targetBit: UInt8 = 4
    private static let hostBit: UInt8 = 8

    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        let tokenSymbols = Array("!#$%&'*+-.^_`|~".utf8)
        for byte in 0..<256 {
            let b = UInt8(byte)
            let isAlpha = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            let isDigit = b >= 0x30 && b <= 0x39
            var bits: UInt8 = 0
            // RFC 9110 §5.6.2: tchar
            if isAlpha || isDigit || tokenSymbols.contains(b) { bits |= tokenBit }
            // RFC 9110 §5.5: field-vchar = VCHAR / obs-text, plus SP and HTAB inside a value
            if (b >= 0x21 && b <= 0x7E) || b >= 0x80 || b == space || b == tab { bits |= fieldValueBit }
            // RFC 9112 §3.2 / RFC 3986 §2: a request-target is visible ASCII. Like most servers we also
            // let through the few visible characters RFC 3986 excludes ({ } | ^ ` \ " < >), which some
            // clients leave unencoded in queries; controls, SP, DEL and non-ASCII are rejected, and
            // so is "#": a fragment is never part of a request-target (RFC 9112 §3.2, RFC 3986
            // §3.5: a client strips it), so one arriving is a malformed target, not a path.
            if b >= 0x21 && b <= 0x7E && b != 0x23 { bits |= targetBit }
            // RFC 3986 §3.2.2-3.2.3: unreserved / sub-delims / pct-encoded / ":" port / "[" "]" IP-literal
            if isAlpha || isDigit || Array("-._~!$&'()*+,;=%:[]".utf8).contains(b) { bits |= hostBit }
            table[byte] = bits
        }
        return table
    }()

    @inline(__always) static func isToken(_ b: UInt8) -> Bool { table[Int(b)] & tokenBit != 0 }
    @inline(__always) static func isFieldValue(_ b: UInt8) -> Bool { table[Int(b)] & fieldValueBit != 0 }
    @inline(__always) static func isTarget(_ b: UInt8) -> Bool { table[Int(b)] & targetBit != 0 }
    @inline(__always) static func isHost(_ b: UInt8) -> Bool { table[Int(b)] & hostBit != 0 }
    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == space || b == tab }
    /// CTL (RFC 5234 §B.1) other than HTAB, or NUL: never valid in a request line or field.
    @inline(__always) static func isForbiddenControl(_ b: UInt8) -> Bool { (b < 0x20 && b != tab) || b == 0x7F }

    @inline(__always) static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: Int(b - 0x30)
        case 0x41...0x46: Int(b - 0x41 + 10)
        case 0x61...0x66: Int(b - 0x61 + 10)
        default: nil
        }
    }
}
