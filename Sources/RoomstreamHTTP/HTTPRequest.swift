/// An HTTP method (RFC 9110 §9). The common ones are cases so that matching allocates nothing.
public enum HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    case get, head, post, put, delete, patch, options, connect, trace
    case other(String)

    public init(_ name: String) {
        switch name {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "PATCH": self = .patch
        case "OPTIONS": self = .options
        case "CONNECT": self = .connect
        case "TRACE": self = .trace
        default: self = .other(name)
        }
    }

    init<Bytes: Collection<UInt8>>(bytes: Bytes) {
        // Method names are case-sensitive (RFC 9110 §9.1): "get" is not GET.
        if bytes.elementsEqual("GET".utf8) { self = .get }
        else if bytes.elementsEqual("POST".utf8) { self = .post }
        else { self = HTTPMethod(String(decoding: bytes, as: UTF8.self)) }
    }

    public var rawValue: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .patch: "PATCH"
        case .options: "OPTIONS"
        case .connect: "CONNECT"
        case .trace: "TRACE"
        case .other(let name): name
        }
    }

    public var description: String { rawValue }
}

public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// The field lines of a header or trailer section. Names and values stay in the receive
/// buffer (a shared slice, not a copy); strings are made only when a handler asks.
public struct HTTPFields: Sendable, Sequence {
    struct Entry: Sendable {
        var name: Range<Int>
        var value: Range<Int>
    }

    let storage: ArraySlice<UInt8>
    let entries: [Entry]

    init(storage: ArraySlice<UInt8>, entries: [Entry]) {
        self.storage = storage
        self.entries = entries
    }

    public static let empty = HTTPFields(storage: [], entries: [])

    public var count: Int { entries.count }

    @inline(__always) private func bytes(_ range: Range<Int>) -> ArraySlice<UInt8> {
        let base = storage.startIndex
        return storage[(base + range.lowerBound)..<(base + range.upperBound)]
    }

    /// Field names are case-insensitive (RFC 9110 §5.1): both sides are compared lowercased,
    /// byte by byte, so a lookup allocates nothing.
    private func nameMatches(_ entry: Entry, _ name: String) -> Bool {
        ASCII.equalsIgnoringCase(bytes(entry.name), name.utf8)
    }

    /// The first value of the named field (case-insensitive, RFC 9110 §5.1), OWS trimmed.
    public subscript(name: String) -> String? {
        valueBytes(name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every value of the named field, in order.
    public func values(_ name: String) -> [String] {
        entries.filter { nameMatches($0, name) }.map { String(decoding: bytes($0.value), as: UTF8.self) }
    }

    /// The raw bytes of the first value of the named field (OWS trimmed), without copying.
    public func valueBytes(_ name: String) -> ArraySlice<UInt8>? {
        for entry in entries where nameMatches(entry, name) { return bytes(entry.value) }
        return nil
    }

    public func makeIterator() -> AnyIterator<(name: String, value: String)> {
        var index = 0
        return AnyIterator {
            guard index < entries.count else { return nil }
            defer { index += 1 }
            let entry = entries[index]
            return (String(decoding: bytes(entry.name), as: UTF8.self), String(decoding: bytes(entry.value), as: UTF8.self))
        }
    }
}

/// A complete request. `body` is a slice of the connection's receive buffer for
/// `Content-Length` bodies (no copy) and the decoded bytes for chunked ones.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request-target exactly as sent (RFC 9112 §3.2), e.g. `/v1/rooms?state=live`.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPFields
    public var body: ArraySlice<UInt8> {
        didSet { bodyReadableSlackBytes = 0 }  // new storage: its slack is not known
    }
    /// Bytes allocated and readable past the body's end in the storage the slice views (the
    /// receive buffer's next request or spare capacity; values unspecified). A parser that
    /// reads ahead, like simdjson (64 bytes), can then work on the body in place. 0: unknown.
    public internal(set) var bodyReadableSlackBytes = 0
    public var trailers: HTTPFields
    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// The socket peer (the client, or the proxy in front of it); nil outside a server.
    public var remoteAddress: IPAddress?
    /// `X-Request-Id` as accepted or generated for this request (set before routing), for logs.
    public var requestID: String?

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPFields = .empty, body: ArraySlice<UInt8> = [], trailers: HTTPFields = .empty,
        keepAlive: Bool = true
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.keepAlive = keepAlive
    }
}

extension HTTPRequest {
    /// A request with the given header fields, for handler tests that do not go through the parser.
    public init(method: HTTPMethod, target: String, fields: [(String, String)], body: [UInt8] = []) {
        var storage: [UInt8] = []
        var entries: [HTTPFields.Entry] = []
        for (name, value) in fields {
            let nameStart = storage.count
            storage.append(contentsOf: name.utf8)
            let valueStart = storage.count
            storage.append(contentsOf: value.utf8)
            entries.append(.init(name: nameStart..<valueStart, value: valueStart..<storage.count))
        }
        self.init(
            method: method, target: target, headers: HTTPFields(storage: storage[...], entries: entries),
            body: body[...])
    }
}

/// ASCII-only byte comparisons for protocol tokens (field names, schemes, media types), which
/// are case-insensitive (RFC 9110 §5.1, §8.3.1, §11.1) and need no Unicode case mapping.
public enum ASCII {
    @inline(__always) public static func lowercased(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    public static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ other: String.UTF8View) -> Bool {
        guard bytes.count == other.count else { return false }
        var index = bytes.startIndex
        for b in other {
            guard lowercased(bytes[index]) == lowercased(b) else { return false }
            index += 1
        }
        return true
    }

    /// Appends the decimal digits of `value` (after a `-` when negative). `String(value)` goes
    /// through the generic `_description(radix:)`, which the ingest profile showed on every
    /// response (status, Content-Length, the 202's counts).
    public static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 { probe /= 10; digits += 1 }
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var index = start + digits - 1
        while magnitude > 0 {
            out[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            index -= 1
        }
    }

    /// The bytes without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
    public static func trimmingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, ByteClass.isWhitespace(bytes[start]) { start += 1 }
        while end > start, ByteClass.isWhitespace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }
}
