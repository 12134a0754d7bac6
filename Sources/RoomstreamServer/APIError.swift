import RoomstreamHTTP

/// An error a handler throws to answer with a specific status and the project's JSON error
/// body. The status is decided where the error is made, in one of the constructors below or
/// in a later layer's mapping, never spread through handlers.
public struct APIError: Error, Equatable, Sendable {
    public var status: HTTPStatus
    public var code: String
    public var message: String
    public var headers: [HTTPHeaderField]

    public init(status: HTTPStatus, code: String, message: String, headers: [HTTPHeaderField] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: message)
    }

    public static func methodNotAllowed(_ method: HTTPMethod, allow: [HTTPMethod]) -> APIError {
        APIError(
            status: .methodNotAllowed, code: "method_not_allowed",
            message: "\(method.rawValue) is not allowed here; allowed: \(allow.map(\.rawValue).joined(separator: ", "))",
            headers: [HTTPHeaderField("Allow", allow.map(\.rawValue).joined(separator: ", "))])
    }

    public static func serviceUnavailable(_ code: String, _ message: String, retryAfterSeconds: Int) -> APIError {
        APIError(status: .serviceUnavailable, code: code, message: message, headers: [HTTPHeaderField("Retry-After", String(retryAfterSeconds))])
    }

    public var response: HTTPResponse {
        .error(status, code: code, message: message, headers: headers)
    }
}
