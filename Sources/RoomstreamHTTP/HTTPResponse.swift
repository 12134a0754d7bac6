@_exported import RoomstreamBasics

/// An HTTP status code with its reason phrase (RFC 9110 §15).
public struct HTTPStatus: Hashable, Sendable {
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    public init(code: Int) {
        self.init(code: code, reason: HTTPStatus.reasons[code] ?? "Unknown")
    }

    static let reasons: [Int: String] = [
        100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
        301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
        403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
        409: "Conflict", 413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
        417: "Expectation Failed", 422: "Unprocessable Content", 429: "Too Many Requests",
        431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
        503: "Service Unavailable", 505: "HTTP Version Not Supported",
    ]

    public static let ok = HTTPStatus(code: 200)
    public static let accepted = HTTPStatus(code: 202)
    public static let noContent = HTTPStatus(code: 204)
    public static let badRequest = HTTPStatus(code: 400)
    public static let notFound = HTTPStatus(code: 404)
    public static let methodNotAllowed = HTTPStatus(code: 405)
    public static let requestTimeout = HTTPStatus(code: 408)
    public static let internalServerError = HTTPStatus(code: 500)
    public static let notImplemented = HTTPStatus(code: 501)
    public static let serviceUnavailable = HTTPStatus(code: 503)
}

public struct HTTPHeaderField: Hashable, Sendable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A response as a handler builds it. `Date`, `Content-Length` and `Connection` are added by
/// the encoder, which knows the connection's state.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: [HTTPHeaderField]
    public var body: [UInt8]
    /// Set when the answer may only go once something completes (the write-ahead log has the
    /// request): the server holds the connection's request in flight, reading paused, and
    /// sends the response passed to the completion, which may be called on any thread. The
    /// other fields are then unused.
    public var deferred: (@Sendable (_ completion: @escaping @Sendable (HTTPResponse) -> Void) -> Void)?

    public init(status: HTTPStatus, headers: [HTTPHeaderField] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response decided later: `wait` is called once with the completion to call.
    public static func deferred(_ wait: @escaping @Sendable (_ completion: @escaping @Sendable (HTTPResponse) -> Void) -> Void) -> HTTPResponse {
        var response = HTTPResponse(status: .internalServerError)
        response.deferred = wait
        return response
    }

    /// A JSON response; `json` must already be serialized JSON.
    public static func json(_ status: HTTPStatus, _ json: String, headers: [HTTPHeaderField] = []) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [HTTPHeaderField("Content-Type", "application/json")] + headers,
            body: Array(json.utf8))
    }

    /// The project's one error shape: `{"error":{"code":"...","message":"..."}}`.
    public static func error(_ status: HTTPStatus, code: String, message: String, headers: [HTTPHeaderField] = []) -> HTTPResponse {
        json(status, "{\"error\":{\"code\":\(JSONString.quote(code)),\"message\":\(JSONString.quote(message))}}", headers: headers)
    }

    /// The response with more header fields; for a deferred response, the one it completes with.
    public func addingHeaders(_ extra: [HTTPHeaderField]) -> HTTPResponse {
        guard !extra.isEmpty else { return self }
        if let wait = deferred {
            return .deferred { completion in wait { final in completion(final.addingHeaders(extra)) } }
        }
        var copy = self
        copy.headers += extra
        return copy
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
