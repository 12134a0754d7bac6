import RoomstreamHTTP
import RoomstreamServer

/// CORS for the ingest routes (Fetch standard, "CORS protocol"): the SDK posts from web pages
/// on other origins. Only the ingest routes answer with CORS headers, so no browser page can
/// read the admin and query routes cross-origin. `ingest.cors_origins` lists the origins
/// allowed (default `*`: the ingest key ships inside web pages anyway); a request carrying an
/// `Origin` not listed is refused (403), so browsers on other sites cannot post at all.
/// Requests without `Origin` (servers, curl) are not CORS and pass.
struct IngestCORS: Sendable {
    let allowsAnyOrigin: Bool
    let origins: Set<String>

    /// Chromium caps a preflight's cache at 2 hours (Firefox at 24): ask for the cap.
    static let maxAgeSeconds = 7200
    static let allowedHeaders = "Authorization, Content-Type, Content-Encoding"

    init(origins: [String]) {
        allowsAnyOrigin = origins.contains("*")
        self.origins = Set(origins)
    }

    enum Decision: Equatable {
        case notCORS
        case allowed(origin: String)
        case refused(origin: String)
    }

    func decide(_ request: RoutedRequest) -> Decision {
        guard let origin = request.http.headers["origin"] else { return .notCORS }
        return allowsAnyOrigin || origins.contains(origin) ? .allowed(origin: origin) : .refused(origin: origin)
    }

    /// For the server's own error answers (413, 431, 408, 503 before any route runs): the
    /// `*` headers when any origin may post; with a list, a listed origin's headers when the
    /// request's `Origin` line was read before the error (a 413 reads the whole head), so the
    /// SDK on that page can read the status. An origin not listed, or a head cut short before
    /// its `Origin`, gets none.
    var serverErrorHeaders: ServerErrorHeaders {
        if allowsAnyOrigin { return ServerErrorHeaders(always: responseHeaders(origin: "*")) }
        return ServerErrorHeaders(byOrigin: Dictionary(uniqueKeysWithValues: origins.map { ($0, responseHeaders(origin: $0)) }))
    }

    /// `*` when any origin may post (no credentials are involved), else the origin itself with
    /// `Vary: Origin` so that caches keep answers for different origins apart. `Retry-After`
    /// is exposed so the SDK can honour it on 429 and 503.
    func responseHeaders(origin: String) -> [HTTPHeaderField] {
        var headers = [HTTPHeaderField("Access-Control-Expose-Headers", "Retry-After")]
        if allowsAnyOrigin {
            headers.append(HTTPHeaderField("Access-Control-Allow-Origin", "*"))
        } else {
            headers.append(HTTPHeaderField("Access-Control-Allow-Origin", origin))
            headers.append(HTTPHeaderField("Vary", "Origin"))
        }
        return headers
    }

    static func refusal(_ origin: String) -> APIError {
        APIError(status: HTTPStatus(code: 403), code: "origin_not_allowed",
                 message: "origin \(origin) may not post to this service; add it to ingest.cors_origins")
    }

    /// Runs an ingest handler: refuses an origin not listed, and puts the CORS headers on every
    /// answer to a listed one, errors included (the SDK must be able to read a 400 or a 503).
    func handle(_ request: RoutedRequest, _ handler: (RoutedRequest) throws(APIError) -> HTTPResponse) throws(APIError) -> HTTPResponse {
        switch decide(request) {
        case .notCORS:
            return try handler(request)
        case .refused(let origin):
            throw Self.refusal(origin)
        case .allowed(let origin):
            let response: HTTPResponse
            do { response = try handler(request) } catch { response = error.response }
            return response.addingHeaders(responseHeaders(origin: origin))
        }
    }

    /// `OPTIONS` on an ingest route: the preflight a browser sends before a `POST` with
    /// `Authorization` or `Content-Type: application/json`.
    func preflight(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        var headers = [HTTPHeaderField("Allow", "POST, OPTIONS")]
        switch decide(request) {
        case .notCORS:
            break
        case .refused(let origin):
            throw Self.refusal(origin)
        case .allowed(let origin):
            headers += responseHeaders(origin: origin)
            headers += [
                HTTPHeaderField("Access-Control-Allow-Methods", "POST"),
                HTTPHeaderField("Access-Control-Allow-Headers", Self.allowedHeaders),
                HTTPHeaderField("Access-Control-Max-Age", String(Self.maxAgeSeconds)),
            ]
        }
        return HTTPResponse(status: .noContent, headers: headers)
    }

    /// `ingest.cors_origins`: `"*"` alone, or serialized origins (`https://app.example.com`,
    /// `http://localhost:3000`): a scheme, `://`, a host and an optional port, lowercase, no
    /// path (Fetch: an origin's ASCII serialization, which browsers send in `Origin`).
    static func validate(_ origins: [String]) -> (index: Int, problem: String)? {
        if origins.contains("*") && origins.count > 1 { return (origins.firstIndex(of: "*") ?? 0, "\"*\" allows every origin and must be the only entry") }
        for (index, origin) in origins.enumerated() where origin != "*" {
            guard let separator = origin.range(of: "://"),
                  ["http", "https"].contains(origin[..<separator.lowerBound]) else {
                return (index, "must be \"*\" or an origin like https://app.example.com (http or https), got \"\(origin)\"")
            }
            let authority = origin[separator.upperBound...]
            let valid = !authority.isEmpty && authority.utf8.allSatisfy { byte in
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
            }
            guard valid else {
                return (index, "must be an origin as browsers send it: lowercase scheme://host[:port], no path or trailing slash, got \"\(origin)\"")
            }
        }
        return nil
    }
}
