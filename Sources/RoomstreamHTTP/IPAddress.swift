#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as an IPv4-mapped IPv6 address, RFC 4291
/// §2.5.5.2), so that one comparison and one CIDR match serve both families.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// Network byte order.
    public let bytes: (UInt64, UInt64)

    public static func == (lhs: IPAddress, rhs: IPAddress) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
    }

    private static let mappedPrefix: UInt64 = 0x0000_FFFF_0000_0000

    public init(ipv4 value: UInt32) {
        bytes = (0, Self.mappedPrefix | UInt64(value))
    }

    public init(high: UInt64, low: UInt64) {
        bytes = (high, low)
    }

    /// The address in the IPv4-mapped range, as IPv4.
    public var ipv4: UInt32? {
        bytes.0 == 0 && bytes.1 & 0xFFFF_FFFF_0000_0000 == Self.mappedPrefix ? UInt32(truncatingIfNeeded: bytes.1) : nil
    }

    /// Parses dotted IPv4 (`192.0.2.1`) or IPv6 text (RFC 4291 §2.2, RFC 5952), optionally in
    /// brackets (`[2001:db8::1]`, as in `Forwarded`); a zone (`%eth0`) is refused. inet_pton is
    /// the reference parser: it refuses octal and short IPv4 forms (`010.1`, `1.2.3`).
    public init?<Text: StringProtocol>(_ text: Text) {
        var utf8 = Array(text.utf8)
        if utf8.first == UInt8(ascii: "["), utf8.last == UInt8(ascii: "]") { utf8 = Array(utf8.dropFirst().dropLast()) }
        guard !utf8.isEmpty, utf8.count <= 45 else { return nil }  // INET6_ADDRSTRLEN - 1
        utf8.append(0)
        if utf8.contains(UInt8(ascii: ":")) {
            var address = in6_addr()
            // SAFETY: utf8 is NUL-terminated; in6_addr has room for the 16 bytes inet_pton writes.
            guard utf8.withUnsafeBufferPointer({ inet_pton(AF_INET6, $0.baseAddress, &address) }) == 1 else { return nil }
            self = withUnsafeBytes(of: &address) { raw in
                var high: UInt64 = 0, low: UInt64 = 0
                for i in 0..<8 { high = high << 8 | UInt64(raw[i]) }
                for i in 8..<16 { low = low << 8 | UInt64(raw[i]) }
                return IPAddress(high: high, low: low)
            }
        } else {
            var address = in_addr()
            // SAFETY: utf8 is NUL-terminated; in_addr has room for the 4 bytes inet_pton writes.
            guard utf8.withUnsafeBufferPointer({ inet_pton(AF_INET, $0.baseAddress, &address) }) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: address.s_addr))
        }
    }

    /// `192.0.2.1` for IPv4 (mapped ones too), RFC 5952 text for IPv6.
    public var description: String {
        if let v4 = ipv4 {
            return "\(v4 >> 24).\(v4 >> 16 & 0xFF).\(v4 >> 8 & 0xFF).\(v4 & 0xFF)"
        }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: bytes.0 >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: bytes.1 >> (56 - 8 * UInt64(i))) }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        // SAFETY: text holds INET6_ADDRSTRLEN bytes, the most inet_ntop writes for AF_INET6.
        guard text.withUnsafeMutableBufferPointer({ inet_ntop(AF_INET6, &address, $0.baseAddress, socklen_t($0.count)) }) != nil else { return "::" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address one client is counted by (rate limits, connections per client): IPv4 as is,
    /// IPv6 per /64, since one subscriber usually holds a whole /64 (RFC 6177) and per-address
    /// counting would give one client 2^64 slots.
    public var clientPrefix: IPAddress { ipv4 != nil ? self : IPAddress(high: bytes.0, low: 0) }

    /// The 16 bytes in network order, e.g. for a database look-up.
    public var networkBytes: [UInt8] {
        (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? bytes.0 : bytes.1) >> (56 - 8 * UInt64(i % 8))) }
    }
}

/// An address block in CIDR notation (RFC 4632 §3.1; RFC 4291 §2.3): `10.0.0.0/8`,
/// `2001:db8::/32`, or a single address. IPv4 blocks match the IPv4-mapped addresses.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    /// Over the 128-bit form (an IPv4 /8 is /104 here).
    public let prefixLength: Int
    private let isIPv4: Bool

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maximum = address.ipv4 != nil && !parts[0].contains(":") ? 32 : 128
        isIPv4 = maximum == 32
        var length = maximum
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), parts[1].utf8.count <= 3,
                  let value = Int(parts[1]), value <= maximum else { return nil }
            length = value
        }
        prefixLength = length + (isIPv4 ? 96 : 0)
        // Host bits must be zero (`10.0.0.1/8` is a mistake worth refusing, not rounding).
        guard Self.masked(address, prefixLength) == address else { return nil }
        self.address = address
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        Self.masked(candidate, prefixLength) == address
    }

    static func masked(_ address: IPAddress, _ length: Int) -> IPAddress {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~0 << (64 - UInt64(bits)) }
        return IPAddress(high: address.bytes.0 & mask(length), low: address.bytes.1 & mask(length - 64))
    }

    public var description: String { "\(address)/\(isIPv4 ? prefixLength - 96 : prefixLength)" }
}
