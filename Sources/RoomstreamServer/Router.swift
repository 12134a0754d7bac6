import RoomstreamHTTP

/// A request matched to a route: the decoded path parameters and query.
public struct RoutedRequest: Sendable {
    public let http: HTTPRequest
    /// The route's `{name}` parameters in pattern order, percent-decoded (a route has a few: a
    /// linear search beats hashing).
    public let pathParameters: [(name: String, value: String)]
    public let query: QueryParameters

    public func parameter(_ name: String) -> String { pathParameters.first { $0.name == name }?.value ?? "" }
}

/// `application/x-www-form-urlencoded` query parameters, in order.
public struct QueryParameters: Sendable, Equatable {
    public let pairs: [(name: String, value: String)]

    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }
    public func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// Parses `a=1&b=x%20y`; `+` is a space. Throws `APIError` (400) on bad percent-encoding.
    public static func parse(_ query: Substring) throws(APIError) -> QueryParameters {
        var pairs: [(String, String)] = []
        // A request-target is ASCII (RFC 9112 §3.2), so splitting on bytes is exact.
        for partBytes in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let part = Substring(partBytes)
            let pieces = partBytes.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false).map(Substring.init)
            guard let name = PercentDecoding.decode(pieces[0], plusIsSpace: true),
                  let value = PercentDecoding.decode(pieces.count > 1 ? pieces[1] : "", plusIsSpace: true)
            else { throw .badRequest("invalid_query", "query parameter '\(part)' has invalid percent-encoding") }
            pairs.append((name, value))
        }
        return QueryParameters(pairs: pairs)
    }
}

public enum PercentDecoding {
    /// RFC 3986 §2.1 percent-decoding; nil when a `%` is not followed by two hex digits or the
    /// result is not UTF-8.
    public static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String? {
        guard text.utf8.contains(where: { $0 == 0x25 || (plusIsSpace && $0 == 0x2B) }) else { return String(text) }
        return decodeEscaped(text.utf8, plusIsSpace: plusIsSpace)
    }

    /// The same on raw bytes (a path segment); nil also when they are not UTF-8.
    static func decode(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, plusIsSpace: Bool = false) -> String? {
        guard bytes.contains(where: { $0 == 0x25 || (plusIsSpace && $0 == 0x2B) }) else { return String(validating: bytes, as: UTF8.self) }
        return decodeEscaped(bytes, plusIsSpace: plusIsSpace)
    }

    private static func decodeEscaped(_ text: some Collection<UInt8>, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            if byte == 0x25 {
                guard let high = iterator.next().flatMap(hex), let low = iterator.next().flatMap(hex) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(plusIsSpace && byte == 0x2B ? 0x20 : byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }
}

/// Method + path-pattern routing. Patterns are literal segments and `{name}` parameters,
/// e.g. `/v1/rooms/{room_id}/peers/{peer_id}/samples`. Answers 404 for unknown paths, 405 with
/// `Allow` for a known path and another method, `OPTIONS` for every path, and `HEAD` with the
/// `GET` route (RFC 9110 §9.3.2).
public struct Router: Sendable {
    public typealias Handler = @Sendable (RoutedRequest) throws -> HTTPResponse

    enum Segment: Sendable, Equatable {
        /// The literal, and its UTF-8 bytes (what a raw segment without `%` is compared with).
        case literal(String, [UInt8])
        case parameter(String)
    }

    struct Route: Sendable {
        var method: HTTPMethod
        var pattern: String
        var segments: [Segment]
        var handler: Handler
    }

    private var routes: [Route] = []
    /// Called with errors other than `APIError` a handler throws, before answering 500.
    private let onUnexpectedError: @Sendable (any Error, HTTPRequest) -> Void

    public init(onUnexpectedError: @escaping @Sendable (any Error, HTTPRequest) -> Void = { _, _ in }) {
        self.onUnexpectedError = onUnexpectedError
    }

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part -> Segment in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part), Array(part.utf8))
        }
        routes.append(Route(method: method, pattern: pattern, segments: segments, handler: handler))
    }

    /// Every method a route serves, for `OPTIONS *`.
    public var allMethods: [HTTPMethod] {
        var methods: [HTTPMethod] = []
        for route in routes where !methods.contains(route.method) { methods.append(route.method) }
        if methods.contains(.get) && !methods.contains(.head) { methods.append(.head) }
        methods.append(.options)
        return methods
    }

    /// Every route as (method, pattern), in the order added (the OpenAPI test reads them).
    public var routeList: [(method: HTTPMethod, pattern: String)] { routes.map { ($0.method, $0.pattern) } }

    public func respond(to request: HTTPRequest) -> HTTPResponse { handle(request).response }

    /// The response and the pattern of the route that matched (nil: no route, or `*`), a label
    /// of bounded cardinality for metrics.
    public func handle(_ request: HTTPRequest) -> (response: HTTPResponse, route: String?) {
        var matched: String?
        do {
            return (try route(request, matched: &matched), matched)
        } catch let error as APIError {
            return (error.response, matched)
        } catch {
            onUnexpectedError(error, request)
            return (.error(.internalServerError, code: "internal_error", message: "the server failed to handle this request"), matched)
        }
    }

    private func route(_ request: HTTPRequest, matched: inout String?) throws -> HTTPResponse {
        if case .other(let name) = request.method {
            // RFC 9110 §9.1: an unrecognized method SHOULD get 501.
            throw APIError(status: .notImplemented, code: "method_not_implemented", message: "method \(name) is not implemented")
        }
        if request.target == "*" {
            return HTTPResponse(status: .noContent, headers: [HTTPHeaderField("Allow", allMethods.map(\.rawValue).joined(separator: ", "))])
        }
        let (rawPath, rawQuery) = Self.splitTarget(request.target)
        // The path is walked as contiguous bytes ("/" is ASCII; a request-target is ASCII, RFC
        // 9112 §3.2): its segments become offset ranges, and each route is first compared on
        // its segment count, then literal by literal with a byte comparison, so the routes
        // before the matching one cost a few comparisons each (String index walking over every
        // route's segments was 3–4 % of ingest CPU in a perf profile). Only parameters (and
        // segments with a `%`) are decoded.
        let outcome = try Self.withBytes(rawPath) { path throws(APIError) -> Outcome in
            let segments = PathSegments.ranges(in: path)
            if path.contains(UInt8(ascii: "%")) {
                for range in segments where path[range].contains(UInt8(ascii: "%")) {
                    guard PercentDecoding.decode(path[range]) != nil else {
                        throw APIError.badRequest("invalid_path", "path segment '\(String(decoding: path[range], as: UTF8.self))' has invalid percent-encoding")
                    }
                }
            }
            // The first route with this path and method serves it; the other routes of the
            // path are read only when none does (404, 405 and OPTIONS need them).
            for route in routes where route.method == request.method || (request.method == .head && route.method == .get) {
                if let parameters = Self.match(route.segments, path, segments) { return .route(route, parameters) }
            }
            var allowed: [HTTPMethod] = []
            var firstPattern: String?  // the first route of this path: the metrics label
            for route in routes where !allowed.contains(route.method) && Self.match(route.segments, path, segments) != nil {
                allowed.append(route.method)
                if firstPattern == nil { firstPattern = route.pattern }
            }
            guard let firstPattern else {
                throw APIError.notFound("no route for \(request.method.rawValue) \(rawPath)")
            }
            if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
            if !allowed.contains(.options) { allowed.append(.options) }
            return .otherMethods(allowed, firstPattern: firstPattern)
        }
        switch outcome {
        case .route(let route, let parameters):
            matched = route.pattern
            let routed = RoutedRequest(http: request, pathParameters: parameters, query: try QueryParameters.parse(rawQuery))
            return try route.handler(routed)
        case .otherMethods(let allowed, let firstPattern):
            matched = firstPattern
            if request.method == .options {
                return HTTPResponse(status: .noContent, headers: [HTTPHeaderField("Allow", allowed.map(\.rawValue).joined(separator: ", "))])
            }
            throw APIError.methodNotAllowed(request.method, allow: allowed)
        }
    }

    private enum Outcome {
        /// The route serving the request, with its decoded parameters.
        case route(Route, [(name: String, value: String)])
        /// No route serves this method here; these methods are allowed (and the first route's pattern).
        case otherMethods([HTTPMethod], firstPattern: String)
    }

    /// Runs `body` on the UTF-8 bytes of `text`: in place for a native string (the request's
    /// target always is one), else on a copy.
    static func withBytes<Result>(_ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws(APIError) -> Result) throws(APIError) -> Result {
        // withContiguousStorageIfAvailable takes a rethrowing closure: carry the typed error out.
        // SAFETY: `body` only reads the bytes, within the buffer's bounds, during this call;
        // what leaves it (ranges, decoded strings) holds no pointer into them.
        var failure: APIError?
        let result = text.utf8.withContiguousStorageIfAvailable { bytes -> Result? in
            do throws(APIError) { return try body(bytes) } catch { failure = error; return nil }
        }
        if let failure { throw failure }
        if let result, let value = result { return value }
        return try Array(text.utf8).withUnsafeBufferPointer { bytes throws(APIError) in try body(bytes) }
    }

    /// Splits a request-target into path and query; absolute-form keeps only its path (RFC 9112 §3.2.2).
    static func splitTarget(_ target: String) -> (path: Substring, query: Substring) {
        var rest = Substring(target)
        if rest.utf8.first != UInt8(ascii: "/"), let schemeEnd = rest.range(of: "://") {
            rest = rest[schemeEnd.upperBound...]
            rest = rest.utf8.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }).map { rest[$0...] } ?? ""
            if rest.utf8.first != UInt8(ascii: "/") { rest = "/" + rest }
        }
        if let question = rest.utf8.firstIndex(of: UInt8(ascii: "?")) {
            return (rest[..<question], rest[rest.utf8.index(after: question)...])
        }
        return (rest, "")
    }

    /// The parameters when the raw (still percent-encoded) segments of `path` match `pattern`.
    /// Literals are compared decoded: on the bytes themselves when a segment has no `%` (then
    /// they are the decoded form), else after decoding it. Callers have checked every `%`
    /// segment decodes.
    static func match(_ pattern: [Segment], _ path: UnsafeBufferPointer<UInt8>, _ segments: [Range<Int>]) -> [(name: String, value: String)]? {
        // The count and the literals first: a mismatch costs no decoding and no allocation.
        guard pattern.count == segments.count else { return nil }
        for (expected, range) in zip(pattern, segments) {
            guard case .literal(let literal, let bytes) = expected else { continue }
            // SAFETY: `range` lies within `path` (PathSegments.ranges), read during this call only.
            let actual = UnsafeBufferPointer(rebasing: path[range])
            if actual.contains(UInt8(ascii: "%")) {
                guard PercentDecoding.decode(actual[...]) == literal else { return nil }
            } else if !actual.elementsEqual(bytes) {
                return nil
            }
        }
        var parameters: [(name: String, value: String)] = []
        parameters.reserveCapacity(2)
        for (expected, range) in zip(pattern, segments) {
            // A non-empty raw segment decodes to a non-empty value (each %XX is one byte).
            guard case .parameter(let name) = expected else { continue }
            guard !range.isEmpty, let value = PercentDecoding.decode(path[range]) else { return nil }
            parameters.append((name, value))
        }
        return parameters
    }
}

/// A path's segments, as `split(separator: "/", omittingEmptySubsequences: false).dropFirst()`
/// would give them ("/a//b/" → "a", "", "b", ""): offset ranges into the path's bytes.
enum PathSegments {
    /// At most this many segments are kept: more than any route has, so a longer path matches
    /// none (its extra segments make the count differ) without an unbounded array.
    static let maximumCount = 32

    /// The piece before the first "/" is dropped (a path without one has no segments). Every
    /// range lies within `path`: each starts one past a "/" found in it and ends at the next
    /// one or at the end.
    static func ranges(in path: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        guard var start = path.firstIndex(of: UInt8(ascii: "/")).map({ $0 + 1 }) else { return ranges }
        ranges.reserveCapacity(8)
        while ranges.count <= maximumCount {
            guard let slash = path[start...].firstIndex(of: UInt8(ascii: "/")) else {
                ranges.append(start..<path.count)
                break
            }
            ranges.append(start..<slash)
            start = slash + 1
        }
        return ranges
    }
}
